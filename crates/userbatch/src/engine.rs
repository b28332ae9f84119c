//! The batch engine: plan, execute, reassemble, report. One generic piece of code; each
//! vendor operation plugs in through [`Operation`], and its limits, where its records are
//! and which field names them come from the spec.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use tracing::Instrument;
use tracing::instrument::WithSubscriber;
use userbatch_core::json::{self, Entry, IdError, RecordError};
use userbatch_core::{
    DEFAULT_MAX_RESPONSE_BYTES, Operation, PageRequest, RawRecord, RawResult, Received, rules,
};

use crate::error::{ErrorKind, FetchError, from_receive};
use crate::pace::{Pace, Stop};
use userbatch_core::plan::{IdList, Plan, PlanError, Planner};

/// An operation whose records are not decoded into the generated type, only checked to be
/// valid JSON: each found id comes with its record exactly as the vendor sent it
/// ([`FoundRecord::raw`]) and `()` as the typed record. What the
/// `userbatch` command line uses: it writes the vendor's JSON as is, so a record whose
/// fields drifted from the spec's types is still delivered (use the operation itself to
/// have such records fail their ids instead, naming the field).
///
/// ```
/// # let client = userbatch::nexudus::Client::with_bearer("https://spaces.nexudus.com", "t").unwrap();
/// use userbatch::{Batch, Raw, nexudus};
/// let batch = Batch::new(Raw(nexudus::GetUsers::new(client)));
/// # let _ = batch;
/// ```
#[derive(Debug, Clone)]
pub struct Raw<O>(pub O);

impl<O: Operation> Operation for Raw<O> {
    type Record = ();

    fn rules(&self) -> &'static rules::OperationRules {
        self.0.rules()
    }

    fn vendor(&self) -> &'static rules::VendorRules {
        self.0.vendor()
    }

    fn single_id(&self) -> bool {
        self.0.single_id()
    }

    fn check(&self) -> Result<(), PlanError> {
        self.0.check()
    }

    fn page_size(&self) -> u32 {
        self.0.page_size()
    }

    fn send(
        &self,
        ids: &[String],
        page: Option<PageRequest>,
    ) -> impl Future<Output = RawResult> + Send {
        self.0.send(ids, page)
    }

    /// Checks that the record is valid JSON (finding records does not parse their values).
    fn decode(&self, record: &str) -> Result<(), RecordError> {
        json::check(record)
    }

    fn scrubber(&self) -> userbatch_core::Scrubber {
        self.0.scrubber()
    }
}

/// What happened to one id (or, for failures, to the ids of one request).
#[derive(Debug, PartialEq)]
pub enum Outcome<R> {
    /// The vendor returned this record for this id.
    Found(FoundRecord<R>),
    /// The vendor said it does not have the id, the documented way: left out of a success
    /// answer that could have carried it, or the documented not-found answer to a request
    /// for it alone. Never for any other answer.
    Missing(String),
    /// No answer could be had for these ids.
    Failed(FailedIds),
}

/// A record found for an id: decoded, and as the vendor sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundRecord<R> {
    /// The id as the input spelled it (its first spelling, for ids the vendor compares
    /// equal: `007` and `7`).
    pub id: String,
    /// The record, decoded into its generated type.
    pub record: R,
    /// The record exactly as the vendor sent it: fields the spec does not know, `null`s and
    /// key order included. Its `Debug` shows only its size.
    pub raw: RawRecord,
}

/// Ids that failed together, with their error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedIds {
    /// The ids, in input order.
    pub ids: Vec<String>,
    /// Why.
    pub error: FetchError,
}

/// The account of a whole run: every unique requested id is in exactly one of `found`,
/// `missing`, `failed`; each list is in first-seen input order.
#[derive(Debug, Clone, PartialEq)]
pub struct Report<R> {
    /// Records found, with their ids.
    pub found: Vec<FoundRecord<R>>,
    /// Ids the vendor said it does not have ([`Outcome::Missing`]).
    pub missing: Vec<String>,
    /// Ids no answer could be had for.
    pub failed: Vec<FailedIds>,
    /// Unique ids requested.
    pub requested: usize,
    /// Input ids that repeated an earlier one (they cost nothing).
    pub duplicates: usize,
    /// Records the vendor sent whose id was not asked for in their request (ignored, and
    /// counted here: a vendor that does not apply the id filter shows up as a large number).
    pub unexpected: u64,
    /// HTTP requests sent, retries and pages included.
    pub requests: u64,
    /// Answers that throttled the run (the vendor's throttling statuses, 429, 503 with
    /// `Retry-After`). They cost time, not ids: see [`crate::Batch::throttle_patience`].
    pub throttled: u64,
    /// How long the run paused for `Retry-After`, all told.
    pub throttle_wait: Duration,
    /// The pace requests started at when the run ended, in requests a second, if one was in
    /// effect (see [`Progress::rate`]): what the run learned of the vendor's rate limit.
    pub pace: Option<f64>,
    /// The error that made the run stop sending, if one did: an answer the run's requests
    /// got whatever their ids (refused credentials, a wrong tenant, a base URL a gateway
    /// does not route, a token without the role, a host that does not answer). Every id
    /// it left fails with it.
    pub run_error: Option<FetchError>,
}

impl<R> Report<R> {
    /// The records, in input order.
    pub fn records(&self) -> impl Iterator<Item = &R> {
        self.found.iter().map(|f| &f.record)
    }

    /// Whether every id was found or reported missing (none failed).
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }

    /// Number of failed ids.
    pub fn failed_ids(&self) -> usize {
        self.failed.iter().map(|f| f.ids.len()).sum()
    }
}

/// Ids resolved so far, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Unique ids resolved (found, missing or failed).
    pub done: usize,
    /// Unique ids in the run.
    pub total: usize,
    /// Requests sent so far.
    pub requests: u64,
    /// Throttled answers so far (they are waited out, not counted as failures).
    pub throttled: u64,
    /// The pace requests start at, in requests a second, while one is in effect: after
    /// the vendor throttled or stated its limit in headers, or under
    /// [`crate::Batch::max_rate`]. `None`: as fast as the concurrency allows.
    pub rate: Option<f64>,
}

type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// How far a run has been told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stopping {
    No,
    /// No new requests or retries; requests in flight are answered.
    NoNewRequests,
    /// Requests in flight are abandoned too.
    Abort,
}

/// Stops a run from outside its stream, e.g. on Ctrl-C ([`BatchStream::stopper`]). Cheap to
/// clone, `Send + Sync`. Stopping never loses an id: every id the run has not answered
/// comes out of the stream as failed with [`ErrorKind::Interrupted`], after the records
/// already received, and the stream ends soon after.
///
/// ```no_run
/// # async fn run(batch: userbatch::Batch<userbatch::nexudus::GetUsers>) -> Result<(), userbatch::PlanError> {
/// let mut stream = batch.stream(["1", "2", "3"])?;
/// let stopper = stream.stopper();
/// tokio::spawn(async move {
///     // Or on `tokio::signal::ctrl_c()`, as the `userbatch` command line does.
///     tokio::time::sleep(std::time::Duration::from_secs(60)).await;
///     stopper.stop();
///     tokio::time::sleep(std::time::Duration::from_secs(5)).await;
///     stopper.abort();
/// });
/// while let Some(outcome) = stream.next().await {
///     // Found and missing ids as usual; the rest fail as `ErrorKind::Interrupted`.
///     # let _ = outcome;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Stopper(Arc<tokio::sync::watch::Sender<Stopping>>);

impl Stopper {
    fn new() -> Self {
        Self(Arc::new(tokio::sync::watch::Sender::new(Stopping::No)))
    }

    /// Sends no more requests and no retries: ids whose request has not gone out fail with
    /// [`ErrorKind::Interrupted`] at once; requests in flight are answered and their
    /// records arrive as usual.
    pub fn stop(&self) {
        self.raise(Stopping::NoNewRequests);
    }

    /// [`Stopper::stop`], and abandons the requests in flight too: their ids fail with
    /// [`ErrorKind::Interrupted`].
    pub fn abort(&self) {
        self.raise(Stopping::Abort);
    }

    /// Whether [`Stopper::stop`] or [`Stopper::abort`] was called.
    pub fn is_stopped(&self) -> bool {
        self.level() > Stopping::No
    }

    fn raise(&self, to: Stopping) {
        self.0.send_if_modified(|level| {
            let raise = *level < to;
            if raise {
                *level = to;
            }
            raise
        });
    }

    fn level(&self) -> Stopping {
        *self.0.borrow()
    }

    /// Returns once the run is stopped at least to `level`.
    async fn reached(&self, level: Stopping) {
        let mut watch = self.0.subscribe();
        if watch.wait_for(|l| *l >= level).await.is_err() {
            // The sender lives as long as `self`: unreachable, but never a busy loop.
            std::future::pending::<()>().await;
        }
    }

