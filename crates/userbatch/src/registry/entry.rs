//! A vendor of the registry, its resources and their operations' entries.

use super::any::AnyOperation;
use std::fmt;
use userbatch_core::rules::{IdEncoding, OperationRules, VendorRules};
use userbatch_core::{ClientConfig, ConfigError, OptionError, OptionSpec};

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
