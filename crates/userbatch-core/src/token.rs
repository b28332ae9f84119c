//! Tokens that last the run: the OAuth2 client credentials grant (RFC 6749, section 4.4),
//! cached, renewed shortly before they expire, and renewed once when the vendor answers
//! 401; concurrent requests share one renewal.
//!
//! Why not the `oauth2` crate: its HTTP integration is for reqwest 0.12 (a second HTTP
//! stack beside ours), and without it it still brings the PKCE and authorization-code
//! machinery (`rand`, `sha2`, `thiserror` 1, another `syn` and `base64`) for flows userbatch
//! does not use. The client credentials grant is one form POST and a JSON answer.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::Deserialize;

use crate::secret::Secret;

/// How the client authenticates at the token endpoint (RFC 6749, section 2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// HTTP Basic with the form-encoded client id and secret (what servers must support).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Form,
}

/// The OAuth2 client credentials grant: where to get tokens, and as whom.
///
/// `Debug` never shows the secret.
///
/// ```
/// use userbatch_core::{ClientCredentials, Credentials};
///
/// let grant = ClientCredentials::new("https://login.example.com/oauth/token", "app", "s3cret")
///     .scope("users.read");
/// assert!(!format!("{grant:?}").contains("s3cret"));
/// let credentials = Credentials::client_credentials(grant);
/// # let _ = credentials;
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub(crate) token_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) scope: Option<String>,
    pub(crate) auth: ClientAuth,
}

impl ClientCredentials {
    /// The grant at `token_url` for this client.
    pub fn new(
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        Self {
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scope: None,
            auth: ClientAuth::Basic,
        }
    }

    /// The grant of a vendor's spec (its OAuth2 client credentials flow's `tokenUrl`, and
    /// the scopes its `security` requirement names) for this client; `None` if the spec
    /// has no such flow.
    pub fn for_vendor(
        rules: &crate::rules::VendorRules,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Option<Self> {
        let grant = Self::new(rules.token_url.as_deref()?, client_id, client_secret);
        Some(match rules.scope.as_deref() {
            Some(scope) => grant.scope(scope),
            None => grant,
        })
    }

    /// Asks for this scope.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// How the client authenticates at the token endpoint.
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// What of this grant must never be shown: the secret, and `id:secret` as HTTP Basic
    /// sends it (form-encoded first), whose base64 a [`crate::scrub::Scrubber`] derives.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let secret = self.client_secret.expose();
        vec![
            secret.to_owned(),
            format!("{}:{secret}", self.client_id),
            format!("{}:{}", encode(&self.client_id), encode(secret)),
        ]
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("scope", &self.scope)
            .field("auth", &self.auth)
            .finish()
    }
}

/// Why no token could be had. Its text never holds the secret or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError(pub(crate) String);

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot get an access token: {}", self.0)
    }
}

impl std::error::Error for TokenError {}

/// What the cache holds: a token, or the token endpoint's refusal of this client (it
/// would refuse the same secret again: build a client with new credentials).
enum Cached {
    Token(Token),
    Refused(TokenError),
}

/// A token and when to stop using it.
struct Token {
    header: HeaderValue,
    renew_at: Option<Instant>,
}

/// Tokens for one client, shared by its clones (and so by every request of a batch).
#[derive(Clone)]
pub(crate) struct TokenSource {
    inner: Arc<Inner>,
}

struct Inner {
    grant: ClientCredentials,
    http: reqwest::Client,
    cache: tokio::sync::Mutex<Option<Cached>>,
    fetched: AtomicU64,
    /// The last tokens issued, for [`crate::scrub::Scrubber`]s: a vendor may echo an old one.
    issued: std::sync::Mutex<std::collections::VecDeque<Secret>>,
}

