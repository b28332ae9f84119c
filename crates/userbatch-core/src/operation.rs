//! The batch operation trait every vendor crate implements (in generated code, one type per
//! operation with `x-userbatch`), and the small pieces that generated code calls.

use std::future::Future;
use std::str::FromStr;

use progenitor_client::{ByteStream, ResponseValue};

use crate::json::RecordError;
use crate::partial::PartialRecord;
use crate::plan::PlanError;
use crate::received::SendResult;
use crate::rules::{self, Attributes};
use crate::scrub::Scrubber;

/// One page of a paged operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Page number, from the rules' first index.
    pub index: u32,
    /// Page size.
    pub size: u32,
}

/// The glue between the batch engine (the `userbatch` facade) and one generated client
/// operation: how to send one request for some ids, and how to decode one record.
/// Everything else (limits, encodings, retries, paging, where the records are, which field
/// holds an id, reassembly) is the engine's, driven by [`Operation::rules`].
///
/// `cargo xtask generate` implements it for every operation with `x-userbatch` in a spec,
/// on a type named after the operation (`getUsers`: `GetUsers`), whose other parameters
/// are its typed options.
pub trait Operation: Send + Sync + 'static {
    /// What the operation returns per id.
    type Record: Send + 'static;

    /// The operation's batch rules (from its spec's `x-userbatch`).
    fn rules(&self) -> &'static rules::OperationRules;

    /// The vendor's rules (throttling statuses, where error bodies carry their message).
    fn vendor(&self) -> &'static rules::VendorRules;

    /// Whether each request must name a single id (e.g. a single-id attribute was asked for).
    fn single_id(&self) -> bool {
        false
    }

    /// Checks the operation's own parameters before any request (e.g. that a path
    /// parameter stays one segment, [`crate::path::check_segment`]).
    fn check(&self) -> Result<(), PlanError> {
        Ok(())
    }

    /// The page size to ask for, for paged operations.
    fn page_size(&self) -> u32 {
        self.rules().paging.as_ref().map_or(0, |p| p.default_size)
    }

    /// Sends one request for `ids` (valid, deduplicated, within every limit) and, for paged
    /// operations, one page, through the generated client, whose batch operations hand
    /// back every answer as bytes.
    fn send(
        &self,
        ids: &[String],
        page: Option<PageRequest>,
    ) -> impl Future<Output = SendResult> + Send;

    /// Decodes one record (its JSON text, as the vendor sent it).
    fn decode(&self, record: &str) -> Result<Self::Record, RecordError>;

    /// [`decode`](Self::decode) for a record already found to be valid JSON
    /// ([`Entry::checked`](crate::json::Entry::checked)): an operation that only checks its
    /// records, keeping them as sent, has nothing left to do. By default, `decode`.
    fn decode_checked(&self, record: &str) -> Result<Self::Record, RecordError> {
        self.decode(record)
    }

    /// The secrets the operation's client holds, to scrub from the vendor's text before it
    /// reaches an error, a log or a report (e.g. `client.scrubber()`).
    fn scrubber(&self) -> Scrubber {
        Scrubber::default()
    }
}

/// An operation that returns summaries ([`PartialRecord`]s), linked by its spec's
/// `partial.full-operation` to the operation that returns the full records.
pub trait Summaries: Operation<Record: PartialRecord> {
    /// The operation that returns one full record per id.
    type Full: Operation<Record = <Self::Record as PartialRecord>::Full>;

    /// The full operation, over the same client.
    fn full(&self) -> Self::Full;
}

/// An operation that returns full records, linked by its spec's `update-operation` to the
/// operation that sends one back whole (a `PUT` of the record).
pub trait Update: Operation {
    /// What the vendor answers to an update.
    type Answer;
    /// The body of the vendor's documented error answers to an update.
    type ErrorBody;

    /// Sends `record` back whole. Only a full record type is accepted: a summary would
    /// clear every field it leaves out.
    fn update(
        &self,
        record: &Self::Record,
    ) -> impl Future<
        Output = Result<ResponseValue<Self::Answer>, progenitor_client::Error<Self::ErrorBody>>,
    > + Send;
}

