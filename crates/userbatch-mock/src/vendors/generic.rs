//! The vendors served from their spec alone: every operation with `x-userbatch`, answered
//! as its rules say, with records made from its schema. Nothing here names a vendor.
//!
//! | rule | answer |
//! |---|---|
//! | no `Authorization` of a scheme the spec's `securitySchemes` name | 401 |
//! | ids not written as `ids.in`/`encoding` say, an id not of `ids.type`, or an empty one | 400 with the error body at `error-message` |
//! | more than `limits.max-ids`, or a segment over `limits.max-segment-chars` | 400 |
//! | a query string over `limits.max-query-bytes` as sent | 414 |
//! | a page index under `paging.first-index`, a page size under 1, or either not an integer | 400 |
//! | unknown ids ([`crate::MockConfig::missing_ids`]) | left out; for `unknown-ids: {fails-request: S}` (and `omitted-or-fails-request` when the config says so), S for the whole request |
//! | found ids | records at `records.pointer` (inside their envelope), each once, in request order, `partial.unpopulated` left out; paged by `paging`, with the total at its `total-pointer` |
//! | a single-record operation (`records.many: false`) asked for an unknown id | 404 with the error body |
//! | a path another vendor's spec has too | not served (one origin cannot serve a path twice; said on standard error) |

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::{MethodFilter, on};
use serde_json::{Map, Value};
use userbatch_core::rules::{
    IdEncoding, IdKind, IdLocation, OperationRules, UnknownIds, VendorRules,
};

use super::{Answer, Incoming, access, credential, query_pairs, query_param, write_checked};
use crate::data::RecordSchema;
use crate::drift::Answering;
use crate::{Shared, UnknownIdAnswer, Vendor};

/// One vendor's rules, read from its spec.
pub(crate) struct SpecVendor {
    pub(crate) vendor: Vendor,
    pub(crate) rules: VendorRules,
    /// The `Authorization` schemes its `securitySchemes` accept.
    schemes: Vec<&'static str>,
    operations: Vec<SpecOperation>,
    /// Every path of the spec, batch operation or not.
    all_paths: Vec<String>,
}

/// One batch operation of a spec.
struct SpecOperation {
    method: Method,
    /// The path template, `{name}` for parameters (as axum writes them too).
    path: String,
    rules: OperationRules,
    schema: RecordSchema,
    /// The record fields a summary leaves out.
    skip: Option<Vec<bool>>,
    /// The schema of the whole answer when the records are inside an object of a named
    /// schema: its other fields are made from it, so the answer fits the spec.
    envelope: Option<RecordSchema>,
}

/// Every vendor's rules, from the specs compiled into the mock.
pub(crate) static SPECS: LazyLock<Vec<SpecVendor>> = LazyLock::new(|| {
    Vendor::ALL
        .iter()
        .map(|&vendor| {
            read(vendor)
                .unwrap_or_else(|e| panic!("the {} spec as xtask wrote it: {e}", vendor.name()))
        })
        .collect()
});

/// The rules of `vendor`'s spec.
pub(crate) fn vendor(vendor: Vendor) -> &'static SpecVendor {
    &SPECS[vendor.index()]
}

fn read(vendor: Vendor) -> Result<SpecVendor, String> {
    let spec: Value = serde_json::from_str(vendor.spec_json()).map_err(|e| e.to_string())?;
    let rules: VendorRules = serde_json::from_value(spec["x-userbatch"].clone())
        .map_err(|e| format!("x-userbatch: {e}"))?;
    // The schemes the spec's `security` names; OAuth2 tokens come as bearer tokens.
    let named: Vec<&str> = spec
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|r| r.keys().map(String::as_str))
        .collect();
    let mut schemes = Vec::new();
    for (_, scheme) in spec
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(name, _)| named.contains(&name.as_str()))
    {
        let http = scheme.get("scheme").and_then(Value::as_str).unwrap_or("");
        let name = match scheme.get("type").and_then(Value::as_str) {
            Some("http") if http.eq_ignore_ascii_case("basic") => "Basic",
            _ => "Bearer",
        };
        if !schemes.contains(&name) {
            schemes.push(name);
        }
    }
    if schemes.is_empty() {
        schemes.push("Bearer");
    }
    let mut operations = Vec::new();
    for (path, item) in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (method, op) in item.as_object().into_iter().flatten() {
            let Some(ext) = op.get("x-userbatch") else {
                continue;
            };
            let op_id = op.get("operationId").and_then(Value::as_str).unwrap_or("");
            let mut rules: OperationRules =
                serde_json::from_value(ext.clone()).map_err(|e| format!("{op_id}: {e}"))?;
            rules.operation_id = op_id.to_owned().into();
            let record = record_schema_name(&spec, op, &rules)
                .ok_or_else(|| format!("{op_id}: no record schema"))?;
            let key: &'static str = format!("{}.{record}", vendor.name()).leak();
            let schema = RecordSchema::compile(&spec, &record, key);
            let skip = rules.partial.as_ref().map(|p| schema.mask(&p.unpopulated));
            let envelope = envelope_schema_name(&spec, op, &rules).map(|name| {
                let key: &'static str = format!("{}.{name}", vendor.name()).leak();
                RecordSchema::compile(&spec, &name, key)
            });
            operations.push(SpecOperation {
                method: Method::from_bytes(method.to_uppercase().as_bytes())
                    .map_err(|e| e.to_string())?,
                path: path.clone(),
                rules,
                schema,
                skip,
                envelope,
            });
        }
    }
    let all_paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    Ok(SpecVendor {
        vendor,
        rules,
        schemes,
        operations,
        all_paths,
    })
}

