//! Scenario benchmarks of userbatch against its mock. `cargo xtask bench` builds this in
//! release mode, runs each scenario several times in fresh processes and reports medians;
//! run it by hand only to debug a scenario. Each scenario prints one JSON object per line.
//!
//! ```text
//! userbatch-bench mock [LATENCY_MS]            serve a mock; print its URL; stop at stdin EOF
//! userbatch-bench requests                     scenario 1: requests / minimum, 10,000 + 2,000 dup ids
//! userbatch-bench wall URL LATENCY_MS CONC     scenario 2: wall time / floor per operation
//! userbatch-bench naive URL                    scenario 3: naive get-one loop vs the facade, 1,000 ids
//! userbatch-bench cpu URL ROUNDS               scenario 4: CPU seconds for 10,000 coworkers,
//!                                              facade and baseline in turn, ROUNDS times each
//! userbatch-bench stream URL N                 scenario 5: peak RSS streaming N coworker summaries
//! userbatch-bench mockrate URL                 the mock's own throughput (raw reqwest, 16 in flight)
//! userbatch-bench mock-limited RATE BURST FORM [HEADERS]
//!                                              serve a mock whose Nexudus answers RATE/s (burst
//!                                              BURST), Retry-After in FORM (fractional|seconds),
//!                                              rate-limit HEADERS (none|x-rate-limit|ietf)
//! userbatch-bench limited URL RATE BURST [N]   N (1,000) full Nexudus users (one request each),
//!                                              16 in flight, against that mock: wall / rate floor
//! userbatch-bench cli BIN URL N                the `userbatch` binary BIN fetching N coworkers
//!                                              to /dev/null: its CPU seconds (RUSAGE_CHILDREN)
//! userbatch-bench costs BIN URL                scenario 9: CPU per record of 10,000 coworkers,
//!                                              typed (the facade) and raw (BIN), beside decoding
//!                                              and scanning the same bytes
//! ```

use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use userbatch::{Batch, Operation, nexudus};
use userbatch_mock::{Faults, MockConfig, MockServer};

const TOKEN: &str = "bench";

fn ids(n: usize) -> Vec<String> {
    (1..=n).map(|i| i.to_string()).collect()
}

/// 10,000 unique ids with 2,000 duplicates mixed in.
fn with_duplicates() -> Vec<String> {
    let mut list = ids(10_000);
    list.extend((1..=2_000).map(|i| (i * 5).to_string()));
    list
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["mock"] => serve_mock(0).await,
        ["mock", latency] => serve_mock(latency.parse().expect("latency in ms")).await,
        ["mock-limited", rate, burst, form, headers @ ..] => {
            let retry_after = match *form {
                "fractional" => userbatch_mock::RetryAfter::WaitFractional,
                _ => userbatch_mock::RetryAfter::Wait,
            };
            let headers = match headers.first().copied() {
                Some("x-rate-limit") => Some(userbatch_mock::LimitHeaders::XRateLimit),
                Some("ietf") => Some(userbatch_mock::LimitHeaders::Ietf),
                _ => None,
            };
            let limit = userbatch_mock::RateLimit {
                retry_after,
                headers,
                ..userbatch_mock::RateLimit::new(
                    rate.parse().expect("rate"),
                    burst.parse().expect("burst"),
                )
            };
            serve(MockConfig::new().rate_limit(userbatch_mock::Vendor::Nexudus, limit)).await
        }
        ["limited", url, rate, burst, n @ ..] => {
            limited(
                url,
                rate.parse().expect("rate"),
                burst.parse().expect("burst"),
                n.first().map_or(1_000, |n| n.parse().expect("N")),
            )
            .await
        }
        ["requests"] => requests().await,
        ["wall", url, latency, conc] => {
            wall(
                url,
                latency.parse().expect("latency"),
                conc.parse().expect("concurrency"),
            )
            .await
        }
        ["naive", url] => naive(url).await,
        ["cpu", url, rounds] => cpu(url, rounds.parse().expect("rounds")).await,
        ["stream", url, n] => stream(url, n.parse().expect("count")).await,
        ["mockrate", url] => mock_rate(url).await,
        ["cli", bin, url, n] => cli(bin, url, n.parse().expect("count")),
        ["costs", bin, url] => costs(bin, url).await,
        _ => {
            eprintln!("usage: see the doc comment of crates/userbatch-bench/src/main.rs");
            std::process::exit(2);
        }
    }
}

