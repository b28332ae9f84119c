//! Each injected fault, seen by a real client; each test fails if the mock stops
//! injecting its fault.

use std::time::{Duration, SystemTime};

use crate::support::*;
use userbatch_mock::{Fault, Faults, MockConfig, RetryAfter, Vendor};

fn scripted(fault: Fault) -> Faults {
    Faults {
        script: vec![Some(fault)],
        ..Faults::default()
    }
}

fn coworkers_url(m: &userbatch_mock::MockServer, ids: &str) -> String {
    format!("{}/api/spaces/coworkers/?id={ids}", m.base_url())
}

#[tokio::test]
async fn latency_is_added_to_every_response() {
    let m = mock(
        MockConfig::new().faults(Vendor::Nexudus, Faults::latency(Duration::from_millis(150))),
    )
    .await;
    let started = std::time::Instant::now();
    assert!(answer(nexudus(&m).get_user(1).await).await.is_success());
    // A lower bound only: a slow machine can only make this larger.
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn throttling_uses_each_vendors_status_and_retry_after_seconds() {
    let faults = Faults {
        throttle: 1.0,
        retry_after: RetryAfter::Seconds(7),
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults_all(faults)).await;
    // Nexudus throttles with 409 (its spec's x-userbatch.throttle-statuses), empty body.
    let resp = raw()
        .get(coworkers_url(&m, "[1]"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 409);
    assert_eq!(resp.headers()["retry-after"], "7");
    assert!(resp.bytes().await.unwrap().is_empty());
    // User Manager and AvePoint: 429.
    let resp = usermgr_raw(&m, "1", "").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    let resp = raw()
        .post(format!("{}{AVEPOINT_PATH}", m.base_url()))
        .bearer_auth(TOKEN)
        .body(r#"{"userIds":["a"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
}

#[tokio::test]
async fn throttling_with_retry_after_as_an_http_date_and_a_chosen_status() {
    let faults = Faults {
        throttle: 1.0,
        retry_after: RetryAfter::HttpDate(Duration::from_secs(120)),
        throttle_status: Some(429),
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults(Vendor::Nexudus, faults)).await;
    let resp = raw()
        .get(coworkers_url(&m, "[1]"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let when = httpdate::parse_http_date(resp.headers()["retry-after"].to_str().unwrap()).unwrap();
    let ahead = when.duration_since(SystemTime::now()).unwrap();
    assert!(
        ahead > Duration::from_secs(60) && ahead <= Duration::from_secs(121),
        "{ahead:?}"
    );
}

#[tokio::test]
async fn server_errors_by_script_and_by_rate() {
    let faults = Faults {
        script: vec![
            Some(Fault::ServerError(500)),
            Some(Fault::ServerError(502)),
            None,
            Some(Fault::ServerError(503)),
            Some(Fault::ServerError(504)),
        ],
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults(Vendor::Usermgr, faults)).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(status(usermgr_raw(&m, "1", "")).await);
    }
    assert_eq!(statuses, [500, 502, 200, 503, 504, 200]);

    let faults = Faults {
        server_errors: 1.0,
        server_error_statuses: vec![502],
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults(Vendor::Nexudus, faults)).await;
    let err = answer(nexudus(&m).get_user(1).await).await;
    assert_eq!(err.status, 502);
    // Nexudus' error bodies are bare JSON strings, as its spec's error-message says.
    let message = userbatch_core::json::vendor_message(&err.body, "");
    assert_eq!(message.as_deref(), Some("An error has occurred."));
}

#[tokio::test]
async fn rates_are_reproducible_by_seed_and_retries_get_fresh_decisions() {
    let faults = Faults {
        server_errors: 0.5,
        ..Faults::default()
    };
    async fn pattern(seed: u64, faults: Faults) -> Vec<bool> {
        let m = mock(MockConfig::new().seed(seed).faults(Vendor::Nexudus, faults)).await;
        let mut out = Vec::new();
        for id in 0..40 {
            let s = raw()
                .get(coworkers_url(&m, &format!("[{id}]")))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .status();
            out.push(s.is_server_error());
        }
        out
    }
    let a = pattern(9, faults.clone()).await;
    assert_eq!(
        a,
        pattern(9, faults.clone()).await,
        "same seed, same faults"
    );
    assert_ne!(
        a,
        pattern(10, faults.clone()).await,
        "another seed, other faults"
    );
    let failed = a.iter().filter(|f| **f).count();
    assert!(
        (8..=32).contains(&failed),
        "rate 0.5 over 40 requests gave {failed}"
    );

    // The same request, repeated, is not doomed: each sighting rolls again.
    let m = mock(MockConfig::new().seed(9).faults(Vendor::Nexudus, faults)).await;
    let mut ok = false;
    for _ in 0..20 {
        let s = raw()
            .get(coworkers_url(&m, "[1]"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status();
        ok |= s.is_success();
    }
    assert!(ok, "20 retries of one request all failed at rate 0.5");
}

#[tokio::test]
async fn a_hang_outlasts_the_client_timeout() {
    let m = mock(MockConfig::new().faults(Vendor::Avepoint, scripted(Fault::Hang))).await;
    let client = avepoint::Client::from_config(
        userbatch_core::ClientConfig::new(m.base_url())
            .credentials(userbatch_core::Credentials::bearer(TOKEN))
            .timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let body: avepoint::types::UserBatchRequest = avepoint::types::UserBatchRequest::builder()
        .user_ids(vec!["a".to_owned()])
        .try_into()
        .unwrap();
    match client
        .retrieve_multiple_users("c", "t", None, None, &body)
        .await
        .map_err(avepoint::ClientError::from)
    {
        Err(avepoint::ClientError::Transport(e)) => assert!(e.is_timeout(), "{e}"),
        Err(other) => panic!("expected a timeout, got {other:?}"),
        Ok(_) => panic!("expected a timeout, got an answer"),
    }
    // The next request is served.
    let next = client
        .retrieve_multiple_users("c", "t", None, None, &body)
        .await;
    assert!(answer(next).await.is_success());
    // Stopping ends the hang instead of waiting for it.
    tokio::time::timeout(Duration::from_secs(10), m.stop())
        .await
        .expect("stop is prompt");
}

#[tokio::test]
async fn a_connection_closed_mid_response() {
    let m = mock(MockConfig::new().faults(Vendor::Nexudus, scripted(Fault::Disconnect))).await;
    let resp = raw()
        .get(coworkers_url(&m, "[1,2,3]"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "status and headers arrive");
    let declared: usize = resp.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(declared > 100);
    assert!(resp.bytes().await.is_err(), "the body must break off");
    // Reading the generated client's answer fails on the body, not with a decoded response.
    let m = mock(MockConfig::new().faults(Vendor::Nexudus, scripted(Fault::Disconnect))).await;
    match userbatch_core::receive(nexudus(&m).get_user(1).await, 1 << 20)
        .await
        .map_err(nexudus::ClientError::from)
    {
        Err(nexudus::ClientError::Transport(e)) if e.is_body() || e.is_decode() => {}
        other => panic!("expected a body error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_truncated_json_body() {
    let m = mock(MockConfig::new().faults(Vendor::Nexudus, scripted(Fault::Truncate))).await;
    let resp = raw()
        .get(coworkers_url(&m, "[1,2]"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body = resp.bytes().await.unwrap();
    assert!(!body.is_empty());
    assert!(
        serde_json::from_slice::<serde_json::Value>(&body).is_err(),
        "truncated JSON must not parse"
    );

    let m = mock(MockConfig::new().faults(Vendor::Nexudus, scripted(Fault::Truncate))).await;
    let cut = answer(nexudus(&m).get_users(&user_ids([1, 2])).await).await;
    let rules = &nexudus::rules::GET_USERS;
    assert!(matches!(
        userbatch_core::json::entries(&cut.body, &rules.records, rules.ids.kind),
        Err(userbatch_core::json::EnvelopeError::Malformed(_))
    ));
}

#[tokio::test]
async fn html_error_pages_with_200_and_502() {
    for status in [200u16, 502] {
        let m =
            mock(MockConfig::new().faults(Vendor::Usermgr, scripted(Fault::Html(status)))).await;
        let resp = usermgr_raw(&m, "1", "").send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(resp.text().await.unwrap().starts_with("<!DOCTYPE html>"));
    }
    // By rate, with the configured status.
    let faults = Faults {
        html: 1.0,
        html_status: 200,
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults(Vendor::Nexudus, faults)).await;
    let page = answer(nexudus(&m).get_user(1).await).await;
    assert_eq!(page.status, 200);
    let rules = &nexudus::rules::GET_USER;
    assert!(
        matches!(
            userbatch_core::json::entries(&page.body, &rules.records, rules.ids.kind),
            Err(userbatch_core::json::EnvelopeError::Malformed(_))
        ),
        "a 200 HTML page must not decode"
    );
}

#[tokio::test]
async fn faults_do_not_touch_requests_the_vendor_rejects() {
    // A scripted fault waits for a request that passes the vendor's own checks.
    let m =
        mock(MockConfig::new().faults(Vendor::Nexudus, scripted(Fault::ServerError(503)))).await;
    let bad = raw().get(coworkers_url(&m, "1,2")).bearer_auth(TOKEN);
    assert_eq!(status(bad).await, 400);
    let good = raw().get(coworkers_url(&m, "[1,2]")).bearer_auth(TOKEN);
    assert_eq!(status(good).await, 503);
}
