//! Each rule the mock enforces, as a property of every batch operation of every spec it
//! serves: the tests read the operations from the specs compiled into the mock (the JSON
//! `cargo xtask generate` writes beside them) and write the requests as the rules say, so
//! a spec added to `specs/` is tested here without new test code. Every test fails if the
//! mock stops enforcing its rule.

use std::collections::BTreeSet;

use crate::support::*;
use serde_json::{Value, json};
use userbatch_core::rules::{IdEncoding, IdKind, IdLocation, OperationRules, UnknownIds};
use userbatch_mock::{MockConfig, MockServer, UnknownIdAnswer, Vendor};

async fn status(req: reqwest::RequestBuilder) -> u16 {
    req.send().await.unwrap().status().as_u16()
}

/// One batch operation of a spec.
struct Op {
    vendor: Vendor,
    spec: Value,
    method: reqwest::Method,
    path: String,
    op: Value,
    rules: OperationRules,
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.vendor.name(), self.rules.operation_id)
    }
}

fn spec_of(vendor: Vendor) -> Value {
    let path = format!(
        "{}/specs/{}.json",
        env!("CARGO_MANIFEST_DIR"),
        vendor.name()
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every operation with `x-userbatch` of every spec.
fn operations() -> Vec<Op> {
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
fn resolve<'a>(spec: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(r) = v.get("$ref").and_then(Value::as_str) {
        v = spec.pointer(r.trim_start_matches('#')).unwrap();
    }
    v
}

/// A declared parameter: (name, in, required, schema).
fn parameters(op: &Op) -> Vec<(String, String, bool, Value)> {
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
fn value_for(schema: &Value) -> String {
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
fn ids(op: &Op, n: usize, width: usize) -> Vec<String> {
    (0..n)
        .map(|k| match op.rules.ids.kind {
            IdKind::Integer => format!("1{k:0>w$}", w = width.clamp(2, 18) - 1),
            IdKind::String => format!("u{k:0>w$}", w = width.max(2) - 1),
        })
        .collect()
}

/// The answer's body, as JSON.
async fn json_of(req: reqwest::RequestBuilder) -> Value {
    req.send().await.unwrap().json().await.unwrap()
}

/// The status of the request for `ids` as the rules write it.
async fn answers(m: &MockServer, op: &Op, ids: &[String]) -> u16 {
    status(request(m, op, ids, &Tweak::default())).await
}

/// How a request departs from what the rules write.
#[derive(Default, Clone)]
struct Tweak {
    /// The ids text as sent, instead of the ids written per `encoding`.
    ids_text: Option<String>,
    /// Leave out this parameter (or `Authorization`).
    omit: Option<String>,
    /// This parameter with this value.
    set: Option<(String, String)>,
    /// This body instead.
    body: Option<String>,
}

impl Tweak {
    fn ids(text: impl Into<String>) -> Self {
        Self {
            ids_text: Some(text.into()),
            ..Self::default()
        }
    }

    fn omit(name: impl Into<String>) -> Self {
        Self {
            omit: Some(name.into()),
            ..Self::default()
        }
    }

    fn set(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            set: Some((name.into(), value.into())),
            ..Self::default()
        }
    }

    fn body(body: impl Into<String>) -> Self {
        Self {
            body: Some(body.into()),
            ..Self::default()
        }
    }
}

/// The ids as `encoding` writes them, unencoded.
fn written(op: &Op, ids: &[String]) -> String {
    match op.rules.ids.encoding {
        IdEncoding::Single => ids[0].clone(),
        IdEncoding::Csv => ids.join(","),
        IdEncoding::BracketedCsv => format!("[{}]", ids.join(",")),
        IdEncoding::JsonArray => serde_json::to_string(ids).unwrap(),
    }
}

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
fn query(op: &Op, ids: &[String], tweak: &Tweak) -> String {
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
fn request(m: &MockServer, op: &Op, ids: &[String], tweak: &Tweak) -> reqwest::RequestBuilder {
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
fn records(op: &Op, body: &Value) -> Vec<Value> {
    let at = body.pointer(&op.rules.records.pointer).cloned().unwrap();
    if op.rules.records.many {
        at.as_array().unwrap().clone()
    } else {
        vec![at]
    }
}

fn ids_of(op: &Op, records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| match &r[&*op.rules.records.id_field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

#[tokio::test]
async fn each_operation_answers_found_ids_and_the_unknown_ones_as_its_rules_say() {
    for mode in [UnknownIdAnswer::Omit, UnknownIdAnswer::FailRequest] {
        for op in operations() {
            let n = if op.rules.ids.encoding == IdEncoding::Single {
                1
            } else {
                3
            };
            let asked = ids(&op, n, 6);
            let m = mock(MockConfig::new().unknown_ids(mode)).await;
            let resp = request(&m, &op, &asked, &Tweak::default())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{op:?}");
            let body: Value = resp.json().await.unwrap();
            let got = ids_of(&op, &records(&op, &body));
            assert_eq!(got, asked.iter().cloned().collect(), "{op:?}: {body}");
            m.stop().await;

            // One of them unknown.
            let unknown = asked[0].clone();
            let m = mock(
                MockConfig::new()
                    .unknown_ids(mode)
                    .missing_ids([unknown.clone()]),
            )
            .await;
            let resp = request(&m, &op, &asked, &Tweak::default())
                .send()
                .await
                .unwrap();
            let fails = match op.rules.unknown_ids {
                UnknownIds::Omitted => None,
                UnknownIds::FailsRequest(s) => Some(s),
                UnknownIds::OmittedOrFailsRequest(s) => {
                    (mode == UnknownIdAnswer::FailRequest).then_some(s)
                }
            };
            match fails {
                Some(s) => assert_eq!(resp.status(), s, "{op:?}"),
                None => {
                    assert_eq!(resp.status(), 200, "{op:?}");
                    let body: Value = resp.json().await.unwrap();
                    let got = ids_of(&op, &records(&op, &body));
                    assert_eq!(got, asked[1..].iter().cloned().collect(), "{op:?}");
                }
            }
            m.stop().await;
        }
    }
}

#[tokio::test]
async fn records_come_once_each_in_request_order_or_the_vendors_own() {
    let m = mock(MockConfig::new().seed(3)).await;
    let mut shuffled = 0;
    for op in operations() {
        if !op.rules.records.many {
            continue;
        }
        let mut asked = ids(&op, 6, 6);
        asked.reverse();
        let mut with_duplicates = asked.clone();
        with_duplicates.extend(asked[..2].iter().cloned());
        let body: Value = json_of(request(&m, &op, &with_duplicates, &Tweak::default())).await;
        let got: Vec<String> = records(&op, &body)
            .iter()
            .map(|r| ids_of(&op, std::slice::from_ref(r)).pop_first().unwrap())
            .collect();
        let mut once = got.clone();
        once.sort();
        once.dedup();
        assert_eq!(once.len(), got.len(), "{op:?}: each id once: {got:?}");
        let vendor_order = spec_of(op.vendor)["x-userbatch-mock"]["vendor-order"] == true;
        if vendor_order {
            assert_ne!(got, asked, "{op:?}: an order of the vendor's own");
            shuffled += 1;
        } else {
            assert_eq!(got, asked, "{op:?}: request order");
        }
    }
    assert!(shuffled >= 1);
}

#[tokio::test]
async fn records_are_the_same_for_a_seed_and_differ_across_seeds() {
    async fn body(seed: u64, op: &Op) -> String {
        let asked = ids(op, 2.min(op.rules.limits.max_ids.unwrap_or(2)), 6);
        let n = if op.rules.ids.encoding == IdEncoding::Single {
            1
        } else {
            asked.len()
        };
        let m = mock(MockConfig::new().seed(seed)).await;
        let resp = request(&m, op, &asked[..n], &Tweak::default())
            .send()
            .await
            .unwrap();
        let text = resp.text().await.unwrap();
        m.stop().await;
        text
    }
    let mut differ = 0;
    for op in operations() {
        assert_eq!(body(42, &op).await, body(42, &op).await, "{op:?}");
        // (Text fields are made from the field's name and the id alone: a record of
        // only those is the same under any seed.)
        differ += usize::from(body(42, &op).await != body(43, &op).await);
    }
    assert!(differ >= 3, "{differ} operations");
}

#[tokio::test]
async fn limits_hold_at_the_limit_and_refuse_one_over() {
    let m = mock(MockConfig::new()).await;
    let mut checked = BTreeSet::new();
    for op in operations() {
        let limits = &op.rules.limits;
        if let Some(max) = limits.max_ids {
            let at = ids(&op, max, 6);
            let over = ids(&op, max + 1, 6);
            assert_eq!(answers(&m, &op, &at).await, 200, "{op:?}");
            assert_eq!(answers(&m, &op, &over).await, 400, "{op:?}");
            checked.insert("max-ids");
        }
        if let Some(max) = limits.max_segment_chars {
            // Characters of the segment as sent (these ids need no escaping).
            let n = limits.max_ids.unwrap_or(usize::MAX).min(50);
            let mut at = ids(&op, n, 8);
            let used = written(&op, &at).chars().count();
            assert!(used < max, "{op:?}");
            at[0] = format!("{}{}", at[0], "9".repeat(max - used));
            assert_eq!(written(&op, &at).chars().count(), max);
            assert_eq!(answers(&m, &op, &at).await, 200, "{op:?}");
            at[0].push('9');
            assert_eq!(answers(&m, &op, &at).await, 400, "{op:?}");
            // Counted as sent, escapes included: a quarter of the limit in `é` (six
            // characters each as sent) is over it.
            let wide = vec!["é".repeat(max / 4)];
            assert_eq!(answers(&m, &op, &wide).await, 400, "{op:?}");
            checked.insert("max-segment-chars");
        }
        if let Some(max) = limits.max_query_bytes {
            // As many ids as it takes to pass the limit, then trimmed to one byte over it.
            let most = limits.max_ids.unwrap_or(usize::MAX);
            let width = match op.rules.ids.kind {
                IdKind::Integer => 18,
                // Long enough that `most` ids pass the limit.
                IdKind::String => (max / most.min(max)).max(18) + 1,
            };
            let mut list = Vec::new();
            let len = |list: &[String]| query(&op, list, &Tweak::default()).len();
            while len(&list) <= max {
                assert!(list.len() < most, "{op:?}: max-ids binds first");
                list.push(ids(&op, list.len() + 1, width).pop().unwrap());
            }
            let mut i = 0;
            while len(&list) > max + 1 {
                if list[i].len() > 2 {
                    list[i].pop();
                } else {
                    i += 1;
                }
            }
            let resp = request(&m, &op, &list, &Tweak::default())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 414, "{op:?}");
            let quirks = &spec_of(op.vendor)["x-userbatch-mock"];
            if quirks["html-statuses"]
                .as_array()
                .is_some_and(|s| s.contains(&json!(414)))
            {
                let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
                assert!(content_type.starts_with("text/html"), "{op:?}");
            }
            list[i].pop();
            assert_eq!(len(&list), max);
            assert_eq!(answers(&m, &op, &list).await, 200, "{op:?}");
            checked.insert("max-query-bytes");
        }
    }
    assert_eq!(checked.len(), 3, "every kind of limit met: {checked:?}");
}

#[tokio::test]
async fn ids_not_written_as_the_spec_says_get_400() {
    let m = mock(MockConfig::new()).await;
    for op in operations() {
        let one = ids(&op, 2, 6);
        let bad = |text: &str| Tweak::ids(text.to_owned());
        let (a, b) = (&one[0], &one[1]);
        let mut refused: Vec<String> = Vec::new();
        match op.rules.ids.encoding {
            IdEncoding::Csv => refused.extend([format!("{a},,{b}"), format!("{a},")]),
            IdEncoding::BracketedCsv => refused.extend([
                format!("{a},{b}"),
                "[]".into(),
                format!("[{a},,{b}]"),
                format!("[{a}"),
            ]),
            IdEncoding::Single | IdEncoding::JsonArray => {}
        }
        // A character ids cannot have (the list separator aside, which splits instead).
        for c in op.rules.ids.forbidden_chars.chars().filter(|c| *c != ',') {
            refused.push(written(&op, &[format!("{a}{c}{b}")]));
        }
        if op.rules.ids.kind == IdKind::Integer {
            // Integers as they print: no sign, no leading zero, at most 19 digits.
            for id in ["a", "-1", "007", "99999999999999999999"] {
                refused.push(written(&op, &[id.to_owned()]));
            }
        }
        if op.rules.ids.location == IdLocation::Body {
            for body in [
                "",
                "not json",
                "[]",
                &json!({ &*op.rules.ids.name: "a,b" }).to_string(),
            ] {
                let tweak = Tweak::body(body.to_owned());
                assert_eq!(
                    status(request(&m, &op, &one, &tweak)).await,
                    400,
                    "{op:?}: {body:?}"
                );
            }
            let other_type = match op.rules.ids.kind {
                IdKind::String => json!([1, 2]),
                IdKind::Integer => json!(["a"]),
            };
            let tweak = Tweak::body(json!({ &*op.rules.ids.name: other_type }).to_string());
            assert_eq!(status(request(&m, &op, &one, &tweak)).await, 400, "{op:?}");
        }
        for text in refused {
            assert_eq!(
                status(request(&m, &op, &one, &bad(&text))).await,
                400,
                "{op:?}: {text}"
            );
        }
        // 19 digits as they print, beyond 64 signed bits: nobody's id, not a malformed one.
        if op.rules.ids.kind == IdKind::Integer && op.rules.ids.location != IdLocation::Body {
            let huge = "9999999999999999999".to_owned();
            let resp = request(&m, &op, &[huge], &Tweak::default())
                .send()
                .await
                .unwrap();
            if op.rules.records.many {
                assert_eq!(resp.status(), 200, "{op:?}");
                let body: Value = resp.json().await.unwrap();
                assert!(records(&op, &body).is_empty(), "{op:?}");
            } else {
                assert_eq!(resp.status(), 404, "{op:?}");
            }
        }
    }
}

#[tokio::test]
async fn credentials_of_the_schemes_the_spec_names_and_no_others() {
    let m = mock(MockConfig::new()).await;
    for op in operations() {
        let asked = ids(&op, 1, 6);
        let without = Tweak::omit("Authorization");
        let plain = || request(&m, &op, &asked, &without);
        assert_eq!(status(plain()).await, 401, "{op:?}");
        assert_eq!(
            status(plain().header("authorization", "Bearer ")).await,
            401,
            "{op:?}"
        );
        assert_eq!(
            status(plain().header("authorization", "Token abc")).await,
            401,
            "{op:?}"
        );
        let schemes = &op.spec["components"]["securitySchemes"];
        let named: Vec<&str> = op.spec["security"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r.as_object().unwrap().keys().map(String::as_str))
            .collect();
        let basic = named.iter().any(|n| {
            schemes[n]["scheme"]
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("basic"))
        });
        let expected = if basic { 200 } else { 401 };
        assert_eq!(
            status(plain().basic_auth("user", Some("pw"))).await,
            expected,
            "{op:?}"
        );
        assert_eq!(status(plain().bearer_auth("t")).await, 200, "{op:?}");
    }
}

#[tokio::test]
async fn parameters_are_checked_as_declared() {
    let m = mock(MockConfig::new()).await;
    let mut checked = 0;
    for op in operations() {
        let asked = ids(&op, 2.min(op.rules.limits.max_ids.unwrap_or(2)), 6);
        let asked = if op.rules.ids.encoding == IdEncoding::Single {
            asked[..1].to_vec()
        } else {
            asked
        };
        let own = [
            Some(op.rules.ids.name.to_string()),
            op.rules.attributes.as_ref().map(|a| a.param.to_string()),
        ];
        let quirks = op.op.get("x-userbatch-mock");
        for (name, location, required, schema) in parameters(&op) {
            if own.contains(&Some(name.clone())) || location == "path" {
                continue;
            }
            let accept = name.eq_ignore_ascii_case("accept");
            let refusal = if accept { 406 } else { 400 };
            if required {
                let tweak = Tweak::omit(name.clone());
                assert_eq!(
                    status(request(&m, &op, &asked, &tweak)).await,
                    refusal,
                    "{op:?}: {name} left out"
                );
                checked += 1;
            }
            let listed: Vec<String> = schema["enum"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect()
                })
                .or_else(|| {
                    let accepted = quirks?.get("accepted-values")?.get(&name)?.as_array()?;
                    Some(
                        accepted
                            .iter()
                            .map(|v| v.as_str().unwrap().replace('*', "x"))
                            .collect(),
                    )
                })
                .unwrap_or_default();
            if listed.is_empty() && schema["type"] != "integer" {
                continue;
            }
            for value in &listed {
                // The mock writes JSON only: another media type is not acceptable.
                let expected = if accept && value != "application/json" {
                    406
                } else {
                    200
                };
                let tweak = Tweak::set(name.clone(), value.clone());
                assert_eq!(
                    status(request(&m, &op, &asked, &tweak)).await,
                    expected,
                    "{op:?}: {name}={value}"
                );
            }
            let outside = if schema["type"] == "integer" {
                "x"
            } else {
                "not-a-listed-value"
            };
            let tweak = Tweak::set(name.clone(), outside.to_owned());
            let resp = request(&m, &op, &asked, &tweak).send().await.unwrap();
            assert_eq!(resp.status(), refusal, "{op:?}: {name}={outside}");
            if location == "header" {
                // Headers carry credentials: a refused value is not quoted back.
                let body = resp.text().await.unwrap();
                assert!(!body.contains(outside), "{op:?}: {body}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "{checked} checks");
}

#[tokio::test]
async fn attributes_are_known_ones_and_single_id_ones_take_one_id() {
    let m = mock(MockConfig::new()).await;
    let mut seen = 0;
    for op in operations() {
        let Some(attrs) = op.rules.attributes.clone() else {
            continue;
        };
        seen += 1;
        let with = |value: &str| Tweak::set(attrs.param.to_string(), value.to_owned());
        let (one, two) = (ids(&op, 1, 6), ids(&op, 2, 6));
        for single in attrs.single_id_only.iter() {
            assert_eq!(
                status(request(&m, &op, &one, &with(single))).await,
                200,
                "{op:?}: {single}"
            );
            assert_eq!(
                status(request(&m, &op, &two, &with(single))).await,
                400,
                "{op:?}: {single}"
            );
        }
        let other = attrs
            .values
            .iter()
            .find(|v| !attrs.single_id_only.contains(v))
            .unwrap();
        assert_eq!(
            status(request(&m, &op, &two, &with(other))).await,
            200,
            "{op:?}"
        );
        assert_eq!(
            status(request(&m, &op, &two, &with("nonsense"))).await,
            400,
            "{op:?}"
        );
        // A custom attribute comes in an object of its own.
        let custom = format!("{}costCenter", attrs.custom_prefix);
        let body: Value = json_of(request(&m, &op, &one, &with(&custom))).await;
        assert!(
            records(&op, &body)[0]["custom"]["costCenter"].is_string(),
            "{op:?}: {body}"
        );
        // Without the parameter, only the summary attributes; `all`, every one.
        let summary: Value = json_of(request(&m, &op, &one, &Tweak::default())).await;
        let record = &records(&op, &summary)[0];
        let keys: BTreeSet<&str> = record
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert!(
            keys.iter().all(|k| attrs.summary.iter().any(|s| s == k)),
            "{op:?}: {keys:?}"
        );
        let all: Value = json_of(request(&m, &op, &one, &with(&attrs.all))).await;
        assert!(
            records(&op, &all)[0].as_object().unwrap().len() > keys.len(),
            "{op:?}"
        );
    }
    assert!(seen >= 1);
}

#[tokio::test]
async fn paging_serves_every_found_record_once_with_the_total() {
    let mut seen = 0;
    for op in operations() {
        let Some(paging) = op.rules.paging.clone() else {
            continue;
        };
        seen += 1;
        let asked = ids(&op, 5, 6);
        let m = mock(MockConfig::new().missing_ids([asked[2].clone()])).await;
        let mut got = Vec::new();
        for page in 0..3u32 {
            let mut req = request(&m, &op, &asked, &Tweak::default());
            req = req.query(&[
                (
                    &*paging.index_param,
                    (paging.first_index + page).to_string(),
                ),
                (&*paging.size_param, "2".to_owned()),
            ]);
            let body: Value = req.send().await.unwrap().json().await.unwrap();
            assert_eq!(
                body.pointer(&paging.total_pointer),
                Some(&json!(4)),
                "{op:?}: {body}"
            );
            got.extend(ids_of(&op, &records(&op, &body)));
        }
        let expected: Vec<String> = asked
            .iter()
            .filter(|id| **id != asked[2])
            .cloned()
            .collect();
        assert_eq!(got, expected, "{op:?}");
        for bad in [
            (
                &*paging.index_param,
                (i64::from(paging.first_index) - 1).to_string(),
            ),
            (&*paging.size_param, "0".to_owned()),
            (&*paging.size_param, "2147483648".to_owned()),
            (&*paging.index_param, "a".to_owned()),
        ] {
            let req = request(&m, &op, &asked, &Tweak::default()).query(std::slice::from_ref(&bad));
            assert_eq!(status(req).await, 400, "{op:?}: {bad:?}");
        }
        m.stop().await;
    }
    assert!(seen >= 1);
}

#[tokio::test]
async fn summaries_leave_out_the_unpopulated_fields() {
    let m = mock(MockConfig::new()).await;
    let mut seen = 0;
    for op in operations() {
        let Some(partial) = op.rules.partial.clone() else {
            continue;
        };
        seen += 1;
        let body: Value = json_of(request(&m, &op, &ids(&op, 2, 6), &Tweak::default())).await;
        let records = records(&op, &body);
        assert_eq!(records.len(), 2, "{op:?}");
        for record in records {
            for field in partial.unpopulated.iter() {
                assert!(record.get(&**field).is_none(), "{op:?}: {field}");
            }
        }
    }
    assert!(seen >= 1);
}

#[tokio::test]
async fn updates_take_whole_records_that_follow_the_schema() {
    let m = mock(MockConfig::new()).await;
    let mut seen = 0;
    for op in operations() {
        let Some(update) = op.rules.update_operation.clone() else {
            continue;
        };
        seen += 1;
        let (path, method, put) = op.spec["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(p, item)| {
                item.as_object()
                    .unwrap()
                    .iter()
                    .map(move |(m, o)| (p, m, o))
            })
            .find(|(_, _, o)| o["operationId"] == *update)
            .unwrap();
        let send = |body: String| {
            raw()
                .request(
                    method.to_uppercase().parse().unwrap(),
                    format!("{}{path}", m.base_url()),
                )
                .bearer_auth(TOKEN)
                .header("content-type", "application/json")
                .body(body)
        };
        let one = ids(&op, 1, 6);
        let record: Value = json_of(request(&m, &op, &one, &Tweak::default())).await;
        let record = records(&op, &record).remove(0);
        assert_eq!(status(send(record.to_string())).await, 200, "{op:?}");
        let mut without_id = record.clone();
        without_id
            .as_object_mut()
            .unwrap()
            .remove(&*op.rules.records.id_field);
        assert_eq!(status(send(without_id.to_string())).await, 400, "{op:?}");
        assert_eq!(status(send("not json".into())).await, 400, "{op:?}");
        // A field of another type, and null where the schema does not allow it.
        let schema_name = put
            .pointer("/requestBody/content/application~1json/schema/$ref")
            .unwrap()
            .as_str()
            .unwrap();
        let schema = resolve(&op.spec, &json!({ "$ref": schema_name })).clone();
        let (field, _) = schema["properties"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, p)| p["type"] == "string" && p["nullable"] != true)
            .unwrap();
        for value in [json!(null), json!(12)] {
            let mut bad = record.clone();
            bad[field] = value.clone();
            assert_eq!(
                status(send(bad.to_string())).await,
                400,
                "{op:?}: {field}: {value}"
            );
        }
    }
    assert!(seen >= 1);
}
