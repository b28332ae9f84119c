//! Fetch many user records by id from vendor APIs: every id found, missing or failed, in
//! the fewest requests the vendor's rules allow.
//!
//! Hand the facade ids (ten or a million, duplicates and all, in any order) and get back
//! every record the vendor has, in the order asked, plus an exact account of the rest:
//!
//! - **Plan**: duplicates are dropped (first occurrence wins), every id is validated before
//!   any request (an id that would break the wire format is an error naming it), and the
//!   ids are cut into requests by every limit at once: Nexudus' 2,048-byte query as sent,
//!   User Manager's 75 ids and 20,000 characters, AvePoint's page size. The limits come
//!   from each spec's `x-userbatch` extension, so the engine has no vendor in it.
//! - **Execute**: a bounded number of requests in flight ([`Batch::concurrency`]),
//!   retries with exponential backoff and jitter for 408, 429, 5xx, the vendor's own
//!   throttling status (Nexudus: 409), timeouts and connection errors, `Retry-After`
//!   honoured, within an attempt limit and a retry budget ([`Retry`]); a per-request
//!   timeout and an overall deadline. Paged operations are read to their `totalCount`,
//!   never further.
//! - **Isolate**: a request one bad id can fail (400, 403, 414, or the operation's
//!   documented not-found answer where one unknown id fails a whole request) is split in
//!   halves until the bad ids stand alone, so the good ids still come back; a response
//!   over [`Batch::max_response_bytes`] is split the same way. Before any answer proved
//!   the requests sound, two single ids tell a bad id from a bad request: if they fail as
//!   their request did, every id fails with the vendor's message in a handful of requests.
//!   Any other failure is the request's own. Three requests failing alike before any
//!   answer proved the requests sound (a wrong tenant, a base URL a gateway does not route,
//!   a token without the role), ten in a row after, or three attempts without an answer,
//!   a retry among them (a host that refuses connections or never answers; once the vendor
//!   has answered, 30 s of that), stop the run with that cause ([`Report::run_error`]).
//!   Redirects are followed only within the base URL's origin; vendor text in errors is
//!   scrubbed of the client's secrets ([`Scrubber`]).
//! - **Decode, record by record**: the answer is read as bytes; the records are found
//!   where the spec's `x-userbatch.records` says, each one's id is read from its id field
//!   and each is decoded on its own. A record that does not fit the spec's type fails only
//!   its id, naming the field ([`ErrorKind::Decode`], never retried). Every [`FoundRecord`] also
//!   keeps the record as the vendor sent it ([`FoundRecord::raw`]): fields the spec does not
//!   know, `null`s, key order, and where the spec's secret fields are
//!   ([`RawRecord::redacted`] to log or show it). [`Verbatim`] skips the typed decoding.
//! - **Report**: records matched to ids by the record's own id (compared as the vendor
//!   compares ids: `007` is `7`, GUIDs in any case), never by position; [`Report`] holds
//!   `found` (input order, each under the id as the input spelled it), `missing` and
//!   `failed` (with the error), the records nobody asked for (`unexpected`), and the
//!   number of requests. Every requested id is in exactly one of found, missing, failed.
//! - **"Missing" is the vendor's word**: an id is missing only when it was left out of a
//!   success answer the spec documents (its media type and shape, no record nobody asked
//!   for, and, paged, every record its total counts on the pages) of an operation whose
//!   unknown ids are left out, or when a request for it alone got the operation's
//!   documented not-found answer (status, media type and body schema) in a run that some
//!   trusted answer proved reaches the vendor (else [`ErrorKind::Unproven`]: a gateway's
//!   JSON 404 can fit a loose error body). Anything else
//!   fails the id, saying what came: an HTML page, an empty body, records nobody asked
//!   for ([`ErrorKind::Unrequested`]), paging that does not add up (the ids it left out
//!   are asked again first), a record named twice ([`ErrorKind::Ambiguous`]).
//!
//! Two ways to call it: [`Batch::fetch`] collects a [`Report`]; [`Batch::stream`] yields
//! [`Outcome`]s in input order with memory bounded by a few requests' records.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mock = userbatch_mock::MockServer::start(
//! #     userbatch_mock::MockConfig::new().missing_ids(["4"])).await?;
//! # let base_url = mock.base_url().to_owned();
//! use userbatch::nexudus;
//!
//! let client = nexudus::Client::with_bearer(&base_url, "YOUR_TOKEN")?;
//!
//! // The common case, one line:
//! let report = userbatch::fetch(nexudus::GetUsers::new(client.clone()), ["3", "1", "4", "3", "2"]).await?;
//! let ids: Vec<i64> = report.records().map(|u| u.id).collect();
//! assert_eq!(ids, [3, 1, 2]); // input order, duplicates once
//! assert_eq!(report.missing, ["4"]);
//! assert_eq!(report.requests, 1);
//!
//! // Everything else through the builder:
//! use userbatch::{Batch, Retry};
//! use std::time::Duration;
//! let batch = Batch::new(nexudus::GetCoworkers::new(client.clone()))
//!     .concurrency(8)
//!     .max_batch(50)
//!     .retry(Retry { max_attempts: 3, ..Retry::default() })
//!     .request_timeout(Duration::from_secs(10))
//!     .on_progress(|p| eprintln!("{}/{}", p.done, p.total));
//! let report = batch.fetch((1..=120).map(|i| i.to_string())).await?;
//! assert_eq!(report.found.len(), 119);
//! assert_eq!(report.requests, 3);
//!
//! // Bad input is refused before any request, naming the id.
//! let err = userbatch::fetch(nexudus::GetUsers::new(client.clone()), ["1", "two"]).await.unwrap_err();
//! assert_eq!(err.to_string(), "invalid id \"two\" (input position 1): this vendor's ids are integers");
//!
//! // Streaming: outcomes in input order as their requests answer. `next()` is the
//! // stream's own method; no extra crate is needed to read it.
//! use userbatch::Outcome;
//! let mut stream = Batch::new(nexudus::GetUsers::new(client.clone())).stream(["1", "4", "2"])?;
//! let mut found = Vec::new();
//! while let Some(outcome) = stream.next().await {
//!     match outcome {
//!         Outcome::Found(user) => found.push(user.record.id),
//!         Outcome::Missing(id) => assert_eq!(id, "4"),
//!         Outcome::Failed(failed) => panic!("{}", failed.error),
//!     }
//! }
//! assert_eq!(found, [1, 2]);
//! # Ok(())
//! # }
//! ```
//!
//! # Observability
//!
//! Each request runs in a `tracing` span `userbatch.request` with the operation, chunk
//! size, page, attempt, status and duration. Neither spans nor errors carry a token, a
//! credential, a header value or a response body; errors quote at most the vendor's own
//! error message or what did not decode (never a secret field's value), 200 characters.

