//! The flow every vendor request takes once its handler has read it: the vendor's checks
//! (`Err` answers as is), ids the config rejects, the rate limit, then a fault if one is
//! due, else the handler's answer; the answer leaves once the latency has passed, and the
//! request is logged and counted.

use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;

use super::answer::Answer;
use super::generic::error::{error_answer, throttle_status};
use crate::drift::Answering;
use crate::faults::Fault;
use crate::shared::HANG_STATUS_ON_STOP;
use crate::shared::Shared;
use crate::stats::RequestRecord;
use crate::vendor::Vendor;

/// A request as the shared flow sees it.
pub(super) struct Incoming<'a> {
    /// When the handler got the request (its body read).
    arrived: tokio::time::Instant,
    vendor: Vendor,
    operation: &'static str,
    pub(super) ids: Vec<String>,
    fingerprint: Vec<u8>,
    request_bytes: usize,
    /// The credential the request carried (after its scheme), for answers that echo it.
    pub(super) credential: Option<String>,
    shared: &'a Shared,
}

impl<'a> Incoming<'a> {
    pub(super) fn new(
        shared: &'a Shared,
        vendor: Vendor,
        operation: &'static str,
        method: &Method,
        uri: &Uri,
        body: &[u8],
    ) -> Self {
        let target = uri.path_and_query().map_or("", |pq| pq.as_str());
        let mut fingerprint =
            Vec::with_capacity(method.as_str().len() + target.len() + body.len() + 2);
        fingerprint.extend_from_slice(method.as_str().as_bytes());
        fingerprint.push(b' ');
        fingerprint.extend_from_slice(target.as_bytes());
        fingerprint.push(b'\n');
        fingerprint.extend_from_slice(body);
        shared.arrived();
        Self {
            arrived: tokio::time::Instant::now(),
            vendor,
            operation,
            ids: Vec::new(),
            fingerprint,
            request_bytes: target.len() + body.len(),
            credential: None,
            shared,
        }
    }

    /// `checked` (the vendor's checks: `Err` answers as is), then a fault if one is due,
    /// else `success()`; the answer leaves once the latency has passed since the request
    /// arrived. The mock's own work counts toward the latency, as a real server's does, so
    /// a client's wall time can reach ceil(requests / concurrency) x latency.
    pub(super) async fn answer(
        self,
        checked: Result<(), Answer>,
        success: impl FnOnce(Answering) -> Answer,
    ) -> Response {
        let shared = self.shared;
        let (h, delay) = shared.decision(self.vendor, &self.fingerprint);
        let due = self.arrived + delay;
        let checked =
            checked.and_then(
                |()| match self.ids.iter().find(|id| shared.config.is_rejected(id)) {
                    Some(id) => Err(error_answer(
                        self.vendor,
                        400,
                        &format!("The id {id} is not valid."),
                    )),
                    None => Ok(()),
                },
            );
        // A rate limit throttles what passed the vendor's own checks.
        let mut throttled = false;
        let mut limit_headers = Vec::new();
        let checked = checked.and_then(|()| match shared.rate_limited(self.vendor) {
            None => Ok(()),
            Some((limit, taken)) => {
                if let Some(family) = limit.headers {
                    limit_headers = family.fields(&limit, taken.left, taken.full_in);
                }
                taken.passed.map_err(|wait| {
                    throttled = true;
                    let status = limit.status.unwrap_or_else(|| throttle_status(self.vendor));
                    Answer::empty(status)
                        .header(header::RETRY_AFTER, &limit.retry_after.header(wait))
                })
            }
        });
        let (mut answer, fault) = match checked {
            Err(answer) if throttled => (answer, Some(Fault::Throttle)),
            Err(answer) => (answer, None),
            Ok(()) => {
                let fault = shared.fault(self.vendor, h);
                (self.prepare(fault, success), fault)
            }
        };
        for (name, value) in limit_headers {
            answer = answer.header(header::HeaderName::from_static(name), &value);
        }
        if !shared.sleep_until(due).await {
            return self.finish(
                Answer::message(HANG_STATUS_ON_STOP, "the mock is stopping"),
                None,
            );
        }
        if fault == Some(Fault::Hang) {
            let _ = shared.sleep(shared.faults(self.vendor).hang_for).await;
        }
        self.finish(answer, fault)
    }

    /// The answer for a request that passed the vendor's checks, with `fault` applied.
    fn prepare(&self, fault: Option<Fault>, success: impl FnOnce(Answering) -> Answer) -> Answer {
        let shared = self.shared;
        let usual = if shared.drift(self.vendor).ignore_filter {
            Answering::Others
        } else {
            Answering::Asked
        };
        match fault {
            None => {
                let mut answer = success(usual);
                let drift = shared.drift(self.vendor);
                if (drift.pretty || drift.crlf) && answer.status == 200 {
                    let newline = if drift.crlf { "\r\n" } else { "\n" };
                    answer.body = crate::drift::pretty(&answer.body, newline).into();
                }
                answer
            }
            Some(Fault::IgnoreFilter) => success(Answering::Others),
            Some(Fault::ExtraRecords) => success(Answering::AskedAndOthers),
            Some(Fault::Throttle) => {
                let faults = shared.faults(self.vendor);
                let status = faults
                    .throttle_status
                    .unwrap_or_else(|| throttle_status(self.vendor));
                let retry_after = faults.retry_after.header(std::time::Duration::from_secs(1));
                Answer::empty(status).header(header::RETRY_AFTER, &retry_after)
            }
            Some(Fault::ServerError(status)) => {
                error_answer(self.vendor, status, &self.echoed("An error has occurred."))
            }
            Some(Fault::Hang) => Answer::message(HANG_STATUS_ON_STOP, "hung by fault injection"),
            Some(Fault::Disconnect) => {
                let mut answer = success(usual);
                answer.cut_after = Some(answer.body.len() / 2);
                answer
            }
            Some(Fault::Truncate) => {
                let mut answer = success(usual);
                answer.status = 200;
                answer.body = answer.body.slice(..answer.body.len() / 2);
                answer
            }
            Some(Fault::Html(status)) => Answer::html(status, &format!("{status} Bad Gateway")),
            Some(Fault::MislabelledJson) => {
                let mut answer = success(usual);
                answer.content_type = "text/html; charset=utf-8";
                answer
            }
            Some(Fault::Refused(status)) => error_answer(
                self.vendor,
                status,
                &self.echoed("The request was refused by fault injection."),
            ),
        }
    }

    /// `message`, quoting the request's credential when the mock echoes credentials
    /// ([`crate::config::MockConfig::echo_token`]), as some services do in every error.
    fn echoed(&self, message: &str) -> String {
        match self
            .credential
            .as_deref()
            .filter(|_| self.shared.config.echo_token)
        {
            Some(credential) => format!("{message} (token '{credential}')"),
            None => message.to_owned(),
        }
    }

    fn finish(self, answer: Answer, fault: Option<Fault>) -> Response {
        let response_bytes = answer.cut_after.unwrap_or(answer.body.len());
        self.shared.record(RequestRecord {
            seq: 0,
            vendor: self.vendor,
            operation: self.operation,
            ids: self.ids,
            request_bytes: self.request_bytes,
            status: answer.status,
            response_bytes,
            fault,
            arrived: self.shared.since_start(self.arrived),
        });
        answer.into_response()
    }
}

/// The credential of a request's `Authorization` (what follows its scheme), when the mock
/// echoes credentials ([`crate::config::MockConfig::echo_token`]).
pub(super) fn credential(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    if !shared.config.echo_token {
        return None;
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    Some(value.split_once(' ')?.1.to_owned())
}
