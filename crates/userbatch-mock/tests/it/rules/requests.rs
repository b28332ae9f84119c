//! The operations the rules tests cover, read from the specs compiled into the mock (the
//! JSON `cargo xtask generate` writes beside them), and requests written as their rules
//! say, with the departures ([`Tweak`]) a test needs.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use userbatch_core::rules::{IdEncoding, IdKind, IdLocation, OperationRules};
use userbatch_mock::{MockServer, Vendor};

use crate::support::{TOKEN, raw, status};

/// One batch operation of a spec.
pub(super) struct Op {
    pub(super) vendor: Vendor,
    pub(super) spec: Value,
    pub(super) method: reqwest::Method,
    pub(super) path: String,
    pub(super) op: Value,
    pub(super) rules: OperationRules,
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.vendor.name(), self.rules.operation_id)
    }
}

/// The spec of `vendor`, as JSON.
pub(super) fn spec_of(vendor: Vendor) -> Value {
    let path = format!(
        "{}/specs/{}.json",
        env!("CARGO_MANIFEST_DIR"),
        vendor.name()
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every operation with `x-userbatch` of every spec.
pub(super) fn operations() -> Vec<Op> {
    let mut out = Vec::new();
    for vendor in Vendor::ALL {
        let spec = spec_of(vendor);
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Some(ext) = op.get("x-userbatch") else {
                    continue;
                };
                let mut rules: OperationRules = serde_json::from_value(ext.clone()).unwrap();
                rules.operation_id = op["operationId"].as_str().unwrap().to_owned().into();
                out.push(Op {
                    vendor,
                    spec: spec.clone(),
                    method: method.to_uppercase().parse().unwrap(),
                    path: path.clone(),
                    op: op.clone(),
                    rules,
                });
            }
        }
    }
    assert!(out.len() >= 6, "{out:?}");
    out
}

/// `$ref`s followed.
pub(super) fn resolve<'a>(spec: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(r) = v.get("$ref").and_then(Value::as_str) {
        v = spec.pointer(r.trim_start_matches('#')).unwrap();
    }
    v
}

/// A declared parameter: (name, in, required, schema).
pub(super) fn parameters(op: &Op) -> Vec<(String, String, bool, Value)> {
    let item = &op.spec["paths"][&op.path];
    let mut out: Vec<(String, String, bool, Value)> = Vec::new();
    for p in [&op.op, item]
        .into_iter()
        .filter_map(|v| v.get("parameters").and_then(Value::as_array))
        .flatten()
    {
        let p = resolve(&op.spec, p);
        let name = p["name"].as_str().unwrap().to_owned();
        if out.iter().any(|(n, ..)| *n == name) {
            continue;
        }
        let schema = p
            .get("schema")
            .map_or(Value::Null, |s| resolve(&op.spec, s).clone());
        out.push((
            name,
            p["in"].as_str().unwrap().to_owned(),
            p["required"] == true,
            schema,
        ));
    }
    out
}

/// A value the parameter takes: its default, the first of its values, else one of its type.
pub(super) fn value_for(schema: &Value) -> String {
    if let Some(d) = schema.get("default") {
        return d.as_str().map_or_else(|| d.to_string(), str::to_owned);
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return first
            .as_str()
            .map_or_else(|| first.to_string(), str::to_owned);
    }
    match schema["type"].as_str() {
        Some("integer") => schema["minimum"].as_i64().unwrap_or(1).max(1).to_string(),
        _ => "x1".to_owned(),
    }
}

/// Ids of the operation's type: `n` of them, `width` characters each (at least 2).
pub(super) fn ids(op: &Op, n: usize, width: usize) -> Vec<String> {
    (0..n)
        .map(|k| match op.rules.ids.kind {
            IdKind::Integer => format!("1{k:0>w$}", w = width.clamp(2, 18) - 1),
            IdKind::String => format!("u{k:0>w$}", w = width.max(2) - 1),
        })
        .collect()
}

/// The answer's body, as JSON.
pub(super) async fn json_of(req: reqwest::RequestBuilder) -> Value {
    req.send().await.unwrap().json().await.unwrap()
}

/// The status of the request for `ids` as the rules write it.
pub(super) async fn answers(m: &MockServer, op: &Op, ids: &[String]) -> u16 {
    status(request(m, op, ids, &Tweak::default())).await
}

/// How a request departs from what the rules write.
#[derive(Default, Clone)]
pub(super) struct Tweak {
    /// The ids text as sent, instead of the ids written per `encoding`.
    pub(super) ids_text: Option<String>,
    /// Leave out this parameter (or `Authorization`).
    pub(super) omit: Option<String>,
    /// This parameter with this value.
    pub(super) set: Option<(String, String)>,
    /// This body instead.
    pub(super) body: Option<String>,
}

