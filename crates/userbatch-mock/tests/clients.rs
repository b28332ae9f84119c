//! Every generated client against the mock, over real HTTP: the data it serves.

mod support;

use std::collections::BTreeSet;
use std::num::NonZeroU32;

use serde_json::Value;
use support::*;
use userbatch_mock::{MockConfig, UnknownIdAnswer};

#[tokio::test]
async fn nexudus_lists_return_summaries_and_get_one_the_full_record() {
    let m = mock(MockConfig::new().seed(1).missing_ids(["13"])).await;
    let client = nexudus(&m);

    let users: Vec<nexudus::types::UserSummary> = records(
        client.get_users(&user_ids(10..=14)).await,
        &nexudus::rules::GET_USERS,
    )
    .await;
    let got: BTreeSet<i64> = users.iter().map(|u| u.id).collect();
    assert_eq!(
        got,
        BTreeSet::from([10, 11, 12, 14]),
        "13 is missing, the rest found"
    );

    // Raw JSON: every unpopulated field of the spec is absent from the list, present in
    // get-one.
    let unpopulated = nexudus::rules::GET_USERS.partial.unwrap().unpopulated;
    let list: Value = raw()
        .get(format!("{}/api/sys/users/?id=[10]", m.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let summary = list[0].as_object().unwrap();
    let full: Value = raw()
        .get(format!("{}/api/sys/users/10", m.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let full = full.as_object().unwrap();
    for field in unpopulated.iter() {
        assert!(!summary.contains_key(&**field), "{field} is in the summary");
    }
    let populated_in_full = unpopulated
        .iter()
        .filter(|f| full.contains_key(&***f))
        .count();
    assert!(
        populated_in_full * 2 > unpopulated.len(),
        "get-one should carry most unpopulated fields (nullable ones may be null): {populated_in_full}"
    );
    assert!(
        summary.len() > 20,
        "a summary still has the populated fields"
    );

    let user: Vec<nexudus::types::User> =
        records(client.get_user(10).await, &nexudus::rules::GET_USER).await;
    assert_eq!(user[0].id, 10);
    assert_eq!(user[0].email.as_deref(), Some("user.10@example.com"));
    let missing = answer(client.get_user(13).await).await;
    assert_eq!(missing.status, 404);
    assert_eq!(&missing.body[..], br#""Not found""#);
}

#[tokio::test]
async fn nexudus_coworkers_too() {
    let m = mock(MockConfig::new().missing_if(|id| id.ends_with('7'))).await;
    let client = nexudus(&m);
    let ids = nexudus::types::GetCoworkersId::try_from(bracketed(1..=20)).unwrap();
    let list: Vec<nexudus::types::CoworkerSummary> = records(
        client.get_coworkers(&ids).await,
        &nexudus::rules::GET_COWORKERS,
    )
    .await;
    assert_eq!(list.len(), 18, "7 and 17 are missing");
    let unpopulated = nexudus::rules::GET_COWORKERS.partial.unwrap().unpopulated;
    assert!(unpopulated.iter().any(|f| f == "Custom1"));
    // The list decodes as CoworkerSummary, which has no `custom1` or `notes` at all; on
    // the wire, those keys are absent.
    let raw: serde_json::Value = raw()
        .get(format!("{}/api/spaces/coworkers/?id=[1,2]", m.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for c in raw.as_array().unwrap() {
        assert!(
            c.get("Custom1").is_none() && c.get("Notes").is_none(),
            "{c}"
        );
    }
    let one: Vec<nexudus::types::Coworker> =
        records(client.get_coworker(3).await, &nexudus::rules::GET_COWORKER).await;
    let one = &one[0];
    assert_eq!(one.id, 3);
    assert!(
        one.custom1.is_some() || one.notes.is_some(),
        "the full record is populated"
    );
}

#[tokio::test]
async fn nexudus_list_order_is_the_vendors_not_the_requests() {
    let m = mock(MockConfig::new()).await;
    let users: Vec<nexudus::types::UserSummary> = records(
        nexudus(&m).get_users(&user_ids(1..=30)).await,
        &nexudus::rules::GET_USERS,
    )
    .await;
    let order: Vec<i64> = users.iter().map(|u| u.id).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(sorted, (1..=30).collect::<Vec<_>>());
    assert_ne!(
        order, sorted,
        "a client must match records by id, never by position"
    );
}

#[tokio::test]
async fn nexudus_duplicates_come_back_once() {
    let m = mock(MockConfig::new()).await;
    let ids = nexudus::types::GetUsersId::try_from("[5,5,6,5]".to_string()).unwrap();
    let users: Vec<nexudus::types::UserSummary> = records(
        nexudus(&m).get_users(&ids).await,
        &nexudus::rules::GET_USERS,
    )
    .await;
    assert_eq!(users.len(), 2);
}

#[tokio::test]
async fn data_is_deterministic_by_seed() {
    let body = |seed: u64| async move {
        let m = mock(MockConfig::new().seed(seed)).await;
        raw()
            .get(format!("{}/api/spaces/coworkers/?id=[1,2,3]", m.base_url()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert_eq!(body(42).await, body(42).await);
    assert_ne!(body(42).await, body(43).await);
}

#[tokio::test]
async fn usermgr_summary_attributes_unless_more_are_asked() {
    let m = mock(MockConfig::new().missing_ids(["u3"])).await;
    let client = usermgr(&m);
    let summary = usermgr::rules::GET_USERS_BY_IDS.attributes.unwrap().summary;

    let users = usermgr_get(&client, "u1,u2,u3", None, None, None).await;
    assert_eq!(
        users.iter().map(|u| u.id.to_string()).collect::<Vec<_>>(),
        ["u1", "u2"]
    );
    let raw_users: Value = usermgr_raw(&m, "u1,u2", "")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for u in raw_users["user"].as_array().unwrap() {
        let keys: BTreeSet<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            summary.iter().map(|s| &**s).collect(),
            "only summary attributes"
        );
    }

    let raw_users: Value = usermgr_raw(
        &m,
        "u1,u2",
        "%24attribute=created,emailAddress,custom.costCenter",
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let u = raw_users["user"][0].as_object().unwrap();
    assert!(u.contains_key("created") && u.contains_key("emailAddress"));
    assert_eq!(u["custom"]["costCenter"], "costCenter value");
    assert!(!u.contains_key("title"), "title was not asked for");

    let all = usermgr_get(&client, "u1", Some("all"), None, None).await;
    assert!(all[0].title.is_some() || all[0].middle_name.is_some() || all[0].suffix.is_some());
    let single = usermgr_get(&client, "u1", Some("directReports,groups"), None, None).await;
    assert_eq!(single.len(), 1);
}

#[tokio::test]
async fn usermgr_answers_in_request_order() {
    // `$sort` and `$order` are checked but not honoured: no client sends them (the batch
    // operation skips them; the engine hands records back in the input's order).
    let m = mock(MockConfig::new()).await;
    let client = usermgr(&m);
    let unsorted = usermgr_get(&client, "30,4,200,11", None, Some("id"), None).await;
    assert_eq!(
        unsorted
            .iter()
            .map(|u| u.id.to_string())
            .collect::<Vec<_>>(),
        ["30", "4", "200", "11"],
    );
}

#[tokio::test]
async fn usermgr_unknown_ids_omitted_or_failing_the_request() {
    let omit = mock(MockConfig::new().missing_ids(["bad"])).await;
    let users = usermgr_get(&usermgr(&omit), "a,bad,b", None, None, None).await;
    assert_eq!(users.len(), 2);

    let fail = mock(
        MockConfig::new()
            .missing_ids(["bad"])
            .unknown_ids(UnknownIdAnswer::FailRequest),
    )
    .await;
    let err = usermgr_answer(&usermgr(&fail), "a,bad,b", None, None, None).await;
    assert_eq!(err.status, 404);
    let ok = usermgr_get(&usermgr(&fail), "a,b", None, None, None).await;
    assert_eq!(ok.len(), 2);
}

#[tokio::test]
async fn avepoint_pages_cover_every_found_user() {
    let m = mock(MockConfig::new().missing_ids(["id-7", "id-100"])).await;
    let client = avepoint(&m);
    let ids: Vec<String> = (0..250).map(|i| format!("id-{i}")).collect();
    let body = avepoint::types::UserBatchRequest {
        user_ids: ids.clone(),
    };
    let mut got = Vec::new();
    let mut index = 1;
    loop {
        let page = avepoint_page(
            client
                .retrieve_multiple_users(
                    "c1",
                    "t1",
                    NonZeroU32::new(index),
                    NonZeroU32::new(100),
                    &body,
                )
                .await,
        )
        .await;
        assert_eq!(page.metadata.total_count, 248);
        assert_eq!(page.metadata.page_index, index as i32);
        if page.data.is_empty() {
            break;
        }
        got.extend(page.data.into_iter().map(|u| u.id));
        index += 1;
    }
    assert_eq!(index, 4, "three pages of at most 100, then an empty one");
    let expected: Vec<String> = ids
        .into_iter()
        .filter(|i| i != "id-7" && i != "id-100")
        .collect();
    assert_eq!(got, expected, "every found user once, in request order");

    // Defaults: pageIndex 1, pageSize 100.
    let page = avepoint_page(
        client
            .retrieve_multiple_users("c1", "t1", None, None, &body)
            .await,
    )
    .await;
    assert_eq!(
        (page.metadata.page_index, page.metadata.page_size),
        (1, 100)
    );
    assert_eq!(page.data.len(), 100);
}

/// An AvePoint answer as the whole page type (the mock's records all fit it).
async fn avepoint_page(result: userbatch_core::RawResult) -> avepoint::types::UserPage {
    let received = answer(result).await;
    assert!(received.is_success(), "HTTP {}", received.status);
    serde_json::from_slice(&received.body).unwrap()
}
