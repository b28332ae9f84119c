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

mod ids;
mod text;

pub use ids::{IdEncoding, IdKind, IdLocation, Ids};
pub use text::{List, Text};

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
    /// The scopes to ask that flow for (space-separated, as the `scope` field sends them):
    /// those the spec's `security` requirement names, else every scope of the flow.
    #[serde(skip)]
    pub scope: Option<Text>,
    /// How the vendor authenticates, from the spec's `securitySchemes` its `security`
    /// requirement names (any of them will do), by scheme name.
    #[serde(skip)]
    pub auth: List<AuthScheme>,
    /// The first server's URL as the spec writes it, `{variables}` and all.
    #[serde(skip)]
    pub base_url_template: Text,
    /// The first server's variables.
    #[serde(skip)]
    pub server_variables: List<ServerVariable>,
    /// How the vendor's rate-limit headers read, where they differ from the common forms.
    #[serde(default)]
    pub rate_limit: RateLimitHeaders,
}

/// One way a vendor authenticates (a `securitySchemes` entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Bearer <token>` (`type: http, scheme: bearer`).
    Bearer,
    /// `Authorization: Basic <user:password>` (`type: http, scheme: basic`).
    Basic,
    /// OAuth2 client credentials: a token from the flow's `tokenUrl`, sent as a bearer.
    ClientCredentials,
}

/// A variable of the server URL (`https://{region}.example.com`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVariable {
    /// Its name in the URL.
    pub name: Text,
    /// Its default.
    pub default: Text,
    /// The values the spec allows (`enum`); empty: any.
    pub values: List<Text>,
    /// The spec's description.
    pub description: Text,
}

/// A server variable value the spec does not allow, or a variable it does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVariableError(pub String);

impl std::fmt::Display for ServerVariableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServerVariableError {}

impl VendorRules {
    /// The base URL with the server variables `given` (name, value) and the others at
    /// their defaults. A value must be one the spec lists (if it lists any) and stay within
    /// its part of the URL: no path, query, fragment or credentials (`/`, `\`, `?`, `#`,
    /// `@`). A variable the spec leaves open (a host) can still name any host: that is
    /// what it is for.
    ///
    /// ```
    /// # use std::borrow::Cow::Borrowed;
    /// # use userbatch_core::rules::{ServerVariable, VendorRules};
    /// # fn rules() -> VendorRules {
    /// #     let mut r: VendorRules = serde_json::from_value(serde_json::json!({"throttle-statuses": [429]})).unwrap();
    /// #     r.base_url_template = Borrowed("https://{region}.example.com/api");
    /// #     r.server_variables = vec![ServerVariable { name: Borrowed("region"), default: Borrowed("eu"),
    /// #         values: vec![Borrowed("eu"), Borrowed("us")].into(), description: Borrowed("") }].into();
    /// #     r
    /// # }
    /// let rules = rules();
    /// assert_eq!(rules.base_url(&[]).unwrap(), "https://eu.example.com/api");
    /// assert_eq!(rules.base_url(&[("region", "us")]).unwrap(), "https://us.example.com/api");
    /// assert!(rules.base_url(&[("region", "evil.com/")]).is_err());
    /// assert!(rules.base_url(&[("region", "evil.com\\")]).is_err());
    /// assert!(rules.base_url(&[("zone", "x")]).is_err());
    /// ```
    pub fn base_url(&self, given: &[(&str, &str)]) -> Result<String, ServerVariableError> {
        if let Some((name, _)) = given
            .iter()
            .find(|(n, _)| !self.server_variables.iter().any(|v| v.name == *n))
        {
            return Err(ServerVariableError(format!(
                "the server URL {} has no variable {name:?}",
                self.base_url_template
            )));
        }
        let mut url = self.base_url_template.to_string();
        for var in self.server_variables.iter() {
            let value = given
                .iter()
                .rev()
                .find(|(n, _)| *n == var.name)
                .map_or(&*var.default, |(_, v)| *v);
            if !var.values.is_empty() && !var.values.iter().any(|v| v == value) {
                return Err(ServerVariableError(format!(
                    "{} {value:?} is not one of {}",
                    var.name,
                    var.values.join(", ")
                )));
            }
            // No path, query, fragment or credentials: a `\\` is a `/` to URL parsers.
            if value.is_empty()
                || value.contains(['/', '\\', '?', '#', '@', '{', '}'])
                || value.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(ServerVariableError(format!(
                    "{} {value:?} must stay within its part of the URL (no /, \\, ?, #, @, \
                     space)",
                    var.name
                )));
            }
            url = url.replace(&format!("{{{}}}", var.name), value);
        }
        Ok(url.trim_end_matches('/').to_owned())
    }
}

