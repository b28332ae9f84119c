//! The batch engine: plan, execute, reassemble, report. One generic piece of code; each
//! vendor operation plugs in through [`Operation`], and its limits come from the spec.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::Semaphore;
use tracing::Instrument;
use tracing::instrument::WithSubscriber;
use userbatch_core::rules;

use crate::error::{ErrorKind, FetchError};
use crate::plan::{PackedIds, Plan, PlanError, Shape};

/// One page of a paged operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Page number, from the rules' first index.
    pub index: u32,
    /// Page size.
    pub size: u32,
}

/// What one request returned.
#[derive(Debug)]
pub struct Fetched<R> {
    /// The records, in the vendor's order.
    pub records: Vec<R>,
    /// The total the vendor reports (paged operations).
    pub total: Option<u64>,
}

/// The glue between the engine and one generated client operation: how to send one request
/// for some ids, and where a record's id is. Everything else (limits, encodings, retries,
/// paging, reassembly) is the engine's, driven by [`Operation::rules`].
pub trait Operation: Send + Sync + 'static {
    /// What the operation returns per id.
    type Record: Send + 'static;

    /// The operation's batch rules (from its spec's `x-userbatch`).
    fn rules(&self) -> &'static rules::Operation;

    /// The vendor's rules (throttling statuses).
    fn vendor(&self) -> &'static rules::Vendor;

    /// Whether each request must name a single id (e.g. a single-id attribute was asked for).
    fn single_id(&self) -> bool {
        false
    }

    /// The page size to ask for, for paged operations.
    fn page_size(&self) -> u32 {
        self.rules().paging.map_or(0, |p| p.default_size)
    }

    /// Sends one request for `ids` (valid, deduplicated, within every limit) and, for paged
    /// operations, one page.
    fn fetch(
        &self,
        ids: &[String],
        page: Option<PageRequest>,
    ) -> impl Future<Output = Result<Fetched<Self::Record>, FetchError>> + Send;

    /// The record's own id, in the planner's canonical form (integers without leading
    /// zeros, strings as they are).
    fn record_id(record: &Self::Record) -> String;
}

/// What happened to one id (or, for failures, to the ids of one request).
#[derive(Debug, PartialEq)]
pub enum Outcome<R> {
    /// The vendor returned this record for this id.
    Found {
        /// The id.
        id: String,
        /// Its record.
        record: R,
    },
    /// The vendor answered and the id was not there.
    Missing {
        /// The id.
        id: String,
    },
    /// No answer could be had for these ids.
    Failed {
        /// The ids, in input order.
        ids: Vec<String>,
        /// Why.
        error: FetchError,
    },
}

/// A record found for an id.
#[derive(Debug, Clone, PartialEq)]
pub struct Found<R> {
    /// The id, canonical form.
    pub id: String,
    /// The record.
    pub record: R,
}

/// Ids that failed together, with their error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
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
    pub found: Vec<Found<R>>,
    /// Ids the vendor answered for and did not have.
    pub missing: Vec<String>,
    /// Ids no answer could be had for.
    pub failed: Vec<Failure>,
    /// Unique ids requested.
    pub requested: usize,
    /// Input ids that repeated an earlier one (they cost nothing).
    pub duplicates: usize,
    /// HTTP requests sent, retries and pages included.
    pub requests: u64,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Unique ids resolved (found, missing or failed).
    pub done: usize,
    /// Unique ids in the run.
    pub total: usize,
    /// Requests sent so far.
    pub requests: u64,
}

type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

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
    progress: Option<ProgressFn>,
}

impl<O: Operation> Clone for Batch<O> {
    fn clone(&self) -> Self {
        Self {
            op: Arc::clone(&self.op),
            concurrency: self.concurrency,
            max_batch: self.max_batch,
            retry: self.retry,
            request_timeout: self.request_timeout,
            deadline: self.deadline,
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
            .finish_non_exhaustive()
    }
}

/// Default number of requests in flight.
pub const DEFAULT_CONCURRENCY: usize = 4;

impl<O: Operation> Batch<O> {
    /// A batch over `op` with the defaults: 4 requests in flight, the vendor's limits,
    /// [`Retry::default`], the client's own timeout, no deadline.
    pub fn new(op: O) -> Self {
        Self {
            op: Arc::new(op),
            concurrency: DEFAULT_CONCURRENCY,
            max_batch: None,
            retry: Retry::default(),
            request_timeout: None,
            deadline: None,
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

    /// Called as ids are resolved (after each request's ids are accounted for).
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The operation.
    pub fn operation(&self) -> &O {
        &self.op
    }

    fn shape(&self) -> Result<Shape, PlanError> {
        let rules = self.op.rules();
        let max_batch = match (self.max_batch, rules.paging) {
            (Some(n), _) => Some(n),
            // Paged operations: one page per request when every id exists.
            (None, Some(_)) => Some(self.op.page_size().max(1) as usize),
            (None, None) => None,
        };
        Shape::new(rules, max_batch, self.op.single_id())
    }

    /// Dedupes, validates and chunks `ids` without sending anything.
    pub fn plan<I, S>(&self, ids: I) -> Result<Plan, PlanError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
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
            requests: 0,
        };
        // Most ids are usually found: room for them up front saves copying each record
        // (about 2 KB for a summary) whenever the vector grows. At most 32 MiB is
        // reserved, in case most are not found.
        let most = (32 << 20) / std::mem::size_of::<Found<O::Record>>().max(1);
        report.found.reserve(requested.min(most));
        let mut requests = std::pin::pin!(run.into_requests());
        while let Some(outcomes) = requests.next().await {
            for outcome in outcomes {
                match outcome {
                    Outcome::Found { id, record } => report.found.push(Found { id, record }),
                    Outcome::Missing { id } => report.missing.push(id),
                    Outcome::Failed { ids, error } => report.failed.push(Failure { ids, error }),
                }
            }
        }
        report.requests = exec.requests.load(Ordering::Relaxed);
        Ok(report)
    }

