//! Finding the records in an answer's envelope by the rules' pointer, each with its id,
//! in one pass over the body.
use std::fmt;
use std::ops::Range;

use bytes::Bytes;
use bytestring::ByteString;
use serde::de::IgnoredAny;

use super::id::{IdError, another_id, scalar_id};
use super::redact::Redactor;
use super::scan::{Fields, key_equals, pointer_tokens, skip_value, skip_ws};
use super::text::message_of;
use super::valid;
use crate::rules::{IdKind, Records};

/// Why a response body could not be cut into records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The body is not JSON at all (cut short, an HTML page): worth another attempt.
    Malformed(String),
    /// Valid JSON, but not where or what the rules say the records are: the spec and the
    /// vendor disagree, and asking again will not change that.
    Shape(String),
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(detail) => write!(f, "the body is not valid JSON ({detail})"),
            Self::Shape(detail) => write!(f, "{detail}"),
        }
    }
}

impl std::error::Error for EnvelopeError {}

/// One record of a response body: where it is, its id (see
/// [`record_id`](crate::json::record_id)), and where the values of its secrets are.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// Its bytes in the body.
    pub span: Range<usize>,
    /// Its id, canonical form.
    pub id: Result<String, IdError>,
    /// Where, in the body, the non-null values at the rules' secret pointers
    /// ([`Records::secrets`]) are, in order: what [`redact`](crate::json::redact) replaces.
    pub secrets: Vec<Range<usize>>,
    /// Whether the record was found to be valid JSON, as [`check`](crate::json::check)
    /// would find it ([`checked_entries`] looks; `false`: not known).
    pub checked: bool,
}

/// Every record of a response body (located by the rules' pointer), each with its id (read
/// from the rules' id field).
///
/// One pass over the body finds the records, their ids and their secrets' values without
/// parsing them: the structure (nesting, strings, separators) is checked, so a body cut
/// short or with something between records is [`EnvelopeError::Malformed`], but a record's
/// own values are checked only when the record is decoded ([`decode`](crate::json::decode),
/// or [`check`](crate::json::check) for records kept as sent; [`checked_entries`] checks
/// them on the way). Records nobody asked for are never parsed.
///
/// ```
/// use userbatch_core::json::entries;
/// use userbatch_core::rules::{IdKind, Records};
///
/// let rules = Records::list("", "Id");
/// let body = br#"[{"Id": 7, "Name": "a"}, {"Id": "007"}, {"Name": "b"}]"#;
/// let list = entries(body, &rules, IdKind::Integer).unwrap();
/// assert_eq!(list[0].id.as_deref(), Ok("7"));
/// assert_eq!(list[1].id.as_deref(), Ok("7"));
/// assert!(list[2].id.is_err());
/// assert_eq!(&body[list[2].span.clone()], br#"{"Name": "b"}"#);
///
/// let mut rules = Records::list("", "Id");
/// rules.secrets = vec!["/Token".into()].into();
/// let body = br#"[{"Id": 7, "Token": "t0k"}, {"Id": 8, "Token": null}]"#;
/// let list = entries(body, &rules, IdKind::Integer).unwrap();
/// assert_eq!(&body[list[0].secrets[0].clone()], br#""t0k""#);
/// assert!(list[1].secrets.is_empty());
///
/// let cut = br#"[{"Id": 7, "Name": "a"}, {"Id": "0"#;
/// assert!(entries(cut, &rules, IdKind::Integer).is_err());
/// ```
pub fn entries(body: &[u8], rules: &Records, kind: IdKind) -> Result<Vec<Entry>, EnvelopeError> {
    let text = std::str::from_utf8(body).map_err(not_utf8)?;
    text_entries(text, rules, kind)
}

/// The body as text, checked to be UTF-8 once (the records [`text_entries`] finds are cut
/// from it without another check), sharing its bytes.
pub fn text_body(body: Bytes) -> Result<ByteString, EnvelopeError> {
    ByteString::try_from(body).map_err(not_utf8)
}

fn not_utf8(e: std::str::Utf8Error) -> EnvelopeError {
    EnvelopeError::Malformed(format!("the body is not UTF-8 ({e})"))
}

/// [`entries`] of a body already known to be UTF-8.
pub fn text_entries(
    text: &str,
    rules: &Records,
    kind: IdKind,
) -> Result<Vec<Entry>, EnvelopeError> {
    scan(text, rules, kind, false)
}