async fn serve_mock(latency_ms: u64) {
    serve(MockConfig::new().faults_all(Faults::latency(Duration::from_millis(latency_ms)))).await
}

/// Serves a mock with `config`; prints its URL; stops at stdin EOF.
async fn serve(config: MockConfig) {
    let mock = MockServer::start(config.log_requests(false))
        .await
        .expect("mock starts");
    println!("{}", mock.base_url());
    std::io::stdout().flush().expect("stdout");
    // Serve until the parent closes our stdin.
    tokio::task::spawn_blocking(|| {
        let stdin = std::io::stdin();
        for _ in stdin.lock().lines() {}
    })
    .await
    .expect("stdin watcher");
    mock.stop().await;
}

/// The batch operation of every resource of the registry, named `<vendor> <resource>`,
/// built for the mock and decoding each record into its generated type.
fn registry_operations(
    url: &str,
) -> Vec<(
    String,
    &'static userbatch::registry::OperationEntry,
    userbatch::registry::AnyOperation,
)> {
    let mut out = Vec::new();
    for vendor in userbatch::registry::vendors() {
        for resource in vendor.resources {
            let entry = resource.batch_operation();
            let config = userbatch::ClientConfig::new(url)
                .credentials(userbatch::Credentials::bearer(TOKEN));
            let op = entry.build_for_mock(config).expect("options").strict(true);
            out.push((format!("{} {}", vendor.name, resource.name), entry, op));
        }
    }
    out
}

/// A lower bound on the requests `ids` need, from each limit alone (ids per request, the
/// page a request is answered with, the query bytes as sent): the planner is held to the
/// largest.
fn minimum(rules: &userbatch::rules::OperationRules, ids: &[String]) -> u64 {
    use userbatch::rules::{IdEncoding, IdLocation};
    let n = ids.len() as u64;
    let mut least = 1;
    if let Some(max) = rules.limits.max_ids {
        least = least.max(n.div_ceil(max as u64));
    }
    if let Some(paging) = &rules.paging {
        least = least.max(n.div_ceil(u64::from(paging.default_size)));
    }
    if let (Some(max), IdLocation::Query) = (rules.limits.max_query_bytes, rules.ids.location) {
        // `name=` and the brackets as sent (`%5B`, `%5D`), then each id and a `%2C` but
        // the first.
        let brackets = if rules.ids.encoding == IdEncoding::BracketedCsv {
            6
        } else {
            0
        };
        let room = max - (rules.ids.name.len() + 1 + brackets) + 3;
        let per_id: usize = ids.iter().map(|i| i.len() + 3).sum();
        least = least.max(per_id.div_ceil(room) as u64);
    }
    least
}

async fn requests() {
    let mock = MockServer::start(MockConfig::new().log_requests(false))
        .await
        .expect("mock");
    let input = with_duplicates();
    let unique = ids(10_000);
    for (name, entry, op) in registry_operations(mock.base_url()) {
        let r = Batch::new(op).fetch(&input).await.expect("plan");
        println!(
            "{}",
            json!({"scenario": "requests", "name": name, "requests": r.requests,
                   "minimum": minimum(entry.rules, &unique), "found": r.found.len()})
        );
    }
    mock.stop().await;
}

/// Wall time, requests, records found and this process's CPU seconds for one batch.
async fn timed<O: Operation>(
    op: O,
    concurrency: usize,
    ids: &[String],
) -> (Duration, u64, usize, f64) {
    let cpu = cpu_seconds();
    let started = Instant::now();
    let report = Batch::new(op)
        .concurrency(concurrency)
        .fetch(ids)
        .await
        .expect("plan");
    (
        started.elapsed(),
        report.requests,
        report.found.len(),
        cpu_seconds() - cpu,
    )
}

