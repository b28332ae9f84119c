//! [`Batch`]: a run's settings, its plan, and the stream of its outcomes, one task per request.

use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream::{self, Stream, StreamExt};
use tracing::Instrument;
use tracing::instrument::WithSubscriber;
use userbatch_core::plan::{IdList, Plan, PlanError, Planner};
use userbatch_core::{DEFAULT_MAX_RESPONSE_BYTES, Operation};

use crate::engine::exec::{Exec, Health, seed, settle_unproven};
use crate::engine::policy::Retry;
use crate::engine::report::{FoundRecord, Outcome, Progress, ProgressFn, Report, failed};
use crate::engine::stop::{Stopper, Stopping};
use crate::error::{ErrorKind, FetchError};
use crate::pace::Pace;

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

    fn planner(&self) -> Result<Planner, PlanError> {
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
        self.planner()?.plan(ids)
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
