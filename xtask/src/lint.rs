//! `cargo xtask lint`: validates each spec against the OpenAPI 3.0 schema itself, rejects
//! what progenitor mishandles, checks every `x-userbatch`
//! extension against the schemas, validates every `example` against its schema, then asks
//! Redocly CLI (a tool nobody here wrote) for its verdict.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::spec::{IdEncoding, IdKind, IdLocation, OperationRules, Spec, vendors};

/// Lints every vendor spec; with `redocly`, runs Redocly CLI too.
pub fn run(root: &Path, redocly: bool) -> Result<()> {
    let mut problems = Vec::new();
    for vendor in vendors(root)? {
        let spec = Spec::load(root, &vendor.spec_rel())?;
        let found = lint_spec(&spec);
        println!("{}: {} problem(s)", spec.rel, found.len());
        problems.extend(found.into_iter().map(|p| format!("{}: {p}", spec.rel)));
    }
    for p in &problems {
        eprintln!("  {p}");
    }
    if !problems.is_empty() {
        bail!("{} problem(s) in the specs", problems.len());
    }
    if redocly {
        run_redocly(root)?;
    }
    Ok(())
}

/// Every problem `xtask lint` finds in one spec (Redocly aside); empty when clean.
pub fn lint_spec(spec: &Spec) -> Vec<String> {
    // The OpenAPI 3.0 schema first: the other checks assume a well-formed document.
    let mut out = crate::oas::problems(&spec.raw);
    if !out.is_empty() {
        return out;
    }
    if let Err(e) = spec.openapi() {
        out.push(format!("{e:#}"));
        return out;
    }
    check_operations(spec, &mut out);
    check_extensions(spec, &mut out);
    check_examples(spec, &mut out);
    out
}

