//! The mock's integration tests, one binary with a module per subject.

mod support;

mod faults;
mod lifecycle;
mod rules;
mod standalone;
