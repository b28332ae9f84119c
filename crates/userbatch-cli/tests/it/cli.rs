//! The built `userbatch` binary, end to end, against the embedded mock over loopback.

use std::io::Write;
use std::process::{Output, Stdio};

use crate::support::{stderr, userbatch};
use serde_json::Value;
use userbatch_mock::{Faults, MockConfig, MockServer};

fn run(args: &[&str]) -> Output {
    userbatch(args).output().expect("the binary runs")
}

fn run_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = userbatch(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn records(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each stdout line is a JSON record"))
        .collect()
}

fn ids_of(records: &[Value], field: &str) -> Vec<String> {
    records
        .iter()
        .map(|r| match &r[field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

#[test]
fn the_readme_command_prints_records() {
    let out = run(&["--mock", "nexudus", "users", "1", "2", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ids_of(&records(&out), "Id"), ["1", "2", "3"]);
    let err = stderr(&out);
    assert!(
        err.contains("requested 3, found 3, missing 0, failed 0, requests 1"),
        "{err}"
    );
    assert_eq!(
        err.matches("these are summaries of User: 28 fields are not populated")
            .count(),
        1,
        "the partial-record notice, once: {err}"
    );
    assert!(err.contains("--full fetches full records"), "{err}");
    assert_eq!(err.lines().count(), 2, "a notice and the summary: {err}");
    assert!(
        !err.contains("3/3 ids"),
        "no progress line when stderr is not a terminal: {err}"
    );
}

#[test]
fn every_vendor_and_resource_of_the_registry() {
    use userbatch::rules::IdKind;
    let mut runs = 0;
    for vendor in userbatch::registry::vendors() {
        for resource in vendor.resources {
            let batch = resource.batch_operation();
            let full = vendor.full_operation(batch);
            for (entry, flag) in [(Some(batch), None), (full, Some("--full"))] {
                let Some(entry) = entry else { continue };
                let ids = match entry.rules.ids.kind {
                    IdKind::Integer => ["5", "4"],
                    IdKind::String => ["b", "a"],
                };
                let mut args = vec!["--mock", vendor.name, resource.name];
                args.extend(flag);
                args.extend(ids);
                let out = run(&args);
                assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
                let field = &*entry.rules.records.id_field;
                assert_eq!(ids_of(&records(&out), field), ids, "{args:?}");
                // The vendor's minimum: one request for both ids, or one each.
                let requests = if entry.rules.ids.encoding == userbatch::rules::IdEncoding::Single {
                    2
                } else {
                    1
                };
                assert!(
                    stderr(&out).contains(&format!("requests {requests},")),
                    "{args:?}: {}",
                    stderr(&out)
                );
                runs += 1;
            }
        }
    }
    assert!(runs >= 5, "{runs} runs");
}

#[test]
fn summaries_lack_what_full_records_carry() {
    let mut seen = 0;
    for vendor in userbatch::registry::vendors() {
        for resource in vendor.resources {
            let Some(partial) = &resource.batch_operation().rules.partial else {
                continue;
            };
            let summary = run(&["--mock", vendor.name, resource.name, "1"]);
            let full = run(&["--mock", vendor.name, resource.name, "--full", "1"]);
            let (summary_record, full_record) = (&records(&summary)[0], &records(&full)[0]);
            for field in partial.unpopulated.iter() {
                assert!(summary_record.get(&**field).is_none(), "{field}");
            }
            // The mock fills every field of a full record.
            assert!(
                partial
                    .unpopulated
                    .iter()
                    .all(|f| full_record.get(&**f).is_some())
            );
            assert!(
                stderr(&summary).contains("are summaries"),
                "{}",
                stderr(&summary)
            );
            assert!(
                !stderr(&full).contains("are summaries"),
                "{}",
                stderr(&full)
            );
            seen += 1;
        }
    }
    assert!(seen > 0, "no resource returns summaries");
}

#[test]
fn usermgr_options_reach_the_vendor() {
    let out = run(&[
        "--mock",
        "usermgr",
        "users",
        "30",
        "4",
        "200",
        "--attribute",
        "created,emailAddress",
        "--accept-language",
        "fr-FR",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let recs = records(&out);
    // Records come in input order; attributes asked for are there.
    assert_eq!(ids_of(&recs, "id"), ["30", "4", "200"]);
    // Every record carries what was asked for, null or not, as the vendor sent it.
    assert!(
        recs.iter()
            .all(|r| r.get("emailAddress").is_some() && r.get("created").is_some())
    );
    assert!(recs.iter().all(|r| r.get("title").is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_from_stdin_and_a_file_with_duplicates_and_missing_ids_and_a_report() {
    let m = MockServer::start(MockConfig::new().missing_ids(["3", "40"]))
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("userbatch-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ids.txt");
    std::fs::write(&file, "2\n\n3\n  4  \n2\n").unwrap();
    let report = dir.join("report.json");
    let (file_s, report_s) = (file.to_str().unwrap(), report.to_str().unwrap());

    let out = run(&[
        "--base-url",
        m.base_url(),
        "--token",
        "t",
        "nexudus",
        "users",
        "1",
        "--ids-file",
        file_s,
        "--report",
        report_s,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ids_of(&records(&out), "Id"), ["1", "2", "4"]);
    let rep: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        rep,
        serde_json::json!({"vendor": "nexudus", "resource": "users", "requested": 4, "found": 3,
            "missing": ["3"], "failed": [], "unexpected": 0, "requests": 1, "throttled": 0,
            "throttle_wait_s": 0.0, "run_error": null, "interrupted": false,
            "records_written": true})
    );

    let out = run_stdin(
        &[
            "--base-url",
            m.base_url(),
            "--token",
            "t",
            "usermgr",
            "users",
            "--ids-file",
            "-",
            "x",
        ],
        "a\nb\n40\na\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ids_of(&records(&out), "id"), ["x", "a", "b"]);
    assert!(
        stderr(&out).contains("requested 4, found 3, missing 1, failed 0"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_vendor_exits_1_and_reports_the_failed_ids_without_the_token() {
    let faults = Faults {
        server_errors: 1.0,
        server_error_statuses: vec![503],
        ..Faults::default()
    };
    let m = MockServer::start(MockConfig::new().faults_all(faults))
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("userbatch-cli-fail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.json");
    let token = "tok-NEVER-SHOWN-271828";
    let out = userbatch(&[
        "--base-url",
        m.base_url(),
        "usermgr",
        "users",
        "a",
        "b",
        "--report",
        report.to_str().unwrap(),
    ])
    .env("USERBATCH_TOKEN", token)
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(err.contains("failed 2"), "{err}");
    assert!(err.contains("HTTP 503"), "{err}");
    let rep: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(rep["failed"][0]["ids"], serde_json::json!(["a", "b"]));
    assert!(rep["failed"][0]["error"].as_str().unwrap().contains("503"));
    for text in [
        err.as_str(),
        &String::from_utf8_lossy(&out.stdout),
        &std::fs::read_to_string(&report).unwrap(),
    ] {
        assert!(!text.contains(token), "the token leaked: {text}");
    }
    // --help shows the variable but never its value.
    let help = userbatch(&["--help"])
        .env("USERBATCH_TOKEN", token)
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("USERBATCH_TOKEN") && !help.contains(token));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_usage_and_bad_input_exit_2_before_any_request() {
    for (args, needle) in [
        (
            vec!["--mock", "nexudus", "users", "1", "abc"],
            "invalid id \"abc\"",
        ),
        (vec!["--mock", "usermgr", "users", "a,b"], "contains ','"),
        (vec!["--mock", "usermgr", "users", "a/b"], "contains '/'"),
        (
            vec!["--mock", "nexudus", "users"],
            "no ids to fetch: give them as arguments or with --ids-file",
        ),
        (
            vec!["--mock", "nexudus", "users", "--ids-file", "/dev/null"],
            "no ids to fetch: /dev/null holds none",
        ),
        (
            vec![
                "--token",
                "t",
                "--base-url",
                "spaces.nexudus.com",
                "nexudus",
                "users",
                "1",
            ],
            "did you mean https://spaces.nexudus.com?",
        ),
        (vec!["--mock", "usermgr", "coworkers", "1"], "no coworkers"),
        (
            vec!["--mock", "nexudus", "users", "--attribute", "created", "1"],
            "--attribute applies to usermgr users only",
        ),
        (
            vec!["--mock", "usermgr", "users", "--attribute", "nonsense", "1"],
            "unknown $attribute value \"nonsense\"; valid: title, middleName",
        ),
        (
            vec!["--mock", "usermgr", "users", "--attribute", "", "1"],
            "--attribute must not be empty",
        ),
        (
            vec!["--mock", "usermgr", "users", "--attribute", "created,", "1"],
            "unknown $attribute value \"\"",
        ),
        (
            vec!["--mock", "usermgr", "users", "--sort", "id", "1"],
            "--sort: not offered (by usermgr users): records come back in input order",
        ),
        (
            vec!["--mock", "usermgr", "users", "--order=desc", "1"],
            "--order: not offered (by usermgr users): records come back in input order",
        ),
        (
            vec!["--mock", "nexudus", "users", "--full", "--order", "1"],
            "--order: not offered",
        ),
        (
            vec![
                "--mock",
                "avepoint",
                "users",
                "--customer-id",
                " ",
                "--tenant-id",
                "t",
                "1",
            ],
            "must not be empty",
        ),
        (
            vec![
                "--mock",
                "avepoint",
                "users",
                "--customer-id",
                "c",
                "--tenant-id",
                "",
                "1",
            ],
            "must not be empty",
        ),
        (
            vec!["--mock", "nexudus", "users", " 1 ", "", "x"],
            "invalid id \"x\" (argument 3)",
        ),
        (
            vec![
                "--mock",
                "nexudus",
                "users",
                "--ids-file",
                "-",
                "--token-file",
                "-",
                "1",
            ],
            "standard input ('-') can be read for one of",
        ),
        (
            vec![
                "--mock",
                "nexudus",
                "users",
                "--token-file",
                "/nonexistent/t",
                "1",
            ],
            "cannot read --token-file /nonexistent/t",
        ),
        (
            vec!["--mock", "usermgr", "users", "--accept-language", "xx", "1"],
            "--accept-language",
        ),
        (
            vec!["--mock", "usermgr", "users", "--max-batch", "76", "1"],
            "max batch 76",
        ),
        (
            vec!["--token", "t", "avepoint", "users", "1"],
            "avepoint users needs --customer-id",
        ),
        (
            vec!["--mock", "usermgr", "users", "--full", "1"],
            "--full: `usermgr users` returns full records already",
        ),
        (
            vec!["--mock", "nexudus", "users", "--page-size", "5", "1"],
            "--page-size applies to avepoint users only",
        ),
        (vec!["nexudus", "users", "1"], "no credentials"),
        (
            vec![
                "--token",
                "t",
                "--server-var",
                "region=us",
                "nexudus",
                "users",
                "1",
            ],
            "--server-var: the server URL https://spaces.nexudus.com has no variable \"region\"",
        ),
        (
            vec![
                "--token",
                "t",
                "--server-var",
                "region",
                "nexudus",
                "users",
                "1",
            ],
            "expected NAME=VALUE",
        ),
        (
            vec![
                "--token",
                "t",
                "--base-url",
                "http://example.com",
                "nexudus",
                "users",
                "1",
            ],
            "plain HTTP to example.com: use https://, or allow insecure transport (--allow-insecure allows it)",
        ),
        (
            vec![
                "--token",
                "t",
                "--base-url",
                "ftp://x",
                "nexudus",
                "users",
                "1",
            ],
            "the scheme must be https://",
        ),
        (
            vec![
                "--token",
                "t",
                "--base-url",
                "http://127.0.0.1:1@vm/",
                "nexudus",
                "users",
                "1",
            ],
            "it holds credentials",
        ),
        (
            vec![
                "--mock",
                "nexudus",
                "users",
                "--ids-file",
                "/nonexistent/ids",
                "1",
            ],
            "cannot read --ids-file",
        ),
        (
            vec!["--mock", "nosuchvendor", "users", "1"],
            "invalid value",
        ),
        (
            vec!["--mock", "nexudus", "users", "--concurrency", "0", "1"],
            "invalid value",
        ),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_sends_no_request() {
    let m = MockServer::start(MockConfig::new()).await.unwrap();
    let out = run(&[
        "--base-url",
        m.base_url(),
        "--token",
        "t",
        "nexudus",
        "users",
        "1",
        "2",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(m.stats().total_requests(), 0);
}

/// The library's report serializes to what `--report` writes (the command line adds only
/// the vendor, the resource and how the run ended): a program and a script read one format.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_librarys_report_is_the_json_the_command_line_writes() {
    let m = userbatch_mock::MockServer::start(
        userbatch_mock::MockConfig::new().missing_ids(["3", "7"]),
    )
    .await
    .unwrap();
    let url = m.base_url().to_owned();
    let (out, mut written) = tokio::task::spawn_blocking(move || {
        crate::support::run_reporting(&url, "t", &["nexudus", "users"], Some(120))
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", crate::support::stderr(&out));
    let entry = userbatch::registry::vendor("nexudus")
        .unwrap()
        .resource("users")
        .unwrap()
        .batch_operation();
    let config =
        userbatch::ClientConfig::new(m.base_url()).credentials(userbatch::Credentials::bearer("t"));
    let op = (entry.build)(config, &[]).unwrap();
    let report = userbatch::Batch::new(op)
        .fetch((1..=120).map(|i| i.to_string()))
        .await
        .unwrap();
    m.stop().await;
    // The format scripts read: these keys (`pace_per_s` only when a pace was in effect).
    let keys: Vec<&String> = written.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "failed",
            "found",
            "interrupted",
            "missing",
            "records_written",
            "requested",
            "requests",
            "resource",
            "run_error",
            "throttle_wait_s",
            "throttled",
            "unexpected",
            "vendor"
        ]
    );
    let object = written.as_object_mut().unwrap();
    for added in ["vendor", "resource", "interrupted", "records_written"] {
        assert!(object.remove(added).is_some(), "{added} in {object:?}");
    }
    assert_eq!(serde_json::to_value(&report).unwrap(), written);
    assert_eq!(written["missing"], serde_json::json!(["3", "7"]));
    assert_eq!(written["found"], 118);
}
