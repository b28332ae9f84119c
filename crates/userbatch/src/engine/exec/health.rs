//! Whether the run's requests are sound: strikes, silence, the run's fault, and settling
//! a provisional "not found" once the run can tell.

use std::sync::Arc;
use std::time::Instant;

use futures_util::stream::{self, Stream, StreamExt};
use userbatch_core::{Operation, Received};

use crate::engine::exec::state::{
    Exec, Health, SILENT_AFTER_AN_ANSWER, SILENT_BEFORE_AN_ANSWER, STRIKES, STRIKES_PROVEN,
};
use crate::engine::report::{Outcome, push_failed};
use crate::error::{ErrorKind, FetchError};

impl<O: Operation> Exec<O> {
    pub(in crate::engine) fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The error that stopped the run, if one did.
    pub(in crate::engine) fn fault(&self) -> Option<FetchError> {
        self.health().fault.clone()
    }

    pub(in crate::engine) fn is_proven(&self) -> bool {
        self.health().proven
    }

    /// An answer the spec documents, trusted, arrived: the requests reach the vendor.
    pub(in crate::engine) fn prove(&self) {
        let mut health = self.health();
        health.proven = true;
        health.strikes = None;
    }

    /// The run is at fault, not its ids (the credentials are refused, TLS fails, every
    /// request gets one answer): every id left fails with the first such error, and no
    /// more requests are sent. Returns that error.
    pub(in crate::engine) fn fail_run(&self, error: &FetchError) -> FetchError {
        let fault = self.set_fault(error);
        // Requests waiting to be sent are let go: they fail with this at once.
        self.quiet.send_replace(false);
        self.ended.send_replace(true);
        fault
    }

    /// The run's fault: the first error given, which later ones do not replace.
    pub(in crate::engine) fn set_fault(&self, error: &FetchError) -> FetchError {
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
    pub(in crate::engine) fn strike(&self, error: FetchError) -> FetchError {
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
    pub(in crate::engine) fn heard(&self, result: &Result<Received, FetchError>, retry: bool) {
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
}

/// A documented not-found answer that cannot count as "missing": nothing proved the run's
/// requests reach the vendor.
pub(in crate::engine) fn unproven(mut error: FetchError) -> FetchError {
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
pub(in crate::engine) fn settle_unproven<O: Operation>(
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
