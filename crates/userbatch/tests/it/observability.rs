//! Tracing spans carry what an operator needs and nothing secret.

use userbatch::{Batch, Retry, nexudus};
use userbatch_mock::{Fault, Faults, MockConfig, MockServer, RetryAfter, Vendor};

use crate::support::Buffer;

#[tokio::test]
async fn spans_name_operation_attempt_and_status_but_no_token_or_body() {
    let buffer = Buffer::default();
    let sink = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let faults = Faults {
        script: vec![Some(Fault::ServerError(503)), Some(Fault::Throttle)],
        retry_after: RetryAfter::Seconds(0),
        ..Faults::default()
    };
    let m = MockServer::start(MockConfig::new().faults(Vendor::Nexudus, faults))
        .await
        .unwrap();
    let token = "tok-SECRET-3141";
    let client = nexudus::Client::with_bearer(m.base_url(), token).unwrap();
    let report = Batch::new(nexudus::GetUsers::new(client))
        .retry(Retry {
            base_delay: std::time::Duration::from_millis(1),
            ..Retry::default()
        })
        .fetch(["1", "2"])
        .await
        .unwrap();
    assert_eq!(report.found.len(), 2);

    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("userbatch.request"), "{text}");
    assert!(text.contains("operation=\"getUsers\""), "{text}");
    assert!(text.contains("chunk_size=2"), "{text}");
    assert!(text.contains("attempt=3"), "{text}");
    assert!(
        text.contains("status=503") && text.contains("status=409") && text.contains("status=200"),
        "{text}"
    );
    assert!(text.contains("duration_ms="), "{text}");
    // Nothing secret and no response body: the token, and values only a body carries.
    assert!(
        !text.contains(token),
        "the token leaked into tracing output"
    );
    assert!(!text.contains("Bearer"), "{text}");
    assert!(
        !text.contains("user.1@example.com"),
        "a response body leaked into tracing output"
    );
    assert!(
        !text.contains("Internal server error"),
        "an error body leaked into tracing output"
    );
}
