//! One operation's `x-userbatch` rules against the operation and the schemas they describe:
//! the ids' parameter or body property, the limits, the records' pointer and id field, the
//! documented not-found answer, attribute selection, paging, partial records, and the
//! links (`resource`, `update-operation`, `skip-parameters`).

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::spec::{IdEncoding, IdKind, IdLocation, OperationRules, Spec};

/// Every problem of the operation `op` at `path` whose rules are `ext`; `at` prefixes the
/// messages, `operation_ids` are the spec's.
pub(super) fn check(
    spec: &Spec,
    path: &str,
    op: &Value,
    ext: &OperationRules,
    at: &str,
    operation_ids: &BTreeSet<&str>,
    out: &mut Vec<String>,
) {
    let rules = Rules {
        spec,
        op,
        ext,
        at,
        params: parameters(spec, path, op),
    };
    rules.check_ids(out);
    let Some(ok_schema) = op.pointer("/responses/200/content/application~1json/schema") else {
        out.push(format!(
            "{at}: the operation has no application/json 200 response"
        ));
        return;
    };
    let record_ref = rules.check_records(ok_schema, out);
    rules.check_not_found(out);
    rules.check_attributes(record_ref.as_deref(), out);
    rules.check_paging(ok_schema, out);
    rules.check_partial(record_ref.as_deref(), operation_ids, out);
    rules.check_links(out);
}

/// One operation's rules and what checking them needs.
struct Rules<'a> {
    spec: &'a Spec,
    op: &'a Value,
    ext: &'a OperationRules,
    /// The messages' prefix: `<operationId> x-userbatch`.
    at: &'a str,
    /// (name, in, resolved schema) of the operation's parameters.
    params: Vec<(String, String, &'a Value)>,
}

