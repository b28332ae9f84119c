//! Every vendor, served from its spec alone: each operation with `x-userbatch` answered as
//! its rules say, with records made from its schema, and each `update-operation` they link.
//! Nothing here names a vendor; what the rules cannot say comes from the spec's
//! `x-userbatch-mock` ([`MockQuirks`]).
//!
//! | rule | answer |
//! |---|---|
//! | no `Authorization` of a scheme the spec's `securitySchemes` name | 401 |
//! | a path parameter value [`crate::MockConfig::path_values`] does not list | 404 with the error body at `error-message` |
//! | a query string over `limits.max-query-bytes` as sent | 414 |
//! | ids not written as `ids.in`/`encoding` say, an id not of `ids.type` (integers as they print, at most 19 digits), or an empty one outside a body | 400 |
//! | more than `limits.max-ids`, or a segment over `limits.max-segment-chars` | 400 |
//! | a required parameter missing; a value outside its `enum` (or `accepted-values`), an integer parameter that is not one or is under its `minimum` | 400 |
//! | an `Accept` parameter without `application/json` (the mock writes only JSON) | 406 |
//! | an attribute `attributes` does not know, or a single-id one with several ids | 400 |
//! | a page index under `paging.first-index`, a page size under 1, or either not a 32-bit integer | 400 |
//! | unknown ids ([`crate::MockConfig::missing_ids`]); integer ids beyond 64 bits; empty ids in a body | left out; for `unknown-ids: {fails-request: S}` (and `omitted-or-fails-request` when [`crate::MockConfig::unknown_ids`] says so), S for the whole request |
//! | found ids | records at `records.pointer` (inside their envelope, its other fields made from its schema), each once, in request order (`vendor-order`: the mock's own), `partial.unpopulated` left out, only the summary attributes plus those asked for; paged by `paging` (capped by [`crate::MockConfig::max_page_size`]), the total at its `total-pointer`, the page's index and size beside it |
//! | a single-record operation (`records.many: false`) asked for an unknown id | 404 with the error body |
//! | an update whose body is not a whole record of its schema with its id | 400 |
//! | an update | 200, `update-answer` (or its response schema); fields absent from the body are reported cleared, as a vendor clears them; later reads return the record sent |
//! | an error status in `html-statuses` | the web server's HTML page instead of the error body |
//! | a path another vendor's spec has too | not served (one origin cannot serve a path twice; said on standard error) |

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{MethodFilter, on};
use serde_json::{Map, Value};
use userbatch_core::rules::{
    Attributes, IdEncoding, IdKind, IdLocation, MockQuirks, OperationRules, UnknownIds, VendorRules,
};

use super::{Answer, Incoming, access, credential, query_pairs, query_param, write_record};
use crate::data::{RecordDrift, RecordSchema, hash3};
use crate::drift::Answering;
use crate::{Shared, UnknownIdAnswer, Vendor};

/// One vendor's rules, read from its spec.
pub(crate) struct SpecVendor {
    pub(crate) vendor: Vendor,
    pub(crate) rules: VendorRules,
    /// The spec's root `x-userbatch-mock`.
    quirks: MockQuirks,
    /// The `Authorization` schemes its `securitySchemes` accept.
    schemes: Vec<&'static str>,
    operations: Vec<SpecOperation>,
    updates: Vec<UpdateOperation>,
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
    /// The parameters checked as the spec declares them (not the ids, paging or
    /// attributes, which have rules of their own).
    params: Vec<Param>,
    /// Whether the request body must carry the ids field (ids in the body only).
    body_ids_required: bool,
    /// The request body, where the operation takes one.
    body: Option<BodySpec>,
    /// Whether an empty ids value asks for no one (its schema allows it: no `minItems`,
    /// `minLength` or `pattern`) rather than being refused.
    empty_ids_allowed: bool,
}

/// A request body as the spec declares it.
struct BodySpec {
    required: bool,
    /// Its object schema (fields checked as declared), if it is an object.
    schema: Option<RecordSchema>,
    /// The fields it requires.
    required_fields: Vec<String>,
}

