//! Through the command line, the mistakes users make: every id fails (none "missing") with
//! the vendor's message or what arrived, the summary says why, exit 1, and the run stops in
//! fewer than 20 requests, at 3 ids as at 3,000.

use std::process::Output;

use serde_json::Value;
use userbatch_mock::{MockConfig, MockServer};

use crate::support::{closed_port, run_reporting};

/// Runs the binary against `base_url` with the ids 1 to `n` in a file, a report beside it.
fn run(base_url: &str, args: &[&str], n: usize) -> (Output, Value) {
    run_reporting(base_url, "t", args, Some(n))
}

/// Every id failed for `cause`, which the summary names as the run's; exit 1; fewer than
/// 20 requests (the report's, and `mock_requests` if the mock counted them).
fn every_id_failed(out: &Output, report: &Value, n: usize, cause: &str, at: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{at}: {err}");
    assert!(out.stdout.is_empty(), "{at}");
    assert!(
        err.contains(&format!("found 0, missing 0, failed {n}")),
        "{at}: {err}"
    );
    assert!(
        err.contains(&format!("failed {n}: {cause}")),
        "{at}: the summary says why: {err}"
    );
    if n > 3 {
        assert!(
            err.contains("(every request got this answer: the run stopped sending)"),
            "{at}: {err}"
        );
        assert!(
            report["run_error"].as_str().unwrap().contains(cause),
            "{at}"
        );
    }
    assert_eq!(report["missing"], serde_json::json!([]), "{at}");
    assert_eq!(report["found"], 0, "{at}");
    let failed: usize = report["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["ids"].as_array().unwrap().len())
        .sum();
    assert_eq!(failed, n, "{at}");
    let requests = report["requests"].as_u64().unwrap();
    assert!(requests < 20, "{at}: {requests} requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_id_that_does_not_exist() {
    let m = MockServer::start(
        MockConfig::new()
            .path_values("customerId", ["c"])
            .path_values("tenantId", ["t"])
            .log_requests(false),
    )
    .await
    .unwrap();
    for n in [3, 3_000] {
        let before = m.stats().total_requests();
        let args = [
            "avepoint",
            "users",
            "--customer-id",
            "c",
            "--tenant-id",
            "gone",
        ];
        let (out, report) = run(m.base_url(), &args, n);
        let cause = r#"the vendor answered HTTP 404: "tenantId 'gone' was not found""#;
        every_id_failed(&out, &report, n, cause, &format!("{n} ids"));
        assert_eq!(report["requests"], m.stats().total_requests() - before);
    }
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_url_with_a_wrong_path_prefix() {
    let m = MockServer::start(MockConfig::new().log_requests(false))
        .await
        .unwrap();
    let wrong = format!("{}/gateway/prefix", m.base_url());
    for n in [3, 3_000] {
        for args in [
            &["nexudus", "users"][..],
            &["nexudus", "users", "--full"],
            &["usermgr", "users"],
        ] {
            let before = m.stats().total_requests();
            let (out, report) = run(&wrong, args, n);
            let at = format!("{args:?}, {n} ids");
            let cause = "the vendor answered HTTP 404: an HTML page";
            every_id_failed(&out, &report, n, cause, &at);
            assert_eq!(
                report["requests"],
                m.stats().total_requests() - before,
                "{at}"
            );
        }
    }
    assert_eq!(m.stats().unrouted, m.stats().total_requests());
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_whose_user_lacks_the_role() {
    let m = MockServer::start(MockConfig::new().forbid_tokens(["t"]).log_requests(false))
        .await
        .unwrap();
    for n in [3, 3_000] {
        for target in crate::support::registry_targets(false) {
            let args: Vec<&str> = target.iter().map(String::as_str).collect();
            let args = &args[..];
            let (out, report) = run(m.base_url(), args, n);
            let cause = "the vendor answered HTTP 403";
            every_id_failed(&out, &report, n, cause, &format!("{args:?}, {n} ids"));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("does not have the role"), "{err}");
        }
    }
    m.stop().await;
}

#[test]
fn a_host_that_does_not_answer() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}");
    for n in [3, 3_000] {
        let (out, report) = run(&url, &["nexudus", "users", "--full"], n);
        let cause = format!("the connection failed: to 127.0.0.1:{port}");
        every_id_failed(&out, &report, n, &cause, &format!("{n} ids"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.to_lowercase().contains("refused"), "{err}");
        assert!(!err.contains("budget"), "{err}");
    }
}
