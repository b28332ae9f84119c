//! Fault injection: what can go wrong with a request, and when it does.

use std::time::Duration;

use crate::data::{hash_bytes, splitmix, unit};

/// One thing that can go wrong with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The vendor's throttling status (the first of its spec's
    /// `x-userbatch.throttle-statuses`) with a `Retry-After` header.
    Throttle,
    /// A server error with this status (500, 502, 503 or 504).
    ServerError(u16),
    /// No answer until [`Faults::hang_for`] has passed (or the server stops): longer than
    /// any sane client timeout.
    Hang,
    /// Status and headers, part of the body, then the connection is closed.
    Disconnect,
    /// A 200 whose JSON body is cut in half (`Content-Length` matches what is sent).
    Truncate,
    /// An HTML error page (`text/html`) with this status, as proxies and load balancers
    /// send: 200 or 502.
    Html(u16),
    /// A 200 whose records are other ids' (one per id asked for), as from a vendor that
    /// did not understand the id filter; a get-one answer carries another id's record.
    IgnoreFilter,
    /// A 200 with the records asked for and two more whose ids were not asked for.
    ExtraRecords,
    /// The usual 200 and JSON body, labelled `Content-Type: text/html`, as from a gateway
    /// or a web framework that labels every answer so.
    MislabelledJson,
    /// The vendor's own error answer (its error body) with this status, as for a request
    /// it refuses whatever its ids: a wrong tenant (404), a token without the role (403).
    Refused(u16),
}

/// How `Retry-After` is written on a throttled response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`.
    Seconds(u64),
    /// `Retry-After: <HTTP date>`, this long after the response.
    HttpDate(Duration),
    /// The wait until a request can pass ([`crate::access::RateLimit`]), in whole seconds rounded
    /// up, as most servers write it (`1` for anything under a second); 1 for faults.
    Wait,
    /// The wait until a request can pass, in seconds with three decimals (`0.005`), as
    /// some APIs write it; 1 for faults.
    WaitFractional,
}

impl RetryAfter {
    /// The header value, for a wait of `wait` (what a rate limit knows).
    pub(crate) fn header(self, wait: Duration) -> String {
        match self {
            Self::Seconds(s) => s.to_string(),
            Self::HttpDate(d) => httpdate::fmt_http_date(std::time::SystemTime::now() + d),
            Self::Wait => wait.as_secs_f64().ceil().max(1.0).to_string(),
            Self::WaitFractional => format!("{:.3}", wait.as_secs_f64().max(0.001)),
        }
    }
}

impl Default for RetryAfter {
    fn default() -> Self {
        Self::Seconds(1)
    }
}

/// The faults one vendor injects. Rates are probabilities per request (their sum at most
/// 1), decided by a hash of the seed, the request and how often that same request was seen
/// before: a run is reproducible even when requests arrive in a different order, and a
/// retried request gets a fresh decision.
///
/// ```
/// use std::time::Duration;
/// use userbatch_mock::{Fault, Faults, RetryAfter};
///
/// let faults = Faults {
///     latency: Duration::from_millis(20),
///     throttle: 0.05,
///     retry_after: RetryAfter::Seconds(1),
///     server_errors: 0.05,
///     // The first request fails with 503, the second goes through, the third is throttled.
///     script: vec![Some(Fault::ServerError(503)), None, Some(Fault::Throttle)],
///     ..Faults::default()
/// };
/// assert_eq!(faults.server_error_statuses, [500, 502, 503, 504]);
/// ```
#[derive(Debug, Clone)]
pub struct Faults {
    /// Every response leaves this long after its request arrived (the mock's own work
    /// included).
    pub latency: Duration,
    /// A further delay, uniform in `[0, jitter)`, per request.
    pub jitter: Duration,
    /// Rate of [`Fault::Throttle`].
    pub throttle: f64,
    /// The `Retry-After` of throttled responses.
    pub retry_after: RetryAfter,
    /// Throttling status; `None` uses the vendor's own (its spec's first throttle status).
    pub throttle_status: Option<u16>,
    /// Rate of [`Fault::ServerError`].
    pub server_errors: f64,
    /// Statuses [`Fault::ServerError`] picks from, evenly.
    pub server_error_statuses: Vec<u16>,
    /// Rate of [`Fault::Hang`].
    pub hang: f64,
    /// How long a hang lasts (the server's stop ends it early).
    pub hang_for: Duration,
    /// Rate of [`Fault::Disconnect`].
    pub disconnect: f64,
    /// Rate of [`Fault::Truncate`].
    pub truncate: f64,
    /// Rate of [`Fault::Html`].
    pub html: f64,
    /// Status of [`Fault::Html`] pages chosen by rate.
    pub html_status: u16,
    /// Rate of [`Fault::IgnoreFilter`].
    pub ignore_filter: f64,
    /// Rate of [`Fault::ExtraRecords`].
    pub extra_records: f64,
    /// Rate of [`Fault::MislabelledJson`].
    pub mislabelled: f64,
    /// Rate of [`Fault::Refused`].
    pub refused: f64,
    /// Statuses [`Fault::Refused`] picks from, evenly.
    pub refused_statuses: Vec<u16>,
    /// Faults for the first requests this vendor receives, in arrival order, before any
    /// rate applies; `None` entries let a request through. For tests that need a precise
    /// script.
    pub script: Vec<Option<Fault>>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            throttle: 0.0,
            retry_after: RetryAfter::default(),
            throttle_status: None,
            server_errors: 0.0,
            server_error_statuses: vec![500, 502, 503, 504],
            hang: 0.0,
            hang_for: Duration::from_secs(300),
            disconnect: 0.0,
            truncate: 0.0,
            html: 0.0,
            html_status: 502,
            ignore_filter: 0.0,
            extra_records: 0.0,
            mislabelled: 0.0,
            refused: 0.0,
            refused_statuses: vec![403, 404],
            script: Vec::new(),
        }
    }
}

