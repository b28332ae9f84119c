//! Retries: throttling, 5xx, Retry-After, timeouts, and errors that do not heal.
use std::time::Duration;

use userbatch::{Batch, ErrorKind, Retry, avepoint, nexudus, usermgr};
use userbatch_mock::{Fault, Faults, MockConfig, RetryAfter, Vendor};

use crate::support::{TOKEN, ids, mock, quick_retry};

#[tokio::test]
async fn throttling_and_every_5xx_are_retried() {
    for fault in [
        Fault::Throttle,
        Fault::ServerError(500),
        Fault::ServerError(502),
        Fault::ServerError(503),
        Fault::ServerError(504),
        Fault::ServerError(408),
        Fault::Disconnect,
        Fault::Truncate,
        Fault::Html(502),
    ] {
        let faults = Faults {
            script: vec![Some(fault), Some(fault)],
            retry_after: RetryAfter::Seconds(0),
            ..Faults::default()
        };
        let m = mock(MockConfig::new().faults_all(faults)).await;
        let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
        let report = Batch::new(usermgr::GetUsersByIds::new(client))
            .retry(quick_retry())
            .fetch(ids(10))
            .await
            .unwrap();
        assert_eq!(report.found.len(), 10, "{fault:?} was not recovered");
        assert_eq!(report.requests, 3, "{fault:?}: two failures, then success");
    }
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured_too() {
    let faults = Faults {
        script: vec![Some(Fault::Throttle)],
        retry_after: RetryAfter::HttpDate(Duration::from_secs(2)),
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults(Vendor::Avepoint, faults)).await;
    let client = avepoint::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let started = std::time::Instant::now();
    let report = Batch::new(avepoint::RetrieveMultipleUsers::new(client, "c", "t"))
        .retry(quick_retry())
        .fetch(ids(3))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 3);
    // An HTTP date has one-second resolution: at least one second of the two remains.
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_retry_after_beyond_the_throttle_patience_fails_instead_of_waiting() {
    let faults = Faults {
        throttle: 1.0,
        retry_after: RetryAfter::Seconds(3600),
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults(Vendor::Usermgr, faults)).await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .fetch(ids(3))
        .await
        .unwrap();
    assert_eq!(report.failed.len(), 1);
    let error = &report.failed[0].error;
    assert_eq!(
        (error.kind, error.status, error.retry_after),
        (
            ErrorKind::Throttled,
            Some(429),
            Some(Duration::from_secs(3600))
        )
    );
    assert!(error.to_string().contains("asked to wait 3600s"), "{error}");
    assert_eq!(report.requests, 1);
}

#[tokio::test]
async fn timeouts_are_retried() {
    let faults = Faults {
        script: vec![Some(Fault::Hang)],
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults(Vendor::Nexudus, faults)).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(nexudus::GetCoworkers::new(client))
        .retry(quick_retry())
        .request_timeout(Duration::from_millis(300))
        .fetch(ids(5))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 5);
    assert_eq!(report.requests, 2);
}

#[tokio::test]
async fn errors_that_do_not_heal_fail_the_ids_with_their_error() {
    let faults = Faults {
        server_errors: 1.0,
        server_error_statuses: vec![503],
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults(Vendor::Usermgr, faults)).await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .retry(Retry {
            max_attempts: 3,
            ..quick_retry()
        })
        .fetch(ids(80))
        .await
        .unwrap();
    assert!(report.found.is_empty() && report.missing.is_empty());
    assert_eq!(report.failed_count(), 80);
    let e = &report.failed[0].error;
    assert_eq!(
        (e.kind, e.status, e.attempts),
        (ErrorKind::Status, Some(503), 3)
    );
    // The vendor's own message (the spec's `error-message` field), quoted.
    assert_eq!(
        e.to_string(),
        "the vendor answered HTTP 503: \"An error has occurred.\" (after 3 attempts)"
    );
    assert_eq!(report.requests, 6, "two requests, three attempts each");
}
