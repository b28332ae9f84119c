//! Stopping a run from outside its stream: [`Stopper`].

use std::future::Future;
use std::sync::Arc;

use crate::error::{ErrorKind, FetchError};

/// How far a run has been told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(in crate::engine) enum Stopping {
    No,
    /// No new requests or retries; requests in flight are answered.
    NoNewRequests,
    /// Requests in flight are abandoned too.
    Abort,
}

/// Stops a run from outside its stream, e.g. on Ctrl-C ([`BatchStream::stopper`](crate::engine::BatchStream::stopper)). Cheap to
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
    pub(in crate::engine) fn new() -> Self {
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
    pub(in crate::engine) async fn reached(&self, level: Stopping) {
        let mut watch = self.0.subscribe();
        if watch.wait_for(|l| *l >= level).await.is_err() {
            // The sender lives as long as `self`: unreachable, but never a busy loop.
            std::future::pending::<()>().await;
        }
    }

    /// `work`'s output, unless the run is stopped first.
    pub(in crate::engine) async fn unless_stopped<T>(
        &self,
        work: impl Future<Output = T>,
    ) -> Result<T, FetchError> {
        tokio::select! {
            biased;
            () = self.reached(Stopping::NoNewRequests) => Err(FetchError::new(ErrorKind::Interrupted)),
            value = work => Ok(value),
        }
    }
}