/// An attribute the spec does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAttribute {
    /// The attribute as given.
    pub name: String,
    /// What the operation accepts.
    pub rules: &'static Attributes,
}

impl std::fmt::Display for UnknownAttribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown {} value {:?}; valid: {}, {} or {}<name>",
            self.rules.param,
            self.name,
            self.rules.values.join(", "),
            self.rules.all,
            self.rules.custom_prefix
        )
    }
}

impl std::error::Error for UnknownAttribute {}

impl Attributes {
    /// The attributes to send for `names` (trimmed, comma-joined; `None` for none), or the
    /// first one the spec does not know.
    pub fn select<I, S>(&'static self, names: I) -> Result<Option<String>, UnknownAttribute>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = Vec::new();
        for name in names {
            let name = name.as_ref().trim();
            if !self.knows(name) {
                return Err(UnknownAttribute {
                    name: name.to_owned(),
                    rules: self,
                });
            }
            list.push(name.to_owned());
        }
        Ok((!list.is_empty()).then(|| list.join(",")))
    }

    /// Whether records fetched with `asked` (as [`Attributes::select`] wrote it) carry
    /// `attribute`: a summary attribute, one asked for, or any when all were.
    pub fn returns(&self, asked: Option<&str>, attribute: &str) -> bool {
        let asked = asked.unwrap_or_default();
        self.summary.iter().any(|s| s == attribute)
            || asked.split(',').any(|a| a == attribute || a == self.all)
    }

    /// Whether `asked` names an attribute valid only for a request of one id.
    pub fn needs_single_id(&self, asked: Option<&str>) -> bool {
        asked.is_some_and(|asked| {
            asked
                .split(',')
                .any(|a| a == self.all || self.single_id_only.iter().any(|s| s == a))
        })
    }
}

/// The one id of a single-id request, as its parameter's type (the planner lets no other
/// request through; the error is for a caller of [`Operation::send`] who bypassed it).
// The error is the generated client's own, as `Operation::send` returns it.
#[allow(clippy::result_large_err)]
pub fn one_id<T: FromStr + std::fmt::Display>(
    ids: &[String],
    kind: rules::IdKind,
) -> Result<T, progenitor_client::Error<ByteStream>> {
    match ids {
        [id] => parse_id(id, kind),
        _ => Err(refused("not one id")),
    }
}

/// An id as the type its parameter or field takes. A text id must come back as it went
/// in (a UUID type would send `ABC...` as `abc...`, and the answer's id would not match
/// the one asked for: the id would look missing); integers compare as numbers.
#[allow(clippy::result_large_err)]
pub fn parse_id<T: FromStr + std::fmt::Display>(
    id: &str,
    kind: rules::IdKind,
) -> Result<T, progenitor_client::Error<ByteStream>> {
    let value: T = id
        .parse()
        .map_err(|_| refused(format!("{id:?} is not of the id parameter's type")))?;
    if kind == rules::IdKind::String && value.to_string() != id {
        return Err(refused(format!(
            "{id:?} would be sent as {:?}: write it as the vendor does",
            value.to_string()
        )));
    }
    Ok(value)
}

/// The error for ids the generated client refuses.
pub fn refused(why: impl std::fmt::Display) -> progenitor_client::Error<ByteStream> {
    progenitor_client::Error::InvalidRequest(format!("ids the generated client refuses: {why}"))
}

