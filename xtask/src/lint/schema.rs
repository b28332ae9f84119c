//! Validation of a value (an example, a default) against an OpenAPI 3.0 schema of the spec:
//! the subset of keywords the specs use, with OpenAPI's `nullable`, `$ref`s into the spec,
//! and an object's undocumented properties refused. (The OpenAPI 3.0 JSON Schema that `oas`
//! checks with boon describes the spec's own structure, not the data its schemas describe.)

use serde_json::Value;

use crate::spec::Spec;

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
