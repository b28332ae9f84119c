//! The example against the mock: 1,000 ids in chunks, every id accounted for.

use userbatch_mock::{MockConfig, MockServer};

#[tokio::test]
async fn a_thousand_ids_in_chunks_with_the_vendor_crate_alone() {
    let mock = MockServer::start(MockConfig::new().missing_ids(["7", "700"]))
        .await
        .unwrap();
    let client = nexudus::Client::with_bearer(mock.base_url(), "token").unwrap();
    let mut ids: Vec<String> = (1..=1000).map(|i| i.to_string()).collect();
    ids.push("5".into()); // a duplicate costs nothing
    let fetched = nexudus_only::fetch_users(&client, &ids).await.unwrap();
    assert_eq!(fetched.found.len(), 998);
    assert_eq!(fetched.missing, ["7", "700"]);
    assert!(fetched.undecodable.is_empty());
    // 2,048 bytes of query each (`[`, `]` and `,` percent-encoded): the plan's count, and
    // more than one request.
    let plan = nexudus::plan::Planner::new(&nexudus::rules::GET_USERS)
        .plan(&ids)
        .unwrap();
    assert!(plan.chunks.len() > 1);
    assert_eq!(fetched.requests, plan.chunks.len());
    assert_eq!(
        mock.stats().operation("getUsers").requests,
        plan.chunks.len() as u64
    );
    mock.stop().await;
}

#[tokio::test]
async fn a_refused_token_is_one_error_with_its_status() {
    let mock = MockServer::start(MockConfig::new().accept_tokens(["right"]))
        .await
        .unwrap();
    let client = nexudus::Client::with_bearer(mock.base_url(), "wrong").unwrap();
    let err = nexudus_only::fetch_users(&client, &["1".to_owned()])
        .await
        .unwrap_err();
    assert!(
        matches!(err, nexudus::ClientError::Status { status: 401 }),
        "{err}"
    );
    mock.stop().await;
}
