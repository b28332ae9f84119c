//! Wire changes: operations, parameters, request and response fields (added, removed,
//! type, nullability, enum values), each marked breaking or not for existing callers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::Result;
use serde_json::Value;

use super::{Area, Change, Impact, push};
use crate::spec::Spec;

/// A schema as the wire sees it: its type and format, nullability, enum values.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    ty: String,
    nullable: bool,
    values: BTreeSet<String>,
    required: bool,
}

fn shape(spec: &Spec, schema: &Value, required: bool) -> Shape {
    let name = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        .map(str::to_owned);
    let resolved = spec.resolve_all(schema).unwrap_or(schema);
    let ty = match name {
        Some(name) => name,
        None => type_name(spec, resolved),
    };
    let values = resolved
        .get("enum")
        .and_then(Value::as_array)
        .map(|v| v.iter().map(Value::to_string).collect())
        .unwrap_or_default();
    Shape {
        ty,
        nullable: resolved.get("nullable").and_then(Value::as_bool) == Some(true),
        values,
        required,
    }
}

fn type_name(spec: &Spec, schema: &Value) -> String {
    if let Some(one_of) = schema.get("oneOf").and_then(Value::as_array) {
        let names: Vec<String> = one_of.iter().map(|s| shape(spec, s, true).ty).collect();
        return format!("oneOf({})", names.join(" | "));
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("any");
    match (ty, schema.get("format").and_then(Value::as_str)) {
        ("array", _) => {
            let items = schema
                .get("items")
                .map_or_else(|| "any".to_owned(), |items| shape(spec, items, true).ty);
            format!("array<{items}>")
        }
        (ty, Some(format)) => format!("{ty}/{format}"),
        (ty, None) => ty.to_owned(),
    }
}

/// `Schema.field` (nested inline objects as `Schema.field.inner`) -> shape.
fn fields(spec: &Spec, prefix: &str, schema: &Value, out: &mut BTreeMap<String, Shape>) {
    let schema = spec.resolve_all(schema).unwrap_or(schema);
    let required: BTreeSet<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, prop) in props {
        let at = format!("{prefix}.{name}");
        out.insert(
            at.clone(),
            shape(spec, prop, required.contains(name.as_str())),
        );
        if prop.get("$ref").is_none() && prop.get("properties").is_some() {
            fields(spec, &at, prop, out);
        }
    }
}

/// Every operation by id: (method and path, operation).
pub(super) fn operations(spec: &Spec) -> BTreeMap<String, (String, &Value)> {
    spec.operations()
        .into_iter()
        .filter_map(|(path, method, op)| {
            let id = op.get("operationId")?.as_str()?.to_owned();
            Some((id, (format!("{} {path}", method.to_uppercase()), op)))
        })
        .collect()
}

/// An operation's parameters by `in name`.
fn parameters(spec: &Spec, op: &Value) -> BTreeMap<String, Shape> {
    let mut out = BTreeMap::new();
    for p in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let p = spec.resolve_all(p).unwrap_or(p);
        let (Some(name), Some(location)) = (
            p.get("name").and_then(Value::as_str),
            p.get("in").and_then(Value::as_str),
        ) else {
            continue;
        };
        let required = p.get("required").and_then(Value::as_bool) == Some(true);
        let schema = p.get("schema").cloned().unwrap_or(Value::Null);
        out.insert(format!("{location} {name}"), shape(spec, &schema, required));
    }
    out
}

