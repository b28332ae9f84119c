//! A fast test that a record is valid JSON, for records kept as the vendor sent them.
//!
//! `serde_json` stays the judge: [`surely_valid`] answers `true` only for text that
//! `serde_json` reads as one valid value, and `false` for anything else, including what it
//! is not built to judge (nesting deeper than [`MAX_DEPTH`]); [`check`](super::check)
//! then asks `serde_json`, which also words the error.

use std::ops::Range;

use super::scan::{skip_ws, to_quote_or_escape};

/// Nesting the fast test follows; deeper text goes to `serde_json`.
const MAX_DEPTH: u32 = 64;

/// Whether `text` is surely one JSON value, white space around it allowed, as
/// `serde_json::from_str::<IgnoredAny>` reads it (which has no nesting limit, and does not
/// check `\u` escapes beyond their four hex digits). `false`: not valid, or not judged.
pub(super) fn surely_valid(text: &str) -> bool {
    let b = text.as_bytes();
    value_end(b, skip_ws(b, 0)).is_some_and(|end| skip_ws(b, end) == b.len())
}

/// Past the value that starts at `i`, if it is surely valid (see [`surely_valid`]).
pub(super) fn value_end(b: &[u8], mut i: usize) -> Option<usize> {
    // One bit per open container, the innermost lowest: 1 an object, 0 an array.
    let mut stack: u64 = 0;
    let mut depth = 0u32;
    loop {
        // A value starts at `i`.
        let mut at = match *b.get(i)? {
            b'"' => string(b, i)?.0,
            b'-' | b'0'..=b'9' => number(b, i)?,
            b't' => literal(b, i, b"true")?,
            b'f' => literal(b, i, b"false")?,
            b'n' => literal(b, i, b"null")?,
            open @ (b'{' | b'[') => {
                let inner = skip_ws(b, i + 1);
                let close = if open == b'{' { b'}' } else { b']' };
                if b.get(inner) == Some(&close) {
                    inner + 1
                } else {
                    if depth == MAX_DEPTH {
                        return None;
                    }
                    depth += 1;
                    stack = stack << 1 | u64::from(open == b'{');
                    i = if open == b'{' {
                        key(b, inner)?.2
                    } else {
                        inner
                    };
                    continue;
                }
            }
            _ => return None,
        };
        // After a value: the end, a comma and the next, or the end of its containers.
        loop {
            if depth == 0 {
                return Some(at);
            }
            at = skip_ws(b, at);
            let object = stack & 1 == 1;
            match b.get(at) {
                Some(b',') => {
                    let next = skip_ws(b, at + 1);
                    i = if object { key(b, next)?.2 } else { next };
                    break;
                }
                Some(b'}') if object => {}
                Some(b']') if !object => {}
                _ => return None,
            }
            at += 1;
            stack >>= 1;
            depth -= 1;
        }
    }
}

/// Each member of the object that opens at `i`, in order (its quoted key, whether the key
/// holds an escape, its value), if the object is surely valid: then where the object ends.
/// `None`: not surely valid, and the members given so far may not be the object's.
pub(super) fn members(
    b: &[u8],
    i: usize,
    mut member: impl FnMut(Range<usize>, bool, Range<usize>),
) -> Option<usize> {
    let mut at = skip_ws(b, i + 1);
    if b.get(at) == Some(&b'}') {
        return Some(at + 1);
    }
    loop {
        let (key_end, escaped, start) = key(b, at)?;
        let end = value_end(b, start)?;
        member(at..key_end, escaped, start..end);
        at = skip_ws(b, end);
        match b.get(at) {
            Some(b',') => at = skip_ws(b, at + 1),
            Some(b'}') => return Some(at + 1),
            _ => return None,
        }
    }
}

/// The member whose key starts at `i`: where the key ends, whether it holds an escape, and
/// where the value starts (past white space, the colon and white space).
fn key(b: &[u8], i: usize) -> Option<(usize, bool, usize)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let (end, escaped) = string(b, i)?;
    let colon = skip_ws(b, end);
    (b.get(colon) == Some(&b':')).then(|| (end, escaped, skip_ws(b, colon + 1)))
}

/// Past the string that opens at `i`, if it is valid (closed, no control character, each
/// escape one JSON has), and whether it holds an escape.
fn string(b: &[u8], mut i: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    i += 1;
    loop {
        i = to_quote_or_escape(b, i, true);
        match *b.get(i)? {
            b'"' => return Some((i + 1, escaped)),
            b'\\' => {
                escaped = true;
                match *b.get(i + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                    b'u' if b.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => i += 6,
                    _ => return None,
                }
            }
            c if c < 0x20 => return None,
            _ => i += 1,
        }
    }
}

/// Past the number at `i`, if it is one as JSON writes them: `-`, then `0` or digits not
/// starting with `0`, then perhaps a fraction and an exponent, each with digits.
fn number(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |mut i: usize| {
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i > start).then_some(i)
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    i = match b.get(i)? {
        b'0' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => return None,
        b'0' => i + 1,
        _ => digits(i)?,
    };
    if b.get(i) == Some(&b'.') {
        i = digits(i + 1)?;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(i)?;
    }
    Some(i)
}

/// Past `word` at `i`, if it is there.
fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    (b.get(i..i + word.len())? == word).then_some(i + word.len())
}