async fn wall(url: &str, latency_ms: u64, concurrency: usize) {
    let input = ids(10_000);
    let latency = Duration::from_millis(latency_ms);
    for (name, _, op) in registry_operations(url) {
        let (elapsed, requests, found, cpu_s) = timed(op, concurrency, &input).await;
        let floor =
            latency * u32::try_from(requests.div_ceil(concurrency as u64)).unwrap_or(u32::MAX);
        println!(
            "{}",
            json!({"scenario": "wall", "name": name, "concurrency": concurrency, "requests": requests,
                   "found": found, "wall_ms": elapsed.as_secs_f64() * 1e3, "floor_ms": floor.as_secs_f64() * 1e3,
                   "client_cpu_ms": cpu_s * 1e3})
        );
    }
}

async fn naive(url: &str) {
    let input = ids(1_000);
    let client = nexudus::Client::with_bearer(url, TOKEN).expect("client");
    // What a user would write with the generated get-one client.
    let started = Instant::now();
    let mut found = 0;
    let rules = &nexudus::rules::GET_USER;
    for id in &input {
        let answer = nexudus::receive(client.get_user(id.parse().expect("integer")).await, 1 << 20)
            .await
            .expect("an answer");
        let users = answer
            .records::<nexudus::types::User>(&rules.records, rules.ids.kind)
            .expect("records");
        found += users.iter().filter(|u| u.value.is_ok()).count();
    }
    let naive = started.elapsed();
    let (facade, requests, facade_found, _) =
        timed(nexudus::GetUsers::new(client), 4, &input).await;
    println!(
        "{}",
        json!({"scenario": "naive", "name": "nexudus users, 1,000 ids", "naive_ms": naive.as_secs_f64() * 1e3,
               "naive_found": found, "facade_ms": facade.as_secs_f64() * 1e3, "facade_requests": requests,
               "facade_found": facade_found})
    );
}

/// 1,000 full Nexudus users, one request each, 16 in flight, from a mock that lets `rate`
/// requests a second through (burst `burst`): wall time against the bucket's floor,
/// (requests - burst) / rate, and how many answers were throttled.
async fn limited(url: &str, rate: f64, burst: u32, n: usize) {
    let client = nexudus::Client::with_bearer(url, TOKEN).expect("client");
    let input = ids(n);
    let started = Instant::now();
    let report = Batch::new(nexudus::GetUser::new(client))
        .concurrency(16)
        .fetch(&input)
        .await
        .expect("plan");
    let wall = started.elapsed();
    assert!(report.failed.is_empty(), "{:?}", report.failed.first());
    let floor = (input.len() as f64 - f64::from(burst)) / rate;
    println!(
        "{}",
        json!({"scenario": "limited", "requests": report.requests, "throttled": report.throttled,
               "wall_ms": wall.as_secs_f64() * 1e3, "floor_ms": floor * 1e3,
               "paused_ms": report.throttle_wait.as_secs_f64() * 1e3})
    );
    // Let the bucket refill before the next run.
    tokio::time::sleep(Duration::from_secs_f64(f64::from(burst) / rate + 0.1)).await;
}

/// The command line fetching `n` coworker summaries from the mock at `url`, records to
/// /dev/null: the CPU seconds its process used (user + system), and the records it wrote.
fn cli(bin: &str, url: &str, n: usize) {
    let spent = cli_cpu(bin, url, n, &[]);
    println!(
        "{}",
        json!({"scenario": "cli", "records": n, "cpu_s": spent})
    );
}

/// The CPU seconds of the `userbatch` binary `bin` fetching `n` coworkers from `url` to
/// /dev/null, with `extra` options.
fn cli_cpu(bin: &str, url: &str, n: usize, extra: &[&str]) -> f64 {
    let ids_file = std::env::temp_dir().join(format!("userbatch-bench-cli-{}", std::process::id()));
    std::fs::write(&ids_file, ids(n).join("\n")).expect("ids file");
    let before = children_cpu_seconds();
    let out = std::process::Command::new(bin)
        .args(["--base-url", url, "--token", TOKEN])
        .args(extra)
        .args(["nexudus", "coworkers", "--ids-file"])
        .arg(&ids_file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("the userbatch binary runs");
    let spent = children_cpu_seconds() - before;
    let _ = std::fs::remove_file(&ids_file);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("found {n},")), "{stderr}");
    spent
}

