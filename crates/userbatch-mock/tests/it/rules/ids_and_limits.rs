//! Ids and limits: the limits of `x-userbatch` hold at the limit and refuse one over, and
//! ids written otherwise than the spec says are refused.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use userbatch_core::rules::{IdEncoding, IdKind, IdLocation};
use userbatch_mock::MockConfig;

use super::requests::{Tweak, answers, ids, operations, query, records, request, spec_of, written};
use crate::support::{mock, status};

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
