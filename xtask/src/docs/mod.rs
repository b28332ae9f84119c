//! `cargo xtask docs-check [--docs DIR]`: reads the vendors' doc pages as users save them
//! and compares what they state with `specs/`. A checker, not a generator: the spec stays
//! hand-written.
//!
//! Each operation names its page with `x-docs-page: <file name>`. Three formats are read:
//! - Markdown with `<ParamField>` / `<ResponseField>` blocks, "not populated" lists and a
//!   JSON example response (as Nexudus publishes its pages);
//! - a text export of a rendered reference page (as User Manager's, or a Nexudus page
//!   copied from the browser): parameter blocks, `Enum:`/`Default:` lines, status codes;
//! - Markdown tables (as AvePoint's): endpoint, URL/query parameters, request body and
//!   response fields, and a JSON response sample (with `//` comments).
//!
//! What is compared: every parameter and header (presence, place, required, type, enum
//! values, defaults, length limits), the request body's fields, the response record's
//! fields and types (from field lists and the example's values, `null` included), limits
//! stated in prose ("A maximum of 75 IDs"), the "not populated" lists, the documented
//! status codes, the method and path. A spec element whose description says "Assumption"
//! or "Assumed", or that carries `x-docs-differs: <why>`, is the spec's own call: what the
//! docs do not state about it is not reported.
//!
//! Reading a page is split by format (`mintlify`, `text_export`, `tables`), over the shared
//! `page` types; `compare` holds the comparison with the spec.

use std::path::Path;

use anyhow::{Result, bail};
use serde_json::Value;

use crate::spec::{Spec, vendors};

mod compare;
mod mintlify;
mod page;
mod tables;
mod text_export;

pub use compare::Difference;

use compare::OpRef;
use page::Facts;

/// Runs `cargo xtask docs-check`: prints every difference; an error if there is one.
pub fn run(root: &Path, docs: &Path) -> Result<()> {
    if !docs.is_dir() {
        bail!(
            "{} is not a folder of vendor doc pages (pass --docs DIR)",
            docs.display()
        );
    }
    let mut all = Vec::new();
    let mut pages = 0;
    let vendors = vendors(root)?;
    for vendor in &vendors {
        let spec = Spec::load(root, &vendor.spec_rel())?;
        let (found, checked) = check_spec(&spec, docs)?;
        pages += checked;
        all.extend(found);
    }
    for d in &all {
        println!("{d}");
    }
    println!(
        "{pages} page(s) against {} spec(s): {} difference(s)",
        vendors.len(),
        all.len()
    );
    if !all.is_empty() {
        bail!("the specs differ from the vendors' docs");
    }
    Ok(())
}

/// Every difference between `spec` and the pages its operations name (in `docs`), a page
/// that cannot be read among them, and how many pages were read.
pub fn check_spec(spec: &Spec, docs: &Path) -> Result<(Vec<Difference>, usize)> {
    let mut out = Vec::new();
    let mut pages = 0;
    for (path, method, op) in spec.operations() {
        let Some(page) = op.get("x-docs-page").and_then(Value::as_str) else {
            continue;
        };
        let file = docs.join(page);
        // A page that cannot be read is one finding; the other pages are still checked.
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) => {
                out.push(Difference {
                    page: page.to_owned(),
                    line: 0,
                    spec_path: format!("{} paths.{path}.{method}.x-docs-page", spec.rel),
                    message: format!("the page cannot be read from {}: {e}", docs.display()),
                });
                continue;
            }
        };
        let facts = read_page(&text);
        let op_ref = OpRef {
            spec,
            path,
            method,
            op,
            page,
        };
        op_ref.compare(&facts, &mut out);
        pages += 1;
    }
    out.sort();
    out.dedup();
    Ok((out, pages))
}

/// The facts of one page: its format is told by its text (tags, tables or neither), and
/// prose is read in every format.
fn read_page(text: &str) -> Facts {
    let lines: Vec<&str> = text.lines().collect();
    let mut facts = if text.contains("<ParamField") || text.contains("<ResponseField") {
        mintlify::read(&lines)
    } else if lines
        .iter()
        .any(|l| l.trim_start().starts_with("|---") || l.trim_start().starts_with("| ---"))
    {
        tables::read(&lines)
    } else {
        text_export::read(&lines)
    };
    page::read_prose(&lines, &mut facts);
    facts
}
