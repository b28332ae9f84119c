//! The scanner's primitives: skipping JSON values, strings and whitespace without
//! parsing them, and finding a field or a pointer's value in valid JSON.

use std::borrow::Cow;
use std::ops::Range;

/// `value` (valid JSON) read as a non-negative integer, e.g. a page total.
pub fn read_u64(valid_json: &str, pointer: &str) -> Option<u64> {
    let range = at_pointer(valid_json, pointer)?;
    valid_json[range].parse().ok()
}

/// Where the value at `pointer` (object keys only) is in `valid_json`, which must be
/// valid JSON (as a [`RawValue`](serde_json::value::RawValue) is), or at least well nested (as a body [`entries`](crate::json::entries)
/// accepted is); otherwise the answer may be `None` but is never a panic.
pub fn at_pointer(valid_json: &str, pointer: &str) -> Option<Range<usize>> {
    let mut range = trim(valid_json, 0..valid_json.len());
    for token in pointer_tokens(pointer) {
        let inner = field(&valid_json[range.clone()], &token)?;
        range = range.start + inner.start..range.start + inner.end;
    }
    Some(range)
}

pub(super) fn trim(text: &str, range: Range<usize>) -> Range<usize> {
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
pub(super) struct Fields<'a> {
    pub(super) b: &'a [u8],
    pub(super) i: usize,
    /// Whether the last key holds an escape.
    pub(super) escaped: bool,
}

impl<'a> Fields<'a> {
    pub(super) fn new(object: &'a str) -> Self {
        let b = object.as_bytes();
        Self::at(b, past_open(b, b'{'))
    }

    /// The fields from `i`, just past an object's `{`.
    pub(super) fn at(b: &'a [u8], i: usize) -> Self {
        Self {
            b,
            i,
            escaped: false,
        }
    }
}

impl Fields<'_> {
    /// The next quoted key, and where its value starts; the caller moves `i` past the value.
    /// `None` at the end, with `i` at the closing `}` (if there is one).
    pub(super) fn key(&mut self) -> Option<(Range<usize>, usize)> {
        let b = self.b;
        let mut i = skip_ws(b, self.i);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
        if b.get(i) != Some(&b'"') {
            self.i = i;
            return None;
        }
        let (key_end, escaped) = skip_string_escapes(b, i);
        self.escaped = escaped;
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
pub(super) fn past_open(b: &[u8], open: u8) -> usize {
    let i = skip_ws(b, 0);
    if b.get(i) == Some(&open) {
        i + 1
    } else {
        b.len()
    }
}

/// Whether the quoted JSON string `quoted` is `key`.
pub(super) fn key_equals(quoted: &str, key: &str) -> bool {
    let inner = &quoted[1..quoted.len() - 1];
    if inner.contains('\\') {
        serde_json::from_str::<Cow<'_, str>>(quoted).is_ok_and(|k| k == key)
    } else {
        inner == key
    }
}

pub(super) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// Past the string that opens at `i`.
pub(super) fn skip_string(b: &[u8], i: usize) -> usize {
    skip_string_escapes(b, i).0
}

/// Past the string that opens at `i`, and whether it holds an escape.
pub(super) fn skip_string_escapes(b: &[u8], mut i: usize) -> (usize, bool) {
    let mut escaped = false;
    i += 1;
    loop {
        i = to_quote_or_escape(b, i, false);
        match b.get(i) {
            Some(b'"') => return (i + 1, escaped),
            Some(b'\\') => {
                escaped = true;
                i += 2;
            }
            Some(_) => i += 1,
            None => return (b.len(), escaped),
        }
    }
}

/// From `i` in a string, the first quote or backslash (or, with `controls`, control
/// character), or where eight-byte steps stop short of the end: the caller looks at the
/// byte there.
///
/// Eight bytes at a time: record strings are mostly short, where memchr's setup costs more
/// than it saves.
pub(super) fn to_quote_or_escape(b: &[u8], mut i: usize, controls: bool) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let mut hits = has_byte(word, b'"') | has_byte(word, b'\\');
        if controls {
            hits |= below_space(word);
        }
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i
}

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that equals `byte` (and possibly of bytes after the
/// first such one, which callers ignore: they take the lowest).
fn has_byte(word: u64, byte: u8) -> u64 {
    let x = word ^ (LOW * u64::from(byte));
    x.wrapping_sub(LOW) & !x & HIGH
}

/// The high bit of each byte of `word` below 0x20 (and perhaps of bytes after the first
/// such one, which callers ignore). Bytes of 0x80 and up are never marked.
fn below_space(word: u64) -> u64 {
    word.wrapping_sub(LOW * 0x20) & !word & HIGH
}

/// Past the value that starts at `i`.
pub(super) fn skip_value(b: &[u8], mut i: usize) -> usize {
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

/// Where each element of a JSON array (valid JSON) is, in order. Nothing if the text is
/// not an array.
pub(super) struct Elements<'a> {
    pub(super) b: &'a [u8],
    pub(super) i: usize,
}

impl<'a> Elements<'a> {
    pub(super) fn new(array: &'a str) -> Self {
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
        if end == i {
            // Not a value (`[}` in a record that is not JSON): no element, and no loop.
            self.i = b.len();
            return None;
        }
        self.i = end;
        Some(i..end)
    }
}

/// The tokens of an RFC 6901 pointer (`""` is the whole document).
pub(super) fn pointer_tokens(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}