/// [`text_entries`], also checking on the way that each record of a list is valid JSON, as
/// [`check`](crate::json::check) would ([`Entry::checked`]): the walk over each record's
/// fields that finds its id validates it too, so a record kept as the vendor sent it needs
/// no pass of its own to be checked.
///
/// ```
/// use userbatch_core::json::checked_entries;
/// use userbatch_core::rules::{IdKind, Records};
///
/// let rules = Records::list("", "Id");
/// let body = r#"[{"Id": 7}, {"Id": 8, "x": tru}]"#;
/// let list = checked_entries(body, &rules, IdKind::Integer).unwrap();
/// assert!(list[0].checked);
/// assert_eq!(list[1].id.as_deref(), Ok("8"));
/// assert!(!list[1].checked);
/// ```
pub fn checked_entries(
    text: &str,
    rules: &Records,
    kind: IdKind,
) -> Result<Vec<Entry>, EnvelopeError> {
    scan(text, rules, kind, true)
}

fn scan(
    text: &str,
    rules: &Records,
    kind: IdKind,
    check: bool,
) -> Result<Vec<Entry>, EnvelopeError> {
    let b = text.as_bytes();
    let root = skip_ws(b, 0);
    if !b.get(root).is_some_and(|c| starts_json(*c)) {
        return Err(not_json(b, rules));
    }
    let tokens = pointer_tokens(&rules.pointer);
    let scan = Scan {
        text,
        rules,
        kind,
        secrets: Redactor::new(&rules.secrets),
        check,
    };
    match scan.at(root, &tokens)? {
        Some((list, end)) if skip_ws(b, end) == b.len() => Ok(list),
        Some(_) => Err(EnvelopeError::Malformed(
            "the body has something after its end".into(),
        )),
        None => Err(shape(b, rules, "has nothing at")),
    }
}

/// One body being cut into records.
pub(super) struct Scan<'a> {
    pub(super) text: &'a str,
    pub(super) rules: &'a Records,
    pub(super) kind: IdKind,
    /// The rules' secret pointers.
    pub(super) secrets: Redactor,
    /// Whether to check on the way that each record is valid JSON.
    pub(super) check: bool,
}

impl Scan<'_> {
    /// The records at `tokens` below the value at `i`, and where that value ends; `None` if
    /// the pointer leads nowhere.
    pub(super) fn at(
        &self,
        i: usize,
        tokens: &[String],
    ) -> Result<Option<(Vec<Entry>, usize)>, EnvelopeError> {
        let b = self.text.as_bytes();
        let Some((token, rest)) = tokens.split_first() else {
            return self.records(i).map(Some);
        };
        if b.get(i) != Some(&b'{') {
            let end = skip_value(b, i);
            return if complete(b, i..end) {
                Ok(None)
            } else {
                Err(cut_short())
            };
        }
        let mut found = None;
        let mut fields = Fields::at(b, i + 1);
        while let Some((key, value_start)) = fields.key() {
            let value_end = if found.is_none() && key_equals(&self.text[key], token) {
                match self.at(value_start, rest)? {
                    Some((list, end)) => {
                        found = Some(list);
                        end
                    }
                    None => return Ok(None),
                }
            } else {
                let end = skip_value(b, value_start);
                if !complete(b, value_start..end) {
                    return Err(cut_short());
                }
                end
            };
            fields.i = value_end;
        }
        if b.get(fields.i) != Some(&b'}') {
            return Err(cut_short());
        }
        Ok(found.map(|list| (list, fields.i + 1)))
    }

    /// The record(s) of the value at `i` (an array of them, or one), and where it ends.
    pub(super) fn records(&self, i: usize) -> Result<(Vec<Entry>, usize), EnvelopeError> {
        let b = self.text.as_bytes();
        if !self.rules.many {
            let end = skip_value(b, i);
            if !complete(b, i..end) {
                return Err(cut_short());
            }
            let (id, secrets, walk) = if b.get(i) == Some(&b'{') {
                self.object(&b[..end], i)
            } else {
                (Err(IdError::Missing), Vec::new(), Walk::Structural(end))
            };
            let entry = Entry {
                span: i..end,
                id,
                secrets,
                checked: walk == Walk::Checked(end),
            };
            return Ok((vec![entry], end));
        }
        if b.get(i) != Some(&b'[') {
            let end = skip_value(b, i);
            return if complete(b, i..end) {
                Err(shape(b, self.rules, "has no array at"))
            } else {
                Err(cut_short())
            };
        }
        let mut out = Vec::new();
        let mut i = skip_ws(b, i + 1);
        if b.get(i) == Some(&b']') {
            return Ok((out, i + 1));
        }
        loop {
            let start = i;
            let (mut id, mut secrets, mut checked) = (Err(IdError::Missing), Vec::new(), false);
            if b.get(i) == Some(&b'{') {
                let walk;
                (id, secrets, walk) = self.object(b, i);
                match walk {
                    Walk::Checked(end) => {
                        checked = true;
                        i = end;
                    }
                    Walk::Structural(at) if b.get(at) == Some(&b'}') => i = at + 1,
                    Walk::Structural(_) => return Err(cut_short()),
                }
            } else {
                i = skip_value(b, i);
                // An empty slot (`[1,,2]`) is no record, and no JSON.
                if i == start || !complete(b, start..i) {
                    return Err(cut_short());
                }
            }
            out.push(Entry {
                span: start..i,
                id,
                secrets,
                checked,
            });
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b',') => i = skip_ws(b, i + 1),
                Some(b']') => return Ok((out, i + 1)),
                _ => return Err(cut_short()),
            }
        }
    }

    /// The id and secrets of the record object that opens at `i`, and how it was walked:
    /// checked to be valid JSON on the way when the scan checks, else (or when that walk
    /// does not pass it) by its structure alone.
    fn object(&self, b: &[u8], i: usize) -> (Result<String, IdError>, Vec<Range<usize>>, Walk) {
        let (mut id, mut secrets) = (Err(IdError::Missing), Vec::new());
        if self.check {
            let end = valid::members(b, i, |key, escaped, value| {
                self.member(key, escaped, value, &mut id, &mut secrets);
            });
            if let Some(end) = end {
                return (id, secrets, Walk::Checked(end));
            }
            (id, secrets) = (Err(IdError::Missing), Vec::new());
        }
        let mut fields = Fields::at(b, i + 1);
        while let Some((key, value)) = fields.next() {
            self.member(key, fields.escaped, value, &mut id, &mut secrets);
        }
        (id, secrets, Walk::Structural(fields.i))
    }

    /// One member of a record (its quoted key, whether the key holds an escape, its value):
    /// the record's id if it is the id field, its secrets' values if it leads to any.
    fn member(
        &self,
        key: Range<usize>,
        escaped: bool,
        value: Range<usize>,
        id: &mut Result<String, IdError>,
        secrets: &mut Vec<Range<usize>>,
    ) {
        let key = &self.text[key];
        if self.is_id_field(key, escaped) {
            let found = scalar_id(&self.text[value.clone()], self.kind);
            *id = another_id(std::mem::replace(id, Err(IdError::Missing)), found);
        }
        if self.secrets.may_be_secret(key, escaped) {
            let at = value.start;
            self.secrets
                .field(key, escaped, &self.text[value], at, secrets);
        }
    }

    /// Whether the quoted key (`escaped`: written with escapes) is the rules' id field: the
    /// same bytes, or (escaped) at most six times as long and the same once unescaped.
    fn is_id_field(&self, quoted: &str, escaped: bool) -> bool {
        let id = self.rules.id_field.as_bytes();
        if escaped {
            quoted.len() <= 6 * id.len() + 2 && key_equals(quoted, &self.rules.id_field)
        } else {
            quoted.len() == id.len() + 2 && &quoted.as_bytes()[1..quoted.len() - 1] == id
        }
    }
}

