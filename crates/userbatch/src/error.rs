//! What can go wrong with a request, without a response body or a credential in sight.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use userbatch_core::ReceiveError;
use userbatch_core::json::{EnvelopeError, RecordError};

/// Why a request (or one record, or a chunk of ids) failed. Cheap to clone: one error is
/// shared by every id of the request it covers. Its `Display` never includes a response
/// body, a header value or a credential; it quotes at most the vendor's own error message
/// or the part of a record that did not decode (never a secret field's value), cut to 200
/// characters. `Debug` prints the same (what `fn main() -> Result<..>` shows); `{:#?}` the
/// fields.
#[derive(Clone, PartialEq, Eq)]
pub struct FetchError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The HTTP status, if a response arrived.
    pub status: Option<u16>,
    /// How many attempts were made.
    pub attempts: u32,
    /// The server's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
    /// The vendor's own message (the field the spec's `x-userbatch.error-message` names),
    /// or what did not decode and where; at most 200 characters.
    pub detail: Option<Arc<str>>,
    /// What arrived, when an error answer carried no message of the vendor's (`an HTML
    /// page`, `an empty body`, `JSON without a message`, `a body that is not JSON`), or
    /// that an answer's head arrived but its body was cut short (`a body cut short`).
    pub received: Option<&'static str>,
}

/// The kinds of [`FetchError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The vendor answered with an error status (not its documented not-found answer).
    Status,
    /// The vendor answered the operation's documented not-found answer (its status, media
    /// type and body schema, as the spec documents them): for a single id, the vendor's
    /// word that it does not have it (the id is then reported missing, not failed).
    NotFound,
    /// The operation's documented not-found answer, but no answer of the run carried a
    /// record or was otherwise trusted, so it cannot be told from a gateway's answer to a
    /// base URL it does not route (many answer 404 with `{"message": ...}`): the id is not
    /// called missing. Fetch it again with an id that exists among the ids.
    Unproven,
    /// A success status whose media type is not the one the spec documents (an HTML page
    /// from a gateway, a web app's catch-all route): whatever its body holds, it is not the
    /// vendor's answer. Never retried.
    ContentType,
    /// The answer held two different records for this id, or a record whose id field
    /// appears twice with different values: which one is the vendor's is unknown.
    Ambiguous,
    /// The vendor redirected the request to another origin (scheme, host or port), or to
    /// plain `http` on a host that is not loopback, which is not followed (the ids would
    /// go to a host the user did not name); or redirected it within its origin more than
    /// [`userbatch_core::MAX_REDIRECTS`] times. The detail names the origin, never a path
    /// or query. Not retried.
    Redirect,
    /// No answer within the per-request timeout.
    Timeout,
    /// Connecting, sending, or reading the response failed (connection refused or reset,
    /// closed mid-response).
    Connection,
    /// The TLS handshake failed: the server's certificate is not trusted or not for this
    /// host, or the server does not speak TLS as expected. Never retried.
    Tls,
    /// A success status with a body that is not JSON (cut short, an HTML page). Retried:
    /// proxies and broken connections produce these.
    Malformed,
    /// Valid JSON that does not fit the spec: a record whose fields do not have the spec's
    /// types (the detail names the field), or records not where the spec puts them. Never
    /// retried: the same answer would come back.
    Decode,
    /// The response body was longer than [`crate::engine::Batch::max_response_bytes`]; the request
    /// is split like a 414, down to single ids.
    TooLarge,
    /// The vendor answered with records that were not asked for: none of a request's ids
    /// came back while other records did (the vendor ignored the id filter), a get-one
    /// answer is another id's record, or an answer carried records nobody asked for beside
    /// some that were asked for (the ids it left out). Those ids are not reported missing:
    /// the answer did not apply the filter as documented.
    Unrequested,
    /// The vendor's paging did not add up (its total and the pages disagree, the pages ran
    /// out before every id was accounted for), even when the ids left were asked again.
    Paging,
    /// The overall deadline passed before the request could be made or finished.
    Deadline,
    /// The retry budget of the whole run was spent (the detail says what the last attempt
    /// got).
    RetryBudget,
    /// The vendor kept throttling the run, with no answer for
    /// [`crate::engine::Batch::throttle_patience`].
    Throttled,
    /// No credentials the vendor accepts: the token endpoint refused or failed (the
    /// detail says how), or the vendor answered 401 even to a fresh token. The run stops
    /// sending.
    Auth,
    /// The request could not be built (a bug, or ids the generated client refuses).
    Request,
    /// The run was stopped ([`crate::engine::Stopper`]) before these ids were answered: their
    /// request was never sent, was not retried, or was abandoned in flight.
    Interrupted,
}

