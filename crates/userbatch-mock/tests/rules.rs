//! Each vendor rule the mock enforces, one test each; every test fails if the mock stops
//! enforcing its rule.

mod support;

use serde_json::json;
use support::*;
use userbatch_mock::{MockConfig, MockServer};

async fn status(req: reqwest::RequestBuilder) -> u16 {
    req.send().await.unwrap().status().as_u16()
}

/// The answer's body, as JSON.
async fn json_of(req: reqwest::RequestBuilder) -> serde_json::Value {
    req.send().await.unwrap().json().await.unwrap()
}

fn nexudus_list(m: &MockServer, query: &str) -> reqwest::RequestBuilder {
    raw()
        .get(format!("{}/api/sys/users/?{query}", m.base_url()))
        .bearer_auth(TOKEN)
}

/// `id=%5B...%5D` of exactly `len` bytes (as sent).
fn encoded_query_of_len(len: usize) -> String {
    // "id=" + "%5B" + digits/"%2C" + "%5D"
    let mut ids = Vec::new();
    let mut used = "id=%5B%5D".len();
    let mut next = 1_000_000u64;
    loop {
        let add = next.to_string().len() + if ids.is_empty() { 0 } else { 3 };
        if used + add > len {
            break;
        }
        used += add;
        ids.push(next.to_string());
        next += 1;
    }
    // Pad the first id with leading digits to hit the exact length.
    let pad = len - used;
    ids[0] = format!("{}{}", "1".repeat(pad), ids[0]);
    let q = format!("id=%5B{}%5D", ids.join("%2C"));
    assert_eq!(q.len(), len);
    q
}

#[tokio::test]
async fn nexudus_query_over_2048_bytes_as_sent_gets_414() {
    let m = mock(MockConfig::new()).await;
    // 2,048 bytes pass; 2,049 do not. Ids long enough to overflow i64 are avoided by the
    // padding staying under 19 digits.
    let at_limit = encoded_query_of_len(2048);
    assert_eq!(status(nexudus_list(&m, &at_limit)).await, 200);
    let over = encoded_query_of_len(2049);
    let resp = nexudus_list(&m, &over).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 414);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // Raw brackets count one byte each, so the same ids fit in fewer bytes unencoded.
    let raw_form = over
        .replace("%5B", "[")
        .replace("%5D", "]")
        .replace("%2C", ",");
    assert_eq!(status(nexudus_list(&m, &raw_form)).await, 200);
}

