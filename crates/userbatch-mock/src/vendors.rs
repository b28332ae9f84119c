//! The vendor endpoints and the rules each enforces.
//!
//! Every request is answered in this order: the vendor's own checks (credentials, limits,
//! parameters), which answer as the real service would; then, for a request that passed
//! them, the injected fault if one is due; else the records. The answer leaves once the
//! configured latency has passed since the request arrived: the mock's own work is part of
//! the latency, not added to it.
//!
//! | vendor | rule | answer |
//! |---|---|---|
//! | all | no `Authorization` credentials (Nexudus: `Bearer` or `Basic`; others: `Bearer`) | 401 |
//! | all | a token without the role ([`crate::MockConfig::forbid_tokens`]) | 403 with the vendor's error body |
//! | all | a path no vendor has (a base URL with a wrong path prefix) | 404, the web server's HTML page |
//! | all | any, when told to redirect ([`crate::MockConfig::redirect_to`]) | 302 to the prefix plus the path and query |
//! | all | credentials refused, when told to echo them ([`crate::MockConfig::echo_token`]) | 401 whose message quotes the token |
//! | Nexudus | query string longer than 2,048 bytes as sent | 414, an IIS-style HTML page |
//! | Nexudus | list `id` missing or not `[1,2,3]`; get-one id not an integer | 400 |
//! | Nexudus | get-one id missing | 404 with the bare JSON string `"Not found"` |
//! | Nexudus | list | summaries (the spec's unpopulated fields absent), each id once, in an order of the mock's own (by seed), never the request's |
//! | Nexudus | `PUT` body not a whole record with its `Id` | 400 |
//! | Nexudus | `PUT` | 200 with an action result; fields absent from the body are reported cleared, as the vendor would clear them |
//! | User Manager | ids segment longer than 20,000 characters as sent, more than 75 ids, an empty id | 400 |
//! | User Manager | `Accept` missing or without `application/json` (the mock cannot write XML) | 406 |
//! | User Manager | `Accept-Language` missing or not one the spec lists | 400 |
//! | User Manager | `$attribute` unknown, or `directReports`/`groups`/`languages` with more than one id | 400 |
//! | User Manager | `$sort` not `id`, `firstName`, `lastName`, `loginId` or `custom.<name>`; `$order` not `asc`/`desc` | 400 |
//! | User Manager | unknown ids | omitted, or 404 for the whole request ([`crate::UnknownIdAnswer`]) |
//! | User Manager | without `$attribute` | only the summary attributes; `$sort`/`$order` honoured, request order otherwise |
//! | AvePoint | a customer's tenant it does not know ([`crate::MockConfig::avepoint_tenants`]) | 404 `{"message": "Tenant '<id>' was not found for this customer"}` |
//! | AvePoint | body missing, not a JSON object, `userIds` not an array of strings (missing: no one asked for) | 400 |
//! | AvePoint | `pageIndex`/`pageSize` not 32-bit integers of at least 1 | 400 |
//! | AvePoint | found users (each once, request order) paged; `metadata.totalCount` counts them all | 200 |
//! | AvePoint | `pageSize` above [`crate::MockConfig::avepoint_max_page_size`] | served at the cap; `metadata.pageSize` says so |

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{get, post, put};
use percent_encoding::percent_decode_str;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use userbatch_core::rules::{Attributes, OperationRules};

use crate::data::{RecordDrift, RecordSchema, SCHEMAS, hash3};
use crate::drift::Answering;
use crate::faults::Fault;
use crate::{Drift, HANG_STATUS_ON_STOP, RequestRecord, Shared, UnknownIdAnswer, Vendor};

type AppState = State<Arc<Shared>>;

mod generic;

