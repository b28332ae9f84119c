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
                "specs/{name}.yaml: a vendor's name (the file's stem) must be lowercase ASCII \
                 letters, digits and `_`, starting with a letter, and not a Rust keyword or a \
                 name the workspace uses (a crate it depends on, a module of the facade)"
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

/// `[a-z][a-z0-9_]*`, not a Rust keyword, and not a name the workspace already uses for
/// something else (a crate, a dependency, a module the facade exports).
pub fn is_vendor_name(name: &str) -> bool {
    const TAKEN: &[&str] = &[
        // Crates and folders of the workspace, and what generated code names.
        "userbatch",
        "userbatch_core",
        "userbatch_mock",
        "userbatch_cli",
        "userbatch_bench",
        "tests",
        "xtask",
        "examples",
        "core",
        "std",
        "alloc",
        "crate",
        "progenitor_client",
        "reqwest",
        "serde",
        "serde_json",
        "regress",
        "uuid",
        "tokio",
        "url",
        "bytes",
        "http",
        // Modules and items of the facade, beside which each vendor's module sits.
        "rules",
        "json",
        "plan",
        "path",
        "registry",
        "vendors",
        "engine",
        "error",
    ];
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && syn::parse_str::<syn::Ident>(name).is_ok()
        && !TAKEN.contains(&name)
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
    /// What YAML readers would take silently and differently (tabs, YAML 1.1 booleans):
    /// (line, message); `cargo xtask lint` reports them.
    pub pitfalls: Vec<(usize, String)>,
}

impl Spec {
    /// Reads and parses `rel` below `root`.
    pub fn load(root: &Path, rel: &str) -> Result<Self> {
        let text = fs::read_to_string(root.join(rel)).with_context(|| format!("reading {rel}"))?;
        Self::parse(rel, &text)
    }

