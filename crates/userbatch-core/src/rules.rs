//! Batch rules: the vendor facts each spec's `x-userbatch` extension records, as types.
//!
//! These types are the only definition of the rules: `cargo xtask generate` deserializes
//! each spec's `x-userbatch` into them (the field names are the extension's keys,
//! kebab-case), and writes them back out as one `const` per batchable operation (and one
//! [`VendorRules`] per spec) into each vendor crate's `generated.rs`, under `rules`. The
//! facade's batch engine reads only these values, so a vendor's limits change by editing
//! its spec, never Rust code. Text and lists are `Cow<'static, _>`: borrowed in the
//! generated constants, owned when deserialized.

use std::borrow::Cow;

use serde::Deserialize;

/// Text in the rules: borrowed in constants, owned when read from a spec.
pub type Text = Cow<'static, str>;

/// A list in the rules.
pub type List<T> = Cow<'static, [T]>;

/// Vendor-wide rules of one spec (the root `x-userbatch` extension, with `info.title` and
/// the first server's URL).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VendorRules {
    /// The spec's `info.title`.
    #[serde(skip)]
    pub title: Text,
    /// Base URL of the vendor's production server, with server variables at their defaults.
    #[serde(skip)]
    pub default_base_url: Text,
    /// Statuses the vendor uses to throttle (answered with a pause until `Retry-After`).
    pub throttle_statuses: List<u16>,
    /// JSON pointer to the vendor's own message in an error body (`""`: the body is a bare
    /// JSON string); `None` where the docs show no error body.
    #[serde(default)]
    pub error_message: Option<Text>,
    /// The token endpoint of the spec's OAuth2 client credentials flow, if it has one.
    #[serde(skip)]
    pub token_url: Option<Text>,
}

/// Rules of one operation (its `x-userbatch` extension, with its `operationId`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OperationRules {
    /// The spec's `operationId`.
    #[serde(skip)]
    pub operation_id: Text,
    /// Where the ids go and how they are written.
    pub ids: Ids,
    /// Limits on one request.
    #[serde(default)]
    pub limits: Limits,
    /// Where the records are in a 200 response and which field names each one.
    pub records: Records,
    /// Paging, if the operation pages its results.
    #[serde(default)]
    pub paging: Option<Paging>,
    /// Partial-record facts, if the operation returns summaries.
    #[serde(default)]
    pub partial: Option<Partial>,
    /// What the vendor does with an id it does not know.
    pub unknown_ids: UnknownIds,
    /// Attribute selection, if the operation lets the caller choose which fields come back.
    #[serde(default)]
    pub attributes: Option<Attributes>,
}

/// An operation whose response carries only summary attributes unless more are asked for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Attributes {
    /// Query parameter that lists the extra attributes, comma-separated (e.g. `$attribute`).
    pub param: Text,
    /// Attributes every response carries.
    pub summary: List<Text>,
    /// Attributes the parameter may name (besides `all` and custom ones).
    pub values: List<Text>,
    /// The value that asks for every attribute (e.g. `all`).
    pub all: Text,
    /// Prefix of custom attributes (e.g. `custom.` in `custom.<name>`).
    pub custom_prefix: Text,
    /// Attributes valid only when the request names a single id.
    pub single_id_only: List<Text>,
}

impl Attributes {
    /// Whether `name` may be asked for: a listed value, the "all" value, or a custom one.
    pub fn knows(&self, name: &str) -> bool {
        name == self.all
            || (name.starts_with(&*self.custom_prefix) && name.len() > self.custom_prefix.len())
            || self.values.iter().any(|v| v == name)
    }
}

/// Where the ids of a request go and how they are written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Ids {
    /// The request part that carries the ids.
    #[serde(rename = "in")]
    pub location: IdLocation,
    /// Parameter name (path or query) or JSON field (body).
    pub name: Text,
    /// How several ids are written into that one place.
    pub encoding: IdEncoding,
    /// What a valid id looks like.
    #[serde(rename = "type")]
    pub kind: IdKind,
    /// Characters an id must not contain because they would break the encoding.
    #[serde(default)]
    pub forbidden_chars: Text,
}

/// The request part that carries the ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdLocation {
    /// A path parameter.
    Path,
    /// A query parameter.
    Query,
    /// A field of the JSON request body.
    Body,
}

