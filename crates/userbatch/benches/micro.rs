//! Micro-benchmarks: planning 10,000 ids, and decoding records, each decode beside
//! `serde_json::Value` decoding of the same bytes as the reference.
//! Run: `cargo bench -p userbatch --bench micro` (`cargo xtask bench` runs it too).

use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use userbatch::{Batch, nexudus, usermgr};

fn main() {
    divan::main();
}

fn ids() -> Vec<String> {
    (1..=10_000)
        .map(|i| (i * 7919 % 1_000_003).to_string())
        .collect()
}

fn nexudus_client() -> nexudus::Client {
    nexudus::Client::with_bearer("https://spaces.nexudus.com", "t").expect("client")
}

/// Dedupe, validate and chunk 10,000 ids by Nexudus' 2,048-byte query limit.
#[divan::bench]
fn plan_10k_nexudus(bencher: Bencher) {
    let batch = Batch::new(nexudus::GetUsers::new(nexudus_client()));
    let ids = ids();
    bencher
        .counter(ItemsCount::new(ids.len()))
        .bench_local(|| batch.plan(black_box(&ids)).expect("valid"));
}

/// The same for User Manager's 75 ids and 20,000-character path segment.
#[divan::bench]
fn plan_10k_usermgr(bencher: Bencher) {
    let client = usermgr::Client::with_bearer("https://um.example.com", "t").expect("client");
    let batch = Batch::new(usermgr::GetUsersByIds::new(client));
    let ids = ids();
    bencher
        .counter(ItemsCount::new(ids.len()))
        .bench_local(|| batch.plan(black_box(&ids)).expect("valid"));
}

/// Planning plus writing every request's ids as sent (`[1,2,...]`).
#[divan::bench]
fn plan_and_encode_10k_nexudus(bencher: Bencher) {
    let batch = Batch::new(nexudus::GetUsers::new(nexudus_client()));
    let ids = ids();
    bencher.counter(ItemsCount::new(ids.len())).bench_local(|| {
        let plan = batch.plan(black_box(&ids)).expect("valid");
        plan.chunks
            .iter()
            .map(|c| {
                let value = format!("[{}]", plan.ids.to_vec(c.clone()).join(","));
                nexudus::types::GetUsersId::try_from(value)
                    .expect("valid")
                    .len()
            })
            .sum::<usize>()
    });
}

/// `n` records: the docs' example with distinct ids, as one JSON array.
fn records(example: &str, n: usize) -> Vec<u8> {
    let one: serde_json::Value = serde_json::from_str(example).expect("example");
    let one = if let serde_json::Value::Array(mut a) = one {
        a.remove(0)
    } else {
        one
    };
    let list: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut r = one.clone();
            r["Id"] = serde_json::Value::from(i as i64 + 1);
            r
        })
        .collect();
    serde_json::to_vec(&list).expect("encode")
}

const SUMMARY: &str = include_str!("../../../tests/fixtures/nexudus-get-multiple-coworkers.json");
const USER_SUMMARY: &str = include_str!("../../../tests/fixtures/nexudus-get-multiple-users.json");
const FULL: &str = include_str!("../../../tests/fixtures/nexudus-get-one-user.json");

#[divan::bench]
fn decode_1000_coworker_summaries(bencher: Bencher) {
    let bytes = records(SUMMARY, 1000);
    bencher
        .counter(BytesCount::new(bytes.len()))
        .counter(ItemsCount::new(1000usize))
        .bench_local(|| {
            serde_json::from_slice::<Vec<nexudus::types::CoworkerSummary>>(black_box(&bytes))
                .expect("decode")
        });
}

/// What the engine does with an answer before decoding anything: the records found and
/// each one's id read, in one pass.
#[divan::bench]
fn split_and_ids_1000_coworker_summaries(bencher: Bencher) {
    let bytes = records(SUMMARY, 1000);
    let rules = &nexudus::rules::GET_COWORKERS;
    bencher
        .counter(BytesCount::new(bytes.len()))
        .counter(ItemsCount::new(1000usize))
        .bench_local(|| {
            userbatch::json::entries(black_box(&bytes), &rules.records, rules.ids.kind)
                .expect("split")
        });
}

