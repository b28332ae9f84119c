//! Reading vendor JSON record by record: locate the records by the rules' pointer, read
//! each record's id by the rules' id field, decode one record at a time.
//!
//! A small scanner finds the records and reads each one's id in one pass over the body
//! (1.4 GB/s on Nexudus summaries, against 0.8 GB/s for cutting the list with `serde_json`
//! and then reading ids): it follows the structure (nesting, strings, separators) without
//! parsing values. `serde_json` then parses each record that is asked for, on its own, and
//! that is where a record's values are validated. Records nobody asked for are never
//! parsed.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::{DeserializeOwned, IgnoredAny};
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
/// from the rules' id field).
///
/// One pass over the body finds the records and their ids without parsing them: the
/// structure (nesting, strings, separators) is checked, so a body cut short or with
/// something between records is [`EnvelopeError::Malformed`], but a record's own values are
/// checked only when the record is decoded ([`decode`], or [`check`] for records kept as
/// sent). Records nobody asked for are never parsed.
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
/// let cut = br#"[{"Id": 7, "Name": "a"}, {"Id": "0"#;
/// assert!(entries(cut, &rules, IdKind::Integer).is_err());
/// ```
pub fn entries(body: &[u8], rules: &Records, kind: IdKind) -> Result<Vec<Entry>, EnvelopeError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| EnvelopeError::Malformed(format!("the body is not UTF-8 ({e})")))?;
    let b = text.as_bytes();
    let root = skip_ws(b, 0);
    if !b.get(root).is_some_and(|c| starts_json(*c)) {
        return Err(not_json(body, rules));
    }
    let tokens = pointer_tokens(&rules.pointer);
    let scan = Scan { text, rules, kind };
    match scan.at(root, &tokens)? {
        Some((list, end)) if skip_ws(b, end) == b.len() => Ok(list),
        Some(_) => Err(EnvelopeError::Malformed(
            "the body has something after its end".into(),
        )),
        None => Err(shape(body, rules, "has nothing at")),
    }
}

/// One body being cut into records.
struct Scan<'a> {
    text: &'a str,
    rules: &'a Records,
    kind: IdKind,
}

impl Scan<'_> {
    /// The records at `tokens` below the value at `i`, and where that value ends; `None` if
    /// the pointer leads nowhere.
    fn at(
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
        let mut fields = Fields { b, i: i + 1 };
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
    fn records(&self, i: usize) -> Result<(Vec<Entry>, usize), EnvelopeError> {
        let (text, b) = (self.text, self.text.as_bytes());
        if !self.rules.many {
            let end = skip_value(b, i);
            if !complete(b, i..end) {
                return Err(cut_short());
            }
            let id = record_id(&text[i..end], &self.rules.id_field, self.kind);
            return Ok((vec![Entry { span: i..end, id }], end));
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
            let mut id = Err(IdError::Missing);
            if b.get(i) == Some(&b'{') {
                let mut fields = Fields { b, i: i + 1 };
                for (key, value) in fields.by_ref() {
                    if self.is_id_field(&text[key]) {
                        id = another_id(id, scalar_id(&text[value], self.kind));
                    }
                }
                i = fields.i;
                if b.get(i) != Some(&b'}') {
                    return Err(cut_short());
                }
                i += 1;
            } else {
                i = skip_value(b, i);
                if !complete(b, start..i) {
                    return Err(cut_short());
                }
            }
            out.push(Entry { span: start..i, id });
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b',') => i = skip_ws(b, i + 1),
                Some(b']') => return Ok((out, i + 1)),
                _ => return Err(cut_short()),
            }
        }
    }

    /// Whether the quoted key is the rules' id field: as long, quotes aside, or (written
    /// with escapes) at most six times as long.
    fn is_id_field(&self, quoted: &str) -> bool {
        let n = self.rules.id_field.len();
        let maybe = quoted.len() == n + 2
            || (quoted.len() > n + 2 && quoted.len() <= 6 * n + 2 && quoted.contains('\\'));
        maybe && key_equals(quoted, &self.rules.id_field)
    }
}