    /// The results as a stream, in first-seen input order, with memory bounded by a few
    /// requests' worth of records. The ids themselves are held, since every id is validated
    /// before the first request: packed, about 3 bytes per integer id, and each request's
    /// freed once it starts. [`BatchStream::requests`] counts the requests so far.
    ///
    /// Poll it inside a tokio runtime: requests run as tasks on it, as with
    /// [`Batch::fetch`]. Dropping the stream aborts the requests it started.
    pub fn stream<I, S>(&self, ids: I) -> Result<BatchStream<O::Record>, PlanError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let run = self.start(ids)?;
        let requests = Arc::clone(&run.exec);
        let (requested, duplicates) = (run.requested, run.duplicates);
        Ok(BatchStream {
            inner: Box::pin(run.into_stream()),
            exec: requests,
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
            permits: Arc::new(Semaphore::new(self.concurrency)),
            retry: self.retry,
            budget: AtomicI64::new(i64::try_from(budget).unwrap_or(i64::MAX)),
            request_timeout: self.request_timeout,
            deadline: self.deadline.map(|d| Instant::now() + d),
            requests: AtomicU64::new(0),
            done: AtomicU64::new(0),
            total: plan.ids.len(),
            progress: self.progress.clone(),
            jitter: AtomicU64::new(seed()),
        });
        let integers = self.op.rules().ids.kind == rules::IdKind::Integer;
        Ok(Run {
            requested: plan.ids.len(),
            duplicates: plan.duplicates,
            chunks: plan.ids.pack(&plan.chunks, integers),
            exec,
            window: self.concurrency * 2,
        })
    }
}

/// The stream of a run: [`Outcome`]s in first-seen input order.
pub struct BatchStream<R> {
    inner: std::pin::Pin<Box<dyn Stream<Item = Outcome<R>> + Send>>,
    exec: Arc<dyn Counters>,
    requested: usize,
    duplicates: usize,
}

impl<R> BatchStream<R> {
    /// HTTP requests sent so far.
    pub fn requests(&self) -> u64 {
        self.exec.requests()
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
}

impl<O: Operation> Counters for Exec<O> {
    fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

struct Run<O: Operation> {
    /// Each request's ids, in order.
    chunks: Vec<PackedIds>,
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
            chunks,
            exec,
            window,
            ..
        } = self;
        stream::iter(chunks)
            .map(move |packed| {
                let exec = Arc::clone(&exec);
                let chunk = packed.unpack();
                // Each request is its own task, so decoding responses (most of the CPU a run
                // costs) spreads over the runtime's worker threads. The caller's span and
                // subscriber go with it.
                let task = async move {
                    let n = chunk.len();
                    let outcomes = exec.resolve(chunk).await;
                    exec.progress(n);
                    outcomes
                }
                .instrument(tracing::Span::current())
                .with_current_subscriber();
                Task(tokio::spawn(task))
            })
            .buffered(window)
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

/// Adds a failure for `id`, merged into the last outcome if that failed with the same error.
fn push_failed<R>(out: &mut Vec<Outcome<R>>, id: String, error: FetchError) {
    match out.last_mut() {
        Some(Outcome::Failed { ids, error: last }) if *last == error => ids.push(id),
        _ => out.push(Outcome::Failed {
            ids: vec![id],
            error,
        }),
    }
}

/// `b` after `a`, merging a failure at the seam with an equal one before it.
fn append<R>(a: &mut Vec<Outcome<R>>, b: Vec<Outcome<R>>) {
    let mut b = b.into_iter();
    if let Some(first) = b.next() {
        match first {
            Outcome::Failed { ids, error } if matches!(a.last(), Some(Outcome::Failed { error: last, .. }) if *last == error) => {
                if let Some(Outcome::Failed { ids: last, .. }) = a.last_mut() {
                    last.extend(ids);
                }
            }
            other => a.push(other),
        }
    }
    a.extend(b);
}

/// What one request (all its pages) returned.
struct Records<R> {
    records: Vec<R>,
    /// Paged: a record seen twice means the paging misbehaved.
    paged: bool,
    /// The paging already did not add up (more results than ids, or an empty page).
    broken: bool,
}

struct Exec<O: Operation> {
    op: Arc<O>,
    /// Requests in flight at the vendor: a slot is taken before a request is sent and
    /// given back once its response has been received in full, before it is decoded.
    permits: Arc<Semaphore>,
    retry: Retry,
    budget: AtomicI64,
    request_timeout: Option<Duration>,
    deadline: Option<Instant>,
    requests: AtomicU64,
    done: AtomicU64,
    total: usize,
    progress: Option<ProgressFn>,
    jitter: AtomicU64,
}

impl<O: Operation> Exec<O> {
    fn progress(&self, n: usize) {
        let done = self.done.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if let Some(f) = &self.progress {
            f(Progress {
                done: usize::try_from(done).unwrap_or(usize::MAX),
                total: self.total,
                requests: self.requests.load(Ordering::Relaxed),
            });
        }
    }

