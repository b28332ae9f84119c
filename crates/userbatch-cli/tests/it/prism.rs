//! The command line against Prism (`@stoplight/prism-cli`, pinned in package.json), a
//! mock server nobody here wrote, serving each vendor's spec.
//!
//! - One Prism per vendor of the registry (its spec), static and dynamic; the cases are
//!   every resource's batch operation and its full one, plus the options that change a
//!   request (several attributes and single-id ones, a header option, path options with a
//!   space, a page size, `--max-batch`, `--strict`). A spec added to `specs/` is run here
//!   without new test code.
//! - Static mode answers the spec's 200 example: where its records carry other ids than
//!   those asked for, no id may be reported missing; where the example is an empty list,
//!   every id is rightly missing (User Manager's).
//! - Dynamic mode (`-d`) answers schema-random records: the command line must not panic,
//!   and every id must be accounted for exactly once.
//! - Prism validates every request against the spec: it must report no violation. (`$sort`
//!   and `$order` are not sent: the command line refuses them, as they have no visible
//!   effect.)
//!
//! Prism 5.16.0 crashes on a comma in a path parameter (stoplightio/prism#2710; the fix,
//! #2801, is not released), whether the spec types it as a string or, as ours correctly
//! does, as an array with style simple. Ids in a comma-separated path segment are therefore
//! sent one per request here; such requests are judged by Schemathesis against our mock.
//!
//! Needs `npm ci` (node_modules/.bin/prism), so it is ignored by default: run it with
//! `--ignored` (CI does); without Prism it then fails.

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