#![warn(missing_docs)]

mod engine;
mod error;
mod modify;
mod pace;
mod partial;
mod ratelimit;
pub mod registry;
#[rustfmt::skip]
mod vendors;

pub use engine::{
    Batch, BatchStream, DEFAULT_CONCURRENCY, DEFAULT_THROTTLE_PATIENCE, FailedIds, FoundRecord,
    Outcome, Progress, Report, Retry, Stopper, Summary, Verbatim,
};
pub use error::{ErrorKind, FetchError, ModifyError, ModifyStep};
pub use futures_util::Stream;
pub use modify::{fetch, hydrate, hydrate_with, modify, update};
pub use partial::silence_partial_warnings;
pub use userbatch_core::json;
pub use userbatch_core::json::RecordError;
pub use userbatch_core::plan::{
    DEFAULT_MAX_IDS_WITHOUT_VENDOR_LIMIT, IdList, InvalidId, Plan, PlanError, Planner,
};
pub use userbatch_core::{
    ClientAuth, ClientConfig, ClientCredentials, ConfigError, Credentials,
    DEFAULT_MAX_RESPONSE_BYTES, Operation, OptionError, OptionSpec, PageRequest, PartialRecord,
    RawRecord, Scrubber, Secret, Summaries, Timestamp, TokenError, UnknownAttribute, Update, rules,
};

// The vendor crates of the features turned on (with none, nothing).
#[allow(unused_imports)]
pub use vendors::*;
