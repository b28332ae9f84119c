//! The account of a run: the `--report` JSON file and the summary on standard error.

use serde::Serialize;
use std::borrow::Cow;
use std::io::{self, Write};
use std::time::Instant;

use crate::files::AtomicFile;
use crate::ui;
use crate::ui::Ui;

/// What `--report` writes: the library's account of the run ([`userbatch::Summary`]), with
/// the vendor and resource, and how the run ended.
#[derive(Debug, Serialize)]
pub(crate) struct JsonReport {
    pub(crate) vendor: String,
    pub(crate) resource: String,
    #[serde(flatten)]
    pub(crate) summary: userbatch::Summary,
    pub(crate) interrupted: bool,
    /// Whether every found record reached the output (false: the `--output` file could not
    /// be written and was left as it was, or standard output was closed early).
    pub(crate) records_written: bool,
}

/// The lines that end a run: the summary, and what the user should know about it.
pub(crate) fn summarize(ui: &Ui, report: &JsonReport, started: Instant) {
    let interrupted = report.interrupted;
    let report = &report.summary;
    let failed: usize = report.failed.iter().map(|f| f.ids.len()).sum();
    ui.say(format_args!(
        "requested {}, found {}, missing {}, failed {}, requests {}, elapsed {:.2}s{}",
        report.requested,
        report.found,
        report.missing.len(),
        failed,
        report.requests,
        started.elapsed().as_secs_f64(),
        if interrupted { ", interrupted" } else { "" }
    ));
    if report.throttled > 0 {
        ui.say(format_args!(
            "the vendor throttled {} answer(s); the run paused {:.2}s for them{}",
            report.throttled,
            report.throttle_wait.as_secs_f64(),
            match report.pace {
                Some(rate) => format!("; requests went out at {} at the end", ui::per_second(rate)),
                None => String::new(),
            }
        ));
    }
    if report.unexpected > 0 {
        ui.say(format_args!(
            "the vendor also sent {} record(s) whose ids were not asked for (not written)",
            report.unexpected
        ));
    }
    // Why ids failed, the most common cause first: one line per cause, at most a few.
    let mut causes: Vec<(String, usize)> = Vec::new();
    for f in &report.failed {
        let error = f.error.to_string();
        match causes.iter_mut().find(|(seen, _)| *seen == error) {
            Some((_, n)) => *n += f.ids.len(),
            None => causes.push((error, f.ids.len())),
        }
    }
    let run_error = report.run_error.as_ref().map(ToString::to_string);
    causes.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    const MOST_CAUSES: usize = 5;
    for (error, n) in causes.iter().take(MOST_CAUSES) {
        let every = if run_error.as_ref() == Some(error) {
            " (every request got this answer: the run stopped sending)"
        } else {
            ""
        };
        ui.error(format_args!("failed {n}: {error}{every}"));
    }
    if causes.len() > MOST_CAUSES {
        let rest: usize = causes[MOST_CAUSES..].iter().map(|(_, n)| n).sum();
        ui.error(format_args!(
            "failed {rest}: {} other causes (--report lists every failed id with its cause)",
            causes.len() - MOST_CAUSES
        ));
    }
}

pub(crate) fn write_report(mut file: AtomicFile, report: &JsonReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut file, report)?;
    file.write_all(b"\n")?;
    file.persist()
}

/// An id as messages show it: at most 40 characters.
pub(crate) fn shorten(id: &str) -> Cow<'_, str> {
    match id.char_indices().nth(40) {
        Some((at, _)) => Cow::Owned(format!("{}…", &id[..at])),
        None => Cow::Borrowed(id),
    }
}
