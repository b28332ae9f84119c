//! What a request sends, read as its operation's spec declares it: query pairs, path
//! values, the ids (as `ids.in` and `encoding` say) and the attributes asked for.

use axum::http::Uri;
use percent_encoding::percent_decode_str;
use serde_json::Value;
use userbatch_core::rules::{Attributes, IdEncoding, IdKind, IdLocation};

use super::spec::SpecOperation;

/// Percent-decoded `name=value` pairs of a raw query string.
pub(super) fn query_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

/// The value of the query parameter `name` (the first, if it repeats).
pub(super) fn query_param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// The percent-decoded value of the path parameter `name` of `template` in `uri`.
pub(super) fn path_value(template: &str, uri: &Uri, name: &str) -> Option<String> {
    let at = template
        .split('/')
        .position(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) == Some(name))?;
    let raw = uri.path().split('/').nth(at)?;
    Some(percent_decode_str(raw).decode_utf8_lossy().into_owned())
}

/// An integer id as it prints (digits, no leading zero, at most 19 of them): `Ok(None)`
/// for one beyond 64 signed bits (nobody's id), `Err` for text that is not one.
pub(super) fn integer_id(id: &str) -> Result<Option<i64>, ()> {
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
pub(super) fn ids_of(op: &SpecOperation, uri: &Uri, body: &[u8]) -> Result<Vec<String>, String> {
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
pub(super) fn asked_attributes(attrs: &Attributes, uri: &Uri) -> Vec<String> {
    query_param(&query_pairs(uri.query().unwrap_or("")), &attrs.param)
        .map(|v| {
            v.split(',')
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_ids_are_as_they_print() {
        assert_eq!(integer_id("0"), Ok(Some(0)));
        assert_eq!(integer_id("42"), Ok(Some(42)));
        assert_eq!(integer_id("9999999999999999999"), Ok(None));
        for bad in ["", "007", "-1", "1a", "99999999999999999999"] {
            assert_eq!(integer_id(bad), Err(()), "{bad:?}");
        }
    }
}
