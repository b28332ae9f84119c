//! What the command line's test modules share.
#![allow(dead_code)]

use std::process::{Command, Output};

use serde_json::Value;

/// Runs the binary against `base_url` with `token` and `args`, a report beside it, and,
/// with `ids`, the ids 1 to `ids` in a file (`--ids-file`): its output and the report
/// (`null` if none was written).
pub fn run_reporting(
    base_url: &str,
    token: &str,
    args: &[&str],
    ids: Option<usize>,
) -> (Output, Value) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let mut cmd = userbatch(&["--base-url", base_url, "--token", token, "--report"]);
    cmd.arg(&report).args(args);
    if let Some(n) = ids {
        let file = dir.path().join("ids.txt");
        let text: String = (1..=n).map(|i| format!("{i}\n")).collect();
        std::fs::write(&file, text).unwrap();
        cmd.arg("--ids-file").arg(&file);
    }
    let out = cmd.output().expect("the binary runs");
    let report = std::fs::read_to_string(&report)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null);
    (out, report)
}

/// The binary with `args`, and none of the environment a user's shell may carry that
/// would change a run (credentials, base URL, proxies, log filter).
pub fn userbatch(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_userbatch"));
    cmd.args(args);
    for name in [
        "USERBATCH_TOKEN",
        "USERBATCH_BASE_URL",
        "USERBATCH_CLIENT_ID",
        "USERBATCH_CLIENT_SECRET",
        "RUST_LOG",
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ] {
        cmd.env_remove(name);
    }
    cmd
}

/// A run's standard output.
pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A run's standard error.
pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Bytes as text, lossily.
pub fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The shell command line for `script -c` (util-linux), each argument quoted.
pub fn shell_line(program: &str, args: &[&str]) -> String {
    std::iter::once(program)
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `program` with `args` under a pseudo-terminal (util-linux `script`).
pub fn under_a_terminal(program: &str, args: &[&str]) -> Output {
    Command::new("script")
        .args(["-q", "-e", "-c", &shell_line(program, args), "/dev/null"])
        .env("TERM", "xterm")
        .env_remove("RUST_LOG")
        .output()
        .expect("util-linux `script` runs")
}

/// A loopback port nobody listens on (bound, then released).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `VENDOR RESOURCE [--full] [--FLAG VALUE ...]` for every resource of the registry: its
/// batch operation and, with `full`, its summaries' full operation, each with the options
/// it requires (any value: the mock takes any). What a test that covers every vendor runs,
/// with no vendor named: a spec added to `specs/` is in it.
pub fn registry_targets(full: bool) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for vendor in userbatch::registry::vendors() {
        for resource in vendor.resources {
            let batch = resource.batch_operation();
            let full_op = vendor.full_operation(batch).filter(|_| full);
            for (entry, flag) in [(Some(batch), None), (full_op, Some("--full"))] {
                let Some(entry) = entry else { continue };
                let mut args = vec![vendor.name.to_owned(), resource.name.to_owned()];
                args.extend(flag.map(str::to_owned));
                for option in entry.options.iter().filter(|o| o.required) {
                    args.push(format!("--{}", option.flag));
                    args.push(option.any_value("t").to_owned());
                }
                out.push(args);
            }
        }
    }
    out
}
