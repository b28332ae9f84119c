//! Ctrl-C and SIGTERM: what was received is kept, nothing half-written is left, requests in flight are abandoned after the grace.

use super::{
    against, check_interrupted_run, folder, ids, read_json, signal, spawn_into_files, text, wait,
};
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;
use userbatch_mock::{Faults, MockConfig, MockServer, Vendor};

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
