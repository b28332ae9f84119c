//! `cargo xtask lint`: names what YAML readers take silently (a key twice, tabs, YAML 1.1
//! booleans: [`crate::yaml`]), validates each spec against the OpenAPI 3.0 schema itself, rejects
//! what progenitor mishandles, checks every `x-userbatch` extension against the schemas,
//! validates every `example` against its schema, then asks Redocly CLI (a tool nobody here
//! wrote) for its verdict.
//!
//! - `operations`: what progenitor mishandles (operation ids, inline schemas, error
//!   responses that differ);
//! - `extensions`: where `x-userbatch` and `x-userbatch-mock` may stand, the vendor-level
//!   rules, and each operation's rules through `rules`;
//! - `rules`: one operation's `x-userbatch` against the operation and schemas it describes;
//! - `mock`: the mock's quirks (`x-userbatch-mock`);
//! - `examples` and `schema`: every example, default and parameter example against its
//!   schema;
//! - `redocly`: the Redocly CLI run.

use std::path::Path;

use anyhow::{Result, bail};

use crate::spec::{Spec, vendors};

mod examples;
mod extensions;
mod mock;
mod operations;
mod redocly;
mod rules;
mod schema;

pub use schema::validate;

/// Lints every vendor spec; with `redocly`, runs Redocly CLI too.
pub fn run(root: &Path, redocly: bool) -> Result<()> {
    let mut problems = Vec::new();
    for vendor in vendors(root)? {
        let spec = Spec::load(root, &vendor.spec_rel())?;
        let found = lint_spec(&spec);
        println!("{}: {} problem(s)", spec.rel, found.len());
        problems.extend(found.into_iter().map(|p| format!("{}: {p}", spec.rel)));
    }
    for p in &problems {
        eprintln!("  {p}");
    }
    if !problems.is_empty() {
        bail!("{} problem(s) in the specs", problems.len());
    }
    if redocly {
        redocly::run(root)?;
    }
    Ok(())
}

/// Every problem `xtask lint` finds in one spec (Redocly aside); empty when clean.
pub fn lint_spec(spec: &Spec) -> Vec<String> {
    let pitfalls = spec
        .pitfalls
        .iter()
        .map(|(line, what)| format!("line {line}: {what}"));
    // The OpenAPI 3.0 schema first: the other checks assume a well-formed document.
    let mut out: Vec<String> = pitfalls.chain(crate::oas::problems(&spec.raw)).collect();
    if !out.is_empty() {
        return out;
    }
    if let Err(e) = spec.openapi() {
        out.push(format!("{e:#}"));
        return out;
    }
    operations::check(spec, &mut out);
    extensions::check(spec, &mut out);
    examples::check(spec, &mut out);
    out
}

#[cfg(test)]
mod tests;
