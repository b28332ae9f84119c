//! Unit tests of `pace`.

use super::*;

/// Requests every `every` into a bucket of `burst` refilled at `rate`, from full: the
/// successes' send times and the first throttled request's.
fn bucket(burst: f64, rate: f64, every: Duration) -> (Instant, Vec<Instant>, Instant) {
    let start = Instant::now();
    let (mut tokens, mut sent) = (burst, Vec::new());
    for i in 1.. {
        let at = start + every * i;
        tokens = (tokens + rate * every.as_secs_f64()).min(burst);
        if tokens < 1.0 {
            return (start, sent, at);
        }
        tokens -= 1.0;
        sent.push(at);
    }
    unreachable!()
}

#[test]
fn a_bucket_drawn_on_faster_than_it_refills_tells_its_rate() {
    for (burst, rate, every_ms) in [(10.0, 200.0, 2.5), (10.0, 50.0, 10.0), (100.0, 5.0, 100.0)] {
        let (start, sent, at) = bucket(burst, rate, Duration::from_secs_f64(every_ms / 1e3));
        let learned = estimate(start, burst, burst, &sent, at).unwrap();
        assert!(
            learned >= rate && learned <= rate * 1.1,
            "{rate}/s burst {burst}: learned {learned}"
        );
    }
}

#[test]
fn a_stated_limit_paces_only_when_little_remains() {
    let at = Instant::now();
    let pace = Pace::new(16, None);
    // 5,000 an hour, 4,990 left: no pace.
    let hourly = |remaining: f64| Stated {
        limit: Some(5000.0),
        remaining: Some(remaining),
        reset: Some(Duration::from_secs(1800)),
        window: Some(Duration::from_secs(3600)),
    };
    pace.stated(hourly(4990.0), at);
    assert_eq!(pace.stats().rate, None);
    // 20 left, 5 sent since: 15 is not more than 16 in flight could take.
    pace.stated(hourly(20.0), at);
    pace.lock()
        .turns
        .extend((1..=5).map(|ms| at + Duration::from_millis(ms)));
    let rate = pace.stats().rate.unwrap();
    assert!(
        (rate - 5000.0 / 3600.0 * STATED_MARGIN).abs() < 1e-9,
        "{rate}"
    );
}

#[test]
fn a_throttle_the_bucket_cannot_explain_tells_no_rate() {
    let start = Instant::now();
    let sent: Vec<Instant> = (1..=3)
        .map(|i| start + Duration::from_millis(10 * i))
        .collect();
    // Three successes from a bucket of ten: a throttle then is not the bucket's.
    assert_eq!(
        estimate(start, 10.0, 10.0, &sent, start + Duration::from_millis(40)),
        None
    );
    // Too short a stretch to tell.
    assert_eq!(
        estimate(
            start,
            1.0,
            10.0,
            &sent[..1],
            start + Duration::from_millis(11)
        ),
        None
    );
}
