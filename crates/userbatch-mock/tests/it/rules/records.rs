//! Records: found ids answered and unknown ones as the rules say, each once in request
//! order (or the vendor's own), the same for a seed, and paged with the total.

use serde_json::{Value, json};
use userbatch_core::rules::{IdEncoding, UnknownIds};
use userbatch_mock::{MockConfig, UnknownIdAnswer};

use super::requests::{Op, Tweak, ids, ids_of, json_of, operations, records, request, spec_of};
use crate::support::{mock, status};

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
