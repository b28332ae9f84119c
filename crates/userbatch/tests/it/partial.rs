//! Partial records against the mock: hydrating summaries, the update path.

use userbatch::{Batch, nexudus};
use userbatch_mock::{Fault, Faults, MockConfig, MockServer, Vendor};

#[tokio::test]
async fn hydrate_turns_1000_summaries_into_1000_full_records() {
    let m = MockServer::start(MockConfig::new().log_requests(false))
        .await
        .unwrap();
    let client = nexudus::Client::with_bearer(m.base_url(), "t").unwrap();
    let ids: Vec<String> = (1..=1000).rev().map(|i| i.to_string()).collect();
    let summaries = userbatch::fetch(nexudus::GetUsers::new(client.clone()), &ids)
        .await
        .unwrap();
    assert_eq!(summaries.found.len(), 1000);
    let list: Vec<nexudus::types::UserSummary> =
        summaries.found.into_iter().map(|f| f.record).collect();

    let full = userbatch::hydrate_with(&nexudus::GetUsers::new(client.clone()), &list)
        .await
        .unwrap();
    assert_eq!(full.found.len(), 1000);
    assert!(full.missing.is_empty() && full.failed.is_empty());
    assert_eq!(full.requests, 1000, "one getUser per id");
    // In the summaries' order, each full record under its own id, with the fields the
    // summaries lacked now there (the mock leaves about one in five nullable fields null).
    let order: Vec<String> = full.found.iter().map(|f| f.id.clone()).collect();
    assert_eq!(order, ids);
    assert!(full.found.iter().all(|f| f.record.id.to_string() == f.id));
    let with_devices = full.records().filter(|u| u.devices.is_some()).count();
    assert!(
        with_devices > 600,
        "full records carry the unpopulated fields: {with_devices}"
    );
    assert_eq!(m.stats().operation("getUser").requests, 1000);
}

#[tokio::test]
async fn hydrate_reports_ids_gone_since_the_list_as_missing() {
    let m = MockServer::start(MockConfig::new()).await.unwrap();
    let client = nexudus::Client::with_bearer(m.base_url(), "t").unwrap();
    let list = userbatch::fetch(nexudus::GetCoworkers::new(client.clone()), ["1", "2", "3"])
        .await
        .unwrap();
    let summaries: Vec<_> = list.found.into_iter().map(|f| f.record).collect();
    // Between the list and the hydrate, coworker 2 was deleted.
    let m2 = MockServer::start(MockConfig::new().missing_ids(["2"]))
        .await
        .unwrap();
    let client2 = nexudus::Client::with_bearer(m2.base_url(), "t").unwrap();
    let full = userbatch::hydrate_with(&nexudus::GetCoworkers::new(client2.clone()), &summaries)
        .await
        .unwrap();
    let found: Vec<&str> = full.found.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(found, ["1", "3"]);
    assert_eq!(full.missing, ["2"]);
    // The generic form takes any PartialRecord and a get-one batch.
    let again = userbatch::hydrate(&Batch::new(nexudus::GetCoworker::new(client)), &summaries)
        .await
        .unwrap();
    assert_eq!(again.found.len(), 3);
}