/// The name of the 200 answer's schema, when it is a named object holding the records.
fn envelope_schema_name(spec: &Value, op: &Value, rules: &OperationRules) -> Option<String> {
    if rules.records.pointer.is_empty() {
        return None;
    }
    let reference = op
        .pointer("/responses/200/content/application~1json/schema/$ref")?
        .as_str()?;
    let name = reference.strip_prefix("#/components/schemas/")?;
    let schema = spec.pointer(&format!("/components/schemas/{name}"))?;
    let object = schema.get("type").and_then(Value::as_str) == Some("object")
        || schema.get("properties").is_some();
    object.then(|| name.to_owned())
}

/// The name of one record's schema: `partial.of`, or the last `$ref` on the way to it.
fn record_schema_name(spec: &Value, op: &Value, rules: &OperationRules) -> Option<String> {
    if let Some(partial) = &rules.partial {
        return Some(partial.of.to_string());
    }
    let resolve = |v: &Value| -> (Option<String>, Value) {
        let mut v = v.clone();
        let mut name = None;
        for _ in 0..32 {
            let Some(r) = v.get("$ref").and_then(Value::as_str) else {
                break;
            };
            name = r.strip_prefix("#/components/schemas/").map(str::to_owned);
            v = spec
                .pointer(r.trim_start_matches('#'))
                .cloned()
                .unwrap_or(Value::Null);
        }
        (name, v)
    };
    let (mut name, mut schema) =
        resolve(op.pointer("/responses/200/content/application~1json/schema")?);
    for token in rules.records.pointer.split('/').filter(|t| !t.is_empty()) {
        (name, schema) = resolve(schema.pointer(&format!("/properties/{token}"))?);
    }
    if rules.records.many {
        (name, _) = resolve(schema.get("items")?);
    }
    name
}

/// The routes of every operation of `vendors`.
pub(crate) fn routes(mut router: Router<Arc<Shared>>, vendors: &[Vendor]) -> Router<Arc<Shared>> {
    // Every path the other vendors' specs have: one origin cannot serve a path twice, and
    // axum refuses it by panicking.
    let mut taken: Vec<(Vendor, &str)> = Vendor::ALL
        .into_iter()
        .filter(|v| !vendors.contains(v))
        .flat_map(|v| vendor(v).all_paths.iter().map(move |p| (v, p.as_str())))
        .collect();
    for &v in vendors {
        let spec = vendor(v);
        for (i, op) in spec.operations.iter().enumerate() {
            let Ok(filter) = MethodFilter::try_from(op.method.clone()) else {
                continue;
            };
            if let Some((other, _)) = taken.iter().find(|(_, p)| same_route(p, &op.path)) {
                eprintln!(
                    "userbatch-mock: {} {} of {} is also a path of {}: not served",
                    op.method,
                    op.path,
                    v.name(),
                    other.name()
                );
                continue;
            }
            taken.push((v, &op.path));
            router = router.route(
                &op.path,
                on(
                    filter,
                    move |State(shared): State<Arc<Shared>>,
                          method: Method,
                          uri: Uri,
                          headers: HeaderMap,
                          body: Bytes| async move {
                        serve(
                            shared,
                            spec,
                            &spec.operations[i],
                            method,
                            uri,
                            headers,
                            body,
                        )
                        .await
                    },
                ),
            );
        }
    }
    router
}

