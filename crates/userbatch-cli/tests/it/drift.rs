//! The command line against a mock that departs from the specs as real vendors do: what
//! the vendor sent is printed as sent, and no id is called missing for another's reason.

use std::process::Output;

use crate::support::{stderr, stdout, userbatch};
use serde_json::Value;
use userbatch_mock::{Drift, MockConfig, MockServer, Vendor};

fn run(m: &MockServer, args: &[&str]) -> Output {
    userbatch(&["--base-url", m.base_url(), "--token", "t"])
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ids(n: usize) -> Vec<String> {
    (1..=n).map(|i| i.to_string()).collect()
}

/// The mock's own answer for one Nexudus user, fetched without the SDK.
async fn vendor_bytes(m: &MockServer, path: &str) -> String {
    reqwest::Client::new()
        .get(format!("{}{path}", m.base_url()))
        .bearer_auth("t")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_printed_byte_for_byte_as_the_vendor_sent_them() {
    let m = MockServer::start(MockConfig::new().drift(
        Vendor::Nexudus,
        Drift {
            unknown_fields: true,
            ..Drift::default()
        },
    ))
    .await
    .unwrap();
    // Full records (one get-one per id), secrets shown: the line is the vendor's answer.
    let out = run(
        &m,
        &["--reveal-secrets", "nexudus", "users", "--full", "3", "4"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    for (line, id) in lines.iter().zip(["3", "4"]) {
        let sent = vendor_bytes(&m, &format!("/api/sys/users/{id}")).await;
        assert_eq!(*line, sent, "byte for byte");
    }
    assert!(lines[0].contains(r#""UnknownNull":null"#) && lines[0].contains("AddedLastWeek"));
    assert!(
        lines[0].contains(r#""TwoFactorSecret":"#),
        "the secret field is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_redacted_unless_asked_for() {
    let m = MockServer::start(MockConfig::new()).await.unwrap();
    let out = run(&m, &["nexudus", "users", "--full", "1", "2", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for (line, id) in stdout(&out).lines().zip(["1", "2", "3"]) {
        let printed: Value = serde_json::from_str(line).unwrap();
        let sent: Value =
            serde_json::from_str(&vendor_bytes(&m, &format!("/api/sys/users/{id}")).await).unwrap();
        let mut redacted = 0;
        for (key, value) in sent.as_object().unwrap() {
            let secret = nexudus::rules::GET_USER
                .records
                .secrets
                .iter()
                .any(|s| *s == format!("/{key}"));
            match (secret, value) {
                (true, Value::String(_)) => {
                    assert_eq!(printed[key], "<redacted>", "{key}");
                    redacted += 1;
                }
                _ => assert_eq!(&printed[key], value, "{key} as sent"),
            }
        }
        assert!(redacted >= 1, "the mock sends secrets: {line}");
        assert!(
            !line.contains("secret-"),
            "a secret value was printed: {line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drifted_record_is_printed_and_strict_fails_only_its_id() {
    let drift = Drift::default().replace("InvalidLoginAttempts", ["150"], serde_json::json!("3"));
    let m = MockServer::start(MockConfig::new().drift(Vendor::Nexudus, drift))
        .await
        .unwrap();
    let list = ids(300);
    let mut args = vec!["nexudus", "users"];
    args.extend(list.iter().map(String::as_str));
    // By default the record is the vendor's: printed as sent.
    let out = run(&m, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 300);
    assert!(stdout(&out).contains(r#""InvalidLoginAttempts":"3""#));
    // --strict decodes into the spec's types: that one id fails, naming the field.
    let mut strict = vec!["--strict"];
    strict.extend(&args);
    let out = run(&m, &strict);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out).lines().count(), 299);
    let err = stderr(&out);
    assert!(
        err.contains("found 299, missing 0, failed 1, requests 1"),
        "{err}"
    );
    assert!(err.contains("`InvalidLoginAttempts`"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ignored_filter_is_a_failure_not_missing_ids() {
    let m = MockServer::start(MockConfig::new().drift(
        Vendor::Usermgr,
        Drift {
            ignore_filter: true,
            ..Drift::default()
        },
    ))
    .await
    .unwrap();
    let report = std::env::temp_dir().join(format!("userbatch-drift-{}.json", std::process::id()));
    let out = run(
        &m,
        &[
            "--report",
            report.to_str().unwrap(),
            "usermgr",
            "users",
            "a",
            "b",
            "c",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).is_empty(),
        "records not asked for are not printed"
    );
    let err = stderr(&out);
    assert!(err.contains("missing 0, failed 3"), "{err}");
    assert!(err.contains("ignored the id filter"), "{err}");
    assert!(
        err.contains("3 record(s) whose ids were not asked for"),
        "{err}"
    );
    let rep: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(rep["unexpected"], 3);
    assert_eq!(rep["missing"], serde_json::json!([]));
    let _ = std::fs::remove_file(report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usermgr_integer_ids_at_1_and_10_000() {
    let m = MockServer::start(
        MockConfig::new()
            .missing_if(|id| id.ends_with("99"))
            .drift(
                Vendor::Usermgr,
                Drift {
                    integer_ids: true,
                    unknown_fields: true,
                    ..Drift::default()
                },
            )
            .log_requests(false),
    )
    .await
    .unwrap();
    for n in [1usize, 10_000] {
        let file = std::env::temp_dir().join(format!("userbatch-ids-{}-{n}", std::process::id()));
        std::fs::write(&file, ids(n).join("\n")).unwrap();
        let out = run(
            &m,
            &["usermgr", "users", "--ids-file", file.to_str().unwrap()],
        );
        let _ = std::fs::remove_file(&file);
        assert_eq!(out.status.code(), Some(0), "{n}: {}", stderr(&out));
        let missing = (1..=n).filter(|i| i.to_string().ends_with("99")).count();
        let err = stderr(&out);
        let expected = format!(
            "requested {n}, found {}, missing {missing}, failed 0, requests {}",
            n - missing,
            n.div_ceil(75)
        );
        assert!(err.contains(&expected), "{err}");
        let first: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
        assert_eq!(first["id"], 1, "the vendor's JSON integer, as sent");
        assert!(first.get("AddedLastWeek").is_some());
    }
}

/// Each kind of drift at 1 and at 10,000 ids, through the command line: records printed as
/// sent, and the summary's account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_drift_at_1_and_10_000_ids() {
    for n in [1usize, 10_000] {
        let file = std::env::temp_dir().join(format!("userbatch-drift-{}-{n}", std::process::id()));
        std::fs::write(&file, ids(n).join("\n")).unwrap();
        let path = file.to_str().unwrap().to_owned();
        let every_100th: Vec<String> = ids(n).into_iter().step_by(100).collect();
        let cases: Vec<(&str, Drift, &str)> = vec![
            (
                "unknown fields",
                Drift {
                    unknown_fields: true,
                    ..Drift::default()
                },
                "failed 0",
            ),
            (
                "a changed type",
                Drift::default().replace("CountryId", every_100th.clone(), serde_json::json!("GB")),
                "failed 0",
            ),
            (
                "an ignored filter",
                Drift {
                    ignore_filter: true,
                    ..Drift::default()
                },
                "found 0, missing 0",
            ),
        ];
        for (name, drift, expected) in cases {
            let m = MockServer::start(
                MockConfig::new()
                    .drift(Vendor::Nexudus, drift)
                    .log_requests(false),
            )
            .await
            .unwrap();
            let out = run(&m, &["nexudus", "coworkers", "--ids-file", &path]);
            let err = stderr(&out);
            assert!(err.contains(expected), "{name}, {n}: {err}");
            let printed = stdout(&out).lines().count();
            match name {
                "an ignored filter" => {
                    assert_eq!(printed, 0, "{name}, {n}");
                    assert_eq!(out.status.code(), Some(1));
                    // Three requests that got it stop the run (fewer records than ids).
                    assert!(err.contains("vendor also sent"), "{err}");
                    assert!(err.contains("the vendor ignored the id filter"), "{err}");
                }
                _ => {
                    assert_eq!(
                        printed, n,
                        "{name}, {n}: every record printed, drifted or not"
                    );
                    assert_eq!(out.status.code(), Some(0));
                }
            }
            if name == "a changed type" {
                assert!(stdout(&out).contains(r#""CountryId":"GB""#), "as sent");
            }
            m.stop().await;
        }
        let _ = std::fs::remove_file(&file);
    }
}
