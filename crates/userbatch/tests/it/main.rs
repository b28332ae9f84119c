//! The facade's integration tests, one binary with a module per subject.

mod support;

mod drift;
mod engine;
mod hostile;
mod invariants;
mod missing;
mod observability;
mod partial;
mod throttle;
mod tokens;