/// How several ids are written into one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdEncoding {
    /// Exactly one id per request.
    Single,
    /// `1,2,3`.
    Csv,
    /// `[1,2,3]`.
    BracketedCsv,
    /// A JSON array of strings.
    JsonArray,
}

/// What a valid id looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdKind {
    /// Decimal digits that fit an `i64`.
    Integer,
    /// Any non-empty string without the operation's forbidden characters.
    String,
}

/// Limits on one request; `None` where the vendor documents none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    /// Most ids in one request.
    pub max_ids: Option<usize>,
    /// Most bytes of the query string as sent (after percent-encoding).
    pub max_query_bytes: Option<usize>,
    /// Most characters of the ids path segment as sent.
    pub max_segment_chars: Option<usize>,
}

/// Where the records are in a 200 response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Records {
    /// JSON pointer (RFC 6901) to the records; `""` is the whole body.
    pub pointer: Text,
    /// `true` when the pointer names an array of records, `false` for one record.
    pub many: bool,
    /// The field of each record that holds its id.
    pub id_field: Text,
    /// JSON pointers (within a record) of the fields the spec marks `format: password`:
    /// what must not be shown unless asked for. Derived from the record's schema.
    #[serde(skip)]
    pub secrets: List<Text>,
}

impl Records {
    /// Records in a JSON array at `pointer`, each identified by its `id_field`, with no
    /// secret fields.
    pub const fn list(pointer: &'static str, id_field: &'static str) -> Self {
        Self {
            pointer: Cow::Borrowed(pointer),
            many: true,
            id_field: Cow::Borrowed(id_field),
            secrets: Cow::Borrowed(&[]),
        }
    }

    /// One record at `pointer`, identified by its `id_field`, with no secret fields.
    pub const fn one(pointer: &'static str, id_field: &'static str) -> Self {
        Self {
            pointer: Cow::Borrowed(pointer),
            many: false,
            id_field: Cow::Borrowed(id_field),
            secrets: Cow::Borrowed(&[]),
        }
    }
}

/// How an operation pages its results.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Paging {
    /// Query parameter with the page number.
    pub index_param: Text,
    /// Query parameter with the page size.
    pub size_param: Text,
    /// Number of the first page.
    pub first_index: u32,
    /// Page size the vendor uses when none is sent.
    pub default_size: u32,
    /// JSON pointer to the total number of matching records.
    pub total_pointer: Text,
}

/// An operation that returns summaries of a fuller schema.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Partial {
    /// Name of the full schema the records are a summary of.
    pub of: Text,
    /// `operationId` of the operation that returns the full record.
    #[serde(rename = "full-operation")]
    pub full_operation_id: Text,
    /// Fields of the full schema the operation does not populate, as the docs list them.
    pub unpopulated: List<Text>,
}

/// What a vendor does with an id it does not know, in a multi-id request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownIds {
    /// The id is left out of the response.
    Omitted,
    /// The whole request fails with this status.
    FailsRequest(u16),
    /// Undocumented: either of the above may happen, and a client must handle both.
    OmittedOrFailsRequest(u16),
}

impl UnknownIds {
    /// The status that means "not found" for a single-id request.
    pub fn not_found_status(self) -> u16 {
        match self {
            Self::FailsRequest(s) | Self::OmittedOrFailsRequest(s) => s,
            Self::Omitted => 404,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_extension_reads_into_the_rules() {
        let ext = serde_json::json!({
            "ids": { "in": "path", "name": "ids", "encoding": "csv", "type": "string", "forbidden-chars": ",/" },
            "limits": { "max-ids": 75 },
            "records": { "pointer": "/user", "many": true, "id-field": "id" },
            "unknown-ids": { "omitted-or-fails-request": 404 },
        });
        let rules: OperationRules = serde_json::from_value(ext).unwrap();
        assert_eq!(rules.ids.location, IdLocation::Path);
        assert_eq!(rules.limits.max_ids, Some(75));
        assert_eq!(rules.records.id_field, "id");
        assert_eq!(rules.unknown_ids.not_found_status(), 404);
        let unknown =
            serde_json::json!({ "ids": {}, "records": {}, "unknown-ids": "omitted", "nope": 1 });
        assert!(serde_json::from_value::<OperationRules>(unknown).is_err());
    }
}
