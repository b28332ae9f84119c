//! Project automation behind `cargo xtask`: code generation from `specs/` and spec lint.
//!
//! The library half exists so the snapshot tests in `tests/` run the very generator that
//! `cargo xtask generate` runs.

#![warn(missing_docs)]

pub mod bench;
pub mod diff;
pub mod docs;
pub mod generate;
pub mod lint;
pub mod oas;
pub mod ops;
pub mod partial;
pub mod scaffold;
pub mod spec;
pub mod yaml;