/// How many of the last issued tokens a client remembers to scrub.
const REMEMBERED_TOKENS: usize = 8;

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("grant", &self.inner.grant)
            .field("fetched", &self.inner.fetched.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<f64>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl TokenSource {
    pub(crate) fn new(grant: ClientCredentials, http: reqwest::Client) -> Self {
        Self {
            inner: Arc::new(Inner {
                grant,
                http,
                cache: tokio::sync::Mutex::new(None),
                fetched: AtomicU64::new(0),
                issued: std::sync::Mutex::new(std::collections::VecDeque::new()),
            }),
        }
    }

    /// The last tokens issued (at most [`REMEMBERED_TOKENS`]).
    pub(crate) fn issued(&self) -> Vec<String> {
        let issued = self.inner.issued.lock().unwrap_or_else(|e| e.into_inner());
        issued.iter().map(|t| t.expose().to_owned()).collect()
    }

    /// Tokens fetched so far.
    pub(crate) fn fetched(&self) -> u64 {
        self.inner.fetched.load(Ordering::Relaxed)
    }

    /// The `Authorization` value to send: the cached token, or a new one if there is none
    /// or it is about to expire. Requests waiting meanwhile share that one fetch.
    pub(crate) async fn header(&self) -> Result<HeaderValue, TokenError> {
        let mut cache = self.inner.cache.lock().await;
        match cache.as_ref() {
            Some(Cached::Refused(e)) => return Err(e.clone()),
            Some(Cached::Token(token)) if token.renew_at.is_none_or(|at| Instant::now() < at) => {
                return Ok(token.header.clone());
            }
            _ => {}
        }
        self.refill(&mut cache).await
    }

    /// After the vendor refused `rejected` with 401: a new token, unless another request
    /// already got one since (then that one).
    pub(crate) async fn renew(&self, rejected: &HeaderValue) -> Result<HeaderValue, TokenError> {
        let mut cache = self.inner.cache.lock().await;
        match cache.as_ref() {
            Some(Cached::Refused(e)) => return Err(e.clone()),
            Some(Cached::Token(token)) if token.header != *rejected => {
                return Ok(token.header.clone());
            }
            _ => {}
        }
        self.refill(&mut cache).await
    }

    async fn refill(&self, cache: &mut Option<Cached>) -> Result<HeaderValue, TokenError> {
        match self.fetch().await {
            Ok(token) => {
                let header = token.header.clone();
                *cache = Some(Cached::Token(token));
                Ok(header)
            }
            Err(Fetch::Refused(e)) => {
                *cache = Some(Cached::Refused(e.clone()));
                Err(e)
            }
            Err(Fetch::Failed(e)) => Err(e),
        }
    }

    async fn fetch(&self) -> Result<Token, Fetch> {
        let grant = &self.inner.grant;
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &grant.scope {
            form.push(("scope", scope));
        }
        let mut request = self
            .inner
            .http
            .post(&grant.token_url)
            .header(reqwest::header::ACCEPT, "application/json");
        match grant.auth {
            ClientAuth::Basic => {
                let encode =
                    |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let pair = format!(
                    "{}:{}",
                    encode(&grant.client_id),
                    encode(grant.client_secret.expose())
                );
                let mut value = HeaderValue::from_str(&format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ))
                .map_err(|_| {
                    Fetch::Refused(TokenError("the client id or secret cannot be sent".into()))
                })?;
                value.set_sensitive(true);
                request = request.header(AUTHORIZATION, value);
            }
            ClientAuth::Form => {
                form.push(("client_id", &grant.client_id));
                form.push(("client_secret", grant.client_secret.expose()));
            }
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&form)
            .finish();
        let started = Instant::now();
        let mut last = String::new();
        // A token endpoint that is briefly down is asked again, twice; a refusal is final.
        for attempt in 0..3u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
            let answer = request
                .try_clone()
                .expect("a form body can be sent again")
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body.clone())
                .send()
                .await;
            let response = match answer {
                Ok(r) => r,
                Err(e) => {
                    last = format!("the token endpoint could not be reached ({})", short(&e));
                    continue;
                }
            };
            let status = response.status();
            let text = response.bytes().await.unwrap_or_default();
            if status.is_server_error() {
                last = format!("the token endpoint answered HTTP {}", status.as_u16());
                continue;
            }
            if !status.is_success() {
                // The endpoint's own words may echo what it was sent: never the secret.
                let scrubber = crate::scrub::Scrubber::new(grant.secrets());
                // Scrubbed whole, then cut: a secret across the cut would survive in part.
                let why = serde_json::from_slice::<ErrorAnswer>(&text)
                    .map(|e| match e.error_description {
                        Some(d) => format!("{}: {d}", e.error),
                        None => e.error,
                    })
                    .map(|why| crate::json::cut(&scrubber.scrub(&why)))
                    .unwrap_or_else(|_| "no OAuth2 error in the body".into());
                return Err(Fetch::Refused(TokenError(format!(
                    "the token endpoint answered HTTP {} ({why})",
                    status.as_u16()
                ))));
            }
            let token: TokenAnswer = serde_json::from_slice(&text).map_err(|e| {
                Fetch::Failed(TokenError(format!(
                    "the token endpoint's answer is not a token ({e})"
                )))
            })?;
            if token
                .token_type
                .as_deref()
                .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
            {
                return Err(Fetch::Refused(TokenError(
                    "the token endpoint issued a non-bearer token".into(),
                )));
            }
            let mut header = HeaderValue::from_str(&format!("Bearer {}", token.access_token))
                .map_err(|_| {
                    Fetch::Failed(TokenError(
                        "the issued token cannot be sent in a header".into(),
                    ))
                })?;
            header.set_sensitive(true);
            {
                let mut issued = self.inner.issued.lock().unwrap_or_else(|e| e.into_inner());
                if issued.len() == REMEMBERED_TOKENS {
                    issued.pop_front();
                }
                issued.push_back(Secret::from(token.access_token.clone()));
            }
            // Renewed a little before it expires: a tenth of its life, at most a minute.
            let renew_at = token
                .expires_in
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(Duration::from_secs_f64)
                .map(|life| started + life - (life / 10).min(Duration::from_secs(60)));
            self.inner.fetched.fetch_add(1, Ordering::Relaxed);
            return Ok(Token { header, renew_at });
        }
        Err(Fetch::Failed(TokenError(last)))
    }
}

/// Why a fetch failed: refused (final for this client) or not reached (try again later).
enum Fetch {
    Refused(TokenError),
    Failed(TokenError),
}

/// A reqwest error in a few words (its Display may hold the URL, which is harmless here).
fn short(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    }
}
