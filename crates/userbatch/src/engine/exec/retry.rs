//! One request with its retries: backoff, `Retry-After`, the retry budget, throttling.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::time::Instant;

use userbatch_core::json::{self};
use userbatch_core::{Operation, PageRequest, Received};

use crate::engine::exec::send::{content_type, describe};
use crate::engine::exec::state::{Exec, Page};
use crate::error::{ErrorKind, FetchError};

impl<O: Operation> Exec<O> {
    /// One request with retries, its answer read into records: transient failures (408,
    /// 429, 5xx, the vendor's throttle statuses, timeouts, connection errors, bodies that
    /// are not JSON) are retried with backoff and jitter, `Retry-After` honoured, within
    /// the attempt limit, the run's retry budget and the deadline. An answer that is JSON
    /// but not shaped as the spec says, or not of its media type, is not retried.
    pub(in crate::engine) async fn fetch_page(
        &self,
        ids: &[String],
        page: Option<PageRequest>,
        probe: bool,
    ) -> Result<Page, FetchError> {
        let result = self.fetch_page_unscrubbed(ids, page, probe).await;
        // Done retrying, whatever came of it: requests waiting for that may go.
        if result.is_err() {
            self.quiet.send_replace(false);
        }
        result.map_err(|e| self.scrub(e))
    }

    /// The vendor's text in an error without a secret the client holds (a message that
    /// echoes the token it refused).
    pub(in crate::engine) fn scrub(&self, mut error: FetchError) -> FetchError {
        if let Some(detail) = &error.detail {
            let scrubber = self.op.scrubber();
            if let Cow::Owned(clean) = scrubber.scrub(detail) {
                error.detail = Some(clean.into());
            }
        }
        error
    }

    /// [`Exec::fetch_page`], before its error is scrubbed.
    pub(in crate::engine) async fn fetch_page_unscrubbed(
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
            let result = self.send_once(ids, page, sent, attempt > 0, probe).await;
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
                Ok((received, flying)) => match self.read_page(received, ids) {
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
    pub(in crate::engine) fn status_error(&self, received: &Received) -> FetchError {
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
    pub(in crate::engine) fn is_throttle(&self, error: &FetchError) -> bool {
        error.kind == ErrorKind::Status
            && error.status.is_some_and(|s| {
                s == 429
                    || self.op.vendor().throttle_statuses.contains(&s)
                    || (s == 503 && error.retry_after.is_some())
            })
    }
}