/// Checks that each named path parameter stays one segment.
pub fn check_segments<'a>(
    params: impl IntoIterator<Item = (&'static str, &'a str)>,
) -> Result<(), PlanError> {
    for (name, value) in params {
        crate::path::check_segment(value).map_err(|e| PlanError::InvalidParameter {
            name,
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

/// One option of a batch operation: a parameter of its spec besides the ids and the page
/// (path, query, header, or a field of the request body besides the ids). What the
/// generated `OPTIONS` of each operation type list, for a command line or a config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// The name in the spec (`customerId`, `Accept-Language`, `$attribute`).
    pub name: &'static str,
    /// The name as a command-line flag: kebab-case, without `$` (`customer-id`).
    pub flag: &'static str,
    /// The spec's description of it.
    pub help: &'static str,
    /// Whether the operation needs it (its type's `new` takes it).
    pub required: bool,
    /// The values the spec allows, where it lists them (`enum`); empty: any.
    pub values: &'static [&'static str],
    /// The value used when none is given, if the spec gives one.
    pub default: Option<&'static str>,
    /// Whether it takes a comma-separated list (attribute names).
    pub list: bool,
}

impl OptionSpec {
    /// A value for a server that takes any the spec allows (a mock): the spec's default,
    /// else the first value it lists, else `word`.
    pub fn any_value(&self, word: &'static str) -> &'static str {
        self.default
            .or_else(|| self.values.first().copied())
            .unwrap_or(word)
    }
}

/// An option an operation cannot take, found before any request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionError {
    /// The operation has no such option.
    Unknown {
        /// The name given.
        name: String,
    },
    /// A required option was not given.
    Missing {
        /// Its spec name.
        name: &'static str,
    },
    /// The value does not fit the option's type.
    Invalid {
        /// Its spec name.
        name: &'static str,
        /// The value given.
        value: String,
        /// Why it does not fit.
        reason: String,
    },
}

impl std::fmt::Display for OptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unknown { name } => write!(f, "no option {name:?}"),
            Self::Missing { name } => write!(f, "{name} is required"),
            Self::Invalid {
                name,
                value,
                reason,
            } => write!(f, "{name} {value:?}: {reason}"),
        }
    }
}

impl std::error::Error for OptionError {}

/// An option's value as its type: read as a JSON string first (text, an `enum` value),
/// then as JSON (a number, `true`).
pub fn parse_option<T: serde::de::DeserializeOwned>(
    name: &'static str,
    value: &str,
) -> Result<T, OptionError> {
    let invalid = |e: serde_json::Error| OptionError::Invalid {
        name,
        value: value.to_owned(),
        reason: e.to_string(),
    };
    match serde_json::from_value(serde_json::Value::String(value.to_owned())) {
        Ok(parsed) => Ok(parsed),
        // Not text: as JSON, saying why that does not fit either (`0` for a nonzero size).
        Err(as_text) => match serde_json::from_str::<serde_json::Value>(value) {
            Ok(json) => serde_json::from_value(json).map_err(invalid),
            Err(_) => Err(invalid(as_text)),
        },
    }
}

/// Checks that each option in `given` (spec name, value) is one of `known`.
pub fn check_options(known: &[OptionSpec], given: &[(&str, &str)]) -> Result<(), OptionError> {
    match given
        .iter()
        .find(|(n, _)| !known.iter().any(|o| o.name == *n))
    {
        Some((unknown, _)) => Err(OptionError::Unknown {
            name: (*unknown).to_owned(),
        }),
        None => Ok(()),
    }
}

/// The value of option `name` among `given` (the last one given wins).
pub fn option_value<'a>(given: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    given
        .iter()
        .rev()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_as_text_then_as_json_and_say_why_not() {
        assert_eq!(parse_option::<String>("n", "42").unwrap(), "42");
        assert_eq!(parse_option::<u32>("n", "42").unwrap(), 42);
        assert!(parse_option::<bool>("n", "true").unwrap());
        let zero = parse_option::<std::num::NonZeroU32>("pageSize", "0").unwrap_err();
        assert!(zero.to_string().contains("nonzero"), "{zero}");
        assert!(!zero.to_string().contains("string"), "{zero}");
        let word = parse_option::<u32>("pageSize", "ten").unwrap_err();
        assert!(word.to_string().contains("expected u32"), "{word}");
    }

    #[test]
    fn text_ids_must_come_back_as_they_went_in() {
        use crate::rules::IdKind;
        assert_eq!(parse_id::<String>("Ab-1", IdKind::String).unwrap(), "Ab-1");
        assert_eq!(parse_id::<i64>("007", IdKind::Integer).unwrap(), 7);
        // A type that rewrites the id (here: an integer type for a text id) is refused.
        assert!(parse_id::<i64>("007", IdKind::String).is_err());
        assert!(parse_id::<i64>("x", IdKind::Integer).is_err());
    }
}