impl FetchError {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            status: None,
            attempts: 0,
            retry_after: None,
            detail: None,
            received: None,
        }
    }

    pub(crate) fn with_detail(mut self, detail: impl Into<Arc<str>>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub(crate) fn status(status: u16, headers: &HeaderMap) -> Self {
        Self {
            // A 401 reaches here only after the client renewed its token, if it could.
            kind: if status == 401 {
                ErrorKind::Auth
            } else {
                ErrorKind::Status
            },
            status: Some(status),
            attempts: 0,
            retry_after: retry_after(headers),
            detail: None,
            received: None,
        }
    }

    /// Whether the request may succeed if sent again.
    pub fn is_transient(&self, throttle_statuses: &[u16]) -> bool {
        match self.kind {
            ErrorKind::Timeout | ErrorKind::Connection | ErrorKind::Malformed => true,
            ErrorKind::Status => self.status.is_some_and(|s| {
                matches!(s, 408 | 429 | 500 | 502 | 503 | 504) || throttle_statuses.contains(&s)
            }),
            _ => false,
        }
    }

    /// Whether one bad id among several could have caused it, so that splitting the
    /// request isolates the bad ids: 400 (a malformed id), 403 (an id the caller may not
    /// read), 414 (an id too long), and the operation's documented not-found answer. Any
    /// other 404 (a gateway's page, a wrong tenant) is the request's.
    pub fn is_caused_by_an_id(&self) -> bool {
        self.kind == ErrorKind::NotFound
            || (self.kind == ErrorKind::Status && matches!(self.status, Some(400 | 403 | 414)))
    }

    /// Whether the credentials are refused (401, or no token could be had): the run's
    /// problem, not an id's.
    pub fn is_auth(&self) -> bool {
        self.kind == ErrorKind::Auth
    }

    /// Whether `other` is the same answer: same kind, status and vendor message (or
    /// description of what arrived).
    pub(crate) fn same_answer(&self, other: &FetchError) -> bool {
        self.kind == other.kind
            && self.status == other.status
            && self.detail == other.detail
            && self.received == other.received
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, self.status) {
            (ErrorKind::Status, Some(s)) => write!(f, "the vendor answered HTTP {s}")?,
            (ErrorKind::NotFound, Some(s)) => {
                write!(f, "the vendor has no record with this id (HTTP {s})")?
            }
            (ErrorKind::NotFound, None) => f.write_str("the vendor has no record with this id")?,
            (ErrorKind::Unproven, status) => {
                f.write_str("not called missing: the documented not-found answer")?;
                if let Some(s) = status {
                    write!(f, " (HTTP {s})")?;
                }
                f.write_str(
                    " came, but no answer of this run carried a record asked for, and a \
                     gateway in front of a wrong base URL can answer the same (add an id that \
                     exists to tell them apart)",
                )?;
            }
            (ErrorKind::ContentType, Some(s)) => write!(
                f,
                "the vendor answered HTTP {s} with a body of an undocumented media type"
            )?,
            (ErrorKind::ContentType, None) => {
                f.write_str("an answer of an undocumented media type")?
            }
            (ErrorKind::Ambiguous, _) => {
                f.write_str("the vendor's answer names this id more than once")?
            }
            (ErrorKind::Redirect, Some(s)) => write!(f, "the vendor redirected (HTTP {s})")?,
            (ErrorKind::Redirect, None) => f.write_str("the vendor redirected")?,
            (ErrorKind::Malformed, Some(s)) => {
                write!(f, "HTTP {s} with a body that is not valid JSON")?
            }
            (ErrorKind::Malformed, None) => f.write_str("a body that is not valid JSON")?,
            (ErrorKind::Decode, _) => f.write_str("the answer does not match the spec")?,
            (ErrorKind::TooLarge, _) => f.write_str("the response is too large")?,
            (ErrorKind::Unrequested, _) => {
                f.write_str("the vendor answered with records not asked for")?
            }
            (ErrorKind::Timeout, _) => f.write_str("no response within the request timeout")?,
            (ErrorKind::Connection, _) => f.write_str("the connection failed")?,
            (ErrorKind::Tls, _) => f.write_str("TLS failed")?,
            (ErrorKind::Paging, _) => f.write_str("the vendor's paging did not add up")?,
            (ErrorKind::Deadline, _) => f.write_str("the overall deadline passed")?,
            (ErrorKind::RetryBudget, _) => f.write_str("the run's retry budget is spent")?,
            (ErrorKind::Throttled, _) => f.write_str("the vendor kept throttling")?,
            (ErrorKind::Auth, Some(s)) => {
                write!(f, "the vendor refused the credentials (HTTP {s})")?
            }
            (ErrorKind::Auth, None) => f.write_str("no credentials the vendor accepts")?,
            (ErrorKind::Request, _) => f.write_str("the request could not be built")?,
            (ErrorKind::Interrupted, _) => {
                f.write_str("interrupted: the run was stopped before an answer")?
            }
            (ErrorKind::Status, None) => f.write_str("an error status")?,
        }
        if let Some(detail) = &self.detail {
            match self.kind {
                ErrorKind::Status | ErrorKind::NotFound | ErrorKind::Unproven => {
                    write!(f, ": {detail:?}")?
                }
                _ => write!(f, ": {detail}")?,
            }
        } else if let Some(received) = self.received {
            write!(f, ": {received}")?;
        }
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for FetchError {}

impl From<RecordError> for FetchError {
    fn from(e: RecordError) -> Self {
        FetchError::new(ErrorKind::Decode).with_detail(e.to_string())
    }
}

impl From<EnvelopeError> for FetchError {
    fn from(e: EnvelopeError) -> Self {
        match e {
            EnvelopeError::Malformed(detail) => {
                FetchError::new(ErrorKind::Malformed).with_detail(detail)
            }
            EnvelopeError::Shape(detail) => FetchError::new(ErrorKind::Decode).with_detail(detail),
        }
    }
}

/// Which call of a read-modify-write failed ([`crate::modify`]), and why. `Debug` prints
/// what `Display` does; `{:#?}` the fields.
#[derive(Clone, PartialEq, Eq)]
pub struct ModifyError {
    /// The call that failed.
    pub step: ModifyStep,
    /// Its error.
    pub error: FetchError,
}

/// The calls of a read-modify-write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModifyStep {
    /// Reading the full record (`GET`): nothing was changed at the vendor.
    Get,
    /// Sending it back (`PUT`): the change may or may not have been applied.
    Put,
}

