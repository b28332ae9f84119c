//! A response as received: status, headers and the whole body, read up to a size cap.
//!
//! The batch operations of the generated clients hand back every answer, success or error,
//! as a byte stream (`ResponseValue<ByteStream>`): the records are decoded one by one by
//! [`crate::json`], not all at once by the generated code, so one odd record cannot fail
//! the others. [`receive`] reads that stream, and refuses a body that grows past the cap
//! instead of buffering whatever a server sends.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use futures_util::StreamExt as _;
use progenitor_client::{ByteStream, ResponseValue};

use crate::json::Entry;
use reqwest::header::HeaderMap;

/// What a batch operation of a generated client returns: every answer as bytes.
pub type SendResult = Result<ResponseValue<ByteStream>, progenitor_client::Error<ByteStream>>;

/// Default cap on one response body: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;

/// One answer, read in full.
#[derive(Clone)]
pub struct Received {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl fmt::Debug for Received {
    /// Status and body size only: headers and body may carry what should not be logged.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Received")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Received {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The answer itself if its status is a success (2xx), else [`crate::error::ClientError::Status`]
    /// (the body is dropped, never quoted).
    pub fn error_for_status(self) -> Result<Self, crate::error::ClientError> {
        if (200..300).contains(&self.status) {
            Ok(self)
        } else {
            Err(crate::error::ClientError::Status {
                status: self.status,
            })
        }
    }

    /// Every record of this (2xx) answer, located by `rules`, each with its id and decoded
    /// into `T` on its own: one record that does not fit `T` does not spoil the others.
    ///
    /// ```
    /// use userbatch_core::{Received, rules};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// const OP: rules::Records = rules::Records::list("/user", "id");
    /// #[derive(serde::Deserialize)]
    /// struct User { id: String }
    ///
    /// let answer = Received {
    ///     status: 200,
    ///     headers: Default::default(),
    ///     body: r#"{"user": [{"id": "a"}, {"id": 5}]}"#.into(),
    /// };
    /// let records = answer.records::<User>(&OP, rules::IdKind::String)?;
    /// assert_eq!(records[0].value.as_ref().unwrap().id, "a");
    /// assert_eq!(records[1].id.as_deref(), Ok("5"));
    /// assert!(records[1].value.is_err()); // `User::id` is a String; 5 is not.
    /// # Ok(()) }
    /// ```
    pub fn records<T: serde::de::DeserializeOwned>(
        &self,
        rules: &crate::rules::Records,
        kind: crate::rules::IdKind,
    ) -> Result<Vec<Record<T>>, crate::json::EnvelopeError> {
        let body = crate::json::text_body(self.body.clone())?;
        Ok(crate::json::text_entries(&body, rules, kind)?
            .into_iter()
            .map(|entry| {
                let raw = RawRecord::new(&body, &entry);
                Record {
                    id: entry.id,
                    value: crate::json::decode(raw.as_str(), &rules.secrets),
                    raw,
                }
            })
            .collect())
    }
}

/// One record of an answer (see [`Received::records`]).
#[derive(Debug, Clone)]
pub struct Record<T> {
    /// Its id, as the rules' id field gives it.
    pub id: Result<String, crate::json::IdError>,
    /// The record decoded, or why it did not decode.
    pub value: Result<T, crate::json::RecordError>,
    /// The record as the vendor sent it.
    pub raw: RawRecord,
}

/// Why no whole answer could be had.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReceiveError {
    /// The body is longer than the cap (by its `Content-Length`, or as it arrived); the
    /// rest was not read.
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// Sending the request or reading the answer failed (connection, timeout, TLS), or the
    /// request could not be built.
    Client(progenitor_client::Error<ByteStream>),
}

impl fmt::Display for ReceiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit } => write!(f, "the response is over {limit} bytes"),
            Self::Client(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReceiveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Client(e) => Some(e),
            Self::TooLarge { .. } => None,
        }
    }
}

/// Reads the answer of a generated batch operation in full, success or error status
/// alike, refusing a body over `limit` bytes.
pub async fn receive(result: SendResult, limit: usize) -> Result<Received, ReceiveError> {
    let (status, headers, stream) = match result {
        Ok(value) => parts(value),
        Err(progenitor_client::Error::ErrorResponse(value)) => parts(value),
        Err(progenitor_client::Error::UnexpectedResponse(response)) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let stream = ByteStream::new(Box::pin(response.bytes_stream()));
            (status, headers, stream)
        }
        Err(other) => return Err(ReceiveError::Client(other)),
    };
    let announced = headers
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(ReceiveError::TooLarge { limit });
    }
    let body = read(stream, announced, limit).await?;
    Ok(Received {
        status,
        headers,
        body,
    })
}