/// The vendors with a handler section of their own below; the others are served by
/// [`generic`] from their spec.
const HAND_WRITTEN: &[&str] = &["nexudus", "usermgr", "avepoint"];

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let routes = Router::new()
        .route("/api/sys/users/", get(nexudus_users))
        .route("/api/sys/users/{id}", get(nexudus_user))
        .route("/api/spaces/coworkers/", get(nexudus_coworkers))
        .route("/api/spaces/coworkers/{id}", get(nexudus_coworker))
        .route("/api/sys/users", put(nexudus_update_user))
        .route("/api/spaces/coworkers", put(nexudus_update_coworker))
        .route("/core/usermgr/v3/users/{ids}", get(usermgr_users))
        .route("/oauth/token", post(oauth_token))
        .route(
            "/partner/external/v3/um/customers/{customer}/tenants/{tenant}/users/batch",
            post(avepoint_users),
        )
        .fallback(unrouted);
    // Every other vendor is served from its spec alone.
    let from_spec: Vec<Vendor> = Vendor::ALL
        .into_iter()
        .filter(|v| !HAND_WRITTEN.contains(&v.name()))
        .collect();
    let routes = generic::routes(routes, &from_spec);
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

    /// A bare JSON string body, Nexudus' style.
    fn bare_string(status: u16, message: &str) -> Self {
        Self::json(status, Value::String(message.to_owned()).to_string())
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

/// Writes a generated record as JSON, drifted as `drift` says, and decodes it as the
/// vendor's generated type `T` when `check` is set (and the record was not drifted on
/// purpose), so a record the clients could not decode fails here, loudly, instead of on
/// the client's side.
#[allow(clippy::too_many_arguments)]
fn write_checked<T: DeserializeOwned>(
    out: &mut Vec<u8>,
    schema: &RecordSchema,
    seed: u64,
    id_field: &str,
    id: &Value,
    skip: Option<&[bool]>,
    drift: &Drift,
    check: bool,
) {
    let start = out.len();
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
    if check && replace.is_empty() {
        let _: T = serde_json::from_slice(&out[start..])
            .expect("mock records fit the generated types (both come from the same spec)");
    }
}

/// An id as text: a JSON string's content, or a number's digits.
fn id_key(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `[record, record, ...]`. Debug builds (the tests) check every record against the
/// generated type `T`; release builds, which serve the benchmarks, check the first of each
/// response, since a full check costs more than writing the records.
#[allow(clippy::too_many_arguments)]
fn typed_array<T: DeserializeOwned>(
    shared: &Shared,
    schema: &RecordSchema,
    seed: u64,
    id_field: &str,
    ids: impl IntoIterator<Item = Value>,
    skip: Option<&[bool]>,
    drift: &Drift,
) -> Vec<u8> {
    let ids = ids.into_iter();
    let count = ids.size_hint().0;
    let mut out = Vec::with_capacity(1024);
    // Records a PUT wrote (none, on the hot path: one look at an empty map).
    let any_written = !shared.written.lock().expect("written lock").is_empty();
    out.push(b'[');
    for (i, id) in ids.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let check = cfg!(debug_assertions) || i == 0;
        let stored = any_written
            .then(|| shared.written(schema, &id_key(&id)))
            .flatten();
        match stored {
            Some(record) => schema.write_stored(&mut out, &record, skip),
            None => write_checked::<T>(&mut out, schema, seed, id_field, &id, skip, drift, check),
        }
        if i == 0 {
            // Records of one schema are about the same size: room for the rest at once.
            out.reserve((out.len() + out.len() / 8) * count.saturating_sub(1));
        }
    }
    out.push(b']');
    out
}

/// An error answer as the vendor writes them, where its spec's `x-userbatch.error-message`
/// says (Nexudus: a bare JSON string; the others: `{"message": ...}`).
fn error_answer(vendor: Vendor, status: u16, message: &str) -> Answer {
    generic::error_answer(vendor, status, message)
}

fn to_bytes(value: &impl Serialize) -> Bytes {
    serde_json::to_vec(value)
        .expect("JSON values serialize")
        .into()
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
    let answer = match vendor {
        Vendor::Nexudus => {
            Answer::bare_string(401, "Authorization has been denied for this request.")
        }
        _ => Answer::message(401, "Unauthorized"),
    };
    answer.header(header::WWW_AUTHENTICATE, "Bearer")
}

// ---------------------------------------------------------------------------------------
// Nexudus

/// A Nexudus handler: `$serve` (the list or the get-one answer) for one operation.
macro_rules! nexudus_handler {
    ($name:ident, $serve:ident, $record:ty, $rules:expr, $schema:ident) => {
        async fn $name(
            State(shared): AppState,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
        ) -> Response {
            $serve::<$record>(&shared, &method, &uri, &headers, &$rules, &SCHEMAS.$schema).await
        }
    };
}

nexudus_handler!(
    nexudus_users,
    nexudus_list,
    nexudus::types::UserSummary,
    nexudus::rules::GET_USERS,
    nexudus_user
);
nexudus_handler!(
    nexudus_coworkers,
    nexudus_list,
    nexudus::types::CoworkerSummary,
    nexudus::rules::GET_COWORKERS,
    nexudus_coworker
);
nexudus_handler!(
    nexudus_user,
    nexudus_one,
    nexudus::types::User,
    nexudus::rules::GET_USER,
    nexudus_user
);
nexudus_handler!(
    nexudus_coworker,
    nexudus_one,
    nexudus::types::Coworker,
    nexudus::rules::GET_COWORKER,
    nexudus_coworker
);

/// Checks shared by every Nexudus operation: credentials, then IIS's query-string limit.
fn nexudus_checks(
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    max_query_bytes: Option<usize>,
) -> Result<(), Answer> {
    access(shared, headers, Vendor::Nexudus, &["Bearer", "Basic"])?;
    let query = uri.query().unwrap_or("");
    if max_query_bytes.is_some_and(|max| query.len() > max) {
        return Err(Answer::html(414, "414 Request-URI Too Long"));
    }
    Ok(())
}

/// `[1,2,3]` -> the ids as sent, or `None` if malformed.
fn bracketed_ids(value: &str) -> Option<Vec<String>> {
    let inner = value.strip_prefix('[')?.strip_suffix(']')?;
    let ids: Vec<String> = inner.split(',').map(str::to_owned).collect();
    // As the spec's pattern: an integer as it prints (no leading zero), at most 19 digits.
    // Those beyond 64 signed bits are nobody's Id: they are simply not found.
    ids.iter()
        .all(|id| {
            (1..=19).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_digit())
                && (id == "0" || !id.starts_with('0'))
        })
        .then_some(ids)
}

