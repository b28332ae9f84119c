//! What a page states, whatever its format: the [`Facts`] the readers fill in, with the
//! line of each, and what the readers share (JSON examples, status codes, prose limits).

use serde_json::Value;

/// A statement of a page, with the line it is on.
#[derive(Debug, Clone)]
pub(super) struct Fact<T> {
    pub(super) line: usize,
    pub(super) value: T,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Param {
    /// `path`, `query`, `header`, `body`, if the page says.
    pub(super) location: Option<String>,
    pub(super) name: String,
    pub(super) ty: Option<String>,
    pub(super) required: Option<bool>,
    /// `Enum:` values.
    pub(super) values: Vec<String>,
    pub(super) default: Option<String>,
    /// `<= N characters`.
    pub(super) max_chars: Option<u64>,
    /// Lists of "available values", by their label ("If multiple user IDs provided").
    pub(super) available: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone)]
pub(super) struct Field {
    pub(super) name: String,
    pub(super) ty: Option<String>,
}

/// Everything read from one page.
#[derive(Debug, Default)]
pub(super) struct Facts {
    pub(super) endpoint: Option<Fact<(String, String)>>,
    pub(super) params: Vec<Fact<Param>>,
    pub(super) body_fields: Vec<Fact<Field>>,
    pub(super) fields: Vec<Fact<Field>>,
    pub(super) example: Option<Fact<Value>>,
    pub(super) unpopulated: Option<Fact<Vec<String>>>,
    pub(super) max_ids: Option<Fact<u64>>,
    pub(super) statuses: Vec<Fact<String>>,
}

/// Limits and partial-record lists stated in prose, in any format.
pub(super) fn read_prose(lines: &[&str], facts: &mut Facts) {
    for (i, line) in lines.iter().enumerate() {
        let lower = line.to_lowercase();
        if let Some(at) = lower.find("a maximum of ")
            && facts.max_ids.is_none()
        {
            let rest = &lower[at + "a maximum of ".len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if rest[digits.len()..].trim_start().starts_with("id")
                && let Ok(n) = digits.parse()
            {
                facts.max_ids = Some(Fact {
                    line: i + 1,
                    value: n,
                });
            }
        }
        if lower.contains("not populated") && facts.unpopulated.is_none() {
            let names = if line.contains('`') {
                line.split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_owned)
                    .collect()
            } else {
                let after = line.split_once("response:").map_or("", |(_, rest)| rest);
                let list = after.split_once('.').map_or(after, |(list, _)| list);
                list.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            };
            facts.unpopulated = Some(Fact {
                line: i + 1,
                value: names,
            });
        }
    }
}

/// The first JSON value that starts at or after `lines[from]` (comments `//` dropped).
pub(super) fn json_after(lines: &[&str], from: usize) -> Option<Fact<Value>> {
    let start = (from..lines.len()).find(|&i| {
        let t = lines[i].trim_start();
        t.starts_with('{') || t.starts_with('[')
    })?;
    let text: String = lines[start..]
        .iter()
        .map(|l| strip_comment(l))
        .collect::<Vec<_>>()
        .join("\n");
    let mut stream = serde_json::Deserializer::from_str(&text).into_iter::<Value>();
    let value = stream.next()?.ok()?;
    Some(Fact {
        line: start + 1,
        value,
    })
}

/// A line without its `// comment` (outside strings).
fn strip_comment(line: &str) -> String {
    let mut in_string = false;
    let mut escaped = false;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return line[..i].to_owned(),
            _ => {}
        }
    }
    line.to_owned()
}

/// A status code (`200`) or class (`4XX`) as a page writes it.
pub(super) fn is_status(text: &str) -> bool {
    let t = text.trim();
    t.len() == 3
        && t.chars().next().is_some_and(|c| ('1'..='5').contains(&c))
        && t[1..]
            .chars()
            .all(|c| c.is_ascii_digit() || c == 'X' || c == 'x')
}
