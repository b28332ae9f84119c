//! Through the command line, a vendor that misbehaves: it cannot break the output (one
//! record per line, no terminal control characters), leak a secret, send the ids to another
//! host, hold a run forever, or make the report lie.

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;
use userbatch_mock::{Drift, Faults, MockConfig, MockServer, RetryAfter, Vendor};

use crate::support::{lossy as text, run_reporting, under_a_terminal};

/// Runs the binary against `base_url` with `token`, a report beside it.
fn run(base_url: &str, token: &str, args: &[&str]) -> (Output, Value) {
    run_reporting(base_url, token, args, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_record_per_line_whatever_white_space_the_vendor_sends() {
    for (name, drift) in [
        (
            "pretty",
            Drift {
                pretty: true,
                ..Drift::default()
            },
        ),
        (
            "crlf",
            Drift {
                crlf: true,
                ..Drift::default()
            },
        ),
    ] {
        let config = Vendor::ALL
            .into_iter()
            .fold(MockConfig::new(), |config, vendor| {
                config.drift(vendor, drift.clone())
            });
        let m = MockServer::start(config).await.unwrap();
        let targets = crate::support::registry_targets(true);
        assert!(targets.len() >= 4, "{targets:?}");
        for target in targets {
            let mut args: Vec<&str> = target.iter().map(String::as_str).collect();
            args.extend(["1", "2", "3"]);
            let args = &args[..];
            let (out, _) = run(m.base_url(), "t", args);
            let at = format!("{name} {args:?}");
            assert_eq!(out.status.code(), Some(0), "{at}: {}", text(&out.stderr));
            let stdout = text(&out.stdout);
            assert!(!stdout.contains('\r'), "{at}");
            let lines: Vec<&str> = stdout.lines().collect();
            assert_eq!(lines.len(), 3, "{at}: {stdout}");
            for line in lines {
                let record: Value = serde_json::from_str(line).expect("one record a line");
                assert!(record.is_object(), "{at}");
                assert!(
                    !line.contains(": ") && !line.contains("  "),
                    "{at}: compacted: {line}"
                );
                // Made one line, and redacted too.
                assert!(!line.contains("secret-"), "{at}: {line}");
            }
        }
        m.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_the_vendor_echoes_is_never_printed() {
    let m = MockServer::start(
        MockConfig::new()
            .accept_tokens(["the-right-one"])
            .echo_token(true),
    )
    .await
    .unwrap();
    let token = "s3cret-Token-4711";
    for args in [
        &["nexudus", "users", "1", "2"][..],
        &["-vv", "usermgr", "users", "1", "2"],
        &[
            "avepoint",
            "users",
            "--customer-id",
            "c",
            "--tenant-id",
            "t",
            "1",
        ],
    ] {
        let (out, report) = run(m.base_url(), token, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let all = format!("{}{}{report}", text(&out.stdout), text(&out.stderr));
        assert!(
            all.contains("invalid token '<redacted>'"),
            "{args:?}: the vendor's message, scrubbed: {all}"
        );
        assert!(!all.contains(token), "{args:?}: {all}");
    }
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_origin_is_not_followed() {
    let elsewhere = MockServer::start(MockConfig::new()).await.unwrap();
    for target in [
        elsewhere.base_url().to_owned(),
        "http://vendor-elsewhere.example:8080".to_owned(),
    ] {
        let m = MockServer::start(MockConfig::new().redirect_to(target.as_str()))
            .await
            .unwrap();
        let (out, report) = run(m.base_url(), "t", &["nexudus", "users", "1", "2", "3"]);
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        let origin = target.trim_end_matches('/');
        assert!(
            err.contains(&format!(
                "the vendor redirected (HTTP 302): to {origin}; not followed"
            )),
            "{err}"
        );
        assert!(!err.contains("/api/"), "the origin, not the path: {err}");
        assert_eq!(report["missing"], serde_json::json!([]));
        m.stop().await;
    }
    assert_eq!(
        elsewhere.stats().total_requests(),
        0,
        "no request went elsewhere"
    );
    elsewhere.stop().await;

    // Within the origin, a loop: followed a few times, then said.
    let m = MockServer::start(MockConfig::new().redirect_to(""))
        .await
        .unwrap();
    let (out, _) = run(m.base_url(), "t", &["nexudus", "users", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("redirected more than 5 times"), "{err}");
    assert!(!err.contains("connection failed"), "{err}");
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_that_throttles_every_request_ends_within_the_patience() {
    for (vendor, status, retry_after, args) in [
        (
            Vendor::Avepoint,
            None,
            RetryAfter::Seconds(1),
            &[
                "avepoint",
                "users",
                "--customer-id",
                "c",
                "--tenant-id",
                "t",
            ][..],
        ),
        (
            Vendor::Nexudus,
            None,
            RetryAfter::Seconds(1),
            &["nexudus", "users"],
        ),
        (
            Vendor::Nexudus,
            Some(503),
            RetryAfter::Seconds(1),
            &["nexudus", "users", "--full"],
        ),
    ] {
        let faults = Faults {
            throttle: 1.0,
            throttle_status: status,
            retry_after,
            ..Faults::default()
        };
        let m = MockServer::start(MockConfig::new().faults(vendor, faults))
            .await
            .unwrap();
        let mut args = args.to_vec();
        args.extend(["--throttle-patience", "3", "1", "2", "3"]);
        let started = Instant::now();
        let (out, report) = run(m.base_url(), "t", &args);
        let took = started.elapsed();
        let at = format!("{args:?}");
        assert_eq!(out.status.code(), Some(1), "{at}");
        assert!(took < Duration::from_secs(10), "{at}: {took:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("failed 3: the vendor kept throttling: throttled for 3s without progress"),
            "{at}: {err}"
        );
        // The pauses the run reports are those the mock saw: after each throttled answer,
        // the `Retry-After` second, or less where the next request came sooner (never, as
        // the run honours it) or none did (the run ended).
        let arrivals: Vec<f64> = m.log().iter().map(|r| r.arrived.as_secs_f64()).collect();
        let observed = honoured_pauses(&arrivals, 1.0);
        let reported = report["throttle_wait_s"].as_f64().unwrap();
        assert!(observed >= 1.9, "{at}: {observed} ({arrivals:?})");
        assert!(
            (reported - observed).abs() <= 0.1 * observed,
            "{at}: reported {reported} s, observed {observed} s ({arrivals:?})"
        );
        m.stop().await;
    }
}

/// The time covered by the pauses a throttling mock asked for (`retry_after` after each
/// request, all of them throttled) up to the next request that came after it (requests
/// within 50 ms of one another are one burst), as the union of those intervals.
fn honoured_pauses(arrivals: &[f64], retry_after: f64) -> f64 {
    let mut arrivals = arrivals.to_vec();
    arrivals.sort_by(f64::total_cmp);
    let mut intervals: Vec<(f64, f64)> = Vec::new();
    for &at in &arrivals {
        let Some(&next) = arrivals.iter().find(|&&t| t > at + 0.05) else {
            continue;
        };
        intervals.push((at, (at + retry_after).min(next)));
    }
    let mut total = 0.0;
    let mut covered_to = f64::MIN;
    for (start, end) in intervals {
        let start = start.max(covered_to);
        if end > start {
            total += end - start;
            covered_to = end;
        }
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_in_the_far_future_is_not_what_the_run_waited() {
    let faults = Faults {
        throttle: 1.0,
        retry_after: RetryAfter::HttpDate(Duration::from_secs(250_000_000_000)),
        ..Faults::default()
    };
    let m = MockServer::start(MockConfig::new().faults(Vendor::Nexudus, faults))
        .await
        .unwrap();
    let (out, report) = run(m.base_url(), "t", &["nexudus", "users", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let waited = report["throttle_wait_s"].as_f64().unwrap();
    assert!(waited < 1.0, "{waited}");
    m.stop().await;
}

#[test]
fn absurd_option_values_are_refused_before_any_request() {
    for args in [
        &["--max-rate", "0"][..],
        &["--max-rate", "1e-20"],
        &["--max-rate", "NaN"],
        &["--max-rate", "inf"],
        &["--timeout", "18446744073709551615"],
        &["--timeout", "0"],
        &["--grace", "18446744073709551615"],
        &["--throttle-patience", "0"],
    ] {
        // A base URL nobody listens on: a request would fail otherwise, not exit 2.
        let mut all = args.to_vec();
        all.extend(["nexudus", "users", "1"]);
        let (out, _) = run("http://127.0.0.1:9", "t", &all);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains(args[0]), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_reach_a_terminal_escaped_and_a_pipe_as_sent() {
    let sneaky = "x\u{9b}2J\u{7f}y";
    let m = MockServer::start(MockConfig::new().drift(
        Vendor::Nexudus,
        Drift::default().replace("FullName", ["1"], serde_json::json!(sneaky)),
    ))
    .await
    .unwrap();
    let args = [
        "--base-url",
        m.base_url(),
        "--token",
        "t",
        "nexudus",
        "users",
        "1",
    ];
    let out = under_a_terminal(env!("CARGO_BIN_EXE_userbatch"), &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let tty = text(&out.stdout);
    assert!(tty.contains(r#""x\u009b2J\u007fy""#), "{tty}");
    assert!(!tty.contains('\u{9b}') && !tty.contains('\u{7f}'), "{tty}");

    let (out, _) = run(m.base_url(), "t", &["nexudus", "users", "1"]);
    assert!(
        text(&out.stdout).contains(sneaky),
        "a pipe gets the record as sent"
    );
    m.stop().await;
}
