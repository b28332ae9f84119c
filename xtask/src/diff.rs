//! `cargo xtask diff [--base REV] [--json] [--fail-on breaking]`: what changed between the
//! specs at a git revision and the working tree, for the people who program against the
//! generated crates.
//!
//! - **Wire**: operations, parameters, request and response fields (added, removed, type,
//!   nullability, enum values), each marked breaking or not for existing callers.
//! - **Rules**: the `x-userbatch` extensions (limits, encodings, paging, partial lists).
//! - **Rust API**: the code generated for both revisions (by this generator), parsed with
//!   `syn`: public types, fields, variants, functions and methods, constants; and the
//!   version bump they call for under Cargo's semver rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use quote::ToTokens;
use serde::Serialize;
use serde_json::Value;

use crate::spec::{Spec, vendors};

/// Which side of the API a change is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    /// What goes over the wire (the spec's operations, parameters and schemas).
    Wire,
    /// The `x-userbatch` rules.
    Rules,
    /// The generated crate's public Rust API.
    RustApi,
}

/// How a change affects code built against the old revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impact {
    /// Nothing existing callers need to do (Rust API: a patch release).
    Compatible,
    /// New things callers may use (Rust API: a minor release).
    Addition,
    /// Existing callers can break (Rust API: a major release).
    Breaking,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Wire, rules or Rust API.
    pub area: Area,
    /// Where: an operation (`getUser`), a schema field (`User.TwoFactorEnabled`), a Rust
    /// path (`types::User::two_factor_enabled`).
    pub at: String,
    /// What changed, in words.
    pub what: String,
    /// For existing callers.
    pub impact: Impact,
}

/// The changes of one vendor.
#[derive(Debug, Clone, Serialize)]
pub struct VendorChanges {
    /// The vendor (and crate) name.
    pub vendor: String,
    /// Every change, wire first.
    pub changes: Vec<Change>,
    /// The crate's version now.
    pub version: String,
    /// The version the Rust API changes call for (the same when there are none).
    pub next_version: String,
}

impl VendorChanges {
    /// Whether any change breaks existing callers.
    pub fn is_breaking(&self) -> bool {
        self.changes.iter().any(|c| c.impact == Impact::Breaking)
    }
}

/// Runs `cargo xtask diff`.
pub fn run(root: &Path, base: &str, json: bool, fail_on_breaking: bool) -> Result<()> {
    let version = workspace_version(root)?;
    let mut all = Vec::new();
    for vendor in vendors(root)? {
        let rel = vendor.spec_rel();
        let old_text = git_show(root, base, &rel)?;
        let new_text =
            std::fs::read_to_string(root.join(&rel)).with_context(|| format!("reading {rel}"))?;
        let changes = match old_text {
            Some(old) if old == new_text => Vec::new(),
            Some(old) => diff_specs(&rel, &old, &new_text)?,
            None => vec![Change {
                area: Area::Wire,
                at: rel.clone(),
                what: format!("new spec (not at {base})"),
                impact: Impact::Addition,
            }],
        };
        all.push(vendor_changes(&vendor.name, changes, &version));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        print!("{}", markdown(&all, base));
    }
    if fail_on_breaking && all.iter().any(VendorChanges::is_breaking) {
        bail!("breaking changes (see above)");
    }
    Ok(())
}

/// The changes with the version they call for.
pub fn vendor_changes(vendor: &str, changes: Vec<Change>, version: &str) -> VendorChanges {
    let api = changes
        .iter()
        .filter(|c| c.area == Area::RustApi)
        .map(|c| c.impact)
        .max();
    VendorChanges {
        vendor: vendor.to_owned(),
        next_version: next_version(version, api),
        version: version.to_owned(),
        changes,
    }
}

/// Every change from the spec text `old` to `new` (both of `rel`).
pub fn diff_specs(rel: &str, old: &str, new: &str) -> Result<Vec<Change>> {
    let old = Spec::parse(rel, old)?;
    let new = Spec::parse(rel, new)?;
    let mut out = Vec::new();
    wire(&old, &new, &mut out)?;
    rules(&old, &new, &mut out);
    let old_code = crate::generate::generate_source(&old)
        .with_context(|| format!("generating the code of the old {rel}"))?;
    let new_code = crate::generate::generate_source(&new)
        .with_context(|| format!("generating the code of the new {rel}"))?;
    rust_api(&old_code, &new_code, &mut out)?;
    Ok(out)
}

