//! Loading specs and reading their `x-userbatch` extensions.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;

/// One vendor: a spec in `specs/` and the crate generated from it.
#[derive(Debug, Clone)]
pub struct Vendor {
    /// Crate and spec name, e.g. `nexudus`.
    pub name: &'static str,
}

/// Every vendor, in a fixed order.
pub const VENDORS: &[Vendor] = &[
    Vendor { name: "nexudus" },
    Vendor { name: "usermgr" },
    Vendor { name: "avepoint" },
];

impl Vendor {
    /// `specs/<name>.yaml`, relative to the workspace root.
    pub fn spec_rel(&self) -> String {
        format!("specs/{}.yaml", self.name)
    }

    /// `crates/<name>/src/generated.rs`, relative to the workspace root.
    pub fn generated_rel(&self) -> String {
        format!("crates/{}/src/generated.rs", self.name)
    }
}

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// A spec as raw JSON (for extensions, examples and lint) and as `openapiv3` (for progenitor).
pub struct Spec {
    /// Path relative to the workspace root, for messages.
    pub rel: String,
    /// The document as JSON.
    pub raw: Value,
}

impl Spec {
    /// Reads and parses `rel` below `root`.
    pub fn load(root: &Path, rel: &str) -> Result<Self> {
        let text = fs::read_to_string(root.join(rel)).with_context(|| format!("reading {rel}"))?;
        Self::parse(rel, &text)
    }

    /// Parses YAML text.
    pub fn parse(rel: &str, text: &str) -> Result<Self> {
        let raw: Value =
            serde_yaml::from_str(text).with_context(|| format!("{rel}: not valid YAML"))?;
        Ok(Self {
            rel: rel.to_owned(),
            raw,
        })
    }

    /// The document as `openapiv3` sees it.
    pub fn openapi(&self) -> Result<openapiv3::OpenAPI> {
        serde_json::from_value(self.raw.clone())
            .with_context(|| format!("{}: not an OpenAPI 3.0 document", self.rel))
    }

    /// Every operation: (path, method, operation object).
    pub fn operations(&self) -> Vec<(&str, &str, &Value)> {
        let mut out = Vec::new();
        if let Some(paths) = self.raw.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let Some(item) = item.as_object() else {
                    continue;
                };
                for (method, op) in item {
                    if HTTP_METHODS.contains(&method.as_str()) {
                        out.push((path.as_str(), method.as_str(), op));
                    }
                }
            }
        }
        out
    }

    /// `components.schemas.<name>`.
    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.raw
            .pointer(&format!("/components/schemas/{}", escape_pointer(name)))
    }

    /// Follows a local `$ref` (`#/...`), once.
    pub fn resolve<'a>(&'a self, value: &'a Value) -> Result<&'a Value> {
        match value.get("$ref").and_then(Value::as_str) {
            None => Ok(value),
            Some(r) => {
                let Some(pointer) = r.strip_prefix('#') else {
                    bail!(
                        "{}: only local references are supported, found {r}",
                        self.rel
                    )
                };
                self.raw
                    .pointer(pointer)
                    .with_context(|| format!("{}: dangling reference {r}", self.rel))
            }
        }
    }

    /// Follows `$ref`s until a non-reference.
    pub fn resolve_all<'a>(&'a self, mut value: &'a Value) -> Result<&'a Value> {
        for _ in 0..32 {
            if value.get("$ref").is_none() {
                return Ok(value);
            }
            value = self.resolve(value)?;
        }
        bail!("{}: reference cycle", self.rel)
    }

    /// The root `x-userbatch` extension.
    pub fn vendor_ext(&self) -> Result<VendorExt> {
        let v = self
            .raw
            .get("x-userbatch")
            .with_context(|| format!("{}: no root x-userbatch extension", self.rel))?;
        serde_json::from_value(v.clone())
            .with_context(|| format!("{}: root x-userbatch is malformed", self.rel))
    }

    /// An operation's `x-userbatch` extension, if it has one.
    pub fn operation_ext(&self, op: &Value) -> Result<Option<OperationExt>> {
        let Some(v) = op.get("x-userbatch") else {
            return Ok(None);
        };
        let id = op.get("operationId").and_then(Value::as_str).unwrap_or("?");
        serde_json::from_value(v.clone())
            .map(Some)
            .with_context(|| format!("{}: x-userbatch of {id} is malformed", self.rel))
    }

    /// The first server URL with every variable at its default.
    pub fn default_base_url(&self) -> Result<String> {
        let server = self
            .raw
            .pointer("/servers/0")
            .with_context(|| format!("{}: no servers", self.rel))?;
        let mut url = server
            .get("url")
            .and_then(Value::as_str)
            .with_context(|| format!("{}: server without url", self.rel))?
            .to_owned();
        if let Some(vars) = server.get("variables").and_then(Value::as_object) {
            for (name, var) in vars {
                let default = var
                    .get("default")
                    .and_then(Value::as_str)
                    .with_context(|| {
                        format!("{}: server variable {name} has no default", self.rel)
                    })?;
                url = url.replace(&format!("{{{name}}}"), default);
            }
        }
        if url.contains('{') {
            bail!("{}: server URL {url} has an undeclared variable", self.rel);
        }
        Ok(url.trim_end_matches('/').to_owned())
    }
}

