//! Decoding one record into its generated type, naming the field that did not decode.
use std::fmt;

use super::text::{cut, message_of};
use serde::de::DeserializeOwned;
use serde::de::IgnoredAny;

/// Why one record could not be decoded into its generated type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// Where in the record, e.g. `InvalidLoginAttempts` or `Businesses[2]`; `.` for the
    /// record itself.
    pub path: String,
    /// What the type expected and what arrived, as `serde_json` says it (the value is left
    /// out where the field is a secret), at most [`MAX_DETAIL_CHARS`](crate::json::MAX_DETAIL_CHARS) characters.
    pub detail: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the record does not match the spec at `{}`: {}",
            self.path, self.detail
        )
    }
}

impl std::error::Error for RecordError {}

/// Decodes one record (its JSON text) into `T`. On failure the error names the field
/// (found with `serde_path_to_error`, on the failure path only: tracking paths on every
/// record would cost more than the decoding). Where that field is one of `secrets` (JSON
/// pointers of the record's `format: password` fields) the value is not repeated.
///
/// ```
/// use userbatch_core::json::decode;
///
/// #[derive(Debug, serde::Deserialize)]
/// struct User { #[serde(rename = "Id")] id: i64, #[serde(rename = "Logins")] logins: Option<i64> }
///
/// let err = decode::<User, &str>(r#"{"Id": 1, "Logins": "3"}"#, &[]).unwrap_err();
/// assert_eq!(err.path, "Logins");
/// assert!(err.detail.contains("expected i64"), "{err}");
/// let err = decode::<User, &str>(r#"{"Id": 1, "Logins": "hunter2"}"#, &["/Logins"]).unwrap_err();
/// assert!(!err.to_string().contains("hunter2"));
/// ```
pub fn decode<T: DeserializeOwned, S: AsRef<str>>(
    record: &str,
    secrets: &[S],
) -> Result<T, RecordError> {
    match serde_json::from_str(record) {
        Ok(value) => Ok(value),
        Err(fast) => {
            let mut de = serde_json::Deserializer::from_str(record);
            let (path, error) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Ok(_) => (".".to_owned(), fast),
                Err(e) => (e.path().to_string(), e.into_inner()),
            };
            let secret = secrets.iter().any(|p| {
                let top = p
                    .as_ref()
                    .trim_start_matches('/')
                    .split('/')
                    .next()
                    .unwrap_or("");
                path == top
                    || path.starts_with(&format!("{top}."))
                    || path.starts_with(&format!("{top}["))
            });
            let detail = if secret {
                "the value does not have the spec's type (not shown: a secret field)".to_owned()
            } else {
                cut(&message_of(&error))
            };
            Err(RecordError { path, detail })
        }
    }
}

/// Checks that a record kept as sent is valid JSON (what [`entries`](crate::json::entries) leaves to the decoding):
/// a fast test first, which passes only what `serde_json` accepts; what it does not pass,
/// `serde_json` judges and words.
///
/// ```
/// use userbatch_core::json::check;
/// assert!(check(r#"{"Id": 1, "x": [true, null]}"#).is_ok());
/// assert!(check(r#"{"Id": 1, "x": tru}"#).is_err());
/// ```
pub fn check(record: &str) -> Result<(), RecordError> {
    if super::valid::surely_valid(record) {
        return Ok(());
    }
    serde_json::from_str::<IgnoredAny>(record)
        .map(|_| ())
        .map_err(|e| RecordError::not_json(&e))
}

impl RecordError {
    /// A record that is not valid JSON, as `serde_json` found it.
    pub(super) fn not_json(error: &serde_json::Error) -> Self {
        RecordError {
            path: ".".into(),
            detail: format!("not valid JSON: {}", cut(&message_of(error))),
        }
    }
}