/// Whether axum would take two path templates for one route (`/a/{x}` and `/a/{y}`).
fn same_route(a: &str, b: &str) -> bool {
    let shape = |p: &str| -> Vec<String> {
        p.split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "{}".to_owned()
                } else {
                    s.to_owned()
                }
            })
            .collect()
    };
    shape(a) == shape(b)
}

/// An error answer with `message` where the spec's `error-message` points (`""`: the
/// body is the message itself; none: `{"message": ...}`).
pub(crate) fn error_answer(vendor: Vendor, status: u16, message: &str) -> Answer {
    let pointer = self::vendor(vendor)
        .rules
        .error_message
        .as_deref()
        .unwrap_or("/message");
    let mut body = Value::String(message.to_owned());
    for token in pointer.rsplit('/').filter(|t| !t.is_empty()) {
        let mut object = Map::new();
        object.insert(token.replace("~1", "/").replace("~0", "~"), body);
        body = Value::Object(object);
    }
    Answer::json(status, body.to_string())
}

/// The vendor's first throttling status.
pub(crate) fn throttle_status(vendor: Vendor) -> u16 {
    self::vendor(vendor)
        .rules
        .throttle_statuses
        .first()
        .copied()
        .unwrap_or(429)
}

/// The ids of a request as `ids` says they are sent, or why they are not.
fn ids_of(op: &SpecOperation, uri: &Uri, body: &[u8]) -> Result<Vec<String>, String> {
    let ids = &op.rules.ids;
    let text: String = match ids.location {
        IdLocation::Path => {
            let template: Vec<&str> = op.path.split('/').collect();
            let actual: Vec<&str> = uri.path().split('/').collect();
            let at = template
                .iter()
                .position(|s| *s == format!("{{{}}}", ids.name))
                .ok_or("the path has no id parameter")?;
            let raw = actual.get(at).ok_or("no id segment")?;
            percent_encoding::percent_decode_str(raw)
                .decode_utf8_lossy()
                .into_owned()
        }
        IdLocation::Query => {
            let pairs = query_pairs(uri.query().unwrap_or(""));
            query_param(&pairs, &ids.name).ok_or_else(|| format!("{} is required", ids.name))?
        }
        IdLocation::Body => {
            let value: Value =
                serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_owned())?;
            let list = value
                .get(&*ids.name)
                .and_then(Value::as_array)
                .ok_or_else(|| format!("{} must be an array", ids.name))?;
            return list
                .iter()
                .map(|v| match (v, ids.kind) {
                    (Value::String(s), _) if s.is_empty() => {
                        Err(format!("{}: an id is empty", ids.name))
                    }
                    (Value::String(s), IdKind::String) => Ok(s.clone()),
                    (Value::Number(n), IdKind::Integer) if n.is_i64() => Ok(n.to_string()),
                    _ => Err(format!("{}: an id of another type", ids.name)),
                })
                .collect();
        }
    };
    let list: Vec<String> = match ids.encoding {
        IdEncoding::Single => vec![text],
        IdEncoding::Csv => text.split(',').map(str::to_owned).collect(),
        IdEncoding::BracketedCsv => text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .ok_or_else(|| format!("{} must be [id,id,...]", ids.name))?
            .split(',')
            .map(str::to_owned)
            .collect(),
        IdEncoding::JsonArray => return Err("a JSON array of ids goes in the body".into()),
    };
    if list.iter().any(String::is_empty) {
        return Err(format!("{}: an id is empty", ids.name));
    }
    if ids.kind == IdKind::Integer && !list.iter().all(|id| id.parse::<i64>().is_ok()) {
        return Err(format!("{}: ids are integers", ids.name));
    }
    Ok(list)
}

