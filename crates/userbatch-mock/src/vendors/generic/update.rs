//! An update operation a batch operation links: the whole record as the body, checked
//! against its schema, answered with the spec's `update-answer` (fields the body leaves out
//! reported cleared), and stored for later reads.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use serde_json::{Map, Value};
use userbatch_core::rules::IdKind;

use super::check::{access, known_path_values};
use super::error::error_answer;
use super::spec::{SpecVendor, UpdateOperation};
use crate::data::RecordDrift;
use crate::drift::Answering;
use crate::shared::Shared;
use crate::vendors::answer::Answer;
use crate::vendors::incoming::{Incoming, credential};

/// An update: the whole record as the body, stored for later reads.
pub(super) async fn update(
    shared: Arc<Shared>,
    spec: &'static SpecVendor,
    op: &'static UpdateOperation,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut incoming = Incoming::new(&shared, spec.vendor, &op.operation_id, &method, &uri, &body);
    incoming.credential = credential(&shared, &headers);
    let fields: Option<Map<String, Value>> = serde_json::from_slice(&body).ok();
    let id = fields
        .as_ref()
        .and_then(|m| m.get(&op.id_field))
        .and_then(|v| match (v, op.id_kind) {
            (Value::Number(n), IdKind::Integer) if n.is_i64() => Some(n.to_string()),
            (Value::String(s), IdKind::String) if !s.is_empty() => Some(s.clone()),
            _ => None,
        });
    incoming.ids = id.iter().cloned().collect();
    let vendor = spec.vendor;
    let checked = access(&shared, &headers, vendor, &spec.schemes)
        .and_then(|()| known_path_values(&shared, vendor, &op.path, &uri, None))
        .and_then(|()| {
            let fields = fields.as_ref().ok_or_else(|| {
                error_answer(
                    vendor,
                    400,
                    "The body must be a JSON object: a whole record.",
                )
            })?;
            if let Some((field, why)) = op.schema.invalid_field(fields) {
                return Err(error_answer(vendor, 400, &format!("{field} {why}.")));
            }
            if id.is_none() {
                return Err(error_answer(
                    vendor,
                    400,
                    &format!("The body must be a whole record with its {}.", op.id_field),
                ));
            }
            Ok(())
        });
    let success = |_: Answering| {
        let fields = fields.clone().unwrap_or_default();
        let id = id.clone().unwrap_or_default();
        let id_value = match op.id_kind {
            IdKind::Integer => id
                .parse::<i64>()
                .map_or_else(|_| Value::from(id.as_str()), Value::from),
            IdKind::String => Value::from(id.as_str()),
        };
        // What the record held before: the vendor clears the fields the body leaves out.
        let before = shared.written(&op.schema, &id).unwrap_or_else(|| {
            let mut out = Vec::new();
            op.schema.write_json(
                &mut out,
                shared.config.seed,
                &op.id_field,
                &id_value,
                None,
                RecordDrift::default(),
            );
            serde_json::from_slice(&out).unwrap_or_default()
        });
        let cleared: Vec<&str> = before
            .iter()
            .filter(|(name, value)| !fields.contains_key(*name) && !is_empty(value))
            .map(|(name, _)| name.as_str())
            .collect();
        let message = if cleared.is_empty() {
            "Updated.".to_owned()
        } else {
            format!(
                "Updated; fields absent from the body were cleared: {}",
                cleared.join(", ")
            )
        };
        let answer = fill(&op.answer, &id_value, &message);
        // The record as sent is the record from now on (for this server's lifetime).
        shared
            .written
            .lock()
            .expect("written lock")
            .insert((op.schema.key, id), fields);
        Answer::json(200, answer.to_string())
    };
    incoming.answer(checked, success).await
}

/// `null`, `[]` or `{}`: nothing to clear (clients leave such fields out of a body).
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// `template` with the strings `"{id}"` and `"{message}"` replaced.
fn fill(template: &Value, id: &Value, message: &str) -> Value {
    match template {
        Value::String(s) if s == "{id}" => id.clone(),
        Value::String(s) if s == "{message}" => Value::from(message),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, id, message)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill(v, id, message)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_answer_with_their_template_filled() {
        let template = serde_json::json!({"Value": "{id}", "Message": "{message}", "Ok": true});
        assert_eq!(
            fill(&template, &Value::from(7), "Updated."),
            serde_json::json!({"Value": 7, "Message": "Updated.", "Ok": true})
        );
    }
}
