//! What a run shares between its requests: [`Exec`], its settings and counters, and what
//! it knows of the requests' health.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytestring::ByteString;
use userbatch_core::Operation;
use userbatch_core::json::Entry;

use crate::engine::policy::Retry;
use crate::engine::report::{Progress, ProgressFn};
use crate::engine::stop::Stopper;
use crate::error::FetchError;
use crate::pace::Pace;

/// One page of an answer: its body and, for each record in it, where it is and its id.
pub(in crate::engine) struct Page {
    pub(in crate::engine) body: ByteString,
    pub(in crate::engine) records: Vec<Entry>,
    pub(in crate::engine) total: Option<u64>,
}

/// What the run has learned about its requests (as opposed to its ids), shared by all of
/// them.
#[derive(Debug, Default)]
pub(in crate::engine) struct Health {
    /// Some answer was one the spec documents and trusted (a success answer of the
    /// documented media type and shape, with records of ids asked for or none, nothing
    /// unrequested or unreadable): the requests reach the vendor, and a documented
    /// not-found answer is its word.
    pub(in crate::engine) proven: bool,
    /// The last answer requests failed with, and how many in a row got it (a trusted
    /// answer in between starts over).
    pub(in crate::engine) strikes: Option<(FetchError, u32)>,
    /// Attempts in a row that got no answer at all (the connection failed, or timed out),
    /// since when, and whether one of them was a retry.
    pub(in crate::engine) silent: u32,
    pub(in crate::engine) silent_since: Option<Instant>,
    pub(in crate::engine) silent_retried: bool,
    /// The run is at fault, not its ids: every id left fails with this, and no more
    /// requests are sent.
    pub(in crate::engine) fault: Option<FetchError>,
}

/// Requests that fail with the same answer before any answer proved the requests sound,
/// after which that answer is taken to be the request's own (a wrong tenant, a base URL
/// that a gateway does not route, a token without the role) and the run stops sending.
pub(in crate::engine) const STRIKES: u32 = 3;

/// The same, once the requests were proven sound: this many failures alike in a row,
/// without a trusted answer between (a role revoked mid-run, a gateway gone wrong).
pub(in crate::engine) const STRIKES_PROVEN: u32 = 10;

/// Attempts in a row without an answer (connection refused or reset, timed out), one of
/// them a retry, after which the run stops sending, before any answer proved the requests
/// sound.
pub(in crate::engine) const SILENT_BEFORE_AN_ANSWER: u32 = 3;

/// Once the requests were proven sound, the run stops only after at least
/// `max(10, 2 x concurrency)` attempts in a row without an answer, over at least this long:
/// a vendor that restarts for a few seconds costs time, not ids.
pub(in crate::engine) const SILENT_AFTER_AN_ANSWER: Duration = Duration::from_secs(30);

pub(in crate::engine) struct Exec<O: Operation> {
    pub(in crate::engine) op: Arc<O>,
    /// Requests in flight at the vendor (a slot is taken before a request is sent and
    /// given back once its response has been received in full, before it is decoded), and
    /// the run's pace under throttling.
    pub(in crate::engine) pace: Arc<Pace>,
    pub(in crate::engine) concurrency: usize,
    pub(in crate::engine) throttle_patience: Duration,
    pub(in crate::engine) retry: Retry,
    pub(in crate::engine) budget: AtomicI64,
    pub(in crate::engine) request_timeout: Option<Duration>,
    pub(in crate::engine) deadline: Option<Instant>,
    pub(in crate::engine) max_response_bytes: usize,
    pub(in crate::engine) requests: AtomicU64,
    pub(in crate::engine) unexpected: AtomicU64,
    pub(in crate::engine) done: AtomicU64,
    pub(in crate::engine) total: usize,
    pub(in crate::engine) progress: Option<ProgressFn>,
    pub(in crate::engine) jitter: AtomicU64,
    /// What the run knows of its requests: sound, suspect, or at fault.
    pub(in crate::engine) health: Mutex<Health>,
    /// Held while one request's failure is probed (is it an id's, or the request's?):
    /// other failures wait for the verdict instead of probing too.
    pub(in crate::engine) probing: tokio::sync::Mutex<()>,
    /// True while a probe runs before the requests are proven sound: new requests wait.
    pub(in crate::engine) hold: tokio::sync::watch::Sender<bool>,
    /// True while, before any answer proved the requests sound, an attempt got no answer
    /// at all: new requests wait while the retries find out whether the vendor answers.
    pub(in crate::engine) quiet: tokio::sync::watch::Sender<bool>,
    /// Requests sent and not yet answered.
    pub(in crate::engine) in_flight: tokio::sync::watch::Sender<usize>,
    /// True once the run stopped sending ([`Health::fault`]): requests waiting for their
    /// turn fail at once instead of when it comes.
    pub(in crate::engine) ended: tokio::sync::watch::Sender<bool>,
    /// Told to stop from outside.
    pub(in crate::engine) stopper: Stopper,
}

