//! Markdown pages with `<ParamField>` / `<ResponseField>` tags (Mintlify, as Nexudus
//! publishes its pages): parameters, response fields, statuses under `## Response`, and the
//! `Example Response` JSON block.

use std::collections::{BTreeMap, BTreeSet};

use super::page::{Fact, Facts, Field, Param, is_status, json_after};

/// The facts of a Mintlify page.
pub(super) fn read(lines: &[&str]) -> Facts {
    let mut facts = Facts::default();
    let mut in_responses = false;
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        if line.starts_with("## ") {
            in_responses = line == "## Response" || line == "## Responses";
        }
        if let Some(status) = line.strip_prefix("### ")
            && in_responses
            && is_status(status)
        {
            facts.statuses.push(Fact {
                line: i + 1,
                value: status.to_owned(),
            });
        }
        if line.starts_with("<ParamField ") {
            let (attrs, flags) = tag_attributes(line);
            let located = ["path", "query", "header", "body"]
                .iter()
                .find_map(|l| attrs.get(*l).map(|name| ((*l).to_owned(), name.clone())));
            if let Some((location, name)) = located {
                facts.params.push(Fact {
                    line: i + 1,
                    value: Param {
                        location: Some(location),
                        name,
                        ty: attrs.get("type").cloned(),
                        required: Some(flags.contains("required")),
                        default: attrs.get("default").cloned(),
                        ..Param::default()
                    },
                });
            }
        }
        if line.starts_with("<ResponseField ") {
            let (attrs, _) = tag_attributes(line);
            if let Some(name) = attrs.get("name") {
                facts.fields.push(Fact {
                    line: i + 1,
                    value: Field {
                        name: name.clone(),
                        ty: attrs.get("type").cloned(),
                    },
                });
            }
        }
        if line.starts_with("```json") && line.contains("Example Response") {
            facts.example = json_after(lines, i + 1);
        }
    }
    facts
}

/// `key="value"` attributes and bare flags of a `<Tag ...>` line.
fn tag_attributes(line: &str) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let inner = line
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim_end_matches('/');
    let mut attrs = BTreeMap::new();
    let mut flags = BTreeSet::new();
    let mut rest = inner.split_once(' ').map_or("", |(_, r)| r).trim();
    while !rest.is_empty() {
        let end = rest.find([' ', '=']).unwrap_or(rest.len());
        let key = rest[..end].to_owned();
        rest = &rest[end..];
        if let Some(after) = rest.strip_prefix("=\"") {
            let close = after.find('"').unwrap_or(after.len());
            attrs.insert(key, after[..close].to_owned());
            rest = after.get(close + 1..).unwrap_or("").trim_start();
        } else {
            if !key.is_empty() {
                flags.insert(key);
            }
            rest = rest.trim_start();
        }
    }
    (attrs, flags)
}