/// What the command line adds per record it prints: the check that it is valid JSON.
#[divan::bench]
fn check_1000_coworker_summaries(bencher: Bencher) {
    let bytes = records(SUMMARY, 1000);
    let rules = &nexudus::rules::GET_COWORKERS;
    let entries = userbatch::json::entries(&bytes, &rules.records, rules.ids.kind).expect("split");
    let text = std::str::from_utf8(&bytes).expect("utf-8");
    bencher
        .counter(BytesCount::new(bytes.len()))
        .counter(ItemsCount::new(1000usize))
        .bench_local(|| {
            for e in &entries {
                userbatch::json::check(black_box(&text[e.span.clone()])).expect("valid");
            }
        });
}

/// What the engine does for a library caller: cut, read the ids, decode record by record.
#[divan::bench]
fn split_and_decode_each_1000_coworker_summaries(bencher: Bencher) {
    let bytes = records(SUMMARY, 1000);
    let rules = &nexudus::rules::GET_COWORKERS;
    bencher
        .counter(BytesCount::new(bytes.len()))
        .counter(ItemsCount::new(1000usize))
        .bench_local(|| {
            let entries =
                userbatch::json::entries(black_box(&bytes), &rules.records, rules.ids.kind)
                    .expect("split");
            entries
                .into_iter()
                .map(|e| {
                    let text = std::str::from_utf8(&bytes[e.span]).expect("utf-8");
                    userbatch::json::decode::<nexudus::types::CoworkerSummary, _>(
                        text,
                        &rules.records.secrets,
                    )
                    .expect("decode")
                })
                .collect::<Vec<_>>()
        });
}

#[divan::bench]
fn decode_1000_coworker_summaries_as_value(bencher: Bencher) {
    let bytes = records(SUMMARY, 1000);
    bencher
        .counter(BytesCount::new(bytes.len()))
        .counter(ItemsCount::new(1000usize))
        .bench_local(|| {
            serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).expect("decode")
        });
}

#[divan::bench]
fn decode_1000_full_users(bencher: Bencher) {
    let bytes = records(FULL, 1000);
    bencher
        .counter(BytesCount::new(bytes.len()))
        .counter(ItemsCount::new(1000usize))
        .bench_local(|| {
            serde_json::from_slice::<Vec<nexudus::types::User>>(black_box(&bytes)).expect("decode")
        });
}

#[divan::bench]
fn decode_1000_full_users_as_value(bencher: Bencher) {
    let bytes = records(FULL, 1000);
    bencher
        .counter(BytesCount::new(bytes.len()))
        .counter(ItemsCount::new(1000usize))
        .bench_local(|| {
            serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).expect("decode")
        });
}

#[divan::bench]
fn decode_1000_user_summaries(bencher: Bencher) {
    let bytes = records(USER_SUMMARY, 1000);
    bencher
        .counter(BytesCount::new(bytes.len()))
        .counter(ItemsCount::new(1000usize))
        .bench_local(|| {
            serde_json::from_slice::<Vec<nexudus::types::UserSummary>>(black_box(&bytes))
                .expect("decode")
        });
}

/// The engine's way with user summaries: find, read ids, decode record by record.
#[divan::bench]
fn split_and_decode_each_1000_user_summaries(bencher: Bencher) {
    let bytes = records(USER_SUMMARY, 1000);
    let rules = &nexudus::rules::GET_USERS;
    bencher
        .counter(BytesCount::new(bytes.len()))
        .counter(ItemsCount::new(1000usize))
        .bench_local(|| {
            let entries =
                userbatch::json::entries(black_box(&bytes), &rules.records, rules.ids.kind)
                    .expect("split");
            entries
                .into_iter()
                .map(|e| {
                    let text = std::str::from_utf8(&bytes[e.span]).expect("utf-8");
                    userbatch::json::decode::<nexudus::types::UserSummary, _>(
                        text,
                        &rules.records.secrets,
                    )
                    .expect("decode")
                })
                .collect::<Vec<_>>()
        });
}