async fn nexudus_list<T: DeserializeOwned + Serialize>(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    rules: &'static OperationRules,
    schema: &'static RecordSchema,
) -> Response {
    let mut incoming = Incoming::new(
        shared,
        Vendor::Nexudus,
        &rules.operation_id,
        method,
        uri,
        b"",
    );
    incoming.credential = credential(shared, headers);
    let pairs = query_pairs(uri.query().unwrap_or(""));
    let ids = query_param(&pairs, &rules.ids.name).and_then(|v| bracketed_ids(&v));
    incoming.ids = ids.clone().unwrap_or_default();
    let checked = nexudus_checks(shared, uri, headers, rules.limits.max_query_bytes).and_then(
        |()| match &ids {
            Some(_) => Ok(()),
            None => Err(Answer::bare_string(
                400,
                "The id parameter must be a list of integer Ids in square brackets, e.g. [1,2,3].",
            )),
        },
    );
    let seed = shared.config.seed;
    let unpopulated = rules.partial.as_ref().map_or(&[][..], |p| &p.unpopulated);
    let drift = shared.drift(Vendor::Nexudus);
    let success = |answering: Answering| {
        let mut seen = HashSet::new();
        let asked: Vec<String> = ids
            .unwrap_or_default()
            .into_iter()
            .filter_map(|id| id.parse::<i64>().ok())
            .filter(|id| seen.insert(*id))
            .map(|id| id.to_string())
            .collect();
        let mut found: Vec<i64> = answering
            .ids(&asked, |id| !shared.config.is_missing(id))
            .iter()
            .filter_map(|id| id.parse().ok())
            .collect();
        // The vendor's own order, not the request's.
        found.sort_by_key(|id| hash3(seed, "order", &id.to_string()));
        let mask = schema.mask(unpopulated);
        let skip = (!unpopulated.is_empty()).then_some(mask.as_slice());
        let body = typed_array::<T>(
            shared,
            schema,
            seed,
            &rules.records.id_field,
            found.into_iter().map(Value::from),
            skip,
            drift,
        );
        Answer::json(200, body)
    };
    incoming.answer(checked, success).await
}