/// The vendor's checks of a request: credentials, ids, limits, paging parameters.
fn check(
    shared: &Shared,
    spec: &SpecVendor,
    op: &SpecOperation,
    uri: &Uri,
    headers: &HeaderMap,
    ids: &Result<Vec<String>, String>,
) -> Result<(), Answer> {
    access(shared, headers, spec.vendor, &spec.schemes)?;
    let limits = &op.rules.limits;
    let query = uri.query().unwrap_or("");
    if limits.max_query_bytes.is_some_and(|max| query.len() > max) {
        return Err(error_answer(
            spec.vendor,
            414,
            "The query string is too long.",
        ));
    }
    let ids = ids
        .as_ref()
        .map_err(|why| error_answer(spec.vendor, 400, why))?;
    if let Some(max) = limits.max_ids.filter(|&max| ids.len() > max) {
        return Err(error_answer(
            spec.vendor,
            400,
            &format!("At most {max} ids per request."),
        ));
    }
    if op.rules.ids.location == IdLocation::Path
        && let Some(max) = limits.max_segment_chars
    {
        let joined: usize = ids.iter().map(|id| id.chars().count() + 1).sum();
        if joined.saturating_sub(1) > max {
            return Err(error_answer(
                spec.vendor,
                400,
                &format!("At most {max} characters of ids."),
            ));
        }
    }
    if let Some(paging) = &op.rules.paging {
        let pairs = query_pairs(query);
        for (name, least) in [
            (&paging.index_param, paging.first_index),
            (&paging.size_param, 1),
        ] {
            if query_param(&pairs, name)
                .is_some_and(|v| v.parse::<u32>().map_or(true, |n| n < least))
            {
                return Err(error_answer(
                    spec.vendor,
                    400,
                    &format!("{name} must be an integer of at least {least}."),
                ));
            }
        }
    }
    Ok(())
}

async fn serve(
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
    let mut checked = check(&shared, spec, op, &uri, &headers, &ids);
    let ids = ids.unwrap_or_default();
    let mut seen = HashSet::new();
    let unique: Vec<String> = ids
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect();
    // One unknown id fails the request, where the rules say so.
    let fails = match op.rules.unknown_ids {
        UnknownIds::Omitted => None,
        UnknownIds::FailsRequest(status) => Some(status),
        UnknownIds::OmittedOrFailsRequest(status) => {
            (shared.config.unknown_id_answer() == UnknownIdAnswer::FailRequest).then_some(status)
        }
    };
    if checked.is_ok()
        && let Some(status) = fails
        && unique.iter().any(|id| shared.config.is_missing(id))
    {
        checked = Err(error_answer(spec.vendor, status, "Not found"));
    }
    let pairs = query_pairs(uri.query().unwrap_or(""));
    let page = op.rules.paging.as_ref().map(|p| {
        let get = |name: &str, default: u32| {
            query_param(&pairs, name)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(default as usize)
        };
        (
            get(&p.index_param, p.first_index).saturating_sub(p.first_index as usize),
            get(&p.size_param, p.default_size).max(1),
        )
    });
    let success = |answering: Answering| {
        let found = answering.ids(&unique, |id| !shared.config.is_missing(id));
        let total = found.len();
        let shown: Vec<&String> = match page {
            Some((index, size)) => found
                .iter()
                .skip(index.saturating_mul(size))
                .take(size)
                .collect(),
            None => found.iter().collect(),
        };
        let drift = shared.drift(spec.vendor);
        let mut records = Vec::with_capacity(shown.len());
        for id in shown {
            let id = match op.rules.ids.kind {
                IdKind::Integer => id
                    .parse::<i64>()
                    .map_or_else(|_| Value::from(id.clone()), Value::from),
                IdKind::String => Value::from(id.clone()),
            };
            let mut out = Vec::new();
            write_checked::<Value>(
                &mut out,
                &op.schema,
                shared.config.seed,
                &op.rules.records.id_field,
                &id,
                op.skip.as_deref(),
                drift,
                false,
            );
            records.push(serde_json::from_slice::<Value>(&out).unwrap_or(Value::Null));
        }
        let records = if op.rules.records.many {
            Value::Array(records)
        } else {
            records.into_iter().next().unwrap_or(Value::Null)
        };
        if !op.rules.records.many && records.is_null() {
            return error_answer(spec.vendor, 404, "Not found");
        }
        // The envelope's other fields as its schema says, then the records and the total.
        let mut body = match &op.envelope {
            Some(envelope) => {
                let mut out = Vec::new();
                envelope.write_json(
                    &mut out,
                    shared.config.seed,
                    "",
                    &Value::from("envelope"),
                    None,
                    crate::data::RecordDrift::default(),
                );
                serde_json::from_slice(&out).unwrap_or(Value::Null)
            }
            None => Value::Null,
        };
        put(&mut body, &op.rules.records.pointer, records);
        if let Some(paging) = &op.rules.paging {
            put(&mut body, &paging.total_pointer, Value::from(total));
        }
        Answer::json(200, body.to_string())
    };
    incoming.answer(checked, success).await
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
}