impl Rules<'_> {
    /// The ids' parameter (its type, style and maxItems) or body property, the characters
    /// their encoding forbids, and the limits that need the ids in one place.
    fn check_ids(&self, out: &mut Vec<String>) {
        let Self {
            spec, op, ext, at, ..
        } = *self;
        let params = &self.params;
        let ids = &ext.ids;
        match ids.location {
            IdLocation::Path | IdLocation::Query => {
                let want = if ids.location == IdLocation::Path {
                    "path"
                } else {
                    "query"
                };
                match params.iter().find(|p| p.0 == ids.name && p.1 == want) {
                    None => out.push(format!("{at}.ids: no {want} parameter `{}`", ids.name)),
                    Some((_, _, schema)) => {
                        let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
                        let expected = match (ids.location, ids.encoding, ids.kind) {
                            (_, IdEncoding::Single, IdKind::Integer) => "integer",
                            // `1001,1002` in a path segment is OpenAPI's array, style simple.
                            (IdLocation::Path, IdEncoding::Csv, _) => "array",
                            _ => "string",
                        };
                        if ty != expected {
                            out.push(format!(
                                "{at}.ids: parameter `{}` is `{ty}`, expected `{expected}` for this \
                                 encoding and id type",
                                ids.name
                            ));
                        }
                        if expected == "array" {
                            let param = op
                                .get("parameters")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                                .filter_map(|p| spec.resolve(p).ok())
                                .find(|p| p.get("name").and_then(Value::as_str) == Some(&ids.name));
                            let style = param.and_then(|p| p.get("style")).and_then(Value::as_str);
                            let explode = param
                                .and_then(|p| p.get("explode"))
                                .and_then(Value::as_bool);
                            if style.is_some_and(|s| s != "simple") || explode == Some(true) {
                                out.push(format!(
                                    "{at}.ids: parameter `{}` must be style simple, explode false \
                                     (`a,b,c`)",
                                    ids.name
                                ));
                            }
                            let max_items = schema.get("maxItems").and_then(Value::as_u64);
                            if max_items.map(|n| n as usize) != ext.limits.max_ids {
                                out.push(format!(
                                    "{at}.ids: parameter `{}` has maxItems {max_items:?}, but \
                                     limits.max-ids is {:?}",
                                    ids.name, ext.limits.max_ids
                                ));
                            }
                        }
                    }
                }
            }
            IdLocation::Body => {
                let prop = op
                    .pointer("/requestBody/content/application~1json/schema")
                    .and_then(|s| spec.resolve_all(s).ok())
                    .and_then(|s| s.pointer(&format!("/properties/{}", ids.name)));
                match prop {
                    Some(p) if p.get("type").and_then(Value::as_str) == Some("array") => {}
                    _ => out.push(format!(
                        "{at}.ids: request body has no array property `{}`",
                        ids.name
                    )),
                }
                if ids.encoding != IdEncoding::JsonArray {
                    out.push(format!("{at}.ids: body ids must use encoding json-array"));
                }
            }
        }
        let needs: &[char] = match (ids.encoding, ids.kind) {
            (_, IdKind::Integer) | (IdEncoding::Single | IdEncoding::JsonArray, _) => &[],
            (IdEncoding::Csv, IdKind::String) => &[','],
            (IdEncoding::BracketedCsv, IdKind::String) => &[',', ']'],
        };
        for c in needs {
            if !ids.forbidden_chars.contains(*c) {
                out.push(format!(
                    "{at}.ids.forbidden-chars must contain `{c}` for this encoding"
                ));
            }
        }
        if ids.location == IdLocation::Path
            && !ids.forbidden_chars.contains('/')
            && ids.kind == IdKind::String
        {
            out.push(format!(
                "{at}.ids.forbidden-chars must contain `/` for a path segment"
            ));
        }
        if ids.encoding == IdEncoding::Single && ext.limits.max_ids.is_some_and(|n| n != 1) {
            out.push(format!(
                "{at}.limits.max-ids must be 1 (or absent) for encoding single"
            ));
        }
        if ext.limits.max_ids == Some(0) {
            out.push(format!("{at}.limits.max-ids must be at least 1"));
        }
        if ext.limits.max_query_bytes.is_some() && ids.location != IdLocation::Query {
            out.push(format!(
                "{at}.limits.max-query-bytes needs ids in the query"
            ));
        }
        if ext.limits.max_segment_chars.is_some() && ids.location != IdLocation::Path {
            out.push(format!(
                "{at}.limits.max-segment-chars needs ids in the path"
            ));
        }
    }

    /// The records' pointer into the 200 response and their id field; the records'
    /// component name when they are a `$ref`.
    fn check_records(&self, ok_schema: &Value, out: &mut Vec<String>) -> Option<String> {
        let Self { spec, ext, at, .. } = *self;
        match schema_at_pointer(spec, ok_schema, &ext.records.pointer) {
            Err(e) => {
                out.push(format!("{at}.records.pointer: {e}"));
                None
            }
            Ok(target) => {
                let resolved = spec.resolve_all(target).unwrap_or(target);
                let (record, record_ref) = if ext.records.many {
                    match resolved.get("items") {
                        Some(items) => (spec.resolve_all(items).ok(), ref_name(items)),
                        None => {
                            out.push(format!(
                                "{at}.records: many is true but the pointer is not an array"
                            ));
                            (None, None)
                        }
                    }
                } else {
                    (Some(resolved), ref_name(target))
                };
                if let Some(record) = record {
                    let has = record
                        .pointer(&format!("/properties/{}", ext.records.id_field))
                        .is_some();
                    let required = record
                        .get("required")
                        .and_then(Value::as_array)
                        .is_some_and(|r| r.iter().any(|v| v == &*ext.records.id_field));
                    if !has || !required {
                        out.push(format!(
                            "{at}.records.id-field `{}` must be a required property of the record",
                            ext.records.id_field
                        ));
                    }
                }
                record_ref
            }
        }
    }

    /// The not-found answer: only the documented one may call a single id missing.
    fn check_not_found(&self, out: &mut Vec<String>) {
        let Self {
            spec, op, ext, at, ..
        } = *self;
        if let Some(status) = ext.unknown_ids.not_found_status() {
            let responses = op.get("responses").and_then(Value::as_object);
            if let Some(Err(e)) =
                responses.map(|r| crate::generate::not_found_answer(spec, r, status))
            {
                out.push(format!("{at}.unknown-ids: {e}"));
            }
        }
    }

    /// Attribute selection: its query parameter, and names that are the record's properties.
    fn check_attributes(&self, record_ref: Option<&str>, out: &mut Vec<String>) {
        let Self { spec, ext, at, .. } = *self;
        let params = &self.params;
        if let Some(attrs) = &ext.attributes {
            if !params.iter().any(|p| p.0 == attrs.param && p.1 == "query") {
                out.push(format!(
                    "{at}.attributes: no query parameter `{}`",
                    attrs.param
                ));
            }
            let record = record_ref.and_then(|r| spec.schema(r));
            for name in attrs
                .summary
                .iter()
                .chain(attrs.values.iter())
                .chain(attrs.single_id_only.iter())
            {
                if record.is_none_or(|r| r.pointer(&format!("/properties/{name}")).is_none()) {
                    out.push(format!(
                        "{at}.attributes: `{name}` is not a property of the record"
                    ));
                }
            }
            for name in attrs.single_id_only.iter() {
                if !attrs.values.contains(name) {
                    out.push(format!(
                        "{at}.attributes.single-id-only: `{name}` is not in values"
                    ));
                }
            }
            if !attrs.summary.contains(&ext.records.id_field) {
                out.push(format!("{at}.attributes.summary must include the id field"));
            }
        }
    }

    /// Paging: integer query parameters for the page's index and size, and an integer total.
    fn check_paging(&self, ok_schema: &Value, out: &mut Vec<String>) {
        let Self { spec, ext, at, .. } = *self;
        let params = &self.params;
        if let Some(paging) = &ext.paging {
            for name in [&paging.index_param, &paging.size_param] {
                let found = params.iter().any(|p| {
                    &p.0 == name
                        && p.1 == "query"
                        && p.2.get("type").and_then(Value::as_str) == Some("integer")
                });
                if !found {
                    out.push(format!("{at}.paging: no integer query parameter `{name}`"));
                }
            }
            match schema_at_pointer(spec, ok_schema, &paging.total_pointer) {
                Ok(s)
                    if spec
                        .resolve_all(s)
                        .ok()
                        .and_then(|s| s.get("type"))
                        .and_then(Value::as_str)
                        == Some("integer") => {}
                Ok(_) => out.push(format!(
                    "{at}.paging.total-pointer does not name an integer"
                )),
                Err(e) => out.push(format!("{at}.paging.total-pointer: {e}")),
            }
            if paging.default_size == 0 {
                out.push(format!("{at}.paging.default-size must be at least 1"));
            }
        }
    }

    /// Partial records: the full schema has the unpopulated fields, none of them required,
    /// and the full operation returns it.
    fn check_partial(
        &self,
        record_ref: Option<&str>,
        operation_ids: &BTreeSet<&str>,
        out: &mut Vec<String>,
    ) {
        let Self { spec, ext, at, .. } = *self;
        if let Some(partial) = &ext.partial {
            match spec.schema(&partial.of) {
                None => out.push(format!("{at}.partial.of: no schema `{}`", partial.of)),
                Some(full) => {
                    let props = full.get("properties").and_then(Value::as_object);
                    let required: BTreeSet<&str> = full
                        .get("required")
                        .and_then(Value::as_array)
                        .map(|r| r.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    let mut seen = BTreeSet::new();
                    for field in partial.unpopulated.iter() {
                        if !seen.insert(field) {
                            out.push(format!("{at}.partial.unpopulated lists `{field}` twice"));
                        }
                        if !props.is_some_and(|p| p.contains_key(&**field)) {
                            out.push(format!(
                                "{at}.partial.unpopulated: `{field}` is not a property of {}",
                                partial.of
                            ));
                        }
                        if required.contains(&**field) {
                            out.push(format!(
                                "{at}.partial.unpopulated: `{field}` is required in {}, so a summary \
                                 could not decode",
                                partial.of
                            ));
                        }
                    }
                }
            }
            if record_ref != Some(&*partial.of) {
                out.push(format!(
                    "{at}.partial.of is {} but the records are {}",
                    partial.of,
                    record_ref.unwrap_or("an inline schema")
                ));
            }
            if !operation_ids.contains(&*partial.full_operation_id) {
                out.push(format!(
                    "{at}.partial.full-operation: no operation `{}`",
                    partial.full_operation_id
                ));
            } else if let Some((_, _, full_op)) = spec.operations().into_iter().find(|(_, _, o)| {
                o.get("operationId").and_then(Value::as_str) == Some(&*partial.full_operation_id)
            }) {
                let full_ref = full_op
                    .pointer("/responses/200/content/application~1json/schema")
                    .and_then(ref_name);
                if full_ref.as_deref() != Some(&*partial.of) {
                    out.push(format!(
                        "{at}.partial.full-operation `{}` does not return {}",
                        partial.full_operation_id, partial.of
                    ));
                }
            }
        }
    }

    /// `resource`, `update-operation` and `skip-parameters`.
    fn check_links(&self, out: &mut Vec<String>) {
        let Self {
            spec, op, ext, at, ..
        } = *self;
        let params = &self.params;
        let resource = &*ext.resource;
        if !resource.starts_with(|c: char| c.is_ascii_lowercase())
            || !resource
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            out.push(format!(
                "{at}.resource: `{resource}` must be lowercase ASCII letters, digits and `-`, \
                 starting with a letter (it is a command-line word)"
            ));
        }
        if let Some(update) = &ext.update_operation {
            let record = op
                .pointer("/responses/200/content/application~1json/schema")
                .and_then(ref_name);
            match spec
                .operations()
                .into_iter()
                .find(|(_, _, o)| o.get("operationId").and_then(Value::as_str) == Some(update))
            {
                None => out.push(format!("{at}.update-operation: no operation `{update}`")),
                Some((_, _, put)) => {
                    let body = put
                        .pointer("/requestBody/content/application~1json/schema")
                        .and_then(ref_name);
                    if ext.partial.is_some() || ext.records.many || body != record {
                        out.push(format!(
                            "{at}.update-operation `{update}` must take as its JSON body the record \
                             this operation returns whole ({}), and this operation must return one \
                             full record per request",
                            record.as_deref().unwrap_or("an inline schema")
                        ));
                    }
                }
            }
        }
        for skipped in ext.skip_parameters.iter() {
            match params.iter().find(|(name, ..)| *name == skipped.name) {
                None => out.push(format!(
                    "{at}.skip-parameters: no parameter `{}`",
                    skipped.name
                )),
                Some(_) if skipped.name == ext.ids.name => out.push(format!(
                    "{at}.skip-parameters: `{}` carries the ids",
                    skipped.name
                )),
                Some(_) => {
                    let required = op
                        .get("parameters")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|p| spec.resolve(p).ok())
                        .find(|p| p.get("name").and_then(Value::as_str) == Some(&skipped.name))
                        .and_then(|p| p.get("required"))
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    if required {
                        out.push(format!(
                            "{at}.skip-parameters: `{}` is required; only an optional parameter can \
                             be left out",
                            skipped.name
                        ));
                    }
                }
            }
        }
    }
}