async fn nexudus_one<T: DeserializeOwned + Serialize>(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    rules: &'static OperationRules,
    schema: &'static RecordSchema,
) -> Response {
    let mut incoming = Incoming::new(
        shared,
        Vendor::Nexudus,
        &rules.operation_id,
        method,
        uri,
        b"",
    );
    incoming.credential = credential(shared, headers);
    let raw = uri.path().rsplit('/').next().unwrap_or("");
    let id = percent_decode_str(raw).decode_utf8_lossy().into_owned();
    incoming.ids = vec![id.clone()];
    let parsed = id
        .parse::<i64>()
        .ok()
        .filter(|_| id.bytes().all(|b| b.is_ascii_digit()));
    let checked = nexudus_checks(shared, uri, headers, None).and_then(|()| match parsed {
        Some(_) => Ok(()),
        None => Err(Answer::bare_string(400, "The Id must be an integer.")),
    });
    let seed = shared.config.seed;
    let drift = shared.drift(Vendor::Nexudus);
    let success = |answering: Answering| {
        let asked: Vec<String> = parsed.map(|id| id.to_string()).into_iter().collect();
        let answered = answering.ids(&asked, |id| !shared.config.is_missing(id));
        match answered.first().and_then(|id| id.parse::<i64>().ok()) {
            Some(id) => {
                let mut out = Vec::new();
                match shared.written(schema, &id.to_string()) {
                    // What a PUT wrote is what a read returns.
                    Some(record) => schema.write_stored(&mut out, &record, None),
                    None => write_checked::<T>(
                        &mut out,
                        schema,
                        seed,
                        &rules.records.id_field,
                        &Value::from(id),
                        None,
                        drift,
                        true,
                    ),
                }
                Answer::json(200, out)
            }
            None => Answer::bare_string(404, "Not found"),
        }
    };
    incoming.answer(checked, success).await
}

async fn nexudus_update_user(
    State(shared): AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let schema = &SCHEMAS.nexudus_user;
    let put = Put {
        operation: "updateUser",
        list: &nexudus::rules::GET_USERS,
        schema,
    };
    nexudus_update::<nexudus::types::User>(&shared, &method, &uri, &headers, &body, put).await
}

async fn nexudus_update_coworker(
    State(shared): AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let schema = &SCHEMAS.nexudus_coworker;
    let put = Put {
        operation: "updateCoworker",
        list: &nexudus::rules::GET_COWORKERS,
        schema,
    };
    nexudus_update::<nexudus::types::Coworker>(&shared, &method, &uri, &headers, &body, put).await
}

/// What a `PUT` updates: its operation, the list operation whose summaries it must not
/// be fed, and the record schema.
struct Put {
    operation: &'static str,
    list: &'static OperationRules,
    schema: &'static RecordSchema,
}

