//! Loading specs and reading their `x-userbatch` extensions.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// One vendor's spec in `specs/` and the crate generated from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorSpec {
    /// Crate and spec name, e.g. `nexudus`: the spec file's stem.
    pub name: String,
}

/// Every vendor: one per `specs/*.yaml`, by name. A stem must be a crate name that is also
/// a Rust identifier (`[a-z][a-z0-9_]*`), as it names the crate, the facade's module and
/// feature, and the command line's vendor.
pub fn vendors(root: &Path) -> Result<Vec<VendorSpec>> {
    let dir = root.join("specs");
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            bail!("{}: not a UTF-8 file name", path.display());
        };
        if !is_vendor_name(name) {
            bail!(
                "specs/{name}.yaml: a vendor's name (the file's stem) must be lowercase ASCII                  letters, digits and `_`, starting with a letter"
            );
        }
        out.push(VendorSpec {
            name: name.to_owned(),
        });
    }
    if out.is_empty() {
        bail!("no specs in {}", dir.display());
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// `[a-z][a-z0-9_]*`, and not a name the workspace already uses for something else.
pub fn is_vendor_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !matches!(
            name,
            "userbatch" | "tests" | "xtask" | "examples" | "core" | "std"
        )
}

impl VendorSpec {
    /// `specs/<name>.yaml`, relative to the workspace root.
    pub fn spec_rel(&self) -> String {
        format!("specs/{}.yaml", self.name)
    }

    /// `crates/userbatch-mock/specs/<name>.json`: the spec as JSON, for the mock.
    pub fn mock_spec_rel(&self) -> String {
        format!("crates/userbatch-mock/specs/{}.json", self.name)
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

    /// The root `x-userbatch` extension, read into the rules (with the spec's title, the
    /// default server URL and the OAuth2 client credentials token URL, if any).
    pub fn vendor_rules(&self) -> Result<VendorRules> {
        let v = self
            .raw
            .get("x-userbatch")
            .with_context(|| format!("{}: no root x-userbatch extension", self.rel))?;
        let mut rules: VendorRules = serde_json::from_value(v.clone())
            .with_context(|| format!("{}: root x-userbatch is malformed", self.rel))?;
        rules.title = self
            .raw
            .pointer("/info/title")
            .and_then(Value::as_str)
            .with_context(|| format!("{}: no info.title", self.rel))?
            .to_owned()
            .into();
        rules.default_base_url = self.default_base_url()?.into();
        rules.token_url = self
            .raw
            .pointer("/components/securitySchemes")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|schemes| schemes.values())
            .find_map(|scheme| scheme.pointer("/flows/clientCredentials/tokenUrl"))
            .and_then(Value::as_str)
            .map(|url| url.to_owned().into());
        Ok(rules)
    }

    /// An operation's `x-userbatch` extension read into the rules (with its
    /// `operationId`), if it has one. The records' `secrets` are left for the generator.
    pub fn operation_rules(&self, op: &Value) -> Result<Option<OperationRules>> {
        let Some(v) = op.get("x-userbatch") else {
            return Ok(None);
        };
        let id = op.get("operationId").and_then(Value::as_str).unwrap_or("?");
        let mut rules: OperationRules = serde_json::from_value(v.clone())
            .with_context(|| format!("{}: x-userbatch of {id} is malformed", self.rel))?;
        rules.operation_id = id.to_owned().into();
        Ok(Some(rules))
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

pub use userbatch_core::rules::{
    IdEncoding, IdKind, IdLocation, OperationRules, ResetForm, UnknownIds, VendorRules,
};
