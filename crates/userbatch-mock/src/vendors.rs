//! The vendor endpoints and the rules each enforces.
//!
//! Every request is answered in this order: the vendor's own checks (credentials, limits,
//! parameters), which answer as the real service would; then, for a request that passed
//! them, the injected fault if one is due; else the records. The answer leaves once the
//! configured latency has passed since the request arrived: the mock's own work is part of
//! the latency, not added to it.
//!
//! | rule | answer |
//! |---|---|
//! | no `Authorization` credentials of a scheme the spec names | 401 with the vendor's error body |
//! | a token without the role ([`crate::MockConfig::forbid_tokens`]) | 403 with the vendor's error body |
//! | a path no vendor has (a base URL with a wrong path prefix) | 404, the web server's HTML page |
//! | any, when told to redirect ([`crate::MockConfig::redirect_to`]) | 302 to the prefix plus the path and query |
//! | credentials refused, when told to echo them ([`crate::MockConfig::echo_token`]) | 401 whose message quotes the token |
//!
//! What each operation checks and answers is its spec's: see [`generic`].

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::post;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::data::{RecordDrift, RecordSchema};
use crate::drift::Answering;
use crate::faults::Fault;
use crate::{Drift, HANG_STATUS_ON_STOP, RequestRecord, Shared, Vendor};

type AppState = State<Arc<Shared>>;

pub mod generic;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let routes = Router::new().route("/oauth/token", post(oauth_token));
    let routes = generic::routes(routes).fallback(unrouted);
    // Only a mock told to redirect pays for the layer on every request.
    let routes = if shared.config.redirect_to.is_some() {
        routes.layer(axum::middleware::from_fn_with_state(
            Arc::clone(&shared),
            redirecting,
        ))
    } else {
        routes
    };
    routes.with_state(shared)
}

/// What to send back.
struct Answer {
    status: u16,
    content_type: &'static str,
    body: Bytes,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    /// Send this many body bytes, then close the connection.
    cut_after: Option<usize>,
}

impl Answer {
    fn json(status: u16, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            content_type: "application/json; charset=utf-8",
            body: body.into(),
            headers: Vec::new(),
            cut_after: None,
        }
    }

    /// A JSON body `{"message": ...}`.
    fn message(status: u16, message: &str) -> Self {
        Self::json(
            status,
            serde_json::json!({ "message": message }).to_string(),
        )
    }

    fn html(status: u16, title: &str) -> Self {
        Self {
            status,
            content_type: "text/html; charset=utf-8",
            body: format!(
                "<!DOCTYPE html><html><head><title>{title}</title></head>\
                 <body><h1>{title}</h1></body></html>"
            )
            .into(),
            headers: Vec::new(),
            cut_after: None,
        }
    }

    fn empty(status: u16) -> Self {
        Self {
            status,
            content_type: "application/json; charset=utf-8",
            body: Bytes::new(),
            headers: Vec::new(),
            cut_after: None,
        }
    }

    fn header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, self.content_type);
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        let body = match self.cut_after {
            None => Body::from(self.body),
            Some(n) => {
                // Announce the whole length, send part of it, then fail the body: hyper
                // closes the connection mid-response.
                builder = builder.header(header::CONTENT_LENGTH, self.body.len());
                let part = self.body.slice(..n.min(self.body.len()));
                // The pause lets hyper flush the head and the part before the body fails.
                Body::from_stream(futures_util::stream::unfold(
                    (0u8, part),
                    |(step, part)| async move {
                        match step {
                            0 => Some((Ok(part.clone()), (1, part))),
                            1 => {
                                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                                let cut =
                                    std::io::Error::other("connection closed by fault injection");
                                Some((Err(cut), (2, part)))
                            }
                            _ => None,
                        }
                    },
                ))
            }
        };
        builder
            .body(body)
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }
}

/// A request as the shared flow sees it.
struct Incoming<'a> {
    /// When the handler got the request (its body read).
    arrived: tokio::time::Instant,
    vendor: Vendor,
    operation: &'static str,
    ids: Vec<String>,
    fingerprint: Vec<u8>,
    request_bytes: usize,
    /// The credential the request carried (after its scheme), for answers that echo it.
    credential: Option<String>,
    shared: &'a Shared,
}

