//! Every vendor this build knows, from `specs/` (one per spec, behind the feature of its
//! name), with its resources and their batch operations: what a command line, a config
//! file or a mock iterates instead of naming vendors.
//!
//! ```
//! let nexudus = userbatch::registry::vendor("nexudus").unwrap();
//! let users = nexudus.resource("users").unwrap();
//! // Of a resource's operations, the one that takes the most ids per request.
//! assert_eq!(users.batch_operation().rules.operation_id, "getUsers");
//! // Its summaries' full operation, one id per request.
//! assert_eq!(nexudus.full_operation(users.batch_operation()).unwrap().rules.operation_id, "getUser");
//!
//! let client = userbatch::ClientConfig::new("https://example.com");
//! let avepoint = userbatch::registry::vendor("avepoint").unwrap();
//! let entry = avepoint.resource("users").unwrap().batch_operation();
//! assert!(entry.options.iter().any(|o| o.flag == "tenant-id" && o.required));
//! let op = (entry.build)(client, &[("customerId", "c1"), ("tenantId", "t1")]).unwrap();
//! # let _ = op;
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use userbatch_core::json::{self, RecordError};
use userbatch_core::plan::PlanError;
use userbatch_core::rules::{IdEncoding, OperationRules, VendorRules};
use userbatch_core::{
    ClientConfig, ConfigError, Operation, OptionError, OptionSpec, PageRequest, Scrubber,
    SendResult,
};

/// One vendor: a spec in `specs/` and its generated crate.
#[derive(Debug)]
pub struct Vendor {
    /// The spec's file stem: the crate's, the feature's and the command line's name.
    pub name: &'static str,
    /// Its vendor-wide rules (title, default base URL, token URL...).
    pub rules: &'static VendorRules,
    /// What it serves, by the operations' `x-userbatch.resource`.
    pub resources: &'static [Resource],
}

/// What a vendor serves under one name (`users`, `coworkers`): its operations returning
/// those records.
#[derive(Debug)]
pub struct Resource {
    /// The `x-userbatch.resource` of its operations.
    pub name: &'static str,
    /// Its batch operations, by path.
    pub operations: &'static [OperationEntry],
}

/// One batch operation of the registry.
pub struct OperationEntry {
    /// Its rules.
    pub rules: &'static OperationRules,
    /// Its options, as the spec names and describes them.
    pub options: &'static [OptionSpec],
    /// Builds it: a client from the config, then the options (spec name, value as text).
    pub build: Build,
}

/// How a registry entry builds its operation: a client from the config, then the options
/// (spec name, value as text).
pub type Build = fn(ClientConfig, &[(&str, &str)]) -> Result<AnyOperation, BuildError>;

impl fmt::Debug for OperationEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationEntry")
            .field("operation_id", &self.rules.operation_id)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Every vendor of this build, by name.
pub fn vendors() -> &'static [Vendor] {
    crate::vendors::REGISTRY
}

/// The vendor of this name, if this build has it.
pub fn vendor(name: &str) -> Option<&'static Vendor> {
    vendors().iter().find(|v| v.name == name)
}

impl Vendor {
    /// Its resource of this name.
    pub fn resource(&self, name: &str) -> Option<&'static Resource> {
        self.resources.iter().find(|r| r.name == name)
    }

    /// The operation of this `operationId`.
    pub fn operation(&self, operation_id: &str) -> Option<&'static OperationEntry> {
        self.resources
            .iter()
            .flat_map(|r| r.operations)
            .find(|o| o.rules.operation_id == operation_id)
    }

    /// The operation that returns the full records of `entry`'s summaries, if `entry`
    /// returns summaries.
    pub fn full_operation(&self, entry: &OperationEntry) -> Option<&'static OperationEntry> {
        let partial = entry.rules.partial.as_ref()?;
        self.operation(&partial.full_operation_id)
    }
}

impl OperationEntry {
    /// Builds it with a value for each required option ([`OptionSpec::any_value`], else
    /// `mock`): for a server that takes any value the spec allows, such as
    /// `userbatch-mock`. (An option whose spec says only "an integer" or a pattern, with
    /// neither a default nor a list of values, gets `mock`, which such a server refuses.)
    pub fn build_for_mock(&self, config: ClientConfig) -> Result<AnyOperation, BuildError> {
        let options: Vec<(&str, &str)> = self
            .options
            .iter()
            .filter(|o| o.required)
            .map(|o| (o.name, o.any_value("mock")))
            .collect();
        (self.build)(config, &options)
    }
}