fn prism_bin() -> PathBuf {
    let bin = workspace_root().join("node_modules/.bin/prism");
    assert!(bin.exists(), "{} is missing: run `npm ci`", bin.display());
    bin
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

/// One run of the command line against one vendor's Prism.
struct Case {
    vendor: &'static str,
    /// The operation that answers (the batch operation, or its full one with `--full`).
    entry: &'static userbatch::registry::OperationEntry,
    args: Vec<String>,
    ids: Vec<String>,
}

/// `userbatch <vendor> <resource> [--full] <extra...> <ids...>`, with a value for each
/// required option `extra` does not give (the first of its values, else `x1`), and one id
/// per request where the ids are a comma-separated path segment (Prism 5.16.0 crashes on a
/// comma there, see above).
fn case(vendor: &str, resource: &str, full: bool, extra: &[&str], ids: &[&str]) -> Case {
    let v = userbatch::registry::vendor(vendor).expect("a vendor of the registry");
    let batch = v.resource(resource).expect("a resource").batch_operation();
    let entry = if full {
        v.full_operation(batch).expect("a full operation")
    } else {
        batch
    };
    let mut args: Vec<String> = vec![vendor.into(), resource.into()];
    if full {
        args.push("--full".into());
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    for option in batch
        .options
        .iter()
        .filter(|o| o.required && o.default.is_none())
    {
        let flag = format!("--{}", option.flag);
        if !args.contains(&flag) {
            let value = option.values.first().copied().unwrap_or("x1");
            args.extend([flag, value.to_owned()]);
        }
    }
    let ids_rules = &entry.rules.ids;
    if ids_rules.location == userbatch::rules::IdLocation::Path
        && ids_rules.encoding != userbatch::rules::IdEncoding::Single
        && !args.iter().any(|a| a == "--max-batch")
    {
        args.extend(["--max-batch".to_owned(), "1".to_owned()]);
    }
    Case {
        vendor: v.name,
        entry,
        args,
        ids: ids.iter().map(|i| i.to_string()).collect(),
    }
}

/// Every operation of the registry (each resource's, and its full one), plus the options
/// that change a request: several attributes and single-id ones, a header option, path
/// options with a space, a page size, a smaller batch, `--strict`.
fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for vendor in userbatch::registry::vendors() {
        for resource in vendor.resources {
            let batch = resource.batch_operation();
            let ids: &[&str] = match batch.rules.ids.kind {
                userbatch::rules::IdKind::Integer => &["1", "2", "3"],
                userbatch::rules::IdKind::String => &["a", "b", "c"],
            };
            cases.push(case(vendor.name, resource.name, false, &[], ids));
            if vendor.full_operation(batch).is_some() {
                cases.push(case(vendor.name, resource.name, true, &[], &ids[..2]));
            }
        }
    }
    cases.extend([
        case(
            "nexudus",
            "users",
            false,
            &["--max-batch", "2", "--strict"],
            &["11", "12", "13"],
        ),
        case(
            "usermgr",
            "users",
            false,
            &["--attribute", "created"],
            &["1001", "1002"],
        ),
        case(
            "usermgr",
            "users",
            false,
            &["--accept-language", "fr-FR", "--strict"],
            &["u1", "u2"],
        ),
        case(
            "usermgr",
            "users",
            false,
            &["--attribute", "all,directReports"],
            &["solo"],
        ),
        case(
            "avepoint",
            "users",
            false,
            &[
                "--customer-id",
                "c-2",
                "--tenant-id",
                "t 2",
                "--page-size",
                "2",
                "--strict",
            ],
            &["x", "y", "z"],
        ),
    ]);
    cases
}

/// How many records the 200 example of `entry` carries (what Prism's static mode answers),
/// or `None` without one.
fn example_records(vendor: &str, entry: &userbatch::registry::OperationEntry) -> Option<usize> {
    let path = workspace_root().join(format!("crates/userbatch-mock/specs/{vendor}.json"));
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let op = spec["paths"]
        .as_object()?
        .values()
        .flat_map(|item| item.as_object().into_iter().flat_map(|m| m.values()))
        .find(|op| op["operationId"] == *entry.rules.operation_id)?;
    let example = op.pointer("/responses/200/content/application~1json/example")?;
    let records = example.pointer(&entry.rules.records.pointer)?;
    Some(if entry.rules.records.many {
        records.as_array()?.len()
    } else {
        1
    })
}

#[test]
#[ignore = "needs `npm ci` (node_modules/.bin/prism)"]
fn against_prism_static_and_dynamic() {
    let bin = prism_bin();
    let mut servers: Vec<(&str, bool, Prism)> = Vec::new();
    for vendor in userbatch::registry::vendors() {
        for dynamic in [false, true] {
            servers.push((
                vendor.name,
                dynamic,
                Prism::start(&bin, vendor.name, dynamic),
            ));
        }
    }
    for (_, _, prism) in &mut servers {
        prism.wait_ready();
    }
    for case in cases() {
        let ids: Vec<&str> = case.ids.iter().map(String::as_str).collect();
        let mut all: Vec<&str> = case.args.iter().map(String::as_str).collect();
        all.extend(&ids);
        for (_, dynamic, prism) in servers.iter().filter(|(s, _, _)| *s == case.vendor) {
            let (code, report, stderr) = run(&prism.base_url, &all);
            accounted_once(&report, &ids);
            if *dynamic {
                continue;
            }
            match example_records(case.vendor, case.entry) {
                // An empty list as the example: every id is rightly missing.
                Some(0) => {
                    assert_eq!(
                        report["missing"].as_array().unwrap().len(),
                        ids.len(),
                        "{all:?}: {report}"
                    );
                    assert_eq!(code, 0);
                }
                // The examples carry other ids: failed, never missing.
                Some(_) => {
                    assert_eq!(
                        report["missing"],
                        serde_json::json!([]),
                        "{all:?}: {report}"
                    );
                    assert_eq!(report["found"], 0);
                    assert!(report["unexpected"].as_u64().unwrap() >= 1, "{report}");
                    assert_eq!(code, 1);
                    assert!(stderr.contains("not asked for"), "{stderr}");
                }
                // Without an example Prism answers from the schema: only the accounting holds.
                None => {}
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
