//! Who may call and how often: accepted tokens, an OAuth2 token endpoint issuing
//! short-lived tokens, and a token-bucket rate limit per vendor.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::faults::RetryAfter;

/// An OAuth2 client the mock's token endpoint (`POST /oauth/token`) knows: it issues
/// bearer tokens for the client credentials grant (client authentication by HTTP Basic or
/// in the form body, as RFC 6749 allows), each valid for `lifetime`.
#[derive(Clone)]
pub struct OAuthClient {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// How long each issued token is valid.
    pub lifetime: Duration,
    /// What `expires_in` announces (whole seconds, at least 1); `None` is the lifetime. A
    /// longer one stands for a token revoked before its time, which only a 401 reveals.
    pub announced: Option<Duration>,
    /// The `scope` a token request must ask for (`invalid_scope` otherwise); `None`: any.
    pub scope: Option<String>,
}

impl OAuthClient {
    /// A client whose tokens live `lifetime`, as announced.
    pub fn new(client_id: &str, client_secret: &str, lifetime: Duration) -> Self {
        Self {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            lifetime,
            announced: None,
            scope: None,
        }
    }

    /// Issues tokens only to requests that ask for exactly `scope`.
    pub fn scope(mut self, scope: &str) -> Self {
        self.scope = Some(scope.to_owned());
        self
    }
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("lifetime", &self.lifetime)
            .field("announced", &self.announced)
            .field("scope", &self.scope)
            .finish()
    }
}

/// A token-bucket rate limit: `burst` requests at once, refilled at `per_second`; a request
/// that finds the bucket empty gets the vendor's throttling status (or `status`) with
/// `Retry-After`.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Requests per second the bucket refills.
    pub per_second: f64,
    /// The bucket's size.
    pub burst: u32,
    /// How `Retry-After` is written: [`RetryAfter::Wait`] says when the next request can
    /// pass.
    pub retry_after: RetryAfter,
    /// Throttling status; `None` uses the vendor's own (its spec's first throttle status).
    pub status: Option<u16>,
    /// Rate-limit headers on every answer the limit covers, throttled or not; `None`
    /// sends none.
    pub headers: Option<LimitHeaders>,
}

/// The rate-limit headers a [`RateLimit`] sends. Either family describes the bucket as a
/// quota of `per_second` requests (rounded) per 1-second window, of which what the bucket
/// holds remains (rounded down), reset when the bucket is full again (in whole seconds,
/// rounded up, as most servers write it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitHeaders {
    /// `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds).
    XRateLimit,
    /// `RateLimit-Policy: "default";q=..;w=1` and `RateLimit: "default";r=..;t=..`
    /// (draft-ietf-httpapi-ratelimit-headers, its 8th draft on).
    Ietf,
}

impl LimitHeaders {
    /// The headers for a bucket of `limit` that holds `left` and is full again in `full_in`.
    pub(crate) fn fields(
        self,
        limit: &RateLimit,
        left: f64,
        full_in: Duration,
    ) -> Vec<(&'static str, String)> {
        let quota = limit.per_second.round().max(1.0);
        let remaining = left.floor().max(0.0);
        let reset = full_in.as_secs_f64().ceil();
        match self {
            Self::XRateLimit => vec![
                ("x-ratelimit-limit", quota.to_string()),
                ("x-ratelimit-remaining", remaining.to_string()),
                ("x-ratelimit-reset", reset.to_string()),
            ],
            Self::Ietf => vec![
                ("ratelimit-policy", format!("\"default\";q={quota};w=1")),
                ("ratelimit", format!("\"default\";r={remaining};t={reset}")),
            ],
        }
    }
}

impl RateLimit {
    /// `per_second` with a burst of `burst`, `Retry-After` saying the wait in whole seconds
    /// (rounded up, as most servers write it).
    pub fn new(per_second: f64, burst: u32) -> Self {
        Self {
            per_second,
            burst,
            retry_after: RetryAfter::Wait,
            status: None,
            headers: None,
        }
    }

    /// The same limit, sending `headers` on every answer.
    pub fn with_headers(mut self, headers: LimitHeaders) -> Self {
        self.headers = Some(headers);
        self
    }
}

