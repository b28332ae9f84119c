//! The execution of a run's requests, one concern a file:
//!
//! - [`state`]: what the requests share ([`Exec`]): settings, counters, the pace;
//! - [`send`]: one attempt, and its answer read into a page of records;
//! - [`retry`]: one request with its retries;
//! - [`paging`]: every page of a paged request;
//! - [`account`]: matching the records to the ids asked for;
//! - [`split`]: where ids are split when a request fails, so one bad id costs only itself;
//! - [`health`]: whether the requests are sound, and settling a provisional "not found".

mod account;
mod health;
mod paging;
mod retry;
mod send;
mod split;
mod state;

pub(super) use health::settle_unproven;
pub(super) use state::{Exec, Health, seed};
