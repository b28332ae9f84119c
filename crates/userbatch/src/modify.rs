//! Full records and summaries: fetching, hydrating, and read-modify-write.
//!
//! # Summaries and full records
//!
//! A list operation whose spec says `x-userbatch.partial` returns **summaries**
//! (e.g. [`nexudus::types::UserSummary`](crate::nexudus::types::UserSummary)). They are
//! generated without the fields the docs list as unpopulated, so reading one does not
//! compile:
//!
//! ```compile_fail,E0609
//! fn is_admin(summary: &userbatch::nexudus::types::UserSummary) -> Option<bool> {
//!     summary.is_admin // UserSummary has no field `is_admin`: hydrate it first.
//! }
//! ```
//!
//! while the full record has it:
//!
//! ```
//! fn is_admin(user: &userbatch::nexudus::types::User) -> Option<bool> {
//!     user.is_admin
//! }
//! ```
//!
//! [`hydrate`] turns summaries (or bare ids, with [`fetch`]) into full records, one
//! request per id, through the batch engine; [`Summaries::full`] is the operation that
//! returns them.
//!
//! # Updating: read, modify, write
//!
//! The docs demand it: retrieve the full record, apply the changes to it, send it back.
//! Sending a summary would clear every unpopulated field at the vendor, so [`update`]
//! takes only the record type of an operation whose spec links an `update-operation`:
//!
//! ```compile_fail,E0308
//! async fn clear_fields(client: userbatch::nexudus::Client, s: &userbatch::nexudus::types::UserSummary) {
//!     let op = userbatch::nexudus::GetUser::new(client);
//!     userbatch::update(&op, s).await; // expected `&User`, found `&UserSummary`
//! }
//! ```
//!
//! [`modify`] does the whole read-modify-write:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mock = userbatch_mock::MockServer::start(Default::default()).await?;
//! use userbatch::nexudus;
//! let client = nexudus::Client::with_bearer(mock.base_url(), "token")?;
//! let result = userbatch::modify(&nexudus::GetUser::new(client), 42, |user| {
//!     user.full_name = Some("Ada Lovelace".into());
//! })
//! .await?;
//! assert_eq!(result.was_successful, Some(true));
//! # Ok(())
//! # }
//! ```

use std::fmt::Display;

use userbatch_core::plan::PlanError;
use userbatch_core::{Operation, PartialRecord, Summaries, Update};

use crate::engine::{Batch, Report};
use crate::error::{ErrorKind, FetchError, ModifyError, ModifyStep, from_progenitor};

/// Fetches `ids` through `op` with the default settings ([`Batch`] for others).
pub async fn fetch<O, I, S>(op: O, ids: I) -> Result<Report<O::Record>, PlanError>
where
    O: Operation,
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    Batch::new(op).fetch(ids).await
}

/// Turns summaries into full records through `batch` (an operation returning the full
/// record, one id per request): bounded concurrency, retries, the same found / missing /
/// failed report, in the summaries' order.
pub async fn hydrate<'a, S, O>(
    batch: &Batch<O>,
    summaries: impl IntoIterator<Item = &'a S>,
) -> Result<Report<S::Full>, PlanError>
where
    S: PartialRecord + 'a,
    O: Operation<Record = S::Full>,
{
    let ids: Vec<String> = summaries
        .into_iter()
        .map(PartialRecord::record_id)
        .collect();
    batch.fetch(ids).await
}

/// Full records for these summaries, through the operation's
/// [`full`](Summaries::full) one (one request per id, through the batch engine).
pub async fn hydrate_with<O: Summaries>(
    op: &O,
    summaries: &[O::Record],
) -> Result<Report<<O::Record as userbatch_core::PartialRecord>::Full>, PlanError> {
    hydrate(&Batch::new(op.full()), summaries).await
}

/// Sends a full record back whole (the spec's `update-operation` of `op`).
pub async fn update<O: Update>(op: &O, record: &O::Record) -> Result<O::Answer, FetchError> {
    Ok(op
        .update(record)
        .await
        .map_err(from_progenitor)?
        .into_inner())
}

/// Read-modify-write of one record: GET it whole through `op`, apply `change`, send it
/// back. The error says which of the two calls failed.
pub async fn modify<O: Update + Clone>(
    op: &O,
    id: impl Display,
    change: impl FnOnce(&mut O::Record),
) -> Result<O::Answer, ModifyError> {
    let mut record = get_one(op, &id.to_string())
        .await
        .map_err(|error| ModifyError {
            step: ModifyStep::Get,
            error,
        })?;
    change(&mut record);
    update(op, &record).await.map_err(|error| ModifyError {
        step: ModifyStep::Put,
        error,
    })
}

/// One full record, through the engine's checks (its own id, decoded on its own), without
/// retries: a read-modify-write is the caller's to retry. The vendor's documented
/// not-found answer is [`ErrorKind::Unproven`] (one request alone cannot show that it
/// reached the vendor: a gateway in front of a wrong base URL may answer alike), any other
/// failure keeps its own kind ([`ErrorKind::Status`] with the status and message, ...).
async fn get_one<O: Operation + Clone>(op: &O, id: &str) -> Result<O::Record, FetchError> {
    let batch = Batch::new(op.clone()).retry(crate::engine::Retry::none());
    let report = batch
        .fetch([id])
        .await
        .map_err(|e| FetchError::new(ErrorKind::Request).with_detail(e.to_string()))?;
    if let Some(found) = report.found.into_iter().next() {
        return Ok(found.record);
    }
    if let Some(failure) = report.failed.into_iter().next() {
        return Err(failure.error);
    }
    // The vendor's documented not-found answer; any other failure is in `report.failed`.
    Err(FetchError::new(ErrorKind::NotFound))
}