impl fmt::Display for ModifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.step {
            ModifyStep::Get => write!(
                f,
                "reading the record (GET) failed, nothing was changed: {}",
                self.error
            ),
            ModifyStep::Put => write!(f, "sending the record back (PUT) failed: {}", self.error),
        }
    }
}

impl std::error::Error for ModifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// `Retry-After` in seconds or as an HTTP date, as a delay from now (at most a year: a
/// later one is as good as never, and would overflow a clock).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    const YEAR: u64 = crate::pace::FARTHEST_PAUSE.as_secs();
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(YEAR)));
    }
    // Some APIs write fractions of a second (`0.25`, `2.0`).
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(Duration::from_secs(YEAR)),
    )
}

/// Maps a failure to receive an answer.
pub(crate) fn from_receive(error: ReceiveError) -> FetchError {
    match error {
        ReceiveError::TooLarge { limit } => FetchError::new(ErrorKind::TooLarge)
            .with_detail(format!("the response is over {limit} bytes")),
        ReceiveError::Client(e) => from_progenitor(e),
        _ => FetchError::new(ErrorKind::Request),
    }
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
        P::CommunicationError(e) => from_reqwest(&e),
        // The answer's head arrived: the vendor answered, then the body broke off.
        P::ResponseBodyError(e) => {
            let mut error = from_reqwest(&e);
            error.received = Some("a body cut short");
            error
        }
        P::InvalidResponsePayload(_, e) => FetchError::new(ErrorKind::Decode)
            .with_detail(userbatch_core::json::cut(&e.to_string())),
        P::InvalidUpgrade(_) => FetchError::new(ErrorKind::Connection),
        // The vendor crates' request hook fails this way when no token can be had.
        P::Custom(why) => FetchError::new(ErrorKind::Auth).with_detail(why),
        _ => FetchError::new(ErrorKind::Request),
    }
}

