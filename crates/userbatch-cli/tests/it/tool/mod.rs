//! The command line as a Unix tool: secrets, standard error, progress on a terminal only,
//! signals, files written whole, credentials from files, completions and the manual page.
//! Every run talks HTTP over loopback to the embedded mock.

mod files;
mod output;
mod signals;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use userbatch_mock::MockServer;

pub(super) fn userbatch() -> Command {
    crate::support::userbatch(&[])
}

/// The token the tests send: distinctive, so a leak of it can be looked for.
pub(super) const TOKEN: &str = "tok-4f9a2c7e";

/// `userbatch --base-url <mock> --token TOKEN ARGS...`.
pub(super) fn against(m: &MockServer, args: &[&str]) -> Command {
    let mut cmd = userbatch();
    cmd.args(["--base-url", m.base_url(), "--token", TOKEN])
        .args(args);
    cmd
}

pub(super) fn output(mut cmd: Command) -> Output {
    cmd.output().expect("the binary runs")
}

pub(super) fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

pub(super) fn records(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON record"))
        .collect()
}

pub(super) fn ids(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.map(|i| i.to_string()).collect()
}

/// A fresh folder for one test's files.
pub(super) fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("userbatch-tool-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(super) fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every non-null value at the operation's secret pointers, as JSON text (an array on the
/// way stands for each element, as the redactor reads it).
pub(super) fn secret_values(
    records: &[Value],
    secrets: &[std::borrow::Cow<'static, str>],
) -> Vec<String> {
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

pub(super) fn signal(child: &Child, signal: i32) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// Waits for the child, at most `limit`.
pub(super) fn wait(mut child: Child, limit: Duration) -> Output {
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
pub(super) fn check_interrupted_run(report: &Value, output: &Path, requested: &[String]) -> usize {
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
pub(super) fn spawn_into_files(
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