/// How to read a vendor's rate-limit headers (`RateLimit`/`RateLimit-Policy`,
/// `X-RateLimit-*`): the root `x-userbatch.rate-limit`. The defaults read the common forms;
/// a spec says otherwise only where its vendor's headers mean something else.
///
/// ```yaml
/// x-userbatch:
///   rate-limit: { reset: epoch-seconds, window-s: 60 }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RateLimitHeaders {
    /// What a reset field (`X-RateLimit-Reset`, `RateLimit-Reset`) holds.
    #[serde(default)]
    pub reset: ResetForm,
    /// The window the limit counts over, in seconds, where no header says it
    /// (`RateLimit-Policy`'s `w` does). `None`: the longest reset seen, at least 1 s.
    #[serde(default)]
    pub window_s: Option<u32>,
}

/// What a rate-limit reset field holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResetForm {
    /// Seconds until the window resets, or, for a number over 1,000,000,000, the Unix time
    /// it resets at (as GitHub and Twitter write it).
    #[default]
    Auto,
    /// Always seconds until the window resets.
    Seconds,
    /// Always the Unix time (seconds) the window resets at.
    EpochSeconds,
}

/// Rules of one operation (its `x-userbatch` extension, with its `operationId`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OperationRules {
    /// The spec's `operationId`.
    #[serde(skip)]
    pub operation_id: Text,
    /// What the operation fetches, as the command line names it (`userbatch <vendor>
    /// <resource>`): `users`, `coworkers`. A resource's operations return the same kind of
    /// record (in full, or as summaries); the command line uses the one that takes the most
    /// ids per request, and `--full` its summaries' full operation.
    pub resource: Text,
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
    /// The `operationId` that sends one of this operation's (full) records back whole, for
    /// read-modify-write.
    #[serde(default)]
    pub update_operation: Option<Text>,
    /// Parameters the batch operation does not offer, each with why (e.g. a sort order,
    /// which the engine's input-ordered results would hide).
    #[serde(default)]
    pub skip_parameters: List<SkippedParameter>,
    /// What the spec documents of the operation's answers (derived from its `responses`
    /// by the generator, not written in `x-userbatch`).
    #[serde(skip)]
    pub answers: Answers,
}

/// What the spec documents of an operation's answers: the media types of its success
/// answer, and the not-found answer a single-id request gets, if the operation has one.
/// Only an answer that is what the spec documents may call an id "missing".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answers {
    /// Media types of the 2xx answer (`application/json`), compared without parameters
    /// and case. An answer of another media type (or none) is not the documented answer;
    /// with none listed, no answer is.
    pub success: List<Text>,
    /// The documented answer of a single-id request for an id the vendor does not have,
    /// for operations whose unknown ids can fail a request ([`UnknownIds`]).
    pub not_found: Option<NotFound>,
}

impl Answers {
    /// A JSON success answer and no not-found answer.
    pub const fn json() -> Self {
        Self {
            success: Cow::Borrowed(&[Cow::Borrowed("application/json")]),
            not_found: None,
        }
    }

    /// Whether `content_type` (a `Content-Type` header value, if the answer had one) is a
    /// documented success media type.
    pub fn is_success_type(&self, content_type: Option<&str>) -> bool {
        media_type_in(content_type, &self.success)
    }
}

/// The documented not-found answer of a single-id request: its status, media types and the
/// schema of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFound {
    /// The status (the unknown-ids status of the operation's rules).
    pub status: u16,
    /// Media types the spec documents for it.
    pub content_types: List<Text>,
    /// The schema of its body.
    pub body: BodySchema,
}

impl NotFound {
    /// Whether an answer is this one: the status, a documented media type, and a body that
    /// is JSON of the documented schema (an HTML page, an empty body or JSON of another
    /// shape is not).
    pub fn matches(&self, status: u16, content_type: Option<&str>, body: &[u8]) -> bool {
        status == self.status
            && media_type_in(content_type, &self.content_types)
            && self.body.matches(body)
    }
}

/// The schema of a documented JSON body, as a check: the JSON type at the top level, and
/// whether the body decodes into the type generated from that schema.
#[derive(Clone, Copy)]
pub struct BodySchema {
    /// The schema's name in the spec (e.g. `ErrorMessage`).
    pub name: &'static str,
    /// The JSON type the schema gives the body.
    pub json_type: JsonType,
    /// Whether a body decodes into the generated type of the schema.
    pub decodes: fn(&[u8]) -> bool,
}

impl BodySchema {
    /// Whether `body` is JSON of this schema.
    pub fn matches(&self, body: &[u8]) -> bool {
        JsonType::of(body) == Some(self.json_type) && (self.decodes)(body)
    }
}

