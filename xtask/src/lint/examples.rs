//! Every `example`, `examples.*.value` and schema `default` of a spec, found in responses,
//! request bodies, parameters and component schemas, validated against its schema.

use serde_json::Value;

use super::schema::validate;
use crate::spec::Spec;

/// Every `example` (and `examples.*.value`) validates against its schema.
pub(super) fn check(spec: &Spec, out: &mut Vec<String>) {
    for (path, method, op) in spec.operations() {
        let at = format!("{} {path}", method.to_uppercase());
        let mut holders: Vec<(String, &Value)> = Vec::new();
        if let Some(responses) = op.get("responses").and_then(Value::as_object) {
            for (status, r) in responses {
                if let Ok(r) = spec.resolve(r) {
                    holders.extend(media_examples(r, &format!("{at} {status}")));
                }
            }
        }
        if let Some(body) = op.get("requestBody").and_then(|b| spec.resolve(b).ok()) {
            holders.extend(media_examples(body, &format!("{at} requestBody")));
        }
        for (label, holder) in holders {
            let Some(schema) = holder.get("schema") else {
                continue;
            };
            for (which, example) in examples_of(holder) {
                validate(spec, schema, example, &format!("{label} {which}"), out);
            }
        }
        for p in op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            check_parameter_examples(spec, p, &at, out);
        }
    }
    if let Some(params) = spec
        .raw
        .pointer("/components/parameters")
        .and_then(Value::as_object)
    {
        for p in params.values() {
            check_parameter_examples(spec, p, "components.parameters", out);
        }
    }
    if let Some(schemas) = spec
        .raw
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            schema_examples(spec, schema, &format!("components.schemas.{name}"), out);
        }
    }
}

fn media_examples<'a>(holder: &'a Value, at: &str) -> Vec<(String, &'a Value)> {
    holder
        .get("content")
        .and_then(Value::as_object)
        .map(|c| c.iter().map(|(m, v)| (format!("{at} {m}"), v)).collect())
        .unwrap_or_default()
}

fn examples_of(holder: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    if let Some(e) = holder.get("example") {
        out.push(("example".to_owned(), e));
    }
    if let Some(map) = holder.get("examples").and_then(Value::as_object) {
        for (k, v) in map {
            if let Some(value) = v.get("value") {
                out.push((format!("examples.{k}"), value));
            }
        }
    }
    out
}

fn check_parameter_examples(spec: &Spec, p: &Value, at: &str, out: &mut Vec<String>) {
    let Ok(p) = spec.resolve(p) else { return };
    let name = p.get("name").and_then(Value::as_str).unwrap_or("?");
    if let Some(schema) = p.get("schema") {
        for (which, example) in examples_of(p) {
            validate(
                spec,
                schema,
                example,
                &format!("{at} parameter {name} {which}"),
                out,
            );
        }
        schema_examples(spec, schema, &format!("{at} parameter {name}"), out);
    }
}

fn schema_examples(spec: &Spec, schema: &Value, at: &str, out: &mut Vec<String>) {
    if schema.get("$ref").is_some() {
        return;
    }
    if let Some(e) = schema.get("example") {
        validate(spec, schema, e, &format!("{at} example"), out);
    }
    if let Some(d) = schema.get("default") {
        validate(spec, schema, d, &format!("{at} default"), out);
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            schema_examples(spec, v, &format!("{at}.{k}"), out);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(s) = schema.get(key).filter(|s| s.is_object()) {
            schema_examples(spec, s, &format!("{at}.{key}"), out);
        }
    }
    if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
        for (i, s) in branches.iter().enumerate() {
            schema_examples(spec, s, &format!("{at}.oneOf[{i}]"), out);
        }
    }
}
