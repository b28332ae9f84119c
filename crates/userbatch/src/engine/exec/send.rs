//! One attempt: the HTTP request under a concurrency slot and the timeouts, and its
//! answer read into a page of records.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tracing::Instrument;
use userbatch_core::json::{self, Entry};
use userbatch_core::{Operation, PageRequest, Received};

use crate::engine::exec::state::{Exec, Flying, Page};
use crate::error::{ErrorKind, FetchError, from_receive};
use crate::pace::Stop;

impl<O: Operation> Exec<O> {
    /// One HTTP request under a concurrency slot, the timeouts and a tracing span. The slot
    /// is given back once the whole body has arrived, before anything is decoded.
    pub(in crate::engine) async fn send_once(
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

    /// A 2xx answer of the documented media type read into its records, each with its id;
    /// an error status as an error ([`Exec::status_error`]).
    pub(in crate::engine) fn read_page(
        &self,
        received: Received,
        ids: &[String],
    ) -> Result<Page, FetchError> {
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
        let status = received.status;
        let with_status = |e: json::EnvelopeError| {
            let mut error = FetchError::from(e);
            error.status = Some(status);
            error
        };
        // Checked to be UTF-8 once: the records are cut from it as text.
        let body = json::text_body(received.body).map_err(with_status)?;
        let records =
            json::checked_entries(&body, &rules.records, rules.ids.kind).map_err(with_status)?;
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
        let total = rules
            .paging
            .as_ref()
            .and_then(|paging| json::read_u64(&body, &paging.total_pointer));
        Ok(Page {
            body,
            records,
            total,
        })
    }
}

/// The `Content-Type` of an answer, if it has a readable one.
pub(in crate::engine) fn content_type(received: &Received) -> Option<&str> {
    received
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}
/// What an answer that is not what the spec documents carried, in a few words (never its
/// text: a body may hold anything).
pub(in crate::engine) fn describe(content_type: Option<&str>, body: &[u8]) -> &'static str {
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