/// Whether `c` can start a JSON value.
fn starts_json(c: u8) -> bool {
    matches!(
        c,
        b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'
    )
}

/// Whether the value at `range` is whole: a container ends with its closing bracket, a
/// string with its quote.
fn complete(b: &[u8], range: Range<usize>) -> bool {
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

fn cut_short() -> EnvelopeError {
    EnvelopeError::Malformed("the body is cut short or malformed between records".into())
}

/// The body does not start like JSON: malformed (an HTML page, say), unless `serde_json`
/// finds it valid after all.
fn not_json(body: &[u8], rules: &Records) -> EnvelopeError {
    match serde_json::from_slice::<IgnoredAny>(body) {
        Ok(_) => shape(body, rules, "has nothing at"),
        Err(e) => EnvelopeError::Malformed(message_of(&e)),
    }
}

/// The records are not where the rules say: the spec and the vendor disagree, unless the
/// body is not valid JSON after all (then it is malformed, and worth another try).
fn shape(body: &[u8], rules: &Records, what: &str) -> EnvelopeError {
    match serde_json::from_slice::<IgnoredAny>(body) {
        Err(e) => EnvelopeError::Malformed(message_of(&e)),
        Ok(_) => EnvelopeError::Shape(format!(
            "the body {what} `{}`, where the spec puts the records",
            rules.pointer
        )),
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

/// Checks that a record kept as sent is valid JSON (what [`entries`] leaves to the decoding).
///
/// ```
/// use userbatch_core::json::check;
/// assert!(check(r#"{"Id": 1, "x": [true, null]}"#).is_ok());
/// assert!(check(r#"{"Id": 1, "x": tru}"#).is_err());
/// ```
pub fn check(record: &str) -> Result<(), RecordError> {
    serde_json::from_str::<IgnoredAny>(record)
        .map(|_| ())
        .map_err(|e| RecordError {
            path: ".".into(),
            detail: format!("not valid JSON: {}", cut(&message_of(&e))),
        })
}

/// `value` (valid JSON) read as a non-negative integer, e.g. a page total.
pub fn read_u64(valid_json: &str, pointer: &str) -> Option<u64> {
    let range = at_pointer(valid_json, pointer)?;
    valid_json[range].parse().ok()
}

/// Where the value at `pointer` (object keys only) is in `valid_json`, which must be
/// valid JSON (as a [`RawValue`] is), or at least well nested (as a body [`entries`]
/// accepted is); otherwise the answer may be `None` but is never a panic.
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
        Self {
            b,
            i: past_open(b, b'{'),
        }
    }
}

impl Fields<'_> {
    /// The next quoted key, and where its value starts; the caller moves `i` past the value.
    /// `None` at the end, with `i` at the closing `}` (if there is one).
    fn key(&mut self) -> Option<(Range<usize>, usize)> {
        let b = self.b;
        let mut i = skip_ws(b, self.i);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
        if b.get(i) != Some(&b'"') {
            self.i = i;
            return None;
        }
        let key_end = skip_string(b, i);
        let colon = skip_ws(b, key_end);
        if b.get(colon) != Some(&b':') {
            self.i = b.len(); // not an object: stop here.
            return None;
        }
        let value = skip_ws(b, colon + 1);
        self.i = value;
        Some((i..key_end, value))
    }
}

impl Iterator for Fields<'_> {
    type Item = (Range<usize>, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        let (key, value) = self.key()?;
        let end = skip_value(self.b, value);
        self.i = end;
        Some((key, value..end))
    }
}