/// An update operation (`PUT` of a whole record) a batch operation links.
struct UpdateOperation {
    method: Method,
    path: String,
    operation_id: String,
    /// The record schema of the body.
    schema: RecordSchema,
    id_field: String,
    id_kind: IdKind,
    /// `update-answer`, or the answer made from its response schema.
    answer: Value,
}

/// Where a parameter goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ParamIn {
    Path,
    Query,
    Header,
}

/// A parameter as its spec declares it.
struct Param {
    name: String,
    location: ParamIn,
    required: bool,
    /// The values it takes (`enum`, else `accepted-values`); empty: any.
    values: Vec<String>,
    /// `Some(minimum)` for an integer parameter.
    integer: Option<i64>,
}

impl Param {
    fn value(&self, op: &SpecOperation, uri: &Uri, headers: &HeaderMap) -> Option<String> {
        match self.location {
            ParamIn::Path => path_value(&op.path, uri, &self.name),
            ParamIn::Query => query_param(&query_pairs(uri.query().unwrap_or("")), &self.name),
            ParamIn::Header => headers
                .get(self.name.as_str())
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }

    /// Why `value` (or its absence) is refused, with the status.
    fn refused(&self, value: Option<&str>) -> Option<(u16, String)> {
        let name = &self.name;
        if name.eq_ignore_ascii_case("accept") {
            // The mock writes JSON only, whatever else the parameter lists.
            let json = value.is_some_and(|v| {
                v.split(',')
                    .any(|m| m.split(';').next().unwrap_or("").trim() == "application/json")
            });
            return (!json && (value.is_some() || self.required)).then(|| {
                (
                    406,
                    "Not Acceptable: send Accept: application/json".to_owned(),
                )
            });
        }
        let Some(value) = value else {
            return self.required.then(|| (400, format!("{name} is required")));
        };
        if !self.values.is_empty() && !MockQuirks::accepts(&self.values, value) {
            // A header's value is not quoted back: headers carry credentials.
            return Some((
                400,
                if self.location == ParamIn::Header {
                    format!("{name}: not a value it takes")
                } else {
                    format!("{name}: '{value}' is not a value it takes")
                },
            ));
        }
        if let Some(least) = self.integer
            && value.parse::<i64>().map_or(true, |n| n < least)
        {
            return Some((400, format!("{name}: an integer of at least {least}")));
        }
        None
    }
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

/// `$ref`s followed to what they name.
fn resolve<'a>(spec: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..32 {
        let Some(r) = v.get("$ref").and_then(Value::as_str) else {
            break;
        };
        v = spec
            .pointer(r.trim_start_matches('#'))
            .unwrap_or(&Value::Null);
    }
    v
}

/// The name of the schema a `$ref` names, if `v` is one.
fn ref_name(v: &Value) -> Option<String> {
    v.get("$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")
        .map(str::to_owned)
}

/// The `x-userbatch-mock` of `v`, if any.
fn quirks_of(v: &Value) -> Result<MockQuirks, String> {
    v.get("x-userbatch-mock")
        .map(|q| serde_json::from_value(q.clone()).map_err(|e| format!("x-userbatch-mock: {e}")))
        .unwrap_or_else(|| Ok(MockQuirks::default()))
}

