//! Reading a record's id by the rules' id field, as the rules' kind of id says.

use std::borrow::Cow;
use std::fmt;

use super::scan::{Fields, key_equals};
use super::text::cut;
use crate::rules::IdKind;

/// Why a record's id could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdError {
    /// The record is not an object or has no id field.
    Missing,
    /// The id field holds something other than a string or an integer.
    NotScalar,
    /// The id field appears twice with different values (`{"Id": 1, "Id": 2}`): JSON
    /// readers disagree on which one counts, so the record is neither id's.
    Conflicting(String, String),
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("the record has no id field"),
            Self::NotScalar => f.write_str("the record's id is neither a string nor an integer"),
            Self::Conflicting(a, b) => write!(
                f,
                "the record's id field appears twice, with {} and {}",
                cut(a),
                cut(b)
            ),
        }
    }
}

/// The id of a record after one more occurrence of its id field: the first one read, unless
/// a later one says otherwise.
pub(super) fn another_id(
    so_far: Result<String, IdError>,
    next: Result<String, IdError>,
) -> Result<String, IdError> {
    match (so_far, next) {
        (Err(IdError::Missing), next) => next,
        (Ok(a), Ok(b)) if a == b => Ok(a),
        (Ok(a), Ok(b)) => Err(IdError::Conflicting(a, b)),
        (Ok(_), Err(_)) => Err(IdError::NotScalar),
        (Err(e), _) => Err(e),
    }
}

/// The id of one record (valid JSON), read from `id_field`, in the planner's canonical form:
/// for integer ids the digits without leading zeros, whether the vendor sent a JSON number
/// or a string of digits; for string ids the text, or the digits of a JSON integer.
///
/// ```
/// use userbatch_core::json::record_id;
/// use userbatch_core::rules::IdKind;
///
/// assert_eq!(record_id(r#"{"Id": 42, "x": [1]}"#, "Id", IdKind::Integer).unwrap(), "42");
/// assert_eq!(record_id(r#"{"Id": "042"}"#, "Id", IdKind::Integer).unwrap(), "42");
/// assert_eq!(record_id(r#"{"id": 1001}"#, "id", IdKind::String).unwrap(), "1001");
/// assert!(record_id(r#"{"id": null}"#, "id", IdKind::String).is_err());
/// // One id field twice: the same value is that id, two values are neither.
/// assert_eq!(record_id(r#"{"Id": 7, "Id": "007"}"#, "Id", IdKind::Integer).unwrap(), "7");
/// assert!(record_id(r#"{"Id": 1, "Id": 2}"#, "Id", IdKind::Integer).is_err());
/// ```
pub fn record_id(record: &str, id_field: &str, kind: IdKind) -> Result<String, IdError> {
    let mut id = Err(IdError::Missing);
    for (quoted, value) in Fields::new(record) {
        if key_equals(&record[quoted], id_field) {
            id = another_id(id, scalar_id(&record[value], kind));
        }
    }
    id
}

/// An id field's value (its JSON text) in canonical form.
pub(super) fn scalar_id(text: &str, kind: IdKind) -> Result<String, IdError> {
    let id: Cow<'_, str> = if text.starts_with('"') {
        serde_json::from_str(text).map_err(|_| IdError::NotScalar)?
    } else if is_integer(text) {
        Cow::Borrowed(text)
    } else {
        return Err(IdError::NotScalar);
    };
    Ok(match kind {
        IdKind::Integer => canonical_integer(&id).unwrap_or_else(|| id.into_owned()),
        IdKind::String => id.into_owned(),
    })
}

pub(super) fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `007` -> `7`; `None` if `text` is not an integer that fits 64 bits.
pub(super) fn canonical_integer(text: &str) -> Option<String> {
    if !is_integer(text) {
        return None;
    }
    text.parse::<i64>().ok().map(|v| v.to_string())
}