fn git_show(root: &Path, rev: &str, rel: &str) -> Result<Option<String>> {
    let out = Command::new("git")
        .current_dir(root)
        .args(["show", &format!("{rev}:{rel}")])
        .output()
        .context("running git")?;
    if out.status.success() {
        return Ok(Some(String::from_utf8(out.stdout)?));
    }
    // Tell "no such revision" from "no such file at it".
    let rev_ok = Command::new("git")
        .current_dir(root)
        .args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ])
        .output()
        .context("running git")?
        .status
        .success();
    if rev_ok {
        Ok(None)
    } else {
        bail!("{rev} is not a git revision here")
    }
}

fn workspace_version(root: &Path) -> Result<String> {
    let text = std::fs::read_to_string(root.join("Cargo.toml"))?;
    text.lines()
        .skip_while(|l| l.trim() != "[workspace.package]")
        .find_map(|l| {
            let value = l.trim().strip_prefix("version")?.trim().strip_prefix('=')?;
            Some(value.trim().trim_matches('"').to_owned())
        })
        .context("no version in [workspace.package]")
}

/// The version Cargo's semver rules call for after changes of `impact` (for 0.y.z, a
/// breaking change bumps y and anything else z).
pub fn next_version(version: &str, impact: Option<Impact>) -> String {
    let parts: Vec<u64> = version.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    let (major, minor, patch) = (
        parts.first().copied().unwrap_or(0),
        parts.get(1).copied().unwrap_or(0),
        parts.get(2).copied().unwrap_or(0),
    );
    match (impact, major) {
        (None, _) => version.to_owned(),
        (Some(Impact::Breaking), 0) => format!("0.{}.0", minor + 1),
        (Some(_), 0) => format!("0.{minor}.{}", patch + 1),
        (Some(Impact::Breaking), _) => format!("{}.0.0", major + 1),
        (Some(Impact::Addition), _) => format!("{major}.{}.0", minor + 1),
        (Some(Impact::Compatible), _) => format!("{major}.{minor}.{}", patch + 1),
    }
}

// ---------------------------------------------------------------------------------------
// Wire

/// A schema as the wire sees it: its type and format, nullability, enum values.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    ty: String,
    nullable: bool,
    values: BTreeSet<String>,
    required: bool,
}

fn shape(spec: &Spec, schema: &Value, required: bool) -> Shape {
    let name = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        .map(str::to_owned);
    let resolved = spec.resolve_all(schema).unwrap_or(schema);
    let ty = match name {
        Some(name) => name,
        None => type_name(spec, resolved),
    };
    let values = resolved
        .get("enum")
        .and_then(Value::as_array)
        .map(|v| v.iter().map(Value::to_string).collect())
        .unwrap_or_default();
    Shape {
        ty,
        nullable: resolved.get("nullable").and_then(Value::as_bool) == Some(true),
        values,
        required,
    }
}

fn type_name(spec: &Spec, schema: &Value) -> String {
    if let Some(one_of) = schema.get("oneOf").and_then(Value::as_array) {
        let names: Vec<String> = one_of.iter().map(|s| shape(spec, s, true).ty).collect();
        return format!("oneOf({})", names.join(" | "));
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("any");
    match (ty, schema.get("format").and_then(Value::as_str)) {
        ("array", _) => {
            let items = schema
                .get("items")
                .map_or_else(|| "any".to_owned(), |items| shape(spec, items, true).ty);
            format!("array<{items}>")
        }
        (ty, Some(format)) => format!("{ty}/{format}"),
        (ty, None) => ty.to_owned(),
    }
}

/// `Schema.field` (nested inline objects as `Schema.field.inner`) -> shape.
fn fields(spec: &Spec, prefix: &str, schema: &Value, out: &mut BTreeMap<String, Shape>) {
    let schema = spec.resolve_all(schema).unwrap_or(schema);
    let required: BTreeSet<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, prop) in props {
        let at = format!("{prefix}.{name}");
        out.insert(
            at.clone(),
            shape(spec, prop, required.contains(name.as_str())),
        );
        if prop.get("$ref").is_none() && prop.get("properties").is_some() {
            fields(spec, &at, prop, out);
        }
    }
}

