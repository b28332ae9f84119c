//! The state every handler shares ([`Shared`]): the config, the counters and log, the
//! records written, the faults scripted.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

use crate::access::{self, RateLimit};
use crate::config::{MockConfig, VENDORS};
use crate::drift::Drift;
use crate::faults::{self, Fault, Faults};
use crate::stats::{RequestRecord, Stats};
use crate::vendor::Vendor;
use crate::{data, timer};

/// A record as a PUT sent it.
pub(crate) type WrittenRecord = serde_json::Map<String, serde_json::Value>;

/// State shared by the handlers.
pub(crate) struct Shared {
    pub(crate) config: MockConfig,
    pub(crate) scripts: Mutex<[VecDeque<Option<Fault>>; VENDORS]>,
    pub(crate) seen: Mutex<HashMap<(Vendor, u64), u64>>,
    pub(crate) log: Mutex<Vec<RequestRecord>>,
    pub(crate) stats: Mutex<Stats>,
    pub(crate) seq: AtomicU64,
    pub(crate) in_flight: AtomicU64,
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) timer: timer::Timer,
    pub(crate) tokens: access::Tokens,
    pub(crate) buckets: Mutex<[Option<access::Bucket>; VENDORS]>,
    /// Records written by a PUT, by (schema key, id): later reads return them.
    pub(crate) written: Mutex<HashMap<(&'static str, String), WrittenRecord>>,
    /// When the server started.
    pub(crate) started: tokio::time::Instant,
}

impl Shared {
    /// The record a PUT wrote for `id` of the records `schema`, if any.
    pub(crate) fn written(&self, schema: &data::RecordSchema, id: &str) -> Option<WrittenRecord> {
        self.written
            .lock()
            .expect("written lock")
            .get(&(schema.key, id.to_owned()))
            .cloned()
    }

    /// The decision hash of a request (seed, request, how often it was seen before) and
    /// its delay.
    pub(crate) fn decision(&self, vendor: Vendor, fingerprint: &[u8]) -> (u64, Duration) {
        let faults = &self.config.faults[vendor.index()];
        let key = (vendor, data::hash_bytes(0, fingerprint));
        let nth = {
            let mut seen = self.seen.lock().expect("seen lock");
            let n = seen.entry(key).or_insert(0);
            *n += 1;
            *n - 1
        };
        let h = faults::decision(self.config.seed, vendor.name(), fingerprint, nth);
        (h, faults.delay(h))
    }

    /// The fault for a request that passed the vendor's checks: the next scripted step if
    /// any is left, else by rate.
    pub(crate) fn fault(&self, vendor: Vendor, h: u64) -> Option<Fault> {
        let scripted = self.scripts.lock().expect("script lock")[vendor.index()].pop_front();
        match scripted {
            Some(step) => step,
            None => self.config.faults[vendor.index()].roll(h),
        }
    }

    /// A request for a path no vendor has.
    pub(crate) fn unrouted(&self) {
        self.stats.lock().expect("stats lock").unrouted += 1;
    }

    /// A request answered with a redirect.
    pub(crate) fn redirected(&self) {
        self.stats.lock().expect("stats lock").redirected += 1;
    }

    /// How long after the server's start `at` is.
    pub(crate) fn since_start(&self, at: tokio::time::Instant) -> Duration {
        at.saturating_duration_since(self.started)
    }

    /// A request arrived; counts it in flight until [`Shared::record`].
    pub(crate) fn arrived(&self) {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        let mut stats = self.stats.lock().expect("stats lock");
        stats.max_in_flight = stats.max_in_flight.max(now);
    }

    pub(crate) fn faults(&self, vendor: Vendor) -> &Faults {
        &self.config.faults[vendor.index()]
    }

    pub(crate) fn drift(&self, vendor: Vendor) -> &Drift {
        &self.config.drift[vendor.index()]
    }

    /// A request against the vendor's rate limit, if it has one: the limit and what the
    /// request found.
    pub(crate) fn rate_limited(&self, vendor: Vendor) -> Option<(RateLimit, access::Taken)> {
        let limit = self.config.rate_limits[vendor.index()]?;
        let mut buckets = self.buckets.lock().expect("bucket lock");
        let bucket = buckets[vendor.index()].get_or_insert_with(|| access::Bucket::full(&limit));
        Some((limit, bucket.take(&limit)))
    }

    /// Whether a request's `Authorization` passes (see [`MockConfig::accept_tokens`]).
    pub(crate) fn authorized(&self, authorization: Option<&str>, schemes: &[&str]) -> bool {
        authorization
            .and_then(|v| v.split_once(' '))
            .is_some_and(|(scheme, credential)| {
                schemes.contains(&scheme)
                    && access::accepts(
                        &self.config.accepted_tokens,
                        self.config.oauth.as_ref(),
                        &self.tokens,
                        scheme,
                        credential,
                    )
            })
    }

    pub(crate) fn record(&self, mut record: RequestRecord) {
        record.seq = self.seq.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        {
            let mut stats = self.stats.lock().expect("stats lock");
            let s = stats.operations.entry(record.operation).or_default();
            s.requests += 1;
            s.ids += record.ids.len() as u64;
            s.max_ids_per_request = s.max_ids_per_request.max(record.ids.len() as u64);
            s.request_bytes += record.request_bytes as u64;
            s.response_bytes += record.response_bytes as u64;
            *s.statuses.entry(record.status).or_default() += 1;
        }
        if self.config.log_requests {
            self.log.lock().expect("log lock").push(record);
        }
    }

    /// Sleeps `d`, or less if the server is stopping. Returns false if it is stopping.
    pub(crate) async fn sleep(&self, d: Duration) -> bool {
        self.sleep_until(tokio::time::Instant::now() + d).await
    }

    /// Sleeps until `due`, or less if the server is stopping. Returns false if it is
    /// stopping.
    pub(crate) async fn sleep_until(&self, due: tokio::time::Instant) -> bool {
        if due <= tokio::time::Instant::now() {
            return !*self.shutdown.borrow();
        }
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            () = self.timer.sleep_until(due.into_std()) => !*self.shutdown.borrow(),
            _ = shutdown.wait_for(|stop| *stop) => false,
        }
    }
}

/// Status of a response cut short by the server stopping (or a hang that ran its course).
pub(crate) const HANG_STATUS_ON_STOP: u16 = 503;
