//! Credentials and HTTP settings shared by every generated vendor client.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};

use crate::secret::Secret;
use crate::token::{ClientCredentials, TokenError, TokenSource};

/// Default per-request timeout: the whole exchange, connect to last body byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default TCP + TLS connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most redirects a client follows for one request. It follows only those within the
/// request's origin (scheme, host and port) and to `https` or loopback: an answer that
/// redirects elsewhere comes back as it is (the caller sees the 3xx and where it points),
/// so ids never go to a host the user did not name.
pub const MAX_REDIRECTS: usize = 5;

/// How a client proves who it is to the vendor.
///
/// `Debug` never shows a token or a password.
///
/// ```
/// use userbatch_core::Credentials;
///
/// let c = Credentials::bearer("tok-123");
/// assert!(!format!("{c:?}").contains("tok-123"));
/// assert!(Credentials::bearer("bad\ntoken").header_value().is_none());
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    /// Send no `Authorization` header.
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic base64(<username>:<password>)`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// A bearer token from an OAuth2 token endpoint (client credentials grant), cached,
    /// renewed before it expires and once when the vendor answers 401.
    ClientCredentials(ClientCredentials),
}

impl Credentials {
    /// Bearer-token credentials.
    pub fn bearer(token: impl Into<Secret>) -> Self {
        Self::Bearer(token.into())
    }

    /// Bearer tokens from an OAuth2 token endpoint (see [`ClientCredentials`]).
    pub fn client_credentials(grant: ClientCredentials) -> Self {
        Self::ClientCredentials(grant)
    }

    /// HTTP Basic credentials.
    pub fn basic(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Self::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The `Authorization` header value, marked sensitive so HTTP-level logging in reqwest and
    /// hyper redacts it; `None` for [`Credentials::None`], for client credentials (whose
    /// token comes from the token endpoint, per request) or a value that is not a valid
    /// header.
    pub fn header_value(&self) -> Option<HeaderValue> {
        let text = match self {
            Self::None | Self::ClientCredentials(_) => return None,
            Self::Bearer(token) => format!("Bearer {}", token.expose()),
            Self::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            }
        };
        let mut value = HeaderValue::from_str(&text).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Self::ClientCredentials(grant) => {
                f.debug_tuple("ClientCredentials").field(grant).finish()
            }
            Self::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// What a generated `Client` carries besides its base URL and `reqwest::Client`; its hooks
/// call [`ClientState::prepare`] and [`ClientState::check_path`] on every request.
#[derive(Clone, Debug, Default)]
pub struct ClientState {
    credentials: Credentials,
    /// The base URL's path (`""` for none), which every request's path starts with.
    base_path: String,
    /// Where client credentials get their tokens.
    tokens: Option<TokenSource>,
}

impl ClientState {
    /// State that authenticates with `credentials`, for a base URL without a path.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            base_path: String::new(),
            tokens: None,
        }
    }

    /// Access tokens fetched from the token endpoint so far (client credentials only).
    pub fn tokens_fetched(&self) -> u64 {
        self.tokens.as_ref().map_or(0, TokenSource::fetched)
    }

    /// The credentials this client sends.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// A [`crate::scrub::Scrubber`] for every secret this client holds now: the bearer token, the Basic
    /// password and `user:password` (and so its base64), the client secret and the tokens
    /// the token endpoint issued to it. For text from the vendor that errors and logs
    /// carry.
    pub fn scrubber(&self) -> crate::scrub::Scrubber {
        let mut secrets: Vec<String> = Vec::new();
        match &self.credentials {
            Credentials::None => {}
            Credentials::Bearer(token) => secrets.push(token.expose().to_owned()),
            Credentials::Basic { username, password } => {
                secrets.push(password.expose().to_owned());
                secrets.push(format!("{username}:{}", password.expose()));
            }
            Credentials::ClientCredentials(grant) => secrets.extend(grant.secrets()),
        }
        if let Some(tokens) = &self.tokens {
            secrets.extend(tokens.issued());
        }
        crate::scrub::Scrubber::new(secrets)
    }

    /// Readies a request for the vendor: removes the `api-version` header progenitor adds
    /// (it carries the spec's own version, which means nothing to the vendor), asks for
    /// JSON where the request does not say what it accepts (the batch operations receive
    /// their answers as bytes, so the generated code leaves `Accept` out), and sets
    /// `Authorization` from the credentials (for client credentials, a current token from
    /// the token endpoint, which may have to be fetched first).
    pub async fn prepare(&self, request: &mut reqwest::Request) -> Result<(), TokenError> {
        let value = match &self.tokens {
            Some(tokens) => Some(tokens.header().await?),
            None => self.credentials.header_value(),
        };
        let headers = request.headers_mut();
        headers.remove("api-version");
        if !headers.contains_key(ACCEPT) {
            headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        }
        if let Some(value) = value {
            headers.insert(AUTHORIZATION, value);
        }
        Ok(())
    }

    /// Sends a prepared request. With client credentials, a 401 answer gets one renewal of
    /// the token (shared with every request refused meanwhile) and one more try; a 401
    /// after that is the caller's to handle.
    pub async fn execute(
        &self,
        client: &reqwest::Client,
        request: reqwest::Request,
    ) -> reqwest::Result<reqwest::Response> {
        let Some(tokens) = &self.tokens else {
            return client.execute(request).await;
        };
        let again = request.try_clone();
        let used = request.headers().get(AUTHORIZATION).cloned();
        let response = client.execute(request).await?;
        if response.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let (Some(mut again), Some(used)) = (again, used) else {
            return Ok(response);
        };
        match tokens.renew(&used).await {
            Ok(fresh) => {
                again.headers_mut().insert(AUTHORIZATION, fresh);
                client.execute(again).await
            }
            Err(_) => Ok(response),
        }
    }

    /// Refuses a request whose path is not its operation's template (`paths` maps each
    /// operation, as progenitor names it, to its spec path): no parameter value may add,
    /// remove or climb a segment, whoever built the request.
    ///
    /// ```
    /// use userbatch_core::{ClientState, Credentials};
    ///
    /// let paths = &[("get_user", "/api/sys/users/{id}")];
    /// let state = ClientState::new(Credentials::None);
    /// let ok = reqwest::Request::new(reqwest::Method::GET, "https://x.test/api/sys/users/5".parse().unwrap());
    /// assert!(state.check_path(&ok, "get_user", paths).is_ok());
    /// // `\` is a separator to URL parsers: `5\..\..` climbs.
    /// let bad = reqwest::Request::new(reqwest::Method::GET, r"https://x.test/api/sys/users/5\..\..\admin".parse().unwrap());
    /// assert!(state.check_path(&bad, "get_user", paths).is_err());
    /// ```
    pub fn check_path(
        &self,
        request: &reqwest::Request,
        operation: &str,
        paths: &[(&str, &str)],
    ) -> Result<(), String> {
        let Some((_, template)) = paths.iter().find(|(op, _)| *op == operation) else {
            return Err(format!("no path template for the operation {operation}"));
        };
        if crate::path::within_template(request.url().path(), &self.base_path, template) {
            Ok(())
        } else {
            Err(format!(
                "the request's path is not {template}: a parameter would change it"
            ))
        }
    }
}

