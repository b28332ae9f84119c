//! How a [`MockServer`](crate::MockServer) behaves: [`MockConfig`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use crate::access::{self, OAuthClient, RateLimit};
use crate::drift::Drift;
use crate::faults::Faults;
use crate::vendor::Vendor;

/// How many vendors the mock serves.
pub(crate) const VENDORS: usize = Vendor::ALL.len();

/// What an operation whose spec says `unknown-ids: {omitted-or-fails-request: ...}` does
/// with an id it does not know in a multi-id request (the vendor's docs do not say, so the
/// mock does either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownIdAnswer {
    /// Leave the id out of the response.
    #[default]
    Omit,
    /// Fail the whole request with 404.
    FailRequest,
}

type MissingPredicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// How a [`MockServer`](crate::MockServer) behaves. Cheap to clone.
#[derive(Clone)]
pub struct MockConfig {
    pub(crate) seed: u64,
    pub(crate) missing: HashSet<String>,
    pub(crate) missing_if: Option<MissingPredicate>,
    pub(crate) rejected: HashSet<String>,
    pub(crate) unknown_ids: UnknownIdAnswer,
    pub(crate) faults: [Faults; VENDORS],
    pub(crate) drift: [Drift; VENDORS],
    pub(crate) rate_limits: [Option<RateLimit>; VENDORS],
    pub(crate) accepted_tokens: access::Accepted,
    pub(crate) oauth: Option<OAuthClient>,
    pub(crate) log_requests: bool,
    pub(crate) max_page_size: Option<u64>,
    pub(crate) forbidden_tokens: HashSet<String>,
    pub(crate) path_values: HashMap<String, HashSet<String>>,
    pub(crate) echo_token: bool,
    pub(crate) redirect_to: Option<String>,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockConfig")
            .field("seed", &self.seed)
            .field("missing", &self.missing.len())
            .field("missing_if", &self.missing_if.is_some())
            .field("rejected", &self.rejected.len())
            .field("unknown_ids", &self.unknown_ids)
            .field("faults", &self.faults)
            .field("drift", &self.drift)
            .field("rate_limits", &self.rate_limits)
            .field("accepted_tokens", &self.accepted_tokens.len())
            .field("oauth", &self.oauth)
            .field("log_requests", &self.log_requests)
            .field("max_page_size", &self.max_page_size)
            .field("forbidden_tokens", &self.forbidden_tokens.len())
            .field("path_values", &self.path_values)
            .field("echo_token", &self.echo_token)
            .field("redirect_to", &self.redirect_to)
            .finish()
    }
}

impl MockConfig {
    /// Seed 0, every id exists, no faults, unknown ids omitted, requests logged.
    pub fn new() -> Self {
        Self {
            seed: 0,
            missing: HashSet::new(),
            missing_if: None,
            rejected: HashSet::new(),
            unknown_ids: UnknownIdAnswer::Omit,
            faults: std::array::from_fn(|_| Faults::default()),
            drift: std::array::from_fn(|_| Drift::default()),
            rate_limits: [None; VENDORS],
            accepted_tokens: access::Accepted::new(),
            oauth: None,
            log_requests: true,
            max_page_size: None,
            forbidden_tokens: HashSet::new(),
            path_values: HashMap::new(),
            echo_token: false,
            redirect_to: None,
        }
    }

    /// A 401 quotes the credential it refused (`invalid token '<token>'`), and injected
    /// server errors and refusals quote the request's, as some services do: what a client
    /// must never pass on to its logs or reports.
    pub fn echo_token(mut self, on: bool) -> Self {
        self.echo_token = on;
        self
    }

    /// Every request is answered `302 Found` to `prefix` followed by its own path and query,
    /// before any other check: to another origin (`http://other.example:8080`), or, with
    /// `""`, to itself (a redirect loop).
    pub fn redirect_to(mut self, prefix: impl Into<String>) -> Self {
        self.redirect_to = Some(prefix.into());
        self
    }

