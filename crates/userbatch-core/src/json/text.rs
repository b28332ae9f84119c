//! Vendor text carried into errors: its message, on one line, without control
//! characters, cut to [`MAX_DETAIL_CHARS`].

use super::scan::{at_pointer, skip_string};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Longest vendor text (an error message, a decode detail) carried into an error, in
/// characters; longer text is cut and ends with `…`.
pub const MAX_DETAIL_CHARS: usize = 200;

/// A `serde_json` error's message without its ` at line L column C` suffix.
pub(super) fn message_of(e: &serde_json::Error) -> String {
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
    vendor_message_scrubbed(body, pointer, &crate::scrub::Scrubber::default())
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
    scrubber: &crate::scrub::Scrubber,
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
    if !has_line_break(text) {
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

/// Whether the text holds a line break or a carriage return (what [`one_line`] takes out
/// of JSON).
pub fn has_line_break(text: &str) -> bool {
    memchr::memchr2(b'\n', b'\r', text.as_bytes()).is_some()
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
