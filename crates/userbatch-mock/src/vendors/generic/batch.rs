//! A batch operation's answer: the ids found, each once, in request order (or the
//! vendor's own), their records made from the schema (or as a PUT wrote them), only the
//! attributes asked for, inside the envelope its schema describes, paged with the total.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use serde_json::{Map, Value};
use userbatch_core::rules::{Attributes, IdKind, UnknownIds};

use super::check::check;
use super::error::error_answer;
use super::request::{asked_attributes, ids_of, integer_id, query_pairs, query_param};
use super::spec::{SpecOperation, SpecVendor};
use crate::config::UnknownIdAnswer;
use crate::data::{RecordDrift, RecordSchema, hash3};
use crate::drift::Answering;
use crate::drift::Drift;
use crate::shared::Shared;
use crate::vendors::answer::Answer;
use crate::vendors::incoming::{Incoming, credential};

/// A request to the batch operation `op`: the vendor's checks, then the records of the ids
/// found, as its rules say.
pub(super) async fn serve(
    shared: Arc<Shared>,
    spec: &'static SpecVendor,
    op: &'static SpecOperation,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut incoming = Incoming::new(
        &shared,
        spec.vendor,
        &op.rules.operation_id,
        &method,
        &uri,
        &body,
    );
    incoming.credential = credential(&shared, &headers);
    let ids = ids_of(op, &uri, &body);
    incoming.ids = ids.clone().unwrap_or_default();
    let checked = check(&shared, spec, op, &uri, &headers, &body, &ids);
    let ids = ids.unwrap_or_default();
    let mut seen = HashSet::new();
    let unique: Vec<String> = ids
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect();
    let exists = |id: &str| {
        !id.is_empty()
            && !shared.config.is_missing(id)
            && (op.rules.ids.kind == IdKind::String || integer_id(id).is_ok_and(|i| i.is_some()))
    };
    // One unknown id fails the request, where the rules say so.
    let fails = match op.rules.unknown_ids {
        UnknownIds::Omitted => None,
        UnknownIds::FailsRequest(status) => Some(status),
        UnknownIds::OmittedOrFailsRequest(status) => {
            (shared.config.unknown_id_answer() == UnknownIdAnswer::FailRequest).then_some(status)
        }
    };
    let pairs = query_pairs(uri.query().unwrap_or(""));
    let page = op.rules.paging.as_ref().map(|p| {
        let get = |name: &str, default: u32| {
            query_param(&pairs, name)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(u64::from(default))
        };
        let size = get(&p.size_param, p.default_size).max(1);
        let size = shared
            .config
            .max_page_size
            .map_or(size, |max| size.min(max));
        (get(&p.index_param, p.first_index), size)
    });
    let attributes = op
        .rules
        .attributes
        .as_ref()
        .map(|attrs| (attrs, asked_attributes(attrs, &uri)));
    let success = |answering: Answering| {
        if fails.is_some() && answering == Answering::Asked && unique.iter().any(|id| !exists(id)) {
            let status = fails.unwrap_or(404);
            return error_answer(spec.vendor, status, "Not found");
        }
        let mut found = answering.ids(&unique, exists);
        let total = found.len();
        if spec.quirks.vendor_order && op.rules.records.many {
            found.sort_by_cached_key(|id| hash3(shared.config.seed, "order", id));
        }
        let shown: &[String] = match (page, &op.rules.paging) {
            (Some((index, size)), Some(p)) => {
                let skip = index
                    .saturating_sub(u64::from(p.first_index))
                    .saturating_mul(size);
                let from = usize::try_from(skip).unwrap_or(usize::MAX).min(found.len());
                let to = from.saturating_add(usize::try_from(size).unwrap_or(usize::MAX));
                &found[from..to.min(found.len())]
            }
            _ => &found,
        };
        let shown = if op.rules.records.many {
            shown
        } else if shown.is_empty() {
            let status = op.rules.unknown_ids.not_found_status().unwrap_or(404);
            return error_answer(spec.vendor, status, "Not found");
        } else {
            // One record per answer, whatever a fault adds.
            &shown[..1]
        };
        let records = records(&shared, spec, op, shown, attributes.as_ref());
        if op.rules.records.pointer.is_empty() {
            return Answer::json(200, records);
        }
        // The envelope's other fields as its schema says (when it is a named one), the
        // records, the total and the page served.
        let mut body = match &op.envelope {
            Some(envelope) => {
                let mut out = Vec::new();
                envelope.write_json(
                    &mut out,
                    shared.config.seed,
                    "",
                    &Value::from("envelope"),
                    None,
                    RecordDrift::default(),
                );
                serde_json::from_slice(&out).unwrap_or(Value::Null)
            }
            None => Value::Null,
        };
        put(
            &mut body,
            &op.rules.records.pointer,
            Value::from(PLACEHOLDER),
        );
        if let (Some(paging), Some((index, size))) = (&op.rules.paging, page) {
            put(&mut body, &paging.total_pointer, Value::from(total));
            let beside = paging.total_pointer.rsplit_once('/').map_or("", |(b, _)| b);
            for (name, value) in [(&paging.index_param, index), (&paging.size_param, size)] {
                let at = format!("{beside}/{name}");
                if body.pointer(&at).is_some() {
                    put(&mut body, &at, Value::from(value));
                }
            }
        }
        Answer::json(200, splice(&body, &records))
    };
    incoming.answer(checked, success).await
}

/// Where the records go in an envelope, until they are spliced in.
const PLACEHOLDER: &str = "\u{0}records\u{0}";