fn read(vendor: Vendor) -> Result<SpecVendor, String> {
    let spec: Value = serde_json::from_str(vendor.spec_json()).map_err(|e| e.to_string())?;
    let rules: VendorRules = serde_json::from_value(spec["x-userbatch"].clone())
        .map_err(|e| format!("x-userbatch: {e}"))?;
    let quirks = quirks_of(&spec)?;
    let schemes = schemes(&spec);
    let mut operations = Vec::new();
    let mut links = Vec::new();
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
            let schema = compile(&spec, vendor, &record);
            let skip = rules.partial.as_ref().map(|p| schema.mask(&p.unpopulated));
            let envelope =
                envelope_schema_name(&spec, op, &rules).map(|name| compile(&spec, vendor, &name));
            if let Some(update) = &rules.update_operation {
                links.push((
                    update.to_string(),
                    rules.records.id_field.to_string(),
                    rules.ids.kind,
                ));
            }
            let params = params(&spec, item, op, &rules, &quirks_of(op)?);
            let body_ids_required = rules.ids.location == IdLocation::Body
                && op
                    .pointer("/requestBody/content/application~1json/schema")
                    .map(|s| resolve(&spec, s))
                    .and_then(|s| s.get("required"))
                    .and_then(Value::as_array)
                    .is_some_and(|r| r.iter().any(|n| n.as_str() == Some(&*rules.ids.name)));
            let body = op.get("requestBody").map(|b| {
                let b = resolve(&spec, b);
                let schema = b
                    .pointer("/content/application~1json/schema")
                    .map(|s| resolve(&spec, s));
                BodySpec {
                    required: b.get("required").and_then(Value::as_bool) == Some(true),
                    schema: schema.and_then(|s| {
                        let key: &'static str = format!("{}.{op_id}.body", vendor.name()).leak();
                        RecordSchema::compile_schema(&spec, s, key)
                    }),
                    required_fields: schema
                        .and_then(|s| s.get("required"))
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                }
            });
            let empty_ids_allowed = rules.ids.location != IdLocation::Body
                && ids_param_schema(&spec, item, op, &rules.ids.name).is_some_and(|s| {
                    let at_least_one =
                        |key: &str| s.get(key).and_then(Value::as_u64).unwrap_or(0) >= 1;
                    !at_least_one("minItems")
                        && !at_least_one("minLength")
                        && s.get("pattern").is_none()
                });
            operations.push(SpecOperation {
                method: method_of(method)?,
                path: path.clone(),
                rules,
                schema,
                skip,
                envelope,
                params,
                body_ids_required,
                body,
                empty_ids_allowed,
            });
        }
    }
    let mut updates = Vec::new();
    for (operation_id, id_field, id_kind) in links {
        if updates
            .iter()
            .any(|u: &UpdateOperation| u.operation_id == operation_id)
        {
            continue;
        }
        updates.push(update_operation(
            &spec,
            vendor,
            operation_id,
            id_field,
            id_kind,
        )?);
    }
    let all_paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    Ok(SpecVendor {
        vendor,
        rules,
        quirks,
        schemes,
        operations,
        updates,
        all_paths,
    })
}

fn method_of(method: &str) -> Result<Method, String> {
    Method::from_bytes(method.to_uppercase().as_bytes()).map_err(|e| e.to_string())
}

/// A record schema of `vendor`, keyed `vendor.Name` (the key of records a PUT wrote).
fn compile(spec: &Value, vendor: Vendor, name: &str) -> RecordSchema {
    // Compiled once per operation, when the specs are first read.
    let key: &'static str = format!("{}.{name}", vendor.name()).leak();
    RecordSchema::compile(spec, name, key)
}

/// The `Authorization` schemes the spec's `security` names; OAuth2 tokens come as bearer
/// tokens.
fn schemes(spec: &Value) -> Vec<&'static str> {
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
    schemes
}

/// The schema of the parameter `name` (the operation's own, else its path's).
fn ids_param_schema<'a>(
    spec: &'a Value,
    item: &'a Value,
    op: &'a Value,
    name: &str,
) -> Option<&'a Value> {
    [op, item]
        .into_iter()
        .filter_map(|v| v.get("parameters").and_then(Value::as_array))
        .flatten()
        .map(|p| resolve(spec, p))
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|p| p.get("schema"))
        .map(|s| resolve(spec, s))
}

