//! The specs read into what the handlers need: per vendor its rules, credential schemes
//! and paths; per batch operation its record schema, envelope, parameters, request body and
//! ids; per linked update operation its record schema and answer.

use std::sync::LazyLock;

use axum::http::Method;
use serde_json::Value;
use userbatch_core::rules::{IdKind, IdLocation, MockQuirks, OperationRules, VendorRules};

use crate::data::{RecordDrift, RecordSchema};
use crate::vendor::Vendor;

/// One vendor's rules, read from its spec.
pub(crate) struct SpecVendor {
    pub(super) vendor: Vendor,
    pub(super) rules: VendorRules,
    /// The spec's root `x-userbatch-mock`.
    pub(super) quirks: MockQuirks,
    /// The `Authorization` schemes its `securitySchemes` accept.
    pub(super) schemes: Vec<&'static str>,
    pub(super) operations: Vec<SpecOperation>,
    pub(super) updates: Vec<UpdateOperation>,
    /// Every path of the spec, batch operation or not.
    pub(super) all_paths: Vec<String>,
}

/// One batch operation of a spec.
pub(super) struct SpecOperation {
    pub(super) method: Method,
    /// The path template, `{name}` for parameters (as axum writes them too).
    pub(super) path: String,
    pub(super) rules: OperationRules,
    pub(super) schema: RecordSchema,
    /// The record fields a summary leaves out.
    pub(super) skip: Option<Vec<bool>>,
    /// The schema of the whole answer when the records are inside an object of a named
    /// schema: its other fields are made from it, so the answer fits the spec.
    pub(super) envelope: Option<RecordSchema>,
    /// The parameters checked as the spec declares them (not the ids, paging or
    /// attributes, which have rules of their own).
    pub(super) params: Vec<Param>,
    /// Whether the request body must carry the ids field (ids in the body only).
    pub(super) body_ids_required: bool,
    /// The request body, where the operation takes one.
    pub(super) body: Option<BodySpec>,
    /// Whether an empty ids value asks for no one (its schema allows it: no `minItems`,
    /// `minLength` or `pattern`) rather than being refused.
    pub(super) empty_ids_allowed: bool,
}

/// A request body as the spec declares it.
pub(super) struct BodySpec {
    pub(super) required: bool,
    /// Its object schema (fields checked as declared), if it is an object.
    pub(super) schema: Option<RecordSchema>,
    /// The fields it requires.
    pub(super) required_fields: Vec<String>,
}

/// An update operation (`PUT` of a whole record) a batch operation links.
pub(super) struct UpdateOperation {
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) operation_id: String,
    /// The record schema of the body.
    pub(super) schema: RecordSchema,
    pub(super) id_field: String,
    pub(super) id_kind: IdKind,
    /// `update-answer`, or the answer made from its response schema.
    pub(super) answer: Value,
}

/// Where a parameter goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ParamIn {
    Path,
    Query,
    Header,
}

/// A parameter as its spec declares it.
pub(super) struct Param {
    pub(super) name: String,
    pub(super) location: ParamIn,
    pub(super) required: bool,
    /// The values it takes (`enum`, else `accepted-values`); empty: any.
    pub(super) values: Vec<String>,
    /// `Some(minimum)` for an integer parameter.
    pub(super) integer: Option<i64>,
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
pub(super) fn vendor(vendor: Vendor) -> &'static SpecVendor {
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