/// What progenitor 0.15 mishandles. A batch operation (one with
/// `x-userbatch`) reaches progenitor with every answer as bytes (see `generate`), so its
/// response schemas and content kinds may differ freely.
fn check_operations(spec: &Spec, out: &mut Vec<String>) {
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

/// The `x-userbatch` extensions: well-formed, in the right places, consistent with the
/// operations and schemas they describe.
fn check_extensions(spec: &Spec, out: &mut Vec<String>) {
    match spec.vendor_rules() {
        Err(e) => out.push(format!("{e:#}")),
        Ok(v) => {
            for &s in v.throttle_statuses.iter() {
                if !(400..=599).contains(&s) {
                    out.push(format!(
                        "x-userbatch.throttle-statuses: {s} is not an error status"
                    ));
                }
            }
            if v.rate_limit.window_s == Some(0) {
                out.push("x-userbatch.rate-limit.window-s: a window is at least 1 second".into());
            }
        }
    }
    if let Err(e) = spec.default_base_url() {
        out.push(format!("{e:#}"));
    }
    misplaced_extensions(&spec.raw, "", out);
    html_statuses_keep_the_documented_answers(spec, out);

    let operation_ids: BTreeSet<&str> = spec
        .operations()
        .iter()
        .filter_map(|(_, _, op)| op.get("operationId").and_then(Value::as_str))
        .collect();
    for (path, method, op) in spec.operations() {
        let at = format!(
            "{} x-userbatch",
            op.get("operationId")
                .and_then(Value::as_str)
                .unwrap_or(path)
        );
        match spec.operation_rules(op) {
            Err(e) => out.push(format!("{e:#}")),
            Ok(None) => {}
            Ok(Some(ext)) => {
                check_operation_rules(spec, path, method, op, &ext, &at, &operation_ids, out)
            }
        }
    }
}

fn misplaced_extensions(value: &Value, pointer: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let here = format!("{pointer}/{}", crate::spec::escape_pointer(k));
                if k.starts_with("x-userbatch") {
                    let depth = here.matches('/').count();
                    let at_root = depth == 1;
                    let at_operation = here.starts_with("/paths/") && depth == 4;
                    let known = k == "x-userbatch" || k == "x-userbatch-mock";
                    if !known || !(at_root || at_operation) {
                        out.push(format!(
                            "{here}: `{k}` is read only as `x-userbatch` or `x-userbatch-mock` at the root or on an operation"
                        ));
                    } else if k == "x-userbatch-mock" {
                        check_mock_quirks(v, &here, at_root, out);
                    }
                } else {
                    misplaced_extensions(v, &here, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                misplaced_extensions(v, &format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The mock's `html-statuses` may not include a status the rules give a meaning to (an
/// unknown id's, a throttling one): the HTML page would hide the documented answer, and no
/// id could come back "missing" from the mock.
fn html_statuses_keep_the_documented_answers(spec: &Spec, out: &mut Vec<String>) {
    let Some(quirks) = spec.raw.get("x-userbatch-mock") else {
        return;
    };
    let Ok(quirks) = serde_json::from_value::<userbatch_core::rules::MockQuirks>(quirks.clone())
    else {
        return;
    };
    let mut meaningful: Vec<(u16, String)> = Vec::new();
    if let Ok(v) = spec.vendor_rules() {
        meaningful.extend(
            v.throttle_statuses
                .iter()
                .map(|&s| (s, "a throttling status".into())),
        );
    }
    for (_, _, op) in spec.operations() {
        if let Ok(Some(rules)) = spec.operation_rules(op)
            && let Some(s) = rules.unknown_ids.not_found_status()
        {
            let id = op.get("operationId").and_then(Value::as_str).unwrap_or("");
            meaningful.push((s, format!("{id}'s unknown-id status")));
        }
    }
    for &s in &quirks.html_statuses {
        if let Some((_, what)) = meaningful.iter().find(|(m, _)| *m == s) {
            out.push(format!(
                "/x-userbatch-mock.html-statuses: {s} is {what}; its answer must stay the vendor's"
            ));
        }
    }
}

/// `x-userbatch-mock`: well-formed, each key where it is read.
fn check_mock_quirks(value: &Value, here: &str, at_root: bool, out: &mut Vec<String>) {
    let quirks: userbatch_core::rules::MockQuirks = match serde_json::from_value(value.clone()) {
        Ok(q) => q,
        Err(e) => return out.push(format!("{here}: {e}")),
    };
    let misplaced = if at_root {
        [
            ("accepted-values", !quirks.accepted_values.is_empty()),
            ("update-answer", quirks.update_answer.is_some()),
        ]
    } else {
        [
            ("html-statuses", !quirks.html_statuses.is_empty()),
            ("vendor-order", quirks.vendor_order),
        ]
    };
    for (key, given) in misplaced {
        if given {
            let place = if at_root { "an operation" } else { "the root" };
            out.push(format!("{here}.{key}: read only on {place}"));
        }
    }
    for &s in &quirks.html_statuses {
        if !(400..=599).contains(&s) {
            out.push(format!("{here}.html-statuses: {s} is not an error status"));
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_operation_rules(
    spec: &Spec,
    path: &str,
    method: &str,
    op: &Value,
    ext: &OperationRules,
    at: &str,
    operation_ids: &BTreeSet<&str>,
    out: &mut Vec<String>,
) {
    let params = parameters(spec, path, op);
    // Ids.
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

    // Records.
    let ok_schema = op
        .pointer("/responses/200/content/application~1json/schema")
        .or_else(|| op.pointer("/responses/200/content/application~1json/schema"));
    let Some(ok_schema) = ok_schema else {
        out.push(format!(
            "{at}: the operation has no application/json 200 response"
        ));
        return;
    };
    let record_ref = match schema_at_pointer(spec, ok_schema, &ext.records.pointer) {
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
    };

    // The not-found answer: only the documented one may call a single id missing.
    if let Some(status) = ext.unknown_ids.not_found_status() {
        let responses = op.get("responses").and_then(Value::as_object);
        if let Some(Err(e)) = responses.map(|r| crate::generate::not_found_answer(spec, r, status))
        {
            out.push(format!("{at}.unknown-ids: {e}"));
        }
    }

    // Attribute selection.
    if let Some(attrs) = &ext.attributes {
        if !params.iter().any(|p| p.0 == attrs.param && p.1 == "query") {
            out.push(format!(
                "{at}.attributes: no query parameter `{}`",
                attrs.param
            ));
        }
        let record = record_ref.as_deref().and_then(|r| spec.schema(r));
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

    // Paging.
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

    // Partial records.
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
        if record_ref.as_deref() != Some(&*partial.of) {
            out.push(format!(
                "{at}.partial.of is {} but the records are {}",
                partial.of,
                record_ref.as_deref().unwrap_or("an inline schema")
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
    check_links(spec, op, ext, at, &params, out);
    let _ = method;
}

/// `resource`, `update-operation` and `skip-parameters`.
fn check_links(
    spec: &Spec,
    op: &Value,
    ext: &OperationRules,
    at: &str,
    params: &[(String, String, &Value)],
    out: &mut Vec<String>,
) {
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

/// Every `example` (and `examples.*.value`) validates against its schema.
fn check_examples(spec: &Spec, out: &mut Vec<String>) {
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

/// Schema keywords the validator understands; any other (but `x-*`) is reported, so an
/// example is never passed by a keyword nobody checks.
const KNOWN_KEYWORDS: &[&str] = &[
    "$ref",
    "type",
    "format",
    "nullable",
    "enum",
    "pattern",
    "maxLength",
    "minLength",
    "minimum",
    "maximum",
    "items",
    "properties",
    "required",
    "additionalProperties",
    "oneOf",
    "description",
    "default",
    "example",
    "title",
    "readOnly",
    "writeOnly",
    "deprecated",
    "minItems",
    "maxItems",
];

/// Validates `value` against an OpenAPI 3.0 schema (the subset the specs use), pushing one
/// message per violation.
pub fn validate(spec: &Spec, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let mut errors = Vec::new();
    validate_inner(spec, schema, value, "", &mut errors);
    out.extend(errors.into_iter().map(|e| format!("{at}: {e}")));
}

fn validate_inner(spec: &Spec, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = match spec.resolve_all(schema) {
        Ok(s) => s,
        Err(e) => return errors.push(format!("{at}: {e:#}")),
    };
    let Some(obj) = schema.as_object() else {
        return errors.push(format!("{at}: schema is not an object"));
    };
    for key in obj.keys() {
        if !KNOWN_KEYWORDS.contains(&key.as_str()) && !key.starts_with("x-") {
            errors.push(format!(
                "{at}: schema keyword `{key}` is not supported by xtask lint"
            ));
        }
    }
    let here = if at.is_empty() { "(root)" } else { at };
    if value.is_null() {
        let has_type = obj.contains_key("type") || obj.contains_key("oneOf");
        if has_type && obj.get("nullable") != Some(&Value::Bool(true)) {
            errors.push(format!("{here}: null, but the schema is not nullable"));
        }
        return;
    }
    if let Some(values) = obj.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        errors.push(format!("{here}: {value} is not one of the enum values"));
    }
    if let Some(branches) = obj.get("oneOf").and_then(Value::as_array) {
        let matching = branches
            .iter()
            .filter(|b| {
                let mut e = Vec::new();
                validate_inner(spec, b, value, at, &mut e);
                e.is_empty()
            })
            .count();
        if matching != 1 {
            errors.push(format!(
                "{here}: matches {matching} oneOf branches, expected exactly 1"
            ));
        }
    }
    let Some(ty) = obj.get("type").and_then(Value::as_str) else {
        return;
    };
    let format = obj.get("format").and_then(Value::as_str);
    match (ty, value) {
        ("string", Value::String(s)) => check_string(obj, s, format, here, errors),
        ("integer", Value::Number(n)) if n.is_i64() || n.is_u64() => {
            let v = n.as_i64();
            if format == Some("int32") && v.is_none_or(|v| i32::try_from(v).is_err()) {
                errors.push(format!("{here}: {n} does not fit int32"));
            }
            check_range(obj, n.as_f64().unwrap_or(f64::NAN), here, errors);
        }
        ("number", Value::Number(n)) => {
            check_range(obj, n.as_f64().unwrap_or(f64::NAN), here, errors)
        }
        ("boolean", Value::Bool(_)) => {}
        ("array", Value::Array(items)) => {
            let count = items.len() as u64;
            if obj
                .get("minItems")
                .and_then(Value::as_u64)
                .is_some_and(|min| count < min)
            {
                errors.push(format!("{here}: fewer items than minItems"));
            }
            if obj
                .get("maxItems")
                .and_then(Value::as_u64)
                .is_some_and(|max| count > max)
            {
                errors.push(format!("{here}: more items than maxItems"));
            }
            if let Some(item_schema) = obj.get("items") {
                for (i, item) in items.iter().enumerate() {
                    validate_inner(spec, item_schema, item, &format!("{at}/{i}"), errors);
                }
            }
        }
        ("object", Value::Object(map)) => {
            let props = obj.get("properties").and_then(Value::as_object);
            for name in obj
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = name.as_str()
                    && !map.contains_key(name)
                {
                    errors.push(format!("{here}: required property `{name}` is missing"));
                }
            }
            for (k, v) in map {
                let child = format!("{at}/{k}");
                match props.and_then(|p| p.get(k)) {
                    Some(s) => validate_inner(spec, s, v, &child, errors),
                    None => match obj.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            errors.push(format!("{child}: property not in the schema"))
                        }
                        Some(s @ Value::Object(_)) => validate_inner(spec, s, v, &child, errors),
                        _ => errors.push(format!(
                            "{child}: property not in the schema (an example should show only \
                             documented fields)"
                        )),
                    },
                }
            }
        }
        _ => errors.push(format!("{here}: {} is not of type {ty}", short(value))),
    }
}

fn check_string(
    obj: &serde_json::Map<String, Value>,
    s: &str,
    format: Option<&str>,
    here: &str,
    errors: &mut Vec<String>,
) {
    let chars = s.chars().count();
    if let Some(max) = obj.get("maxLength").and_then(Value::as_u64)
        && chars as u64 > max
    {
        errors.push(format!(
            "{here}: {chars} characters, more than maxLength {max}"
        ));
    }
    if let Some(min) = obj.get("minLength").and_then(Value::as_u64)
        && (chars as u64) < min
    {
        errors.push(format!(
            "{here}: {chars} characters, fewer than minLength {min}"
        ));
    }
    if let Some(pattern) = obj.get("pattern").and_then(Value::as_str) {
        match regress::Regex::new(pattern) {
            Err(e) => errors.push(format!("{here}: pattern {pattern} is invalid: {e}")),
            Ok(re) if re.find(s).is_none() => {
                errors.push(format!("{here}: {s:?} does not match {pattern}"))
            }
            Ok(_) => {}
        }
    }
    let ok = match format {
        Some("date-time") => is_date_time(s),
        Some("uuid") => is_uuid(s),
        _ => true,
    };
    if !ok {
        errors.push(format!(
            "{here}: {s:?} is not a valid {}",
            format.unwrap_or_default()
        ));
    }
}

fn check_range(obj: &serde_json::Map<String, Value>, v: f64, here: &str, errors: &mut Vec<String>) {
    if let Some(min) = obj.get("minimum").and_then(Value::as_f64)
        && v < min
    {
        errors.push(format!("{here}: {v} is below minimum {min}"));
    }
    if let Some(max) = obj.get("maximum").and_then(Value::as_f64)
        && v > max
    {
        errors.push(format!("{here}: {v} is above maximum {max}"));
    }
}

/// ISO 8601 date and time, with or without an offset (vendors send both).
fn is_date_time(s: &str) -> bool {
    static PATTERN: &str =
        r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$";
    regress::Regex::new(PATTERN).is_ok_and(|re| re.find(s).is_some())
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 60 {
        format!(
            "{}...",
            &text[..text.char_indices().nth(57).map_or(text.len(), |(i, _)| i)]
        )
    } else {
        text
    }
}

/// Runs the pinned Redocly CLI from `node_modules` on every spec.
fn run_redocly(root: &Path) -> Result<()> {
    let bin = root.join("node_modules/.bin/redocly");
    if !bin.exists() {
        bail!(
            "Redocly CLI is not installed: run `npm ci` in the workspace root (it installs the \
             version pinned in package.json), or `cargo xtask lint --no-redocly`"
        );
    }
    let specs: Vec<String> = vendors(root)?.iter().map(|v| v.spec_rel()).collect();
    let output = Command::new(&bin)
        .current_dir(root)
        .arg("lint")
        .arg("--config")
        .arg("redocly.yaml")
        .arg("--format")
        .arg("codeframe")
        .args(&specs)
        .env("REDOCLY_TELEMETRY", "off")
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.contains('║') && !l.contains('╔') && !l.contains('╚'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if !output.status.success() {
        bail!(
            "Redocly CLI rejected the specs:\n{}\n{}",
            report(&stdout),
            report(&stderr)
        );
    }
    let warnings =
        stderr.contains("Warning was generated") || stdout.contains("Warning was generated");
    if warnings {
        bail!(
            "Redocly CLI warned about the specs:\n{}\n{}",
            report(&stdout),
            report(&stderr)
        );
    }
    println!("redocly lint: {} spec(s) valid", specs.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small, clean spec; each test breaks one thing and expects lint to say so.
    const BASE: &str = r##"
openapi: 3.0.3
info: { title: T, version: "1" }
servers: [{ url: "https://{host}", variables: { host: { default: example.com } } }]
x-userbatch: { throttle-statuses: [429] }
paths:
  /things/{id}:
    get:
      operationId: getThing
      parameters:
        - { name: id, in: path, required: true, schema: { type: integer, format: int64 } }
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Thing" }
              example: { Id: 1, Name: a }
        "404":
          description: missing
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Message" }
      x-userbatch:
        resource: things
        ids: { in: path, name: id, encoding: single, type: integer }
        records: { pointer: "", many: false, id-field: Id }
        unknown-ids: { fails-request: 404 }
  /things/:
    get:
      operationId: getThings
      parameters:
        - name: id
          in: query
          required: true
          schema: { type: string, pattern: '^\[[0-9]+(,[0-9]+)*\]$' }
          example: "[1,2]"
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { $ref: "#/components/schemas/ThingList" }
      x-userbatch:
        resource: things
        ids: { in: query, name: id, encoding: bracketed-csv, type: integer }
        limits: { max-query-bytes: 2048 }
        records: { pointer: "", many: true, id-field: Id }
        unknown-ids: omitted
        partial: { of: Thing, full-operation: getThing, unpopulated: [Secret] }
components:
  schemas:
    Message: { type: string }
    ThingList: { type: array, items: { $ref: "#/components/schemas/Thing" } }
    Thing:
      type: object
      required: [Id]
      properties:
        Id: { type: integer, format: int64 }
        Name: { type: string, nullable: true }
        Secret: { type: string, format: password }
"##;

    fn lint_text(text: &str) -> Vec<String> {
        lint_spec(&Spec::parse("test.yaml", text).unwrap())
    }

    fn assert_finds(text: &str, needle: &str) {
        let found = lint_text(text);
        assert!(
            found.iter().any(|p| p.contains(needle)),
            "expected a problem containing {needle:?}, got {found:#?}"
        );
    }

    #[test]
    fn base_spec_is_clean() {
        assert_eq!(lint_text(BASE), Vec::<String>::new());
    }

    #[test]
    fn the_real_specs_are_clean() {
        let root = crate::spec::workspace_root();
        for v in vendors(&root).unwrap() {
            let spec = Spec::load(&root, &v.spec_rel()).unwrap();
            assert_eq!(lint_spec(&spec), Vec::<String>::new(), "{}", spec.rel);
        }
    }

    #[test]
    fn resources_links_and_skipped_parameters_are_checked() {
        let single = "        resource: things\n        ids: { in: path";
        let list = "        resource: things\n        ids: { in: query";
        assert!(BASE.contains(single) && BASE.contains(list));
        assert_finds(
            &BASE.replace(single, "        resource: Things\n        ids: { in: path"),
            "`Things` must be lowercase ASCII letters",
        );
        assert_finds(
            &BASE.replace(
                single,
                "        resource: things\n        update-operation: putThing\n        ids: { in: path",
            ),
            "update-operation: no operation `putThing`",
        );
        // A list of summaries cannot be sent back.
        assert_finds(
            &BASE.replace(
                list,
                "        resource: things\n        update-operation: getThing\n        ids: { in: query",
            ),
            "must take as its JSON body the record",
        );
        assert_finds(
            &BASE.replace(
                list,
                "        resource: things\n        skip-parameters: [{ name: nope, why: x }]\n        ids: { in: query",
            ),
            "skip-parameters: no parameter `nope`",
        );
        assert_finds(
            &BASE.replace(
                list,
                "        resource: things\n        skip-parameters: [{ name: id, why: x }]\n        ids: { in: query",
            ),
            "skip-parameters: `id` carries the ids",
        );
    }

    #[test]
    fn missing_operation_id() {
        assert_finds(
            &BASE.replace("      operationId: getThings\n", ""),
            "no operationId",
        );
    }

    /// `getThing` without its `x-userbatch`: an operation progenitor decodes itself.
    fn not_batch(text: &str) -> String {
        let ext = "      x-userbatch:\n        resource: things\n        ids: { in: path, name: id, encoding: single, type: integer }\n        records: { pointer: \"\", many: false, id-field: Id }\n        unknown-ids: { fails-request: 404 }\n";
        assert!(text.contains(ext));
        text.replace(ext, "")
    }

    #[test]
    fn inline_response_schema() {
        let text = BASE.replace(
            r##"schema: { $ref: "#/components/schemas/Message" }"##,
            "schema: { type: string }",
        );
        assert_finds(&not_batch(&text), "inline schema");
        // A batch operation's answers reach progenitor as bytes: its schemas may be inline,
        // but for its documented not-found answer, which the engine checks by decoding the
        // body into the type generated from the `$ref`.
        assert_eq!(
            lint_text(&text),
            [
                "getThing x-userbatch.unknown-ids: the 404 response's body schema must be a \
              $ref to components.schemas"
            ]
        );
    }

    #[test]
    fn a_not_found_status_needs_its_documented_answer() {
        let ext = "unknown-ids: { fails-request: 404 }";
        assert!(BASE.contains(ext));
        for (status, problem) in [("410", "no 410 response is documented"), ("404", "")] {
            let text = BASE.replace(ext, &format!("unknown-ids: {{ fails-request: {status} }}"));
            let found = lint_text(&text);
            if problem.is_empty() {
                assert!(found.is_empty(), "{found:?}");
            } else {
                assert!(found.iter().any(|p| p.contains(problem)), "{found:?}");
            }
        }
    }

    #[test]
    fn error_responses_that_differ() {
        let text = BASE.replace(
            "        \"404\":\n          description: missing\n",
            "        \"400\":\n          description: bad\n        \"404\":\n          description: missing\n",
        );
        assert_finds(&not_batch(&text), "error responses differ");
        assert!(lint_text(&text).is_empty(), "{:?}", lint_text(&text));
    }

    #[test]
    fn range_beside_specific_status() {
        let text = BASE.replace(
            "        \"404\":\n          description: missing\n          content:\n            application/json:\n              schema: { $ref: \"#/components/schemas/Message\" }\n",
            "        \"404\":\n          description: missing\n        4XX:\n          description: client\n",
        );
        assert_finds(&text, "unreachable match arm");
    }

    #[test]
    fn unpopulated_field_not_in_full_schema() {
        assert_finds(
            &BASE.replace("unpopulated: [Secret]", "unpopulated: [Secret, Nope]"),
            "`Nope` is not a property of Thing",
        );
    }

    #[test]
    fn unpopulated_field_that_is_required() {
        assert_finds(
            &BASE.replace("unpopulated: [Secret]", "unpopulated: [Id]"),
            "is required in Thing",
        );
    }

    #[test]
    fn malformed_extension() {
        assert_finds(
            &BASE.replace("unknown-ids: omitted", "unknown-ids: omited"),
            "malformed",
        );
        assert_finds(
            &BASE.replace("max-query-bytes: 2048", "max-query-byte: 2048"),
            "malformed",
        );
        assert_finds(
            &BASE.replace(
                "x-userbatch: { throttle-statuses: [429] }",
                "x-userbatch: { throttle-statuses: [200] }",
            ),
            "not an error status",
        );
    }

    #[test]
    fn mock_quirks_are_checked() {
        let root = "x-userbatch: { throttle-statuses: [429] }";
        let with =
            |quirks: &str| BASE.replace(root, &format!("{root}\nx-userbatch-mock: {quirks}"));
        assert!(lint_text(&with("{ html-statuses: [414], vendor-order: true }")).is_empty());
        assert_finds(
            &with("{ html-status: [414] }"),
            "unknown field `html-status`",
        );
        assert_finds(
            &with("{ html-statuses: [200] }"),
            "200 is not an error status",
        );
        assert_finds(
            &with("{ accepted-values: { $sort: [id] } }"),
            "accepted-values: read only on an operation",
        );
        assert_finds(
            &with("{ html-statuses: [429] }"),
            "429 is a throttling status",
        );
    }

    #[test]
    fn extension_pointing_at_nothing() {
        assert_finds(
            &BASE.replace(
                "ids: { in: query, name: id,",
                "ids: { in: query, name: ids,",
            ),
            "no query parameter `ids`",
        );
        assert_finds(
            &BASE.replace("many: true, id-field: Id", "many: true, id-field: Name"),
            "id-field `Name`",
        );
        assert_finds(
            &BASE.replace("full-operation: getThing,", "full-operation: getThingz,"),
            "no operation `getThingz`",
        );
        assert_finds(
            &BASE.replace(
                "records: { pointer: \"\", many: true",
                "records: { pointer: /data, many: true",
            ),
            "records.pointer",
        );
    }

    #[test]
    fn attributes_must_name_record_properties() {
        let root = crate::spec::workspace_root();
        let text = std::fs::read_to_string(root.join("specs/usermgr.yaml")).unwrap();
        let broken = text.replace("summary: [id, loginId,", "summary: [id, loginIdd,");
        assert_ne!(text, broken);
        assert_finds(&broken, "`loginIdd` is not a property");
        let broken = text.replace("param: $attribute", "param: $attributes");
        assert_finds(&broken, "no query parameter `$attributes`");
    }

    #[test]
    fn misplaced_extension() {
        let text = BASE.replace(
            "    Message: { type: string }",
            "    Message: { type: string, x-userbatch: {} }",
        );
        assert_finds(&text, "read only as `x-userbatch`");
    }

    #[test]
    fn examples_are_validated() {
        assert_finds(
            &BASE.replace("example: { Id: 1, Name: a }", "example: { Id: x, Name: a }"),
            "is not of type integer",
        );
        assert_finds(
            &BASE.replace("example: { Id: 1, Name: a }", "example: { Name: a }"),
            "required property `Id`",
        );
        assert_finds(
            &BASE.replace(
                "example: { Id: 1, Name: a }",
                "example: { Id: 1, Name: a, Extra: 1 }",
            ),
            "Extra: property not in the schema",
        );
        assert_finds(
            &BASE.replace(
                "example: { Id: 1, Name: a }",
                "example: { Id: 1, Secret: null }",
            ),
            "not nullable",
        );
        assert_finds(
            &BASE.replace("example: \"[1,2]\"", "example: \"1,2\""),
            "does not match",
        );
    }
}