impl Faults {
    /// No faults, this latency.
    pub fn latency(latency: Duration) -> Self {
        Self {
            latency,
            ..Self::default()
        }
    }

    /// The delay for a request with this decision hash.
    pub(crate) fn delay(&self, h: u64) -> Duration {
        if self.jitter.is_zero() {
            return self.latency;
        }
        self.latency + self.jitter.mul_f64(unit(splitmix(h ^ 0x6a09_e667)))
    }

    /// The rate-based fault, if any, for a request with this decision hash.
    pub(crate) fn roll(&self, h: u64) -> Option<Fault> {
        let r = unit(h);
        let pick = splitmix(h ^ 0xbb67_ae85);
        let mut edge = 0.0;
        let mut hit = |rate: f64| {
            edge += rate;
            r < edge
        };
        if hit(self.throttle) {
            return Some(Fault::Throttle);
        }
        if hit(self.server_errors) && !self.server_error_statuses.is_empty() {
            let i = (pick % self.server_error_statuses.len() as u64) as usize;
            return Some(Fault::ServerError(self.server_error_statuses[i]));
        }
        if hit(self.hang) {
            return Some(Fault::Hang);
        }
        if hit(self.disconnect) {
            return Some(Fault::Disconnect);
        }
        if hit(self.truncate) {
            return Some(Fault::Truncate);
        }
        if hit(self.html) {
            return Some(Fault::Html(self.html_status));
        }
        if hit(self.ignore_filter) {
            return Some(Fault::IgnoreFilter);
        }
        if hit(self.extra_records) {
            return Some(Fault::ExtraRecords);
        }
        if hit(self.mislabelled) {
            return Some(Fault::MislabelledJson);
        }
        if hit(self.refused) && !self.refused_statuses.is_empty() {
            let i = (pick % self.refused_statuses.len() as u64) as usize;
            return Some(Fault::Refused(self.refused_statuses[i]));
        }
        None
    }
}

/// The decision hash for the `nth` sighting of a request with this fingerprint.
pub(crate) fn decision(seed: u64, vendor: &str, fingerprint: &[u8], nth: u64) -> u64 {
    splitmix(hash_bytes(seed ^ hash_bytes(0, vendor.as_bytes()), fingerprint) ^ splitmix(nth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_spreads_delays_within_its_bounds() {
        let faults = Faults {
            latency: Duration::from_millis(20),
            jitter: Duration::from_millis(10),
            ..Faults::default()
        };
        let delays: Vec<Duration> = (0..200).map(|i| faults.delay(splitmix(i))).collect();
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_millis(20) && *d < Duration::from_millis(30))
        );
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(
            distinct.len() > 150,
            "jitter should vary the delay: {}",
            distinct.len()
        );
        let mean = delays.iter().sum::<Duration>() / 200;
        assert!(
            mean > Duration::from_millis(23) && mean < Duration::from_millis(27),
            "{mean:?}"
        );
        assert_eq!(
            Faults::latency(Duration::from_millis(5)).delay(1),
            Duration::from_millis(5)
        );
    }

    #[test]
    fn rates_add_up_in_order_and_zero_means_never() {
        let none = Faults::default();
        assert!((0..1000).all(|i| none.roll(splitmix(i)).is_none()));
        let faults = Faults {
            throttle: 0.25,
            server_errors: 0.25,
            truncate: 0.25,
            ..Faults::default()
        };
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            match faults.roll(splitmix(i)) {
                Some(Fault::Throttle) => counts[0] += 1,
                Some(Fault::ServerError(s)) => {
                    assert!([500, 502, 503, 504].contains(&s));
                    counts[1] += 1
                }
                Some(Fault::Truncate) => counts[2] += 1,
                None => counts[3] += 1,
                Some(other) => panic!("{other:?} has rate 0"),
            }
        }
        for c in counts {
            assert!((850..1150).contains(&c), "{counts:?}");
        }
    }
}
