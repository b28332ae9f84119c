//! The batch engine against a vendor whose paging misbehaves: a scripted server on
//! loopback that answers every page with the same records and an inflated total.

use std::num::NonZeroU32;

use userbatch::{Batch, ErrorKind, avepoint};
use userbatch_tests::{CaptureServer, Reply};

#[tokio::test]
async fn a_server_that_repeats_pages_cannot_make_the_engine_loop() {
    let page = r#"{"data":[{"id":"a"},{"id":"b"}],"metadata":{"pageIndex":1,"pageSize":2,"totalCount":1000}}"#;
    let server = CaptureServer::start(Reply::json(200, page)).await;
    let client = avepoint::Client::with_bearer(server.base_url(), "t").unwrap();
    let report = Batch::new(
        avepoint::RetrieveMultipleUsers::new(client, "c", "t")
            .page_size(NonZeroU32::new(2).unwrap()),
    )
    .max_batch(5)
    .fetch(["a", "b", "c", "d", "e"])
    .await
    .unwrap();
    let found: Vec<&str> = report.found.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(found, ["a", "b"]);
    // The rest cannot be called missing: the server's paging is not to be trusted. Asked
    // again on their own, they get `a` and `b` once more: records not asked for.
    assert!(report.missing.is_empty());
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].ids, ["c", "d", "e"]);
    assert_eq!(report.failed[0].error.kind, ErrorKind::Unrequested);
    // At most the pages five ids can fill (3 of 2), whatever totalCount says, then the
    // pages three ids can fill (2 of 2).
    assert_eq!(report.requests, 5);
    assert_eq!(server.requests().len(), 5);
    let targets: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.target().to_owned())
        .collect();
    assert!(
        targets.iter().any(|t| t.contains("pageIndex=3")),
        "{targets:?}"
    );
}

#[tokio::test]
async fn records_for_ids_not_asked_for_are_not_reported() {
    let body = r#"[{"Id": 1}, {"Id": 999}]"#;
    let server = CaptureServer::start(Reply::json(200, body)).await;
    let client = userbatch::nexudus::Client::with_bearer(server.base_url(), "t").unwrap();
    let report = userbatch::fetch(nexudus::GetUsers::new(client.clone()), ["1", "2"])
        .await
        .unwrap();
    let found: Vec<&str> = report.found.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(found, ["1"]);
    // An answer with a record nobody asked for did not apply the filter as documented: the
    // id it left out is not called missing.
    assert!(report.missing.is_empty());
    assert_eq!(report.failed[0].ids, ["2"]);
    assert_eq!(report.failed[0].error.kind, ErrorKind::Unrequested);
}

#[tokio::test]
async fn the_record_and_the_unasked_one_are_told_apart() {
    let body = r#"[{"Id": 1}, {"Id": 999}]"#;
    let server = CaptureServer::start(Reply::json(200, body)).await;
    let client = userbatch::nexudus::Client::with_bearer(server.base_url(), "t").unwrap();
    let report = userbatch::fetch(nexudus::GetUsers::new(client.clone()), ["1", "2"])
        .await
        .unwrap();
    // 999 was not asked for: counted, not reported.
    assert_eq!(report.unexpected, 1);
}

#[tokio::test]
async fn records_not_where_the_spec_puts_them_fail_without_a_retry() {
    // Valid JSON, but `user` is an object, not the array the spec says.
    let server = CaptureServer::start(Reply::json(200, r#"{"user": {"id": "1"}}"#)).await;
    let client = userbatch::usermgr::Client::with_bearer(server.base_url(), "t").unwrap();
    let report = Batch::new(userbatch::usermgr::GetUsersByIds::new(client))
        .fetch(["1", "2"])
        .await
        .unwrap();
    assert_eq!(report.failed_count(), 2);
    let error = &report.failed[0].error;
    assert_eq!(error.kind, ErrorKind::Decode);
    assert!(error.to_string().contains("`/user`"), "{error}");
    assert_eq!(report.requests, 1, "the same answer would come back");
}

#[tokio::test]
async fn a_record_whose_id_cannot_be_read_keeps_the_others_from_being_called_missing() {
    // The second record has no id field: it may be id 2's, so 2 cannot be told missing.
    let server = CaptureServer::start(Reply::json(200, r#"[{"Id": 1}, {"Name": "?"}]"#)).await;
    let client = userbatch::nexudus::Client::with_bearer(server.base_url(), "t").unwrap();
    let report = userbatch::fetch(nexudus::GetUsers::new(client.clone()), ["1", "2"])
        .await
        .unwrap();
    assert_eq!(report.found.len(), 1);
    assert!(report.missing.is_empty());
    assert_eq!(report.failed[0].ids, ["2"]);
    assert!(
        report.failed[0].error.to_string().contains("no id field"),
        "{}",
        report.failed[0].error
    );
}
