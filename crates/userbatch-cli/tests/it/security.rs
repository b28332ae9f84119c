//! The command line probed as an attacker would (loopback only): a bad ids file, a crafted
//! URL, a hostile environment. Nothing leaves its template, no token goes in clear, no
//! input fills memory, no file is written through a symlink.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};

use crate::support::{stderr, userbatch};
use userbatch_mock::{MockConfig, MockServer};

/// A loopback listener that records the first line of every request it gets and answers
/// each with an empty User Manager list: a capture server, or a proxy that sees all.
struct Capture {
    url: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Capture {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let lines = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&lines);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    continue;
                }
                seen.lock().unwrap().push(first.trim_end().to_owned());
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let body = r#"{"user":[]}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { url, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

#[test]
fn traversals_are_refused_and_the_rest_is_encoded() {
    let capture = Capture::start();
    let base = ["--base-url", &capture.url, "--token", "t"];
    for args in [
        vec![
            "usermgr",
            "users",
            "ok1",
            r"x\..\..\..\..\..\internal\secrets",
            "ok2",
        ],
        vec!["usermgr", "users", r"a\b"],
        vec!["usermgr", "users", ".."],
        vec![
            "avepoint",
            "users",
            "a",
            "--customer-id",
            r"c\..\..\..\..\..\..\admin\delete",
            "--tenant-id",
            "t",
        ],
        vec![
            "avepoint",
            "users",
            "a",
            "--customer-id",
            "c",
            "--tenant-id",
            "..",
        ],
    ] {
        let out = userbatch(&base).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("path"), "{args:?}: {}", stderr(&out));
    }
    assert!(capture.lines().is_empty(), "{:?}", capture.lines());
    // Ids with characters that are merely unusual go out encoded, one segment.
    let out = userbatch(&base)
        .args(["usermgr", "users", "a%2Fb", "c d", "...", "é?#"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        capture.lines(),
        ["GET /core/usermgr/v3/users/a%252Fb,c%20d,...,%C3%A9%3F%23 HTTP/1.1"]
    );
}

#[test]
fn no_token_goes_in_clear_to_another_host_or_a_proxy() {
    let capture = Capture::start();
    // user:password@ in the base URL: the host would be `vm`, not loopback.
    let out = userbatch(&[
        "--base-url",
        "http://127.0.0.1:1@vm/",
        "--token",
        "t",
        "nexudus",
        "users",
        "1",
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("credentials"), "{}", stderr(&out));
    // A plaintext proxy from the environment is not used for plain HTTP: the proxy here
    // (the capture server) would see the token.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt.block_on(MockServer::start(MockConfig::new())).unwrap();
    let run = |insecure: bool| {
        let mut cmd = userbatch(&["--base-url", mock.base_url(), "--token", "sekrit"]);
        if insecure {
            cmd.arg("--allow-insecure");
        }
        cmd.args(["usermgr", "users", "1"])
            .env("http_proxy", &capture.url)
            .env("HTTP_PROXY", &capture.url)
            .output()
            .unwrap()
    };
    let out = run(false);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("found 1"), "{}", stderr(&out));
    assert!(
        capture.lines().is_empty(),
        "the proxy saw {:?}",
        capture.lines()
    );
    // Asked for, the proxy is used: this is what the default prevents.
    let out = run(true);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(capture.lines().len(), 1, "{:?}", capture.lines());
    assert!(
        capture.lines()[0].starts_with("GET http://127.0.0.1"),
        "{:?}",
        capture.lines()
    );
}

#[test]
fn the_report_is_never_written_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("secret.txt");
    std::fs::write(&target, "keep me").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let report = dir.path().join("report.json");
    std::os::unix::fs::symlink(&target, &report).unwrap();
    let out = userbatch(&["--mock", "nexudus", "users", "1", "--report"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    let meta = std::fs::symlink_metadata(&report).unwrap();
    assert!(
        meta.file_type().is_file(),
        "the link was replaced by the report"
    );
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(written["found"], 1);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".userbatch"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file is left behind");
}

#[test]
fn a_report_that_cannot_be_written_stops_the_run_before_any_request() {
    let capture = Capture::start();
    for path in ["/nonexistent/folder/report.json", "/tmp"] {
        let out = userbatch(&["--base-url", &capture.url, "--token", "t"])
            .args(["usermgr", "users", "1", "--report", path])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{path}: {}", stderr(&out));
        assert!(stderr(&out).contains("--report"), "{}", stderr(&out));
    }
    assert!(capture.lines().is_empty(), "{:?}", capture.lines());
}
