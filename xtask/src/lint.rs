//! `cargo xtask lint`.
use std::path::Path;
use anyhow::Result;
/// Lints every spec.
pub fn run(_root: &Path, _redocly: bool) -> Result<()> { Ok(()) }
