//! The command line against a throttling vendor and an OAuth2 token endpoint.

use std::time::Duration;

use crate::support::{stderr, userbatch};
use userbatch_mock::{MockConfig, MockServer, OAuthClient, RateLimit, Vendor};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttling_vendor_costs_time_not_ids() {
    // Nexudus' 409 with `Retry-After` in whole seconds, 50 requests a second, burst 10,
    // `--full` with 8 in flight. The pace itself (few throttled answers, two pauses, near
    // the vendor's rate) is the engine's, tested with 300 ids in the facade's `throttle`
    // tests; here, what the command line says of it.
    let m = MockServer::start(
        MockConfig::new()
            .rate_limit(Vendor::Nexudus, RateLimit::new(50.0, 10))
            .missing_if(|id| id.ends_with('7'))
            .log_requests(false),
    )
    .await
    .unwrap();
    let (out, report) = crate::support::run_reporting(
        m.base_url(),
        "t",
        &["--concurrency", "8", "nexudus", "users", "--full"],
        Some(60),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("found 54, missing 6, failed 0"), "{err}");
    assert!(err.contains("the vendor throttled"), "{err}");
    assert!(err.contains("the run paused"), "{err}");
    assert!(err.contains("requests went out at"), "{err}");
    assert!(report["throttled"].as_u64().unwrap() >= 1, "{report}");
    assert!(
        report["throttle_wait_s"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert!(report["pace_per_s"].as_f64().unwrap() > 0.0, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_rate_keeps_under_a_known_limit() {
    let m = MockServer::start(
        MockConfig::new()
            .rate_limit(Vendor::Usermgr, RateLimit::new(20.0, 2))
            .log_requests(false),
    )
    .await
    .unwrap();
    let ids: Vec<String> = (1..=30).map(|i| i.to_string()).collect();
    let out = userbatch(&[
        "--base-url",
        m.base_url(),
        "--token",
        "t",
        "--max-rate",
        "15/s",
    ])
    .args(["usermgr", "users", "--max-batch", "1"])
    .args(&ids)
    .output()
    .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("found 30"), "{err}");
    assert!(!err.contains("throttled"), "15/s stays under 20/s: {err}");
    let bad = userbatch(&["--mock", "--max-rate", "0", "usermgr", "users", "1"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_from_options_or_the_environment() {
    let m = MockServer::start(
        MockConfig::new()
            .oauth(OAuthClient::new(
                "app",
                "s3cret-value",
                Duration::from_secs(60),
            ))
            .log_requests(false),
    )
    .await
    .unwrap();
    let token_url = format!("{}/oauth/token", m.base_url());
    let out = userbatch(&["--base-url", m.base_url(), "--token-url", &token_url])
        .args(["--client-id", "app", "--client-secret", "s3cret-value"])
        .args([
            "avepoint",
            "users",
            "a",
            "b",
            "--customer-id",
            "c",
            "--tenant-id",
            "t",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("found 2"), "{}", stderr(&out));
    // From the environment; a wrong secret is an error that does not show it.
    let out = userbatch(&["--base-url", m.base_url(), "--token-url", &token_url])
        .args(["usermgr", "users", "1"])
        .env("USERBATCH_CLIENT_ID", "app")
        .env("USERBATCH_CLIENT_SECRET", "not-it-9f2")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("invalid_client"), "{err}");
    assert!(!err.contains("not-it-9f2"), "{err}");
    assert_eq!(
        m.stats().total_requests(),
        1,
        "only the first run reached the vendor"
    );
    // Nexudus' spec names no token endpoint: --token-url is needed.
    check_scope().await;
    let out = userbatch(&[
        "--base-url",
        m.base_url(),
        "--client-id",
        "app",
        "--client-secret",
        "x",
    ])
    .args(["nexudus", "users", "1"])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--token-url"), "{}", stderr(&out));
}

/// `--scope` reaches the token endpoint: a client the endpoint holds to a scope gets its
/// token with it and is refused without it.
async fn check_scope() {
    let m = MockServer::start(
        MockConfig::new()
            .oauth(
                OAuthClient::new("app", "s3cret-value", Duration::from_secs(60))
                    .scope("users.read users.list"),
            )
            .log_requests(false),
    )
    .await
    .unwrap();
    let token_url = format!("{}/oauth/token", m.base_url());
    let run = |scope: Option<&str>| {
        let mut cmd = userbatch(&["--base-url", m.base_url(), "--token-url", &token_url]);
        cmd.args(["--client-id", "app", "--client-secret", "s3cret-value"]);
        if let Some(scope) = scope {
            cmd.args(["--scope", scope]);
        }
        cmd.args(["usermgr", "users", "1"]).output().unwrap()
    };
    let out = run(Some("users.read users.list"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("invalid_scope"), "{}", stderr(&out));
}
