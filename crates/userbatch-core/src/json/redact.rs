//! Redacting secret fields out of a record's JSON text.

use super::decode::{RecordError, check};
use super::scan::pointer_tokens;
use super::scan::{Elements, Fields, skip_ws};
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
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
        replaced(record, &spans)
    }

    /// [`redact`](Self::redact), owned: `None` when nothing was replaced.
    pub fn redacted(&self, record: &str) -> Option<String> {
        match self.redact(record) {
            Cow::Borrowed(_) => None,
            Cow::Owned(text) => Some(text),
        }
    }

    /// [`check`] and [`redact`](Self::redact) in one pass: the record checked to be valid
    /// JSON (by `serde_json`, which hands over each top-level key and where its value is),
    /// and its secrets' values replaced. `Ok(None)`: valid, and nothing to replace (the
    /// record is written as it is); `Ok(Some(text))`: valid, with secrets replaced.
    ///
    /// ```
    /// use userbatch_core::json::Redactor;
    ///
    /// let redactor = Redactor::new(&["/Token"]);
    /// let record = r#"{"Id":1,"Token":"t0k","Name":"Ada"}"#;
    /// assert_eq!(
    ///     redactor.check(record).unwrap().as_deref(),
    ///     Some(r#"{"Id":1,"Token":"<redacted>","Name":"Ada"}"#)
    /// );
    /// assert_eq!(redactor.check(r#"{"Id":1,"Token":null}"#).unwrap(), None);
    /// assert!(redactor.check(r#"{"Id":1,"Token":"t0k",}"#).is_err());
    /// ```
    pub fn check(&self, record: &str) -> Result<Option<String>, RecordError> {
        let object = record.as_bytes().get(skip_ws(record.as_bytes(), 0)) == Some(&b'{');
        if self.by_len.is_empty() || !object {
            return check(record).map(|()| None);
        }
        let mut spans = Vec::new();
        let mut de = serde_json::Deserializer::from_str(record);
        de::Deserializer::deserialize_map(
            &mut de,
            TopLevel {
                redactor: self,
                record,
                spans: &mut spans,
            },
        )
        .and_then(|()| de.end())
        .map_err(|e| RecordError::not_json(&e))?;
        Ok(match replaced(record, &spans) {
            Cow::Borrowed(_) => None,
            Cow::Owned(text) => Some(text),
        })
    }

    /// What the pointers through a key ask of its value, if any goes through it.
    fn through(&self, name: &str) -> Option<Through> {
        let candidates = self.by_len.get(name.len())?;
        let mut deeper: Vec<String> = Vec::new();
        let mut whole = false;
        for (secret, rest) in candidates {
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
        if whole {
            Some(Through::Whole)
        } else if deeper.is_empty() {
            None
        } else {
            Some(Through::Inside(Redactor::new(&deeper)))
        }
    }

    /// Spans (offset by `base`) of the non-null secret values in `object`, in order.
    pub(super) fn collect(&self, object: &str, base: usize, spans: &mut Vec<Range<usize>>) {
        for (key, value) in Fields::new(object) {
            let inner = &object[key.start + 1..key.end - 1];
            // An escaped key may be shorter once unescaped: look it up by its real text.
            let name = if inner.contains('\\') {
                let Ok(name) = serde_json::from_str::<String>(&object[key.clone()]) else {
                    continue;
                };
                Cow::Owned(name)
            } else {
                Cow::Borrowed(inner)
            };
            if let Some(through) = self.through(&name) {
                redact_value(
                    &object[value.clone()],
                    base + value.start,
                    through.inside(),
                    spans,
                );
            }
        }
    }
}

/// What the pointers through a key ask of its value.
enum Through {
    /// One ends at the key: the whole value is redacted.
    Whole,
    /// They go on inside it (`/A/x` and `/A/y` through `A`).
    Inside(Redactor),
}

impl Through {
    /// The redactor for inside the value; `None`: the whole value.
    fn inside(&self) -> Option<&Redactor> {
        match self {
            Through::Whole => None,
            Through::Inside(redactor) => Some(redactor),
        }
    }
}

/// `record` with each of `spans` (in order) replaced by [`REDACTED`]; borrowed if none.
fn replaced<'a>(record: &'a str, spans: &[Range<usize>]) -> Cow<'a, str> {
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

/// The top-level object of a record, as `serde_json` reads (and validates) it: each key
/// looked up among the secrets, a value no pointer goes through skipped (and validated), a
/// secret's taken as the raw text it is, to find its span.
struct TopLevel<'r, 's> {
    redactor: &'r Redactor,
    record: &'s str,
    spans: &'r mut Vec<Range<usize>>,
}

impl<'de> Visitor<'de> for TopLevel<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(name)) = map.next_key()? {
            match self.redactor.through(&name) {
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
                Some(through) => {
                    let value: &'de RawValue = map.next_value()?;
                    let text = value.get();
                    // Where the value is in the record (it is a slice of it).
                    let base = text.as_ptr() as usize - self.record.as_ptr() as usize;
                    redact_value(text, base, through.inside(), self.spans);
                }
            }
        }
        Ok(())
    }
}

/// An object key: borrowed from the record unless it had escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The spans of the value `text` (at `base`): all of it unless `null` when `inside` is
/// `None`, else what `inside` finds in it. An array stands for each of its elements, so a
/// pointer reaches the secrets of every element of an array of objects, and an array of
/// secret strings keeps its shape with each string redacted.
///
/// Arrays nested more than [`MAX_ARRAY_DEPTH`] deep are redacted whole, secrets or not: a
/// vendor's hundred thousand nested brackets must neither overflow the stack nor cost a
/// walk of the rest of the value per level.
pub(super) fn redact_value(
    text: &str,
    base: usize,
    inside: Option<&Redactor>,
    spans: &mut Vec<Range<usize>>,
) {
    redact_nested(text, base, inside, spans, 0);
}

/// How deep arrays on the way to a secret are followed (`serde_json` refuses to decode
/// values nested deeper than 128).
const MAX_ARRAY_DEPTH: usize = 64;

fn redact_nested(
    text: &str,
    base: usize,
    inside: Option<&Redactor>,
    spans: &mut Vec<Range<usize>>,
    depth: usize,
) {
    if text.starts_with('[') {
        if depth >= MAX_ARRAY_DEPTH {
            spans.push(base..base + text.len());
            return;
        }
        for element in Elements::new(text) {
            let at = base + element.start;
            redact_nested(&text[element], at, inside, spans, depth + 1);
        }
    } else if let Some(redactor) = inside {
        redactor.collect(text, base, spans);
    } else if text != "null" {
        spans.push(base..base + text.len());
    }
}
