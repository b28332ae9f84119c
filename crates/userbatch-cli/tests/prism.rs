//! The command line against Prism (`@stoplight/prism-cli`, pinned in package.json), a
//! mock server nobody here wrote, serving each vendor's spec.
//!
//! - Static mode answers the spec's examples, whose records carry other ids than those
//!   asked for: no id may be reported missing (User Manager's example list is empty, so
//!   there every id is rightly missing).
//! - Dynamic mode (`-d`) answers schema-random records: the command line must not panic,
//!   and every id must be accounted for exactly once.
//! - Prism validates every request against the spec: it must report no violation. The
//!   cases cover every option that changes a request: list and get-one operations,
//!   `--max-batch`, User Manager's `--attribute` (several, and single-id ones) and
//!   `--accept-language`, AvePoint's path parameters and `--page-size`, `--strict`. (`$sort` and
//!   `$order` are not sent: the command line refuses them, as they have no visible effect.)
//!
//! Prism 5.16.0 crashes on a comma in a path parameter (stoplightio/prism#2710; the fix,
//! #2801, is not released), whether the spec types it as a string or, as ours correctly
//! does, as an array with style simple. User Manager is therefore run one id per request
//! here; its comma-separated requests are judged by Schemathesis against our own mock.
//!
//! Needs `npm ci` (node_modules/.bin/prism). Without it the test says so and passes, unless
//! `USERBATCH_REQUIRE_PRISM` is set (CI sets it), in which case it fails.

use std::collections::HashSet;
use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/userbatch-cli is two levels down")
        .to_path_buf()
}

fn prism_bin() -> Option<PathBuf> {
    let bin = workspace_root().join("node_modules/.bin/prism");
    if bin.exists() {
        return Some(bin);
    }
    assert!(
        std::env::var_os("USERBATCH_REQUIRE_PRISM").is_none(),
        "USERBATCH_REQUIRE_PRISM is set but {} is missing: run `npm ci`",
        bin.display()
    );
    eprintln!("skipped: {} is missing (run `npm ci`)", bin.display());
    None
}

/// A running `prism mock`; killed when dropped.
struct Prism {
    child: Child,
    base_url: String,
    log: PathBuf,
}