/// How to build a vendor client: base URL, credentials and explicit timeouts.
///
/// ```
/// use std::time::Duration;
/// use userbatch_core::{ClientConfig, Credentials};
///
/// let config = ClientConfig::new("https://spaces.nexudus.com")
///     .credentials(Credentials::bearer("token"))
///     .timeout(Duration::from_secs(10));
/// assert_eq!(config.timeout_value(), Duration::from_secs(10));
/// assert!(!format!("{config:?}").contains("token\""));
/// ```
#[derive(Clone, Debug)]
pub struct ClientConfig {
    base_url: String,
    credentials: Credentials,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    allow_insecure: bool,
}

impl ClientConfig {
    /// Settings for `base_url` with no credentials and the default timeouts
    /// ([`DEFAULT_TIMEOUT`], [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            credentials: Credentials::None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            user_agent: concat!("userbatch/", env!("CARGO_PKG_VERSION")).to_owned(),
            allow_insecure: false,
        }
    }

    /// Allows sending credentials over plain HTTP to a host that is not loopback (and then
    /// through a proxy the environment names). Off by default: a token in clear can be read
    /// by anyone on the way.
    pub fn allow_insecure(mut self, allow: bool) -> Self {
        self.allow_insecure = allow;
        self
    }

    /// Sets the credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Sets the per-request timeout (connect to last body byte).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The per-request timeout.
    pub fn timeout_value(&self) -> Duration {
        self.timeout
    }

    /// The connect timeout.
    pub fn connect_timeout_value(&self) -> Duration {
        self.connect_timeout
    }

    /// Builds the `reqwest::Client` these settings describe. Over plain HTTP (loopback, or
    /// where [`ClientConfig::allow_insecure`] allows it), proxies from the environment are
    /// not used unless insecure transport is allowed: a plaintext proxy would see the token.
    ///
    /// A client that only ever speaks plain HTTP (the base URL, and the token URL if there
    /// is one, are `http://`; redirects never leave the first request's origin; no proxy
    /// from the environment, which could be an `https://` one) trusts no certificate
    /// authority: reading the system's roots costs a process about 5 ms of CPU, for
    /// connections it will not make.
    pub fn http_client(&self) -> Result<reqwest::Client, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.clone())
            .redirect(redirect_policy())
            .tcp_nodelay(true);
        if is_http(&self.base_url) && !self.allow_insecure {
            builder = builder.no_proxy();
        }
        if self.plain_http_only() {
            builder = builder.tls_certs_only(std::iter::empty());
        }
        builder.build()
    }

    /// Whether every URL this client is given is `http://`, and no proxy is taken from
    /// the environment.
    fn plain_http_only(&self) -> bool {
        !self.allow_insecure
            && is_http(&self.base_url)
            && match &self.credentials {
                Credentials::ClientCredentials(grant) => is_http(&grant.token_url),
                _ => true,
            }
    }

    /// Checks the base URL as `reqwest` will read it: `http` or `https`, a host, no
    /// credentials in it, no query or fragment; and that credentials go in clear only to
    /// loopback unless [`ClientConfig::allow_insecure`]. The token URL of client
    /// credentials is held to the same rules.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.check_url(&self.base_url, "the base URL")
    }

    fn check_url(&self, text: &str, what: &'static str) -> Result<(), ConfigError> {
        let bad = |why: &str| ConfigError::BaseUrl(format!("{what}: {why}"));
        let url = reqwest::Url::parse(text).map_err(|e| match e {
            url::ParseError::RelativeUrlWithoutBase => bad(&format!(
                "not a URL (no scheme): did you mean https://{text}?"
            )),
            e => bad(&format!("not a URL ({e})")),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("the scheme must be https:// (or http:// to loopback)"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "it holds credentials (user:password@); give them as the client's credentials",
            ));
        }
        if url.fragment().is_some() || (url.query().is_some() && what == "the base URL") {
            return Err(bad("it has a query or a fragment"));
        }
        let Some(host) = url.host() else {
            return Err(bad("it has no host"));
        };
        let loopback = is_loopback(&url);
        if url.scheme() == "http"
            && !loopback
            && self.credentials != Credentials::None
            && !self.allow_insecure
        {
            return Err(ConfigError::Insecure(host.to_string()));
        }
        Ok(())
    }

    /// The base URL, the `reqwest::Client`, and the state for the generated client's hooks.
    ///
    /// Fails if the base URL is not one to send credentials to ([`ClientConfig::check`]),
    /// if the credentials cannot form an `Authorization` header (a token with a line break,
    /// say: sending no header instead would fail later, and less clearly), or if the TLS
    /// backend cannot be initialised.
    pub fn into_parts(self) -> Result<(String, reqwest::Client, ClientState), ConfigError> {
        self.check()?;
        let grant = match &self.credentials {
            Credentials::ClientCredentials(grant) => {
                self.check_url(&grant.token_url, "the token URL")?;
                Some(grant.clone())
            }
            Credentials::None => None,
            other if other.header_value().is_none() => return Err(ConfigError::InvalidCredentials),
            _ => None,
        };
        let http = self.http_client().map_err(ConfigError::Http)?;
        let base_path = reqwest::Url::parse(&self.base_url)
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let tokens = grant.map(|grant| TokenSource::new(grant, http.clone()));
        let state = ClientState {
            credentials: self.credentials,
            base_path,
            tokens,
        };
        Ok((self.base_url, http, state))
    }
}

