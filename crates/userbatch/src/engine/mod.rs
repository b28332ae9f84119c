//! The batch engine: plan, execute, reassemble, report. One generic piece of code; each
//! vendor operation plugs in through [`Operation`](userbatch_core::Operation), and its
//! limits, where its records are and which field names them come from the spec.
//!
//! - [`batch`]: the settings of a run, its plan and the stream of its outcomes;
//! - [`report`]: what a run tells, per id and as a whole;
//! - [`policy`]: the retry policy;
//! - [`stop`]: stopping a run from outside;
//! - [`verbatim`]: records as the vendor sent them, not decoded;
//! - [`exec`]: the execution of each request: sending it, retrying it, paging it,
//!   matching its records to its ids, splitting it when it fails, and the health of the
//!   run's requests.

mod batch;
mod exec;
mod policy;
mod report;
mod stop;
mod verbatim;

pub use batch::{Batch, BatchStream, DEFAULT_CONCURRENCY, DEFAULT_THROTTLE_PATIENCE};
pub use policy::Retry;
pub use report::{FailedIds, FoundRecord, Outcome, Progress, Report, Summary};
pub use stop::Stopper;
pub use verbatim::Verbatim;
