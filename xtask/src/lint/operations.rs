//! What progenitor 0.15 mishandles: a missing or repeated operationId, inline schemas in
//! content, a status range beside a status it covers, error responses that differ.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::spec::Spec;

/// What progenitor 0.15 mishandles. A batch operation (one with
/// `x-userbatch`) reaches progenitor with every answer as bytes (see `generate`), so its
/// response schemas and content kinds may differ freely.
pub(super) fn check(spec: &Spec, out: &mut Vec<String>) {
    let mut ids = BTreeSet::new();
    for (path, method, op) in spec.operations() {
        let batch = op.get("x-userbatch").is_some();
        let at = format!("{} {path}", method.to_uppercase());
        match op.get("operationId").and_then(Value::as_str) {
            None => out.push(format!("{at}: no operationId (progenitor needs one)")),
            Some(id) if !ids.insert(id.to_owned()) => {
                out.push(format!("{at}: operationId {id} is used twice"))
            }
            Some(_) => {}
        }
        if let Some(body) = op.get("requestBody") {
            check_content_refs(spec, body, &format!("{at} requestBody"), out);
        }
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            out.push(format!("{at}: no responses"));
            continue;
        };
        let mut error_kinds = BTreeSet::new();
        for (status, response) in responses {
            let response = match spec.resolve(response) {
                Ok(r) => r,
                Err(e) => {
                    out.push(format!("{at} {status}: {e:#}"));
                    continue;
                }
            };
            if !batch {
                check_content_refs(spec, response, &format!("{at} {status}"), out);
            }
            if !status.starts_with('2') && !batch {
                error_kinds.insert(content_kind(response));
            }
            if let Some(class) = status.strip_suffix("XX") {
                for other in responses.keys() {
                    if other != status && other.starts_with(class) {
                        out.push(format!(
                            "{at}: {status} beside {other} generates an unreachable match arm"
                        ));
                    }
                }
            }
        }
        if error_kinds.len() > 1 {
            out.push(format!(
                "{at}: error responses differ in schema or content kind ({}); progenitor \
                 panics on that",
                error_kinds.into_iter().collect::<Vec<_>>().join(" vs ")
            ));
        }
    }
}

/// Inline schemas in request or response content all get one name in progenitor, and the
/// first wins: a 400 body can then decode as the 200 type. Only `$ref` is allowed.
fn check_content_refs(spec: &Spec, holder: &Value, at: &str, out: &mut Vec<String>) {
    let Ok(holder) = spec.resolve(holder) else {
        return;
    };
    if let Some(content) = holder.get("content").and_then(Value::as_object) {
        for (media, body) in content {
            match body.get("schema") {
                Some(schema) if schema.get("$ref").is_some() => {}
                Some(_) => out.push(format!(
                    "{at} {media}: inline schema; use a $ref to components/schemas"
                )),
                None => out.push(format!("{at} {media}: content without a schema")),
            }
        }
    }
}

fn content_kind(response: &Value) -> String {
    match response.get("content").and_then(Value::as_object) {
        None => "no content".to_owned(),
        Some(content) => content
            .iter()
            .map(|(media, body)| {
                let schema = body
                    .pointer("/schema/$ref")
                    .and_then(Value::as_str)
                    .unwrap_or("inline");
                format!("{media} {schema}")
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}