/// Every wire change from `old` to `new`.
pub(super) fn wire(old: &Spec, new: &Spec, out: &mut Vec<Change>) -> Result<()> {
    let (old_ops, new_ops) = (operations(old), operations(new));
    for (id, (route, _)) in &old_ops {
        if !new_ops.contains_key(id) {
            let what = format!("operation removed (was {route})");
            push(out, Area::Wire, id, what, Impact::Breaking);
        }
    }
    for (id, (route, op)) in &new_ops {
        let Some((old_route, old_op)) = old_ops.get(id) else {
            let what = format!("operation added ({route})");
            push(out, Area::Wire, id, what, Impact::Addition);
            continue;
        };
        if old_route != route {
            let what = format!("moved from {old_route} to {route}");
            push(out, Area::Wire, id, what, Impact::Breaking);
        }
        let (was, now) = (parameters(old, old_op), parameters(new, op));
        for name in was.keys().filter(|name| !now.contains_key(*name)) {
            let what = format!("parameter {name} removed (callers that set it break)");
            push(out, Area::Wire, id, what, Impact::Breaking);
        }
        for (name, shape) in &now {
            let at = format!("{id} parameter {name}");
            match was.get(name) {
                None if shape.required => {
                    let what = format!("required parameter added ({})", shape.ty);
                    push(out, Area::Wire, &at, what, Impact::Breaking);
                }
                None => {
                    let what = format!("optional parameter added ({})", shape.ty);
                    push(out, Area::Wire, &at, what, Impact::Addition);
                }
                Some(before) => compare_shapes(&at, before, shape, Direction::Sent, out),
            }
        }
        let statuses = |op: &Value| -> BTreeSet<String> {
            op.get("responses")
                .and_then(Value::as_object)
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default()
        };
        let (was, now) = (statuses(old_op), statuses(op));
        for s in now.difference(&was) {
            let what = format!("documents response {s}");
            push(out, Area::Wire, id, what, Impact::Compatible);
        }
        for s in was.difference(&now) {
            let what = format!("no longer documents response {s}");
            push(out, Area::Wire, id, what, Impact::Compatible);
        }
    }
    // Schemas: requests and responses alike (the same schema is read and sent back).
    let schema_names = |spec: &Spec| -> BTreeSet<String> {
        spec.raw
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default()
    };
    let (was_names, now_names) = (schema_names(old), schema_names(new));
    for name in was_names.difference(&now_names) {
        push(
            out,
            Area::Wire,
            name,
            "schema removed".to_owned(),
            Impact::Breaking,
        );
    }
    for name in now_names.difference(&was_names) {
        push(
            out,
            Area::Wire,
            name,
            "schema added".to_owned(),
            Impact::Addition,
        );
    }
    let users = schema_users(new);
    for name in was_names.intersection(&now_names) {
        let first = out.len();
        let (mut was, mut now) = (BTreeMap::new(), BTreeMap::new());
        if let (Some(a), Some(b)) = (old.schema(name), new.schema(name)) {
            fields(old, name, a, &mut was);
            fields(new, name, b, &mut now);
        }
        for (field, shape) in &was {
            if !now.contains_key(field) {
                let what = format!(
                    "field removed (was {}): code that reads it loses it, and updates no \
                     longer send it",
                    shape.ty
                );
                push(out, Area::Wire, field, what, Impact::Breaking);
            }
        }
        for (field, shape) in &now {
            match was.get(field) {
                None => {
                    let what = format!(
                        "field added ({}{}): older clients ignore it on the wire",
                        shape.ty,
                        if shape.nullable { ", nullable" } else { "" }
                    );
                    push(out, Area::Wire, field, what, Impact::Addition);
                }
                Some(before) => compare_shapes(field, before, shape, Direction::Both, out),
            }
        }
        if let Some(ops) = users.get(name) {
            let ops: Vec<&str> = ops.iter().map(String::as_str).collect();
            for change in &mut out[first..] {
                let _ = write!(change.what, " (in {})", ops.join(", "));
            }
        }
    }
    Ok(())
}

/// For each schema, the operations whose parameters, request or responses use it (through
/// other schemas too).
fn schema_users(spec: &Spec) -> BTreeMap<String, BTreeSet<String>> {
    /// Every local reference reachable from `value` (schemas, parameters, ...).
    fn refs(spec: &Spec, value: &Value, seen: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(Value::as_str)
                    && seen.insert(r.to_owned())
                    && let Some(target) = r.strip_prefix('#').and_then(|p| spec.raw.pointer(p))
                {
                    refs(spec, target, seen);
                }
                for v in map.values() {
                    refs(spec, v, seen);
                }
            }
            Value::Array(list) => list.iter().for_each(|v| refs(spec, v, seen)),
            _ => {}
        }
    }
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (id, (_, op)) in operations(spec) {
        let mut seen = BTreeSet::new();
        refs(spec, op, &mut seen);
        for name in seen
            .iter()
            .filter_map(|r| r.strip_prefix("#/components/schemas/"))
        {
            out.entry(name.to_owned()).or_default().insert(id.clone());
        }
    }
    out
}

/// Whether a value is sent by callers (parameters) or also received (schemas).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Sent,
    Both,
}

fn compare_shapes(at: &str, was: &Shape, now: &Shape, dir: Direction, out: &mut Vec<Change>) {
    if was.ty != now.ty {
        let what = format!("type changed from {} to {}", was.ty, now.ty);
        push(out, Area::Wire, at, what, Impact::Breaking);
    }
    if was.nullable != now.nullable {
        let (what, impact) = if now.nullable {
            (
                "may now be null: code that reads it must handle null",
                if dir == Direction::Sent {
                    Impact::Compatible
                } else {
                    Impact::Breaking
                },
            )
        } else {
            (
                "may no longer be null: callers that send null break",
                Impact::Breaking,
            )
        };
        push(out, Area::Wire, at, what.to_owned(), impact);
    }
    if was.required != now.required {
        let (what, impact) = if now.required {
            ("now required", Impact::Breaking)
        } else {
            ("no longer required", Impact::Compatible)
        };
        push(out, Area::Wire, at, what.to_owned(), impact);
    }
    let added: Vec<&String> = now.values.difference(&was.values).collect();
    let removed: Vec<&String> = was.values.difference(&now.values).collect();
    let list = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    if !added.is_empty() {
        let (what, impact) = match dir {
            Direction::Sent => (
                format!("enum values added: {}", list(&added)),
                Impact::Addition,
            ),
            Direction::Both => (
                format!(
                    "enum values added: {}: older clients fail to decode them, and the \
                     generated enum gains variants",
                    list(&added)
                ),
                Impact::Breaking,
            ),
        };
        push(out, Area::Wire, at, what, impact);
    }
    if !removed.is_empty() {
        let what = format!(
            "enum values removed: {}: callers that send them break",
            list(&removed)
        );
        push(out, Area::Wire, at, what, Impact::Breaking);
    }
}