/// Every operation by id: (method and path, operation).
fn operations(spec: &Spec) -> BTreeMap<String, (String, &Value)> {
    spec.operations()
        .into_iter()
        .filter_map(|(path, method, op)| {
            let id = op.get("operationId")?.as_str()?.to_owned();
            Some((id, (format!("{} {path}", method.to_uppercase()), op)))
        })
        .collect()
}

/// An operation's parameters by `in name`.
fn parameters(spec: &Spec, op: &Value) -> BTreeMap<String, Shape> {
    let mut out = BTreeMap::new();
    for p in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let p = spec.resolve_all(p).unwrap_or(p);
        let (Some(name), Some(location)) = (
            p.get("name").and_then(Value::as_str),
            p.get("in").and_then(Value::as_str),
        ) else {
            continue;
        };
        let required = p.get("required").and_then(Value::as_bool) == Some(true);
        let schema = p.get("schema").cloned().unwrap_or(Value::Null);
        out.insert(format!("{location} {name}"), shape(spec, &schema, required));
    }
    out
}

fn push(out: &mut Vec<Change>, area: Area, at: &str, what: String, impact: Impact) {
    out.push(Change {
        area,
        at: at.to_owned(),
        what,
        impact,
    });
}

fn wire(old: &Spec, new: &Spec, out: &mut Vec<Change>) -> Result<()> {
    let (old_ops, new_ops) = (operations(old), operations(new));
    for (id, (route, _)) in &old_ops {
        if !new_ops.contains_key(id) {
            let what = format!("operation removed (was {route})");
            push(out, Area::Wire, id, what, Impact::Breaking);
        }
    }
    for (id, (route, op)) in &new_ops {
        let Some((old_route, old_op)) = old_ops.get(id) else {
            let what = format!("operation added ({route})");
            push(out, Area::Wire, id, what, Impact::Addition);
            continue;
        };
        if old_route != route {
            let what = format!("moved from {old_route} to {route}");
            push(out, Area::Wire, id, what, Impact::Breaking);
        }
        let (was, now) = (parameters(old, old_op), parameters(new, op));
        for name in was.keys().filter(|name| !now.contains_key(*name)) {
            let what = format!("parameter {name} removed (callers that set it break)");
            push(out, Area::Wire, id, what, Impact::Breaking);
        }
        for (name, shape) in &now {
            let at = format!("{id} parameter {name}");
            match was.get(name) {
                None if shape.required => {
                    let what = format!("required parameter added ({})", shape.ty);
                    push(out, Area::Wire, &at, what, Impact::Breaking);
                }
                None => {
                    let what = format!("optional parameter added ({})", shape.ty);
                    push(out, Area::Wire, &at, what, Impact::Addition);
                }
                Some(before) => compare_shapes(&at, before, shape, Direction::Sent, out),
            }
        }
        let statuses = |op: &Value| -> BTreeSet<String> {
            op.get("responses")
                .and_then(Value::as_object)
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default()
        };
        let (was, now) = (statuses(old_op), statuses(op));
        for s in now.difference(&was) {
            let what = format!("documents response {s}");
            push(out, Area::Wire, id, what, Impact::Compatible);
        }
        for s in was.difference(&now) {
            let what = format!("no longer documents response {s}");
            push(out, Area::Wire, id, what, Impact::Compatible);
        }
    }
    // Schemas: requests and responses alike (the same schema is read and sent back).
    let schema_names = |spec: &Spec| -> BTreeSet<String> {
        spec.raw
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default()
    };
    let (was_names, now_names) = (schema_names(old), schema_names(new));
    for name in was_names.difference(&now_names) {
        push(
            out,
            Area::Wire,
            name,
            "schema removed".to_owned(),
            Impact::Breaking,
        );
    }
    for name in now_names.difference(&was_names) {
        push(
            out,
            Area::Wire,
            name,
            "schema added".to_owned(),
            Impact::Addition,
        );
    }
    let users = schema_users(new);
    for name in was_names.intersection(&now_names) {
        let first = out.len();
        let (mut was, mut now) = (BTreeMap::new(), BTreeMap::new());
        if let (Some(a), Some(b)) = (old.schema(name), new.schema(name)) {
            fields(old, name, a, &mut was);
            fields(new, name, b, &mut now);
        }
        for (field, shape) in &was {
            if !now.contains_key(field) {
                let what = format!(
                    "field removed (was {}): code that reads it loses it, and updates no \
                     longer send it",
                    shape.ty
                );
                push(out, Area::Wire, field, what, Impact::Breaking);
            }
        }
        for (field, shape) in &now {
            match was.get(field) {
                None => {
                    let what = format!(
                        "field added ({}{}): older clients ignore it on the wire",
                        shape.ty,
                        if shape.nullable { ", nullable" } else { "" }
                    );
                    push(out, Area::Wire, field, what, Impact::Addition);
                }
                Some(before) => compare_shapes(field, before, shape, Direction::Both, out),
            }
        }
        if let Some(ops) = users.get(name) {
            let ops: Vec<&str> = ops.iter().map(String::as_str).collect();
            for change in &mut out[first..] {
                let _ = write!(change.what, " (in {})", ops.join(", "));
            }
        }
    }
    Ok(())
}

