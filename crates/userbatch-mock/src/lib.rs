//! An embedded mock of every vendor API in `specs/`, for the CLI's `--mock`, the examples,
//! the tests and the benchmarks: no vendor account, no network, real HTTP.
//!
//! One server on `127.0.0.1:<free port>` answers every batch operation of every spec (and
//! the update operations they link), from the spec alone, with:
//!
//! - **Deterministic data for any id**, derived from a seed and shaped by the specs'
//!   schemas. Ids can be declared missing ([`MockConfig::missing_ids`],
//!   [`MockConfig::missing_if`]).
//! - **The vendors' rules**, enforced as the real services would (see [`vendors`]): the
//!   limits of each spec's `x-userbatch` (too many ids, a segment or query string too
//!   long), ids written otherwise than the spec says, credentials of the schemes its
//!   `securitySchemes` name, parameters as declared (required, `enum`, `Accept`),
//!   attributes, paging, unknown ids left out or failing the request
//!   ([`UnknownIdAnswer`]), and what the rules cannot say from `x-userbatch-mock`
//!   (an IIS-style HTML 414, the vendor's own record order).
//! - **Fault injection** per vendor ([`Faults`]): latency (each answer leaves that long
//!   after its request arrived, the mock's own work included, to within about 0.2 ms)
//!   and jitter, throttling with
//!   `Retry-After` in seconds or as an HTTP date, 5xx, hangs, connections closed
//!   mid-response, truncated JSON, HTML error pages; by rate (reproducible by seed) or by
//!   script.
//! - **Rate limits** per vendor ([`RateLimit`]): a token bucket answering the vendor's
//!   throttling status with `Retry-After` (whole or fractional seconds, or a date), and,
//!   if asked, rate-limit headers on every answer ([`LimitHeaders`]: `X-RateLimit-*` or
//!   the IETF draft's `RateLimit`/`RateLimit-Policy`).
//! - **A request log and counters** ([`MockServer::log`], [`MockServer::stats`]).
//!
//! Starting and stopping costs about 0.2 ms; on loopback (client in the same process) one
//! mock answers about 36,000 single-record requests/s and 2,200 to 3,300 requests/s of 100
//! Nexudus coworker summaries (up to 1.1 GB/s; runs vary that much on a shared 2-core
//! machine), and with 20 ms of injected latency
//! it answers 16 requests in flight at 774 requests/s (the floor is 800) and 256 in flight
//! at 12,000 requests/s. Measure on your machine with
//! `cargo run --release -p userbatch-mock --example throughput`.
//!
//! # Example
//!
//! ```
//! use userbatch_mock::{MockConfig, MockServer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let mock = MockServer::start(MockConfig::new().seed(7).missing_ids(["3"])).await?;
//!
//! let client = nexudus::Client::with_bearer(mock.base_url(), "any-token").unwrap();
//! let ids = nexudus::types::GetUsersId::try_from("[1,2,3]".to_string()).unwrap();
//! let answer = nexudus::receive(client.get_users(&ids).await, 1 << 20).await.unwrap();
//! let op = &nexudus::rules::GET_USERS;
//! let users = answer.records::<nexudus::types::UserSummary>(&op.records, op.ids.kind).unwrap();
//! let mut found: Vec<i64> = users.into_iter().map(|u| u.value.unwrap().id).collect();
//! found.sort();
//! assert_eq!(found, [1, 2]); // 3 is missing
//!
//! let stats = mock.stats();
//! assert_eq!(stats.operation("getUsers").requests, 1);
//! assert_eq!(stats.operation("getUsers").ids, 3);
//! mock.stop().await;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod access;
mod config;
mod data;
mod drift;
mod faults;
mod timer;
#[rustfmt::skip]
mod vendor;
pub mod vendors;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use access::{LimitHeaders, OAuthClient, RateLimit};
use config::VENDORS;
pub use config::{MockConfig, UnknownIdAnswer};
pub use drift::{Drift, Replacement};
pub use faults::{Fault, Faults, RetryAfter};
pub use vendor::Vendor;

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One request as the mock saw and answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Arrival order, from 0.
    pub seq: u64,
    /// The vendor API.
    pub vendor: Vendor,
    /// The spec's `operationId`.
    pub operation: &'static str,
    /// The ids the request named, as sent (decoded), duplicates included.
    pub ids: Vec<String>,
    /// Bytes of path, query and body as sent.
    pub request_bytes: usize,
    /// The answer's status.
    pub status: u16,
    /// Bytes of the answer's body (as much as was sent).
    pub response_bytes: usize,
    /// The fault injected, if any.
    pub fault: Option<Fault>,
    /// When it arrived, from the server's start.
    pub arrived: Duration,
}

