//! What the command line tells a person on standard error: logs (`-q`, `-v`, `RUST_LOG`)
//! and, on a terminal only, a progress bar that log lines do not tear.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// How much to say, from `-q` and `-v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: errors only.
    Quiet,
    /// Warnings, the notices and the summary.
    Normal,
    /// `-v`: one line per request, retries, splits (userbatch's `debug`).
    Verbose,
    /// `-vv`: `debug` for every crate (the HTTP stack too).
    Debug,
    /// `-vvv`: `trace`.
    Trace,
}

impl Verbosity {
    /// From the counts of `-q` and `-v`.
    pub fn new(quiet: bool, verbose: u8) -> Self {
        match (quiet, verbose) {
            (true, _) => Self::Quiet,
            (false, 0) => Self::Normal,
            (false, 1) => Self::Verbose,
            (false, 2) => Self::Debug,
            (false, _) => Self::Trace,
        }
    }

    fn directives(self) -> &'static str {
        match self {
            Self::Quiet => "error",
            Self::Normal => "warn",
            Self::Verbose => "warn,userbatch=debug,userbatch_core=debug",
            Self::Debug => "debug",
            Self::Trace => "trace",
        }
    }
}

/// Standard error for people: the progress bar (hidden unless standard error is a terminal
/// and the run is not quiet) and the log lines, which the bar steps aside for.
#[derive(Clone)]
pub struct Ui {
    bar: ProgressBar,
    verbosity: Verbosity,
    /// The most requests and throttled answers a progress report has counted: reports from
    /// requests that end together may arrive out of order, and the bar never counts down.
    requests: Arc<AtomicU64>,
    throttled: Arc<AtomicU64>,
}

impl Ui {
    /// Installs the log subscriber: `RUST_LOG` if set (as `EnvFilter` reads it), else the
    /// level `-q`/`-v` ask for. Log lines never carry a token or a body: the library does
    /// not log them.
    pub fn install(verbosity: Verbosity) -> Self {
        let target = if verbosity > Verbosity::Quiet && io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        let filter = match std::env::var("RUST_LOG") {
            Ok(directives) if !directives.trim().is_empty() => EnvFilter::new(directives),
            _ => EnvFilter::new(verbosity.directives()),
        };
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(BarWriter(bar.clone()))
            .event_format(Lines {
                targets: verbosity >= Verbosity::Debug,
            })
            .init();
        Self {
            bar,
            verbosity,
            requests: Arc::default(),
            throttled: Arc::default(),
        }
    }

    /// The level asked for.
    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// Starts the bar for `total` ids.
    pub fn start(&self, total: usize) {
        // Fixed widths, so the bar does not jump as the numbers grow.
        let width = HumanCount(total as u64).to_string().len();
        self.bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{elapsed_precise}} [{{wide_bar}}] {{human_pos:>{width}}}/{{human_len}} ids, \
                 {{rate:>9}}, ETA {{eta:>3}} {{msg}}"
            ))
            .expect("the template is valid")
            .with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let rate = state.per_sec();
                    let text = if rate.is_finite() && rate > 0.0 {
                        per_second(rate)
                    } else {
                        "0/s".to_owned()
                    };
                    let _ = w.write_str(&text);
                },
            )
            .progress_chars("=> "),
        );
        self.bar.set_length(total as u64);
        self.bar.enable_steady_tick(Duration::from_millis(250));
    }

    /// Moves the bar on.
    pub fn progress(&self, p: userbatch::Progress) {
        self.bar.set_position(p.done as u64);
        let requests = self
            .requests
            .fetch_max(p.requests, Ordering::Relaxed)
            .max(p.requests);
        let throttled = self
            .throttled
            .fetch_max(p.throttled, Ordering::Relaxed)
            .max(p.throttled);
        let mut message = format!("({requests} requests");
        if throttled > 0 {
            message.push_str(&format!(", {throttled} throttled"));
        }
        if let Some(rate) = p.rate {
            message.push_str(&format!(", paced at {}", per_second(rate)));
        }
        message.push(')');
        self.bar.set_message(message);
    }

    /// Removes the bar, for the lines that end the run.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Prints one line to standard error, unless quiet; the bar steps aside.
    pub fn say(&self, line: impl std::fmt::Display) {
        if self.verbosity > Verbosity::Quiet {
            self.bar.suspend(|| eprintln!("userbatch: {line}"));
        }
    }

    /// Prints one line to standard error, even when quiet (errors).
    pub fn error(&self, line: impl std::fmt::Display) {
        self.bar.suspend(|| eprintln!("userbatch: {line}"));
    }
}

/// Log lines in the command line's one style: `userbatch: warning: <message> key=value`
/// (`debug:`, `error:` likewise; with `-vv` the module after the level).
struct Lines {
    targets: bool,
}

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        let level = match *meta.level() {
            Level::ERROR => "error: ",
            Level::WARN => "warning: ",
            Level::INFO => "",
            Level::DEBUG => "debug: ",
            Level::TRACE => "trace: ",
        };
        write!(writer, "userbatch: {level}")?;
        if self.targets {
            write!(writer, "{}: ", meta.target())?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Log output that clears the progress bar while it writes a line, then draws it again.
#[derive(Clone)]
struct BarWriter(ProgressBar);

impl<'a> MakeWriter<'a> for BarWriter {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

impl Write for BarWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.suspend(|| io::stderr().lock().write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.suspend(|| io::stderr().lock().write_all(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// A pace for people: `190/s`, `2.5/s`, `1 every 40s`.
pub fn per_second(rate: f64) -> String {
    if rate >= 10.0 {
        format!("{rate:.0}/s")
    } else if rate >= 1.0 {
        format!("{rate:.1}/s")
    } else {
        format!("1 every {:.0}s", 1.0 / rate.max(1e-9))
    }
}