    /// Parses YAML text. A key twice in one mapping is an error naming its line: read into
    /// JSON, the last one would win without a word (and other tools keep the first).
    pub fn parse(rel: &str, text: &str) -> Result<Self> {
        let twice = crate::yaml::duplicate_keys(text);
        if !twice.is_empty() {
            let lines: Vec<String> = twice
                .iter()
                .map(|(line, what)| format!("{rel}:{line}: {what}"))
                .collect();
            anyhow::bail!("{}", lines.join("\n"));
        }
        let raw: Value =
            serde_yaml::from_str(text).with_context(|| format!("{rel}: not valid YAML"))?;
        Ok(Self {
            rel: rel.to_owned(),
            raw,
            pitfalls: crate::yaml::pitfalls(text),
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

    /// The parameter objects of an operation (`$ref`s followed): its own, then the path's
    /// that it does not override (same `name` and `in`), as OpenAPI has it.
    pub fn parameters<'a>(&'a self, path: &str, op: &'a Value) -> Vec<&'a Value> {
        let path_level = self
            .raw
            .pointer(&format!("/paths/{}/parameters", escape_pointer(path)))
            .and_then(Value::as_array);
        let op_level = op.get("parameters").and_then(Value::as_array);
        let key = |p: &Value| (p.get("name").cloned(), p.get("in").cloned());
        let mut out: Vec<&Value> = Vec::new();
        for p in op_level
            .into_iter()
            .chain(path_level)
            .flatten()
            .filter_map(|p| self.resolve_all(p).ok())
        {
            if !out.iter().any(|q| key(q) == key(p)) {
                out.push(p);
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
        let schemes = self
            .raw
            .pointer("/components/securitySchemes")
            .and_then(Value::as_object);
        // The schemes the root `security` names (any of them will do), with their scopes.
        let mut named: Vec<(String, Vec<String>)> = Vec::new();
        for requirement in self
            .raw
            .get("security")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
        {
            for (name, scopes) in requirement {
                let scopes = scopes
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                if !named.iter().any(|(n, _)| n == name) {
                    named.push((name.clone(), scopes));
                }
            }
        }
        let mut auth = Vec::new();
        for (name, scheme) in schemes.into_iter().flatten() {
            let Some(required) = named.iter().find(|(n, _)| n == name) else {
                continue;
            };
            let kind = scheme.get("type").and_then(Value::as_str).unwrap_or("");
            let http = scheme
                .get("scheme")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase);
            match (kind, http.as_deref()) {
                ("http", Some("bearer")) if !auth.contains(&AuthScheme::Bearer) => {
                    auth.push(AuthScheme::Bearer)
                }
                ("http", Some("bearer")) => {}
                ("http", Some("basic")) => auth.push(AuthScheme::Basic),
                ("oauth2", _) => {
                    // A token from any other flow (a user's) is brought as a bearer token.
                    let others = scheme
                        .get("flows")
                        .and_then(Value::as_object)
                        .is_some_and(|f| f.keys().any(|k| k != "clientCredentials"));
                    if others && !auth.contains(&AuthScheme::Bearer) {
                        auth.push(AuthScheme::Bearer);
                    }
                    let Some(flow) = scheme.pointer("/flows/clientCredentials") else {
                        continue;
                    };
                    if auth.contains(&AuthScheme::ClientCredentials) {
                        continue;
                    }
                    let url = flow
                        .get("tokenUrl")
                        .and_then(Value::as_str)
                        .with_context(|| format!("{}: {name} has no tokenUrl", self.rel))?;
                    rules.token_url = Some(url.to_owned().into());
                    let scopes: Vec<String> = if required.1.is_empty() {
                        flow.get("scopes")
                            .and_then(Value::as_object)
                            .map(|s| s.keys().cloned().collect())
                            .unwrap_or_default()
                    } else {
                        required.1.clone()
                    };
                    rules.scope = (!scopes.is_empty()).then(|| scopes.join(" ").into());
                    auth.push(AuthScheme::ClientCredentials);
                }
                _ => bail!(
                    "{}: securityScheme {name}: only http bearer, http basic and oauth2 client \
                     credentials are supported",
                    self.rel
                ),
            }
        }
        rules.auth = auth.into();
        let server = self
            .raw
            .pointer("/servers/0")
            .with_context(|| format!("{}: no servers", self.rel))?;
        rules.base_url_template = server
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim_end_matches('/')
            .to_owned()
            .into();
        let mut vars = Vec::new();
        for (name, var) in server
            .get("variables")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let text = |key: &str| {
                var.get(key)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            vars.push(ServerVariable {
                name: name.clone().into(),
                default: text("default").into(),
                values: var
                    .get("enum")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|v| v.to_owned().into())
                    .collect::<Vec<_>>()
                    .into(),
                description: text("description").into(),
            });
        }
        rules.server_variables = vars.into();
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
    AuthScheme, IdEncoding, IdKind, IdLocation, OperationRules, ResetForm, ServerVariable,
    UnknownIds, VendorRules,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operations_parameter_overrides_the_paths() {
        let spec = Spec::parse(
            "t.yaml",
            r#"
openapi: 3.0.3
info: { title: T, version: "1" }
paths:
  /a/{id}:
    parameters:
      - { name: id, in: path, required: true, description: path's, schema: { type: string } }
      - { name: x, in: query, description: path's x, schema: { type: string } }
    get:
      operationId: getA
      parameters:
        - { name: id, in: path, required: true, description: the operation's, schema: { type: integer } }
      responses: { "200": { description: ok } }
"#,
        )
        .unwrap();
        let op = spec.raw.pointer("/paths/~1a~1{id}/get").unwrap();
        let found: Vec<&str> = spec
            .parameters("/a/{id}", op)
            .iter()
            .map(|p| p["description"].as_str().unwrap())
            .collect();
        assert_eq!(found, ["the operation's", "path's x"]);
    }

    #[test]
    fn vendor_names_are_identifiers_nobody_else_uses() {
        for good in ["nexudus", "user_mgr2"] {
            assert!(is_vendor_name(good), "{good}");
        }
        for bad in [
            "Nexudus", "2fa", "type", "async", "serde", "rules", "registry", "a-b", "",
        ] {
            assert!(!is_vendor_name(bad), "{bad}");
        }
    }

    #[test]
    fn auth_scopes_and_server_variables_come_from_the_spec() {
        let root = workspace_root();
        let made_up = Spec::load(&root, "tests/fixtures/new-vendor/peoplehub.yaml").unwrap();
        let rules = made_up.vendor_rules().unwrap();
        assert_eq!(&*rules.auth, [AuthScheme::ClientCredentials]);
        assert_eq!(
            rules.token_url.as_deref(),
            Some("https://auth.peoplehub.example/oauth/token")
        );
        assert_eq!(rules.scope.as_deref(), Some("directory.read"));
        assert_eq!(rules.default_base_url, "https://eu.peoplehub.example/api");
        assert_eq!(
            rules.base_url_template,
            "https://{region}.peoplehub.example/api"
        );
        assert_eq!(rules.server_variables.len(), 1);
        assert_eq!(
            rules.base_url(&[("region", "us")]).unwrap(),
            "https://us.peoplehub.example/api"
        );
        assert!(rules.base_url(&[("region", "apac")]).is_err());

        let nexudus = Spec::load(&root, "specs/nexudus.yaml").unwrap();
        let rules = nexudus.vendor_rules().unwrap();
        assert_eq!(&*rules.auth, [AuthScheme::Basic, AuthScheme::Bearer]);
        assert_eq!(rules.token_url, None);
        // A user's OAuth2 token (authorization code) is a bearer token; the client
        // credentials flow has no scopes.
        let usermgr = Spec::load(&root, "specs/usermgr.yaml").unwrap();
        let rules = usermgr.vendor_rules().unwrap();
        assert_eq!(
            &*rules.auth,
            [AuthScheme::ClientCredentials, AuthScheme::Bearer]
        );
        assert_eq!(rules.scope, None);
    }
}