/// The parameters of an operation (its own overriding its path's) that the mock checks as
/// declared.
fn params(
    spec: &Value,
    item: &Value,
    op: &Value,
    rules: &OperationRules,
    quirks: &MockQuirks,
) -> Vec<Param> {
    let mut out: Vec<Param> = Vec::new();
    let declared = [op, item]
        .into_iter()
        .filter_map(|v| v.get("parameters").and_then(Value::as_array))
        .flatten()
        .map(|p| resolve(spec, p));
    let own_rules: Vec<&str> = [Some(&*rules.ids.name)]
        .into_iter()
        .chain(
            rules
                .paging
                .iter()
                .flat_map(|p| [&*p.index_param, &*p.size_param].map(Some)),
        )
        .chain([rules.attributes.as_ref().map(|a| &*a.param)])
        .flatten()
        .collect();
    for p in declared {
        let (Some(name), Some(location)) = (
            p.get("name").and_then(Value::as_str),
            p.get("in").and_then(Value::as_str),
        ) else {
            continue;
        };
        let location = match location {
            "path" => ParamIn::Path,
            "query" => ParamIn::Query,
            "header" => ParamIn::Header,
            _ => continue,
        };
        if own_rules.contains(&name) || out.iter().any(|o| o.name == name) {
            continue;
        }
        let schema = p.get("schema").map_or(&Value::Null, |s| resolve(spec, s));
        let mut values: Vec<String> = schema
            .get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect();
        if values.is_empty() {
            values = quirks
                .accepted_values
                .get(name)
                .cloned()
                .unwrap_or_default();
        }
        let integer = (schema.get("type").and_then(Value::as_str) == Some("integer")).then(|| {
            schema
                .get("minimum")
                .and_then(Value::as_i64)
                .unwrap_or(i64::MIN)
        });
        out.push(Param {
            name: name.to_owned(),
            location,
            required: p.get("required").and_then(Value::as_bool) == Some(true),
            values,
            integer,
        });
    }
    out
}

/// The update operation `operation_id` of the spec.
fn update_operation(
    spec: &Value,
    vendor: Vendor,
    operation_id: String,
    id_field: String,
    id_kind: IdKind,
) -> Result<UpdateOperation, String> {
    let (path, method, op) = spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .map(move |(method, op)| (path, method, op))
        })
        .find(|(_, _, op)| op.get("operationId").and_then(Value::as_str) == Some(&operation_id))
        .ok_or_else(|| format!("update-operation {operation_id}: not in the spec"))?;
    let record = op
        .pointer("/requestBody/content/application~1json/schema")
        .and_then(ref_name)
        .ok_or_else(|| format!("{operation_id}: its body is not a named record schema"))?;
    let answer = match quirks_of(op)?.update_answer {
        Some(answer) => answer,
        None => op
            .pointer("/responses/200/content/application~1json/schema")
            .and_then(ref_name)
            .map_or(Value::Null, |name| {
                let schema = compile(spec, vendor, &name);
                let mut out = Vec::new();
                schema.write_json(
                    &mut out,
                    0,
                    "",
                    &Value::from("answer"),
                    None,
                    RecordDrift::default(),
                );
                serde_json::from_slice(&out).unwrap_or(Value::Null)
            }),
    };
    Ok(UpdateOperation {
        method: method_of(method)?,
        path: path.clone(),
        schema: compile(spec, vendor, &record),
        operation_id,
        id_field,
        id_kind,
        answer,
    })
}

/// The name of the 200 answer's schema, when it is a named object holding the records.
fn envelope_schema_name(spec: &Value, op: &Value, rules: &OperationRules) -> Option<String> {
    if rules.records.pointer.is_empty() {
        return None;
    }
    let name = ref_name(op.pointer("/responses/200/content/application~1json/schema")?)?;
    let schema = spec.pointer(&format!("/components/schemas/{name}"))?;
    let object = schema.get("type").and_then(Value::as_str) == Some("object")
        || schema.get("properties").is_some();
    object.then_some(name)
}

