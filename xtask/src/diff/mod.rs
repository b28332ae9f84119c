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
//!
//! The module holds the report's types, the git plumbing and the version arithmetic; the
//! comparison is in `wire`, `rules` and `rust_api`, the Markdown in `report`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::spec::{Spec, vendors};

mod report;
mod rules;
mod rust_api;
mod wire;

pub use report::markdown;
use rules::rules;
use rust_api::rust_api;
use wire::wire;

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
    /// The kind of release that is.
    pub release: Release,
}

/// The kind of release a crate's changes call for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Release {
    /// No change to the Rust API or the rules: no release needed.
    None,
    /// A crate the base revision did not have: its first release.
    First,
    /// Code built against the current version compiles and works unchanged against the
    /// next: a patch or minor bump (a patch bump of 0.y.z).
    Compatible,
    /// Code built against the current version can stop compiling, or working (a tighter
    /// rule, a field its builder now needs): a major bump (y of 0.y.z).
    Breaking,
}

impl VendorChanges {
    /// Whether any change breaks existing callers.
    pub fn is_breaking(&self) -> bool {
        self.changes.iter().any(|c| c.impact == Impact::Breaking)
    }
}

/// Runs `cargo xtask diff`; with `bump`, then writes the version each vendor crate's
/// changes call for into its manifest (and, by regenerating, the workspace's dependency on
/// it).
pub fn run(root: &Path, base: &str, json: bool, fail_on_breaking: bool, bump: bool) -> Result<()> {
    let all = changes(root, base)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        print!("{}", markdown(&all, base));
    }
    if fail_on_breaking && all.iter().any(VendorChanges::is_breaking) {
        bail!(
            "breaking changes (see above){}",
            if bump { "; no version bumped" } else { "" }
        );
    }
    if bump {
        bump_versions(root, &all)?;
    }
    Ok(())
}

/// Every vendor's changes from the specs at `base` to the working tree, with the release
/// they call for from each crate's version at `base`.
pub fn changes(root: &Path, base: &str) -> Result<Vec<VendorChanges>> {
    let mut all = Vec::new();
    for vendor in vendors(root)? {
        let rel = vendor.spec_rel();
        let old_text = git_show(root, base, &rel)?;
        let new_text =
            std::fs::read_to_string(root.join(&rel)).with_context(|| format!("reading {rel}"))?;
        let manifest = format!("crates/{}/Cargo.toml", vendor.name);
        let Some(old) = old_text else {
            // A crate with no release yet: its first is the version it has.
            let now = std::fs::read_to_string(root.join(&manifest)).ok();
            let version = crate::scaffold::crate_version(now.as_deref())?;
            all.push(VendorChanges {
                vendor: vendor.name.clone(),
                changes: vec![Change {
                    area: Area::Wire,
                    at: rel.clone(),
                    what: format!("new spec (not at {base})"),
                    impact: Impact::Addition,
                }],
                next_version: version.clone(),
                version,
                release: Release::First,
            });
            continue;
        };
        let changes = if old == new_text {
            Vec::new()
        } else {
            diff_specs(&rel, &old, &new_text)?
        };
        // The release at the base revision: what users have.
        let version = base_version(root, base, &manifest)?;
        all.push(vendor_changes(&vendor.name, changes, &version));
    }
    Ok(all)
}

/// A vendor crate's version at `base`: its manifest's, or the workspace's where the
/// manifest inherited it (`version.workspace = true`, before vendor crates had their own);
/// [`CRATE_VERSION`](crate::scaffold::CRATE_VERSION) where there was no manifest.
fn base_version(root: &Path, base: &str, manifest: &str) -> Result<String> {
    let text = git_show(root, base, manifest)?;
    if text
        .as_deref()
        .is_some_and(|t| t.lines().any(|l| l.trim() == "version.workspace = true"))
    {
        let workspace = git_show(root, base, "Cargo.toml")?.unwrap_or_default();
        return crate::scaffold::section_version(&workspace, "[workspace.package]")
            .with_context(|| format!("Cargo.toml at {base}"));
    }
    crate::scaffold::crate_version(text.as_deref()).with_context(|| format!("{manifest} at {base}"))
}

/// Writes each crate's next version into its manifest's `[package]` (build metadata kept),
/// then regenerates, which carries it into the workspace's dependency requirements.
fn bump_versions(root: &Path, all: &[VendorChanges]) -> Result<()> {
    let mut bumped = false;
    for v in all {
        let rel = format!("crates/{}/Cargo.toml", v.vendor);
        let path = root.join(&rel);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {rel}"))?;
        let now = crate::scaffold::crate_version(Some(&text))?;
        // Only up: a crate already bumped as far (or further, by hand) stays.
        if semver_parts(&v.next_version) <= semver_parts(&now) {
            continue;
        }
        let from = format!("version = \"{now}+");
        if text.matches(&from).count() != 1 {
            bail!("{rel}: no single `{from}` line to bump");
        }
        let to = format!("version = \"{}+", v.next_version);
        std::fs::write(&path, text.replacen(&from, &to, 1))
            .with_context(|| format!("writing {rel}"))?;
        eprintln!("{rel}: version {now} -> {}", v.next_version);
        bumped = true;
    }
    if bumped {
        crate::generate::run(root, false)?;
    }
    Ok(())
}

/// The changes with the version they call for.
///
/// The release follows the generated crate's Rust API and its rules (a lowered limit
/// compiles, but `from_ids` then refuses what it took, and the facade sends more requests);
/// a wire change alone is the vendor's, not the crate's.
pub fn vendor_changes(vendor: &str, changes: Vec<Change>, version: &str) -> VendorChanges {
    let api = changes
        .iter()
        .filter(|c| matches!(c.area, Area::RustApi | Area::Rules))
        .map(|c| c.impact)
        .max();
    VendorChanges {
        vendor: vendor.to_owned(),
        next_version: next_version(version, api),
        release: match api {
            None => Release::None,
            Some(Impact::Breaking) => Release::Breaking,
            Some(_) => Release::Compatible,
        },
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

/// `major.minor.patch` as numbers, for ordering.
fn semver_parts(version: &str) -> (u64, u64, u64) {
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

/// The version Cargo's semver rules call for after changes of `impact` (for 0.y.z, a
/// breaking change bumps y and anything else z).
pub fn next_version(version: &str, impact: Option<Impact>) -> String {
    let (major, minor, patch) = semver_parts(version);
    match (impact, major) {
        (None, _) => version.to_owned(),
        (Some(Impact::Breaking), 0) => format!("0.{}.0", minor + 1),
        (Some(_), 0) => format!("0.{minor}.{}", patch + 1),
        (Some(Impact::Breaking), _) => format!("{}.0.0", major + 1),
        (Some(Impact::Addition), _) => format!("{major}.{}.0", minor + 1),
        (Some(Impact::Compatible), _) => format!("{major}.{minor}.{}", patch + 1),
    }
}

/// Records one change.
fn push(out: &mut Vec<Change>, area: Area, at: &str, what: String, impact: Impact) {
    out.push(Change {
        area,
        at: at.to_owned(),
        what,
        impact,
    });
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
