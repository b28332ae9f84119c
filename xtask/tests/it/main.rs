//! xtask's integration tests, one binary with a module per subject.

mod diff;
mod docs;
mod docs_synthetic;
mod new_vendor;
mod release;