fn from_reqwest(e: &reqwest::Error) -> FetchError {
    if let Some(problem) = tls_problem(e) {
        FetchError::new(ErrorKind::Tls).with_detail(problem)
    } else if e.is_redirect() {
        FetchError::new(ErrorKind::Redirect).with_detail(format!(
            "{}: {}",
            host(e),
            userbatch_core::TooManyRedirects
        ))
    } else if e.is_timeout() {
        FetchError::new(ErrorKind::Timeout).with_detail(host(e))
    } else if e.is_builder() {
        FetchError::new(ErrorKind::Request)
    } else {
        // Which host, and what the OS said (`Connection refused (os error 111)`): never the
        // path, query or credentials of the URL.
        let os = io_problem(e).map_or_else(String::new, |io| format!(": {io}"));
        FetchError::new(ErrorKind::Connection).with_detail(format!("{}{os}", host(e)))
    }
}

/// `to host:port`, from the request's URL (no userinfo, path or query).
fn host(e: &reqwest::Error) -> String {
    match e
        .url()
        .and_then(|u| Some((u.host_str()?.to_owned(), u.port_or_known_default())))
    {
        Some((host, Some(port))) => format!("to {host}:{port}"),
        Some((host, None)) => format!("to {host}"),
        None => "to the vendor".to_owned(),
    }
}

/// The innermost `io::Error` of the chain, if any.
fn io_problem<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut next = Some(e);
    let mut found = None;
    while let Some(error) = next {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            found = Some(io);
        }
        next = error.source();
    }
    found
}

/// What went wrong in the TLS handshake, if that is what failed: the rustls error somewhere
/// in the chain (inside an `io::Error`, whose `source` skips it).
fn tls_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(e);
    while let Some(error) = next {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(describe_tls(tls));
        }
        if let Some(inner) = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && let Some(problem) = tls_problem(inner)
        {
            return Some(problem);
        }
        next = error.source();
    }
    None
}

fn describe_tls(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => {
            "certificate: the server's certificate is not signed by a trusted authority".into()
        }
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => "certificate: the server's certificate is not valid for this host name".into(),
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "certificate: the server's certificate has expired".into()
        }
        rustls::Error::InvalidCertificate(other) => format!("certificate: {other:?}"),
        other => format!("protocol: {other}"),
    }
}

impl fmt::Debug for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !f.alternate() {
            return fmt::Display::fmt(&userbatch_core::Causes(self), f);
        }
        f.debug_struct("FetchError")
            .field("kind", &self.kind)
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("retry_after", &self.retry_after)
            .field("detail", &self.detail)
            .field("received", &self.received)
            .finish()
    }
}

impl fmt::Debug for ModifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !f.alternate() {
            return fmt::Display::fmt(&userbatch_core::Causes(self), f);
        }
        f.debug_struct("ModifyError")
            .field("step", &self.step)
            .field("error", &self.error)
            .finish()
    }
}

/// An error serializes as its message (what `Display` writes), as `userbatch --report`
/// writes it.
impl serde::Serialize for FetchError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_says_what_display_says_and_the_alternate_form_the_fields() {
        let mut error = FetchError::new(ErrorKind::Status).with_detail("no such tenant");
        error.status = Some(404);
        assert_eq!(format!("{error:?}"), error.to_string());
        assert!(format!("{error:#?}").contains("kind: Status"), "{error:#?}");
        let modify = ModifyError {
            step: ModifyStep::Put,
            error,
        };
        assert_eq!(format!("{modify:?}"), modify.to_string());
        assert!(format!("{modify:#?}").contains("step: Put"), "{modify:#?}");
    }
}