/// Follows a redirect only within the first request's origin, to `https` or loopback, at
/// most [`MAX_REDIRECTS`] times (more is an error: a loop); any other redirect is not
/// followed and its answer comes back as it is.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.stop();
        };
        let to = attempt.url();
        let same_origin = first.scheme() == to.scheme()
            && first.host_str() == to.host_str()
            && first.port_or_known_default() == to.port_or_known_default();
        if !same_origin || !(to.scheme() == "https" || is_loopback(to)) {
            return attempt.stop();
        }
        if attempt.previous().len() > MAX_REDIRECTS {
            let error = TooManyRedirects;
            return attempt.error(error);
        }
        attempt.follow()
    })
}

/// A request that kept being redirected within its origin, more than [`MAX_REDIRECTS`]
/// times.
#[derive(Debug)]
pub struct TooManyRedirects;

impl fmt::Display for TooManyRedirects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redirected more than {MAX_REDIRECTS} times (a loop?)")
    }
}

impl std::error::Error for TooManyRedirects {}

/// Whether the URL's scheme is `http` (in any case).
fn is_http(url: &str) -> bool {
    url.get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
}

/// Whether a URL's host is loopback (`localhost`, 127.0.0.0/8, `::1`).
fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The origin of a URL as messages show it, `scheme://host:port`: never its path, query or
/// credentials.
pub fn origin_of(url: &reqwest::Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        _ => format!("{}:", url.scheme()),
    }
}

