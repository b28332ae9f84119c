//! How fast the mock answers on loopback, so benchmarks can show it is not their
//! bottleneck. Run: `cargo run --release -p userbatch-mock --example throughput`.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use userbatch_mock::{Faults, MockConfig, MockServer};

async fn run(
    label: &str,
    latency: Duration,
    concurrency: usize,
    requests: usize,
    path: impl Fn(usize) -> String,
) {
    let config = MockConfig::new()
        .log_requests(false)
        .faults_all(Faults::latency(latency));
    let mock = MockServer::start(config).await.expect("mock starts");
    let client = reqwest::Client::new();
    let base = mock.base_url().to_owned();
    let started = Instant::now();
    let bytes: usize = futures_util::stream::iter(0..requests)
        .map(|i| {
            let req = client.get(format!("{base}{}", path(i))).bearer_auth("t");
            async move {
                let resp = req.send().await.expect("request");
                assert!(resp.status().is_success(), "{}", resp.status());
                resp.bytes().await.expect("body").len()
            }
        })
        .buffer_unordered(concurrency)
        .fold(0, |a, b| async move { a + b })
        .await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{label:<44} latency {:>3} ms  concurrency {concurrency:>3}  {requests:>6} requests  {:>8.0} req/s  {:>7.1} MB/s",
        latency.as_millis(),
        requests as f64 / secs,
        bytes as f64 / secs / 1e6,
    );
    mock.stop().await;
}

fn ids(from: usize, n: usize) -> String {
    let ids: Vec<String> = (from..from + n).map(|i| i.to_string()).collect();
    format!("[{}]", ids.join(","))
}

#[tokio::main]
async fn main() {
    // Start/stop cost.
    let cycles = 100;
    let started = Instant::now();
    for _ in 0..cycles {
        MockServer::start(MockConfig::new())
            .await
            .expect("start")
            .stop()
            .await;
    }
    println!(
        "start + stop: {:.2} ms per cycle ({cycles} cycles)",
        started.elapsed().as_secs_f64() * 1e3 / cycles as f64
    );

    run(
        "nexudus getUser (1 full record)",
        Duration::ZERO,
        16,
        20_000,
        |i| format!("/api/sys/users/{i}"),
    )
    .await;
    run(
        "nexudus getCoworkers (100 summaries)",
        Duration::ZERO,
        16,
        2_000,
        |i| format!("/api/spaces/coworkers/?id={}", ids(i * 100, 100)),
    )
    .await;
    run(
        "nexudus getUsers (200 summaries)",
        Duration::ZERO,
        16,
        1_000,
        |i| format!("/api/sys/users/?id={}", ids(i * 200, 200)),
    )
    .await;
    run(
        "nexudus getUser, 20 ms latency",
        Duration::from_millis(20),
        16,
        2_000,
        |i| format!("/api/sys/users/{i}"),
    )
    .await;
    run(
        "nexudus getUser, 20 ms latency",
        Duration::from_millis(20),
        256,
        20_000,
        |i| format!("/api/sys/users/{i}"),
    )
    .await;
}
