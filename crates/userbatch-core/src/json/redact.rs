//! Redacting secret fields out of a record's JSON text.

use super::scan::pointer_tokens;
use super::scan::{Elements, Fields};
use std::borrow::Cow;
use std::ops::Range;

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
    pub(super) fn collect(&self, object: &str, base: usize, spans: &mut Vec<Range<usize>>) {
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
pub(super) fn redact_value(
    text: &str,
    base: usize,
    inside: Option<&Redactor>,
    spans: &mut Vec<Range<usize>>,
) {
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