    /// `work`'s output, unless the run is stopped first.
    async fn unless_stopped<T>(&self, work: impl Future<Output = T>) -> Result<T, FetchError> {
        tokio::select! {
            biased;
            () = self.reached(Stopping::NoNewRequests) => Err(FetchError::new(ErrorKind::Interrupted)),
            value = work => Ok(value),
        }
    }
}

/// Retry policy: exponential backoff with full jitter, `Retry-After` honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts per request, the first included (1 = no retries).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time.
    pub base_delay: Duration,
    /// Cap of one backoff.
    pub max_delay: Duration,
    /// Longest `Retry-After` to wait; a longer one fails the request instead.
    pub max_retry_after: Duration,
    /// Retries allowed in the whole run, on top of one per planned request's first
    /// attempt; `None` is `10 + planned requests / 5`.
    pub budget: Option<u64>,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            budget: None,
        }
    }
}

impl Retry {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }
}

/// A configured batch fetch over one operation. Cheap to clone; reusable.
pub struct Batch<O: Operation> {
    op: Arc<O>,
    concurrency: usize,
    max_batch: Option<usize>,
    retry: Retry,
    request_timeout: Option<Duration>,
    deadline: Option<Duration>,
    max_response_bytes: usize,
    max_rate: Option<f64>,
    throttle_patience: Duration,
    progress: Option<ProgressFn>,
}

/// Default [`Batch::throttle_patience`]: 5 minutes.
pub const DEFAULT_THROTTLE_PATIENCE: Duration = Duration::from_secs(300);

impl<O: Operation> Clone for Batch<O> {
    fn clone(&self) -> Self {
        Self {
            op: Arc::clone(&self.op),
            concurrency: self.concurrency,
            max_batch: self.max_batch,
            retry: self.retry,
            request_timeout: self.request_timeout,
            deadline: self.deadline,
            max_response_bytes: self.max_response_bytes,
            max_rate: self.max_rate,
            throttle_patience: self.throttle_patience,
            progress: self.progress.clone(),
        }
    }
}

impl<O: Operation> fmt::Debug for Batch<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("operation", &self.op.rules().operation_id)
            .field("concurrency", &self.concurrency)
            .field("max_batch", &self.max_batch)
            .field("retry", &self.retry)
            .field("request_timeout", &self.request_timeout)
            .field("deadline", &self.deadline)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_rate", &self.max_rate)
            .field("throttle_patience", &self.throttle_patience)
            .finish_non_exhaustive()
    }
}

/// Default number of requests in flight.
pub const DEFAULT_CONCURRENCY: usize = 4;

impl<O: Operation> Batch<O> {
    /// A batch over `op` with the defaults: 4 requests in flight, the vendor's limits,
    /// [`Retry::default`], the client's own timeout, no deadline, responses of at most
    /// [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub fn new(op: O) -> Self {
        Self {
            op: Arc::new(op),
            concurrency: DEFAULT_CONCURRENCY,
            max_batch: None,
            retry: Retry::default(),
            request_timeout: None,
            deadline: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_rate: None,
            throttle_patience: DEFAULT_THROTTLE_PATIENCE,
            progress: None,
        }
    }

    /// Requests in flight at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// At most this many ids per request; may only lower the vendor's limit (checked when
    /// planning).
    pub fn max_batch(mut self, n: usize) -> Self {
        self.max_batch = Some(n);
        self
    }

    /// The retry policy.
    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// A timeout per attempt, on top of the client's own.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// A deadline for the whole run, from its start: ids not resolved by then fail with
    /// [`ErrorKind::Deadline`].
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The most bytes one response body may have (at least 1). A longer body is not read
    /// past the cap: its request is split in halves and sent again, down to single ids,
    /// which fail with [`ErrorKind::TooLarge`].
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes.max(1);
        self
    }

    /// At most this many requests per second, from the start (for vendors whose limits
    /// are known). Without it the run still slows down when the vendor throttles it, and
    /// speeds up again as its answers come back. A rate that is not a positive finite
    /// number is ignored; one under 0.001 (a request every 1,000 s) is taken as 0.001.
    pub fn max_rate(mut self, per_second: f64) -> Self {
        self.max_rate = Some(per_second);
        self
    }

    /// How long a run may go without a single answer that is not throttled, while the
    /// vendor throttles it (whatever its throttling status, with `Retry-After` or without),
    /// before the ids left fail with [`ErrorKind::Throttled`] (default 5 minutes). Throttled
    /// answers never spend the retry budget or a request's attempts; only this, and the
    /// deadline, end a throttled run.
    pub fn throttle_patience(mut self, patience: Duration) -> Self {
        self.throttle_patience = patience;
        self
    }

    /// Called as ids are resolved (after each request's ids are accounted for).
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The operation.
    pub fn operation(&self) -> &O {
        &self.op
    }

    fn shape(&self) -> Result<Planner, PlanError> {
        let rules = self.op.rules();
        let max_batch = match (self.max_batch, &rules.paging) {
            (Some(n), _) => Some(n),
            // Paged operations: one page per request when every id exists.
            (None, Some(_)) => Some(self.op.page_size().max(1) as usize),
            (None, None) => None,
        };
        let mut planner = Planner::new(rules);
        if let Some(max) = max_batch {
            planner = planner.max_batch(max)?;
        }
        if self.op.single_id() {
            planner = planner.single_id();
        }
        Ok(planner)
    }

    /// Checks the operation's parameters, then dedupes, validates and chunks `ids`, without
    /// sending anything.
    pub fn plan<I, S>(&self, ids: I) -> Result<Plan, PlanError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.op.check()?;
        self.shape()?.plan(ids)
    }

    /// Fetches every id and reports on each.
    ///
    /// Each request runs as a task on the current tokio runtime, so decoding responses
    /// spreads over its worker threads; the concurrency limit counts requests until their
    /// response has been received in full.
    pub async fn fetch<I, S>(&self, ids: I) -> Result<Report<O::Record>, PlanError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let run = self.start(ids)?;
        let (requested, duplicates) = (run.requested, run.duplicates);
        let exec = Arc::clone(&run.exec);
        let mut report = Report {
            found: Vec::new(),
            missing: Vec::new(),
            failed: Vec::new(),
            requested,
            duplicates,
            unexpected: 0,
            requests: 0,
            throttled: 0,
            throttle_wait: Duration::ZERO,
            pace: None,
            run_error: None,
        };
        // Most ids are usually found: room for them up front saves copying each record
        // (about 2 KB for a summary) whenever the vector grows. At most 32 MiB is
        // reserved, in case most are not found.
        let most = (32 << 20) / std::mem::size_of::<FoundRecord<O::Record>>().max(1);
        report.found.reserve(requested.min(most));
        let mut requests = std::pin::pin!(run.into_requests());
        while let Some(outcomes) = requests.next().await {
            for outcome in outcomes {
                match outcome {
                    Outcome::Found(found) => report.found.push(found),
                    Outcome::Missing(id) => report.missing.push(id),
                    Outcome::Failed(failure) => report.failed.push(failure),
                }
            }
        }
        report.requests = exec.requests.load(Ordering::Relaxed);
        report.unexpected = exec.unexpected.load(Ordering::Relaxed);
        let pace = exec.pace.stats();
        report.throttled = pace.throttled;
        report.throttle_wait = pace.waited;
        report.pace = pace.rate;
        report.run_error = exec.fault();
        Ok(report)
    }

    /// The results as a stream, in first-seen input order, with memory bounded by a few
    /// requests' worth of records. The ids themselves are held for the run, since every id
    /// is validated before the first request: one [`IdList`] (about 11 bytes per
    /// seven-digit id). [`BatchStream::requests`] counts the requests so far.
    ///
    /// Poll it inside a tokio runtime: requests run as tasks on it, as with
    /// [`Batch::fetch`]. Dropping the stream aborts the requests it started.
    pub fn stream<I, S>(&self, ids: I) -> Result<BatchStream<O::Record>, PlanError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let run = self.start(ids)?;
        let exec = Arc::clone(&run.exec);
        let stopper = run.exec.stopper.clone();
        let (requested, duplicates) = (run.requested, run.duplicates);
        Ok(BatchStream {
            inner: Box::pin(run.into_stream()),
            exec,
            stopper,
            requested,
            duplicates,
        })
    }

    fn start<I, S>(&self, ids: I) -> Result<Run<O>, PlanError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let plan = self.plan(ids)?;
        let budget = self
            .retry
            .budget
            .unwrap_or(10 + plan.chunks.len() as u64 / 5);
        let exec = Arc::new(Exec {
            op: Arc::clone(&self.op),
            pace: Pace::new(self.concurrency, self.max_rate),
            concurrency: self.concurrency,
            throttle_patience: self.throttle_patience,
            retry: self.retry,
            budget: AtomicI64::new(i64::try_from(budget).unwrap_or(i64::MAX)),
            request_timeout: self.request_timeout,
            // A deadline too far to be told from none (it would overflow) is none.
            deadline: self.deadline.and_then(|d| Instant::now().checked_add(d)),
            max_response_bytes: self.max_response_bytes,
            requests: AtomicU64::new(0),
            unexpected: AtomicU64::new(0),
            done: AtomicU64::new(0),
            total: plan.ids.len(),
            progress: self.progress.clone(),
            jitter: AtomicU64::new(seed()),
            health: Mutex::new(Health::default()),
            probing: tokio::sync::Mutex::new(()),
            hold: tokio::sync::watch::Sender::new(false),
            quiet: tokio::sync::watch::Sender::new(false),
            in_flight: tokio::sync::watch::Sender::new(0),
            ended: tokio::sync::watch::Sender::new(false),
            stopper: Stopper::new(),
        });
        Ok(Run {
            requested: plan.ids.len(),
            duplicates: plan.duplicates,
            ids: Arc::new(plan.ids),
            chunks: plan.chunks,
            exec,
            window: self.concurrency * 2,
        })
    }
}

