//! The command line's integration tests, one binary with a module per subject.

mod support;

mod cli;
mod drift;
mod hostile;
mod missing;
mod pace;
mod prism;
mod security;
mod tool;
