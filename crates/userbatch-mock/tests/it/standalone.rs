//! The `userbatch-mock` binary: its first line is the base URL, it serves the vendors with
//! the token it was given, and it stops on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_binary_prints_its_url_serves_with_its_token_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_userbatch-mock"))
        .args(["--token", "s3cret", "--missing", "3"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim();
    assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");

    let http = reqwest::Client::new();
    let get = |token: &'static str, target: &str| {
        http.get(format!("{url}{target}")).bearer_auth(token).send()
    };
    // Brackets and commas raw, as the vendor's docs write them, or percent-encoded.
    for target in [
        "/api/sys/users/?id=[1,2,3]",
        "/api/sys/users/?id=%5B1%2C2%2C3%5D",
    ] {
        let answer = get("s3cret", target).await.unwrap();
        assert_eq!(answer.status(), 200, "{target}");
        let users: Vec<serde_json::Value> = answer.json().await.unwrap();
        let ids: Vec<i64> = users.iter().map(|u| u["Id"].as_i64().unwrap()).collect();
        assert_eq!(ids.len(), 2, "3 is missing: {ids:?}");
        assert!(!ids.contains(&3));
    }
    assert_eq!(
        get("wrong", "/api/sys/users/1").await.unwrap().status(),
        401
    );

    // SIGTERM: it exits, cleanly.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
