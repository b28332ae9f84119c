//! Each rule the mock enforces, as a property of every batch operation of every spec it
//! serves: the tests read the operations from the specs compiled into the mock and write
//! the requests as the rules say (`requests.rs`), so a spec added to `specs/` is tested
//! here without new test code. Every test fails if the mock stops enforcing its rule.

mod credentials_and_params;
mod ids_and_limits;
mod records;
mod requests;
mod summaries_and_updates;
