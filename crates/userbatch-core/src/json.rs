//! Reading vendor JSON record by record: locate the records by the rules' pointer, read
//! each record's id by the rules' id field, decode one record at a time.
//!
//! Two tools work together here. `serde_json` parses the response once, which both
//! validates it and cuts the record list into [`RawValue`]s. A small scanner then reads
//! single fields (a record's id, a page total) out of text `serde_json` has already
//! validated: a record's id costs a skim of its bytes, not a second parse, and records nobody
//! asked for are never decoded.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::rules::{IdKind, Records};

/// Longest vendor text (an error message, a decode detail) carried into an error, in
/// characters; longer text is cut and ends with `…`.
pub const MAX_DETAIL_CHARS: usize = 200;

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

/// One record of a response body: where it is, and its id (see [`record_id`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its bytes in the body.
    pub span: Range<usize>,
    /// Its id, canonical form.
    pub id: Result<String, IdError>,
}

/// Every record of a response body (located by the rules' pointer), each with its id (read
/// from the rules' id field); nothing is decoded.
///
/// ```
/// use userbatch_core::json::entries;
/// use userbatch_core::rules::{IdKind, Records};
///
/// let rules = Records { pointer: "", many: true, id_field: "Id", secrets: &[] };
/// let body = br#"[{"Id": 7, "Name": "a"}, {"Id": "007"}, {"Name": "b"}]"#;
/// let list = entries(body, &rules, IdKind::Integer).unwrap();
/// assert_eq!(list[0].id.as_deref(), Ok("7"));
/// assert_eq!(list[1].id.as_deref(), Ok("7"));
/// assert!(list[2].id.is_err());
/// assert_eq!(&body[list[2].span.clone()], br#"{"Name": "b"}"#);
/// ```
pub fn entries(body: &[u8], rules: &Records, kind: IdKind) -> Result<Vec<Entry>, EnvelopeError> {
    let base = body.as_ptr() as usize;
    Ok(records(body, rules)?
        .into_iter()
        .map(|record| {
            let text = record.get();
            // `serde_json` hands back slices of `body`: their place is their address.
            let start = (text.as_ptr() as usize).saturating_sub(base);
            Entry {
                span: start..start + text.len(),
                id: record_id(text, rules.id_field, kind),
            }
        })
        .collect())
}

/// The records of one response body, each as the vendor sent it.
///
/// ```
/// use userbatch_core::json::records;
/// use userbatch_core::rules::Records;
///
/// let rules = Records { pointer: "/user", many: true, id_field: "id", secrets: &[] };
/// let body = br#"{"user": [{"id": 7, "firstName": null}, {"id": "8"}], "extra": true}"#;
/// let list = records(body, &rules).unwrap();
/// assert_eq!(list.len(), 2);
/// assert_eq!(list[0].get(), r#"{"id": 7, "firstName": null}"#);
/// ```
pub fn records<'a>(body: &'a [u8], rules: &Records) -> Result<Vec<&'a RawValue>, EnvelopeError> {
    let tokens = pointer_tokens(rules.pointer);
    let found = if rules.many {
        navigate(body, &tokens, PhantomData::<Vec<&'a RawValue>>)
    } else {
        navigate(body, &tokens, PhantomData::<&'a RawValue>).map(|one| one.map(|r| vec![r]))
    };
    match found {
        Ok(Some(list)) => Ok(list),
        Ok(None) => Err(EnvelopeError::Shape(format!(
            "the body has nothing at `{}`, where the spec puts the records",
            rules.pointer
        ))),
        Err(e) => Err(classify(&e, rules.pointer, rules.many)),
    }
}

fn classify(e: &serde_json::Error, pointer: &str, many: bool) -> EnvelopeError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => EnvelopeError::Shape(format!(
            "the records at `{pointer}` are not {} ({})",
            if many { "a JSON array" } else { "a JSON value" },
            message_of(e)
        )),
        _ => EnvelopeError::Malformed(message_of(e)),
    }
}