fn parts(value: ResponseValue<ByteStream>) -> (u16, HeaderMap, ByteStream) {
    let status = value.status().as_u16();
    let headers = value.headers().clone();
    (status, headers, value.into_inner())
}

async fn read(
    mut stream: ByteStream,
    announced: Option<u64>,
    limit: usize,
) -> Result<Bytes, ReceiveError> {
    let mut first: Option<Bytes> = None;
    let mut whole: Option<BytesMut> = None;
    let mut len = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| ReceiveError::Client(progenitor_client::Error::ResponseBodyError(e)))?;
        len += chunk.len();
        if len > limit {
            return Err(ReceiveError::TooLarge { limit });
        }
        match (&mut first, &mut whole) {
            (None, None) => first = Some(chunk),
            (Some(_), None) => {
                let capacity = announced.map_or(len, |n| n as usize).max(len);
                let mut buffer = BytesMut::with_capacity(capacity);
                buffer.extend_from_slice(&first.take().unwrap_or_default());
                buffer.extend_from_slice(&chunk);
                whole = Some(buffer);
            }
            (_, Some(buffer)) => buffer.extend_from_slice(&chunk),
        }
    }
    Ok(match (first, whole) {
        (_, Some(buffer)) => buffer.freeze(),
        (Some(one), None) => one,
        (None, None) => Bytes::new(),
    })
}

/// One record as the vendor sent it: its exact text (unknown fields, nulls, key order,
/// number formats), sharing the response body it came in, and where the values of the
/// spec's secrets are in it.
///
/// `Debug` shows only its size, since records carry secrets; read it with
/// [`RawRecord::as_str`] (secrets included) or [`RawRecord::redacted`], or parse it with
/// `serde_json`.
///
/// ```
/// use userbatch_core::RawRecord;
///
/// let record = RawRecord::from(r#"{"Id":1,"Password":"hunter2"}"#);
/// assert_eq!(record.as_str(), r#"{"Id":1,"Password":"hunter2"}"#);
/// // Made from text, it knows no secrets; records the engine finds know the spec's.
/// assert_eq!(record.redacted(), record.as_str());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RawRecord {
    text: ByteString,
    /// Where the non-null values at the rules' secret pointers are, in order.
    secrets: Vec<Range<usize>>,
}

impl RawRecord {
    /// The record at `entry`'s span of `body` (the text [`entries`](crate::json::entries)
    /// cut it from), with `entry`'s secrets.
    ///
    /// # Panics
    ///
    /// If `entry`'s span is not within `body` on character boundaries, or its secrets are
    /// not within its span (as the entries of that body always are).
    pub fn new(body: &ByteString, entry: &Entry) -> Self {
        let span = entry.span.clone();
        Self {
            text: body.slice_ref(&body[span.clone()]),
            secrets: entry
                .secrets
                .iter()
                .map(|s| s.start - span.start..s.end - span.start)
                .collect(),
        }
    }

    /// The JSON text, secrets included.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The JSON bytes, secrets included.
    pub fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// Where the values at the rules' secret pointers are in [`as_str`](Self::as_str)
    /// (`null`s left out), in order.
    pub fn secrets(&self) -> &[Range<usize>] {
        &self.secrets
    }

    /// The JSON text with each of [`secrets`](Self::secrets) replaced by
    /// [`"<redacted>"`](crate::json::REDACTED); borrowed when there are none.
    pub fn redacted(&self) -> Cow<'_, str> {
        crate::json::redact::replaced(self.as_str(), &self.secrets)
    }

    /// [`redacted`](Self::redacted) in pieces, copying nothing: the text between secrets,
    /// and [`REDACTED`](crate::json::REDACTED) in place of each.
    pub fn redacted_parts(&self) -> impl Iterator<Item = &str> {
        crate::json::redact::replaced_parts(self.as_str(), &self.secrets)
    }

    /// Parses it into any type (a `serde_json::Value`, your own struct).
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.text)
    }
}

impl fmt::Debug for RawRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawRecord(<{} bytes>)", self.text.len())
    }
}

impl From<&str> for RawRecord {
    /// The record `text`, with no secrets known.
    fn from(text: &str) -> Self {
        Self {
            text: ByteString::from(text),
            secrets: Vec::new(),
        }
    }
}

impl From<ReceiveError> for crate::error::ClientError {
    fn from(e: ReceiveError) -> Self {
        match e {
            ReceiveError::TooLarge { limit } => Self::TooLarge { limit },
            ReceiveError::Client(e) => e.into(),
        }
    }
}