/// The name of one record's schema: `partial.of`, or the last `$ref` on the way to it.
fn record_schema_name(spec: &Value, op: &Value, rules: &OperationRules) -> Option<String> {
    if let Some(partial) = &rules.partial {
        return Some(partial.of.to_string());
    }
    let step = |v: &Value| -> (Option<String>, Value) {
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
        step(op.pointer("/responses/200/content/application~1json/schema")?);
    for token in rules.records.pointer.split('/').filter(|t| !t.is_empty()) {
        (name, schema) = step(schema.pointer(&format!("/properties/{token}"))?);
    }
    if rules.records.many {
        (name, _) = step(schema.get("items")?);
    }
    name
}

/// The routes of every operation of every vendor.
pub(crate) fn routes(mut router: Router<Arc<Shared>>) -> Router<Arc<Shared>> {
    // One origin cannot serve a path twice (axum refuses it by panicking): the first spec
    // to declare a path has it.
    let mut taken: Vec<(Vendor, &str)> = Vec::new();
    for v in Vendor::ALL {
        let spec = vendor(v);
        let batch = spec.operations.iter().enumerate().map(|(i, op)| {
            let route = (&op.method, op.path.as_str());
            (route, Served::Batch(i))
        });
        let updates = spec.updates.iter().enumerate().map(|(i, up)| {
            let route = (&up.method, up.path.as_str());
            (route, Served::Update(i))
        });
        let mut mine: Vec<&str> = Vec::new();
        for ((method, path), served) in batch.chain(updates).collect::<Vec<_>>() {
            let Ok(filter) = MethodFilter::try_from(method.clone()) else {
                continue;
            };
            if let Some((other, _)) = taken.iter().find(|(_, p)| same_route(p, path)) {
                eprintln!(
                    "userbatch-mock: {method} {path} of {} is also a path of {}: not served",
                    v.name(),
                    other.name()
                );
                continue;
            }
            mine.push(path);
            router = router.route(
                path,
                on(
                    filter,
                    move |State(shared): State<Arc<Shared>>,
                          method: Method,
                          uri: Uri,
                          headers: HeaderMap,
                          body: Bytes| async move {
                        match served {
                            Served::Batch(i) => {
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
                            }
                            Served::Update(i) => {
                                update(shared, spec, &spec.updates[i], method, uri, headers, body)
                                    .await
                            }
                        }
                    },
                ),
            );
        }
        taken.extend(spec.all_paths.iter().map(|p| (v, p.as_str())));
    }
    router
}

/// Which operation of a vendor a route serves.
#[derive(Clone, Copy)]
enum Served {
    Batch(usize),
    Update(usize),
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
/// body is the message itself; none: `{"message": ...}`), or the web server's HTML page
/// for a status in `html-statuses`.
pub(super) fn error_answer(vendor: Vendor, status: u16, message: &str) -> Answer {
    let spec = self::vendor(vendor);
    if spec.quirks.html_statuses.contains(&status) {
        let reason = StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        return Answer::html(status, &format!("{status} {reason}"));
    }
    let pointer = spec.rules.error_message.as_deref().unwrap_or("/message");
    let mut body = Value::String(message.to_owned());
    for token in pointer.rsplit('/').filter(|t| !t.is_empty()) {
        let mut object = Map::new();
        object.insert(token.replace("~1", "/").replace("~0", "~"), body);
        body = Value::Object(object);
    }
    Answer::json(status, body.to_string())
}

/// The vendor's first throttling status.
pub(super) fn throttle_status(vendor: Vendor) -> u16 {
    self::vendor(vendor)
        .rules
        .throttle_statuses
        .first()
        .copied()
        .unwrap_or(429)
}

/// The percent-decoded value of the path parameter `name` of `template` in `uri`.
fn path_value(template: &str, uri: &Uri, name: &str) -> Option<String> {
    let at = template
        .split('/')
        .position(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) == Some(name))?;
    let raw = uri.path().split('/').nth(at)?;
    Some(
        percent_encoding::percent_decode_str(raw)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// An integer id as it prints (digits, no leading zero, at most 19 of them): `Ok(None)`
/// for one beyond 64 signed bits (nobody's id), `Err` for text that is not one.
fn integer_id(id: &str) -> Result<Option<i64>, ()> {
    let canonical = (1..=19).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_digit())
        && (id == "0" || !id.starts_with('0'));
    if canonical {
        Ok(id.parse().ok())
    } else {
        Err(())
    }
}

/// The ids of a request as `ids` says they are sent, or why they are not.
fn ids_of(op: &SpecOperation, uri: &Uri, body: &[u8]) -> Result<Vec<String>, String> {
    let ids = &op.rules.ids;
    let name = &ids.name;
    let text: String = match ids.location {
        IdLocation::Path => path_value(&op.path, uri, name).ok_or("no id segment")?,
        IdLocation::Query => query_param(&query_pairs(uri.query().unwrap_or("")), name)
            .ok_or_else(|| format!("{name} is required"))?,
        IdLocation::Body => {
            if body.is_empty() {
                return Err("A request body is required.".into());
            }
            let value: Value = serde_json::from_slice(body)
                .ok()
                .filter(Value::is_object)
                .ok_or("The body must be a JSON object.")?;
            let Some(list) = value.get(&**name) else {
                // An optional ids field left out asks for no one.
                return if op.body_ids_required {
                    Err(format!("{name} is required"))
                } else {
                    Ok(Vec::new())
                };
            };
            let list = list
                .as_array()
                .ok_or_else(|| format!("{name} must be an array"))?;
            // An empty string is nobody's id (not found), as the planner never sends one.
            return list
                .iter()
                .map(|v| match (v, ids.kind) {
                    (Value::String(s), IdKind::String) => Ok(s.clone()),
                    (Value::Number(n), IdKind::Integer) if n.is_i64() => Ok(n.to_string()),
                    _ => Err(format!("{name}: an id of another type")),
                })
                .collect();
        }
    };
    if text.is_empty() && op.empty_ids_allowed {
        // The spec allows an empty list: it asks for no one.
        return Ok(Vec::new());
    }
    let list: Vec<String> = match ids.encoding {
        IdEncoding::Single => vec![text],
        IdEncoding::Csv => text.split(',').map(str::to_owned).collect(),
        IdEncoding::BracketedCsv => text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .ok_or_else(|| {
                format!("{name} must be a list of ids in square brackets, e.g. [1,2,3]")
            })?
            .split(',')
            .map(str::to_owned)
            .collect(),
        IdEncoding::JsonArray => return Err("a JSON array of ids goes in the body".into()),
    };
    if list.iter().any(String::is_empty) {
        return Err(format!("{name}: an id is empty"));
    }
    if list
        .iter()
        .any(|id| id.chars().any(|c| ids.forbidden_chars.contains(c)))
    {
        return Err(format!("{name}: an id holds a character ids cannot have"));
    }
    if ids.kind == IdKind::Integer && !list.iter().all(|id| integer_id(id).is_ok()) {
        return Err(format!("{name}: ids are integers as they print"));
    }
    Ok(list)
}

/// The attributes a request asks for, comma-separated in `attrs.param`.
fn asked_attributes(attrs: &Attributes, uri: &Uri) -> Vec<String> {
    query_param(&query_pairs(uri.query().unwrap_or("")), &attrs.param)
        .map(|v| {
            v.split(',')
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The vendor's checks of a request: credentials, path values, limits, ids, parameters,
/// attributes, paging.
fn check(
    shared: &Shared,
    spec: &SpecVendor,
    op: &SpecOperation,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    ids: &Result<Vec<String>, String>,
) -> Result<(), Answer> {
    let vendor = spec.vendor;
    access(shared, headers, vendor, &spec.schemes)?;
    let ids_param = (op.rules.ids.location == IdLocation::Path).then_some(&*op.rules.ids.name);
    known_path_values(shared, vendor, &op.path, uri, ids_param)?;
    let limits = &op.rules.limits;
    let query = uri.query().unwrap_or("");
    if limits.max_query_bytes.is_some_and(|max| query.len() > max) {
        return Err(error_answer(vendor, 414, "The query string is too long."));
    }
    let ids = ids.as_ref().map_err(|why| error_answer(vendor, 400, why))?;
    if let Some(spec_body) = &op.body
        && let Some(why) = body_refused(spec_body, body)
    {
        return Err(error_answer(vendor, 400, &why));
    }
    if let Some(max) = limits.max_ids.filter(|&max| ids.len() > max) {
        return Err(error_answer(
            vendor,
            400,
            &format!("At most {max} ids per request."),
        ));
    }
    if op.rules.ids.location == IdLocation::Path
        && let Some(max) = limits.max_segment_chars
    {
        // As sent: the segment's characters before percent-decoding.
        let at = op
            .path
            .split('/')
            .position(|s| s == format!("{{{}}}", op.rules.ids.name));
        let sent = at
            .and_then(|at| uri.path().split('/').nth(at))
            .map_or(0, str::len);
        if sent > max {
            return Err(error_answer(
                vendor,
                400,
                &format!("At most {max} characters of ids."),
            ));
        }
    }
    for param in &op.params {
        if let Some((status, why)) = param.refused(param.value(op, uri, headers).as_deref()) {
            return Err(error_answer(vendor, status, &why));
        }
    }
    if let Some(attrs) = &op.rules.attributes {
        for a in asked_attributes(attrs, uri) {
            if !attrs.knows(&a) {
                return Err(error_answer(
                    vendor,
                    400,
                    &format!("{}: unknown attribute {a}", attrs.param),
                ));
            }
            if ids.len() > 1 && attrs.single_id_only.iter().any(|s| *s == a) {
                return Err(error_answer(
                    vendor,
                    400,
                    &format!("{}: {a} is valid only for a single id", attrs.param),
                ));
            }
        }
    }
    if let Some(paging) = &op.rules.paging {
        let pairs = query_pairs(query);
        for (name, least) in [
            (&paging.index_param, paging.first_index),
            (&paging.size_param, 1),
        ] {
            if query_param(&pairs, name).is_some_and(|v| {
                v.parse::<i32>()
                    .map_or(true, |n| i64::from(n) < i64::from(least))
            }) {
                return Err(error_answer(
                    vendor,
                    400,
                    &format!("{name} must be a 32-bit integer of at least {least}."),
                ));
            }
        }
    }
    Ok(())
}

/// Why a request body does not fit its declaration: missing where required, not a JSON
/// object where the schema is one, a required field missing, a field of another type.
fn body_refused(spec: &BodySpec, body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return spec
            .required
            .then(|| "A request body is required.".to_owned());
    }
    let schema = spec.schema.as_ref()?;
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Some("The body must be a JSON object.".to_owned());
    };
    if let Some(name) = spec
        .required_fields
        .iter()
        .find(|f| !fields.contains_key(*f))
    {
        return Some(format!("{name} is required."));
    }
    schema
        .invalid_field(&fields)
        .map(|(field, why)| format!("{field} {why}."))
}

/// 404 for a path parameter value [`crate::MockConfig::path_values`] does not list (not
/// the ids' parameter: an unknown id is answered as the rules say).
fn known_path_values(
    shared: &Shared,
    vendor: Vendor,
    template: &str,
    uri: &Uri,
    ids_param: Option<&str>,
) -> Result<(), Answer> {
    for name in template
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .filter(|name| Some(*name) != ids_param)
    {
        if let Some(value) = path_value(template, uri, name)
            && !shared.config.knows_path_value(name, &value)
        {
            return Err(error_answer(
                vendor,
                404,
                &format!("{name} '{value}' was not found"),
            ));
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

/// An update: the whole record as the body, stored for later reads.
async fn update(
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

    #[test]
    fn integer_ids_are_as_they_print() {
        assert_eq!(integer_id("0"), Ok(Some(0)));
        assert_eq!(integer_id("42"), Ok(Some(42)));
        assert_eq!(integer_id("9999999999999999999"), Ok(None));
        for bad in ["", "007", "-1", "1a", "99999999999999999999"] {
            assert_eq!(integer_id(bad), Err(()), "{bad:?}");
        }
    }

    #[test]
    fn updates_answer_with_their_template_filled() {
        let template = serde_json::json!({"Value": "{id}", "Message": "{message}", "Ok": true});
        assert_eq!(
            fill(&template, &Value::from(7), "Updated."),
            serde_json::json!({"Value": 7, "Message": "Updated.", "Ok": true})
        );
    }
}
