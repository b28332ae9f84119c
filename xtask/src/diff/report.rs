//! The report as Markdown, to paste in a pull request.

use std::fmt::Write as _;

use super::{Area, Change, Impact, Release, VendorChanges};

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
        let release = match v.release {
            Release::None => "no change to the Rust API or the rules, no release needed".to_owned(),
            Release::First => "its first release".to_owned(),
            Release::Compatible => format!(
                "a **compatible** release: code built against {} compiles and works unchanged",
                v.version
            ),
            Release::Breaking => format!(
                "a **breaking** release: code built against {} can stop compiling or working{}",
                v.version,
                if v.version.starts_with("0.") {
                    " (0.y.z: breaking bumps y)"
                } else {
                    ""
                }
            ),
        };
        let _ = writeln!(
            md,
            "{} change(s), {breaking} breaking. Crate `userbatch-{}`: {} → **{}** under \
             Cargo's semver rules, {release}.",
            v.changes.len(),
            v.vendor,
            v.version,
            v.next_version,
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
