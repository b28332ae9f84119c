//! Comparing a page's [`Facts`] with the spec's operation: the method and path, the
//! statuses and the `x-userbatch` rules the page states here; parameters in [`params`],
//! the request body and the response records in [`records`].

use std::collections::BTreeSet;

use serde_json::Value;

use super::page::{Fact, Facts};
use crate::spec::Spec;

mod params;
mod records;

/// One difference between a page and a spec.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Difference {
    /// The page's file name.
    pub page: String,
    /// The page's line (1-based) the fact comes from.
    pub line: usize,
    /// The spec and the path in it the difference concerns.
    pub spec_path: String,
    /// What differs.
    pub message: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {} [{}]",
            self.page, self.line, self.message, self.spec_path
        )
    }
}

/// One operation of a spec and the page it names.
pub(super) struct OpRef<'a> {
    pub(super) spec: &'a Spec,
    pub(super) path: &'a str,
    pub(super) method: &'a str,
    pub(super) op: &'a Value,
    pub(super) page: &'a str,
}

/// Whether the spec marks this element as its own call.
fn assumed(element: &Value) -> bool {
    element.get("x-docs-differs").is_some()
        || element
            .get("description")
            .and_then(Value::as_str)
            .is_some_and(|d| {
                let d = d.to_lowercase();
                d.contains("assumption") || d.contains("assumed")
            })
}

/// A page's type word as the spec writes it: `integer[]` -> `array<integer>`, `bool` ->
/// `boolean`.
fn doc_type(t: &str) -> String {
    let t = t.trim().to_lowercase();
    match t.strip_suffix("[]") {
        Some(item) => format!("array<{}>", doc_type(item)),
        None if t == "bool" => "boolean".to_owned(),
        None if t == "int" => "integer".to_owned(),
        None => t,
    }
}

