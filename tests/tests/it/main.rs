//! Cross-crate tests, one binary with a module per subject.

mod decode_examples;
mod engine_paging;
mod generated_code;
mod security;
mod wire;