    /// Every id of `ids` accounted for, in order, as outcomes (adjacent failures with the
    /// same error merged). A failure one bad id could have caused (400, 404, 414) splits the
    /// request in halves, so the good ids still come back: about (bad ids) x log2(request
    /// size) extra requests.
    fn resolve(
        self: &Arc<Self>,
        ids: Vec<String>,
    ) -> futures_util::future::BoxFuture<'_, Vec<Outcome<O::Record>>> {
        Box::pin(async move {
            match self.fetch_all(&ids).await {
                Ok(records) => self.match_records(ids, records),
                Err(error) if error.is_caused_by_an_id() && ids.len() > 1 => {
                    let right = ids[ids.len() / 2..].to_vec();
                    let mut left = ids;
                    left.truncate(left.len() / 2);
                    tracing::debug!(
                        operation = self.op.rules().operation_id,
                        status = error.status,
                        left = left.len(),
                        right = right.len(),
                        "splitting a request to isolate the ids it fails on"
                    );
                    let (mut a, b) = tokio::join!(self.resolve(left), self.resolve(right));
                    append(&mut a, b);
                    a
                }
                Err(error) if ids.len() == 1 && self.is_not_found(&error) => {
                    ids.into_iter().map(|id| Outcome::Missing { id }).collect()
                }
                Err(error) => vec![Outcome::Failed { ids, error }],
            }
        })
    }

    /// Each requested id's record, matched by the record's own id; each record is moved
    /// once, straight into its outcome (a summary record is about 2 KB).
    fn match_records(
        &self,
        ids: Vec<String>,
        fetched: Records<O::Record>,
    ) -> Vec<Outcome<O::Record>> {
        let Records {
            records,
            paged,
            mut broken,
        } = fetched;
        if !records.is_empty() {
            crate::partial::warn_once(self.op.rules());
        }
        let mut at: HashMap<String, usize> = HashMap::with_capacity(records.len());
        for (i, record) in records.iter().enumerate() {
            // Unpaged, the last of two records with one id wins; paged, it is a repeat.
            if at.insert(O::record_id(record), i).is_some() && paged {
                broken = true;
            }
        }
        if broken {
            tracing::warn!(
                operation = self.op.rules().operation_id,
                records = records.len(),
                ids = ids.len(),
                "the vendor's paging did not add up; unmatched ids are reported as failed"
            );
        }
        let mut records: Vec<Option<O::Record>> = records.into_iter().map(Some).collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match at.get(&id).and_then(|&i| records[i].take()) {
                Some(record) => out.push(Outcome::Found { id, record }),
                None if broken => push_failed(&mut out, id, FetchError::new(ErrorKind::Paging)),
                None => out.push(Outcome::Missing { id }),
            }
        }
        out
    }

    /// Whether a single-id request's error means "the vendor does not have it".
    fn is_not_found(&self, error: &FetchError) -> bool {
        let not_found = match self.op.rules().unknown_ids {
            rules::UnknownIds::FailsRequest(s) | rules::UnknownIds::OmittedOrFailsRequest(s) => s,
            rules::UnknownIds::Omitted => 404,
        };
        error.kind == ErrorKind::Status && error.status == Some(not_found)
    }