    /// Tokens that are valid but whose user lacks the role a request needs: every request
    /// carrying one gets the vendor's 403 (with its error body).
    pub fn forbid_tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.forbidden_tokens
            .extend(tokens.into_iter().map(Into::into));
        self
    }

    /// Only these values of the path parameter `name` exist (by default any does), in
    /// every operation whose path has it: a request with another gets 404 with the
    /// vendor's error body `<name> '<value>' was not found`, as a wrong tenant id meets it.
    pub fn path_values<I, S>(mut self, name: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.path_values
            .entry(name.into())
            .or_default()
            .extend(values.into_iter().map(Into::into));
        self
    }

    /// Whether `value` of the path parameter `name` exists.
    pub(crate) fn knows_path_value(&self, name: &str, value: &str) -> bool {
        self.path_values
            .get(name)
            .is_none_or(|known| known.contains(value))
    }

    /// Paged operations serve at most this many records per page, whatever the page size
    /// asked for (as servers that cap page sizes do); the answer's page size, where it has
    /// one, says the size used.
    pub fn max_page_size(mut self, size: u64) -> Self {
        self.max_page_size = Some(size.max(1));
        self
    }

    /// The seed of the data and of rate-based faults.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Ids that do not exist, for every vendor (compared as the text the client sent;
    /// integer ids are sent as they print).
    pub fn missing_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.missing.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Ids every vendor refuses as malformed: a request that names one is answered 400, with
    /// the vendor's error body naming it (after the vendor's own checks, before any fault).
    pub fn rejected_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rejected.extend(ids.into_iter().map(Into::into));
        self
    }

    pub(crate) fn is_rejected(&self, id: &str) -> bool {
        self.rejected.contains(id)
    }

    /// Ids for which `predicate` is true do not exist either.
    pub fn missing_if(mut self, predicate: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.missing_if = Some(Arc::new(predicate));
        self
    }

    /// What operations whose spec says `unknown-ids: {omitted-or-fails-request: ...}` do
    /// with an unknown id (by default, leave it out).
    pub fn unknown_ids(mut self, mode: UnknownIdAnswer) -> Self {
        self.unknown_ids = mode;
        self
    }

    /// The faults one vendor injects.
    pub fn faults(mut self, vendor: Vendor, faults: Faults) -> Self {
        self.faults[vendor.index()] = faults;
        self
    }

    /// How one vendor's records depart from its spec.
    pub fn drift(mut self, vendor: Vendor, drift: Drift) -> Self {
        self.drift[vendor.index()] = drift;
        self
    }

    /// A token-bucket rate limit for one vendor.
    pub fn rate_limit(mut self, vendor: Vendor, limit: RateLimit) -> Self {
        self.rate_limits[vendor.index()] = Some(limit);
        self
    }

    /// Accept only these bearer tokens (and tokens the token endpoint issued); the others
    /// get the vendor's 401. Without this or [`MockConfig::oauth`], any credential passes.
    pub fn accept_tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.accepted_tokens
            .extend(tokens.into_iter().map(Into::into));
        self
    }

    /// Serve an OAuth2 token endpoint at `POST /oauth/token` for this client, and accept
    /// only the tokens it issued (until they expire) and [`MockConfig::accept_tokens`].
    pub fn oauth(mut self, client: OAuthClient) -> Self {
        self.oauth = Some(client);
        self
    }

    /// The same faults for every vendor.
    pub fn faults_all(mut self, faults: Faults) -> Self {
        self.faults = std::array::from_fn(|_| faults.clone());
        self
    }

    /// Keep a log of every request (default on). Counters are kept either way; turn the
    /// log off for runs of millions of ids.
    pub fn log_requests(mut self, on: bool) -> Self {
        self.log_requests = on;
        self
    }

    /// What an operation that may do either does with an unknown id.
    pub(crate) fn unknown_id_answer(&self) -> UnknownIdAnswer {
        self.unknown_ids
    }

    pub(crate) fn is_missing(&self, id: &str) -> bool {
        self.missing.contains(id) || self.missing_if.as_ref().is_some_and(|f| f(id))
    }
}
