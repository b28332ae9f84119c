//! A vendor that misbehaves on purpose or by accident: it echoes the credentials it
//! refuses, or never answers. No secret reaches an error, and the run ends.

use std::time::{Duration, Instant};

use userbatch::{
    Batch, ClientConfig, ClientCredentials, Credentials, ErrorKind, Retry, nexudus, usermgr,
};
use userbatch_mock::{Fault, Faults, MockConfig, MockServer, OAuthClient};

use crate::support::ids;

/// Every error's text, the run's too.
fn all_errors<R>(report: &userbatch::Report<R>) -> String {
    let mut text: Vec<String> = report.failed.iter().map(|f| f.error.to_string()).collect();
    text.extend(report.run_error.as_ref().map(|e| format!("{e:?} {e}")));
    text.join("\n")
}

#[tokio::test]
async fn basic_credentials_a_vendor_echoes_never_reach_an_error() {
    let m = MockServer::start(MockConfig::new().accept_tokens(["x"]).echo_token(true))
        .await
        .unwrap();
    let client = nexudus::Client::from_config(
        ClientConfig::new(m.base_url()).credentials(Credentials::basic("ada", "pa55-word-1")),
    )
    .unwrap();
    let report = Batch::new(nexudus::GetUsers::new(client))
        .fetch(ids(3))
        .await
        .unwrap();
    let text = all_errors(&report);
    assert!(text.contains("invalid token '<redacted>'"), "{text}");
    // The mock echoes what came after `Basic `: base64 of `ada:pa55-word-1`.
    assert!(!text.contains("YWRhOnBhNTUtd29yZC0x"), "{text}");
    m.stop().await;
}

#[tokio::test]
async fn a_token_the_token_endpoint_issued_never_reaches_an_error() {
    // Tokens expired when issued: every request is refused (after one renewal), and the
    // vendor's 401 quotes the (issued) token.
    let m = MockServer::start(
        MockConfig::new()
            .oauth(OAuthClient::new("app", "client-s3cret", Duration::ZERO))
            .echo_token(true),
    )
    .await
    .unwrap();
    let grant = ClientCredentials::new(
        format!("{}/oauth/token", m.base_url()),
        "app",
        "client-s3cret",
    );
    let client = usermgr::Client::from_config(
        ClientConfig::new(m.base_url()).credentials(Credentials::client_credentials(grant)),
    )
    .unwrap();
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .fetch(ids(3))
        .await
        .unwrap();
    assert_eq!(report.failed_count(), 3);
    let text = all_errors(&report);
    assert!(text.contains("invalid token '<redacted>'"), "{text}");
    assert!(!text.contains("mock-oauth-"), "{text}");
    assert!(!text.contains("client-s3cret"), "{text}");
    m.stop().await;
}

#[tokio::test]
async fn a_vendor_that_never_answers_ends_the_run_in_about_a_timeout_and_a_retry() {
    let faults = Faults {
        script: vec![Some(Fault::Hang); 10_000],
        hang_for: Duration::from_secs(60),
        ..Faults::default()
    };
    let m = MockServer::start(MockConfig::new().faults_all(faults))
        .await
        .unwrap();
    let client = nexudus::Client::with_bearer(m.base_url(), "t").unwrap();
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let report = Batch::new(nexudus::GetUser::new(client))
        .request_timeout(timeout)
        .retry(Retry {
            base_delay: Duration::from_millis(10),
            ..Retry::default()
        })
        .fetch(ids(3_000))
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(report.failed_count(), 3_000);
    let error = report.run_error.as_ref().expect("the run stopped");
    assert_eq!(error.kind, ErrorKind::Timeout);
    assert!(
        report
            .failed
            .iter()
            .all(|f| f.error.kind == ErrorKind::Timeout)
    );
    // The first requests time out together; their retries (new requests wait meanwhile)
    // time out too: the run stops after about two timeouts, not five per request.
    assert!(took < 3 * timeout, "{took:?}");
    assert!(report.requests < 20, "{} requests", report.requests);
    m.stop().await;
}

#[tokio::test]
async fn a_long_token_echoed_in_a_long_message_is_scrubbed_before_it_is_cut() {
    // A JWT-sized token: the message is cut to 200 characters, which must not leave the
    // token's first part behind.
    let token = format!("eyJ{}", "aB3-_x".repeat(150));
    let m = MockServer::start(MockConfig::new().accept_tokens(["x"]).echo_token(true))
        .await
        .unwrap();
    let client = usermgr::Client::with_bearer(m.base_url(), token.as_str()).unwrap();
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .fetch(ids(3))
        .await
        .unwrap();
    let text = all_errors(&report);
    assert!(text.contains("invalid token '<redacted>'"), "{text}");
    assert!(!text.contains("eyJaB3"), "{text}");
    m.stop().await;
}

#[tokio::test]
async fn a_retried_server_error_that_echoes_the_token_is_not_logged_with_it() {
    use tracing_subscriber::util::SubscriberInitExt;
    let logs = crate::support::Buffer::default();
    let writer = logs.clone();
    let _guard = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .set_default();
    let token = "the-s3cret-token-42";
    let faults = Faults {
        script: vec![Some(Fault::ServerError(502)), Some(Fault::ServerError(502))],
        ..Faults::default()
    };
    let m = MockServer::start(MockConfig::new().echo_token(true).faults_all(faults))
        .await
        .unwrap();
    let client = nexudus::Client::with_bearer(m.base_url(), token).unwrap();
    let report = Batch::new(nexudus::GetUsers::new(client))
        .retry(crate::support::quick_retry())
        .fetch(ids(3))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 3, "{:?}", report.failed);
    let text = logs.text();
    assert!(text.contains("retrying"), "the retries were logged: {text}");
    assert!(text.contains("(token '<redacted>')"), "{text}");
    assert!(!text.contains(token), "{text}");
    m.stop().await;
}

#[tokio::test]
async fn a_slow_pace_of_the_users_own_is_not_a_vendor_that_throttles_forever() {
    // One throttled answer, then a pace (the user's) slower than the patience: the wait
    // for each turn is the pace, not the vendor, and the run goes on.
    let faults = Faults {
        script: vec![Some(Fault::Throttle)],
        retry_after: userbatch_mock::RetryAfter::Seconds(0),
        ..Faults::default()
    };
    let m = MockServer::start(MockConfig::new().faults_all(faults))
        .await
        .unwrap();
    let client = usermgr::Client::with_bearer(m.base_url(), "t").unwrap();
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .max_batch(1)
        .concurrency(1)
        .max_rate(4.0)
        .throttle_patience(Duration::from_millis(100))
        .fetch(ids(3))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 3, "{:?}", report.failed);
    assert_eq!(report.throttled, 1);
    m.stop().await;
}