/// For each schema, the operations whose parameters, request or responses use it (through
/// other schemas too).
fn schema_users(spec: &Spec) -> BTreeMap<String, BTreeSet<String>> {
    /// Every local reference reachable from `value` (schemas, parameters, ...).
    fn refs(spec: &Spec, value: &Value, seen: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(Value::as_str)
                    && seen.insert(r.to_owned())
                    && let Some(target) = r.strip_prefix('#').and_then(|p| spec.raw.pointer(p))
                {
                    refs(spec, target, seen);
                }
                for v in map.values() {
                    refs(spec, v, seen);
                }
            }
            Value::Array(list) => list.iter().for_each(|v| refs(spec, v, seen)),
            _ => {}
        }
    }
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (id, (_, op)) in operations(spec) {
        let mut seen = BTreeSet::new();
        refs(spec, op, &mut seen);
        for name in seen
            .iter()
            .filter_map(|r| r.strip_prefix("#/components/schemas/"))
        {
            out.entry(name.to_owned()).or_default().insert(id.clone());
        }
    }
    out
}

/// Whether a value is sent by callers (parameters) or also received (schemas).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Sent,
    Both,
}

fn compare_shapes(at: &str, was: &Shape, now: &Shape, dir: Direction, out: &mut Vec<Change>) {
    if was.ty != now.ty {
        let what = format!("type changed from {} to {}", was.ty, now.ty);
        push(out, Area::Wire, at, what, Impact::Breaking);
    }
    if was.nullable != now.nullable {
        let (what, impact) = if now.nullable {
            (
                "may now be null: code that reads it must handle null",
                if dir == Direction::Sent {
                    Impact::Compatible
                } else {
                    Impact::Breaking
                },
            )
        } else {
            (
                "may no longer be null: callers that send null break",
                Impact::Breaking,
            )
        };
        push(out, Area::Wire, at, what.to_owned(), impact);
    }
    if was.required != now.required {
        let (what, impact) = if now.required {
            ("now required", Impact::Breaking)
        } else {
            ("no longer required", Impact::Compatible)
        };
        push(out, Area::Wire, at, what.to_owned(), impact);
    }
    let added: Vec<&String> = now.values.difference(&was.values).collect();
    let removed: Vec<&String> = was.values.difference(&now.values).collect();
    let list = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    if !added.is_empty() {
        let (what, impact) = match dir {
            Direction::Sent => (
                format!("enum values added: {}", list(&added)),
                Impact::Addition,
            ),
            Direction::Both => (
                format!(
                    "enum values added: {}: older clients fail to decode them, and the \
                     generated enum gains variants",
                    list(&added)
                ),
                Impact::Breaking,
            ),
        };
        push(out, Area::Wire, at, what, impact);
    }
    if !removed.is_empty() {
        let what = format!(
            "enum values removed: {}: callers that send them break",
            list(&removed)
        );
        push(out, Area::Wire, at, what, Impact::Breaking);
    }
}

// ---------------------------------------------------------------------------------------
// Rules

/// Leaves of a JSON value by dotted path; arrays of scalars are kept whole.
fn leaves(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let at = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&at, v, out);
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.clone());
        }
    }
}

