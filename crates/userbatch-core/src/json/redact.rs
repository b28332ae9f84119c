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
    /// By key length: each key's first eight bytes ([`prefix`]), to tell most other keys
    /// from it without comparing them whole.
    prefixes: Vec<Vec<u64>>,
    /// The length of the shortest key.
    shortest: usize,
    /// How many pointers it has.
    pointers: usize,
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
            if redactor.by_len.is_empty() || key.len() < redactor.shortest {
                redactor.shortest = key.len();
            }
            if redactor.by_len.len() <= key.len() {
                redactor.by_len.resize(key.len() + 1, Vec::new());
                redactor.prefixes.resize(key.len() + 1, Vec::new());
            }
            redactor.prefixes[key.len()].push(prefix(key.as_bytes()));
            redactor.pointers += 1;
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
        let mut fields = Fields::new(object);
        while let Some((key, value)) = fields.next() {
            let key = &object[key];
            if self.may_be_secret(key, fields.escaped) {
                let at = base + value.start;
                self.field(key, fields.escaped, &object[value], at, spans);
            }
        }
    }

    /// Whether the quoted key (`escaped`: written with escapes) may lead to a secret: a
    /// cheap test for every key of every record, where most are no secret's.
    #[inline]
    pub(super) fn may_be_secret(&self, quoted: &str, escaped: bool) -> bool {
        let inner = &quoted.as_bytes()[1..quoted.len() - 1];
        if escaped {
            // Perhaps shorter once unescaped; never longer.
            return inner.len() >= self.shortest && !self.by_len.is_empty();
        }
        self.prefixes.get(inner.len()).is_some_and(|prefixes| {
            let first = prefix(inner);
            prefixes.contains(&first)
        })
    }

    /// Spans (`base` is where `value` starts) of the non-null secret values in the value of
    /// the field whose quoted key is `quoted` (worth asking when
    /// [`may_be_secret`](Self::may_be_secret)).
    pub(super) fn field(
        &self,
        quoted: &str,
        escaped: bool,
        value: &str,
        base: usize,
        spans: &mut Vec<Range<usize>>,
    ) {
        let inner = &quoted[1..quoted.len() - 1];
        // An escaped key may be shorter once unescaped: look it up by its real text.
        let name = if escaped {
            let Ok(name) = serde_json::from_str::<String>(quoted) else {
                return;
            };
            Cow::Owned(name)
        } else {
            Cow::Borrowed(inner)
        };
        if let Some(through) = self.through(&name) {
            // Room for a value at each pointer at once: one allocation a record.
            if spans.capacity() == 0 {
                spans.reserve(self.pointers);
            }
            redact_value(value, base, through.inside(), spans);
        }
    }
}

/// The first eight bytes of `key` (zeros after a shorter one), as a number.
fn prefix(key: &[u8]) -> u64 {
    if let Some(first) = key.first_chunk::<8>() {
        return u64::from_le_bytes(*first);
    }
    let mut bytes = [0u8; 8];
    for (to, from) in bytes.iter_mut().zip(key) {
        *to = *from;
    }
    u64::from_le_bytes(bytes)
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
pub(crate) fn replaced<'a>(record: &'a str, spans: &[Range<usize>]) -> Cow<'a, str> {
    if spans.is_empty() {
        return Cow::Borrowed(record);
    }
    let mut out = String::with_capacity(record.len());
    out.extend(replaced_parts(record, spans));
    Cow::Owned(out)
}

/// [`replaced`] in pieces: the text between `spans` (in order), and [`REDACTED`] for each.
pub(crate) fn replaced_parts<'a>(
    record: &'a str,
    spans: &'a [Range<usize>],
) -> impl Iterator<Item = &'a str> {
    let starts = std::iter::once(0).chain(spans.iter().map(|s| s.end));
    let ends = spans
        .iter()
        .map(|s| s.start)
        .chain(std::iter::once(record.len()));
    let between = starts.zip(ends).map(|(start, end)| &record[start..end]);
    // Each piece of text, then REDACTED but after the last.
    between
        .zip(spans.iter().map(|_| REDACTED).chain(std::iter::once("")))
        .flat_map(|(text, secret)| [text, secret])
        .filter(|part| !part.is_empty())
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