/// The tokens of an RFC 6901 pointer (`""` is the whole document).
fn pointer_tokens(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Parses `body` (validating all of it) and deserializes what `tokens` point at with
/// `last`; `Ok(None)` if the pointer leads nowhere.
fn navigate<'de, S: DeserializeSeed<'de>>(
    body: &'de [u8],
    tokens: &[String],
    last: S,
) -> Result<Option<S::Value>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Navigate { tokens, last }.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

struct Navigate<'t, S> {
    tokens: &'t [String],
    last: S,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Navigate<'_, S> {
    type Value = Option<S::Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if self.tokens.is_empty() {
            self.last.deserialize(d).map(Some)
        } else {
            d.deserialize_any(self)
        }
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Navigate<'_, S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with `{}`", self.tokens[0])
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (token, rest) = (&self.tokens[0], &self.tokens[1..]);
        let mut last = Some(self.last);
        let mut found = None;
        while let Some(is_token) = map.next_key_seed(KeyIs(token))? {
            match (is_token, last.take()) {
                (true, Some(seed)) => {
                    found = map.next_value_seed(Navigate {
                        tokens: rest,
                        last: seed,
                    })?;
                }
                (_, seed) => {
                    last = seed;
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A map key compared with `self.0` without allocating it.
struct KeyIs<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// `value` (valid JSON) read as a non-negative integer, e.g. a page total.
pub fn read_u64(valid_json: &str, pointer: &str) -> Option<u64> {
    let range = at_pointer(valid_json, pointer)?;
    valid_json[range].parse().ok()
}

/// Where the value at `pointer` (object keys only) is in `valid_json`, which must be
/// valid JSON (as a [`RawValue`] or a body [`records`] accepted is).
pub fn at_pointer(valid_json: &str, pointer: &str) -> Option<Range<usize>> {
    let mut range = trim(valid_json, 0..valid_json.len());
    for token in pointer_tokens(pointer) {
        let inner = field(&valid_json[range.clone()], &token)?;
        range = range.start + inner.start..range.start + inner.end;
    }
    Some(range)
}

fn trim(text: &str, range: Range<usize>) -> Range<usize> {
    let b = text.as_bytes();
    let (mut start, mut end) = (range.start, range.end);
    while start < end && b[start].is_ascii_whitespace() {
        start += 1;
    }
    while end > start && b[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    start..end
}

/// Where the value of `key` is in the JSON object `object`, if `object` is an object with
/// that key (the first, if it repeats). `object` must be valid JSON: this skims its bytes
/// (strings, nesting) without checking them again.
pub fn field(object: &str, key: &str) -> Option<Range<usize>> {
    Fields::new(object)
        .find(|(quoted, _)| key_equals(&object[quoted.clone()], key))
        .map(|(_, value)| value)
}

/// The top-level fields of a JSON object (valid JSON), in order: where each quoted key and
/// each value is. Nothing if the text is not an object.
struct Fields<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Fields<'a> {
    fn new(object: &'a str) -> Self {
        let b = object.as_bytes();
        let i = skip_ws(b, 0);
        // Past `{`, or at the end if this is not an object.
        let i = if b.get(i) == Some(&b'{') {
            i + 1
        } else {
            b.len()
        };
        Self { b, i }
    }
}

impl Iterator for Fields<'_> {
    type Item = (Range<usize>, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.b;
        let mut i = skip_ws(b, self.i);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
        if b.get(i) != Some(&b'"') {
            self.i = b.len();
            return None; // `}`: no more keys.
        }
        let key_end = skip_string(b, i);
        let key = i..key_end;
        i = skip_ws(b, skip_ws(b, key_end) + 1); // past `:`
        let value_end = skip_value(b, i);
        self.i = value_end;
        Some((key, i..value_end))
    }
}

/// Whether the quoted JSON string `quoted` is `key`.
fn key_equals(quoted: &str, key: &str) -> bool {
    let inner = &quoted[1..quoted.len() - 1];
    if inner.contains('\\') {
        serde_json::from_str::<Cow<'_, str>>(quoted).is_ok_and(|k| k == key)
    } else {
        inner == key
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// Past the string that opens at `i`.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while let Some(offset) = memchr::memchr2(b'"', b'\\', &b[i..]) {
        i += offset;
        if b[i] == b'\\' {
            i += 2;
        } else {
            return i + 1;
        }
    }
    b.len()
}

/// Past the value that starts at `i`.
fn skip_value(b: &[u8], mut i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => skip_string(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = skip_string(b, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            b.len()
        }
        _ => {
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            {
                i += 1;
            }
            i
        }
    }
}

/// Why a record's id could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdError {
    /// The record is not an object or has no id field.
    Missing,
    /// The id field holds something other than a string or an integer.
    NotScalar,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("the record has no id field"),
            Self::NotScalar => f.write_str("the record's id is neither a string nor an integer"),
        }
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
/// ```
pub fn record_id(record: &str, id_field: &str, kind: IdKind) -> Result<String, IdError> {
    let range = field(record, id_field).ok_or(IdError::Missing)?;
    let text = &record[range];
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

fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `007` -> `7`; `None` if `text` is not an integer that fits 64 bits.
fn canonical_integer(text: &str) -> Option<String> {
    if !is_integer(text) {
        return None;
    }
    text.parse::<i64>().ok().map(|v| v.to_string())
}

/// Why one record could not be decoded into its generated type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// Where in the record, e.g. `InvalidLoginAttempts` or `Businesses[2]`; `.` for the
    /// record itself.
    pub path: String,
    /// What the type expected and what arrived, as `serde_json` says it (the value is left
    /// out where the field is a secret), at most [`MAX_DETAIL_CHARS`] characters.
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
/// let err = decode::<User>(r#"{"Id": 1, "Logins": "3"}"#, &[]).unwrap_err();
/// assert_eq!(err.path, "Logins");
/// assert!(err.detail.contains("expected i64"), "{err}");
/// let err = decode::<User>(r#"{"Id": 1, "Logins": "hunter2"}"#, &["/Logins"]).unwrap_err();
/// assert!(!err.to_string().contains("hunter2"));
/// ```
pub fn decode<T: DeserializeOwned>(record: &str, secrets: &[&str]) -> Result<T, RecordError> {
    match serde_json::from_str(record) {
        Ok(value) => Ok(value),
        Err(fast) => {
            let mut de = serde_json::Deserializer::from_str(record);
            let (path, error) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Ok(_) => (".".to_owned(), fast),
                Err(e) => (e.path().to_string(), e.into_inner()),
            };
            let secret = secrets.iter().any(|p| {
                let top = p.trim_start_matches('/').split('/').next().unwrap_or("");
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

/// A `serde_json` error's message without its ` at line L column C` suffix.
fn message_of(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => text,
    }
}

/// `text` cut to [`MAX_DETAIL_CHARS`] characters, control characters replaced by spaces
/// (vendor text ends up on terminals and in logs).
pub fn cut(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_DETAIL_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(MAX_DETAIL_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// The vendor's own message in an error body: the string at `pointer` (from the spec's
/// `x-userbatch.error-message`; `""` is a body that is a bare JSON string), trimmed and cut
/// to [`MAX_DETAIL_CHARS`] characters. `None` if the body is not JSON or has no string there.
///
/// ```
/// use userbatch_core::json::vendor_message;
///
/// assert_eq!(vendor_message(br#""Not found""#, "").as_deref(), Some("Not found"));
/// assert_eq!(vendor_message(br#"{"message": "bad $sort"}"#, "/message").as_deref(), Some("bad $sort"));
/// assert_eq!(vendor_message(b"<html>502</html>", ""), None);
/// ```
pub fn vendor_message(body: &[u8], pointer: &str) -> Option<String> {
    let root: &RawValue = serde_json::from_slice(body).ok()?;
    let range = at_pointer(root.get(), pointer)?;
    let text: String = serde_json::from_str(&root.get()[range]).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| cut(text))
}

/// What replaces a secret value in [`redact`]ed records.
pub const REDACTED: &str = "\"<redacted>\"";

/// The record with the values at `secrets` (JSON pointers, object keys only) replaced by
/// `"<redacted>"`, unless they are `null`; everything else byte for byte as it was. To
/// redact many records, make one [`Redactor`].
///
/// ```
/// use userbatch_core::json::redact;
///
/// let record = r#"{"Id":1,"Password":"hunter2","Token":null,"Name":"Ada"}"#;
/// assert_eq!(
///     redact(record, &["/Password", "/Token"]),
///     r#"{"Id":1,"Password":"<redacted>","Token":null,"Name":"Ada"}"#
/// );
/// ```
pub fn redact<'a>(record: &'a str, secrets: &[&str]) -> Cow<'a, str> {
    Redactor::new(secrets).redact(record)
}

/// [`redact`] for many records: the secrets' pointers prepared once, each record read in
/// one pass over its fields.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// By key length: (key, the pointer's remaining tokens; empty: redact this value).
    by_len: Vec<Vec<(String, Vec<String>)>>,
}

impl Redactor {
    /// A redactor for these JSON pointers (object keys only).
    pub fn new(secrets: &[&str]) -> Self {
        let mut redactor = Self::default();
        for pointer in secrets {
            let mut tokens = pointer_tokens(pointer);
            if tokens.is_empty() {
                continue;
            }
            let key = tokens.remove(0);
            if redactor.by_len.len() <= key.len() {
                redactor.by_len.resize(key.len() + 1, Vec::new());
            }
            redactor.by_len[key.len()].push((key, tokens));
        }
        redactor
    }

    /// The record with its secrets' values replaced (see [`redact`]).
    pub fn redact<'a>(&self, record: &'a str) -> Cow<'a, str> {
        if self.by_len.is_empty() {
            return Cow::Borrowed(record);
        }
        let mut spans = Vec::new();
        self.collect(record, 0, &mut spans);
        if spans.is_empty() {
            return Cow::Borrowed(record);
        }
        let mut out = String::with_capacity(record.len());
        let mut at = 0;
        for span in spans {
            out.push_str(&record[at..span.start]);
            out.push_str(REDACTED);
            at = span.end;
        }
        out.push_str(&record[at..]);
        Cow::Owned(out)
    }

    /// Spans (offset by `base`) of the non-null secret values in `object`, in order.
    fn collect(&self, object: &str, base: usize, spans: &mut Vec<Range<usize>>) {
        for (key, value) in Fields::new(object) {
            let inner = &object[key.start + 1..key.end - 1];
            let candidates = self.by_len.get(inner.len()).map(Vec::as_slice);
            let escaped = inner.contains('\\');
            // An escaped key may be shorter once unescaped: look it up by its real length.
            let (name, candidates) = if escaped {
                let Ok(name) = serde_json::from_str::<String>(&object[key.clone()]) else {
                    continue;
                };
                let list = self.by_len.get(name.len()).map(Vec::as_slice);
                (Cow::Owned(name), list)
            } else {
                (Cow::Borrowed(inner), candidates)
            };
            for (secret, rest) in candidates.into_iter().flatten() {
                if *secret != *name {
                    continue;
                }
                let text = &object[value.clone()];
                if rest.is_empty() {
                    if text != "null" {
                        spans.push(base + value.start..base + value.end);
                    }
                } else {
                    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
                    let nested = Redactor::new(&[&format!("/{}", rest.join("/"))]);
                    nested.collect(text, base + value.start, spans);
                }
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANY: Records = Records {
        pointer: "/data",
        many: true,
        id_field: "id",
        secrets: &[],
    };

    #[test]
    fn records_are_found_by_pointer_and_kept_verbatim() {
        let body = br#" {"metadata": {"totalCount": 2}, "data": [ {"id":"a", "x": null} ,{"id":"b","y":{"z":[1,"]"]}} ] } "#;
        let list = records(body, &MANY).unwrap();
        let texts: Vec<&str> = list.iter().map(|r| r.get()).collect();
        assert_eq!(
            texts,
            [
                r#"{"id":"a", "x": null}"#,
                r#"{"id":"b","y":{"z":[1,"]"]}}"#
            ]
        );
        assert_eq!(
            read_u64(std::str::from_utf8(body).unwrap(), "/metadata/totalCount"),
            Some(2)
        );
    }

    #[test]
    fn envelope_errors_tell_syntax_from_shape() {
        assert!(matches!(
            records(br#"{"data": [{"id": "a"}"#, &MANY),
            Err(EnvelopeError::Malformed(_))
        ));
        assert!(matches!(
            records(b"<html></html>", &MANY),
            Err(EnvelopeError::Malformed(_))
        ));
        let shape = records(br#"{"data": {"id": "a"}}"#, &MANY).unwrap_err();
        assert!(matches!(shape, EnvelopeError::Shape(_)), "{shape}");
        let missing = records(br#"{"items": []}"#, &MANY).unwrap_err();
        assert!(missing.to_string().contains("`/data`"), "{missing}");
        assert!(matches!(
            records(br#"[1, 2]"#, &MANY),
            Err(EnvelopeError::Shape(_))
        ));
        // Trailing garbage after a valid document is malformed.
        assert!(matches!(
            records(br#"{"data": []} x"#, &MANY),
            Err(EnvelopeError::Malformed(_))
        ));
    }

    #[test]
    fn fields_skip_nested_values_and_escapes() {
        let text = r#"{ "a\"}" : "}{\\\"", "n": {"Id": 9}, "arr": [ {"Id": 8}, "]" ], "Id" : 7 }"#;
        assert_eq!(&text[field(text, "Id").unwrap()], "7");
        assert_eq!(&text[field(text, "a\"}").unwrap()], r#""}{\\\"""#);
        assert_eq!(field(text, "missing"), None);
        assert_eq!(field("[1]", "Id"), None);
        assert_eq!(field("{}", "Id"), None);
        let escaped = r#"{"\u0049d": 5}"#;
        assert_eq!(&escaped[field(escaped, "Id").unwrap()], "5");
    }

    #[test]
    fn ids_in_every_form() {
        let id = |text: &str, kind| record_id(text, "Id", kind);
        assert_eq!(id(r#"{"Id": -3}"#, IdKind::String).unwrap(), "-3");
        assert_eq!(id(r#"{"Id": "a\u00e9"}"#, IdKind::String).unwrap(), "aé");
        assert_eq!(
            id(r#"{"Id": 1.5}"#, IdKind::Integer),
            Err(IdError::NotScalar)
        );
        assert_eq!(
            id(r#"{"Id": {"v": 1}}"#, IdKind::Integer),
            Err(IdError::NotScalar)
        );
        assert_eq!(id(r#"{"id": 1}"#, IdKind::Integer), Err(IdError::Missing));
        assert_eq!(id(r#""Not found""#, IdKind::Integer), Err(IdError::Missing));
    }

    #[test]
    fn redaction_leaves_other_bytes_alone() {
        let record = r#"{"A":{"S":"x","T":1},"S":"y"}"#;
        assert_eq!(
            redact(record, &["/A/S"]),
            r#"{"A":{"S":"<redacted>","T":1},"S":"y"}"#
        );
        assert_eq!(
            redact(record, &["/A", "/A/S"]),
            r#"{"A":"<redacted>","S":"y"}"#
        );
        assert!(matches!(redact(record, &["/Z"]), Cow::Borrowed(_)));
        assert!(matches!(redact(record, &[]), Cow::Borrowed(_)));
        assert_eq!(
            redact(record, &["/S", "/A/T"]),
            r#"{"A":{"S":"x","T":"<redacted>"},"S":"<redacted>"}"#
        );
        // A key written with escapes is still the key.
        assert_eq!(
            redact(r#"{"\u0053":"x"}"#, &["/S"]),
            r#"{"\u0053":"<redacted>"}"#
        );
        assert_eq!(redact(r#"[{"S":"x"}]"#, &["/S"]), r#"[{"S":"x"}]"#);
    }

    proptest::proptest! {
        /// Redaction leaves a record that parses to the original with each secret that was
        /// not null replaced, and nothing else changed.
        #[test]
        fn redaction_agrees_with_serde(value in json_object()) {
            let text = serde_json::to_string(&value).unwrap();
            let object = value.as_object().unwrap();
            let keys: Vec<String> = object
                .keys()
                .take(2)
                .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
                .collect();
            let secrets: Vec<&str> = keys.iter().map(String::as_str).collect();
            let redacted: serde_json::Value =
                serde_json::from_str(&redact(&text, &secrets)).unwrap();
            let mut expected = value.clone();
            for key in object.keys().take(2) {
                if !value[key].is_null() {
                    expected[key] = serde_json::Value::from("<redacted>");
                }
            }
            proptest::prop_assert_eq!(redacted, expected);
        }
    }

    #[test]
    fn cut_marks_what_it_cuts_and_drops_control_characters() {
        assert_eq!(cut("a\u{1b}[31mb"), "a [31mb");
        let long = "é".repeat(MAX_DETAIL_CHARS + 5);
        let out = cut(&long);
        assert_eq!(out.chars().count(), MAX_DETAIL_CHARS + 1);
        assert!(out.ends_with('…'));
    }

    proptest::proptest! {
        /// The scanner agrees with serde_json on every field of any JSON object.
        #[test]
        fn field_agrees_with_serde(value in json_object()) {
            let text = serde_json::to_string_pretty(&value).unwrap();
            let compact = serde_json::to_string(&value).unwrap();
            for (key, expected) in value.as_object().unwrap() {
                for t in [&text, &compact] {
                    let range = field(t, key).expect("present");
                    let got: serde_json::Value = serde_json::from_str(&t[range]).unwrap();
                    proptest::prop_assert_eq!(&got, expected);
                }
            }
            proptest::prop_assert_eq!(field(&text, "no such key \u{1}"), None);
        }
    }

    fn json_object() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            // Floats that print and parse back exactly (the scanner only skips them).
            prop::sample::select(vec![1.5f64, -2.25e10, 0.125]).prop_map(serde_json::Value::from),
            "[\"\\\\{}\\[\\]:, a-zé\u{1}]{0,8}".prop_map(serde_json::Value::from),
        ];
        let value = leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::btree_map("[\"\\\\{} a-z]{0,5}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        });
        prop::collection::btree_map("[\"\\\\{}:, a-zé]{0,6}", value, 0..6)
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect()))
    }
}