/// Counters of one operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationStats {
    /// Requests received.
    pub requests: u64,
    /// Ids named, summed over requests (duplicates included).
    pub ids: u64,
    /// Most ids named by one request.
    pub max_ids_per_request: u64,
    /// Bytes of path, query and body received.
    pub request_bytes: u64,
    /// Bytes of response bodies sent.
    pub response_bytes: u64,
    /// Responses by status.
    pub statuses: BTreeMap<u16, u64>,
}

/// Counters of every operation, by `operationId`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Per operation.
    pub operations: BTreeMap<&'static str, OperationStats>,
    /// Most requests the server was answering at once (over every vendor).
    pub max_in_flight: u64,
    /// Requests to the token endpoint.
    pub token_requests: u64,
    /// Requests for a path no vendor has (answered with an HTML 404 page).
    pub unrouted: u64,
    /// Requests answered with a redirect ([`MockConfig::redirect_to`]).
    pub redirected: u64,
}

impl Stats {
    /// The counters of one operation (zero if it saw no request).
    pub fn operation(&self, operation_id: &str) -> OperationStats {
        self.operations
            .get(operation_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Requests over every operation, for paths no vendor has, and redirected.
    pub fn total_requests(&self) -> u64 {
        self.operations.values().map(|s| s.requests).sum::<u64>() + self.unrouted + self.redirected
    }
}

/// A record as a PUT sent it.
pub(crate) type WrittenRecord = serde_json::Map<String, serde_json::Value>;

/// State shared by the handlers.
pub(crate) struct Shared {
    pub(crate) config: MockConfig,
    scripts: Mutex<[VecDeque<Option<Fault>>; VENDORS]>,
    seen: Mutex<HashMap<(Vendor, u64), u64>>,
    log: Mutex<Vec<RequestRecord>>,
    stats: Mutex<Stats>,
    seq: AtomicU64,
    in_flight: AtomicU64,
    pub(crate) shutdown: watch::Receiver<bool>,
    timer: timer::Timer,
    pub(crate) tokens: access::Tokens,
    buckets: Mutex<[Option<access::Bucket>; VENDORS]>,
    /// Records written by a PUT, by (schema key, id): later reads return them.
    pub(crate) written: Mutex<HashMap<(&'static str, String), WrittenRecord>>,
    /// When the server started.
    started: tokio::time::Instant,
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

/// A running mock. Stop it with [`MockServer::stop`]; dropping it stops it too, in the
/// background.
pub struct MockServer {
    addr: SocketAddr,
    base_url: String,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Starts a mock on `127.0.0.1` at a free port.
    pub async fn start(config: MockConfig) -> io::Result<Self> {
        Self::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a mock on `addr` (use port 0 for a free port).
    pub async fn start_on(config: MockConfig, addr: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, shutdown) = watch::channel(false);
        let scripts = std::array::from_fn(|i| config.faults[i].script.iter().copied().collect());
        let shared = Arc::new(Shared {
            config,
            scripts: Mutex::new(scripts),
            seen: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            stats: Mutex::new(Stats::default()),
            seq: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            shutdown: shutdown.clone(),
            timer: timer::Timer::start()?,
            tokens: access::Tokens::default(),
            buckets: Mutex::new(std::array::from_fn(|_| None)),
            written: Mutex::new(HashMap::new()),
            started: tokio::time::Instant::now(),
        });
        // Compile the schemas now, not inside the first request.
        let _ = &*vendors::generic::SPECS;
        let app = vendors::router(Arc::clone(&shared));
        let mut signal = shutdown;
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = signal.wait_for(|stop| *stop).await;
                })
                .await
        });
        Ok(Self {
            addr,
            base_url: format!("http://{addr}"),
            shared,
            stop,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:<port>`: the base URL for every vendor client.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        let mut stats = self.shared.stats.lock().expect("stats lock").clone();
        stats.token_requests = self
            .shared
            .tokens
            .requests
            .load(std::sync::atomic::Ordering::Relaxed);
        stats
    }

    /// The request log so far (empty if logging is off).
    pub fn log(&self) -> Vec<RequestRecord> {
        self.shared.log.lock().expect("log lock").clone()
    }

    /// Stops accepting, ends hanging and delayed responses, waits for open connections to
    /// close, and releases the port.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Status of a response cut short by the server stopping (or a hang that ran its course).
pub(crate) const HANG_STATUS_ON_STOP: u16 = 503;
