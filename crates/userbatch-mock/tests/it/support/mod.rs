//! Helpers shared by the mock's integration tests.
#![allow(dead_code)]

use userbatch_core::{Received, SendResult};
use userbatch_mock::{MockConfig, MockServer};

pub const TOKEN: &str = "test-token";

pub async fn mock(config: MockConfig) -> MockServer {
    MockServer::start(config).await.expect("mock starts")
}

pub fn nexudus(m: &MockServer) -> nexudus::Client {
    nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap()
}

pub fn usermgr(m: &MockServer) -> usermgr::Client {
    usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap()
}

pub fn bracketed(ids: impl IntoIterator<Item = i64>) -> String {
    let ids: Vec<String> = ids.into_iter().map(|i| i.to_string()).collect();
    format!("[{}]", ids.join(","))
}

pub fn user_ids(ids: impl IntoIterator<Item = i64>) -> nexudus::types::GetUsersId {
    nexudus::types::GetUsersId::try_from(bracketed(ids)).unwrap()
}

/// A raw reqwest client for requests the generated clients would refuse to build (one per
/// test binary: building a client loads the platform's root certificates).
pub fn raw() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| reqwest::Client::builder().build().unwrap())
        .clone()
}

/// The status of a request's answer.
pub async fn status(req: reqwest::RequestBuilder) -> u16 {
    req.send().await.unwrap().status().as_u16()
}

/// A User Manager request with the required headers, raw.
pub fn usermgr_raw(m: &MockServer, ids_segment: &str, query: &str) -> reqwest::RequestBuilder {
    let sep = if query.is_empty() { "" } else { "?" };
    raw()
        .get(format!(
            "{}/core/usermgr/v3/users/{ids_segment}{sep}{query}",
            m.base_url()
        ))
        .bearer_auth(TOKEN)
        .header("accept", "application/json")
        .header("accept-language", "en-US")
}

/// A generated batch call's answer, read in full (whatever its status).
pub async fn answer(result: SendResult) -> Received {
    userbatch_core::receive(result, 64 << 20)
        .await
        .expect("an answer")
}

/// A User Manager request through the generated client: its answer, read in full.
pub async fn usermgr_answer(
    client: &usermgr::Client,
    ids: &str,
    attribute: Option<&str>,
    sort: Option<&str>,
    order: Option<usermgr::types::GetUsersByIdsOrder>,
) -> Received {
    let ids = usermgr::types::GetUsersByIdsIds::try_from(ids.to_string()).unwrap();
    answer(
        client
            .get_users_by_ids(
                &ids,
                attribute,
                order,
                sort,
                usermgr::types::GetUsersByIdsAccept::ApplicationJson,
                usermgr::types::GetUsersByIdsAcceptLanguage::EnUs,
            )
            .await,
    )
    .await
}

/// The users of a User Manager request through the generated client.
pub async fn usermgr_get(
    client: &usermgr::Client,
    ids: &str,
    attribute: Option<&str>,
    sort: Option<&str>,
    order: Option<usermgr::types::GetUsersByIdsOrder>,
) -> Vec<usermgr::types::User> {
    let received = usermgr_answer(client, ids, attribute, sort, order).await;
    assert!(received.is_success(), "HTTP {}", received.status);
    let rules = &usermgr::rules::GET_USERS_BY_IDS;
    received
        .records(&rules.records, rules.ids.kind)
        .unwrap()
        .into_iter()
        .map(|r| r.value.unwrap())
        .collect()
}

/// An AvePoint batch path (any customer and tenant exist unless the config says otherwise).
pub const AVEPOINT_PATH: &str = "/partner/external/v3/um/customers/c1/tenants/t1/users/batch";
