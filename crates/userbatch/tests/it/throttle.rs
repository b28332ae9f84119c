//! Throttling costs time, never ids: a rate-limited mock (a token bucket answering the
//! vendor's throttling status with `Retry-After`). Tokens that expire mid-run are in
//! `tokens`.
//!
//! Wall-time targets are the benchmark's (`cargo xtask bench`), not these tests': the
//! machines are shared. These check that nothing fails and how much was throttled.

use std::time::{Duration, Instant};

use userbatch::{Batch, Retry, nexudus};
use userbatch_mock::{Faults, LimitHeaders, MockConfig, MockServer, RateLimit, RetryAfter, Vendor};

use crate::support::ids;

async fn mock(config: MockConfig) -> MockServer {
    MockServer::start(config.log_requests(false)).await.unwrap()
}

/// A rate-limited run of `n` full Nexudus users (one request each): its report, wall time
/// and the bucket's floor ((n - burst) / rate).
async fn rate_limited(
    n: usize,
    limit: RateLimit,
    concurrency: usize,
) -> (userbatch::Report<nexudus::types::User>, Duration, Duration) {
    let m = mock(MockConfig::new().rate_limit(Vendor::Nexudus, limit)).await;
    let client = nexudus::Client::with_bearer(m.base_url(), "t").unwrap();
    let started = Instant::now();
    let report = Batch::new(nexudus::GetUser::new(client))
        .concurrency(concurrency)
        .fetch(ids(n))
        .await
        .unwrap();
    let wall = started.elapsed();
    let floor = Duration::from_secs_f64((n as f64 - f64::from(limit.burst)) / limit.per_second);
    assert_eq!(m.stats().total_requests(), report.requests);
    eprintln!(
        "{n} ids, {} req/s burst {}, {:?}, {:?}: {} requests, {} throttled ({:.0}%), paused {:?}, pace {:?}, wall {:?}, floor {:?} ({:.2}x)",
        limit.per_second,
        limit.burst,
        limit.retry_after,
        limit.headers,
        report.requests,
        report.throttled,
        100.0 * report.throttled as f64 / report.requests as f64,
        report.throttle_wait,
        report.pace,
        wall,
        floor,
        wall.as_secs_f64() / floor.as_secs_f64()
    );
    (report, wall, floor)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_run_loses_nothing_and_is_seldom_throttled() {
    let limit = RateLimit {
        retry_after: RetryAfter::WaitFractional,
        ..RateLimit::new(200.0, 10)
    };
    let (report, _, _) = rate_limited(1_000, limit, 16).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed.first());
    assert_eq!(report.found.len(), 1_000);
    assert!(
        report.throttled * 5 <= report.requests,
        "{} of {} answers throttled",
        report.throttled,
        report.requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_second_retry_afters_cost_time_not_ids() {
    // Nexudus' 409 with `Retry-After: 1`, 50 requests a second, burst 10, 8 in flight, 300
    // full users: a run that spends its retry budget on whole-second pauses fails most ids
    // ("the run's retry budget is spent"); every one must be found.
    let (report, _, _) = rate_limited(300, RateLimit::new(50.0, 10), 8).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed.first());
    assert_eq!(report.found.len(), 300);
    // The pace is what the vendor lets through, not what a second-long pause suggests: two
    // throttled bursts tell the bucket (the first its size, the next its rate), and the
    // run keeps under it after. Pacing by "successes over the last second, pauses
    // included" settled near half the rate, after four or more pauses.
    assert!(
        report.throttled * 10 <= report.requests,
        "{} of {} answers throttled",
        report.throttled,
        report.requests
    );
    // (One pause more than the two is allowed for a loaded machine.)
    assert!(
        report.throttle_wait <= Duration::from_millis(4_100),
        "paused {:?}",
        report.throttle_wait
    );
    let pace = report.pace.expect("a pace was learned");
    assert!(
        (30.0..=55.0).contains(&pace),
        "paced at {pace}/s against 50/s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_stated_in_headers_paces_from_the_first_answer() {
    // 4 in flight, under the burst: the first answers tell the limit, and the run keeps
    // under it without a throttle.
    for headers in [LimitHeaders::XRateLimit, LimitHeaders::Ietf] {
        let limit = RateLimit::new(50.0, 10).with_headers(headers);
        let (report, _, _) = rate_limited(200, limit, 4).await;
        assert!(report.failed.is_empty(), "{:?}", report.failed.first());
        assert_eq!(report.found.len(), 200);
        assert_eq!(report.throttled, 0, "{headers:?}");
        // 98% of the stated 50/s, or no pace at the end if more remained than 4 requests
        // could take.
        assert!(
            report.pace.is_none_or(|p| p == 49.0),
            "{headers:?}: {:?}",
            report.pace
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_as_an_http_date_costs_no_ids() {
    let limit = RateLimit {
        retry_after: RetryAfter::HttpDate(Duration::from_secs(1)),
        ..RateLimit::new(100.0, 10)
    };
    let (report, _, _) = rate_limited(300, limit, 8).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed.first());
    assert_eq!(report.found.len(), 300);
    assert!(report.throttled > 0 && report.throttle_wait > Duration::ZERO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_that_throttles_a_third_of_requests_costs_no_ids() {
    // Throttles at random, not by rate: 409 with Retry-After in seconds, 429 with it as a
    // date, and 503 bursts (with and without Retry-After).
    for (status, retry_after) in [
        (409, RetryAfter::Seconds(1)),
        (429, RetryAfter::HttpDate(Duration::from_secs(1))),
    ] {
        let faults = Faults {
            throttle: 0.3,
            throttle_status: Some(status),
            retry_after,
            server_errors: 0.05,
            server_error_statuses: vec![503],
            ..Faults::default()
        };
        let m = mock(MockConfig::new().faults(Vendor::Nexudus, faults)).await;
        let client = nexudus::Client::with_bearer(m.base_url(), "t").unwrap();
        let report = Batch::new(nexudus::GetUser::new(client))
            .concurrency(8)
            .retry(Retry {
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
                ..Retry::default()
            })
            .fetch(ids(10))
            .await
            .unwrap();
        assert!(
            report.failed.is_empty(),
            "{status}: {:?}",
            report.failed.first()
        );
        assert_eq!(report.found.len(), 10);
        assert!(report.throttled >= 2, "{status}: {}", report.throttled);
    }
}
