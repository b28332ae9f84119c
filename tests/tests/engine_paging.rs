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
    let report =
        Batch::new(avepoint::Users::new(client, "c", "t").page_size(NonZeroU32::new(2).unwrap()))
            .max_batch(5)
            .fetch(["a", "b", "c", "d", "e"])
            .await
            .unwrap();
    let found: Vec<&str> = report.found.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(found, ["a", "b"]);
    // The rest cannot be called missing: the server's paging is not to be trusted.
    assert!(report.missing.is_empty());
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].ids, ["c", "d", "e"]);
    assert_eq!(report.failed[0].error.kind, ErrorKind::Paging);
    // At most the pages five ids can fill (3 of 2), whatever totalCount says.
    assert_eq!(report.requests, 3);
    assert_eq!(server.requests().len(), 3);
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
    let report = userbatch::nexudus::users(&client, ["1", "2"])
        .await
        .unwrap();
    let found: Vec<&str> = report.found.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(found, ["1"]);
    assert_eq!(report.missing, ["2"]);
}
