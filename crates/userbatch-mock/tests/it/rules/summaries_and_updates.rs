//! What a record carries and how it changes: attributes asked for (known ones, single-id
//! ones for one id), summaries without their unpopulated fields, and updates of whole
//! records that follow the schema.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use userbatch_mock::MockConfig;

use super::requests::{Tweak, ids, json_of, operations, records, request, resolve};
use crate::support::{TOKEN, mock, raw, status};

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
