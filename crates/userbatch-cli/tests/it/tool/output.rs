//! What leaves the tool: secrets only when asked, little on standard error, progress on a terminal only.
use std::time::Duration;

use super::{TOKEN, against, folder, ids, output, records, secret_values, text, userbatch};
use serde_json::Value;
use userbatch::nexudus;
use userbatch_mock::{Faults, MockConfig, MockServer, Vendor};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_leaves_by_default_and_all_leave_with_reveal_secrets() {
    let m = MockServer::start(MockConfig::new()).await.unwrap();
    let dir = folder("secrets");
    let report = dir.join("report.json");
    let report_s = report.to_str().unwrap();
    let mut revealed_total = 0;
    for (args, rules) in [
        (vec!["nexudus", "users"], &nexudus::rules::GET_USERS),
        (
            vec!["nexudus", "users", "--full"],
            &nexudus::rules::GET_USER,
        ),
        (vec!["nexudus", "coworkers"], &nexudus::rules::GET_COWORKERS),
        (
            vec!["nexudus", "coworkers", "--full"],
            &nexudus::rules::GET_COWORKER,
        ),
    ] {
        let list = ids(1..=8);
        let list: Vec<&str> = list.iter().map(String::as_str).collect();
        let all: Vec<&str> = args.iter().chain(&list).copied().collect();

        let mut cmd = against(&m, &all);
        cmd.arg("--reveal-secrets");
        let revealed = output(cmd);
        assert_eq!(revealed.status.code(), Some(0), "{all:?}");
        let revealed_records = records(&text(&revealed.stdout));
        assert_eq!(revealed_records.len(), 8);
        let values = secret_values(&revealed_records, &rules.records.secrets);
        if args.contains(&"--full") {
            assert!(!values.is_empty(), "{all:?}: the mock sends secrets");
        }
        revealed_total += values.len();
        for value in &values {
            assert!(
                !value.contains("redacted"),
                "{all:?}: revealed as sent: {value}"
            );
        }

        let mut cmd = against(&m, &all);
        cmd.args(["--report", report_s, "-v"]);
        let default = output(cmd);
        assert_eq!(default.status.code(), Some(0), "{all:?}");
        let stdout = text(&default.stdout);
        let everything = format!(
            "{stdout}{}{}",
            text(&default.stderr),
            std::fs::read_to_string(&report).unwrap()
        );
        for value in &values {
            assert!(
                !everything.contains(value.as_str()),
                "{all:?}: the secret {value} left"
            );
        }
        // --strict decodes each record too, and writes the same redacted text.
        let mut cmd = against(&m, &all);
        cmd.arg("--strict");
        let strict = output(cmd);
        assert_eq!(strict.status.code(), Some(0), "{all:?} --strict");
        assert_eq!(text(&strict.stdout), stdout, "{all:?} --strict");
        // Every secret field that had a value reads the marker; the rest is as revealed.
        for (shown, sent) in records(&stdout).iter().zip(&revealed_records) {
            for pointer in rules.records.secrets.iter() {
                match sent.pointer(pointer) {
                    None | Some(Value::Null) => {
                        assert_eq!(shown.pointer(pointer), sent.pointer(pointer))
                    }
                    Some(_) => assert_eq!(shown.pointer(pointer).unwrap(), "<redacted>"),
                }
            }
        }
    }
    assert!(revealed_total >= 8, "{revealed_total} secret values seen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_error_says_little_unless_asked() {
    let m = MockServer::start(MockConfig::new()).await.unwrap();
    // A summary run: one notice and one summary line, nothing else.
    let out = output(against(&m, &["nexudus", "coworkers", "1", "2", "3"]));
    let err = text(&out.stderr);
    assert!(err.lines().count() <= 3, "{err}");
    assert!(
        err.contains("these are summaries of Coworker: 111 fields are not populated")
            && err.contains("--full"),
        "{err}"
    );
    assert!(!err.contains("CoworkerType"), "no field list: {err}");

    // -q: nothing at all on success.
    let out = output(against(&m, &["-q", "nexudus", "coworkers", "1", "2", "3"]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stderr), "");
    assert_eq!(records(&text(&out.stdout)).len(), 3);

    // -v: one line per request (operation, ids, status, attempt, ms), the full field list;
    // never the token.
    let before = m.stats().total_requests();
    let out = output(against(
        &m,
        &[
            "-v",
            "--max-batch",
            "2",
            "nexudus",
            "users",
            "1",
            "2",
            "3",
            "4",
            "5",
        ],
    ));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("request answered"))
        .collect();
    assert_eq!(
        lines.len() as u64,
        m.stats().total_requests() - before,
        "{err}"
    );
    assert_eq!(lines.len(), 3, "{err}");
    for line in &lines {
        for field in [
            "operation=\"getUsers\"",
            "ids=",
            "status=200",
            "attempt=1",
            "ms=",
        ] {
            assert!(line.contains(field), "{field} in {line}");
        }
    }
    assert!(
        err.contains("TwoFactorSecret"),
        "-v lists the fields: {err}"
    );
    // One style for every line: the command's name, then the level of a log line.
    for line in err.lines() {
        assert!(line.starts_with("userbatch: "), "{line}");
    }
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("userbatch: debug: request answered")),
        "{err}"
    );
    assert!(
        err.contains("userbatch: warning: `getUsers` returns summaries"),
        "{err}"
    );
    assert!(!err.contains("Bearer") && !err.contains(TOKEN), "{err}");

    // RUST_LOG is read as EnvFilter reads it.
    let mut cmd = against(&m, &["nexudus", "users", "1"]);
    cmd.env("RUST_LOG", "userbatch=debug");
    let err = text(&output(cmd).stderr);
    assert!(err.contains("request answered"), "{err}");
    let mut cmd = against(&m, &["nexudus", "users", "1"]);
    cmd.env("RUST_LOG", "off");
    let err = text(&output(cmd).stderr);
    assert!(!err.contains("request answered"), "{err}");

    // -q still prints errors.
    let failing = MockServer::start(MockConfig::new().rejected_ids(["2"]))
        .await
        .unwrap();
    let out = output(against(&failing, &["-q", "nexudus", "users", "1", "2"]));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("failed 1: the vendor answered HTTP 400"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_shows_on_a_terminal_and_not_on_a_pipe() {
    let m = MockServer::start(
        MockConfig::new().faults(Vendor::Nexudus, Faults::latency(Duration::from_millis(300))),
    )
    .await
    .unwrap();
    let list = ids(1..=20);
    let mut args = vec![
        "--base-url",
        m.base_url(),
        "--token",
        TOKEN,
        "--max-batch",
        "5",
        "--concurrency",
        "1",
        "nexudus",
        "users",
    ];
    args.extend(list.iter().map(String::as_str));

    // Under a pseudo-terminal (util-linux `script`): the bar, with its counts.
    let out = crate::support::under_a_terminal(env!("CARGO_BIN_EXE_userbatch"), &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(tty.contains("/20 ids"), "{tty}");
    assert!(tty.contains("ETA"), "{tty}");
    assert!(tty.contains("requests)"), "{tty}");
    // Rates with at most one decimal (`3.7/s`, never `3.6676/s`), and request counts that
    // never go down.
    for (at, _) in tty.match_indices("/s,") {
        let number: String = tty[..at]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        assert!(
            number
                .split('.')
                .nth(1)
                .is_none_or(|decimals| decimals.len() <= 1),
            "rate {number:?} in {tty}"
        );
    }
    let counts: Vec<u64> = tty
        .match_indices(" requests")
        .filter_map(|(at, _)| {
            let digits: String = tty[..at]
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            digits.parse().ok()
        })
        .collect();
    assert!(!counts.is_empty(), "{tty}");
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");

    // On a pipe: none of it.
    let out = output({
        let mut cmd = userbatch();
        cmd.args(&args);
        cmd
    });
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(!err.contains("ETA") && !err.contains("/20 ids"), "{err}");
    assert_eq!(err.lines().count(), 2, "{err}");
}
