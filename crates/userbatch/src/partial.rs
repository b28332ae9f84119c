//! The once-per-operation warning that an operation returns partial records (summaries).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use userbatch_core::rules::OperationRules as Rules;

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
