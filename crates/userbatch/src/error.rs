//! What can go wrong with a request, without a response body or a credential in sight.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Why a request (or a chunk of ids) failed. Cheap to clone: one error is shared by every
/// id of the request it covers. Its `Display` never includes a response body, a header
/// value or a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The HTTP status, if a response arrived.
    pub status: Option<u16>,
    /// How many attempts were made.
    pub attempts: u32,
    /// The server's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
}

/// The kinds of [`FetchError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The vendor answered with an error status.
    Status,
    /// No answer within the per-request timeout.
    Timeout,
    /// Connecting, sending, or reading the response failed (connection refused or reset,
    /// closed mid-response).
    Connection,
    /// A 2xx response whose body is not what the spec says (truncated JSON, an HTML page).
    Decode,
    /// The vendor's paging did not add up (a page repeated, more results than ids asked).
    Paging,
    /// The overall deadline passed before the request could be made or finished.
    Deadline,
    /// The retry budget of the whole run was spent.
    RetryBudget,
    /// The request could not be built (a bug, or ids the generated client refuses).
    Request,
}

impl FetchError {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            status: None,
            attempts: 0,
            retry_after: None,
        }
    }

    pub(crate) fn status(status: u16, headers: &HeaderMap) -> Self {
        Self {
            kind: ErrorKind::Status,
            status: Some(status),
            attempts: 0,
            retry_after: retry_after(headers),
        }
    }

    /// Whether the request may succeed if sent again.
    pub fn is_transient(&self, throttle_statuses: &[u16]) -> bool {
        match self.kind {
            ErrorKind::Timeout | ErrorKind::Connection | ErrorKind::Decode => true,
            ErrorKind::Status => self.status.is_some_and(|s| {
                matches!(s, 408 | 429 | 500 | 502 | 503 | 504) || throttle_statuses.contains(&s)
            }),
            _ => false,
        }
    }

    /// Whether one bad id among several could have caused it (so splitting the request
    /// isolates the bad ids): 400, 404 or 414.
    pub fn is_caused_by_an_id(&self) -> bool {
        self.kind == ErrorKind::Status && matches!(self.status, Some(400 | 404 | 414))
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, self.status) {
            (ErrorKind::Status, Some(s)) => write!(f, "the vendor answered HTTP {s}")?,
            (ErrorKind::Decode, Some(s)) => {
                write!(f, "HTTP {s} with a body that does not match the spec")?
            }
            (ErrorKind::Decode, None) => {
                f.write_str("a response body that does not match the spec")?
            }
            (ErrorKind::Timeout, _) => f.write_str("no response within the request timeout")?,
            (ErrorKind::Connection, _) => f.write_str("the connection failed")?,
            (ErrorKind::Paging, _) => f.write_str("the vendor's paging did not add up")?,
            (ErrorKind::Deadline, _) => f.write_str("the overall deadline passed")?,
            (ErrorKind::RetryBudget, _) => f.write_str("the run's retry budget is spent")?,
            (ErrorKind::Request, _) => f.write_str("the request could not be built")?,
            (ErrorKind::Status, None) => f.write_str("an error status")?,
        }
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for FetchError {}

/// `Retry-After` in seconds or as an HTTP date, as a delay from now.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Maps a generated client's error, reading only status and headers.
pub(crate) fn from_progenitor<E>(error: progenitor_client::Error<E>) -> FetchError {
    use progenitor_client::Error as P;
    match error {
        P::ErrorResponse(response) => {
            FetchError::status(response.status().as_u16(), response.headers())
        }
        P::UnexpectedResponse(response) => {
            FetchError::status(response.status().as_u16(), response.headers())
        }
        P::CommunicationError(e) | P::ResponseBodyError(e) => from_reqwest(&e),
        P::InvalidResponsePayload(_, _) => FetchError::new(ErrorKind::Decode),
        P::InvalidUpgrade(_) => FetchError::new(ErrorKind::Connection),
        _ => FetchError::new(ErrorKind::Request),
    }
}

fn from_reqwest(e: &reqwest::Error) -> FetchError {
    if e.is_timeout() {
        FetchError::new(ErrorKind::Timeout)
    } else if e.is_builder() {
        FetchError::new(ErrorKind::Request)
    } else {
        FetchError::new(ErrorKind::Connection)
    }
}
