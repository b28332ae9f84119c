//! Batch rules: the vendor facts each spec's `x-userbatch` extension records.
//!
//! `cargo xtask generate` reads the extension and writes one [`Operation`] constant per
//! batchable operation (and one [`Vendor`] constant per spec) into each vendor crate's
//! `generated.rs`, under `rules`. The facade's batch engine reads only these values, so a
//! vendor's limits change by editing its spec, never Rust code.

/// Vendor-wide rules of one spec (the root `x-userbatch` extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vendor {
    /// The spec's `info.title`.
    pub title: &'static str,
    /// Base URL of the vendor's production server, with server variables at their defaults.
    pub default_base_url: &'static str,
    /// Statuses the vendor uses to throttle (to be retried after `Retry-After`).
    pub throttle_statuses: &'static [u16],
    /// JSON pointer to the vendor's own message in an error body (`""`: the body is a bare
    /// JSON string); `None` where the docs show no error body.
    pub error_message: Option<&'static str>,
    /// The token endpoint of the spec's OAuth2 client credentials flow, if it has one.
    pub token_url: Option<&'static str>,
    /// Every batchable operation of the spec.
    pub operations: &'static [&'static Operation],
}

/// Rules of one operation (its `x-userbatch` extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The spec's `operationId`.
    pub operation_id: &'static str,
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template from the spec, e.g. `/api/sys/users/{id}`.
    pub path: &'static str,
    /// Where the ids go and how they are written.
    pub ids: Ids,
    /// Limits on one request.
    pub limits: Limits,
    /// Where the records are in a 200 response and which field names each one.
    pub records: Records,
    /// Paging, if the operation pages its results.
    pub paging: Option<Paging>,
    /// Partial-record facts, if the operation returns summaries.
    pub partial: Option<Partial>,
    /// What the vendor does with an id it does not know.
    pub unknown_ids: UnknownIds,
    /// Attribute selection, if the operation lets the caller choose which fields come back.
    pub attributes: Option<Attributes>,
}

/// An operation whose response carries only summary attributes unless more are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attributes {
    /// Query parameter that lists the extra attributes, comma-separated (e.g. `$attribute`).
    pub param: &'static str,
    /// Attributes every response carries.
    pub summary: &'static [&'static str],
    /// Attributes the parameter may name (besides `all` and custom ones).
    pub values: &'static [&'static str],
    /// The value that asks for every attribute (e.g. `all`).
    pub all: &'static str,
    /// Prefix of custom attributes (e.g. `custom.` in `custom.<name>`).
    pub custom_prefix: &'static str,
    /// Attributes valid only when the request names a single id.
    pub single_id_only: &'static [&'static str],
}

/// Where the ids of a request go and how they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    /// The request part that carries the ids.
    pub location: IdLocation,
    /// Parameter name (path or query) or JSON field (body).
    pub name: &'static str,
    /// How several ids are written into that one place.
    pub encoding: IdEncoding,
    /// What a valid id looks like.
    pub kind: IdKind,
    /// Characters an id must not contain because they would break the encoding.
    pub forbidden_chars: &'static str,
}

/// The request part that carries the ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdLocation {
    /// A path parameter.
    Path,
    /// A query parameter.
    Query,
    /// A field of the JSON request body.
    Body,
}

/// How several ids are written into one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// Decimal digits that fit an `i64`.
    Integer,
    /// Any non-empty string without the operation's forbidden characters.
    String,
}

/// Limits on one request; `None` where the vendor documents none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Most ids in one request.
    pub max_ids: Option<usize>,
    /// Most bytes of the query string as sent (after percent-encoding).
    pub max_query_bytes: Option<usize>,
    /// Most characters of the ids path segment as sent.
    pub max_segment_chars: Option<usize>,
}

/// Where the records are in a 200 response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Records {
    /// JSON pointer (RFC 6901) to the records; `""` is the whole body.
    pub pointer: &'static str,
    /// `true` when the pointer names an array of records, `false` for one record.
    pub many: bool,
    /// The field of each record that holds its id.
    pub id_field: &'static str,
    /// JSON pointers (within a record) of the fields the spec marks `format: password`:
    /// what must not be shown unless asked for.
    pub secrets: &'static [&'static str],
}

/// How an operation pages its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Query parameter with the page number.
    pub index_param: &'static str,
    /// Query parameter with the page size.
    pub size_param: &'static str,
    /// Number of the first page.
    pub first_index: u32,
    /// Page size the vendor uses when none is sent.
    pub default_size: u32,
    /// JSON pointer to the total number of matching records.
    pub total_pointer: &'static str,
}

/// An operation that returns summaries of a fuller schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partial {
    /// Name of the full schema the records are a summary of.
    pub of: &'static str,
    /// `operationId` of the operation that returns the full record.
    pub full_operation_id: &'static str,
    /// Fields of the full schema the operation does not populate, as the docs list them.
    pub unpopulated: &'static [&'static str],
}

/// What a vendor does with an id it does not know, in a multi-id request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownIds {
    /// The id is left out of the response.
    Omitted,
    /// The whole request fails with this status.
    FailsRequest(u16),
    /// Undocumented: either of the above may happen, and a client must handle both.
    OmittedOrFailsRequest(u16),
}

impl Vendor {
    /// The operation with this `operationId`, if the spec has it.
    pub fn operation(&self, operation_id: &str) -> Option<&'static Operation> {
        self.operations
            .iter()
            .copied()
            .find(|op| op.operation_id == operation_id)
    }
}