/// `PUT` of a whole record. The body must decode as the full generated type. A field the
/// list endpoint leaves unpopulated that the body lacks, while the stored record has a
/// value for it, is "cleared", as the vendor would clear it; the answer says which.
async fn nexudus_update<T: DeserializeOwned>(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    put: Put,
) -> Response {
    let Put {
        operation,
        list,
        schema,
    } = put;
    let mut incoming = Incoming::new(shared, Vendor::Nexudus, operation, method, uri, body);
    incoming.credential = credential(shared, headers);
    let parsed: Option<serde_json::Map<String, Value>> = serde_json::from_slice(body).ok();
    let id = parsed
        .as_ref()
        .and_then(|m| m.get(&*list.records.id_field))
        .and_then(Value::as_i64);
    incoming.ids = id.map(|i| vec![i.to_string()]).unwrap_or_default();
    let typed_ok = serde_json::from_slice::<T>(body).is_ok();
    let invalid = parsed.as_ref().and_then(|m| schema.invalid_field(m));
    let checked = nexudus_checks(shared, uri, headers, None).and_then(|()| match (typed_ok, id) {
        _ if invalid.is_some() => {
            let (field, why) = invalid.unwrap_or_default();
            Err(Answer::bare_string(400, &format!("{field} {why}.")))
        }
        (true, Some(_)) => Ok(()),
        _ => Err(Answer::bare_string(
            400,
            "The body must be a whole record with its Id.",
        )),
    });
    let unpopulated = list.partial.as_ref().map_or(&[][..], |p| &p.unpopulated);
    let success = |_: Answering| {
        let fields = parsed.unwrap_or_default();
        let mut stored = Vec::new();
        schema.write_json(
            &mut stored,
            shared.config.seed,
            &list.records.id_field,
            &Value::from(id.unwrap_or_default()),
            None,
            RecordDrift::default(),
        );
        let stored: serde_json::Map<String, Value> =
            serde_json::from_slice(&stored).unwrap_or_default();
        let has_value = |f: &str| stored.get(f).is_some_and(|v| !v.is_null());
        let cleared: Vec<&str> = unpopulated
            .iter()
            .map(|f| &**f)
            .filter(|f| !fields.contains_key(*f) && has_value(f))
            .collect();
        let message = if cleared.is_empty() {
            "Updated.".to_owned()
        } else {
            format!(
                "Updated; fields absent from the body were cleared: {}",
                cleared.join(", ")
            )
        };
        // The record as sent is the record from now on (for this server's lifetime).
        if let Some(id) = id {
            shared
                .written
                .lock()
                .expect("written lock")
                .insert((schema.key, id.to_string()), fields.clone());
        }
        let result = nexudus::types::UpdateResult {
            status: Some(200),
            message: Some(message),
            was_successful: Some(true),
            value: id.map(Value::from),
            errors: None,
        };
        Answer::json(200, to_bytes(&result))
    };
    incoming.answer(checked, success).await
}

// ---------------------------------------------------------------------------------------
// User Manager

fn usermgr_checks(
    shared: &Shared,
    headers: &HeaderMap,
    raw_segment: &str,
    ids: &[String],
    attributes: &[String],
    sort: Option<&str>,
    order: Option<&str>,
) -> Result<(), Answer> {
    let rules = &usermgr::rules::GET_USERS_BY_IDS;
    access(shared, headers, Vendor::Usermgr, &["Bearer"])?;
    let accepts_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|m| m.split(';').next().unwrap_or("").trim() == "application/json")
        });
    if !accepts_json {
        return Err(Answer::message(
            406,
            "Not Acceptable: send Accept: application/json",
        ));
    }
    match headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    {
        None => return Err(Answer::message(400, "Accept-Language is required")),
        Some(lang) if !SCHEMAS.usermgr_languages.iter().any(|l| l == lang) => {
            return Err(Answer::message(
                400,
                "Accept-Language is not a supported locale",
            ));
        }
        Some(_) => {}
    }
    if rules
        .limits
        .max_segment_chars
        .is_some_and(|max| raw_segment.chars().count() > max)
    {
        return Err(Answer::message(400, "ids: at most 20000 characters"));
    }
    if let Some(max) = rules.limits.max_ids.filter(|&max| ids.len() > max) {
        return Err(Answer::message(
            400,
            &format!("ids: at most {max} ids per request"),
        ));
    }
    if ids.iter().any(String::is_empty) {
        return Err(Answer::message(400, "ids: an id is empty"));
    }
    let attrs = rules
        .attributes
        .as_ref()
        .expect("usermgr's spec declares its attributes");
    for a in attributes {
        if !attrs.knows(a) {
            return Err(Answer::message(400, "$attribute: unknown attribute"));
        }
        if ids.len() > 1 && attrs.single_id_only.iter().any(|s| s == a) {
            return Err(Answer::message(
                400,
                "$attribute: valid only for a single user ID",
            ));
        }
    }
    if let Some(sort) = sort {
        let ok = ["id", "firstName", "lastName", "loginId"].contains(&sort)
            || (sort.starts_with(&*attrs.custom_prefix) && sort.len() > attrs.custom_prefix.len());
        if !ok {
            return Err(Answer::message(400, "$sort: unsupported attribute"));
        }
    }
    if order.is_some_and(|o| o != "asc" && o != "desc") {
        return Err(Answer::message(400, "$order: asc or desc"));
    }
    Ok(())
}