impl OpRef<'_> {
    fn at(&self, rest: &str) -> String {
        format!(
            "{} paths.{}.{}{rest}",
            self.spec.rel, self.path, self.method
        )
    }

    fn diff(&self, out: &mut Vec<Difference>, line: usize, spec_path: String, message: String) {
        out.push(Difference {
            page: self.page.to_owned(),
            line,
            spec_path,
            message,
        });
    }

    /// The type words a schema accepts (`oneOf` branches each), `array<item>` for arrays.
    fn types(&self, schema: &Value) -> BTreeSet<String> {
        let schema = self.spec.resolve_all(schema).unwrap_or(schema);
        if let Some(branches) = schema
            .get("oneOf")
            .or_else(|| schema.get("anyOf"))
            .and_then(Value::as_array)
        {
            return branches.iter().flat_map(|b| self.types(b)).collect();
        }
        let Some(ty) = schema.get("type").and_then(Value::as_str) else {
            return BTreeSet::from(["any".to_owned()]);
        };
        if ty == "array" {
            let items = schema
                .get("items")
                .map_or_else(|| BTreeSet::from(["any".to_owned()]), |i| self.types(i));
            return items.into_iter().map(|i| format!("array<{i}>")).collect();
        }
        BTreeSet::from([ty.to_owned()])
    }

    /// Whether a schema accepts a page's type word.
    fn accepts(&self, schema: &Value, doc: &str) -> bool {
        let types = self.types(schema);
        let doc = doc_type(doc);
        types.contains("any")
            || types.contains(&doc)
            || (doc == "array<any>" && types.iter().any(|t| t.starts_with("array<")))
    }

    /// Whether a schema accepts a value of the example's kind.
    fn accepts_value(&self, schema: &Value, value: &Value) -> bool {
        let resolved = self.spec.resolve_all(schema).unwrap_or(schema);
        let nullable = resolved.get("nullable").and_then(Value::as_bool) == Some(true);
        let types = self.types(schema);
        if types.contains("any") {
            return true;
        }
        match value {
            Value::Null => nullable,
            Value::Bool(_) => types.contains("boolean"),
            Value::Number(n) if n.is_i64() || n.is_u64() => {
                types.contains("integer") || types.contains("number")
            }
            Value::Number(_) => types.contains("number"),
            Value::String(_) => types.contains("string"),
            Value::Array(_) => types.iter().any(|t| t.starts_with("array<")),
            Value::Object(_) => types.contains("object"),
        }
    }

    pub(super) fn compare(&self, facts: &Facts, out: &mut Vec<Difference>) {
        self.compare_endpoint(facts, out);
        self.compare_params(facts, out);
        self.compare_body(facts, out);
        self.compare_fields(facts, out);
        self.compare_rules(facts, out);
        self.compare_statuses(facts, out);
    }

    fn compare_endpoint(&self, facts: &Facts, out: &mut Vec<Difference>) {
        let Some(Fact {
            line,
            value: (method, path),
        }) = &facts.endpoint
        else {
            return;
        };
        if method != self.method || !self.path.ends_with(path.as_str()) {
            self.diff(
                out,
                *line,
                self.at(""),
                format!(
                    "the page documents {} {path}; the spec has {} {}",
                    method.to_uppercase(),
                    self.method.to_uppercase(),
                    self.path
                ),
            );
        }
    }

    fn compare_rules(&self, facts: &Facts, out: &mut Vec<Difference>) {
        if let Some(Fact { line, value }) = &facts.max_ids {
            let spec = self
                .op
                .pointer("/x-userbatch/limits/max-ids")
                .and_then(Value::as_u64);
            if spec != Some(*value) {
                self.diff(
                    out,
                    *line,
                    format!("{}.x-userbatch.limits.max-ids", self.at("")),
                    format!(
                        "the page allows at most {value} ids per request; the spec {}",
                        spec.map_or("states no limit".to_owned(), |s| s.to_string())
                    ),
                );
            }
        }
        if let Some(Fact { line, value }) = &facts.unpopulated {
            let spec = strings(self.op.pointer("/x-userbatch/partial/unpopulated"));
            let doc: BTreeSet<String> = value.iter().cloned().collect();
            let at = format!("{}.x-userbatch.partial.unpopulated", self.at(""));
            let sets = Sets {
                page: &doc,
                spec: &spec,
                what: "as not populated",
            };
            self.compare_sets(out, *line, &at, sets);
        }
    }

    /// What one of two lists has and the other lacks, each way.
    fn compare_sets(&self, out: &mut Vec<Difference>, line: usize, at: &str, sets: Sets<'_>) {
        for (who, has, other, lacks) in [
            ("page", sets.page, "spec", sets.spec),
            ("spec", sets.spec, "page", sets.page),
        ] {
            let only: Vec<&String> = has.difference(lacks).collect();
            if !only.is_empty() {
                let message = format!(
                    "the {who} lists {}: {}; the {other} does not",
                    sets.what,
                    join(&only)
                );
                self.diff(out, line, at.to_owned(), message);
            }
        }
    }

    fn compare_statuses(&self, facts: &Facts, out: &mut Vec<Difference>) {
        if facts.statuses.is_empty() {
            return;
        }
        let responses = self
            .op
            .get("responses")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let covers = |key: &str, status: &str| {
            key == status
                || (key.len() == 3 && key.ends_with("XX") && status.starts_with(&key[..1]))
        };
        for Fact { line, value } in &facts.statuses {
            if !responses.keys().any(|k| covers(k, value)) {
                self.diff(
                    out,
                    *line,
                    self.at(".responses"),
                    format!("the page documents status {value}; the spec does not"),
                );
            }
        }
        for (key, response) in &responses {
            let response = self.spec.resolve_all(response).unwrap_or(response);
            if !facts.statuses.iter().any(|s| covers(key, &s.value)) && !assumed(response) {
                self.diff(
                    out,
                    facts.statuses[0].line,
                    self.at(&format!(".responses.{key}")),
                    format!("the spec documents status {key}; the page does not"),
                );
            }
        }
    }
}

/// The strings of a JSON array (none if it is not one).
fn strings(list: Option<&Value>) -> BTreeSet<String> {
    list.and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Two lists of one thing, as the page and the spec give them.
struct Sets<'a> {
    page: &'a BTreeSet<String>,
    spec: &'a BTreeSet<String>,
    what: &'a str,
}

fn join<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}
