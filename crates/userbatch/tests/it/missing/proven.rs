//! Once an answer proved the requests sound: one wrong answer is not the run's, a repeated one is.
use userbatch::{Batch, ErrorKind, avepoint, nexudus, usermgr};
use userbatch_mock::{Fault, Faults, MockConfig};

use super::{Sloppy, all_failed_by_one_cause};
use crate::support::{TOKEN, ids, mock, quick_retry};

#[tokio::test]
async fn one_wrong_answer_is_not_the_runs_once_an_answer_proved_the_requests_sound() {
    // The first request is answered; later a gateway hiccup answers one request with its
    // HTML 404: only that request's ids fail, and the run goes on.
    let faults = Faults {
        script: vec![
            None,
            Some(Fault::Html(404)),
            Some(Fault::Html(404)),
            Some(Fault::Html(404)),
        ],
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults_all(faults)).await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .concurrency(1)
        .fetch(ids(75 * 6))
        .await
        .unwrap();
    assert!(report.run_error.is_none());
    assert_eq!(report.found.len(), 75 * 3);
    assert_eq!(report.failed_count(), 75 * 3);
    assert!(report.missing.is_empty());
    m.stop().await;
}

#[tokio::test]
async fn a_gateway_404_that_fits_the_documented_not_found_body_calls_nothing_missing() {
    // API gateways answer a path they do not route with a JSON 404 `{"message": ...}`,
    // which fits User Manager's documented error body. Nothing in the run shows that the
    // requests reach the vendor, so none of these is the vendor's word.
    let gateway = || {
        Sloppy::start(|_| {
            let body = r#"{"message":"no Route matched with those values"}"#;
            (404, "application/json; charset=utf-8", body.to_owned())
        })
    };
    for n in [3, 3_000] {
        let server = gateway().await;
        let client = usermgr::Client::with_bearer(&server.url(), TOKEN).unwrap();
        let report = Batch::new(usermgr::GetUsersByIds::new(client))
            .fetch(ids(n))
            .await
            .unwrap();
        let at = format!("{n} ids");
        all_failed_by_one_cause(&report, n, Some(server.requests()), &at, |e| {
            assert_eq!((e.kind, e.status), (ErrorKind::Unproven, Some(404)), "{e}");
            assert_eq!(
                e.detail.as_deref(),
                Some("no Route matched with those values")
            );
            assert!(e.to_string().starts_with("not called missing"), "{e}");
        });
    }
    // One id per request (an attribute valid for single ids only): no probe can tell, so
    // every id is asked for, and none is called missing.
    let server = gateway().await;
    let client = usermgr::Client::with_bearer(&server.url(), TOKEN).unwrap();
    let op = usermgr::GetUsersByIds::new(client)
        .attributes(["groups"])
        .unwrap();
    let report = Batch::new(op).fetch(ids(30)).await.unwrap();
    assert!(report.missing.is_empty());
    assert_eq!(report.failed_count(), 30);
    assert!(
        report
            .failed
            .iter()
            .all(|f| f.error.kind == ErrorKind::Unproven)
    );
}

#[tokio::test]
async fn a_not_found_answer_is_missing_once_another_answer_proved_the_requests() {
    // Every id unknown: the vendor's documented 404 to each, but nothing found to prove
    // that the requests reach it.
    let m = mock(MockConfig::new().missing_if(|_| true)).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(nexudus::GetUser::new(client))
        .fetch(ids(5))
        .await
        .unwrap();
    assert!(report.missing.is_empty());
    assert_eq!(report.failed_count(), 5);
    assert!(
        report
            .failed
            .iter()
            .all(|f| f.error.kind == ErrorKind::Unproven)
    );
    m.stop().await;
    // One id found, anywhere in the run (the last here, one request at a time): the 404s
    // before it are held back until it proves the requests, then are missing.
    let m = mock(MockConfig::new().missing_if(|id| id != "40")).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(nexudus::GetUser::new(client))
        .concurrency(1)
        .fetch(ids(40))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 1);
    assert_eq!(report.missing.len(), 39);
    assert_eq!(report.missing[0], "1", "in input order");
    m.stop().await;
}

#[tokio::test]
async fn a_failure_that_repeats_after_the_run_was_proven_stops_it() {
    // The first request is answered; then the token's role is revoked: every request 403.
    let mut script = vec![None];
    script.extend(std::iter::repeat_n(Some(Fault::Refused(403)), 10_000));
    let faults = Faults {
        script,
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults_all(faults)).await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .concurrency(1)
        .fetch(ids(3_000))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 75);
    assert!(report.missing.is_empty());
    assert_eq!(report.failed_count(), 3_000 - 75);
    assert_eq!(report.run_error.as_ref().and_then(|e| e.status), Some(403));
    assert!(report.requests <= 12, "{} requests", report.requests);
    m.stop().await;
}

#[tokio::test]
async fn a_gateway_that_answers_502_to_every_request_stops_the_run_with_the_cause() {
    let faults = Faults {
        script: vec![Some(Fault::Html(502)); 10_000],
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults_all(faults)).await;
    let client = avepoint::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(avepoint::RetrieveMultipleUsers::new(client, "c", "t"))
        .retry(quick_retry())
        .fetch(ids(3_000))
        .await
        .unwrap();
    assert!(report.missing.is_empty() && report.found.is_empty());
    let error = report.run_error.as_ref().expect("the run stopped");
    assert_eq!(error.status, Some(502));
    for f in &report.failed {
        let text = f.error.to_string();
        assert!(
            text.contains("502") && text.contains("an HTML page"),
            "{text}"
        );
    }
    assert!(report.requests < 30, "{} requests", report.requests);
    m.stop().await;
}

#[tokio::test]
async fn bodies_cut_short_are_answers_not_silence() {
    // Three answers in a row whose bodies break off, before anything was proven: the
    // vendor is there, and the retries get the records.
    let faults = Faults {
        script: vec![Some(Fault::Disconnect); 3],
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults_all(faults)).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(nexudus::GetUser::new(client))
        .concurrency(1)
        .retry(quick_retry())
        .fetch(ids(2))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 2, "{:?}", report.failed);
    assert!(report.run_error.is_none());
    m.stop().await;
}
