//! Files and standard input: a report's failed ids fetched again, tokens from a file, ids from arguments and files alike, completions and the manual page, a closed pipe, options that may not share a file.

use super::{TOKEN, against, folder, ids, output, read_json, records, text, userbatch};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use userbatch_mock::{MockConfig, MockServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_failed_fetches_exactly_the_failed_ids_of_a_report() {
    let dir = folder("retry");
    let report = dir.join("report.json");
    let report_s = report.to_str().unwrap();
    let requested = ids(1..=12);
    // First run: the vendor refuses ids 4 and 9.
    let bad = MockServer::start(MockConfig::new().rejected_ids(["4", "9"]))
        .await
        .unwrap();
    let mut cmd = against(&bad, &["--report", report_s, "nexudus", "users"]);
    cmd.args(&requested);
    let out = output(cmd);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(records(&text(&out.stdout)).len(), 10);

    // The retry asks for those two only.
    let good = MockServer::start(MockConfig::new()).await.unwrap();
    let retried = dir.join("retry.json");
    let out = output(against(
        &good,
        &[
            "--retry-failed",
            report_s,
            "--report",
            retried.to_str().unwrap(),
            "nexudus",
            "users",
        ],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got: Vec<String> = records(&text(&out.stdout))
        .iter()
        .map(|r| r["Id"].to_string())
        .collect();
    assert_eq!(got, ["4", "9"]);
    let asked: Vec<String> = good.log().into_iter().flat_map(|r| r.ids).collect();
    assert_eq!(asked, ["4", "9"]);
    assert_eq!(read_json(&retried)["failed"], serde_json::json!([]));

    // Nothing left to retry: nothing is sent, and that is a success. (The vendor and the
    // resource are the report's when left out.)
    let out = output(against(
        &good,
        &["--retry-failed", retried.to_str().unwrap()],
    ));
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("lists no failed ids"));
    assert_eq!(good.stats().total_requests(), 1);

    // Bad reports are refused before any request, naming what is wrong.
    let edited = dir.join("edited.json");
    std::fs::write(
        &edited,
        r#"{"vendor": "nexudus", "resource": "users", "failed": [{"ids": ["4", "x9"], "error": "e"}]}"#,
    )
    .unwrap();
    let not_a_report = dir.join("other.json");
    std::fs::write(&not_a_report, r#"{"found": 3}"#).unwrap();
    for (path, needle) in [
        (
            edited.display().to_string(),
            format!("invalid id \"x9\" (failed id 2 of {})", edited.display()),
        ),
        (
            not_a_report.display().to_string(),
            "is not a report written by --report".to_owned(),
        ),
        (
            dir.join("none.json").display().to_string(),
            "cannot read --retry-failed".to_owned(),
        ),
    ] {
        let out = output(against(
            &good,
            &["--retry-failed", &path, "nexudus", "users"],
        ));
        assert_eq!(out.status.code(), Some(2), "{path}");
        let err = text(&out.stderr);
        assert!(err.contains(&needle), "{needle}: {err}");
    }
    assert_eq!(
        good.stats().total_requests(),
        1,
        "none of them sent anything"
    );

    // A report of another vendor is refused.
    let out = output(against(
        &good,
        &["--retry-failed", report_s, "usermgr", "users"],
    ));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is a report of vendor nexudus, not usermgr"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_comes_from_a_file_or_standard_input() {
    let m = MockServer::start(MockConfig::new().accept_tokens(["file-token"]))
        .await
        .unwrap();
    let dir = folder("token");
    let file = dir.join("token");
    std::fs::write(&file, "file-token\n").unwrap();
    let base = ["--base-url", m.base_url()];
    let with_token_file = |file: &Path| {
        let mut cmd = userbatch();
        cmd.args(base)
            .arg("--token-file")
            .arg(file)
            .args(["nexudus", "users", "1"]);
        output(cmd)
    };

    let out = with_token_file(&file);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let mut child = userbatch()
        .args(base)
        .args(["--token-file", "-", "nexudus", "users", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"file-token\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(records(&text(&out.stdout)).len(), 1);

    // The wrong token: the vendor refuses it; the message never quotes it.
    std::fs::write(&file, "wrong-token").unwrap();
    let out = with_token_file(&file);
    assert_eq!(out.status.code(), Some(1));
    assert!(!text(&out.stderr).contains("wrong-token"));

    // An empty file is refused before any request.
    std::fs::write(&file, "\n").unwrap();
    let before = m.stats().total_requests();
    let out = with_token_file(&file);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("the first line is empty"));
    assert_eq!(m.stats().total_requests(), before);

    // --help says where a token is least private.
    let help = text(
        &output({
            let mut cmd = userbatch();
            cmd.arg("--help");
            cmd
        })
        .stdout,
    );
    assert!(help.contains("least private"), "{help}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_read_alike_from_arguments_and_files() {
    let m = MockServer::start(MockConfig::new()).await.unwrap();
    let dir = folder("ids");
    let file = dir.join("ids.txt");
    // A byte order mark, CRLF line ends, blank lines and padding.
    std::fs::write(&file, "\u{feff}5\r\n\r\n  6 \r\n").unwrap();
    let mut cmd = against(
        &m,
        &[
            "nexudus",
            "users",
            " 7 ",
            "",
            "--ids-file",
            file.to_str().unwrap(),
        ],
    );
    cmd.arg("8\t");
    let out = output(cmd);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got: Vec<String> = records(&text(&out.stdout))
        .iter()
        .map(|r| r["Id"].to_string())
        .collect();
    assert_eq!(got, ["7", "8", "5", "6"]);

    // Errors name the file and the line (1-based, blank lines counted).
    std::fs::write(&file, "5\n\n6\nx7\n").unwrap();
    let out = output(against(
        &m,
        &[
            "nexudus",
            "users",
            "1",
            "--ids-file",
            file.to_str().unwrap(),
        ],
    ));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("invalid id \"x7\" ({} line 4)", file.display())),
        "{err}"
    );
}

#[test]
fn completions_and_the_manual_page_come_from_the_same_definition() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = output({
            let mut cmd = userbatch();
            cmd.args(["completions", shell]);
            cmd
        });
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = text(&out.stdout);
        assert!(script.contains("reveal-secrets"), "{shell}");
        assert!(script.contains("token-file"), "{shell}");
    }
    let man = output({
        let mut cmd = userbatch();
        cmd.arg("man");
        cmd
    });
    assert_eq!(man.status.code(), Some(0));
    let page = text(&man.stdout);
    assert!(
        page.starts_with(".ie") && page.contains(".TH userbatch 1"),
        "{page}"
    );
    assert!(page.contains("reveal\\-secrets") && page.contains("USERBATCH_TOKEN"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pipe_stops_the_output_not_the_accounting() {
    let m = MockServer::start(MockConfig::new()).await.unwrap();
    let dir = folder("pipe");
    let report = dir.join("report.json");
    let list = ids(1..=2_000);
    let mut cmd = against(
        &m,
        &["--report", report.to_str().unwrap(), "nexudus", "coworkers"],
    );
    cmd.args(&list)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // `| head -1`: read one line, then close the pipe.
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    assert!(first.starts_with('{'), "{first}");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = read_json(&report);
    assert_eq!(report["found"], 2_000, "every id accounted for");
    assert_eq!(report["records_written"], false, "and the report says so");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_written_may_not_be_one_read_or_written_by_another_option() {
    let m = MockServer::start(MockConfig::new()).await.unwrap();
    let dir = folder("overlap");
    let ids_file = dir.join("ids.txt");
    std::fs::write(&ids_file, "1\n2\n").unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let (ids_s, token_s) = (ids_file.to_str().unwrap(), token_file.to_str().unwrap());
    let same = dir.join("same.json");
    let same_s = same.to_str().unwrap();
    // The ids file by another spelling is still the ids file.
    let other_spelling = format!(
        "{}/../{}/./ids.txt",
        dir.display(),
        dir.file_name().unwrap().to_str().unwrap()
    );
    for (args, needle) in [
        (
            vec!["--ids-file", ids_s, "--output", ids_s],
            "--output and --ids-file name the same file",
        ),
        (
            vec!["--ids-file", ids_s, "--output", &other_spelling],
            "--output and --ids-file name the same file",
        ),
        (
            vec!["--ids-file", ids_s, "--report", ids_s],
            "--report and --ids-file name the same file",
        ),
        (
            vec!["--ids-file", ids_s, "--output", same_s, "--report", same_s],
            "--output and --report name the same file",
        ),
    ] {
        let mut cmd = userbatch();
        cmd.args(["--base-url", m.base_url(), "--token-file", token_s])
            .args(&args)
            .args(["nexudus", "users"]);
        let out = output(cmd);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let mut cmd = userbatch();
    cmd.args(["--base-url", m.base_url(), "--ids-file", ids_s])
        .args(["--token-file", token_s, "--output", token_s])
        .args(["nexudus", "users"]);
    let err = text(&output(cmd).stderr);
    assert!(err.contains("--output and --token-file"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&token_file).unwrap(),
        format!("{TOKEN}\n")
    );
    assert_eq!(std::fs::read_to_string(&ids_file).unwrap(), "1\n2\n");
    assert!(!same.exists());
    assert_eq!(m.stats().total_requests(), 0, "refused before any request");

    // A retry may write its report over the report it retries.
    let failing = MockServer::start(MockConfig::new().rejected_ids(["2"]))
        .await
        .unwrap();
    let report = dir.join("report.json");
    let report_s = report.to_str().unwrap();
    let out = output(against(
        &failing,
        &["--report", report_s, "nexudus", "users", "1", "2"],
    ));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let out = output(against(
        &m,
        &[
            "--retry-failed",
            report_s,
            "--report",
            report_s,
            "nexudus",
            "users",
        ],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = read_json(&report);
    assert_eq!(
        (report["requested"].as_u64(), report["found"].as_u64()),
        (Some(1), Some(1))
    );
}