impl Resource {
    /// The operation that takes the most ids per request (the first, on a tie): one
    /// without a documented id limit over one with, any list over a single id.
    pub fn batch_operation(&self) -> &'static OperationEntry {
        let capacity = |o: &OperationEntry| match o.rules.ids.encoding {
            IdEncoding::Single => 0,
            _ => o.rules.limits.max_ids.unwrap_or(usize::MAX),
        };
        let mut best = &self.operations[0];
        for o in &self.operations[1..] {
            if capacity(o) > capacity(best) {
                best = o;
            }
        }
        best
    }
}

/// Why an operation could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// The client could not be built.
    Config(ConfigError),
    /// An option was missing, unknown or invalid.
    Option(OptionError),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => e.fmt(f),
            Self::Option(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(e) => Some(e),
            Self::Option(e) => Some(e),
        }
    }
}

impl From<ConfigError> for BuildError {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<OptionError> for BuildError {
    fn from(e: OptionError) -> Self {
        Self::Option(e)
    }
}

/// Any batch operation, its type erased, with each record checked to be valid JSON and
/// kept as the vendor sent it (`()` as the typed record, as [`crate::Verbatim`]), or, made
/// [`strict`](AnyOperation::strict), also decoded into the spec's type (a record that does
/// not fit fails its id).
#[derive(Clone)]
pub struct AnyOperation {
    inner: Arc<dyn Erased>,
    strict: bool,
}

impl AnyOperation {
    /// Erases `op`'s type.
    pub fn new<O: Operation>(op: O) -> Self {
        Self {
            inner: Arc::new(op),
            strict: false,
        }
    }

    /// Also decodes each record into the spec's type.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }
}

impl fmt::Debug for AnyOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnyOperation")
            .field("operation_id", &self.inner.rules().operation_id)
            .field("strict", &self.strict)
            .finish_non_exhaustive()
    }
}

type SendFuture<'a> = Pin<Box<dyn Future<Output = SendResult> + Send + 'a>>;

/// [`Operation`] as a trait object.
trait Erased: Send + Sync + 'static {
    fn rules(&self) -> &'static OperationRules;
    fn vendor(&self) -> &'static VendorRules;
    fn single_id(&self) -> bool;
    fn check(&self) -> Result<(), PlanError>;
    fn page_size(&self) -> u32;
    fn send<'a>(&'a self, ids: &'a [String], page: Option<PageRequest>) -> SendFuture<'a>;
    fn decode_typed(&self, record: &str) -> Result<(), RecordError>;
    fn scrubber(&self) -> Scrubber;
}

impl<O: Operation> Erased for O {
    fn rules(&self) -> &'static OperationRules {
        Operation::rules(self)
    }
    fn vendor(&self) -> &'static VendorRules {
        Operation::vendor(self)
    }
    fn single_id(&self) -> bool {
        Operation::single_id(self)
    }
    fn check(&self) -> Result<(), PlanError> {
        Operation::check(self)
    }
    fn page_size(&self) -> u32 {
        Operation::page_size(self)
    }
    fn send<'a>(&'a self, ids: &'a [String], page: Option<PageRequest>) -> SendFuture<'a> {
        Box::pin(Operation::send(self, ids, page))
    }
    fn decode_typed(&self, record: &str) -> Result<(), RecordError> {
        Operation::decode(self, record).map(drop)
    }
    fn scrubber(&self) -> Scrubber {
        Operation::scrubber(self)
    }
}

impl Operation for AnyOperation {
    type Record = ();

    fn rules(&self) -> &'static OperationRules {
        self.inner.rules()
    }

    fn vendor(&self) -> &'static VendorRules {
        self.inner.vendor()
    }

    fn single_id(&self) -> bool {
        self.inner.single_id()
    }

    fn check(&self) -> Result<(), PlanError> {
        self.inner.check()
    }

    fn page_size(&self) -> u32 {
        self.inner.page_size()
    }

    async fn send(&self, ids: &[String], page: Option<PageRequest>) -> SendResult {
        self.inner.send(ids, page).await
    }

    fn decode(&self, record: &str) -> Result<(), RecordError> {
        if self.strict {
            self.inner.decode_typed(record)
        } else {
            json::check(record)
        }
    }

    fn scrubber(&self) -> Scrubber {
        self.inner.scrubber()
    }
}