impl Tweak {
    pub(super) fn ids(text: impl Into<String>) -> Self {
        Self {
            ids_text: Some(text.into()),
            ..Self::default()
        }
    }

    pub(super) fn omit(name: impl Into<String>) -> Self {
        Self {
            omit: Some(name.into()),
            ..Self::default()
        }
    }

    pub(super) fn set(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            set: Some((name.into(), value.into())),
            ..Self::default()
        }
    }

    pub(super) fn body(body: impl Into<String>) -> Self {
        Self {
            body: Some(body.into()),
            ..Self::default()
        }
    }
}

/// The ids as `encoding` writes them, unencoded.
pub(super) fn written(op: &Op, ids: &[String]) -> String {
    match op.rules.ids.encoding {
        IdEncoding::Single => ids[0].clone(),
        IdEncoding::Csv => ids.join(","),
        IdEncoding::BracketedCsv => format!("[{}]", ids.join(",")),
        IdEncoding::JsonArray => serde_json::to_string(ids).unwrap(),
    }
}

/// `text` percent-encoded, but for unreserved characters and those in `keep`.
fn encode(text: &str, keep: &[u8]) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The query string of a request for `ids` (as sent: percent-encoded).
pub(super) fn query(op: &Op, ids: &[String], tweak: &Tweak) -> String {
    let mut pairs = Vec::new();
    for (name, location, required, schema) in parameters(op) {
        if location != "query" || tweak.omit.as_deref() == Some(&*name) {
            continue;
        }
        let value = if name == *op.rules.ids.name && op.rules.ids.location == IdLocation::Query {
            Some(tweak.ids_text.clone().unwrap_or_else(|| written(op, ids)))
        } else if let Some((_, v)) = tweak.set.as_ref().filter(|(n, _)| *n == name) {
            Some(v.clone())
        } else {
            required.then(|| value_for(&schema))
        };
        if let Some(value) = value {
            pairs.push(format!("{}={}", encode(&name, b""), encode(&value, b"")));
        }
    }
    pairs.join("&")
}

/// The request for `ids` as the rules write it, with the credentials, parameters and
/// body the spec requires.
pub(super) fn request(
    m: &MockServer,
    op: &Op,
    ids: &[String],
    tweak: &Tweak,
) -> reqwest::RequestBuilder {
    let mut path = op.path.clone();
    let mut headers = Vec::new();
    for (name, location, required, schema) in parameters(op) {
        if tweak.omit.as_deref() == Some(&*name) {
            continue;
        }
        let set = tweak
            .set
            .as_ref()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.clone());
        match location.as_str() {
            "path" => {
                let value = if name == *op.rules.ids.name {
                    let text = tweak.ids_text.clone().unwrap_or_else(|| written(op, ids));
                    encode(&text, b",")
                } else {
                    encode(&set.unwrap_or_else(|| value_for(&schema)), b"")
                };
                path = path.replace(&format!("{{{name}}}"), &value);
            }
            "header" => {
                if let Some(value) = set.or_else(|| required.then(|| value_for(&schema))) {
                    headers.push((name, value));
                }
            }
            _ => {}
        }
    }
    let q = query(op, ids, tweak);
    let url = if q.is_empty() {
        format!("{}{path}", m.base_url())
    } else {
        format!("{}{path}?{q}", m.base_url())
    };
    let mut req = raw().request(op.method.clone(), url);
    if tweak.omit.as_deref() != Some("Authorization") {
        req = req.bearer_auth(TOKEN);
    }
    for (name, value) in headers {
        req = req.header(name, value);
    }
    let body = tweak.body.clone().or_else(|| {
        if op.rules.ids.location == IdLocation::Body {
            Some(json!({ &*op.rules.ids.name: ids }).to_string())
        } else {
            op.op.get("requestBody").map(|_| "{}".to_owned())
        }
    });
    match body {
        Some(body) => req.header("content-type", "application/json").body(body),
        None => req,
    }
}

/// The records of an answer, at `records.pointer`.
pub(super) fn records(op: &Op, body: &Value) -> Vec<Value> {
    let at = body.pointer(&op.rules.records.pointer).cloned().unwrap();
    if op.rules.records.many {
        at.as_array().unwrap().clone()
    } else {
        vec![at]
    }
}

/// The ids of `records`, as text.
pub(super) fn ids_of(op: &Op, records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| match &r[&*op.rules.records.id_field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}