/// Why a client could not be built from a [`ClientConfig`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// The credentials contain characters an HTTP header cannot carry. The message never
    /// includes the credentials.
    InvalidCredentials,
    /// The base URL cannot be used: not `http`/`https`, no host, credentials, a query or a
    /// fragment in it (the reason says which).
    BaseUrl(String),
    /// Credentials would go in clear (plain HTTP) to this host, which is not loopback; see
    /// [`ClientConfig::allow_insecure`].
    Insecure(String),
    /// `reqwest` could not build its client (TLS backend initialisation).
    Http(reqwest::Error),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidCredentials => f.write_str(
                "the credentials cannot be sent in an Authorization header \
                 (they contain a control character or non-visible byte)",
            ),
            Self::BaseUrl(why) => write!(f, "cannot be used: {why}"),
            Self::Insecure(host) => write!(
                f,
                "refusing to send credentials over plain HTTP to {host}: use https://, or \
                 allow insecure transport"
            ),
            Self::Http(e) => write!(f, "cannot build the HTTP client: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Http(e) => Some(e),
            _ => None,
        }
    }
}

/// The body of a vendor crate's `lib.rs`: the generated module (`src/generated.rs`, from
/// `cargo xtask generate`) and everything of it, what a consumer of the crate alone needs
/// from `userbatch-core` (its [`ClientError`](crate::ClientError), [`plan`](crate::plan), client
/// configuration, [`receive`](crate::receive)), and
/// [`vendor_client_support!`](crate::vendor_client_support).
#[macro_export]
macro_rules! vendor_crate {
    () => {
        #[allow(missing_docs, clippy::all, clippy::pedantic, unused_qualifications)]
        mod generated;

        pub use generated::*;
        pub use $crate::ClientError;
        pub use $crate::plan;
        pub use $crate::{
            ClientConfig, ConfigError, Credentials, RawRecord, Received, Record, Secret, Timestamp,
            receive,
        };

        $crate::vendor_client_support!(rules::PATHS);
    };
}