/// A token bucket's state.
#[derive(Debug)]
pub(crate) struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    pub(crate) fn full(limit: &RateLimit) -> Self {
        Self {
            tokens: f64::from(limit.burst),
            at: Instant::now(),
        }
    }

    /// Takes a token; if none is left, how long until one is. Either way, what the bucket
    /// holds after and how long until it is full.
    pub(crate) fn take(&mut self, limit: &RateLimit) -> Taken {
        let now = Instant::now();
        let size = f64::from(limit.burst.max(1));
        let per_second = limit.per_second.max(1e-9);
        let refill = now.duration_since(self.at).as_secs_f64() * limit.per_second;
        self.tokens = (self.tokens + refill).min(size);
        self.at = now;
        let passed = if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / per_second))
        };
        Taken {
            passed,
            left: self.tokens,
            full_in: Duration::from_secs_f64(((size - self.tokens) / per_second).min(86_400.0)),
        }
    }
}

/// What a request found in a [`Bucket`].
pub(crate) struct Taken {
    /// Passed, or how long until a token is there.
    pub passed: Result<(), Duration>,
    /// What the bucket holds after.
    pub left: f64,
    /// How long until it is full.
    pub full_in: Duration,
}

/// Tokens: which are accepted, and the ones the token endpoint issued.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    issued: Mutex<HashMap<String, Instant>>,
    next: std::sync::atomic::AtomicU64,
    pub(crate) requests: std::sync::atomic::AtomicU64,
}

/// Whether a bearer or basic credential passes: with no accepted tokens and no OAuth client
/// configured, any non-empty credential does (the vendors' own checks aside); otherwise
/// only an accepted token or an issued one that has not expired.
pub(crate) fn accepts(
    accepted: &Accepted,
    oauth: Option<&OAuthClient>,
    tokens: &Tokens,
    scheme: &str,
    credential: &str,
) -> bool {
    if credential.trim().is_empty() {
        return false;
    }
    if accepted.is_empty() && oauth.is_none() {
        return true;
    }
    if scheme != "Bearer" {
        return false;
    }
    if accepted.contains(credential) {
        return true;
    }
    let issued = tokens.issued.lock().expect("tokens lock");
    issued
        .get(credential)
        .is_some_and(|expires| Instant::now() < *expires)
}

/// The answer of the token endpoint of `oauth` to a form `body` with these headers:
/// (status, JSON); `seed` makes the tokens it issues.
pub(crate) fn token_answer(
    oauth: Option<&OAuthClient>,
    seed: u64,
    tokens: &Tokens,
    authorization: Option<&str>,
    body: &[u8],
) -> (u16, serde_json::Value) {
    use std::sync::atomic::Ordering;
    tokens.requests.fetch_add(1, Ordering::Relaxed);
    let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let error = |status: u16, code: &str, description: &str| {
        (
            status,
            serde_json::json!({ "error": code, "error_description": description }),
        )
    };
    let Some(client) = oauth else {
        return error(400, "invalid_request", "this server issues no tokens");
    };
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return error(400, "unsupported_grant_type", "only client_credentials");
    }
    let basic = authorization
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| decode_basic(b.trim()));
    let (id, secret) = match basic {
        Some(pair) => pair,
        None => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    if id != client.client_id || secret != client.client_secret {
        return error(401, "invalid_client", "unknown client or wrong secret");
    }
    if client.scope.is_some() && form.get("scope") != client.scope.as_ref() {
        return error(
            400,
            "invalid_scope",
            "the scope asked for is not the client's",
        );
    }
    let n = tokens.next.fetch_add(1, Ordering::Relaxed);
    let token = format!("mock-oauth-{n}-{:x}", crate::data::splitmix(n ^ seed));
    // Zero: a token expired when issued (every use of it is refused).
    let lifetime = client.lifetime;
    tokens
        .issued
        .lock()
        .expect("tokens lock")
        .insert(token.clone(), Instant::now() + lifetime);
    (
        200,
        serde_json::json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": client.announced.unwrap_or(lifetime).as_secs().max(1),
        }),
    )
}

/// `id:secret` from HTTP Basic credentials (RFC 6749 form-encodes both first).
fn decode_basic(encoded: &str) -> Option<(String, String)> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    Some((decode(id), decode(secret)))
}

/// The accepted static tokens, for `MockConfig`.
pub(crate) type Accepted = HashSet<String>;