fn rules(old: &Spec, new: &Spec, out: &mut Vec<Change>) {
    let extension = |spec: &Spec| -> BTreeMap<String, Value> {
        let mut map = BTreeMap::new();
        if let Some(root) = spec.raw.get("x-userbatch") {
            leaves("(vendor)", root, &mut map);
        }
        for (id, (_, op)) in operations(spec) {
            if let Some(ext) = op.get("x-userbatch") {
                leaves(&id, ext, &mut map);
            }
        }
        map
    };
    let (was, now) = (extension(old), extension(new));
    for (at, before) in &was {
        if !now.contains_key(at) {
            let what = format!("rule removed (was {before})");
            push(out, Area::Rules, at, what, Impact::Breaking);
        }
    }
    for (at, after) in &now {
        match was.get(at) {
            None => {
                let what = format!("rule added: {after}");
                push(out, Area::Rules, at, what, Impact::Addition);
            }
            Some(before) if before != after => {
                let (what, impact) = rule_change(at, before, after);
                push(out, Area::Rules, at, what, impact);
            }
            Some(_) => {}
        }
    }
}

fn rule_change(at: &str, before: &Value, after: &Value) -> (String, Impact) {
    let key = at.rsplit('.').next().unwrap_or(at);
    if let (Some(a), Some(b)) = (before.as_u64(), after.as_u64())
        && key.starts_with("max-")
    {
        return if b < a {
            (
                format!(
                    "limit lowered from {a} to {b}: a run needs more requests, and a \
                     `max_batch` above {b} is now refused"
                ),
                Impact::Breaking,
            )
        } else {
            (format!("limit raised from {a} to {b}"), Impact::Compatible)
        };
    }
    if let (Some(a), Some(b)) = (before.as_array(), after.as_array()) {
        let a: BTreeSet<String> = a.iter().map(Value::to_string).collect();
        let b: BTreeSet<String> = b.iter().map(Value::to_string).collect();
        let added: Vec<&String> = b.difference(&a).collect();
        let removed: Vec<&String> = a.difference(&b).collect();
        let show = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
        let mut what = Vec::new();
        if !added.is_empty() {
            what.push(format!("added {}", show(&added)));
        }
        if !removed.is_empty() {
            what.push(format!("removed {}", show(&removed)));
        }
        let impact = if key == "unpopulated" && !added.is_empty() {
            what.push("the summary type loses the newly unpopulated fields".to_owned());
            Impact::Breaking
        } else {
            Impact::Compatible
        };
        return (what.join("; "), impact);
    }
    (
        format!("changed from {before} to {after}: review the engine's behaviour"),
        Impact::Breaking,
    )
}

// ---------------------------------------------------------------------------------------
// Rust API

/// The public items of generated code, by path: what callers can name.
#[derive(Debug, Default)]
struct Api {
    /// Path -> a description of its kind and signature (`struct`, `fn(..) -> ..`).
    items: BTreeMap<String, String>,
    /// Struct path -> its public fields (name -> type).
    fields: BTreeMap<String, BTreeMap<String, String>>,
    /// Enum path -> its variants (name -> fields).
    variants: BTreeMap<String, BTreeMap<String, String>>,
    /// Const path -> its value.
    values: BTreeMap<String, String>,
    /// Types marked `#[non_exhaustive]`.
    non_exhaustive: BTreeSet<String>,
    /// Types that implement `Default` (derived or not).
    defaults: BTreeSet<String>,
}

/// Tokens as a person writes them: `Option<bool>`, not `:: std :: option :: Option < bool >`.
fn tokens(t: &impl ToTokens) -> String {
    let mut text = t.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        ("( ", "("),
        (" )", ")"),
    ] {
        text = text.replace(from, to);
    }
    for prelude in [
        "::std::option::",
        "::std::string::",
        "::std::vec::",
        "::std::result::",
        "::std::borrow::",
    ] {
        text = text.replace(prelude, "");
    }
    text
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

fn non_exhaustive(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("non_exhaustive"))
}

fn derives_default(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("derive")
            && tokens(&a.meta)
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|word| word == "Default")
    })
}

