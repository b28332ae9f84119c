//! `cargo xtask lint`'s last step: the pinned Redocly CLI's verdict on every spec.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::spec::vendors;

/// Runs the pinned Redocly CLI from `node_modules` on every spec.
pub(super) fn run(root: &Path) -> Result<()> {
    let bin = root.join("node_modules/.bin/redocly");
    if !bin.exists() {
        bail!(
            "Redocly CLI is not installed: run `npm ci` in the workspace root (it installs the \
             version pinned in package.json), or `cargo xtask lint --no-redocly`"
        );
    }
    let specs: Vec<String> = vendors(root)?.iter().map(|v| v.spec_rel()).collect();
    let output = Command::new(&bin)
        .current_dir(root)
        .arg("lint")
        .arg("--config")
        .arg("redocly.yaml")
        .arg("--format")
        .arg("codeframe")
        .args(&specs)
        .env("REDOCLY_TELEMETRY", "off")
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.contains('║') && !l.contains('╔') && !l.contains('╚'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if !output.status.success() {
        bail!(
            "Redocly CLI rejected the specs:\n{}\n{}",
            report(&stdout),
            report(&stderr)
        );
    }
    let warnings =
        stderr.contains("Warning was generated") || stdout.contains("Warning was generated");
    if warnings {
        bail!(
            "Redocly CLI warned about the specs:\n{}\n{}",
            report(&stdout),
            report(&stderr)
        );
    }
    println!("redocly lint: {} spec(s) valid", specs.len());
    Ok(())
}