/// Scenario 9: the client's CPU per record on the Nexudus coworkers list path, 16 requests
/// in flight: typed (the facade, every record decoded into its generated type and kept
/// until the measurement ends) and raw (the `userbatch` binary `bin`, each record written
/// as sent, secrets redacted, to /dev/null); beside what the records need, measured on the
/// very bytes the mock served: decoding each answer's array into the generated type (the
/// `decode` micro-benchmark) and finding its records and ids (the `split_and_ids` one). The
/// micro figures are the fastest of three passes over all the answers.
async fn costs(bin: &str, url: &str) {
    const N: usize = 10_000;
    let input = ids(N);
    let client = nexudus::Client::with_bearer(url, TOKEN).expect("client");
    let before = cpu_seconds();
    let report = Batch::new(nexudus::GetCoworkers::new(client.clone()))
        .concurrency(16)
        .fetch(&input)
        .await
        .expect("plan");
    let typed = cpu_seconds() - before;
    assert_eq!(report.found.len(), N, "the facade found every record");
    drop(report);

    let raw = cli_cpu(bin, url, N, &["--concurrency", "16"]);

    let plan = Batch::new(nexudus::GetCoworkers::new(client))
        .plan(&input)
        .expect("plan");
    let http = reqwest::Client::new();
    let mut bodies = Vec::new();
    for chunk in &plan.chunks {
        let ids = plan.ids.to_vec(chunk.clone()).join(",");
        let body = http
            .get(format!("{url}/api/spaces/coworkers/?id=[{ids}]"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("send")
            .bytes()
            .await
            .expect("body");
        bodies.push(body);
    }
    let rules = &nexudus::rules::GET_COWORKERS;
    let fastest = |pass: &dyn Fn() -> usize| {
        (0..3)
            .map(|_| {
                let before = cpu_seconds();
                assert_eq!(pass(), N, "every record");
                cpu_seconds() - before
            })
            .fold(f64::INFINITY, f64::min)
    };
    let decode = fastest(&|| {
        bodies
            .iter()
            .map(|b| {
                std::hint::black_box(
                    serde_json::from_slice::<Vec<nexudus::types::CoworkerSummary>>(b)
                        .expect("decode"),
                )
                .len()
            })
            .sum()
    });
    // Finding the records and their ids (the `split_and_ids` micro-benchmark's work); and
    // the engine's scan, which also checks that each record is valid JSON and finds its
    // secrets' values.
    let mut ids_only = rules.records.clone();
    ids_only.secrets = Default::default();
    let texts: Vec<&str> = bodies
        .iter()
        .map(|b| std::str::from_utf8(b).expect("UTF-8"))
        .collect();
    let scan = fastest(&|| {
        bodies
            .iter()
            .map(|b| {
                let found = userbatch::json::entries(b, &ids_only, rules.ids.kind);
                std::hint::black_box(found.expect("scan")).len()
            })
            .sum()
    });
    // The body's UTF-8 checked once, as the engine does, then the records cut from it.
    let engine_scan = fastest(&|| {
        bodies
            .iter()
            .map(|b| {
                let text = std::str::from_utf8(b).expect("UTF-8");
                let found = userbatch::json::checked_entries(text, &rules.records, rules.ids.kind);
                std::hint::black_box(found.expect("scan")).len()
            })
            .sum()
    });
    let checked = texts
        .iter()
        .flat_map(|t| {
            userbatch::json::checked_entries(t, &rules.records, rules.ids.kind).expect("scan")
        })
        .filter(|e| e.checked)
        .count();
    assert_eq!(checked, N, "the engine's scan checks every record");
    let us = |s: f64| s * 1e6 / N as f64;
    println!(
        "{}",
        json!({"scenario": "costs", "records": N, "typed_us": us(typed), "raw_us": us(raw),
               "decode_us": us(decode), "scan_us": us(scan), "engine_scan_us": us(engine_scan),
               "bytes_per_record": bodies.iter().map(|b| b.len()).sum::<usize>() / N})
    );
}

/// This process's user + system CPU seconds (getrusage, microsecond resolution).
fn cpu_seconds() -> f64 {
    rusage_seconds(libc::RUSAGE_SELF)
}

/// The user + system CPU seconds of this process's waited-for children.
fn children_cpu_seconds() -> f64 {
    rusage_seconds(libc::RUSAGE_CHILDREN)
}

fn rusage_seconds(who: libc::c_int) -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the pointer it is given.
    let usage = unsafe {
        assert_eq!(libc::getrusage(who, usage.as_mut_ptr()), 0, "getrusage");
        usage.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Peak resident set size of this process, in KiB (VmHWM).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// Facade and baseline in turn, `rounds` times each (which goes first alternates), in one
/// process: the ratio of the sums is paired, so drift in the machine's load hits both.
async fn cpu(url: &str, rounds: usize) {
    let input = ids(10_000);
    let (mut facade_s, mut baseline_s, mut per_record_s) = (0.0, 0.0, 0.0);
    for round in 0..rounds {
        let order = match round % 3 {
            0 => ["facade", "baseline", "per-record"],
            1 => ["baseline", "per-record", "facade"],
            _ => ["per-record", "facade", "baseline"],
        };
        for mode in order {
            // Each side's HTTP client is built outside the measurement (TLS setup alone
            // costs milliseconds).
            let client = nexudus::Client::with_bearer(url, TOKEN).expect("client");
            let http = reqwest::Client::new();
            let planner = Batch::new(nexudus::GetCoworkers::new(client.clone()));
            let before = cpu_seconds();
            // Both keep every record until the measurement ends, then free them outside it.
            let (report, records, kept) = match mode {
                "facade" => (
                    Some(
                        Batch::new(nexudus::GetCoworkers::new(client))
                            .fetch(&input)
                            .await
                            .expect("plan"),
                    ),
                    Vec::new(),
                    Vec::new(),
                ),
                "baseline" => (
                    None,
                    baseline(url, &http, &planner, &input).await,
                    Vec::new(),
                ),
                _ => (
                    None,
                    Vec::new(),
                    per_record(url, &http, &planner, &input).await,
                ),
            };
            let spent = cpu_seconds() - before;
            let found = report.map_or(records.len() + kept.len(), |r| r.found.len());
            assert_eq!(found, input.len(), "{mode} found every record");
            match mode {
                "facade" => facade_s += spent,
                "baseline" => baseline_s += spent,
                _ => per_record_s += spent,
            }
        }
    }
    println!(
        "{}",
        json!({"scenario": "cpu", "rounds": rounds, "facade_s": facade_s, "baseline_s": baseline_s,
               "per_record_s": per_record_s})
    );
}

/// The hand-written baseline: reqwest + serde_json, the same requests (the facade's plan,
/// computed inside the measurement), four at a time, decoded into the same generated type
/// and kept, as the facade's report keeps them.
async fn baseline(
    url: &str,
    http: &reqwest::Client,
    planner: &Batch<nexudus::GetCoworkers>,
    input: &[String],
) -> Vec<nexudus::types::CoworkerSummary> {
    let plan = planner.plan(input).expect("plan");
    let urls: Vec<String> = plan
        .chunks
        .iter()
        .map(|c| {
            format!(
                "{url}/api/spaces/coworkers/?id=[{}]",
                plan.ids.to_vec(c.clone()).join(",")
            )
        })
        .collect();
    futures_util::stream::iter(urls)
        .map(|u| {
            let req = http.get(u).bearer_auth(TOKEN);
            async move {
                let body = req.send().await.expect("send").bytes().await.expect("body");
                serde_json::from_slice::<Vec<nexudus::types::CoworkerSummary>>(&body)
                    .expect("decode")
            }
        })
        .buffer_unordered(4)
        .fold(Vec::new(), |mut all, records| async move {
            all.extend(records);
            all
        })
        .await
}

/// The same job as the facade by hand: the same requests, four at a time; each answer cut
/// into records (`serde_json` RawValues), each record's id read, each decoded on its own
/// and kept with its JSON as sent. What drift tolerance costs, without the facade.
async fn per_record(
    url: &str,
    http: &reqwest::Client,
    planner: &Batch<nexudus::GetCoworkers>,
    input: &[String],
) -> Vec<(
    String,
    nexudus::types::CoworkerSummary,
    Box<serde_json::value::RawValue>,
)> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        #[serde(rename = "Id")]
        id: i64,
    }
    let plan = planner.plan(input).expect("plan");
    let urls: Vec<String> = plan
        .chunks
        .iter()
        .map(|c| {
            format!(
                "{url}/api/spaces/coworkers/?id=[{}]",
                plan.ids.to_vec(c.clone()).join(",")
            )
        })
        .collect();
    futures_util::stream::iter(urls)
        .map(|u| {
            let req = http.get(u).bearer_auth(TOKEN);
            async move {
                let body = req.send().await.expect("send").bytes().await.expect("body");
                let list: Vec<&serde_json::value::RawValue> =
                    serde_json::from_slice(&body).expect("a list");
                list.into_iter()
                    .map(|raw| {
                        let id: IdOnly = serde_json::from_str(raw.get()).expect("an id");
                        let record = serde_json::from_str(raw.get()).expect("decode");
                        (id.id.to_string(), record, raw.to_owned())
                    })
                    .collect::<Vec<_>>()
            }
        })
        .buffer_unordered(4)
        .fold(Vec::new(), |mut all, records| async move {
            all.extend(records);
            all
        })
        .await
}

async fn stream(url: &str, n: usize) {
    let client = nexudus::Client::with_bearer(url, TOKEN).expect("client");
    userbatch::silence_partial_warnings(true);
    let mut outcomes = Batch::new(nexudus::GetCoworkers::new(client))
        .stream((1..=n).map(|i| i.to_string()))
        .expect("plan");
    let mut sink = std::io::sink();
    let mut found = 0usize;
    while let Some(outcome) = outcomes.next().await {
        if let userbatch::Outcome::Found(userbatch::FoundRecord { record, .. }) = outcome {
            serde_json::to_writer(&mut sink, &record).expect("write");
            sink.write_all(b"\n").expect("write");
            found += 1;
        }
    }
    println!(
        "{}",
        json!({"scenario": "stream", "name": format!("{n} coworkers"), "found": found, "peak_rss_kib": peak_rss_kib()})
    );
}

/// Requests per second the mock answers with raw reqwest and 16 in flight.
async fn mock_rate(url: &str) {
    let http = reqwest::Client::new();
    let rate = |paths: Vec<String>| {
        let http = http.clone();
        async move {
            let n = paths.len();
            let started = Instant::now();
            futures_util::stream::iter(paths)
                .map(|p| {
                    let req = http.get(p).bearer_auth(TOKEN);
                    async move {
                        req.send()
                            .await
                            .expect("send")
                            .bytes()
                            .await
                            .expect("body")
                            .len()
                    }
                })
                .buffer_unordered(16)
                .fold(0, |a, b| async move { a + b })
                .await;
            n as f64 / started.elapsed().as_secs_f64()
        }
    };
    let single = rate(
        (1..=5_000)
            .map(|i| format!("{url}/api/sys/users/{i}"))
            .collect(),
    )
    .await;
    let lists = rate(
        (0..500)
            .map(|i| {
                let ids: Vec<String> = (i * 100 + 1..=i * 100 + 100)
                    .map(|j| j.to_string())
                    .collect();
                format!("{url}/api/spaces/coworkers/?id=[{}]", ids.join(","))
            })
            .collect(),
    )
    .await;
    println!(
        "{}",
        json!({"scenario": "mockrate", "single_per_s": single, "coworker_lists_per_s": lists})
    );
}