/// One request in [`Exec::in_flight`], until it is answered or dropped.
pub(in crate::engine) struct Flying<'a> {
    pub(in crate::engine) count: &'a tokio::sync::watch::Sender<usize>,
    /// When the request was sent (its turn), for the pace.
    pub(in crate::engine) sent: tokio::time::Instant,
}

impl<'a> Flying<'a> {
    pub(in crate::engine) fn new(
        count: &'a tokio::sync::watch::Sender<usize>,
        sent: tokio::time::Instant,
    ) -> Self {
        count.send_modify(|n| *n += 1);
        Self { count, sent }
    }
}

impl Drop for Flying<'_> {
    fn drop(&mut self) {
        self.count.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Releases [`Exec::hold`] when the probe ends, also when it is dropped midway.
pub(in crate::engine) struct Held<'a>(pub(in crate::engine) &'a tokio::sync::watch::Sender<bool>);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.send_replace(false);
    }
}

impl<O: Operation> Exec<O> {
    pub(in crate::engine) fn progress(&self, n: usize) {
        let done = self.done.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if let Some(f) = &self.progress {
            let pace = self.pace.stats();
            f(Progress {
                done: usize::try_from(done).unwrap_or(usize::MAX),
                total: self.total,
                requests: self.requests.load(Ordering::Relaxed),
                throttled: pace.throttled,
                rate: pace.rate,
            });
        }
    }

    /// Waits while a probe decides whether the run's requests are at fault, or retries
    /// whether the vendor answers at all ([`Exec::quiet`]).
    pub(in crate::engine) async fn held(&self) {
        let (mut hold, mut quiet) = (self.hold.subscribe(), self.quiet.subscribe());
        // The senders live as long as `self`: `wait_for` cannot fail while it waits.
        loop {
            let _ = hold.wait_for(|held| !*held).await;
            let _ = quiet.wait_for(|quiet| !*quiet).await;
            if !*self.hold.borrow() && !*self.quiet.borrow() {
                return;
            }
        }
    }

    /// Why a throttled run ends: how long it went without progress.
    pub(in crate::engine) fn stalled_for(&self) -> String {
        format!(
            "throttled for {}s without progress (the patience)",
            self.throttle_patience.as_secs_f64()
        )
    }

    /// Full jitter: uniform in [0, min(max_delay, base * 2^(attempt-1))].
    pub(in crate::engine) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.retry.base_delay.saturating_mul(
            1u32.checked_shl(attempt.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        let cap = exp.min(self.retry.max_delay);
        let r = splitmix(
            self.jitter
                .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed),
        );
        cap.mul_f64((r >> 11) as f64 / (1u64 << 53) as f64)
    }
}

pub(in crate::engine) fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    splitmix(nanos ^ (std::process::id() as u64) << 32)
}

pub(in crate::engine) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
