//! The command line as a Unix tool: secrets, standard error, progress on a terminal only,
//! signals, files written whole, credentials from files, completions and the manual page.
//! Every run talks HTTP over loopback to the embedded mock.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use userbatch::nexudus;
use userbatch_mock::{Faults, MockConfig, MockServer, Vendor};

fn userbatch() -> Command {
    crate::support::userbatch(&[])
}

/// The token the tests send: distinctive, so a leak of it can be looked for.
const TOKEN: &str = "tok-4f9a2c7e";

/// `userbatch --base-url <mock> --token TOKEN ARGS...`.
fn against(m: &MockServer, args: &[&str]) -> Command {
    let mut cmd = userbatch();
    cmd.args(["--base-url", m.base_url(), "--token", TOKEN])
        .args(args);
    cmd
}

fn output(mut cmd: Command) -> Output {
    cmd.output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn records(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON record"))
        .collect()
}

fn ids(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.map(|i| i.to_string()).collect()
}

/// A fresh folder for one test's files.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("userbatch-tool-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every non-null value at the operation's secret pointers, as JSON text (an array on the
/// way stands for each element, as the redactor reads it).
fn secret_values(records: &[Value], secrets: &[std::borrow::Cow<'static, str>]) -> Vec<String> {
    fn at(value: &Value, tokens: &[String], out: &mut Vec<String>) {
        match (value, tokens.split_first()) {
            (Value::Array(list), _) => list.iter().for_each(|v| at(v, tokens, out)),
            (Value::Null, _) => {}
            (_, None) => out.push(value.to_string()),
            (Value::Object(map), Some((key, rest))) => {
                if let Some(inner) = map.get(key) {
                    at(inner, rest, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for record in records {
        for pointer in secrets {
            let tokens: Vec<String> = pointer
                .split('/')
                .skip(1)
                .map(|t| t.replace("~1", "/").replace("~0", "~"))
                .collect();
            at(record, &tokens, &mut out);
        }
    }
    out
}

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

fn signal(child: &Child, signal: i32) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// Waits for the child, at most `limit`.
fn wait(mut child: Child, limit: Duration) -> Output {
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < limit,
            "the run did not end after the signal"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Checks that the report accounts for every requested id once, and that the output file
/// holds exactly the records of the ids it does not list as missing or failed, in order.
fn check_interrupted_run(report: &Value, output: &Path, requested: &[String]) -> usize {
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["requested"], requested.len());
    let missing: Vec<String> = serde_json::from_value(report["missing"].clone()).unwrap();
    let mut failed = Vec::new();
    for f in report["failed"].as_array().unwrap() {
        assert!(f["error"].as_str().unwrap().contains("interrupted"), "{f}");
        failed.extend(serde_json::from_value::<Vec<String>>(f["ids"].clone()).unwrap());
    }
    assert!(!failed.is_empty(), "the run was cut short");
    let written = records(&std::fs::read_to_string(output).unwrap());
    let written: Vec<String> = written.iter().map(|r| r["Id"].to_string()).collect();
    assert_eq!(written.len(), report["found"].as_u64().unwrap() as usize);
    let expected: Vec<String> = requested
        .iter()
        .filter(|id| !missing.contains(id) && !failed.contains(id))
        .cloned()
        .collect();
    assert_eq!(written, expected, "found records, in order");
    let mut all: Vec<&String> = written.iter().chain(&missing).chain(&failed).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), requested.len(), "every id in exactly one place");
    written.len()
}

/// `userbatch ARGS... --output OUT --report REPORT nexudus users IDS...`, started.
fn spawn_into_files(
    m: &MockServer,
    args: &[&str],
    output: &Path,
    report: &Path,
    ids: &[String],
) -> Child {
    let mut cmd = against(m, args);
    cmd.arg("--output")
        .arg(output)
        .arg("--report")
        .arg(report)
        .args(["nexudus", "users"])
        .args(ids)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_keeps_what_was_received_and_exits_130() {
    let m = MockServer::start(
        MockConfig::new()
            .missing_ids(["3"])
            .faults(Vendor::Nexudus, Faults::latency(Duration::from_millis(400))),
    )
    .await
    .unwrap();
    let dir = folder("sigint");
    let (out_path, report_path) = (dir.join("users.ndjson"), dir.join("report.json"));
    // An older file at the output path is replaced, never appended to or half-written.
    std::fs::write(&out_path, "old\n").unwrap();
    let requested = ids(1..=40);
    for (sig, name) in [(libc::SIGINT, "SIGINT"), (libc::SIGTERM, "SIGTERM")] {
        let child = spawn_into_files(
            &m,
            &["--max-batch", "2", "--concurrency", "2"],
            &out_path,
            &report_path,
            &requested,
        );
        // Twenty requests of 400 ms, two at a time: about four seconds if left alone.
        std::thread::sleep(Duration::from_millis(1_000));
        signal(&child, sig);
        let out = wait(child, Duration::from_secs(20));
        assert_eq!(
            out.status.code(),
            Some(130),
            "{name}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "records go to the file");
        let err = text(&out.stderr);
        assert!(err.contains("interrupted"), "{name}: {err}");
        let found = check_interrupted_run(&read_json(&report_path), &out_path, &requested);
        assert!(found >= 2, "{name}: what arrived before the signal is kept");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temporary files left: {leftovers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_while_the_ids_are_read_leaves_no_file_and_sends_nothing() {
    use std::os::unix::process::ExitStatusExt;
    let m = MockServer::start(MockConfig::new()).await.unwrap();
    let dir = folder("sigint-reading");
    let (out_path, report_path) = (dir.join("users.ndjson"), dir.join("report.json"));
    let mut child = against(&m, &["--ids-file", "-"])
        .arg("--output")
        .arg(&out_path)
        .arg("--report")
        .arg(&report_path)
        .args(["nexudus", "users"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ids arrive, and the pipe stays open: the CLI is still reading when the signal comes.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"1\n2\n3\n").unwrap();
    std::thread::sleep(Duration::from_millis(700));
    signal(&child, libc::SIGINT);
    let out = wait(child, Duration::from_secs(20));
    drop(stdin);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGINT),
        "ended as Ctrl-C ends a process: {:?} {}",
        out.status,
        text(&out.stderr)
    );
    assert_eq!(m.stats().total_requests(), 0, "nothing was sent");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(leftovers.is_empty(), "no file left: {leftovers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_are_abandoned_after_the_grace_or_a_second_signal() {
    // Answers take a minute: waiting for them is not an option.
    let m = MockServer::start(
        MockConfig::new().faults(Vendor::Nexudus, Faults::latency(Duration::from_secs(60))),
    )
    .await
    .unwrap();
    let dir = folder("grace");
    let (out_path, report_path) = (dir.join("users.ndjson"), dir.join("report.json"));
    let requested = ids(1..=10);
    for second_signal in [false, true] {
        let grace = if second_signal { "60" } else { "1" };
        let child = spawn_into_files(
            &m,
            &["--max-batch", "2", "--grace", grace],
            &out_path,
            &report_path,
            &requested,
        );
        std::thread::sleep(Duration::from_millis(500));
        signal(&child, libc::SIGINT);
        if second_signal {
            std::thread::sleep(Duration::from_millis(300));
            signal(&child, libc::SIGINT);
        }
        let out = wait(child, Duration::from_secs(20));
        assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
        let report = read_json(&report_path);
        let found = check_interrupted_run(&report, &out_path, &requested);
        assert_eq!(found, 0);
        assert_eq!(report["failed"][0]["ids"].as_array().unwrap().len(), 10);
    }
}

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