/// The stream of a run: [`Outcome`]s in first-seen input order.
pub struct BatchStream<R> {
    inner: std::pin::Pin<Box<dyn Stream<Item = Outcome<R>> + Send>>,
    exec: Arc<dyn Counters>,
    stopper: Stopper,
    requested: usize,
    duplicates: usize,
}

impl<R> BatchStream<R> {
    /// The next outcome, in input order; `None` when every id has one. (The same as
    /// [`futures_util::StreamExt::next`], without needing that trait in scope.)
    pub async fn next(&mut self) -> Option<Outcome<R>> {
        futures_util::StreamExt::next(self).await
    }

    /// HTTP requests sent so far.
    pub fn requests(&self) -> u64 {
        self.exec.requests()
    }

    /// A handle that stops this run from elsewhere (a signal handler, a timer) while the
    /// stream is read; see [`Stopper`].
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Records received so far whose id was not asked for (see [`Report::unexpected`]).
    pub fn unexpected(&self) -> u64 {
        self.exec.unexpected()
    }

    /// Throttled answers so far (see [`Report::throttled`]).
    pub fn throttled(&self) -> u64 {
        self.exec.pace_stats().throttled
    }

    /// How long the run has paused for `Retry-After` so far.
    pub fn throttle_wait(&self) -> Duration {
        self.exec.pace_stats().waited
    }

    /// The error that made the run stop sending, if one did (see [`Report::run_error`]).
    pub fn run_error(&self) -> Option<FetchError> {
        self.exec.run_error()
    }

    /// The pace requests start at now, in requests a second, if one is in effect (see
    /// [`Progress::rate`]).
    pub fn pace(&self) -> Option<f64> {
        self.exec.pace_stats().rate
    }

    /// Unique ids in the run.
    pub fn requested(&self) -> usize {
        self.requested
    }

    /// Input ids that repeated an earlier one.
    pub fn duplicates(&self) -> usize {
        self.duplicates
    }
}

impl<R> fmt::Debug for BatchStream<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchStream")
            .field("requested", &self.requested)
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

impl<R> Stream for BatchStream<R> {
    type Item = Outcome<R>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

trait Counters: Send + Sync {
    fn requests(&self) -> u64;
    fn unexpected(&self) -> u64;
    fn pace_stats(&self) -> crate::pace::PaceStats;
    fn run_error(&self) -> Option<FetchError>;
}

impl<O: Operation> Counters for Exec<O> {
    fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn unexpected(&self) -> u64 {
        self.unexpected.load(Ordering::Relaxed)
    }

    fn pace_stats(&self) -> crate::pace::PaceStats {
        self.pace.stats()
    }

    fn run_error(&self) -> Option<FetchError> {
        self.fault()
    }
}

struct Run<O: Operation> {
    /// The unique ids, and each request's share of them, in order.
    ids: Arc<IdList>,
    chunks: Vec<Range<usize>>,
    requested: usize,
    duplicates: usize,
    exec: Arc<Exec<O>>,
    window: usize,
}

impl<O: Operation> Run<O> {
    fn into_stream(self) -> impl Stream<Item = Outcome<O::Record>> + Send + 'static {
        self.into_requests().flat_map(stream::iter)
    }

    /// Each request's outcomes, in order.
    fn into_requests(self) -> impl Stream<Item = Vec<Outcome<O::Record>>> + Send + 'static {
        let Run {
            ids,
            chunks,
            exec,
            window,
            ..
        } = self;
        let settling = Arc::clone(&exec);
        let outcomes = stream::iter(chunks)
            .map(move |range| {
                let exec = Arc::clone(&exec);
                let ids = Arc::clone(&ids);
                // Each request is its own task, so decoding responses (most of the CPU a run
                // costs) spreads over the runtime's worker threads. The caller's span and
                // subscriber go with it.
                let task = async move {
                    let n = range.len();
                    let outcomes = tokio::select! {
                        biased;
                        () = exec.stopper.reached(Stopping::Abort) => {
                            failed(ids.to_vec(range), FetchError::new(ErrorKind::Interrupted))
                        }
                        outcomes = exec.resolve(ids.to_vec(range.clone())) => outcomes,
                    };
                    exec.progress(n);
                    outcomes
                }
                .instrument(tracing::Span::current())
                .with_current_subscriber();
                Task(tokio::spawn(task))
            })
            .buffered(window);
        settle_unproven(outcomes, settling)
    }
}

/// A spawned request task, aborted when dropped (a dropped stream stops its requests); a
/// panic inside it resumes in the caller.
struct Task<T>(tokio::task::JoinHandle<T>);

impl<T> Future for Task<T> {
    type Output = T;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<T> {
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|joined| match joined {
                Ok(value) => value,
                Err(error) => match error.try_into_panic() {
                    Ok(panic) => std::panic::resume_unwind(panic),
                    // Only `drop` aborts the task; otherwise only a runtime shutting down
                    // cancels it, and then there is no one left to report to.
                    Err(error) => panic!(
                        "a userbatch request task was cancelled \
                         (is its tokio runtime shutting down?): {error}"
                    ),
                },
            })
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn failed<R>(ids: Vec<String>, error: FetchError) -> Vec<Outcome<R>> {
    vec![Outcome::Failed(FailedIds { ids, error })]
}

/// Adds a failure for `id`, merged into the last outcome if that failed with the same error.
fn push_failed<R>(out: &mut Vec<Outcome<R>>, id: String, error: FetchError) {
    match out.last_mut() {
        Some(Outcome::Failed(last)) if last.error == error => last.ids.push(id),
        _ => out.push(Outcome::Failed(FailedIds {
            ids: vec![id],
            error,
        })),
    }
}

/// A documented not-found answer that cannot count as "missing": nothing proved the run's
/// requests reach the vendor.
fn unproven(mut error: FetchError) -> FetchError {
    if error.kind == ErrorKind::NotFound {
        error.kind = ErrorKind::Unproven;
    }
    error
}

/// The run's outcomes, in order, with each provisional "not found" ([`Exec::resolve`])
/// settled: missing once an answer proved the requests reach the vendor, failed as
/// [`ErrorKind::Unproven`] if none has by the end of the run or when it stops. Until then
/// the outcomes from there on are held back (they hold no record: a record found proves
/// the requests), while the requests after them go on.
fn settle_unproven<O: Operation>(
    outcomes: impl Stream<Item = Vec<Outcome<O::Record>>> + Send + 'static,
    exec: Arc<Exec<O>>,
) -> impl Stream<Item = Vec<Outcome<O::Record>>> + Send + 'static {
    let provisional = |chunk: &Vec<Outcome<O::Record>>| {
        chunk
            .iter()
            .any(|o| matches!(o, Outcome::Failed(f) if f.error.kind == ErrorKind::NotFound))
    };
    let state = (
        Box::pin(outcomes),
        std::collections::VecDeque::new(),
        false,
        exec,
    );
    stream::unfold(
        state,
        move |(mut outcomes, mut held, mut ended, exec)| async move {
            loop {
                if let Some(front) = held.front() {
                    let proven = exec.is_proven();
                    if !provisional(front) || proven || ended || exec.fault().is_some() {
                        let chunk: Vec<Outcome<O::Record>> = held.pop_front()?;
                        let mut out = Vec::with_capacity(chunk.len());
                        for outcome in chunk {
                            match outcome {
                                Outcome::Failed(f) if f.error.kind == ErrorKind::NotFound => {
                                    if proven {
                                        out.extend(f.ids.into_iter().map(Outcome::Missing));
                                    } else {
                                        let error = unproven(f.error);
                                        for id in f.ids {
                                            push_failed(&mut out, id, error.clone());
                                        }
                                    }
                                }
                                other => out.push(other),
                            }
                        }
                        return Some((out, (outcomes, held, ended, exec)));
                    }
                }
                match outcomes.next().await {
                    Some(chunk) => held.push_back(chunk),
                    None if held.is_empty() => return None,
                    None => ended = true,
                }
            }
        },
    )
}

/// One id failed with `error`.
fn one_failed<R>(id: &str, error: &FetchError) -> Outcome<R> {
    Outcome::Failed(FailedIds {
        ids: vec![id.to_owned()],
        error: error.clone(),
    })
}