impl Prism {
    fn start(bin: &Path, spec: &str, dynamic: bool) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::env::temp_dir().join(format!(
            "userbatch-prism-{}-{spec}-{dynamic}.log",
            std::process::id()
        ));
        let out = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(bin);
        cmd.current_dir(workspace_root())
            .args(["mock", "--host", "127.0.0.1", "--port", &port.to_string()])
            .arg(format!("specs/{spec}.yaml"))
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .stdin(Stdio::null());
        if dynamic {
            cmd.arg("--dynamic");
        }
        let child = cmd.spawn().expect("prism starts");
        Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    fn wait_ready(&mut self) {
        let addr = self.base_url.trim_start_matches("http://").to_owned();
        let give_up = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(&addr).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("prism exited with {status}: {}", self.log_text());
            }
            assert!(
                Instant::now() < give_up,
                "prism did not start: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// One run of the command line: its exit status and its report.
fn run(base_url: &str, args: &[&str]) -> (i32, Value, String) {
    let report = std::env::temp_dir().join(format!(
        "userbatch-prism-report-{}-{}.json",
        std::process::id(),
        base_url.rsplit(':').next().unwrap_or("0")
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_userbatch"))
        .args(["--base-url", base_url, "--token", "t", "--timeout", "10"])
        .args(["--report", report.to_str().unwrap()])
        .args(args)
        .env_remove("USERBATCH_TOKEN")
        .env_remove("USERBATCH_BASE_URL")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "{args:?}: exit {code} (a panic or bad usage): {stderr}"
    );
    let text = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("{args:?}: no report ({e}): {stderr}"));
    let _ = std::fs::remove_file(&report);
    (code, serde_json::from_str(&text).unwrap(), stderr)
}

/// Every requested id is in exactly one of found (counted), missing, failed.
fn accounted_once(report: &Value, requested: &[&str]) {
    let missing: Vec<&str> = report["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let failed: Vec<&str> = report["failed"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["ids"].as_array().unwrap())
        .map(|v| v.as_str().unwrap())
        .collect();
    let found = report["found"].as_u64().unwrap() as usize;
    let mut seen = HashSet::new();
    for id in missing.iter().chain(&failed) {
        assert!(seen.insert(*id), "{id} is in two places: {report}");
        assert!(requested.contains(id), "{id} was not requested: {report}");
    }
    assert_eq!(found + seen.len(), requested.len(), "{report}");
    assert_eq!(report["requested"], requested.len(), "{report}");
}

/// The cases: (spec, args, ids).
fn cases() -> Vec<(&'static str, Vec<&'static str>, Vec<&'static str>)> {
    vec![
        ("nexudus", vec!["nexudus", "users"], vec!["1", "2", "3"]),
        ("nexudus", vec!["nexudus", "coworkers"], vec!["10", "20"]),
        (
            "nexudus",
            vec!["nexudus", "users", "--full"],
            vec!["5", "6"],
        ),
        ("nexudus", vec!["nexudus", "coworkers", "--full"], vec!["7"]),
        (
            "usermgr",
            vec![
                "usermgr",
                "users",
                "--max-batch",
                "1",
                "--attribute",
                "created",
            ],
            vec!["1001", "1002"],
        ),
        (
            "usermgr",
            vec![
                "usermgr",
                "users",
                "--max-batch",
                "1",
                "--accept-language",
                "fr-FR",
                "--strict",
            ],
            vec!["u1", "u2"],
        ),
        (
            "usermgr",
            vec!["usermgr", "users", "--attribute", "all,directReports"],
            vec!["solo"],
        ),
        (
            "nexudus",
            vec!["nexudus", "users", "--max-batch", "2", "--strict"],
            vec!["11", "12", "13"],
        ),
        (
            "avepoint",
            vec![
                "avepoint",
                "users",
                "--customer-id",
                "c1",
                "--tenant-id",
                "t1",
            ],
            vec!["a", "b", "c"],
        ),
        (
            "avepoint",
            vec![
                "avepoint",
                "users",
                "--customer-id",
                "c-2",
                "--tenant-id",
                "t 2",
                "--page-size",
                "2",
                "--strict",
            ],
            vec!["x", "y", "z"],
        ),
    ]
}

#[test]
fn against_prism_static_and_dynamic() {
    let Some(bin) = prism_bin() else { return };
    let mut servers: Vec<(&str, bool, Prism)> = Vec::new();
    for spec in ["nexudus", "usermgr", "avepoint"] {
        for dynamic in [false, true] {
            servers.push((spec, dynamic, Prism::start(&bin, spec, dynamic)));
        }
    }
    for (_, _, prism) in &mut servers {
        prism.wait_ready();
    }
    for (spec, args, ids) in cases() {
        for (_, dynamic, prism) in servers.iter().filter(|(s, _, _)| *s == spec) {
            let mut all = args.clone();
            all.extend(&ids);
            let (code, report, stderr) = run(&prism.base_url, &all);
            accounted_once(&report, &ids);
            if *dynamic {
                continue;
            }
            if spec == "usermgr" {
                // The docs' example is an empty list: every id is rightly missing.
                assert_eq!(
                    report["missing"].as_array().unwrap().len(),
                    ids.len(),
                    "{report}"
                );
                assert_eq!(code, 0);
            } else {
                // The examples carry other ids: failed, never missing.
                assert_eq!(
                    report["missing"],
                    serde_json::json!([]),
                    "{args:?}: {report}"
                );
                assert_eq!(report["found"], 0);
                assert!(report["unexpected"].as_u64().unwrap() >= 1, "{report}");
                assert_eq!(code, 1);
                assert!(stderr.contains("not asked for"), "{stderr}");
            }
        }
    }
    for (spec, dynamic, prism) in &servers {
        let log = prism.log_text();
        assert!(
            !log.contains("Violation") && !log.contains("TypeError"),
            "prism ({spec}, dynamic {dynamic}) found the requests invalid:\n{log}"
        );
        assert!(
            log.contains("Request received"),
            "prism ({spec}) saw no request"
        );
    }
}