fn collect_api(items: &[syn::Item], prefix: &str, api: &mut Api) {
    let path = |name: &syn::Ident| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}::{name}")
        }
    };
    for item in items {
        match item {
            syn::Item::Mod(m) if is_pub(&m.vis) => {
                if let Some((_, inner)) = &m.content {
                    collect_api(inner, &path(&m.ident), api);
                }
            }
            syn::Item::Struct(s) if is_pub(&s.vis) => {
                let at = path(&s.ident);
                api.items
                    .insert(at.clone(), format!("struct{}", tokens(&s.generics)));
                if non_exhaustive(&s.attrs) {
                    api.non_exhaustive.insert(at.clone());
                }
                if derives_default(&s.attrs) {
                    api.defaults.insert(at.clone());
                }
                let fields = s
                    .fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| is_pub(&f.vis))
                    .map(|(i, f)| {
                        let name = f.ident.as_ref().map_or(i.to_string(), ToString::to_string);
                        (name, tokens(&f.ty))
                    })
                    .collect();
                api.fields.insert(at, fields);
            }
            syn::Item::Enum(e) if is_pub(&e.vis) => {
                let at = path(&e.ident);
                api.items
                    .insert(at.clone(), format!("enum{}", tokens(&e.generics)));
                if non_exhaustive(&e.attrs) {
                    api.non_exhaustive.insert(at.clone());
                }
                let variants = e
                    .variants
                    .iter()
                    .map(|v| (v.ident.to_string(), tokens(&v.fields)))
                    .collect();
                api.variants.insert(at, variants);
            }
            syn::Item::Fn(f) if is_pub(&f.vis) => {
                api.items.insert(path(&f.sig.ident), tokens(&f.sig));
            }
            syn::Item::Const(c) if is_pub(&c.vis) => {
                let at = path(&c.ident);
                api.items
                    .insert(at.clone(), format!("const: {}", tokens(&c.ty)));
                api.values.insert(at, tokens(&c.expr));
            }
            syn::Item::Type(t) if is_pub(&t.vis) => {
                api.items
                    .insert(path(&t.ident), format!("type = {}", tokens(&t.ty)));
            }
            syn::Item::Impl(i) => {
                let self_ty = tokens(&i.self_ty);
                let owner = if prefix.is_empty() || self_ty.contains("::") {
                    self_ty
                } else {
                    format!("{prefix}::{self_ty}")
                };
                match &i.trait_ {
                    Some((trait_path, _)) => {
                        if trait_path
                            .segments
                            .last()
                            .is_some_and(|s| s.ident == "Default")
                        {
                            api.defaults.insert(owner.clone());
                        }
                        let name = format!("impl {} for {owner}", tokens(trait_path));
                        api.items.insert(name, "impl".to_owned());
                    }
                    None => {
                        for inner in &i.items {
                            if let syn::ImplItem::Fn(f) = inner
                                && is_pub(&f.vis)
                            {
                                api.items
                                    .insert(format!("{owner}::{}", f.sig.ident), tokens(&f.sig));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn parse_api(code: &str) -> Result<Api> {
    let file = syn::parse_file(code).context("the generated code does not parse")?;
    let mut api = Api::default();
    collect_api(&file.items, "", &mut api);
    Ok(api)
}

fn rust_api(old: &str, new: &str, out: &mut Vec<Change>) -> Result<()> {
    let (was, now) = (parse_api(old)?, parse_api(new)?);
    let mut api =
        |at: &str, what: String, impact: Impact| push(out, Area::RustApi, at, what, impact);
    for (at, sig) in &was.items {
        match now.items.get(at) {
            None => api(at, format!("removed (was `{sig}`)"), Impact::Breaking),
            Some(now_sig) if now_sig != sig => api(
                at,
                format!("changed from `{sig}` to `{now_sig}`"),
                Impact::Breaking,
            ),
            Some(_) => {}
        }
    }
    for (at, sig) in &now.items {
        if !was.items.contains_key(at) {
            api(at, format!("added (`{sig}`)"), Impact::Addition);
        }
    }
    for (ty, was_fields) in &was.fields {
        let Some(now_fields) = now.fields.get(ty) else {
            continue;
        };
        for (name, t) in was_fields {
            let at = format!("{ty}::{name}");
            match now_fields.get(name) {
                None => api(&at, format!("field removed (was `{t}`)"), Impact::Breaking),
                Some(now_t) if now_t != t => api(
                    &at,
                    format!("field type changed from `{t}` to `{now_t}`"),
                    Impact::Breaking,
                ),
                Some(_) => {}
            }
        }
        for (name, t) in now_fields {
            if was_fields.contains_key(name) {
                continue;
            }
            let at = format!("{ty}::{name}");
            if now.non_exhaustive.contains(ty) {
                api(&at, format!("field added (`{t}`)"), Impact::Addition);
            } else {
                let how = if now.defaults.contains(ty) {
                    "set it or end with `..Default::default()`".to_owned()
                } else if t.starts_with("Option<") {
                    format!("set it (`{name}: None` keeps today's behaviour)")
                } else {
                    "set it".to_owned()
                };
                api(
                    &at,
                    format!(
                        "field added (`{t}`): code that builds `{ty}` with a struct literal \
                         must {how}; code that only reads it is unaffected"
                    ),
                    Impact::Breaking,
                );
            }
        }
    }
    for (ty, was_variants) in &was.variants {
        let Some(now_variants) = now.variants.get(ty) else {
            continue;
        };
        for (name, fields) in was_variants {
            let at = format!("{ty}::{name}");
            match now_variants.get(name) {
                None => api(&at, "variant removed".to_owned(), Impact::Breaking),
                Some(now_f) if now_f != fields => api(
                    &at,
                    format!("variant fields changed from `{fields}` to `{now_f}`"),
                    Impact::Breaking,
                ),
                Some(_) => {}
            }
        }
        for name in now_variants.keys() {
            if was_variants.contains_key(name) {
                continue;
            }
            let at = format!("{ty}::{name}");
            if now.non_exhaustive.contains(ty) {
                api(&at, "variant added".to_owned(), Impact::Addition);
            } else {
                api(
                    &at,
                    format!("variant added: a `match` on `{ty}` without a wildcard arm breaks"),
                    Impact::Breaking,
                );
            }
        }
    }
    for (at, value) in &was.values {
        if let Some(now_value) = now.values.get(at)
            && now_value != value
        {
            let what = format!("value changed: {}", value_difference(value, now_value));
            api(at, what, Impact::Compatible);
        }
    }
    Ok(())
}

/// The first differing stretch of two token strings, with a little context.
fn value_difference(a: &str, b: &str) -> String {
    let (a_words, b_words): (Vec<&str>, Vec<&str>) = (
        a.split_whitespace().collect(),
        b.split_whitespace().collect(),
    );
    let start = a_words
        .iter()
        .zip(&b_words)
        .take_while(|(x, y)| x == y)
        .count();
    let end = a_words
        .iter()
        .rev()
        .zip(b_words.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let cut = |words: &[&str]| {
        let to = words.len().saturating_sub(end).max(start);
        let from = start.saturating_sub(3);
        words[from..to.min(words.len())].join(" ")
    };
    format!("`…{}…` became `…{}…`", cut(&a_words), cut(&b_words))
}

// ---------------------------------------------------------------------------------------
// Report

/// The report as Markdown, to paste in a pull request.
pub fn markdown(all: &[VendorChanges], base: &str) -> String {
    let mut md = format!("# API changes: `{base}` → working tree\n");
    for v in all {
        let _ = write!(md, "\n## {}\n\n", v.vendor);
        if v.changes.is_empty() {
            md.push_str("No changes.\n");
            continue;
        }
        let breaking = v
            .changes
            .iter()
            .filter(|c| c.impact == Impact::Breaking)
            .count();
        let _ = writeln!(
            md,
            "{} change(s), {breaking} breaking. Crate `{}`: {} → **{}** under Cargo's semver rules{}.",
            v.changes.len(),
            v.vendor,
            v.version,
            v.next_version,
            if v.version.starts_with("0.") {
                " (0.y.z: breaking bumps y)"
            } else {
                ""
            }
        );
        for (area, title) in [
            (Area::Wire, "Wire"),
            (Area::Rules, "Rules (`x-userbatch`)"),
            (Area::RustApi, "Rust API"),
        ] {
            let changes: Vec<&Change> = v.changes.iter().filter(|c| c.area == area).collect();
            if changes.is_empty() {
                continue;
            }
            let _ = write!(md, "\n### {title}\n\n");
            for c in changes {
                let mark = match c.impact {
                    Impact::Breaking => "**breaking**",
                    Impact::Addition => "addition",
                    Impact::Compatible => "compatible",
                };
                let _ = writeln!(md, "- {mark} `{}`: {}", c.at, c.what);
            }
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_cargo_semver() {
        assert_eq!(next_version("0.1.0", Some(Impact::Breaking)), "0.2.0");
        assert_eq!(next_version("0.1.0", Some(Impact::Addition)), "0.1.1");
        assert_eq!(next_version("0.1.3", None), "0.1.3");
        assert_eq!(next_version("1.4.2", Some(Impact::Breaking)), "2.0.0");
        assert_eq!(next_version("1.4.2", Some(Impact::Addition)), "1.5.0");
        assert_eq!(next_version("1.4.2", Some(Impact::Compatible)), "1.4.3");
    }
}