/// Methods an OpenAPI path item can hold.
pub const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Escapes a JSON pointer token.
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The root `x-userbatch` extension: vendor-wide facts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VendorExt {
    /// Statuses the vendor throttles with.
    pub throttle_statuses: Vec<u16>,
    /// JSON pointer to the message in an error body (`""`: a bare JSON string).
    #[serde(default)]
    pub error_message: Option<String>,
}

/// An operation's `x-userbatch` extension.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OperationExt {
    /// Where the ids go.
    pub ids: IdsExt,
    /// Request limits.
    #[serde(default)]
    pub limits: LimitsExt,
    /// Where the records are in the response.
    pub records: RecordsExt,
    /// Paging, if any.
    #[serde(default)]
    pub paging: Option<PagingExt>,
    /// Partial-record facts, if any.
    #[serde(default)]
    pub partial: Option<PartialExt>,
    /// What the vendor does with unknown ids.
    pub unknown_ids: UnknownIdsExt,
    /// Attribute selection, if any.
    #[serde(default)]
    pub attributes: Option<AttributesExt>,
}

/// `x-userbatch.attributes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AttributesExt {
    /// The query parameter naming extra attributes.
    pub param: String,
    /// Attributes always returned.
    pub summary: Vec<String>,
    /// Attributes the parameter may name.
    pub values: Vec<String>,
    /// The value asking for every attribute.
    pub all: String,
    /// Prefix of custom attributes.
    pub custom_prefix: String,
    /// Attributes valid only with one id.
    pub single_id_only: Vec<String>,
}

/// `x-userbatch.ids`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct IdsExt {
    /// `path`, `query` or `body`.
    #[serde(rename = "in")]
    pub location: IdLocation,
    /// Parameter or body field name.
    pub name: String,
    /// How several ids are written.
    pub encoding: IdEncoding,
    /// `integer` or `string`.
    #[serde(rename = "type")]
    pub kind: IdKind,
    /// Characters an id may not contain.
    #[serde(default)]
    pub forbidden_chars: String,
}

/// `x-userbatch.ids.in`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdLocation {
    /// Path parameter.
    Path,
    /// Query parameter.
    Query,
    /// JSON body field.
    Body,
}

/// `x-userbatch.ids.encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdEncoding {
    /// One id.
    Single,
    /// `a,b,c`.
    Csv,
    /// `[a,b,c]`.
    BracketedCsv,
    /// JSON array.
    JsonArray,
}

/// `x-userbatch.ids.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdKind {
    /// Decimal integer.
    Integer,
    /// String.
    String,
}

/// `x-userbatch.limits`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitsExt {
    /// Most ids per request.
    pub max_ids: Option<usize>,
    /// Most query-string bytes as sent.
    pub max_query_bytes: Option<usize>,
    /// Most characters of the ids path segment.
    pub max_segment_chars: Option<usize>,
}

/// `x-userbatch.records`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RecordsExt {
    /// JSON pointer into the 200 body.
    pub pointer: String,
    /// Array of records (true) or one record (false).
    pub many: bool,
    /// Field holding each record's id.
    pub id_field: String,
}

/// `x-userbatch.paging`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PagingExt {
    /// Page-number query parameter.
    pub index_param: String,
    /// Page-size query parameter.
    pub size_param: String,
    /// First page number.
    pub first_index: u32,
    /// Vendor's default page size.
    pub default_size: u32,
    /// JSON pointer to the total count in the 200 body.
    pub total_pointer: String,
}

/// `x-userbatch.partial`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PartialExt {
    /// The full schema's name.
    pub of: String,
    /// operationId returning the full record.
    pub full_operation: String,
    /// Fields the operation leaves unpopulated.
    pub unpopulated: Vec<String>,
}

/// `x-userbatch.unknown-ids`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum UnknownIdsExt {
    /// Left out of the response.
    Omitted,
    /// The whole request fails with this status.
    FailsRequest(u16),
    /// Undocumented which: handle both.
    OmittedOrFailsRequest(u16),
}
