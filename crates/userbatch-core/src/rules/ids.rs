//! Where a request's ids go and how they are written: [`Ids`].

use std::borrow::Cow;

use serde::Deserialize;

use super::text::Text;

/// Where the ids of a request go and how they are written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Ids {
    /// The request part that carries the ids.
    #[serde(rename = "in")]
    pub location: IdLocation,
    /// Parameter name (path or query) or JSON field (body).
    pub name: Text,
    /// How several ids are written into that one place.
    pub encoding: IdEncoding,
    /// What a valid id looks like.
    #[serde(rename = "type")]
    pub kind: IdKind,
    /// Characters an id must not contain because they would break the encoding.
    #[serde(default)]
    pub forbidden_chars: Text,
    /// Whether the vendor compares ids without regard to case (GUIDs): `ABC` and `abc` are
    /// one id, and a record answering `abc` answers a request for `ABC`.
    #[serde(default)]
    pub case_insensitive: bool,
}

impl Ids {
    /// The id as the vendor compares it: integers by value (`007` is `7`), case-insensitive
    /// ids in lower case, others as they are. Two ids are one id exactly when their keys
    /// are equal.
    ///
    /// ```
    /// use userbatch_core::rules::{IdEncoding, IdKind, IdLocation, Ids};
    /// use std::borrow::Cow::Borrowed;
    ///
    /// let mut ids = Ids { location: IdLocation::Query, name: Borrowed("id"),
    ///     encoding: IdEncoding::Csv, kind: IdKind::Integer, forbidden_chars: Borrowed(""),
    ///     case_insensitive: false };
    /// assert_eq!(ids.key("007"), "7");
    /// ids.kind = IdKind::String;
    /// assert_eq!(ids.key("AbC"), "AbC");
    /// ids.case_insensitive = true;
    /// assert_eq!(ids.key("AbC"), "abc");
    /// ```
    pub fn key<'a>(&self, id: &'a str) -> Cow<'a, str> {
        match self.kind {
            // Without a leading zero an id is its own key (digits or not).
            IdKind::Integer if !id.starts_with('0') => Cow::Borrowed(id),
            IdKind::Integer => match integer_digits(id) {
                Some(digits) if digits.len() == id.len() => Cow::Borrowed(id),
                Some(digits) => Cow::Owned(digits.to_owned()),
                None => Cow::Borrowed(id),
            },
            IdKind::String if self.case_insensitive && id.chars().any(char::is_uppercase) => {
                Cow::Owned(id.to_lowercase())
            }
            IdKind::String => Cow::Borrowed(id),
        }
    }

    /// The order of two ids by their [`Ids::key`]s, without building the keys.
    pub fn cmp_keys(&self, a: &str, b: &str) -> std::cmp::Ordering {
        match self.kind {
            IdKind::Integer => {
                // Valid integer ids are digits: their value's order is that of the digits
                // without leading zeros, by length first (no parsing, no allocation).
                let digits = |id: &'_ str| -> usize {
                    let zeros = id.bytes().take_while(|&b| b == b'0').count();
                    zeros.min(id.len().saturating_sub(1))
                };
                let (x, y) = (&a[digits(a)..], &b[digits(b)..]);
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            // As `key` folds them (`str::to_lowercase` knows a final sigma; the per-character
            // folding does not).
            IdKind::String if self.case_insensitive => self.key(a).cmp(&self.key(b)),
            IdKind::String => a.cmp(b),
        }
    }

    /// The id as requests carry it: integers without leading zeros (`007` goes out as
    /// `7`), other ids as given.
    pub fn wire<'a>(&self, id: &'a str) -> &'a str {
        match self.kind {
            IdKind::Integer if !id.starts_with('0') => id,
            IdKind::Integer => integer_digits(id).unwrap_or(id),
            IdKind::String => id,
        }
    }
}

/// The digits of a non-negative decimal integer without its leading zeros (`"0"` for zero);
/// `None` if `text` is not all digits.
fn integer_digits(text: &str) -> Option<&str> {
    // Most ids have no leading zero: nothing to strip, whatever else they hold.
    if !text.starts_with('0') {
        return text
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then_some(text)
            .filter(|t| !t.is_empty());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = text.trim_start_matches('0');
    Some(if digits.is_empty() {
        &text[text.len() - 1..]
    } else {
        digits
    })
}

/// The request part that carries the ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdLocation {
    /// A path parameter.
    Path,
    /// A query parameter.
    Query,
    /// A field of the JSON request body.
    Body,
}

/// How several ids are written into one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdEncoding {
    /// Exactly one id per request.
    Single,
    /// `1,2,3`.
    Csv,
    /// `[1,2,3]`.
    BracketedCsv,
    /// A JSON array of strings.
    JsonArray,
}

/// What a valid id looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdKind {
    /// Decimal digits that fit an `i64`.
    Integer,
    /// Any non-empty string without the operation's forbidden characters.
    String,
}