/// `body` written as JSON with the records in place of [`PLACEHOLDER`], without parsing
/// them again.
fn splice(body: &Value, records: &[u8]) -> Vec<u8> {
    let text = body.to_string();
    let marker = Value::from(PLACEHOLDER).to_string();
    match text.split_once(&marker) {
        Some((before, after)) => [before.as_bytes(), records, after.as_bytes()].concat(),
        None => text.into_bytes(),
    }
}

/// The records of `ids` as JSON: an array, or the one record of a single-record
/// operation; records a PUT wrote as written; only the asked-for attributes where the
/// operation has them.
fn records(
    shared: &Shared,
    spec: &SpecVendor,
    op: &SpecOperation,
    ids: &[String],
    attributes: Option<&(&Attributes, Vec<String>)>,
) -> Vec<u8> {
    let drift = shared.drift(spec.vendor);
    let seed = shared.config.seed;
    let id_field = &op.rules.records.id_field;
    let skip = op.skip.as_deref();
    // Records a PUT wrote (none, on the hot path: one look at an empty map).
    let any_written = !shared.written.lock().expect("written lock").is_empty();
    let mut out = Vec::with_capacity(1024);
    if op.rules.records.many {
        out.push(b'[');
    }
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let start = out.len();
        let stored = any_written
            .then(|| shared.written(&op.schema, id))
            .flatten();
        match stored {
            Some(record) => op.schema.write_stored(&mut out, &record, skip),
            None => {
                let id = match op.rules.ids.kind {
                    IdKind::Integer => id
                        .parse::<i64>()
                        .map_or_else(|_| Value::from(id.as_str()), Value::from),
                    IdKind::String => Value::from(id.as_str()),
                };
                write_record(&mut out, &op.schema, seed, id_field, &id, skip, drift);
            }
        }
        if let Some((attrs, asked)) = attributes {
            let full: Value = serde_json::from_slice(&out[start..]).unwrap_or(Value::Null);
            let kept = select_attributes(full, asked, attrs, |name| !op.schema.has_field(name));
            out.truncate(start);
            serde_json::to_writer(&mut out, &kept).expect("writing to a Vec cannot fail");
        }
        if i == 0 {
            // Records of one schema are about the same size: room for the rest at once.
            out.reserve((out.len() + out.len() / 8) * ids.len().saturating_sub(1));
        }
    }
    if op.rules.records.many {
        out.push(b']');
    }
    out
}

/// The summary attributes plus those asked for, and any field the spec does not know
/// (drift: a vendor's new field comes along whatever was asked for).
fn select_attributes(
    full: Value,
    asked: &[String],
    attrs: &Attributes,
    unknown: impl Fn(&str) -> bool,
) -> Map<String, Value> {
    let Value::Object(mut full) = full else {
        return Map::new();
    };
    if asked.iter().any(|a| **a == *attrs.all) {
        return full;
    }
    let mut out = Map::new();
    let extra: Vec<String> = full.keys().filter(|k| unknown(k)).cloned().collect();
    for key in extra {
        if let Some(v) = full.remove(&key) {
            out.insert(key, v);
        }
    }
    for name in attrs.summary.iter() {
        if let Some(v) = full.remove(&**name) {
            out.insert(name.to_string(), v);
        }
    }
    let mut custom = Map::new();
    for a in asked {
        if let Some(name) = a.strip_prefix(&*attrs.custom_prefix) {
            custom.insert(name.to_owned(), Value::String(format!("{name} value")));
        } else if let Some(v) = full.remove(a.as_str()) {
            out.insert(a.clone(), v);
        }
    }
    if !custom.is_empty() {
        out.insert("custom".to_owned(), Value::Object(custom));
    }
    out
}

/// Writes a generated record as JSON, drifted as `drift` says.
fn write_record(
    out: &mut Vec<u8>,
    schema: &RecordSchema,
    seed: u64,
    id_field: &str,
    id: &Value,
    skip: Option<&[bool]>,
    drift: &Drift,
) {
    // No drift, no work: this is the mock's hot path.
    let replace = if drift.replacements.is_empty() {
        Vec::new()
    } else {
        let key = match id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        drift.replacements_for(&key)
    };
    let record = RecordDrift {
        unknown_fields: drift.unknown_fields,
        replace: &replace,
    };
    let as_integer = match id {
        Value::String(s) if drift.integer_ids && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<i64>().ok().map(Value::from)
        }
        _ => None,
    };
    schema.write_json(
        out,
        seed,
        id_field,
        as_integer.as_ref().unwrap_or(id),
        skip,
        record,
    );
}

/// Sets `value` at `pointer` in `root`, making the objects on the way.
fn put(root: &mut Value, pointer: &str, value: Value) {
    let mut at = root;
    for token in pointer.split('/').filter(|t| !t.is_empty()) {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let object = at.as_object_mut().expect("made an object above");
        at = object
            .entry(token.replace("~1", "/").replace("~0", "~"))
            .or_insert(Value::Null);
    }
    *at = value;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_go_where_their_pointers_say() {
        let mut body = Value::Null;
        put(&mut body, "/result/people", Value::from(vec![1, 2]));
        put(&mut body, "/result/total", Value::from(2));
        assert_eq!(body.to_string(), r#"{"result":{"people":[1,2],"total":2}}"#);
        let mut bare = Value::Null;
        put(&mut bare, "", Value::from("x"));
        assert_eq!(bare, Value::from("x"));
    }

    #[test]
    fn records_are_spliced_where_the_placeholder_is() {
        let mut body = serde_json::json!({"a": 1});
        put(&mut body, "/data", Value::from(PLACEHOLDER));
        assert_eq!(
            splice(&body, b"[{\"id\":\"x\"}]"),
            br#"{"a":1,"data":[{"id":"x"}]}"#
        );
    }
}