async fn usermgr_users(
    State(shared): AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let rules = &usermgr::rules::GET_USERS_BY_IDS;
    let attrs = rules
        .attributes
        .as_ref()
        .expect("usermgr's spec declares its attributes");
    let mut incoming = Incoming::new(
        &shared,
        Vendor::Usermgr,
        &rules.operation_id,
        &method,
        &uri,
        b"",
    );
    incoming.credential = credential(&shared, &headers);
    let raw_segment = uri.path().rsplit('/').next().unwrap_or("").to_owned();
    let ids: Vec<String> = raw_segment
        .split(',')
        .map(|id| percent_decode_str(id).decode_utf8_lossy().into_owned())
        .collect();
    incoming.ids = ids.clone();
    let pairs = query_pairs(uri.query().unwrap_or(""));
    let attributes: Vec<String> = query_param(&pairs, &attrs.param)
        .map(|v| {
            v.split(',')
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let sort = query_param(&pairs, "$sort");
    let order = query_param(&pairs, "$order");
    let checked = usermgr_checks(
        &shared,
        &headers,
        &raw_segment,
        &ids,
        &attributes,
        sort.as_deref(),
        order.as_deref(),
    );
    let seed = shared.config.seed;
    let mode = shared.config.usermgr_unknown_ids;
    let drift = shared.drift(Vendor::Usermgr);
    let success = |answering: Answering| {
        let mut seen = HashSet::new();
        let unique: Vec<String> = ids.iter().filter(|id| seen.insert(*id)).cloned().collect();
        if mode == UnknownIdAnswer::FailRequest
            && answering == Answering::Asked
            && unique.iter().any(|id| shared.config.is_missing(id))
        {
            return Answer::message(404, "Not Found");
        }
        let schema = &SCHEMAS.usermgr_user;
        let mut users: Vec<Map<String, Value>> = answering
            .ids(&unique, |id| !shared.config.is_missing(id))
            .into_iter()
            .map(|id| {
                let mut full = Vec::new();
                let id = Value::String(id);
                write_checked::<usermgr::types::User>(
                    &mut full,
                    schema,
                    seed,
                    &rules.records.id_field,
                    &id,
                    None,
                    drift,
                    true,
                );
                let full = serde_json::from_slice(&full).expect("the mock writes valid JSON");
                select_attributes(full, &attributes, attrs, |name| !schema.has_field(name))
            })
            .collect();
        if let Some(sort) = &sort {
            users.sort_by(|a, b| compare_attribute(a, b, sort, &attrs.custom_prefix));
            if order.as_deref() == Some("desc") {
                users.reverse();
            }
        }
        Answer::json(200, to_bytes(&serde_json::json!({ "user": users })))
    };
    incoming.answer(checked, success).await
}

/// The summary attributes plus those asked for, and any field the spec does not know
/// (drift: a vendor's new field comes along whatever was asked for).
fn select_attributes(
    full: Value,
    asked: &[String],
    attrs: &Attributes,
    unknown: impl Fn(&str) -> bool,
) -> Map<String, Value> {
    let Value::Object(mut full) = full else {
        return Map::new();
    };
    if asked.iter().any(|a| **a == *attrs.all) {
        return full;
    }
    let mut out = Map::new();
    let extra: Vec<String> = full.keys().filter(|k| unknown(k)).cloned().collect();
    for key in extra {
        if let Some(v) = full.remove(&key) {
            out.insert(key, v);
        }
    }
    for name in attrs.summary.iter() {
        if let Some(v) = full.remove(&**name) {
            out.insert(name.to_string(), v);
        }
    }
    let mut custom = Map::new();
    for a in asked {
        if let Some(name) = a.strip_prefix(&*attrs.custom_prefix) {
            custom.insert(name.to_owned(), Value::String(format!("{name} value")));
        } else if let Some(v) = full.remove(a.as_str()) {
            out.insert(a.clone(), v);
        }
    }
    if !custom.is_empty() {
        out.insert("custom".to_owned(), Value::Object(custom));
    }
    out
}

fn compare_attribute(
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    sort: &str,
    custom_prefix: &str,
) -> Ordering {
    let get = |m: &Map<String, Value>| -> String {
        let v = match sort.strip_prefix(custom_prefix) {
            Some(name) => m.get("custom").and_then(|c| c.get(name)),
            None => m.get(sort),
        };
        match v {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        }
    };
    let (x, y) = (get(a), get(b));
    match (x.parse::<i64>(), y.parse::<i64>()) {
        (Ok(i), Ok(j)) => i.cmp(&j),
        _ => x.cmp(&y),
    }
}

// ---------------------------------------------------------------------------------------
// AvePoint

async fn avepoint_users(
    State(shared): AppState,
    axum::extract::Path((customer, tenant)): axum::extract::Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rules = &avepoint::rules::RETRIEVE_MULTIPLE_USERS;
    let paging = rules
        .paging
        .as_ref()
        .expect("avepoint's spec declares paging");
    let mut incoming = Incoming::new(
        &shared,
        Vendor::Avepoint,
        &rules.operation_id,
        &method,
        &uri,
        &body,
    );
    incoming.credential = credential(&shared, &headers);
    // The docs mark `userIds` optional: a body without it asks for no one. An empty string
    // is nobody's id (not found); anything but strings is refused.
    let parsed: Option<Vec<String>> = serde_json::from_slice::<Value>(&body)
        .ok()
        .filter(Value::is_object)
        .and_then(|v| match v.get(&*rules.ids.name).cloned() {
            None => Some(Vec::new()),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|i| match i {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
            Some(_) => None,
        });
    incoming.ids = parsed.clone().unwrap_or_default();
    let pairs = query_pairs(uri.query().unwrap_or(""));
    let page_number = |name: &str, default: u32| -> Option<u64> {
        match query_param(&pairs, name) {
            None => Some(u64::from(default)),
            // `format: int32`, `minimum: 1`.
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=i32::MAX as u64).contains(n)),
        }
    };
    let index = page_number(&paging.index_param, paging.first_index);
    let size = page_number(&paging.size_param, paging.default_size);
    let checked = if let Err(refused) = access(&shared, &headers, Vendor::Avepoint, &["Bearer"]) {
        Err(refused)
    } else if let Some(unknown) = shared.config.unknown_avepoint_tenant(&customer, &tenant) {
        Err(Answer::message(404, &unknown))
    } else if body.is_empty() {
        Err(Answer::message(400, "A request body is required"))
    } else if parsed.is_none() {
        Err(Answer::message(400, "userIds must be an array of strings"))
    } else if index.is_none() || size.is_none() {
        Err(Answer::message(
            400,
            "pageIndex and pageSize must be 32-bit integers of at least 1",
        ))
    } else {
        Ok(())
    };
    let seed = shared.config.seed;
    let drift = shared.drift(Vendor::Avepoint);
    let success = |answering: Answering| {
        let (index, size) = (index.unwrap_or(1), size.unwrap_or(100));
        let size = shared
            .config
            .avepoint_max_page_size
            .map_or(size, |max| size.min(max));
        let mut seen = HashSet::new();
        let unique: Vec<String> = parsed
            .unwrap_or_default()
            .into_iter()
            .filter(|id| seen.insert(id.clone()))
            .collect();
        let found = answering.ids(&unique, |id| !shared.config.is_missing(id));
        let skip = (index - u64::from(paging.first_index)).saturating_mul(size);
        let page_ids = found
            .iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .take(usize::try_from(size).unwrap_or(usize::MAX))
            .map(|id| Value::String(id.clone()));
        let data = typed_array::<avepoint::types::User>(
            &shared,
            &SCHEMAS.avepoint_user,
            seed,
            &rules.records.id_field,
            page_ids,
            None,
            drift,
        );
        let metadata = avepoint::types::PageMetadata {
            page_index: i32::try_from(index).unwrap_or(i32::MAX),
            page_size: i32::try_from(size).unwrap_or(i32::MAX),
            total_count: found.len() as i64,
        };
        // {"data": [...], "metadata": {...}}: UserPage's shape, written without copying
        // the records again.
        let mut body = br#"{"data":"#.to_vec();
        body.extend_from_slice(&data);
        body.extend_from_slice(br#","metadata":"#);
        serde_json::to_writer(&mut body, &metadata).expect("writing to a Vec cannot fail");
        body.push(b'}');
        Answer::json(200, body)
    };
    incoming.answer(checked, success).await
}