/// Implements, for a generated `Client` in the invoking crate, the hook every vendor crate
/// needs (before each request, [`ClientState::check_path`] against `$paths`, the crate's
/// generated `rules::PATHS`, then [`ClientState::prepare`]) and the constructors
/// `Client::from_config` and `Client::with_bearer`.
///
/// The trait impl must live in the crate that holds the generated `Client` (orphan rule);
/// this macro keeps the three vendor crates' `lib.rs` from repeating it. The invoking crate
/// must depend on `progenitor-client` and `reqwest`, and generate its client with the inner
/// type `userbatch_core::ClientState` and hooks mode `Expected` (as `cargo xtask generate`
/// does).
#[macro_export]
macro_rules! vendor_client_support {
    ($paths:expr) => {
        impl ::progenitor_client::ClientHooks<$crate::ClientState> for Client {
            async fn pre<E>(
                &self,
                request: &mut ::reqwest::Request,
                info: &::progenitor_client::OperationInfo,
            ) -> ::std::result::Result<(), ::progenitor_client::Error<E>> {
                self.inner
                    .check_path(request, info.operation_id, $paths)
                    .map_err(::progenitor_client::Error::InvalidRequest)?;
                self.inner
                    .prepare(request)
                    .await
                    .map_err(|e| ::progenitor_client::Error::Custom(e.to_string()))
            }

            async fn exec(
                &self,
                request: ::reqwest::Request,
                _info: &::progenitor_client::OperationInfo,
            ) -> ::reqwest::Result<::reqwest::Response> {
                self.inner.execute(&self.client, request).await
            }
        }

        impl Client {
            /// A client built from explicit settings: base URL, credentials, timeouts.
            ///
            /// Fails if the credentials cannot form an `Authorization` header or the TLS
            /// backend cannot be initialised.
            pub fn from_config(
                config: $crate::ClientConfig,
            ) -> ::std::result::Result<Self, $crate::ConfigError> {
                let (base_url, http, state) = config.into_parts()?;
                Ok(Self::new_with_client(&base_url, http, state))
            }

            /// A client for `base_url` that sends `token` as a bearer token, with the
            /// default timeouts ([`userbatch_core::DEFAULT_TIMEOUT`],
            /// [`userbatch_core::DEFAULT_CONNECT_TIMEOUT`]).
            pub fn with_bearer(
                base_url: &str,
                token: impl Into<$crate::Secret>,
            ) -> ::std::result::Result<Self, $crate::ConfigError> {
                Self::from_config(
                    $crate::ClientConfig::new(base_url)
                        .credentials($crate::Credentials::bearer(token)),
                )
            }

            /// The credentials this client sends (redacted in `Debug`).
            pub fn credentials(&self) -> &$crate::Credentials {
                self.inner.credentials()
            }

            /// Every secret this client holds now, as a [`$crate::Scrubber`] for text from
            /// the vendor (an error message that echoes the token).
            pub fn scrubber(&self) -> $crate::Scrubber {
                self.inner.scrubber()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientCredentials;

    #[test]
    fn only_a_client_that_never_speaks_https_goes_without_roots() {
        let plain = |base: &str, credentials: Credentials| {
            ClientConfig::new(base)
                .credentials(credentials)
                .plain_http_only()
        };
        let grant =
            |url: &str| Credentials::client_credentials(ClientCredentials::new(url, "id", "s"));
        assert!(plain("http://127.0.0.1:9", Credentials::bearer("t")));
        assert!(plain("HTTP://localhost", Credentials::None));
        assert!(plain(
            "http://127.0.0.1:9",
            grant("http://127.0.0.1:9/token")
        ));
        assert!(!plain("https://example.com", Credentials::bearer("t")));
        assert!(!plain(
            "http://127.0.0.1:9",
            grant("https://login.example.com/token")
        ));
        assert!(!plain("http:/127.0.0.1", Credentials::None));
        // Allowed to take proxies from the environment, which may speak TLS.
        let insecure = ClientConfig::new("http://127.0.0.1:9").allow_insecure(true);
        assert!(!insecure.plain_http_only());
    }
}
