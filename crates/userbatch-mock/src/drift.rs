//! Drift: records that depart from the spec the way real vendors' do.

use std::collections::HashSet;

/// How one vendor's records depart from its spec, every time (unlike [`crate::faults::Faults`],
/// which hit requests at random). A vendor that follows its docs but not every assumption
/// in our specs looks like this.
///
/// ```
/// use userbatch_mock::{Drift, MockConfig, Vendor};
///
/// let config = MockConfig::new()
///     .drift(Vendor::Nexudus, Drift {
///         unknown_fields: true,
///         ..Drift::default()
///     }
///     .replace("InvalidLoginAttempts", ["7"], serde_json::json!("3")))
///     .drift(Vendor::Usermgr, Drift { integer_ids: true, ..Drift::default() });
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Drift {
    /// Every record also carries fields no spec knows: `"AddedLastWeek"` (an object) and
    /// `"UnknownNull": null`, last.
    pub unknown_fields: bool,
    /// In the records of these ids, this field has this value instead (e.g. a string where
    /// the spec says integer).
    pub replacements: Vec<Replacement>,
    /// Ids made of digits are sent as JSON integers (where the spec says strings).
    pub integer_ids: bool,
    /// Every answer carries other ids' records instead of those asked for, as from a vendor
    /// that does not understand the id filter.
    pub ignore_filter: bool,
    /// Success bodies are pretty-printed (a line per value, indented), as by
    /// `json.dumps(indent=2)`: records span several lines.
    pub pretty: bool,
    /// Success bodies are pretty-printed with CRLF line endings.
    pub crlf: bool,
}

/// `body` (JSON) pretty-printed: a line per value, two spaces a level, lines ending with
/// `newline`; strings as they were.
pub(crate) fn pretty(body: &[u8], newline: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() * 2);
    let mut depth = 0usize;
    let line = |out: &mut Vec<u8>, depth: usize| {
        out.extend_from_slice(newline.as_bytes());
        out.extend(std::iter::repeat_n(b' ', 2 * depth));
    };
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < body.len() && body[i] != b'"' {
                    i += if body[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(body.len());
                out.extend_from_slice(&body[start..i]);
                continue;
            }
            c @ (b'{' | b'[') => {
                out.push(c);
                depth += 1;
                line(&mut out, depth);
            }
            c @ (b'}' | b']') => {
                depth = depth.saturating_sub(1);
                line(&mut out, depth);
                out.push(c);
            }
            b',' => {
                out.push(b',');
                line(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            c => out.push(c),
        }
        i += 1;
    }
    out.extend_from_slice(newline.as_bytes());
    out
}

/// One field replaced in some records (see [`Drift::replace`]).
#[derive(Debug, Clone)]
pub struct Replacement {
    /// The field (top level of the record).
    pub field: String,
    /// The ids whose records carry the replacement.
    pub ids: HashSet<String>,
    /// The value sent instead.
    pub value: serde_json::Value,
}

impl Drift {
    /// Also sends `value` as `field` in the records of `ids`.
    pub fn replace<I, S>(mut self, field: &str, ids: I, value: serde_json::Value) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.replacements.push(Replacement {
            field: field.to_owned(),
            ids: ids.into_iter().map(Into::into).collect(),
            value,
        });
        self
    }

    /// The replacements in the record of `id`.
    pub(crate) fn replacements_for(&self, id: &str) -> Vec<(&str, &serde_json::Value)> {
        self.replacements
            .iter()
            .filter(|r| r.ids.contains(id))
            .map(|r| (r.field.as_str(), &r.value))
            .collect()
    }
}

/// An id that was not asked for, derived from one that was: the same kind of id.
pub(crate) fn other_id(id: &str) -> String {
    match id.parse::<i64>() {
        Ok(n) if id.bytes().all(|b| b.is_ascii_digit()) => {
            n.checked_add(1_000_000_000).unwrap_or(n / 2).to_string()
        }
        _ => format!("{id}-other"),
    }
}

/// Which ids an answer carries records for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answering {
    /// Those asked for (that exist).
    Asked,
    /// Others, one per id asked for.
    Others,
    /// Those asked for and two more.
    AskedAndOthers,
}

impl Answering {
    /// The ids to answer with: `asked` (unique, in order) as this says, `exists` filtering
    /// the asked ones.
    pub(crate) fn ids(self, asked: &[String], exists: impl Fn(&str) -> bool) -> Vec<String> {
        let found = || asked.iter().filter(|id| exists(id)).cloned();
        match self {
            Self::Asked => found().collect(),
            Self::Others => asked.iter().map(|id| other_id(id)).collect(),
            Self::AskedAndOthers => {
                let first = asked.first().map(|id| other_id(id)).unwrap_or_default();
                let second = other_id(&first);
                found().chain([first, second]).collect()
            }
        }
    }
}
