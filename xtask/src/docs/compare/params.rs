//! A page's parameters against the operation's: presence, place, required, type (the ids'
//! item type for the ids parameter), enum values, defaults, length limits, and the
//! `$attribute` values `x-userbatch.attributes` allows.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Difference, OpRef, Sets, assumed, doc_type, strings};
use crate::docs::page::{Fact, Facts};

impl OpRef<'_> {
    /// The operation's parameters, resolved, by name.
    fn spec_params(&self) -> Vec<&Value> {
        self.op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| self.spec.resolve_all(p).unwrap_or(p))
            .collect()
    }

    fn ids_rules(&self) -> Option<&Value> {
        self.op.pointer("/x-userbatch/ids")
    }

    pub(super) fn compare_params(&self, facts: &Facts, out: &mut Vec<Difference>) {
        let params = self.spec_params();
        let same = |p: &Value, name: &str| {
            p.get("name").and_then(Value::as_str).is_some_and(|n| {
                n == name
                    || (p.get("in").and_then(Value::as_str) == Some("header")
                        && n.eq_ignore_ascii_case(name))
            })
        };
        for Fact { line, value: doc } in &facts.params {
            if doc.location.as_deref() == Some("body") {
                continue;
            }
            let Some(p) = params.iter().find(|p| same(p, &doc.name)) else {
                self.diff(
                    out,
                    *line,
                    self.at(".parameters"),
                    format!(
                        "the page documents parameter `{}`{}; the spec does not have it",
                        doc.name,
                        doc.location
                            .as_deref()
                            .map_or(String::new(), |l| format!(" in {l}"))
                    ),
                );
                continue;
            };
            let at = self.at(&format!(".parameters[{}]", doc.name));
            let place = p.get("in").and_then(Value::as_str).unwrap_or("");
            if let Some(loc) = &doc.location
                && loc != place
            {
                self.diff(
                    out,
                    *line,
                    at.clone(),
                    format!("the page puts it in {loc}; the spec in {place}"),
                );
            }
            let required = p.get("required").and_then(Value::as_bool) == Some(true);
            if let Some(doc_required) = doc.required
                && doc_required != required
                && !assumed(p)
            {
                self.diff(
                    out,
                    *line,
                    at.clone(),
                    format!(
                        "the page says {}; the spec says {}",
                        if doc_required { "required" } else { "optional" },
                        if required { "required" } else { "optional" }
                    ),
                );
            }
            let schema = p.get("schema").cloned().unwrap_or(Value::Null);
            let ids = self.ids_rules().filter(|ids| {
                ids.get("name").and_then(Value::as_str) == p.get("name").and_then(Value::as_str)
            });
            if let Some(ty) = &doc.ty {
                match ids {
                    // The ids parameter: its shape is the rules' (a list written as text);
                    // the page's item type must be the ids' type.
                    Some(ids) => {
                        let id_type = ids.get("type").and_then(Value::as_str).unwrap_or("");
                        let doc = doc_type(ty);
                        let item = doc
                            .strip_prefix("array<")
                            .and_then(|d| d.strip_suffix('>'))
                            .unwrap_or(&doc);
                        if item != id_type {
                            self.diff(
                                out,
                                *line,
                                format!("{}.x-userbatch.ids.type", self.at("")),
                                format!(
                                    "the page types the ids as {ty}; the spec's ids are {id_type}"
                                ),
                            );
                        }
                    }
                    None if !self.accepts(&schema, ty) && !assumed(p) => self.diff(
                        out,
                        *line,
                        at.clone(),
                        format!(
                            "the page types it {ty}; the spec {}",
                            self.types(&schema)
                                .into_iter()
                                .collect::<Vec<_>>()
                                .join(" | ")
                        ),
                    ),
                    None => {}
                }
            }
            let resolved = self.spec.resolve_all(&schema).unwrap_or(&schema);
            if !doc.values.is_empty() {
                let spec_values: BTreeSet<String> = resolved
                    .get("enum")
                    .and_then(Value::as_array)
                    .map(|v| {
                        v.iter()
                            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let doc_values: BTreeSet<String> = doc.values.iter().cloned().collect();
                let spec_values = if assumed(p) {
                    // The spec's own call: only what the page has and the spec lacks.
                    spec_values.union(&doc_values).cloned().collect()
                } else {
                    spec_values
                };
                let sets = Sets {
                    page: &doc_values,
                    spec: &spec_values,
                    what: "values",
                };
                self.compare_sets(out, *line, &format!("{at}.schema.enum"), sets);
            }
            if let Some(default) = &doc.default {
                let spec_default = resolved
                    .get("default")
                    .map(|d| d.as_str().map_or_else(|| d.to_string(), str::to_owned));
                if spec_default.as_deref() != Some(default.as_str()) {
                    self.diff(
                        out,
                        *line,
                        format!("{at}.schema.default"),
                        format!(
                            "the page's default is {default}; the spec's {}",
                            spec_default.as_deref().unwrap_or("none")
                        ),
                    );
                }
            }
            if let Some(max) = doc.max_chars {
                let limit = match ids {
                    Some(_) => self
                        .op
                        .pointer("/x-userbatch/limits/max-segment-chars")
                        .and_then(Value::as_u64),
                    None => resolved.get("maxLength").and_then(Value::as_u64),
                };
                if limit != Some(max) {
                    self.diff(
                        out,
                        *line,
                        if ids.is_some() {
                            format!("{}.x-userbatch.limits.max-segment-chars", self.at(""))
                        } else {
                            format!("{at}.schema.maxLength")
                        },
                        format!(
                            "the page allows at most {max} characters; the spec {}",
                            limit.map_or("states no limit".to_owned(), |l| format!("{l}"))
                        ),
                    );
                }
            }
            if let Some(attributes) = self.op.pointer("/x-userbatch/attributes")
                && attributes.get("param").and_then(Value::as_str)
                    == p.get("name").and_then(Value::as_str)
            {
                self.compare_attributes(*line, attributes, &doc.available, out);
            }
        }
        // What the spec has and the page does not (when the page lists parameters at all).
        if facts.params.is_empty() {
            return;
        }
        for p in params {
            let name = p.get("name").and_then(Value::as_str).unwrap_or("");
            if !facts.params.iter().any(|d| same(p, &d.value.name)) && !assumed(p) {
                let line = facts.params.first().map_or(1, |f| f.line);
                self.diff(
                    out,
                    line,
                    self.at(&format!(".parameters[{name}]")),
                    format!("the spec has parameter `{name}`; the page does not document it"),
                );
            }
        }
    }

    /// `$attribute`'s available values: for a single id, every attribute; for several,
    /// those not single-id-only.
    fn compare_attributes(
        &self,
        line: usize,
        rules: &Value,
        available: &[(String, Vec<String>)],
        out: &mut Vec<Difference>,
    ) {
        let list = |key: &str| strings(rules.get(key));
        let values = list("values");
        let single_only = list("single-id-only");
        let all = rules.get("all").and_then(Value::as_str).unwrap_or("all");
        let custom = rules
            .get("custom-prefix")
            .and_then(Value::as_str)
            .unwrap_or("custom.");
        for (label, listed) in available {
            let label_l = label.to_lowercase();
            let expected: BTreeSet<String> = if label_l.contains("multiple") {
                values.difference(&single_only).cloned().collect()
            } else {
                values.clone()
            };
            let doc: BTreeSet<String> = listed
                .iter()
                .filter(|v| v.as_str() != all && !v.starts_with(custom))
                .cloned()
                .collect();
            let at = format!("{}.x-userbatch.attributes", self.at(""));
            let what = if label.is_empty() {
                "attributes".to_owned()
            } else {
                format!("attributes ({label})")
            };
            let sets = Sets {
                page: &doc,
                spec: &expected,
                what: &what,
            };
            self.compare_sets(out, line, &at, sets);
        }
    }
}