/// Past the `open` bracket that starts `b` (after whitespace), or the end if `b` does not
/// start with one.
fn past_open(b: &[u8], open: u8) -> usize {
    let i = skip_ws(b, 0);
    if b.get(i) == Some(&open) {
        i + 1
    } else {
        b.len()
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
    loop {
        // Eight bytes at a time: record strings are mostly short, where memchr's setup
        // costs more than it saves.
        while let Some(chunk) = b.get(i..i + 8) {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            let hits = has_byte(word, b'"') | has_byte(word, b'\\');
            if hits != 0 {
                i += (hits.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        match b.get(i) {
            Some(b'"') => return i + 1,
            Some(b'\\') => i += 2,
            Some(_) => i += 1,
            None => return b.len(),
        }
    }
}

/// The high bit of each byte of `word` that equals `byte` (and possibly of bytes after the
/// first such one, which callers ignore: they take the lowest).
fn has_byte(word: u64, byte: u8) -> u64 {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let x = word ^ (LOW * u64::from(byte));
    x.wrapping_sub(LOW) & !x & HIGH
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
fn another_id(
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
fn scalar_id(text: &str, kind: IdKind) -> Result<String, IdError> {
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
    vendor_message_scrubbed(body, pointer, &crate::Scrubber::default())
}

/// [`vendor_message`], with the secrets `scrubber` knows replaced before the text is cut
/// (a secret across the cut would otherwise survive in part).
///
/// ```
/// use userbatch_core::{Scrubber, json::vendor_message_scrubbed};
///
/// let token = "t0k".repeat(100);
/// let body = format!(r#"{{"message": "invalid token '{token}'"}}"#);
/// let message = vendor_message_scrubbed(body.as_bytes(), "/message", &Scrubber::new([&token]));
/// assert_eq!(message.as_deref(), Some("invalid token '<redacted>'"));
/// ```
pub fn vendor_message_scrubbed(
    body: &[u8],
    pointer: &str,
    scrubber: &crate::Scrubber,
) -> Option<String> {
    let root: &RawValue = serde_json::from_slice(body).ok()?;
    let range = at_pointer(root.get(), pointer)?;
    let text: String = serde_json::from_str(&root.get()[range]).ok()?;
    let text = scrubber.scrub(text.trim());
    (!text.is_empty()).then(|| cut(&text))
}

/// The JSON text on one line: a record that holds a line break or a carriage return
/// outside its strings (a vendor that pretty-prints, or ends lines with CRLF) comes back
/// with the white space between its tokens removed, its values, strings and key order as
/// they were; any other text comes back as it is, borrowed. Inside a JSON string a line
/// break is always escaped, so a raw one is never a value's.
///
/// ```
/// use userbatch_core::json::one_line;
///
/// assert_eq!(one_line("{\r\n  \"Id\": 1,\n  \"Name\": \"a b\\n\"\n}"), r#"{"Id":1,"Name":"a b\n"}"#);
/// assert_eq!(one_line(r#"{"Id": 1, "x": [1, 2]}"#), r#"{"Id": 1, "x": [1, 2]}"#);
/// ```
pub fn one_line(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    if memchr::memchr2(b'\n', b'\r', b).is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let end = skip_string(b, i);
                out.push_str(&text[i..end]);
                i = end;
            }
            b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            _ => {
                // Up to the next string or white space, as it is.
                let next = b[i..]
                    .iter()
                    .position(|c| matches!(c, b'"' | b' ' | b'\n' | b'\r' | b'\t'))
                    .map_or(b.len(), |p| i + p);
                out.push_str(&text[i..next]);
                i = next;
            }
        }
    }
    Cow::Owned(out)
}

/// The JSON text with DEL and the C1 control characters (U+0080 to U+009F, among them
/// U+009B, which terminals read as the start of an escape sequence) written as `\u` escapes:
/// the same JSON value, safe to show on a terminal. In valid JSON they can stand only inside
/// strings (C0 controls must already be escaped there). Text without them comes back as it
/// is, borrowed.
///
/// ```
/// use userbatch_core::json::escape_controls;
///
/// assert_eq!(escape_controls("{\"a\":\"x\u{9b}2J\u{7f}\"}"), r#"{"a":"x\u009b2J\u007f"}"#);
/// assert_eq!(escape_controls(r#"{"a":"é"}"#), r#"{"a":"é"}"#);
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    let is_control = |c: char| c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c);
    // DEL is 0x7F; C1 controls are 0xC2 0x80..=0x9F in UTF-8.
    if memchr::memchr2(0x7f, 0xc2, text.as_bytes()).is_none() || !text.contains(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_control(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// What replaces a secret value in [`redact`]ed records.
pub const REDACTED: &str = "\"<redacted>\"";

/// The record with the values at `secrets` (JSON pointers of object keys) replaced by
/// `"<redacted>"`, unless they are `null`; everything else byte for byte as it was. An
/// array on the way stands for each of its elements: `/Keys/Secret` redacts the `Secret`
/// of every object in `Keys`, and `/Pins` on an array of strings redacts each string (the
/// array keeps its length). To redact many records, make one [`Redactor`].
///
/// ```
/// use userbatch_core::json::redact;
///
/// let record = r#"{"Id":1,"Password":"hunter2","Token":null,"Name":"Ada"}"#;
/// assert_eq!(
///     redact(record, &["/Password", "/Token"]),
///     r#"{"Id":1,"Password":"<redacted>","Token":null,"Name":"Ada"}"#
/// );
/// let record = r#"{"Keys":[{"Secret":"a","Name":"k"},{"Secret":null}],"Pins":["1",null]}"#;
/// assert_eq!(
///     redact(record, &["/Keys/Secret", "/Pins"]),
///     r#"{"Keys":[{"Secret":"<redacted>","Name":"k"},{"Secret":null}],"Pins":["<redacted>",null]}"#
/// );
/// ```
pub fn redact<'a, S: AsRef<str>>(record: &'a str, secrets: &[S]) -> Cow<'a, str> {
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
    /// A redactor for these JSON pointers (of object keys; arrays on the way stand for
    /// each element, as in [`redact`]).
    pub fn new<S: AsRef<str>>(secrets: &[S]) -> Self {
        let mut redactor = Self::default();
        for pointer in secrets {
            let mut tokens = pointer_tokens(pointer.as_ref());
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
            // Every pointer through this key: one that ends here redacts the value; the
            // others go on inside it (`/A/x` and `/A/y` both).
            let mut deeper: Vec<String> = Vec::new();
            let mut whole = false;
            for (secret, rest) in candidates.into_iter().flatten() {
                if *secret != *name {
                    continue;
                }
                if rest.is_empty() {
                    whole = true;
                } else {
                    let tokens: Vec<String> = rest
                        .iter()
                        .map(|t| t.replace('~', "~0").replace('/', "~1"))
                        .collect();
                    deeper.push(format!("/{}", tokens.join("/")));
                }
            }
            if whole || !deeper.is_empty() {
                let inside = (!whole).then(|| Redactor::new(&deeper));
                redact_value(
                    &object[value.clone()],
                    base + value.start,
                    inside.as_ref(),
                    spans,
                );
            }
        }
    }
}

/// The spans of the value `text` (at `base`): all of it unless `null` when `inside` is
/// `None`, else what `inside` finds in it. An array stands for each of its elements, so a
/// pointer reaches the secrets of every element of an array of objects, and an array of
/// secret strings keeps its shape with each string redacted.
fn redact_value(text: &str, base: usize, inside: Option<&Redactor>, spans: &mut Vec<Range<usize>>) {
    if text.starts_with('[') {
        for element in Elements::new(text) {
            redact_value(&text[element.clone()], base + element.start, inside, spans);
        }
    } else if let Some(redactor) = inside {
        redactor.collect(text, base, spans);
    } else if text != "null" {
        spans.push(base..base + text.len());
    }
}

/// Where each element of a JSON array (valid JSON) is, in order. Nothing if the text is
/// not an array.
struct Elements<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Elements<'a> {
    fn new(array: &'a str) -> Self {
        let b = array.as_bytes();
        Self {
            b,
            i: past_open(b, b'['),
        }
    }
}

impl Iterator for Elements<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.b;
        let mut i = skip_ws(b, self.i);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
        if i >= b.len() || b[i] == b']' {
            self.i = b.len();
            return None;
        }
        let end = skip_value(b, i);
        self.i = end;
        Some(i..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANY: Records = Records::list("/data", "id");

    fn texts<'a>(body: &'a [u8], list: &[Entry]) -> Vec<&'a str> {
        list.iter()
            .map(|e| std::str::from_utf8(&body[e.span.clone()]).unwrap())
            .collect()
    }

    #[test]
    fn records_are_found_by_pointer_and_kept_verbatim() {
        let body = br#" {"metadata": {"totalCount": 2}, "data": [ {"id":"a", "x": null} ,{"id":"b","y":{"z":[1,"]"]}} ] } "#;
        let list = entries(body, &MANY, IdKind::String).unwrap();
        assert_eq!(
            texts(body, &list),
            [
                r#"{"id":"a", "x": null}"#,
                r#"{"id":"b","y":{"z":[1,"]"]}}"#
            ]
        );
        assert_eq!(list[1].id.as_deref(), Ok("b"));
        assert_eq!(
            read_u64(std::str::from_utf8(body).unwrap(), "/metadata/totalCount"),
            Some(2)
        );
        let one = Records::one("", "id");
        let list = entries(br#"{"id": 5}"#, &one, IdKind::Integer).unwrap();
        assert_eq!(list[0].id.as_deref(), Ok("5"));
        assert!(
            entries(b"[]", &Records::list("", "id"), IdKind::String)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn envelope_errors_tell_syntax_from_shape() {
        let malformed = |body: &[u8]| {
            matches!(
                entries(body, &MANY, IdKind::String),
                Err(EnvelopeError::Malformed(_))
            )
        };
        let shape = |body: &[u8]| {
            matches!(
                entries(body, &MANY, IdKind::String),
                Err(EnvelopeError::Shape(_))
            )
        };
        assert!(malformed(br#"{"data": [{"id": "a"}"#));
        assert!(malformed(br#"{"data": [{"id": "a"},"#));
        assert!(malformed(br#"{"data": [{"id": "a"} {"id": "b"}]}"#));
        assert!(malformed(b"<html></html>"));
        assert!(malformed(b""));
        assert!(malformed(br#"{"data": []} x"#));
        assert!(malformed(br#"{"data": ["a]}"#));
        assert!(malformed(&[b'[', 0xff, b']']));
        assert!(shape(br#"{"data": {"id": "a"}}"#));
        assert!(shape(br#"[1, 2]"#));
        let missing = entries(br#"{"items": []}"#, &MANY, IdKind::String).unwrap_err();
        assert!(missing.to_string().contains("`/data`"), "{missing}");
        assert!(matches!(missing, EnvelopeError::Shape(_)));
        // Bad values inside a record are left to its decoding.
        let list = entries(
            br#"{"data": [{"id": "a", "x": tru}]}"#,
            &MANY,
            IdKind::String,
        )
        .unwrap();
        assert!(check(texts(br#"{"data": [{"id": "a", "x": tru}]}"#, &list)[0]).is_err());
    }

    proptest::proptest! {
        /// On any array of JSON values, the scanner finds what serde_json finds, record for
        /// record and id for id; every cut of it short is malformed; no input panics it.
        #[test]
        fn entries_agree_with_serde(values in proptest::collection::vec(json_object(), 0..6), junk in ".{0,40}") {
            let mut list: Vec<serde_json::Value> = values;
            for (i, v) in list.iter_mut().enumerate() {
                if i % 2 == 0 {
                    v["id"] = serde_json::Value::from(format!("r{i}"));
                }
            }
            let rules = Records::list("", "id");
            for text in [serde_json::to_string(&list).unwrap(), serde_json::to_string_pretty(&list).unwrap()] {
                let found = entries(text.as_bytes(), &rules, IdKind::String).unwrap();
                proptest::prop_assert_eq!(found.len(), list.len());
                for (i, (entry, value)) in found.iter().zip(&list).enumerate() {
                    let parsed: serde_json::Value = serde_json::from_str(&text[entry.span.clone()]).unwrap();
                    proptest::prop_assert_eq!(&parsed, value);
                    let expected = value.get("id").and_then(|v| v.as_str()).map(str::to_owned);
                    proptest::prop_assert_eq!(entry.id.clone().ok(), expected, "record {}", i);
                }
                let bytes = text.as_bytes();
                for cut in 1..text.trim_end().len() {
                    proptest::prop_assert!(
                        entries(&bytes[..cut], &rules, IdKind::String).is_err(),
                        "{:?}",
                        String::from_utf8_lossy(&bytes[..cut])
                    );
                }
            }
            let _ = entries(junk.as_bytes(), &rules, IdKind::String);
            let _ = entries(format!("[{junk}").as_bytes(), &rules, IdKind::String);
            let _ = entries(format!("{{\"data\": [{junk}").as_bytes(), &MANY, IdKind::String);
        }
    }

    #[test]
    fn one_line_keeps_every_value_and_key_as_sent() {
        let pretty = "{\r\n  \"Id\" : 7,\r\n  \"s\": \"a  b\\r\\n\\\"\\u00e9\",\n\t\"n\": [ 1.50, -0e3, null, true ],\n  \"o\": {}\n}\n";
        let compact = one_line(pretty);
        assert_eq!(
            compact,
            r#"{"Id":7,"s":"a  b\r\n\"\u00e9","n":[1.50,-0e3,null,true],"o":{}}"#
        );
        let a: serde_json::Value = serde_json::from_str(pretty).unwrap();
        let b: serde_json::Value = serde_json::from_str(&compact).unwrap();
        assert_eq!(a, b);
        assert!(matches!(one_line("{\"a\": 1}"), Cow::Borrowed(_)));
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
        // An id field twice: one value twice is that id; two values are neither id, in
        // the scanner as in `record_id`.
        let body = br#"[{"Id": 1, "Id": 2}, {"Id": 3, "x": 0, "Id": "03"}, {"Id": 4, "Id": null}]"#;
        let list = entries(body, &Records::list("", "Id"), IdKind::Integer).unwrap();
        let conflict = Err(IdError::Conflicting("1".into(), "2".into()));
        assert_eq!(list[0].id, conflict);
        assert_eq!(id(r#"{"Id": 1, "Id": 2}"#, IdKind::Integer), conflict);
        assert_eq!(list[1].id.as_deref(), Ok("3"));
        assert_eq!(list[2].id, Err(IdError::NotScalar));
        assert_eq!(
            IdError::Conflicting("1".into(), "2".into()).to_string(),
            "the record's id field appears twice, with 1 and 2"
        );
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
        assert!(matches!(redact::<&str>(record, &[]), Cow::Borrowed(_)));
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
        // Two secrets inside one object: both (the first alone once won).
        assert_eq!(
            redact(record, &["/A/S", "/A/T"]),
            r#"{"A":{"S":"<redacted>","T":"<redacted>"},"S":"y"}"#
        );
        // Arrays on the way: every element, at any depth, and nothing else.
        assert_eq!(
            redact(
                r#"{"K":[{"S":"a","N":"x"}, [{"S":"b"}], "c", {"S":null}, []],"S":"y"}"#,
                &["/K/S"]
            ),
            r#"{"K":[{"S":"<redacted>","N":"x"}, [{"S":"<redacted>"}], "c", {"S":null}, []],"S":"y"}"#
        );
        assert_eq!(
            redact(
                r#"{"P":[ "1" , null,{"a":1},["2"]] ,"Q":[]}"#,
                &["/P", "/Q"]
            ),
            r#"{"P":[ "<redacted>" , null,"<redacted>",["<redacted>"]] ,"Q":[]}"#
        );
        // Escaped pointer tokens stay escaped on the way down.
        assert_eq!(
            redact(r#"{"a/b":{"c~d":"x","c":"y"}}"#, &["/a~1b/c~0d"]),
            r#"{"a/b":{"c~d":"<redacted>","c":"y"}}"#
        );
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
            /// Each non-null value redacted, through arrays.
            fn hidden(value: &serde_json::Value) -> serde_json::Value {
                match value {
                    serde_json::Value::Null => serde_json::Value::Null,
                    serde_json::Value::Array(list) => list.iter().map(hidden).collect(),
                    _ => serde_json::Value::from("<redacted>"),
                }
            }
            let mut expected = value.clone();
            for key in object.keys().take(2) {
                expected[key] = hidden(&value[key]);
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
