//! Text exports of rendered reference pages (User Manager's, or a Nexudus page copied from
//! the browser): `<place> Parameters` blocks of name, `required`, type line, `Enum:`,
//! `Default:` and available values; the status codes under `Responses`; the operation line
//! (`get/users/{ids}`) and the example response.

use super::page::{Fact, Facts, Param, is_status, json_after};

/// The facts of a text export.
pub(super) fn read(lines: &[&str]) -> Facts {
    let mut facts = Facts::default();
    let mut location: Option<String> = None;
    let mut in_statuses = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        let lower = line.to_lowercase();
        if let Some(place) = lower.strip_suffix(" parameters") {
            location = match place {
                "path" | "url" => Some("path".to_owned()),
                "query" => Some("query".to_owned()),
                "header" => Some("header".to_owned()),
                _ => None,
            };
            in_statuses = false;
            i += 1;
            continue;
        }
        if lower == "responses" || lower == "response" {
            location = None;
            in_statuses = true;
            i += 1;
            continue;
        }
        if in_statuses && is_status(line) {
            facts.statuses.push(Fact {
                line: i + 1,
                value: line.to_owned(),
            });
        }
        if lower == "example response" || lower == "response samples" {
            if facts.example.is_none() {
                facts.example = json_after(lines, i + 1);
            }
            in_statuses = false;
        }
        if let Some((method, path)) = endpoint_line(line) {
            facts.endpoint = Some(Fact {
                line: i + 1,
                value: (method, path),
            });
            in_statuses = false;
        }
        if let Some(loc) = &location
            && is_param_name(line)
        {
            // A parameter block: its name, then "required" and/or its type line.
            let next: Vec<(usize, &str)> = (i + 1..lines.len())
                .map(|j| (j, lines[j].trim()))
                .filter(|(_, l)| !l.is_empty())
                .take(2)
                .collect();
            let starts = next
                .first()
                .is_some_and(|(_, l)| *l == "required" || is_type_line(l));
            if starts {
                let start = i;
                let mut param = Param {
                    location: Some(loc.clone()),
                    name: line.to_owned(),
                    required: Some(false),
                    ..Param::default()
                };
                let mut j = i + 1;
                while j < lines.len() {
                    let l = lines[j].trim();
                    if is_heading(l) || endpoint_line(l).is_some() {
                        break;
                    }
                    if is_param_name(l) && j > i + 1 {
                        let after: Vec<&str> = (j + 1..lines.len())
                            .map(|k| lines[k].trim())
                            .filter(|l| !l.is_empty())
                            .take(1)
                            .collect();
                        if after
                            .first()
                            .is_some_and(|a| *a == "required" || is_type_line(a))
                        {
                            break;
                        }
                    }
                    if l == "required" {
                        param.required = Some(true);
                    } else if is_type_line(l) && param.ty.is_none() {
                        let mut words = l.split_whitespace();
                        param.ty = words.next().map(str::to_owned);
                        if let Some(at) = l.find("<=") {
                            let n: String = l[at + 2..]
                                .trim_start()
                                .chars()
                                .take_while(char::is_ascii_digit)
                                .collect();
                            param.max_chars = n.parse().ok();
                        }
                    } else if let Some(rest) = l.strip_prefix("Enum:") {
                        param.values = quoted(rest);
                    } else if let Some(rest) = l.strip_prefix("Default:") {
                        param.default = Some(rest.trim().to_owned());
                    } else if let Some(rest) = l.strip_prefix("Available values:") {
                        param.available.push((String::new(), split_list(rest)));
                    } else if let Some((label, rest)) = l
                        .trim_start_matches(['•', '-', '*', ' '])
                        .split_once(" provided:")
                    {
                        param
                            .available
                            .push((label.trim().to_owned(), split_list(rest)));
                    }
                    j += 1;
                }
                facts.params.push(Fact {
                    line: start + 1,
                    value: param,
                });
                i = j;
                continue;
            }
        }
        i += 1;
    }
    facts
}

const TYPE_WORDS: &[&str] = &[
    "string", "integer", "boolean", "bool", "number", "array", "object",
];

fn is_type_line(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    let base = first.trim_end_matches("[]");
    TYPE_WORDS.contains(&base)
}

fn is_param_name(line: &str) -> bool {
    !line.is_empty()
        && line.len() <= 64
        && !line.contains(' ')
        && line
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "$-_.".contains(c))
        && !TYPE_WORDS.contains(&line)
        && line != "required"
}

/// Values quoted in an `Enum: "a" "b"` line.
fn quoted(line: &str) -> Vec<String> {
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// A heading of a text export: where a parameter block ends.
fn is_heading(line: &str) -> bool {
    let l = line.to_lowercase();
    l.ends_with(" parameters")
        || [
            "response",
            "responses",
            "code examples",
            "example response",
            "request samples",
            "response samples",
            "request body",
        ]
        .contains(&l.as_str())
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().trim_matches('`').trim_end_matches('.').to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `get/users/{ids}` (a text export's operation line).
fn endpoint_line(line: &str) -> Option<(String, String)> {
    for method in ["get", "post", "put", "patch", "delete"] {
        if let Some(path) = line.strip_prefix(method)
            && path.starts_with('/')
            && !path.contains(' ')
        {
            return Some((method.to_owned(), path.to_owned()));
        }
    }
    None
}