impl<'a> Incoming<'a> {
    fn new(
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
    async fn answer(
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
    /// ([`crate::MockConfig::echo_token`]), as some services do in every error.
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

fn throttle_status(vendor: Vendor) -> u16 {
    generic::throttle_status(vendor)
}

/// Writes a generated record as JSON, drifted as `drift` says.
fn write_record(
    out: &mut Vec<u8>,
    schema: &RecordSchema,
    seed: u64,
    id_field: &str,
    id: &Value,
    skip: Option<&[bool]>,
    drift: &Drift,
) {
    // No drift, no work: this is the mock's hot path.
    let replace = if drift.replacements.is_empty() {
        Vec::new()
    } else {
        let key = match id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        drift.replacements_for(&key)
    };
    let record = RecordDrift {
        unknown_fields: drift.unknown_fields,
        replace: &replace,
    };
    let as_integer = match id {
        Value::String(s) if drift.integer_ids && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<i64>().ok().map(Value::from)
        }
        _ => None,
    };
    schema.write_json(
        out,
        seed,
        id_field,
        as_integer.as_ref().unwrap_or(id),
        skip,
        record,
    );
}

/// An error answer as the vendor writes them, where its spec's `x-userbatch.error-message`
/// says (`""`: a bare JSON string; none: `{"message": ...}`).
fn error_answer(vendor: Vendor, status: u16, message: &str) -> Answer {
    generic::error_answer(vendor, status, message)
}

/// Percent-decoded `name=value` pairs of a raw query string.
fn query_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

fn query_param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// The credential of a request's `Authorization` (what follows its scheme), when the mock
/// echoes credentials ([`crate::MockConfig::echo_token`]).
fn credential(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    if !shared.config.echo_token {
        return None;
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    Some(value.split_once(' ')?.1.to_owned())
}

/// The vendor's 401 without credentials it accepts, its 403 for a token without the role
/// ([`crate::MockConfig::forbid_tokens`]).
fn access(
    shared: &Shared,
    headers: &HeaderMap,
    vendor: Vendor,
    schemes: &[&str],
) -> Result<(), Answer> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = authorization
        .and_then(|v| v.split_once(' '))
        .map(|(_, t)| t);
    if !shared.authorized(authorization, schemes) {
        return Err(match token.filter(|_| shared.config.echo_token) {
            // As some services do: the refused credential, quoted back.
            Some(token) => error_answer(vendor, 401, &format!("invalid token '{token}'"))
                .header(header::WWW_AUTHENTICATE, "Bearer"),
            None => unauthorized(vendor),
        });
    }
    if token.is_some_and(|t| shared.config.forbidden_tokens.contains(t)) {
        return Err(error_answer(
            vendor,
            403,
            "The user of this token does not have the role this request needs.",
        ));
    }
    Ok(())
}

/// Every request redirected, before anything else, when the config says so
/// ([`crate::MockConfig::redirect_to`]): `302` to the prefix plus the request's path and
/// query.
async fn redirecting(
    State(shared): AppState,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(prefix) = &shared.config.redirect_to else {
        return next.run(request).await;
    };
    // (Installed only when the config redirects.)
    shared.redirected();
    let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let location = format!("{prefix}{target}");
    let mut answer = Answer::empty(302);
    answer.content_type = "text/plain; charset=utf-8";
    answer.header(header::LOCATION, &location).into_response()
}

/// Any path no vendor has: the HTML 404 page of the web server in front of the vendors, as
/// a base URL with a wrong path prefix meets it.
async fn unrouted(State(shared): AppState) -> Response {
    shared.unrouted();
    Answer::html(404, "404 Not Found").into_response()
}

/// `POST /oauth/token`: the client credentials grant (see [`crate::OAuthClient`]).
async fn oauth_token(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let (status, json) =
        crate::access::token_answer(&shared.config, &shared.tokens, authorization, &body);
    let mut answer = Answer::json(status, json.to_string());
    answer = answer.header(header::CACHE_CONTROL, "no-store");
    answer.into_response()
}

fn unauthorized(vendor: Vendor) -> Answer {
    error_answer(
        vendor,
        401,
        "Authorization has been denied for this request.",
    )
    .header(header::WWW_AUTHENTICATE, "Bearer")
}