impl PartialEq for BodySchema {
    /// Two checks of one schema name and JSON type are the same check (each vendor crate
    /// generates its own `decodes`).
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.json_type == other.json_type
    }
}

impl Eq for BodySchema {}

impl std::fmt::Debug for BodySchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodySchema")
            .field("name", &self.name)
            .field("json_type", &self.json_type)
            .finish_non_exhaustive()
    }
}

/// The type of a JSON value, as a schema's `type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    /// `{...}`.
    Object,
    /// `[...]`.
    Array,
    /// `"..."`.
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
}

impl JsonType {
    /// The type of the JSON value `text` starts with (after white space), read from its
    /// first character only; `None` for an empty body, `null` or text that is not JSON.
    pub fn of(text: &[u8]) -> Option<Self> {
        match text.iter().find(|b| !b.is_ascii_whitespace())? {
            b'{' => Some(Self::Object),
            b'[' => Some(Self::Array),
            b'"' => Some(Self::String),
            b'-' | b'0'..=b'9' => Some(Self::Number),
            b't' | b'f' => Some(Self::Boolean),
            _ => None,
        }
    }
}

/// Whether the media type of a `Content-Type` value (without parameters, any case) is one
/// of `types`.
pub fn media_type_in(content_type: Option<&str>, types: &[Text]) -> bool {
    let Some(essence) = content_type.map(|v| v.split(';').next().unwrap_or("").trim()) else {
        return false;
    };
    types.iter().any(|t| t.eq_ignore_ascii_case(essence))
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

/// How the mock imitates a vendor where the rules do not say: the `x-userbatch-mock`
/// extension, at a spec's root (the vendor-wide keys) or on an operation (the others).
/// Only the mock reads it; `cargo xtask lint` checks it. Nothing here changes what a
/// client sends or how it reads the answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MockQuirks {
    /// Root: error statuses the web server in front of the API answers itself, with an
    /// HTML page instead of the vendor's error body (e.g. IIS's 414).
    #[serde(default)]
    pub html_statuses: Vec<u16>,
    /// Root: records of a many-record answer come in an order of the vendor's own, not
    /// the request's.
    #[serde(default)]
    pub vendor_order: bool,
    /// Operation: the values a parameter takes where the docs list them in prose rather
    /// than as an `enum`; a value ending in `*` stands for that prefix and any non-empty
    /// rest (e.g. `custom.*`). Other values get 400.
    #[serde(default)]
    pub accepted_values: std::collections::BTreeMap<String, Vec<String>>,
    /// Operation (an `update-operation`): the answer to an update, as JSON; the strings
    /// `"{id}"` and `"{message}"` stand for the record's id and for what the update did.
    /// Without it the answer is made from the operation's response schema.
    #[serde(default)]
    pub update_answer: Option<serde_json::Value>,
}

impl MockQuirks {
    /// Whether `value` is one of `accepted` (`prefix*` entries take any non-empty rest).
    pub fn accepts(accepted: &[String], value: &str) -> bool {
        accepted.iter().any(|a| match a.strip_suffix('*') {
            Some(prefix) => value.len() > prefix.len() && value.starts_with(prefix),
            None => a == value,
        })
    }
}

/// A parameter a batch operation does not offer (`skip-parameters`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SkippedParameter {
    /// The parameter's name in the spec.
    pub name: Text,
    /// Why it is not offered.
    pub why: Text,
}

impl Attributes {
    /// Whether `name` may be asked for: a listed value, the "all" value, or a custom one.
    pub fn knows(&self, name: &str) -> bool {
        name == self.all
            || (name.starts_with(&*self.custom_prefix) && name.len() > self.custom_prefix.len())
            || self.values.iter().any(|v| v == name)
    }
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

/// What a vendor does with an id it does not know, in a multi-id request. Only what the
/// spec documents may call an id missing: an id left out of a success answer (`omitted`),
/// or a single-id request answered with the documented not-found answer ([`NotFound`]).
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
    /// The status that means "not found" for a request, if unknown ids can fail one;
    /// `None` for operations that leave unknown ids out (for them no error status means
    /// "not found").
    pub fn not_found_status(self) -> Option<u16> {
        match self {
            Self::FailsRequest(s) | Self::OmittedOrFailsRequest(s) => Some(s),
            Self::Omitted => None,
        }
    }

    /// Whether a success answer may leave unknown ids out.
    pub fn may_omit(self) -> bool {
        matches!(self, Self::Omitted | Self::OmittedOrFailsRequest(_))
    }
}

#[cfg(test)]
mod tests;
