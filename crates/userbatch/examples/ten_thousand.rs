//! 10,000 ids per vendor operation against the mock with 20 ms latency: requests made and
//! wall time against the floor, ceil(requests / concurrency) x latency.
//! Run: `cargo run --release -p userbatch --example ten_thousand`.

use std::time::{Duration, Instant};

use userbatch::{Batch, Operation, avepoint, nexudus, usermgr};
use userbatch_mock::{Faults, MockConfig, MockServer};

const LATENCY: Duration = Duration::from_millis(20);
const CONCURRENCY: usize = 4;

async fn measure<O: Operation>(label: &str, op: O, ids: &[String]) {
    let batch = Batch::new(op).concurrency(CONCURRENCY);
    let planned = batch.plan(ids).expect("valid ids").chunks.len();
    let started = Instant::now();
    let report = batch.fetch(ids).await.expect("valid ids");
    let wall = started.elapsed();
    let floor = LATENCY * (report.requests as u32).div_ceil(CONCURRENCY as u32);
    println!(
        "{label:<22} found {:>6}  requests {:>4} (planned {planned:>4})  wall {:>7.1} ms  floor {:>7.1} ms  ratio {:.2}",
        report.found.len(),
        report.requests,
        wall.as_secs_f64() * 1e3,
        floor.as_secs_f64() * 1e3,
        wall.as_secs_f64() / floor.as_secs_f64(),
    );
}

#[tokio::main]
async fn main() {
    let mock = MockServer::start(
        MockConfig::new()
            .log_requests(false)
            .faults_all(Faults::latency(LATENCY)),
    )
    .await
    .expect("mock starts");
    let ids: Vec<String> = (1..=10_000).map(|i| i.to_string()).collect();
    let nx = nexudus::Client::with_bearer(mock.base_url(), "t").unwrap();
    let um = usermgr::Client::with_bearer(mock.base_url(), "t").unwrap();
    let ap = avepoint::Client::with_bearer(mock.base_url(), "t").unwrap();
    println!(
        "10,000 ids, {} ms latency, concurrency {CONCURRENCY}",
        LATENCY.as_millis()
    );
    measure("nexudus users", nexudus::GetUsers::new(nx.clone()), &ids).await;
    measure("nexudus coworkers", nexudus::GetCoworkers::new(nx), &ids).await;
    measure("usermgr users", usermgr::GetUsersByIds::new(um), &ids).await;
    measure(
        "avepoint users",
        avepoint::RetrieveMultipleUsers::new(ap, "c", "t"),
        &ids,
    )
    .await;
    mock.stop().await;
}