/// (name, in, resolved schema) of every parameter of an operation, path-level ones included.
fn parameters<'a>(spec: &'a Spec, path: &str, op: &'a Value) -> Vec<(String, String, &'a Value)> {
    spec.parameters(path, op)
        .into_iter()
        .filter_map(|p| {
            let name = p.get("name")?.as_str()?.to_owned();
            let location = p.get("in")?.as_str()?.to_owned();
            let schema = spec.resolve_all(p.get("schema")?).ok()?;
            Some((name, location, schema))
        })
        .collect()
}

fn ref_name(schema: &Value) -> Option<String> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .map(str::to_owned)
}

/// Walks a JSON pointer into the *data* a schema describes, through `properties`.
fn schema_at_pointer<'a>(spec: &'a Spec, schema: &'a Value, pointer: &str) -> Result<&'a Value> {
    let mut current = schema;
    if pointer.is_empty() {
        return Ok(current);
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        bail!("`{pointer}` is not a JSON pointer (it must be empty or start with /)")
    };
    for token in rest.split('/') {
        let resolved = spec.resolve_all(current)?;
        current = resolved
            .pointer(&format!("/properties/{token}"))
            .with_context(|| format!("the schema has no property `{token}` (in `{pointer}`)"))?;
    }
    Ok(current)
}
