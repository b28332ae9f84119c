//! Partial records: the once-per-operation warning, and hydrating summaries.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use userbatch_core::PartialRecord;
use userbatch_core::rules::OperationRules as Rules;

use crate::engine::{Batch, Report};
use userbatch_core::Operation;
use userbatch_core::plan::PlanError;

static SILENT: AtomicBool = AtomicBool::new(false);
static WARNED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// Turns the partial-record warning off (or on again) for the whole process.
///
/// Whenever an operation that returns summaries returns some, the engine emits one
/// `tracing` warning per operation per process naming the unpopulated fields and how to
/// get full records. Silence it once you handle summaries knowingly.
pub fn silence_partial_warnings(silent: bool) {
    SILENT.store(silent, Ordering::Relaxed);
}

/// Warns, once per operation per process, that `rules`' records are summaries.
pub(crate) fn warn_once(rules: &'static Rules) {
    let Some(partial) = &rules.partial else {
        return;
    };
    if SILENT.load(Ordering::Relaxed) {
        return;
    }
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if warned.contains(&&*rules.operation_id) {
        return;
    }
    warned.push(&*rules.operation_id);
    tracing::warn!(
        operation = &*rules.operation_id,
        summary_of = &*partial.of,
        unpopulated = partial.unpopulated.len(),
        "`{}` returns summaries of {}: these fields are not populated: {}. Fetch full records \
         with `{}` (userbatch::hydrate) before reading them or building an update; \
         userbatch::silence_partial_warnings(true) turns this warning off",
        rules.operation_id,
        partial.of,
        partial.unpopulated.join(", "),
        partial.full_operation_id,
    );
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