#[tokio::test]
async fn nexudus_malformed_ids_get_400() {
    let m = mock(MockConfig::new()).await;
    for q in [
        "id=1,2",
        "id=[1,a]",
        "id=[]",
        "id=[1,,2]",
        "id=%5B-1%5D",
        "",
        "other=[1]",
        "id=[99999999999999999999]",
        // As the spec's pattern: integers as they print, no leading zero.
        "id=[007]",
        "id=[1,02]",
    ] {
        assert_eq!(status(nexudus_list(&m, q)).await, 400, "query {q:?}");
    }
    // 19 digits fit the pattern; beyond 64 signed bits they are nobody's Id: not found.
    let users = json_of(nexudus_list(&m, "id=[9999999999999999999,0]")).await;
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["Id"], 0);
    let resp = raw()
        .get(format!("{}/api/sys/users/abc", m.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(status(nexudus_list(&m, "id=[1,2]")).await, 200);
    assert_eq!(status(nexudus_list(&m, "id=%5B1%2C2%5D")).await, 200);
}

#[tokio::test]
async fn nexudus_needs_bearer_or_basic_credentials() {
    let m = mock(MockConfig::new()).await;
    let url = format!("{}/api/spaces/coworkers/?id=[1]", m.base_url());
    assert_eq!(status(raw().get(&url)).await, 401);
    assert_eq!(
        status(raw().get(&url).header("authorization", "Bearer ")).await,
        401
    );
    assert_eq!(
        status(raw().get(&url).header("authorization", "Token abc")).await,
        401
    );
    assert_eq!(status(raw().get(&url).bearer_auth("t")).await, 200);
    assert_eq!(
        status(raw().get(&url).basic_auth("user", Some("pw"))).await,
        200
    );
    let one = format!("{}/api/sys/users/1", m.base_url());
    assert_eq!(status(raw().get(&one)).await, 401);
}

#[tokio::test]
async fn usermgr_75_ids_pass_and_76_get_400() {
    let m = mock(MockConfig::new()).await;
    let ids = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    assert_eq!(status(usermgr_raw(&m, &ids(75), "")).await, 200);
    assert_eq!(status(usermgr_raw(&m, &ids(76), "")).await, 400);
}

#[tokio::test]
async fn usermgr_ids_segment_over_20000_characters_gets_400() {
    let m = mock(MockConfig::new()).await;
    let segment = |len: usize| {
        // Two ids with a comma between: len characters in all.
        let a = "a".repeat(len / 2);
        let b = "b".repeat(len - a.len() - 1);
        format!("{a},{b}")
    };
    assert_eq!(status(usermgr_raw(&m, &segment(20_000), "")).await, 200);
    assert_eq!(status(usermgr_raw(&m, &segment(20_001), "")).await, 400);
}

#[tokio::test]
async fn usermgr_empty_id_gets_400() {
    let m = mock(MockConfig::new()).await;
    assert_eq!(status(usermgr_raw(&m, "1,,2", "")).await, 400);
    assert_eq!(status(usermgr_raw(&m, "1,", "")).await, 400);
}

#[tokio::test]
async fn usermgr_accept_header_is_required_and_must_allow_json() {
    let m = mock(MockConfig::new()).await;
    let url = format!("{}/core/usermgr/v3/users/1", m.base_url());
    let base = || {
        raw()
            .get(&url)
            .bearer_auth(TOKEN)
            .header("accept-language", "en-US")
    };
    assert_eq!(status(base()).await, 406, "missing Accept");
    assert_eq!(
        status(base().header("accept", "application/xml")).await,
        406
    );
    assert_eq!(status(base().header("accept", "text/html")).await, 406);
    assert_eq!(
        status(base().header("accept", "application/json")).await,
        200
    );
}

#[tokio::test]
async fn usermgr_accept_language_is_required() {
    let m = mock(MockConfig::new()).await;
    let url = format!("{}/core/usermgr/v3/users/1", m.base_url());
    let base = || {
        raw()
            .get(&url)
            .bearer_auth(TOKEN)
            .header("accept", "application/json")
    };
    assert_eq!(status(base()).await, 400, "missing Accept-Language");
    assert_eq!(status(base().header("accept-language", "xx-XX")).await, 400);
    assert_eq!(status(base().header("accept-language", "ja-JP")).await, 200);
}

#[tokio::test]
async fn usermgr_single_id_attributes_with_several_ids_get_400() {
    let m = mock(MockConfig::new()).await;
    for attr in ["directReports", "groups", "languages", "title,groups"] {
        let q = format!("%24attribute={attr}");
        assert_eq!(
            status(usermgr_raw(&m, "1,2", &q)).await,
            400,
            "{attr} with two ids"
        );
        assert_eq!(
            status(usermgr_raw(&m, "1", &q)).await,
            200,
            "{attr} with one id"
        );
    }
    assert_eq!(
        status(usermgr_raw(&m, "1,2", "%24attribute=title,manager")).await,
        200
    );
    assert_eq!(
        status(usermgr_raw(&m, "1,2", "%24attribute=nonsense")).await,
        400
    );
}

#[tokio::test]
async fn usermgr_sort_and_order_values_are_checked() {
    let m = mock(MockConfig::new()).await;
    assert_eq!(
        status(usermgr_raw(&m, "1,2", "%24sort=firstName&%24order=desc")).await,
        200
    );
    assert_eq!(
        status(usermgr_raw(&m, "1,2", "%24sort=custom.costCenter")).await,
        200
    );
    assert_eq!(status(usermgr_raw(&m, "1,2", "%24sort=email")).await, 400);
    assert_eq!(status(usermgr_raw(&m, "1,2", "%24order=up")).await, 400);
}

#[tokio::test]
async fn usermgr_needs_a_bearer_token() {
    let m = mock(MockConfig::new()).await;
    let resp = raw()
        .get(format!("{}/core/usermgr/v3/users/1", m.base_url()))
        .header("accept", "application/json")
        .header("accept-language", "en-US")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}

fn avepoint_post(m: &MockServer, query: &str) -> reqwest::RequestBuilder {
    raw()
        .post(format!("{}{AVEPOINT_PATH}{query}", m.base_url()))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
}

#[tokio::test]
async fn avepoint_missing_body_or_malformed_ids_get_400() {
    let m = mock(MockConfig::new()).await;
    assert_eq!(status(avepoint_post(&m, "")).await, 400, "no body");
    for body in [
        "not json",
        "[]",
        r#"{"userIds": "a,b"}"#,
        r#"{"userIds": [1, 2]}"#,
        r#"{"userIds": [null]}"#,
    ] {
        assert_eq!(
            status(avepoint_post(&m, "").body(body)).await,
            400,
            "body {body}"
        );
    }
    assert_eq!(
        status(avepoint_post(&m, "").body(r#"{"userIds": ["a"]}"#)).await,
        200
    );
    // The docs mark `userIds` optional: without it no one is asked for; an empty id is
    // nobody's.
    for body in ["{}", r#"{"userIds": ["a", ""]}"#] {
        assert_eq!(
            status(avepoint_post(&m, "").body(body)).await,
            200,
            "body {body}"
        );
    }
    assert_eq!(
        status(avepoint_post(&m, "").body(r#"{"userIds": []}"#)).await,
        200
    );
}

#[tokio::test]
async fn avepoint_paging_parameters_are_checked_and_total_count_is_right() {
    let m = mock(MockConfig::new().missing_ids(["x"])).await;
    let body = json!({"userIds": ["a", "b", "x", "c", "a"]}).to_string();
    for q in [
        "?pageIndex=0",
        "?pageSize=0",
        "?pageIndex=a",
        "?pageSize=-1",
        // `format: int32`.
        "?pageSize=2147483648",
        "?pageIndex=2147483648",
    ] {
        assert_eq!(
            status(avepoint_post(&m, q).body(body.clone())).await,
            400,
            "{q}"
        );
    }
    let page = json_of(avepoint_post(&m, "?pageIndex=2&pageSize=2").body(body)).await;
    assert_eq!(
        page["metadata"],
        json!({"pageIndex": 2, "pageSize": 2, "totalCount": 3})
    );
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(page["data"][0]["id"], "c");
}

#[tokio::test]
async fn nexudus_put_bodies_follow_the_schema_nulls_and_formats_included() {
    let m = mock(MockConfig::new()).await;
    let url = format!("{}/api/sys/users", m.base_url());
    let user = json_of(raw().get(format!("{url}/5")).bearer_auth(TOKEN)).await;
    let put = |body: serde_json::Value| {
        raw()
            .put(&url)
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body.to_string())
    };
    assert_eq!(status(put(user.clone())).await, 200);
    for (field, value) in [
        // Not nullable in the spec (the generated type would take null).
        ("ToStringText", json!(null)),
        ("CreatedOn", json!("yesterday")),
        ("CreatedOn", json!("2024-01-01")),
        ("UniqueId", json!("not-a-uuid")),
    ] {
        let mut bad = user.clone();
        bad[field] = value.clone();
        assert_eq!(status(put(bad)).await, 400, "{field}: {value}");
    }
}

#[tokio::test]
async fn avepoint_needs_a_bearer_token() {
    let m = mock(MockConfig::new()).await;
    let resp = raw()
        .post(format!("{}{AVEPOINT_PATH}", m.base_url()))
        .body(r#"{"userIds": ["a"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}
