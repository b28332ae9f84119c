//! Shared vocabulary of the userbatch vendor crates.
//!
//! The generated vendor clients ([`nexudus`], [`usermgr`], [`avepoint`]) and the `userbatch`
//! facade both depend on this small crate:
//!
//! - [`rules`]: the batch rules each spec records in its `x-userbatch` extension, as types;
//!   `cargo xtask generate` writes one constant of them per operation into each vendor crate.
//! - [`receive`], [`json`]: a batch operation's answer read in full (up to a size cap), its
//!   records located by the rules, each record's id read and each record decoded on its
//!   own, kept as the vendor sent it ([`RawRecord`]).
//! - [`Secret`]: what generated types use for `format: password` fields, redacted in `Debug`;
//!   [`Scrubber`]: a client's secrets out of vendor text (an error message that echoes the
//!   token), in any case or encoding.
//! - [`Timestamp`]: what generated types use for `format: date-time`, tolerant of local times.
//! - [`Credentials`], [`ClientConfig`], [`ClientState`]: auth (a bearer token, HTTP Basic,
//!   or OAuth2 client credentials whose tokens are renewed as they expire or are refused),
//!   checked transport and explicit timeouts for the generated clients' hooks.
//! - [`path`]: path parameters that stay one segment.
//!
//! [`nexudus`]: https://docs.rs/nexudus
//! [`usermgr`]: https://docs.rs/usermgr
//! [`avepoint`]: https://docs.rs/avepoint
//!
//! # Example
//!
//! ```
//! use userbatch_core::{ClientConfig, Credentials, ClientState};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (base_url, _http, state) = ClientConfig::new("https://spaces.nexudus.com/")
//!     .credentials(Credentials::bearer("secret-token"))
//!     .into_parts()
//!     .unwrap();
//! assert_eq!(base_url, "https://spaces.nexudus.com");
//!
//! let mut request = reqwest::Request::new(
//!     reqwest::Method::GET,
//!     "https://spaces.nexudus.com/api/sys/users/1".parse().unwrap(),
//! );
//! request.headers_mut().insert("api-version", "1.0".parse().unwrap());
//! state.prepare(&mut request).await.unwrap();
//! assert!(request.headers().get("api-version").is_none());
//! assert_eq!(request.headers()["authorization"], "Bearer secret-token");
//! assert!(!format!("{state:?}").contains("secret-token"));
//!
//! // A token that cannot be a header value is refused up front, not silently dropped.
//! let refused = ClientConfig::new("https://example.com")
//!     .credentials(Credentials::bearer("line\nbreak"))
//!     .into_parts();
//! assert!(matches!(refused, Err(userbatch_core::ConfigError::InvalidCredentials)));
//! # }
//! ```

#![warn(missing_docs)]

mod causes;
mod client;
mod error;
pub mod json;
mod operation;
mod partial;
pub mod path;
pub mod plan;
mod received;
pub mod rules;
mod scrub;
mod secret;
mod timestamp;
mod token;

pub use causes::Causes;
pub use client::{
    ClientConfig, ClientState, ConfigError, Credentials, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
    MAX_REDIRECTS, TooManyRedirects, origin_of,
};
pub use error::ClientError;
pub use operation::{
    Operation, OptionError, OptionSpec, PageRequest, Summaries, UnknownAttribute, Update,
    check_options, check_segments, one_id, option_value, parse_id, parse_option, refused,
};
pub use partial::PartialRecord;
pub use received::{
    DEFAULT_MAX_RESPONSE_BYTES, RawRecord, ReceiveError, Received, Record, SendResult, receive,
};
pub use scrub::{REDACTED, Scrubber};
pub use secret::Secret;
pub use timestamp::Timestamp;
pub use token::{ClientAuth, ClientCredentials, TokenError};