    /// Records of every page for `ids`, and whether the paging misbehaved (more results
    /// than ids asked for, or an empty page where records were due).
    async fn fetch_all(&self, ids: &[String]) -> Result<Records<O::Record>, FetchError> {
        let rules = self.op.rules();
        let Some(paging) = rules.paging else {
            let fetched = self.attempt(ids, None).await?;
            return Ok(Records {
                records: fetched.records,
                paged: false,
                broken: false,
            });
        };
        let size = self.op.page_size().max(1);
        let first = PageRequest {
            index: paging.first_index,
            size,
        };
        let page = self.attempt(ids, Some(first)).await?;
        let total = page.total.unwrap_or(page.records.len() as u64);
        let expected = total.min(ids.len() as u64);
        let got = page.records.len() as u64;
        let broken = total > ids.len() as u64 || (got == 0 && expected > 0);
        // A server may cap the page size below what was asked: a short first page that is
        // not the last one tells its real size.
        let per_page = if got > 0 && got < u64::from(size) && got < expected {
            got
        } else {
            u64::from(size)
        };
        // Never more pages than the ids could fill, whatever the server claims.
        let pages = expected.div_ceil(per_page).max(1);
        let mut records = page.records;
        let rest: Vec<_> = (1..pages)
            .map(|i| {
                let index = paging.first_index + u32::try_from(i).unwrap_or(u32::MAX);
                self.attempt(ids, Some(PageRequest { index, size }))
            })
            .collect();
        for page in futures_util::future::join_all(rest).await {
            records.extend(page?.records);
        }
        Ok(Records {
            records,
            paged: true,
            broken,
        })
    }

    /// One request with retries: transient failures (408, 429, 5xx, the vendor's throttle
    /// statuses, timeouts, connection and decode errors) are retried with backoff and
    /// jitter, `Retry-After` honoured, within the attempt limit, the run's retry budget
    /// and the deadline.
    async fn attempt(
        &self,
        ids: &[String],
        page: Option<PageRequest>,
    ) -> Result<Fetched<O::Record>, FetchError> {
        let rules = self.op.rules();
        let throttle = self.op.vendor().throttle_statuses;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut error = match self.send(ids, page, attempt).await {
                Ok(fetched) => return Ok(fetched),
                Err(e) => e,
            };
            error.attempts = attempt;
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
                let mut spent = FetchError::new(ErrorKind::RetryBudget);
                spent.status = error.status;
                spent.attempts = attempt;
                return Err(spent);
            }
            tracing::debug!(
                operation = rules.operation_id,
                attempt,
                status = error.status,
                wait_ms = wait.as_millis() as u64,
                "retrying: {error}"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// One HTTP request, under a concurrency permit (held until its response has arrived),
    /// the timeouts and a tracing span.
    async fn send(
        &self,
        ids: &[String],
        page: Option<PageRequest>,
        attempt: u32,
    ) -> Result<Fetched<O::Record>, FetchError> {
        let now = Instant::now();
        if self.deadline.is_some_and(|d| now >= d) {
            return Err(FetchError::new(ErrorKind::Deadline));
        }
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| FetchError::new(ErrorKind::Request))?;
        let limit = match (self.request_timeout, self.deadline) {
            (Some(t), Some(d)) => Some(t.min(d.saturating_duration_since(Instant::now()))),
            (Some(t), None) => Some(t),
            (None, Some(d)) => Some(d.saturating_duration_since(Instant::now())),
            (None, None) => None,
        };
        let span = tracing::info_span!(
            "userbatch.request",
            operation = self.op.rules().operation_id,
            chunk_size = ids.len(),
            page = page.map(|p| p.index),
            attempt,
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        self.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let call = userbatch_core::release_when_received(permit, self.op.fetch(ids, page))
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
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        match &result {
            Ok(_) => span.record("status", 200u16),
            Err(e) => span.record("status", e.status.unwrap_or(0)),
        };
        result
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

    fn failed(ids: &[&str], kind: ErrorKind) -> Outcome<()> {
        Outcome::Failed {
            ids: ids.iter().map(|i| (*i).to_owned()).collect(),
            error: FetchError::new(kind),
        }
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
                failed(&["1", "2"], ErrorKind::Paging),
                failed(&["3"], ErrorKind::Timeout)
            ]
        );
        // At the seam of two halves of a split request.
        append(
            &mut out,
            vec![
                failed(&["4"], ErrorKind::Timeout),
                Outcome::Missing { id: "5".into() },
                failed(&["6"], ErrorKind::Timeout),
            ],
        );
        assert_eq!(
            out,
            [
                failed(&["1", "2"], ErrorKind::Paging),
                failed(&["3", "4"], ErrorKind::Timeout),
                Outcome::Missing { id: "5".into() },
                failed(&["6"], ErrorKind::Timeout),
            ]
        );
        append(
            &mut out,
            vec![Outcome::Found {
                id: "7".into(),
                record: (),
            }],
        );
        append(&mut out, Vec::new());
        assert_eq!(out.len(), 5);
    }
}