/// How a record object was walked.
#[derive(Debug, PartialEq, Eq)]
enum Walk {
    /// Checked to be valid JSON on the way: where it ends (past its `}`).
    Checked(usize),
    /// By its structure alone: where its fields end (at its `}`, if it has one).
    Structural(usize),
}

/// Whether `c` can start a JSON value.
pub(super) fn starts_json(c: u8) -> bool {
    matches!(
        c,
        b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'
    )
}

/// Whether the value at `range` is whole: a container ends with its closing bracket, a
/// string with its quote.
pub(super) fn complete(b: &[u8], range: Range<usize>) -> bool {
    match (
        b.get(range.start),
        range.end.checked_sub(1).and_then(|i| b.get(i)),
    ) {
        (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']')) => range.len() >= 2,
        (Some(b'"'), Some(b'"')) => range.len() >= 2,
        (Some(b'{' | b'[' | b'"'), _) => false,
        _ => true,
    }
}

pub(super) fn cut_short() -> EnvelopeError {
    EnvelopeError::Malformed("the body is cut short or malformed between records".into())
}

/// The body does not start like JSON: malformed (an HTML page, say), unless `serde_json`
/// finds it valid after all.
pub(super) fn not_json(body: &[u8], rules: &Records) -> EnvelopeError {
    match serde_json::from_slice::<IgnoredAny>(body) {
        Ok(_) => shape(body, rules, "has nothing at"),
        Err(e) => EnvelopeError::Malformed(message_of(&e)),
    }
}

/// The records are not where the rules say: the spec and the vendor disagree, unless the
/// body is not valid JSON after all (then it is malformed, and worth another try).
pub(super) fn shape(body: &[u8], rules: &Records, what: &str) -> EnvelopeError {
    match serde_json::from_slice::<IgnoredAny>(body) {
        Err(e) => EnvelopeError::Malformed(message_of(&e)),
        Ok(_) => EnvelopeError::Shape(format!(
            "the body {what} `{}`, where the spec puts the records",
            rules.pointer
        )),
    }
}
