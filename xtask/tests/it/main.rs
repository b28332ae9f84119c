//! xtask's integration tests, one binary with a module per subject.

mod diff;
mod docs;
mod new_vendor;