/// The outcomes with each failure of several ids as one failure per id, in order.
fn one_per_id<R>(outcomes: Vec<Outcome<R>>) -> Vec<Outcome<R>> {
    let mut out = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        match outcome {
            Outcome::Failed(failure) => {
                for id in failure.ids {
                    out.push(one_failed(&id, &failure.error));
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The `Content-Type` of an answer, if it has a readable one.
fn content_type(received: &Received) -> Option<&str> {
    received
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

/// What an answer that is not what the spec documents carried, in a few words (never its
/// text: a body may hold anything).
fn describe(content_type: Option<&str>, body: &[u8]) -> &'static str {
    let text = body.trim_ascii();
    let media = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if text.is_empty() {
        "an empty body"
    } else if media == "text/html" || media == "application/xhtml+xml" || text.starts_with(b"<") {
        "an HTML page"
    } else if serde_json::from_slice::<serde::de::IgnoredAny>(text).is_ok() {
        "JSON without a message"
    } else {
        "a body that is not JSON"
    }
}

/// `b` after `a`, merging a failure at the seam with an equal one before it.
fn append<R>(a: &mut Vec<Outcome<R>>, b: Vec<Outcome<R>>) {
    let mut b = b.into_iter();
    if let Some(first) = b.next() {
        match (a.last_mut(), first) {
            (Some(Outcome::Failed(last)), Outcome::Failed(next)) if last.error == next.error => {
                last.ids.extend(next.ids);
            }
            (_, other) => a.push(other),
        }
    }
    a.extend(b);
}

/// One page of an answer: its body and, for each record in it, where it is and its id.
struct Page {
    body: Bytes,
    records: Vec<Entry>,
    total: Option<u64>,
}

/// What the run has learned about its requests (as opposed to its ids), shared by all of
/// them.
#[derive(Debug, Default)]
struct Health {
    /// Some answer was one the spec documents and trusted (a success answer of the
    /// documented media type and shape, with records of ids asked for or none, nothing
    /// unrequested or unreadable): the requests reach the vendor, and a documented
    /// not-found answer is its word.
    proven: bool,
    /// The last answer requests failed with, and how many in a row got it (a trusted
    /// answer in between starts over).
    strikes: Option<(FetchError, u32)>,
    /// Attempts in a row that got no answer at all (the connection failed, or timed out),
    /// since when, and whether one of them was a retry.
    silent: u32,
    silent_since: Option<Instant>,
    silent_retried: bool,
    /// The run is at fault, not its ids: every id left fails with this, and no more
    /// requests are sent.
    fault: Option<FetchError>,
}

/// Requests that fail with the same answer before any answer proved the requests sound,
/// after which that answer is taken to be the request's own (a wrong tenant, a base URL
/// that a gateway does not route, a token without the role) and the run stops sending.
const STRIKES: u32 = 3;

/// The same, once the requests were proven sound: this many failures alike in a row,
/// without a trusted answer between (a role revoked mid-run, a gateway gone wrong).
const STRIKES_PROVEN: u32 = 10;

/// Attempts in a row without an answer (connection refused or reset, timed out), one of
/// them a retry, after which the run stops sending, before any answer proved the requests
/// sound.
const SILENT_BEFORE_AN_ANSWER: u32 = 3;

/// Once the requests were proven sound, the run stops only after at least
/// `max(10, 2 x concurrency)` attempts in a row without an answer, over at least this long:
/// a vendor that restarts for a few seconds costs time, not ids.
const SILENT_AFTER_AN_ANSWER: Duration = Duration::from_secs(30);

struct Exec<O: Operation> {
    op: Arc<O>,
    /// Requests in flight at the vendor (a slot is taken before a request is sent and
    /// given back once its response has been received in full, before it is decoded), and
    /// the run's pace under throttling.
    pace: Arc<Pace>,
    concurrency: usize,
    throttle_patience: Duration,
    retry: Retry,
    budget: AtomicI64,
    request_timeout: Option<Duration>,
    deadline: Option<Instant>,
    max_response_bytes: usize,
    requests: AtomicU64,
    unexpected: AtomicU64,
    done: AtomicU64,
    total: usize,
    progress: Option<ProgressFn>,
    jitter: AtomicU64,
    /// What the run knows of its requests: sound, suspect, or at fault.
    health: Mutex<Health>,
    /// Held while one request's failure is probed (is it an id's, or the request's?):
    /// other failures wait for the verdict instead of probing too.
    probing: tokio::sync::Mutex<()>,
    /// True while a probe runs before the requests are proven sound: new requests wait.
    hold: tokio::sync::watch::Sender<bool>,
    /// True while, before any answer proved the requests sound, an attempt got no answer
    /// at all: new requests wait while the retries find out whether the vendor answers.
    quiet: tokio::sync::watch::Sender<bool>,
    /// Requests sent and not yet answered.
    in_flight: tokio::sync::watch::Sender<usize>,
    /// True once the run stopped sending ([`Health::fault`]): requests waiting for their
    /// turn fail at once instead of when it comes.
    ended: tokio::sync::watch::Sender<bool>,
    /// Told to stop from outside.
    stopper: Stopper,
}

/// One request in [`Exec::in_flight`], until it is answered or dropped.
struct Flying<'a> {
    count: &'a tokio::sync::watch::Sender<usize>,
    /// When the request was sent (its turn), for the pace.
    sent: tokio::time::Instant,
}

impl<'a> Flying<'a> {
    fn new(count: &'a tokio::sync::watch::Sender<usize>, sent: tokio::time::Instant) -> Self {
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
struct Held<'a>(&'a tokio::sync::watch::Sender<bool>);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.send_replace(false);
    }
}

impl<O: Operation> Exec<O> {
    fn progress(&self, n: usize) {
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

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The error that stopped the run, if one did.
    fn fault(&self) -> Option<FetchError> {
        self.health().fault.clone()
    }

    fn is_proven(&self) -> bool {
        self.health().proven
    }

    /// An answer the spec documents, trusted, arrived: the requests reach the vendor.
    fn prove(&self) {
        let mut health = self.health();
        health.proven = true;
        health.strikes = None;
    }

    /// The run is at fault, not its ids (the credentials are refused, TLS fails, every
    /// request gets one answer): every id left fails with the first such error, and no
    /// more requests are sent. Returns that error.
    fn fail_run(&self, error: &FetchError) -> FetchError {
        let fault = self.set_fault(error);
        // Requests waiting to be sent are let go: they fail with this at once.
        self.quiet.send_replace(false);
        self.ended.send_replace(true);
        fault
    }

    /// The run's fault: the first error given, which later ones do not replace.
    fn set_fault(&self, error: &FetchError) -> FetchError {
        let mut health = self.health();
        health
            .fault
            .get_or_insert_with(|| {
                tracing::warn!(
                    operation = &*self.op.rules().operation_id,
                    "the run stops sending; every id left fails with: {error}"
                );
                error.clone()
            })
            .clone()
    }

    /// A request got `error`, which may be the request's own rather than its ids': the
    /// same answer to [`STRIKES`] requests before any answer proved the requests sound (to
    /// [`STRIKES_PROVEN`] in a row after), stops the run with it. Returns what the request's
    /// ids fail with.
    fn strike(&self, error: FetchError) -> FetchError {
        let counts = matches!(
            error.kind,
            ErrorKind::Status
                | ErrorKind::ContentType
                | ErrorKind::Redirect
                | ErrorKind::Decode
                | ErrorKind::Malformed
                | ErrorKind::Unrequested
                | ErrorKind::RetryBudget
                | ErrorKind::Connection
                | ErrorKind::Timeout
        );
        let mut health = self.health();
        if let Some(fault) = health.fault.as_ref().filter(|f| f.same_answer(&error)) {
            return fault.clone();
        }
        if !counts {
            return error;
        }
        let n = match &mut health.strikes {
            Some((last, n)) if last.same_answer(&error) => {
                *n += 1;
                *n
            }
            strikes => {
                *strikes = Some((error.clone(), 1));
                1
            }
        };
        let limit = if health.proven {
            STRIKES_PROVEN
        } else {
            STRIKES
        };
        if n >= limit && health.fault.is_none() {
            tracing::warn!(
                operation = &*self.op.rules().operation_id,
                requests = n,
                "{n} requests in a row got the same answer: it is the requests', not their \
                 ids'; the run stops sending, and every id left fails with: {error}"
            );
            health.fault = Some(error.clone());
            drop(health);
            self.quiet.send_replace(false);
            self.ended.send_replace(true);
        }
        error
    }

    /// What an attempt (a `retry` after its request failed, or not) got: an answer (any
    /// status, even a body cut short), or none at all. Attempts in a row without an answer stop the run:
    /// before any answer proved the requests sound, [`SILENT_BEFORE_AN_ANSWER`] of them
    /// with a retry among them (a host that refuses connections, or never answers: about
    /// one timeout and a retry's); after, a long stretch of them. A TLS failure before then
    /// stops it at once: every request would meet it.
    fn heard(&self, result: &Result<Received, FetchError>, retry: bool) {
        let mut health = self.health();
        let silent = match result {
            Ok(_) => false,
            // A body cut short came after an answer's head.
            Err(e) if e.received.is_some() => false,
            Err(e) => matches!(
                e.kind,
                ErrorKind::Connection | ErrorKind::Timeout | ErrorKind::Tls
            ),
        };
        if !silent {
            if result.is_ok() || result.as_ref().is_err_and(|e| e.status.is_some()) {
                health.silent = 0;
                health.silent_since = None;
                health.silent_retried = false;
                self.quiet.send_replace(false);
            }
            return;
        }
        let Err(error) = result else {
            return;
        };
        if error.kind == ErrorKind::Tls && !health.proven {
            drop(health);
            self.fail_run(error);
            return;
        }
        health.silent += 1;
        health.silent_retried |= retry;
        if !health.proven {
            self.quiet.send_replace(true);
        }
        let since = *health.silent_since.get_or_insert_with(Instant::now);
        let stop = if health.proven {
            let most = u32::try_from(self.concurrency.saturating_mul(2))
                .unwrap_or(u32::MAX)
                .max(10);
            health.silent >= most && since.elapsed() >= SILENT_AFTER_AN_ANSWER
        } else {
            health.silent >= SILENT_BEFORE_AN_ANSWER && health.silent_retried
        };
        if stop {
            let mut error = error.clone();
            error.attempts = health.silent;
            drop(health);
            self.fail_run(&error);
        }
    }

    /// Every id of `ids` accounted for, in order, as outcomes (adjacent failures with the
    /// same error merged).
    ///
    /// A failure one bad id could have caused ([`FetchError::is_caused_by_an_id`]) is
    /// narrowed down, so the good ids still come back: the request is split in halves until
    /// the bad ids stand alone, about (bad ids) x log2(request size) extra requests. Until
    /// some answer proved the requests sound, [`Exec::probe`] first tells a bad id from a
    /// bad request. A body over the size cap is split the same way. Any other failure is
    /// the request's: its ids fail with it ([`Exec::strike`]). A paged request whose later
    /// page fails otherwise (or is not sent: the run was stopped) keeps the records of the
    /// pages received; only the ids not on them fail.
    ///
    /// A single id's documented not-found answer, before any answer proved the requests
    /// sound, comes back as a failure of kind [`ErrorKind::NotFound`]: provisional, until
    /// the run can tell ([`settle_unproven`]).
    fn resolve(
        self: &Arc<Self>,
        ids: Vec<String>,
    ) -> futures_util::future::BoxFuture<'_, Vec<Outcome<O::Record>>> {
        Box::pin(async move {
            if let Some(error) = self.fault() {
                return failed(ids, error);
            }
            if self.stopper.is_stopped() {
                return failed(ids, FetchError::new(ErrorKind::Interrupted));
            }
            let (pages, error) = self.fetch_pages(&ids, false).await;
            let Some(error) = error else {
                return self.settle(ids, pages, None).await;
            };
            let splittable =
                error.kind == ErrorKind::TooLarge || (error.is_caused_by_an_id() && ids.len() > 1);
            // Paged, and a later page failed for a reason splitting would not mend (or the
            // run was stopped before it): the records of the pages received are kept, the
            // ids not on them fail.
            if !pages.is_empty() && !splittable {
                return self.settle(ids, pages, Some(error)).await;
            }
            if let Some(fault) = self.fault().filter(|f| f.same_answer(&error)) {
                return failed(ids, fault);
            }
            if error.kind == ErrorKind::NotFound && ids.len() == 1 {
                return self.not_found(ids, error);
            }
            if !splittable || ids.len() == 1 {
                let error = self.strike(error);
                return failed(ids, error);
            }
            if error.kind != ErrorKind::TooLarge && !self.is_proven() {
                return self.probe(ids, error).await;
            }
            // Proven: a failure that repeats over the halves (a role revoked mid-run) stops
            // the run after a few, instead of splitting every request down to single ids.
            let error = if error.kind != ErrorKind::NotFound && error.kind != ErrorKind::TooLarge {
                self.strike(error)
            } else {
                error
            };
            if let Some(fault) = self.fault().filter(|f| f.same_answer(&error)) {
                return failed(ids, fault);
            }
            tracing::debug!(
                operation = &*self.op.rules().operation_id,
                status = error.status,
                ids = ids.len(),
                "splitting a request to isolate the ids it fails on: {error}"
            );
            self.split(ids).await
        })
    }

    /// A single id's documented not-found answer: missing, once some answer proved the
    /// requests reach the vendor; until then provisional (see [`Exec::resolve`]).
    fn not_found(&self, ids: Vec<String>, error: FetchError) -> Vec<Outcome<O::Record>> {
        if self.is_proven() {
            ids.into_iter().map(Outcome::Missing).collect()
        } else {
            failed(ids, error)
        }
    }

    /// Before any answer proved the requests sound, a failure one bad id could have caused
    /// may also be the request's own (a bad parameter, a token without the role, a
    /// gateway's not-found answer that happens to fit the documented one). One probe at a
    /// time, while new requests wait: the first and the last id are asked for alone. If
    /// both fail as the whole request did (same status, same vendor message) and still
    /// nothing is proven, the request is at fault, and it and every id left in the run
    /// fail with its error, without more requests. Otherwise those two are accounted for
    /// and the ids between them are split as usual.
    async fn probe(
        self: &Arc<Self>,
        mut ids: Vec<String>,
        error: FetchError,
    ) -> Vec<Outcome<O::Record>> {
        let probing = self.probing.lock().await;
        // Decided while this request waited for the probe before it.
        if let Some(fault) = self.fault().filter(|f| f.same_answer(&error)) {
            return failed(ids, fault);
        }
        if self.is_proven() {
            drop(probing);
            return self.split(ids).await;
        }
        let last = ids.pop().unwrap_or_default();
        let first = ids.remove(0);
        let like_the_request =
            |r: &Result<Vec<Page>, FetchError>| matches!(r, Err(e) if e.same_answer(&error));
        let (a, b) = {
            self.hold.send_replace(true);
            let _held = Held(&self.hold);
            let (a, b) = tokio::join!(
                self.fetch_all(std::slice::from_ref(&first)),
                self.fetch_all(std::slice::from_ref(&last))
            );
            if like_the_request(&a) && like_the_request(&b) {
                // Requests sent before the probe may yet prove the run: their answers first.
                let mut flying = self.in_flight.subscribe();
                let _ = flying.wait_for(|n| *n == 0).await;
            }
            (a, b)
        };
        if like_the_request(&a) && like_the_request(&b) && !self.is_proven() {
            let fault = self.fail_run(&unproven(error));
            ids.insert(0, first);
            ids.push(last);
            return failed(ids, fault);
        }
        drop(probing);
        let mut out = self.alone(first, a).await;
        let middle = self.split(ids).await;
        append(&mut out, middle);
        append(&mut out, self.alone(last, b).await);
        out
    }

    /// The outcome of a request for `id` alone.
    async fn alone(
        self: &Arc<Self>,
        id: String,
        result: Result<Vec<Page>, FetchError>,
    ) -> Vec<Outcome<O::Record>> {
        match result {
            Ok(pages) => self.settle(vec![id], pages, None).await,
            Err(e) if e.kind == ErrorKind::NotFound => self.not_found(vec![id], e),
            Err(e) => failed(vec![id], self.strike(e)),
        }
    }

    /// `ids` in two halves, each resolved on its own (one request, if one id is left).
    async fn split(self: &Arc<Self>, ids: Vec<String>) -> Vec<Outcome<O::Record>> {
        if ids.len() <= 1 {
            return if ids.is_empty() {
                Vec::new()
            } else {
                self.resolve(ids).await
            };
        }
        let right = ids[ids.len() / 2..].to_vec();
        let mut left = ids;
        left.truncate(left.len() / 2);
        let (mut a, b) = tokio::join!(self.resolve(left), self.resolve(right));
        append(&mut a, b);
        a
    }

    /// The outcomes of a request's answer ([`Exec::account`]), the ids the answer could not
    /// account for asked again in a new request.
    async fn settle(
        self: &Arc<Self>,
        ids: Vec<String>,
        pages: Vec<Page>,
        cut_short: Option<FetchError>,
    ) -> Vec<Outcome<O::Record>> {
        let slots = self.account(&ids, &pages, cut_short);
        drop(pages);
        let again: Vec<String> = ids
            .iter()
            .zip(&slots)
            .filter(|(_, slot)| slot.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        let mut more = Vec::new().into_iter();
        if !again.is_empty() {
            tracing::debug!(
                operation = &*self.op.rules().operation_id,
                ids = again.len(),
                "asking again for the ids the vendor's pages did not account for"
            );
            more = one_per_id(self.resolve(again).await).into_iter();
        }
        let mut out = Vec::with_capacity(ids.len());
        for (id, slot) in ids.into_iter().zip(slots) {
            match slot.or_else(|| more.next()) {
                Some(Outcome::Failed(failure)) => {
                    for id in failure.ids {
                        push_failed(&mut out, id, failure.error.clone());
                    }
                }
                Some(outcome) => out.push(outcome),
                // Never: one outcome comes back per id asked again. Still, no id is lost.
                None => push_failed(
                    &mut out,
                    id,
                    FetchError::new(ErrorKind::Request).with_detail("no outcome (a bug)"),
                ),
            }
        }
        out
    }

    /// Each requested id's outcome from the pages of one answer, matched by the record's
    /// own id (read from the spec's id field, compared as the vendor compares ids) and
    /// decoded on its own: a record that does not decode fails only its id. Records nobody
    /// asked for are counted, never decoded. `None` for an id to ask again.
    ///
    /// An id is missing only when the answer could have carried it and did not: a success
    /// answer of an operation that leaves unknown ids out, which carries no record nobody
    /// asked for, no record whose id cannot be read, and, paged, whose pages hold every
    /// record its total counts. Otherwise the ids it left out fail, saying why; ids that
    /// paging that did not add up left out are asked again while the answers bring new
    /// records.
    fn account(
        &self,
        ids: &[String],
        pages: &[Page],
        cut_short: Option<FetchError>,
    ) -> Vec<Option<Outcome<O::Record>>> {
        let rules = self.op.rules();
        let by_key: HashMap<Cow<'_, str>, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (rules.ids.key(id), i))
            .collect();
        let mut at: Vec<Option<(usize, usize)>> = vec![None; ids.len()];
        let mut ambiguous: Vec<Option<&'static str>> = vec![None; ids.len()];
        let (mut unexpected, mut unreadable, mut other) = (0u64, None, None);
        for (p, page) in pages.iter().enumerate() {
            for (r, entry) in page.records.iter().enumerate() {
                match &entry.id {
                    Ok(id) => match by_key.get(&*rules.ids.key(id)) {
                        Some(&i) => match at[i] {
                            None => at[i] = Some((p, r)),
                            Some((p0, r0)) => {
                                let first = &pages[p0].body[pages[p0].records[r0].span.clone()];
                                if *first != page.body[entry.span.clone()] {
                                    ambiguous[i] =
                                        Some("the answer holds two different records for it");
                                }
                            }
                        },
                        None => {
                            unexpected += 1;
                            other.get_or_insert_with(|| id.clone());
                        }
                    },
                    Err(IdError::Conflicting(a, b)) => {
                        let mut named = false;
                        for id in [a, b] {
                            if let Some(&i) = by_key.get(&*rules.ids.key(id)) {
                                ambiguous[i] = Some(
                                    "a record's id field appears twice: as this id and as another",
                                );
                                named = true;
                            }
                        }
                        if !named {
                            unexpected += 1;
                        }
                    }
                    Err(e) => unreadable = Some(e.clone()),
                }
            }
        }
        let found = at.iter().filter(|a| a.is_some()).count();
        if unexpected > 0 {
            self.unexpected.fetch_add(unexpected, Ordering::Relaxed);
            tracing::warn!(
                operation = &*rules.operation_id,
                unexpected,
                "the vendor answered with records whose ids were not asked for"
            );
        }
        if found > 0 {
            crate::partial::warn_once(rules);
        }
        if found == 0
            && unexpected > 0
            && unreadable.is_none()
            && ambiguous.iter().all(Option::is_none)
        {
            let detail = match (rules.records.many, other) {
                // Not the id asked for: requests that fail alike must say the same.
                (false, Some(other)) => format!(
                    "the answer is the record of {}, not of the id asked for",
                    json::cut(&self.op.scrubber().scrub(&other))
                ),
                // No counts: requests that fail alike must say the same ([`Exec::strike`]).
                _ => "none of the ids asked for came back, only records of other ids: the \
                      vendor ignored the id filter"
                    .to_owned(),
            };
            let error = self.strike(FetchError::new(ErrorKind::Unrequested).with_detail(detail));
            return ids.iter().map(|id| Some(one_failed(id, &error))).collect();
        }
        // Paged: every record the vendor's total counts must be on the pages.
        let gap =
            rules
                .paging
                .as_ref()
                .and_then(|paging| match pages.first().and_then(|p| p.total) {
                    Some(total) if total == found as u64 => None,
                    Some(total) => Some(format!(
                        "`{}` says {total}, and the pages held {found} of the {} id(s) asked for",
                        paging.total_pointer,
                        ids.len()
                    )),
                    None => Some(format!("the answer has no `{}`", paging.total_pointer)),
                });
        let again = found > 0 && unexpected == 0 && unreadable.is_none() && cut_short.is_none();
        // A record asked for, or a trusted answer (none unreadable, named twice or nobody
        // asked for, paging that adds up: an empty answer of an operation that leaves
        // unknown ids out): the requests reach the vendor.
        let trusted = unexpected == 0
            && unreadable.is_none()
            && cut_short.is_none()
            && ambiguous.iter().all(Option::is_none)
            && gap.is_none()
            && (found > 0 || rules.unknown_ids.may_omit());
        if trusted || found > 0 {
            self.prove();
        }
        let mut out = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if let Some(why) = ambiguous[i] {
                let error = FetchError::new(ErrorKind::Ambiguous).with_detail(why);
                out.push(Some(one_failed(id, &error)));
                continue;
            }
            if let Some((p, r)) = at[i] {
                let page = &pages[p];
                let span = page.records[r].span.clone();
                let text = std::str::from_utf8(&page.body[span.clone()]).unwrap_or_default();
                out.push(Some(match self.op.decode(text) {
                    Ok(record) => Outcome::Found(FoundRecord {
                        id: id.clone(),
                        record,
                        raw: RawRecord::new(&page.body, span),
                    }),
                    Err(e) => {
                        let error = self.scrub(FetchError::from(e));
                        tracing::debug!(operation = &*rules.operation_id, "{error}");
                        one_failed(id, &error)
                    }
                }));
                continue;
            }
            // Not in the answer: missing only if the answer could have carried it.
            let error = if let Some(error) = &cut_short {
                // On a page that was not received, perhaps.
                Some(error.clone())
            } else if let Some(e) = &unreadable {
                // A record whose id could not be read may be this id's.
                Some(FetchError::new(ErrorKind::Decode).with_detail(format!(
                    "{e} (field `{}`), so ids without a record cannot be told missing",
                    rules.records.id_field
                )))
            } else if unexpected > 0 {
                Some(FetchError::new(ErrorKind::Unrequested).with_detail(format!(
                    "the answer also held {unexpected} record(s) not asked for, so the ids \
                     it left out cannot be called missing"
                )))
            } else if !trusted && ambiguous.iter().any(Option::is_some) {
                Some(FetchError::new(ErrorKind::Ambiguous).with_detail(
                    "the answer names some id more than once, so the ids it left out cannot \
                     be called missing",
                ))
            } else if let Some(gap) = &gap {
                if again {
                    out.push(None);
                    continue;
                }
                Some(FetchError::new(ErrorKind::Paging).with_detail(gap.clone()))
            } else if !rules.unknown_ids.may_omit() {
                Some(FetchError::new(ErrorKind::Decode).with_detail(
                    "the answer left this id out, where the spec says an unknown id fails \
                     the request",
                ))
            } else {
                None
            };
            out.push(Some(match error {
                Some(error) => one_failed(id, &error),
                None => Outcome::Missing(id.clone()),
            }));
        }
        out
    }

    /// Every page for `ids`, as many as the vendor's total says the ids could fill.
    async fn fetch_all(&self, ids: &[String]) -> Result<Vec<Page>, FetchError> {
        match self.fetch_pages(ids, true).await {
            (pages, None) => Ok(pages),
            (_, Some(error)) => Err(error),
        }
    }

    /// [`Exec::fetch_all`], keeping the pages received when a later one fails: the pages,
    /// and the first error if any page failed. A `probe`'s requests do not wait for the
    /// probe to end.
    async fn fetch_pages(&self, ids: &[String], probe: bool) -> (Vec<Page>, Option<FetchError>) {
        let rules = self.op.rules();
        // As the wire wants them (`007` goes out as `7`).
        let wire: Cow<'_, [String]> = if ids.iter().all(|id| rules.ids.wire(id) == id) {
            Cow::Borrowed(ids)
        } else {
            Cow::Owned(ids.iter().map(|id| rules.ids.wire(id).to_owned()).collect())
        };
        let Some(paging) = &rules.paging else {
            return match self.attempt(&wire, None, probe).await {
                Ok(page) => (vec![page], None),
                Err(error) => (Vec::new(), Some(error)),
            };
        };
        let size = self.op.page_size().max(1);
        let first = PageRequest {
            index: paging.first_index,
            size,
        };
        let page = match self.attempt(&wire, Some(first), probe).await {
            Ok(page) => page,
            Err(error) => return (Vec::new(), Some(error)),
        };
        // Without a total there is no telling how many pages there are: the ids the first
        // page does not account for are asked again ([`Exec::account`]).
        let Some(total) = page.total else {
            return (vec![page], None);
        };
        let got = page.records.len() as u64;
        let expected = total.min(ids.len() as u64);
        // A server may cap the page size below what was asked: a short first page that is
        // not the last one tells its real size, and the next pages are asked at that size.
        let per_page = if got > 0 && got < u64::from(size) && got < expected {
            got
        } else {
            u64::from(size)
        };
        // Never more pages than the ids could fill, whatever the server claims.
        let pages = expected.div_ceil(per_page).max(1);
        let per_page = u32::try_from(per_page).unwrap_or(size);
        let rest: Vec<_> = (1..pages)
            .map(|i| {
                let index = paging.first_index + u32::try_from(i).unwrap_or(u32::MAX);
                let page = PageRequest {
                    index,
                    size: per_page,
                };
                self.attempt(&wire, Some(page), probe)
            })
            .collect();
        let mut all = vec![page];
        let mut first_error = None;
        for page in futures_util::future::join_all(rest).await {
            match page {
                Ok(page) => all.push(page),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        (all, first_error)
    }

    /// One request with retries, its answer cut into records: transient failures (408,
    /// 429, 5xx, the vendor's throttle statuses, timeouts, connection errors, bodies that
    /// are not JSON) are retried with backoff and jitter, `Retry-After` honoured, within
    /// the attempt limit, the run's retry budget and the deadline. An answer that is JSON
    /// but not shaped as the spec says, or not of its media type, is not retried.
    async fn attempt(
        &self,
        ids: &[String],
        page: Option<PageRequest>,
        probe: bool,
    ) -> Result<Page, FetchError> {
        let result = self.attempts(ids, page, probe).await;
        // Done retrying, whatever came of it: requests waiting for that may go.
        if result.is_err() {
            self.quiet.send_replace(false);
        }
        result.map_err(|e| self.scrub(e))
    }

    /// The vendor's text in an error without a secret the client holds (a message that
    /// echoes the token it refused).
    fn scrub(&self, mut error: FetchError) -> FetchError {
        if let Some(detail) = &error.detail {
            let scrubber = self.op.scrubber();
            if let Cow::Owned(clean) = scrubber.scrub(detail) {
                error.detail = Some(clean.into());
            }
        }
        error
    }

    /// [`Exec::attempt`], before its error is scrubbed.
    async fn attempts(
        &self,
        ids: &[String],
        page: Option<PageRequest>,
        probe: bool,
    ) -> Result<Page, FetchError> {
        let rules = self.op.rules();
        let throttle = &self.op.vendor().throttle_statuses;
        let mut attempt = 0u32;
        let mut sent = 0u32;
        loop {
            if let Some(fault) = self.fault() {
                return Err(fault);
            }
            sent += 1;
            let result = self.send(ids, page, sent, attempt > 0, probe).await;
            let sent_at = result.as_ref().ok().map(|(_, flying)| flying.sent);
            // Read while still in flight: a record asked for proves the run.
            // The run stopped, for this answer or while this request waited: not retried.
            if let Err(e) = &result
                && self.fault().is_some_and(|f| f.same_answer(e))
            {
                return Err(e.clone());
            }
            // Scrubbed before anything logs it.
            let mut error = self.scrub(match result {
                Ok((received, flying)) => match self.cut(received, ids) {
                    Ok(page) => {
                        self.pace.success(flying.sent);
                        return Ok(page);
                    }
                    // An answer the vendor let through, if not a throttled one: progress
                    // for the pace and for the throttle patience.
                    Err(e) if !self.is_throttle(&e) => {
                        self.pace.success(flying.sent);
                        e
                    }
                    Err(e) => e,
                },
                Err(e) => e,
            });
            if self.is_throttle(&error) {
                // Time, not ids: no attempt or budget is spent. The whole run slows down.
                let sent_at = sent_at.unwrap_or_else(tokio::time::Instant::now);
                self.pace.throttled(sent_at, error.retry_after);
                let too_long = error
                    .retry_after
                    .is_some_and(|a| a > self.throttle_patience);
                if too_long || self.pace.stalled(self.throttle_patience) {
                    // Every request would wait as long: the run ends, each id left failed.
                    let why = match error.retry_after {
                        Some(after) if too_long => format!(
                            "it asked to wait {}s, longer than the patience of {}s",
                            after.as_secs(),
                            self.throttle_patience.as_secs()
                        ),
                        _ => self.stalled_for(),
                    };
                    let mut stalled = FetchError::new(ErrorKind::Throttled).with_detail(why);
                    stalled.status = error.status;
                    if too_long {
                        stalled.retry_after = error.retry_after;
                    }
                    return Err(self.fail_run(&stalled));
                }
                if error.retry_after.is_none() {
                    self.stopper
                        .unless_stopped(tokio::time::sleep(self.backoff(2)))
                        .await?;
                }
                continue;
            }
            attempt += 1;
            error.attempts = sent;
            if error.is_auth() {
                return Err(self.fail_run(&error));
            }
            if !error.is_transient(throttle) || attempt >= self.retry.max_attempts {
                return Err(error);
            }
            let wait = match error.retry_after {
                Some(after) if after > self.retry.max_retry_after => return Err(error),
                Some(after) => after,
                None => self.backoff(attempt),
            };
            if self.deadline.is_some_and(|d| Instant::now() + wait >= d) {
                return Err(error);
            }
            if self.budget.fetch_sub(1, Ordering::Relaxed) <= 0 {
                // What the retries were for, so the ids it fails say so (and failures alike
                // compare equal: no attempt count in the text).
                let cause = FetchError {
                    attempts: 0,
                    ..error.clone()
                };
                let mut spent = FetchError::new(ErrorKind::RetryBudget)
                    .with_detail(format!("the last attempt got: {cause}"));
                spent.status = error.status;
                spent.attempts = sent;
                return Err(spent);
            }
            tracing::debug!(
                operation = &*rules.operation_id,
                attempt,
                status = error.status,
                wait_ms = wait.as_millis() as u64,
                "retrying: {error}"
            );
            self.stopper
                .unless_stopped(tokio::time::sleep(wait))
                .await?;
        }
    }

    /// An error answer as an error: the operation's documented not-found answer (status,
    /// media type and body schema as the spec documents them) is [`ErrorKind::NotFound`];
    /// any other keeps its status, and quotes the vendor's message, or says what arrived.
    fn status_error(&self, received: &Received) -> FetchError {
        let mut error = FetchError::status(received.status, &received.headers);
        if (300..400).contains(&received.status) {
            // The client follows redirects only within the request's origin: this one
            // points elsewhere (or is a 304 nobody asked for).
            let to = received
                .headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| reqwest::Url::parse(v).ok())
                .map_or_else(
                    || "a location of its own".to_owned(),
                    |url| userbatch_core::origin_of(&url),
                );
            error.kind = ErrorKind::Redirect;
            error.detail = Some(format!("to {to}; not followed").into());
            return error;
        }
        let content_type = content_type(received);
        let not_found = self.op.rules().answers.not_found.as_ref();
        if error.kind == ErrorKind::Status
            && not_found.is_some_and(|nf| nf.matches(received.status, content_type, &received.body))
        {
            error.kind = ErrorKind::NotFound;
        }
        let scrubber = self.op.scrubber();
        match self
            .op
            .vendor()
            .error_message
            .as_ref()
            .and_then(|pointer| json::vendor_message_scrubbed(&received.body, pointer, &scrubber))
        {
            Some(message) => error.detail = Some(message.into()),
            None => error.received = Some(describe(content_type, &received.body)),
        }
        error
    }

    /// Whether an answer throttles: the vendor's throttling statuses, 429, or 503 with
    /// `Retry-After`.
    fn is_throttle(&self, error: &FetchError) -> bool {
        error.kind == ErrorKind::Status
            && error.status.is_some_and(|s| {
                s == 429
                    || self.op.vendor().throttle_statuses.contains(&s)
                    || (s == 503 && error.retry_after.is_some())
            })
    }

    /// A 2xx answer of the documented media type cut into its records, each with its id;
    /// an error status as an error ([`Exec::status_error`]).
    fn cut(&self, received: Received, ids: &[String]) -> Result<Page, FetchError> {
        if !received.is_success() {
            // Not even the documented not-found answer proves the requests reach the
            // vendor: a gateway can answer alike.
            return Err(self.status_error(&received));
        }
        let rules = self.op.rules();
        let content_type = content_type(&received);
        if !rules.answers.is_success_type(content_type) {
            let mut error = FetchError::new(ErrorKind::ContentType).with_detail(format!(
                "{}, where the spec documents {}",
                content_type.unwrap_or("no Content-Type"),
                rules.answers.success.join(", ")
            ));
            error.status = Some(received.status);
            error.received = Some(describe(content_type, &received.body));
            return Err(error);
        }
        if received.body.trim_ascii().is_empty() {
            let mut error = FetchError::new(ErrorKind::Decode);
            error.status = Some(received.status);
            error.received = Some("an empty body");
            return Err(error);
        }
        let body = received.body;
        let records = json::entries(&body, &rules.records, rules.ids.kind).map_err(|e| {
            let mut error = FetchError::from(e);
            error.status = Some(received.status);
            error
        })?;
        // A record asked for proves the requests reach the vendor; known as soon as the
        // answer is read (a probe waiting for the answers in flight counts on that).
        if !self.is_proven() {
            let asked: std::collections::HashSet<Cow<'_, str>> =
                ids.iter().map(|id| rules.ids.key(id)).collect();
            let has_asked = |e: &Entry| {
                e.id.as_ref()
                    .is_ok_and(|id| asked.contains(&*rules.ids.key(id)))
            };
            if records.iter().any(has_asked) {
                self.prove();
            }
        }
        // The body parsed as JSON above, so the total can be read without parsing again.
        let total = rules.paging.as_ref().and_then(|paging| {
            let text = std::str::from_utf8(&body).ok()?;
            json::read_u64(text, &paging.total_pointer)
        });
        Ok(Page {
            body,
            records,
            total,
        })
    }

    /// Why a throttled run ends: how long it went without progress.
    fn stalled_for(&self) -> String {
        format!(
            "throttled for {}s without progress (the patience)",
            self.throttle_patience.as_secs_f64()
        )
    }

    /// Waits while a probe decides whether the run's requests are at fault.
    /// Waits while a probe decides whether the run's requests are at fault, or retries
    /// whether the vendor answers at all ([`Exec::quiet`]).
    async fn held(&self) {
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

    /// One HTTP request under a concurrency slot, the timeouts and a tracing span. The slot
    /// is given back once the whole body has arrived, before anything is decoded.
    async fn send(
        &self,
        ids: &[String],
        page: Option<PageRequest>,
        attempt: u32,
        retry: bool,
        probe: bool,
    ) -> Result<(Received, Flying<'_>), FetchError> {
        let now = Instant::now();
        if self.deadline.is_some_and(|d| now >= d) {
            return Err(FetchError::new(ErrorKind::Deadline));
        }
        // A probe's requests, and retries, do not wait: they are what is waited for. A
        // request that got its slot while a wait began gives it back and waits too.
        let waits = !probe && !retry;
        let slot = loop {
            if waits {
                self.stopper.unless_stopped(self.held()).await?;
            }
            let slot = self.stopper.unless_stopped(self.pace.slot()).await?;
            if !waits || (!*self.hold.borrow() && !*self.quiet.borrow()) {
                break slot;
            }
        };
        // Found at fault while this request waited for its slot: it would fail the same way.
        if let Some(fault) = self.fault() {
            return Err(fault);
        }
        // Paused by a `Retry-After`, or paced: wait for this request's turn.
        // Not past the deadline, nor (throttled) past the patience: a turn that would come
        // later ends the request (or the run) now, rather than after a wait that cannot help.
        let deadline = self.deadline.map(tokio::time::Instant::from_std);
        let turn = self.pace.turn(deadline, self.throttle_patience);
        let ended = async {
            let mut ended = self.ended.subscribe();
            // The sender lives as long as `self`.
            let _ = ended.wait_for(|ended| *ended).await;
        };
        let sent_at = tokio::select! {
            biased;
            () = ended => return Err(self.fault().unwrap_or_else(|| FetchError::new(ErrorKind::Interrupted))),
            turn = self.stopper.unless_stopped(turn) => turn?,
        };
        let sent_at = match sent_at {
            Ok(at) => at,
            Err(Stop::Deadline) => return Err(FetchError::new(ErrorKind::Deadline)),
            Err(Stop::Stalled) => {
                let stalled = FetchError::new(ErrorKind::Throttled).with_detail(self.stalled_for());
                return Err(self.fail_run(&stalled));
            }
        };
        if let Some(fault) = self.fault() {
            return Err(fault);
        }
        // Stopped while this request waited: it is not sent.
        if self.stopper.is_stopped() {
            return Err(FetchError::new(ErrorKind::Interrupted));
        }
        let limit = match (self.request_timeout, self.deadline) {
            (Some(t), Some(d)) => Some(t.min(d.saturating_duration_since(Instant::now()))),
            (Some(t), None) => Some(t),
            (None, Some(d)) => Some(d.saturating_duration_since(Instant::now())),
            (None, None) => None,
        };
        let span = tracing::info_span!(
            "userbatch.request",
            operation = &*self.op.rules().operation_id,
            chunk_size = ids.len(),
            page = page.map(|p| p.index),
            attempt,
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        self.requests.fetch_add(1, Ordering::Relaxed);
        let flying = Flying::new(&self.in_flight, sent_at);
        let started = Instant::now();
        let call = async {
            let answer = self.op.send(ids, page).await;
            userbatch_core::receive(answer, self.max_response_bytes)
                .await
                .map_err(from_receive)
        }
        .instrument(span.clone());
        let result = match limit {
            Some(limit) => match tokio::time::timeout(limit, call).await {
                Ok(r) => r,
                Err(_) if self.deadline.is_some_and(|d| Instant::now() >= d) => {
                    Err(FetchError::new(ErrorKind::Deadline))
                }
                Err(_) => Err(FetchError::new(ErrorKind::Timeout)),
            },
            None => call.await,
        };
        let result = result.map_err(|e| self.scrub(e));
        // What the vendor says of its rate limit, on any answer.
        if let Ok(received) = &result
            && let Some(stated) =
                crate::ratelimit::read(&received.headers, &self.op.vendor().rate_limit)
        {
            self.pace.stated(stated, sent_at);
        }
        // What came of it counts for the run before the slot is given back, so that no
        // request waiting for the slot goes out unless it should.
        self.heard(&result, retry);
        // Refused credentials are the run's, not this request's: recorded before the slot
        // is given back, so no request waiting for it goes out.
        match &result {
            Ok(received) if received.status == 401 => {
                self.fail_run(&self.scrub(self.status_error(received)));
            }
            Err(e) if e.is_auth() => {
                self.fail_run(e);
            }
            _ => {}
        }
        drop(slot);
        // Giving the slot back wakes the next request's task into this worker's LIFO
        // slot, which no other worker may steal: without a yield it would wait for this
        // response's decoding (milliseconds for a large body) before it could be sent.
        tokio::task::yield_now().await;
        let status = match &result {
            Ok(received) => Some(received.status),
            Err(e) => e.status,
        };
        let ms = started.elapsed().as_millis() as u64;
        span.record("duration_ms", ms);
        span.record("status", status.unwrap_or(0));
        // One line per request for `-v` logs: never a token, a body or an id.
        tracing::debug!(
            operation = &*self.op.rules().operation_id,
            ids = ids.len(),
            page = page.map(|p| p.index),
            status,
            attempt,
            ms,
            error = result.as_ref().err().map(tracing::field::display),
            "request {}",
            if result.is_ok() { "answered" } else { "failed" }
        );
        // An answer stays in flight until it has been read (it may prove the run).
        result.map(|received| (received, flying))
    }

    /// Full jitter: uniform in [0, min(max_delay, base * 2^(attempt-1))].
    fn backoff(&self, attempt: u32) -> Duration {
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

fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    splitmix(nanos ^ (std::process::id() as u64) << 32)
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(ids: &[&str], kind: ErrorKind) -> Outcome<()> {
        Outcome::Failed(FailedIds {
            ids: ids.iter().map(|i| (*i).to_owned()).collect(),
            error: FetchError::new(kind),
        })
    }

    #[test]
    fn failures_merge_only_with_an_equal_neighbour() {
        let mut out: Vec<Outcome<()>> = Vec::new();
        push_failed(&mut out, "1".into(), FetchError::new(ErrorKind::Paging));
        push_failed(&mut out, "2".into(), FetchError::new(ErrorKind::Paging));
        push_failed(&mut out, "3".into(), FetchError::new(ErrorKind::Timeout));
        assert_eq!(
            out,
            [
                failure(&["1", "2"], ErrorKind::Paging),
                failure(&["3"], ErrorKind::Timeout)
            ]
        );
        // At the seam of two halves of a split request.
        append(
            &mut out,
            vec![
                failure(&["4"], ErrorKind::Timeout),
                Outcome::Missing("5".into()),
                failure(&["6"], ErrorKind::Timeout),
            ],
        );
        assert_eq!(
            out,
            [
                failure(&["1", "2"], ErrorKind::Paging),
                failure(&["3", "4"], ErrorKind::Timeout),
                Outcome::Missing("5".into()),
                failure(&["6"], ErrorKind::Timeout),
            ]
        );
        append(
            &mut out,
            vec![Outcome::Found(FoundRecord {
                id: "7".into(),
                record: (),
                raw: RawRecord::from("{}"),
            })],
        );
        append(&mut out, Vec::new());
        assert_eq!(out.len(), 5);
    }
}