#[tokio::test]
async fn read_modify_write_sends_the_full_record() {
    let m = MockServer::start(MockConfig::new()).await.unwrap();
    let client = nexudus::Client::with_bearer(m.base_url(), "t").unwrap();
    let result = userbatch::modify(&nexudus::GetCoworker::new(client.clone()), 7, |c| {
        c.notes = Some("VIP".into())
    })
    .await
    .unwrap();
    assert_eq!(result.was_successful, Some(true));
    // The mock reports fields absent from a PUT body as cleared: none were.
    assert_eq!(result.message.as_deref(), Some("Updated."));
    let log = m.log();
    assert_eq!(
        log.iter().map(|r| r.operation).collect::<Vec<_>>(),
        ["getCoworker", "updateCoworker"]
    );
    assert_eq!(log[1].ids, ["7"]);
    // The write persists for the server's lifetime: the next read returns the change.
    let again = Batch::new(nexudus::GetCoworker::new(client.clone()))
        .fetch(["7"])
        .await
        .unwrap();
    assert_eq!(again.found[0].record.notes.as_deref(), Some("VIP"));
    let other = Batch::new(nexudus::GetCoworker::new(client.clone()))
        .fetch(["8"])
        .await
        .unwrap();
    assert_ne!(other.found[0].record.notes.as_deref(), Some("VIP"));

    // What the type system prevents, done by hand with raw JSON: a summary sent back
    // clears the unpopulated fields.
    let summary = serde_json::json!({"Id": 7, "FullName": "x"});
    let resp: serde_json::Value = reqwest::Client::new()
        .put(format!("{}/api/spaces/coworkers", m.base_url()))
        .bearer_auth("t")
        .json(&summary)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message = resp["Message"].as_str().unwrap();
    let cleared = message
        .split_once("cleared: ")
        .map_or(Vec::new(), |(_, list)| list.split(", ").collect());
    // A summary's unpopulated field among them.
    assert!(cleared.contains(&"CoworkerType"), "{resp}");
}

#[tokio::test]
async fn a_failed_read_modify_write_says_which_call_failed() {
    use userbatch::ModifyStep;
    // The GET fails: nothing was sent back.
    let m = MockServer::start(MockConfig::new().missing_ids(["8"]))
        .await
        .unwrap();
    let client = nexudus::Client::with_bearer(m.base_url(), "t").unwrap();
    let err = userbatch::modify(&nexudus::GetUser::new(client.clone()), 8, |u| {
        u.full_name = Some("x".into())
    })
    .await
    .unwrap_err();
    assert_eq!(err.step, ModifyStep::Get);
    assert!(
        err.to_string()
            .starts_with("reading the record (GET) failed"),
        "{err}"
    );
    assert_eq!(m.log().len(), 1);
    m.stop().await;

    // The GET works and the PUT meets a server error: the error says PUT, and keeps its
    // cause as its source.
    let faults = Faults {
        script: vec![None, Some(Fault::ServerError(500))],
        ..Faults::default()
    };
    let m = MockServer::start(MockConfig::new().faults(Vendor::Nexudus, faults))
        .await
        .unwrap();
    let client = nexudus::Client::with_bearer(m.base_url(), "t").unwrap();
    let err = userbatch::modify(&nexudus::GetUser::new(client.clone()), 9, |u| {
        u.full_name = Some("x".into())
    })
    .await
    .unwrap_err();
    assert_eq!(err.step, ModifyStep::Put);
    assert_eq!(err.error.status, Some(500));
    assert!(err.to_string().contains("(PUT)"), "{err}");
    let source = std::error::Error::source(&err).expect("the FetchError");
    assert_eq!(source.to_string(), err.error.to_string());
    m.stop().await;
}

#[tokio::test]
async fn a_refused_connection_names_the_host_and_the_os_error() {
    // A port nobody listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = nexudus::Client::with_bearer(&format!("http://127.0.0.1:{port}"), "t").unwrap();
    let report = userbatch::Batch::new(nexudus::GetUser::new(client))
        .retry(userbatch::Retry::none())
        .fetch(["1"])
        .await
        .unwrap();
    let error = &report.failed[0].error;
    assert_eq!(error.kind, userbatch::ErrorKind::Connection);
    let text = error.to_string();
    assert!(text.contains(&format!("to 127.0.0.1:{port}")), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
    assert!(!text.contains("/api/"), "no path in the error: {text}");
}

#[test]
fn a_base_url_without_a_scheme_is_refused_when_the_client_is_built() {
    let err = nexudus::Client::with_bearer("spaces.nexudus.com", "t").unwrap_err();
    assert!(matches!(err, userbatch::ConfigError::BaseUrl(_)), "{err}");
}
