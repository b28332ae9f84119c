//! The request body's fields and the response records' fields against the spec's schemas:
//! from the page's field lists and from its example's first record, with the "not
//! populated" fields counted as documented.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Difference, OpRef, assumed, join};
use crate::docs::page::{Fact, Facts, Field};

impl OpRef<'_> {
    pub(super) fn compare_body(&self, facts: &Facts, out: &mut Vec<Difference>) {
        if facts.body_fields.is_empty() {
            return;
        }
        let Some(schema) = self
            .op
            .pointer("/requestBody/content/application~1json/schema")
        else {
            self.diff(
                out,
                facts.body_fields[0].line,
                self.at(".requestBody"),
                "the page documents a request body; the spec has none".to_owned(),
            );
            return;
        };
        let schema = self.spec.resolve_all(schema).unwrap_or(schema);
        for Fact { line, value: f } in &facts.body_fields {
            let prop = schema.pointer(&format!("/properties/{}", f.name));
            let at = self.at(&format!(".requestBody.{}", f.name));
            self.compare_field(out, *line, at, f, prop, "body field");
        }
    }

    /// A field the page documents against the spec's property for it, if any.
    fn compare_field(
        &self,
        out: &mut Vec<Difference>,
        line: usize,
        at: String,
        field: &Field,
        prop: Option<&Value>,
        kind: &str,
    ) {
        match prop {
            None => {
                let ty = field
                    .ty
                    .as_deref()
                    .map_or(String::new(), |t| format!(" ({t})"));
                let message = format!(
                    "the page documents {kind} `{}`{ty}; the spec does not have it",
                    field.name
                );
                self.diff(out, line, at, message);
            }
            Some(prop) => {
                if let Some(ty) = &field.ty
                    && !self.accepts(prop, ty)
                    && !assumed(prop)
                {
                    let types = self.types(prop);
                    let message = format!(
                        "the page types `{}` {ty}; the spec {}",
                        field.name,
                        join(&types.iter().collect::<Vec<_>>())
                    );
                    self.diff(out, line, at, message);
                }
            }
        }
    }

    /// The 200 response's schema, and the records' schema inside it.
    fn record_schema(&self) -> Option<(&Value, &Value)> {
        let body = self
            .op
            .pointer("/responses/200/content/application~1json/schema")?;
        let mut schema = self.spec.resolve_all(body).ok()?;
        let pointer = self
            .op
            .pointer("/x-userbatch/records/pointer")
            .and_then(Value::as_str)
            .unwrap_or("");
        for token in pointer.split('/').filter(|t| !t.is_empty()) {
            schema = self
                .spec
                .resolve_all(schema.pointer(&format!("/properties/{token}"))?)
                .ok()?;
        }
        if schema.get("type").and_then(Value::as_str) == Some("array") {
            schema = self.spec.resolve_all(schema.get("items")?).ok()?;
        }
        Some((self.spec.resolve_all(body).ok()?, schema))
    }

    /// The schema name of the records, for messages.
    fn record_path(&self) -> String {
        let mut schema = self
            .op
            .pointer("/responses/200/content/application~1json/schema");
        let mut name = None;
        for _ in 0..4 {
            let Some(s) = schema else { break };
            if let Some(r) = s.get("$ref").and_then(Value::as_str) {
                name = r.rsplit('/').next().map(str::to_owned);
                schema = self.spec.resolve(s).ok();
            } else {
                schema = s.get("items");
            }
        }
        match name {
            Some(n) => format!("{} components.schemas.{n}", self.spec.rel),
            None => self.at(".responses.200"),
        }
    }

    /// A property anywhere in `schema` (through objects, arrays and references).
    fn find_property<'s>(
        &'s self,
        schema: &'s Value,
        name: &str,
        depth: usize,
    ) -> Option<&'s Value> {
        if depth > 6 {
            return None;
        }
        let schema = self.spec.resolve_all(schema).ok()?;
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            if let Some(p) = props.get(name) {
                return Some(p);
            }
            for p in props.values() {
                if let Some(found) = self.find_property(p, name, depth + 1) {
                    return Some(found);
                }
            }
        }
        schema
            .get("items")
            .and_then(|i| self.find_property(i, name, depth + 1))
    }

    pub(super) fn compare_fields(&self, facts: &Facts, out: &mut Vec<Difference>) {
        let Some((body, record)) = self.record_schema() else {
            return;
        };
        let at_record = self.record_path();
        let props = record
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut documented: BTreeSet<String> = BTreeSet::new();
        for Fact { line, value: f } in &facts.fields {
            documented.insert(f.name.clone());
            let prop = props
                .get(&f.name)
                .or_else(|| self.find_property(body, &f.name, 0));
            let at = format!("{at_record}.properties.{}", f.name);
            self.compare_field(out, *line, at, f, prop, "field");
        }
        // The example's first record: every key and the kind of every value.
        let example_record = facts.example.as_ref().and_then(|e| {
            let pointer = self
                .op
                .pointer("/x-userbatch/records/pointer")
                .and_then(Value::as_str)
                .unwrap_or("");
            let records = e.value.pointer(pointer)?;
            let first = match records {
                Value::Array(list) => list.first()?,
                other => other,
            };
            Some((e.line, first.as_object()?.clone()))
        });
        if let Some((line, record_value)) = &example_record {
            for (key, value) in record_value {
                documented.insert(key.clone());
                let at = format!("{at_record}.properties.{key}");
                match props.get(key) {
                    None => self.diff(
                        out,
                        *line,
                        at,
                        format!("the page's example has field `{key}`; the spec does not have it"),
                    ),
                    Some(prop) if !self.accepts_value(prop, value) && !assumed(prop) => self.diff(
                        out,
                        *line,
                        at,
                        format!(
                            "the page's example gives `{key}` {}; the spec {}{}",
                            if value.is_null() {
                                "null".to_owned()
                            } else {
                                format!("the value {value}")
                            },
                            join(&self.types(prop).iter().collect::<Vec<_>>()),
                            if value.is_null() {
                                " (not nullable)"
                            } else {
                                ""
                            }
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
        if let Some(list) = &facts.unpopulated {
            documented.extend(list.value.iter().cloned());
        }
        // What the spec has and the page does not, when the page describes the records.
        if facts.fields.is_empty() && example_record.is_none() {
            return;
        }
        let line = facts
            .fields
            .first()
            .map(|f| f.line)
            .or(example_record.as_ref().map(|e| e.0))
            .unwrap_or(1);
        for (name, prop) in &props {
            if !documented.contains(name) && !assumed(prop) {
                self.diff(
                    out,
                    line,
                    format!("{at_record}.properties.{name}"),
                    format!("the spec has field `{name}`; the page does not document it"),
                );
            }
        }
    }
}
