//! One error type for everything a vendor crate's calls can fail with.

use std::fmt;

use progenitor_client::ByteStream;

use crate::client::ConfigError;
use crate::json::EnvelopeError;
use crate::plan::PlanError;

/// Everything a vendor crate's calls can fail with, in one type, so that `?` works across
/// building the client, building a request's ids (`from_ids`), the generated methods,
/// [`crate::receive`], [`crate::received::Received::error_for_status`] and
/// [`crate::received::Received::records`]. Each vendor crate re-exports it as its `ClientError`,
/// a name apart from progenitor's `Error<E>`, which the generated methods return (the
/// vendor crate's `Error`).
///
/// It keeps its cause as [`std::error::Error::source`]; it never holds a response body,
/// and no URL it holds carries credentials (the client refuses such a base URL). `Debug`
/// prints what `Display` does, with the causes ([`Causes`](crate::Causes)): what `fn main() -> Result<..>`
/// shows.
#[non_exhaustive]
pub enum ClientError {
    /// The client could not be built from its configuration.
    Config(ConfigError),
    /// Ids that cannot be sent, or not in one request.
    Ids(PlanError),
    /// The vendor answered with an error status.
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// Sending the request or reading the answer failed: connection, timeout, TLS.
    Transport(reqwest::Error),
    /// The answer was longer than the cap given to [`crate::receive`].
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The answer is not JSON, or its records are not where the spec puts them.
    Body(EnvelopeError),
    /// No token could be had for the request (the token endpoint refused or failed).
    Auth(String),
    /// The request could not be built.
    Request(String),
}

impl fmt::Debug for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&crate::causes::Causes(self), f)
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => write!(f, "the client cannot be built: {e}"),
            Self::Ids(e) => write!(f, "{e}"),
            Self::Status { status } => write!(f, "the vendor answered HTTP {status}"),
            Self::Transport(e) => write!(f, "the request failed: {e}"),
            Self::TooLarge { limit } => write!(f, "the response is over {limit} bytes"),
            Self::Body(e) => write!(f, "the answer does not match the spec: {e}"),
            Self::Auth(why) => write!(f, "no credentials: {why}"),
            Self::Request(why) => write!(f, "the request cannot be built: {why}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(e) => Some(e),
            Self::Ids(e) => Some(e),
            Self::Transport(e) => Some(e),
            Self::Body(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ConfigError> for ClientError {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<PlanError> for ClientError {
    fn from(e: PlanError) -> Self {
        Self::Ids(e)
    }
}

impl From<EnvelopeError> for ClientError {
    fn from(e: EnvelopeError) -> Self {
        Self::Body(e)
    }
}

impl From<progenitor_client::Error<ByteStream>> for ClientError {
    fn from(e: progenitor_client::Error<ByteStream>) -> Self {
        use progenitor_client::Error as P;
        match e {
            P::ErrorResponse(answer) => Self::Status {
                status: answer.status().as_u16(),
            },
            P::UnexpectedResponse(answer) => Self::Status {
                status: answer.status().as_u16(),
            },
            P::CommunicationError(e) | P::ResponseBodyError(e) | P::InvalidUpgrade(e) => {
                Self::Transport(e)
            }
            P::InvalidResponsePayload(_, e) => {
                Self::Body(EnvelopeError::Shape(crate::json::cut(&e.to_string())))
            }
            P::Custom(why) => Self::Auth(why),
            P::InvalidRequest(why) => Self::Request(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ClientError;
    use crate::causes::Causes;
    use crate::plan::PlanError;

    /// An error with a cause of its own, as `reqwest` errors have.
    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("the request failed")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn debug_is_the_message_with_each_cause_once() {
        // What `fn main() -> Result<(), ClientError>` prints after `Error: `.
        assert_eq!(
            format!("{:?}", ClientError::Status { status: 401 }),
            "the vendor answered HTTP 401"
        );
        let outer = Outer(std::io::Error::other("connection reset"));
        assert_eq!(
            Causes(&outer).to_string(),
            "the request failed: connection reset"
        );
        // A cause the message already quotes is not said twice.
        let ids = ClientError::Ids(PlanError::NoIds);
        assert_eq!(format!("{ids:?}"), "no ids to fetch");
        // An id is cut in Debug as in Display: a megabyte line stays off the terminal.
        let long = PlanError::InvalidId {
            id: "x".repeat(100_000),
            index: 0,
            reason: crate::plan::InvalidId::NotAnInteger,
        };
        assert!(format!("{long:?}").len() < 200, "{long:?}");
    }
}
