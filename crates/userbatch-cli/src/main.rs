//! `userbatch`: fetch user records by id from a vendor API (or the embedded mock) and print
//! them as NDJSON, with an exact account of every id.
//!
//! Run `userbatch --help` for the options; `cargo run -p userbatch-cli -- --mock nexudus
//! users 1 2 3` tries it with no vendor account.

mod files;
mod ids;
mod targets;
mod ui;

use std::borrow::Cow;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use serde::Serialize;
use userbatch::{Batch, ClientConfig, Credentials, Operation, Outcome, Stopper};

use crate::files::AtomicFile;
use crate::ids::Ids;
use crate::ui::{Ui, Verbosity};

const EXAMPLES: &str = "\
Examples:
  # Try it on any machine: the embedded mock server, no token needed.
  userbatch --mock nexudus users 1 2 3
  # Ids from a file (one per line), a JSON report, records into a file.
  userbatch --mock usermgr users --ids-file ids.txt --report report.json -o users.ndjson
  # Fetch again only the ids that failed in that run.
  userbatch --mock usermgr users --retry-failed report.json --report retry.json -o retried.ndjson
  # A real vendor: the token from a file (or USERBATCH_TOKEN), never printed.
  userbatch --token-file ~/.nexudus-token --base-url https://spaces.nexudus.com nexudus coworkers 87654321

Output:
  stdout  one JSON record per line (NDJSON), in first-seen input order, each exactly as
          the vendor sent it (unknown fields, nulls, key order), except that the values
          of fields the spec marks as passwords read \"<redacted>\" unless --reveal-secrets,
          a record sent over several lines (pretty-printed, CRLF) is written on one, the
          white space between its tokens removed, and on a terminal, DEL and C1 control
          characters inside strings are written escaped (\\u009b);
          with --output, a file renamed into place when the run ends (also when
          interrupted), so it always holds exactly the records the report lists as found
  stderr  a progress bar (on a terminal), warnings, a summary line (-q: errors only;
          -v: one line per request; RUST_LOG: any tracing filter)

Interrupting (Ctrl-C, SIGTERM):
  no new requests are sent; those in flight get --grace seconds to finish (a second
  Ctrl-C abandons them); every record received is written, the report lists the ids left
  as failed (\"interrupted\"), and the exit status is 130

Exit status:
  0    every id was found or reported missing
  1    some ids failed (see stderr and --report), or the run could not be done or
       recorded: the mock did not start, TLS did not initialise, a file could not be written
  2    bad usage or bad input, found before any request was sent
  130  interrupted";

/// Fetch user records by id from a vendor API, in the fewest requests its rules allow.
#[derive(Debug, Parser)]
#[command(
    name = "userbatch",
    version,
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// The vendor API [default with --retry-failed: the report's]
    #[arg(index = 1, required_unless_present = "retry_failed")]
    vendor: Option<String>,

    /// What to fetch [default with --retry-failed: the report's]
    #[arg(index = 2, required_unless_present = "retry_failed")]
    resource: Option<String>,

    /// Ids to fetch, trimmed; duplicates are fetched once
    #[arg(index = 3)]
    ids: Vec<String>,

    /// Read more ids from this file, one per line ('-' reads standard input)
    #[arg(long, value_name = "PATH")]
    ids_file: Option<PathBuf>,

    /// Fetch the ids a report written by --report lists as failed (with any others given)
    #[arg(long, value_name = "REPORT")]
    retry_failed: Option<PathBuf>,

    /// Refuse more ids than this (each costs about 10 bytes of memory while it waits)
    #[arg(long, value_name = "N", default_value_t = 10_000_000)]
    max_ids: usize,

    /// Write the records to this file instead of standard output (replaced when the run
    /// ends, also when interrupted; never left half-written)
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,

    /// Write a JSON report: requested, found, missing ids, failed ids with errors,
    /// unexpected records, requests
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,

    /// Start the embedded mock server in-process and use it (no token needed)
    #[arg(long, conflicts_with = "base_url")]
    mock: bool,

    /// The vendor's base URL [default: the production URL from the vendor's spec]
    #[arg(long, env = "USERBATCH_BASE_URL", value_name = "URL")]
    base_url: Option<String>,

    /// Bearer token. The least private way to give it: every user of this machine can read
    /// a command line (`ps`); prefer --token-file or USERBATCH_TOKEN. Never printed, never
    /// logged
    #[arg(
        long,
        env = "USERBATCH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        conflicts_with = "token_file"
    )]
    token: Option<String>,

    /// Read the bearer token from this file's first line ('-' reads standard input)
    #[arg(long, value_name = "PATH")]
    token_file: Option<PathBuf>,

    /// OAuth2 client id (client credentials grant), instead of a token
    #[arg(long, env = "USERBATCH_CLIENT_ID", value_name = "ID")]
    client_id: Option<String>,

    /// OAuth2 client secret; as with --token, a command line is the least private way
    /// (prefer --client-secret-file or USERBATCH_CLIENT_SECRET). Never printed, never logged
    #[arg(
        long,
        env = "USERBATCH_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET",
        conflicts_with = "client_secret_file"
    )]
    client_secret: Option<String>,

    /// Read the OAuth2 client secret from this file's first line ('-' reads standard input)
    #[arg(long, value_name = "PATH")]
    client_secret_file: Option<PathBuf>,

    /// OAuth2 token endpoint [default: the one in the vendor's spec, if any]
    #[arg(long, value_name = "URL")]
    token_url: Option<String>,

    /// OAuth2 scopes to ask for, space-separated [default: those the vendor's spec names]
    #[arg(long, value_name = "SCOPES")]
    scope: Option<String>,

    /// A variable of the vendor's server URL, as NAME=VALUE (e.g. region=us), for the
    /// default base URL; `userbatch --help` lists each vendor's
    #[arg(long, value_name = "NAME=VALUE", conflicts_with = "base_url")]
    server_var: Vec<String>,

    /// At most this many requests per second (the run also slows down by itself when the
    /// vendor throttles it)
    #[arg(long, value_name = "N", value_parser = positive_rate)]
    max_rate: Option<f64>,

    /// Send the token over plain HTTP to a host that is not loopback, and through a proxy
    /// from the environment (http_proxy) over plain HTTP
    #[arg(long)]
    allow_insecure: bool,

    /// Requests in flight at once
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,

    /// At most this many ids per request (may only lower the vendor's limit)
    #[arg(long, value_name = "N")]
    max_batch: Option<usize>,

    /// Attempts per request, the first included (1: no retries) [default: 5]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    attempts: Option<u32>,

    /// Longest Retry-After to wait, in seconds; a longer one fails the request instead
    /// [default: 60]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=86_400))]
    max_retry_after: Option<u64>,

    /// Give up on the ids left after this many seconds of the whole run (they fail with
    /// "deadline"), at most a week [default: none]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=604_800))]
    deadline: Option<u64>,

    /// Per-request timeout in seconds, at most a day [default: 30]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    timeout: Option<u64>,

    /// On Ctrl-C or SIGTERM, how long the requests in flight may take to finish (at most a
    /// day)
    #[arg(long, value_name = "SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    grace: u64,

    /// While the vendor throttles every request, how long the run may go without an answer
    /// before the ids left fail (at most a week)
    #[arg(long, value_name = "SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=604_800))]
    throttle_patience: u64,

    /// Also decode each record into the spec's type: a record whose fields do not match
    /// fails its id, with an error naming the field (by default records are passed on as
    /// the vendor sent them)
    #[arg(long)]
    strict: bool,

    /// Write the values of fields the spec marks as passwords (tokens, secrets, nested ones
    /// too) as the vendor sent them; otherwise they read "<redacted>"
    #[arg(long)]
    reveal_secrets: bool,

    /// Errors only on standard error: no progress, no notices, no summary
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,

    /// More on standard error: -v one line per request (operation, ids, status, attempt,
    /// ms) and every unpopulated field of summaries; -vv debug logs of every crate; -vvv
    /// trace. RUST_LOG, if set, is used instead (e.g. RUST_LOG=userbatch=debug)
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Return full records (one get-one request per id, the summaries' full operation)
    /// instead of list summaries
    #[arg(long)]
    full: bool,
}

/// What else the command does.
#[derive(Debug, Subcommand)]
enum Command {
    /// Print a shell completion script, e.g. `userbatch completions bash >
    /// ~/.local/share/bash-completion/completions/userbatch`
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `userbatch man | man -l -`
    Man,
}

/// Why a run ended early, and its exit status.
enum Exit {
    /// Bad usage or input, found before any request: exit 2.
    Usage(String),
    /// Something failed that the user's input did not cause (a mock that cannot start, TLS
    /// that cannot initialise): exit 1.
    Failure(String),
}
use Exit::{Failure, Usage};

impl From<userbatch::ConfigError> for Exit {
    fn from(e: userbatch::ConfigError) -> Self {
        match e {
            userbatch::ConfigError::Http(_) => {
                Failure(format!("cannot build the HTTP client: {e}"))
            }
            userbatch::ConfigError::Insecure(_) => {
                Usage(format!("--base-url {e} (--allow-insecure allows it)"))
            }
            _ => Usage(format!("--base-url {e}")),
        }
    }
}

#[derive(Debug, Serialize)]
struct Report {
    vendor: String,
    resource: String,
    requested: usize,
    found: usize,
    missing: Vec<String>,
    failed: Vec<FailedIds>,
    unexpected: u64,
    requests: u64,
    throttled: u64,
    throttle_wait_s: f64,
    /// The pace requests started at when the run ended (requests a second), if one was in
    /// effect: learned from throttled answers, stated by the vendor's rate-limit headers,
    /// or --max-rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pace_per_s: Option<f64>,
    /// The error that made the run stop sending, if one did (every id it left failed with
    /// it): an answer every request got, whatever its ids.
    run_error: Option<String>,
    interrupted: bool,
    /// Whether every found record reached the output (false: the `--output` file could not
    /// be written and was left as it was, or standard output was closed early).
    records_written: bool,
}

#[derive(Debug, Serialize)]
struct FailedIds {
    ids: Vec<String>,
    error: String,
}

/// The exit status of an interrupted run, as shells give a process ended by SIGINT.
const INTERRUPTED: u8 = 130;

/// The command line: the arguments of [`Args`], and the vendors, resources and options of
/// the registry.
fn cli() -> clap::Command {
    targets::augment(Args::command())
}

fn main() -> ExitCode {
    let matches = match cli().try_get_matches() {
        Ok(matches) => matches,
        Err(e) => {
            // A parameter a spec leaves out on purpose says why.
            if e.kind() == clap::error::ErrorKind::UnknownArgument
                && let Some(clap::error::ContextValue::String(arg)) =
                    e.get(clap::error::ContextKind::InvalidArg)
                && let Some(why) = targets::not_offered(arg)
            {
                eprintln!("userbatch: {why}");
                return ExitCode::from(2);
            }
            e.exit()
        }
    };
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Some(command) = &args.command {
        let mut text = Vec::new();
        match command {
            Command::Completions { shell } => {
                clap_complete::generate(*shell, &mut cli(), "userbatch", &mut text);
            }
            Command::Man => {
                if let Err(e) = clap_mangen::Man::new(cli()).render(&mut text) {
                    eprintln!("userbatch: cannot render the manual page: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        return match io::stdout().lock().write_all(&text) {
            // `| head` is fine.
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                eprintln!("userbatch: cannot write to standard output: {e}");
                ExitCode::FAILURE
            }
            _ => ExitCode::SUCCESS,
        };
    }
    let ui = Ui::install(Verbosity::new(args.quiet, args.verbose));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            ui.error(format_args!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args, &matches, &ui)) {
        Ok(code) => code,
        Err(Usage(message)) => {
            ui.error(message);
            ExitCode::from(2)
        }
        Err(Failure(message)) => {
            ui.error(message);
            ExitCode::FAILURE
        }
    }
}

/// The vendor and the resource: as given, or (clap requires both unless a subcommand or
/// `--retry-failed` is given) those of the `--retry-failed` report.
fn target(args: &Args) -> Result<(String, String), Exit> {
    let (mut vendor, mut resource) = (args.vendor.clone(), args.resource.clone());
    if (vendor.is_none() || resource.is_none())
        && let Some(path) = &args.retry_failed
    {
        let (was_vendor, was_resource) = ids::target_of(path)?;
        vendor = vendor.or(was_vendor);
        resource = resource.or(was_resource);
    }
    match (vendor, resource) {
        (Some(vendor), Some(resource)) => Ok((vendor, resource)),
        _ => Err(Usage(
            "give the vendor and the resource (the --retry-failed report names none)".to_owned(),
        )),
    }
}

async fn run(args: Args, matches: &clap::ArgMatches, ui: &Ui) -> Result<ExitCode, Exit> {
    let (vendor, resource) = target(&args)?;
    let (vendor, resource) = (vendor.as_str(), resource.as_str());
    let own = targets::own_flags(&Args::command());
    let target =
        targets::resolve(matches, &own, vendor, resource, args.full, args.mock).map_err(Usage)?;
    if [&args.ids_file, &args.token_file, &args.client_secret_file]
        .iter()
        .filter(|p| p.as_deref().is_some_and(|p| p.as_os_str() == "-"))
        .count()
        > 1
    {
        return Err(Usage(
            "standard input ('-') can be read for one of --ids-file, --token-file and \
             --client-secret-file only"
                .to_owned(),
        ));
    }
    files::refuse_overlaps(
        &[
            ("--retry-failed", args.retry_failed.as_deref()),
            ("--ids-file", args.ids_file.as_deref()),
            ("--token-file", args.token_file.as_deref()),
            ("--client-secret-file", args.client_secret_file.as_deref()),
        ],
        &[
            ("--report", args.report.as_deref()),
            ("--output", args.output.as_deref()),
        ],
        ("--retry-failed", "--report"),
    )?;
    let retry = match &args.retry_failed {
        Some(path) => {
            let ids = ids::failed_ids_of(path, target.vendor.name, target.resource.name)?;
            if ids.is_empty() && args.ids.is_empty() && args.ids_file.is_none() {
                ui.say(format_args!(
                    "{} lists no failed ids: nothing to fetch",
                    path.display()
                ));
                return Ok(ExitCode::SUCCESS);
            }
            ids
        }
        None => Vec::new(),
    };
    let credentials = credentials(&args, target.vendor.rules)?;
    let mut ids = Ids::open(&args.ids, retry, args.ids_file.as_deref(), args.max_ids)?;
    // The files are made later (the output once Ctrl-C is caught, the report at the end);
    // a path that cannot be written is an error now, before any request.
    for (flag, path) in [("--report", &args.report), ("--output", &args.output)] {
        if let Some(path) = path {
            AtomicFile::check(flag, path)?;
        }
    }

    let mock = if args.mock {
        Some(start_mock().await?)
    } else {
        None
    };
    let base_url = match (&mock, &args.base_url) {
        (Some(m), _) => m.base_url().to_owned(),
        (None, Some(url)) => url.clone(),
        (None, None) => {
            let mut vars = Vec::new();
            for pair in &args.server_var {
                let Some((name, value)) = pair.split_once('=') else {
                    return Err(Usage(format!("--server-var {pair:?}: expected NAME=VALUE")));
                };
                vars.push((name.trim(), value.trim()));
            }
            target
                .vendor
                .rules
                .base_url(&vars)
                .map_err(|e| Usage(format!("--server-var: {e}")))?
        }
    };
    let credentials = match (credentials, &mock) {
        (Some(c), _) => c,
        (None, Some(_)) => Credentials::bearer("mock-token"),
        (None, None) => {
            return Err(Usage(
                "no credentials: pass --token-file (or USERBATCH_TOKEN, or --token), or \
                 --client-id and --client-secret (or use --mock)"
                    .to_owned(),
            ));
        }
    };
    // The library refuses what it must not send (credentials in the URL, a token in clear
    // to a host that is not loopback) when the client is built, before any request.
    let mut config = ClientConfig::new(&base_url)
        .credentials(credentials)
        .allow_insecure(args.allow_insecure);
    if let Some(secs) = args.timeout {
        config = config.timeout(Duration::from_secs(secs));
    }
    // The library's warning lists every unpopulated field; without -v the command line
    // says it in one line instead.
    userbatch::silence_partial_warnings(ui.verbosity() < Verbosity::Verbose);
    let run = Run {
        args: &args,
        ui,
        ids: &mut ids,
    };
    let started = Instant::now();
    let pairs: Vec<(&str, &str)> = target
        .options
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let op = (target.entry.build)(config, &pairs).map_err(|e| match e {
        userbatch::registry::BuildError::Config(e) => Exit::from(e),
        userbatch::registry::BuildError::Option(e) => Usage(option_error(&target, &e)),
        e => Failure(e.to_string()),
    })?;
    let (mut report, sink) = run.op(op.strict(args.strict), &target).await?;
    if let Some(m) = mock {
        m.stop().await;
    }
    ui.finish();

    let mut failed_to_record = false;
    report.records_written = match sink.finish() {
        Ok(complete) => complete,
        Err(e) => {
            ui.error(e);
            failed_to_record = true;
            false
        }
    };
    summarize(ui, &report, started);
    if let Some(path) = &args.report {
        let written = match AtomicFile::create("--report", path) {
            Ok(file) => write_report(file, &report)
                .map_err(|e| format!("cannot write the report to {}: {e}", path.display())),
            Err(Usage(message) | Failure(message)) => Err(message),
        };
        if let Err(message) = written {
            ui.error(message);
            failed_to_record = true;
        }
    }
    let failed: usize = report.failed.iter().map(|f| f.ids.len()).sum();
    Ok(if report.interrupted {
        ExitCode::from(INTERRUPTED)
    } else if failed > 0 || failed_to_record {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The lines that end a run: the summary, and what the user should know about it.
fn summarize(ui: &Ui, report: &Report, started: Instant) {
    let failed: usize = report.failed.iter().map(|f| f.ids.len()).sum();
    ui.say(format_args!(
        "requested {}, found {}, missing {}, failed {}, requests {}, elapsed {:.2}s{}",
        report.requested,
        report.found,
        report.missing.len(),
        failed,
        report.requests,
        started.elapsed().as_secs_f64(),
        if report.interrupted {
            ", interrupted"
        } else {
            ""
        }
    ));
    if report.throttled > 0 {
        ui.say(format_args!(
            "the vendor throttled {} answer(s); the run paused {:.2}s for them{}",
            report.throttled,
            report.throttle_wait_s,
            match report.pace_per_s {
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
    let mut causes: Vec<(&str, usize)> = Vec::new();
    for f in &report.failed {
        match causes.iter_mut().find(|(error, _)| *error == f.error) {
            Some((_, n)) => *n += f.ids.len(),
            None => causes.push((&f.error, f.ids.len())),
        }
    }
    causes.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    const MOST_CAUSES: usize = 5;
    for (error, n) in causes.iter().take(MOST_CAUSES) {
        let every = if report.run_error.as_deref() == Some(*error) {
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

fn write_report(mut file: AtomicFile, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut file, report)?;
    file.write_all(b"\n")?;
    file.persist()
}

/// The embedded mock server (the `mock` feature).
#[cfg(feature = "mock")]
type Mock = userbatch_mock::MockServer;

#[cfg(feature = "mock")]
async fn start_mock() -> Result<Mock, Exit> {
    Mock::start(userbatch_mock::MockConfig::new())
        .await
        .map_err(|e| Failure(format!("the mock cannot start: {e}")))
}

/// Without the `mock` feature there is no mock to start.
#[cfg(not(feature = "mock"))]
enum Mock {}

#[cfg(not(feature = "mock"))]
impl Mock {
    fn base_url(&self) -> &str {
        match *self {}
    }

    async fn stop(self) {
        match self {}
    }
}

#[cfg(not(feature = "mock"))]
async fn start_mock() -> Result<Mock, Exit> {
    Err(Usage(
        "--mock: this build of userbatch has no embedded mock (build userbatch-cli with \
         its `mock` feature)"
            .to_owned(),
    ))
}

/// A bearer token (`--token`, `--token-file`), or tokens from an OAuth2 token endpoint
/// (`--client-id`, `--client-secret[-file]`, `--token-url`, by default the spec's); `None`
/// if none was given.
fn credentials(
    args: &Args,
    vendor: &userbatch::rules::VendorRules,
) -> Result<Option<Credentials>, Exit> {
    let token = match (&args.token, &args.token_file) {
        (_, Some(path)) => Some(files::read_secret("--token-file", path)?),
        (Some(token), None) => Some(token.clone()),
        (None, None) => None,
    };
    let secret = match (&args.client_secret, &args.client_secret_file) {
        (_, Some(path)) => Some(files::read_secret("--client-secret-file", path)?),
        (Some(secret), None) => Some(secret.clone()),
        (None, None) => None,
    };
    match (token, &args.client_id, secret) {
        (Some(_), Some(_), _) => Err(Usage(
            "a token and --client-id are two ways to authenticate: give one".to_owned(),
        )),
        (Some(token), None, _) => Ok(Some(Credentials::bearer(token))),
        (None, Some(id), Some(secret)) => {
            let url = match &args.token_url {
                Some(url) => url.clone(),
                None => vendor
                    .token_url
                    .as_ref()
                    .map(|url| url.to_string())
                    .ok_or_else(|| {
                        Usage(format!(
                            "--client-id needs --token-url: the {} spec names no token endpoint",
                            vendor.title
                        ))
                    })?,
            };
            // The spec's grant (token URL and scopes), unless the options say otherwise.
            let from_spec = (args.token_url.is_none() && args.scope.is_none())
                .then(|| {
                    userbatch::ClientCredentials::for_vendor(vendor, id.clone(), secret.clone())
                })
                .flatten();
            let grant = match from_spec {
                Some(grant) => grant,
                None => {
                    let grant = userbatch::ClientCredentials::new(url, id.clone(), secret);
                    match args.scope.as_deref().or(vendor.scope.as_deref()) {
                        Some(scope) => grant.scope(scope),
                        None => grant,
                    }
                }
            };
            Ok(Some(Credentials::client_credentials(grant)))
        }
        (None, Some(_), None) => Err(Usage(
            "--client-id needs --client-secret-file (or USERBATCH_CLIENT_SECRET, or \
             --client-secret)"
                .to_owned(),
        )),
        (None, None, _) => Ok(None),
    }
}

/// An option the operation refused, in the command line's terms.
fn option_error(target: &targets::Target, e: &userbatch::OptionError) -> String {
    match e {
        userbatch::OptionError::Invalid { name, reason, .. } => {
            format!("{}: {reason}", target.flag_of(name))
        }
        userbatch::OptionError::Missing { name } => format!(
            "{} {} needs {}",
            target.vendor.name,
            target.resource.name,
            target.flag_of(name)
        ),
        other => other.to_string(),
    }
}

/// Requests per second: from one every 1,000 s to a million a second (outside that, a
/// slip of the keyboard: refused before any request).
fn positive_rate(text: &str) -> Result<f64, String> {
    match text.trim_end_matches("/s").parse::<f64>() {
        Ok(r) if (0.001..=1_000_000.0).contains(&r) => Ok(r),
        _ => {
            Err("a number of requests per second from 0.001 to 1000000, e.g. 50 or 50/s".to_owned())
        }
    }
}

/// Where records go: standard output, or the `--output` file. A closed pipe (`| head`)
/// stops the writing, not the accounting; a file that cannot be written fails the run.
struct Sink {
    out: Box<dyn Write + Send>,
    file: Option<AtomicFile>,
    error: Option<io::Error>,
    closed: bool,
}

impl Sink {
    fn new(file: Option<AtomicFile>) -> Self {
        Self {
            out: Box::new(BufWriter::new(io::stdout())),
            file,
            error: None,
            closed: false,
        }
    }

    fn record(&mut self, record: &str) {
        if self.closed || self.error.is_some() {
            return;
        }
        let out: &mut dyn Write = match &mut self.file {
            Some(file) => file,
            None => &mut self.out,
        };
        let written = out
            .write_all(record.as_bytes())
            .and_then(|()| out.write_all(b"\n"));
        match written {
            Ok(()) => {}
            Err(e) if self.file.is_none() && e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Flushes standard output, or renames the file into place. `Ok(false)`: standard
    /// output was closed before every record was written (`| head`), which is no error.
    fn finish(mut self) -> Result<bool, String> {
        let Some(file) = self.file else {
            if let Err(e) = self.out.flush() {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    self.closed = true;
                } else {
                    self.error.get_or_insert(e);
                }
            }
            return match self.error {
                Some(e) => Err(format!("cannot write the records: {e}")),
                None => Ok(!self.closed),
            };
        };
        let path = file.path().display().to_string();
        match self.error {
            // Left out: a file at the path holds only complete runs' records.
            Some(e) => Err(format!("cannot write the records to {path}: {e}")),
            None => file
                .persist()
                .map(|()| true)
                .map_err(|e| format!("cannot write the records to {path}: {e}")),
        }
    }
}

/// One run of one operation, as the options say.
struct Run<'a> {
    args: &'a Args,
    ui: &'a Ui,
    ids: &'a mut Ids,
}

impl Run<'_> {
    /// Runs `op`: records as the vendor sent them, or (`--strict`) decoded into the spec's
    /// types too, as the operation was made.
    async fn op<O: Operation>(
        self,
        op: O,
        target: &targets::Target,
    ) -> Result<(Report, Sink), Exit> {
        let rules = op.rules();
        let secrets = if self.args.reveal_secrets {
            &[][..]
        } else {
            &rules.records.secrets[..]
        };
        let partial = rules.partial.as_ref();
        let ui = self.ui;
        let batch = self.batch(op);
        let (report, sink) = self.fetch(batch, secrets, target).await?;
        // With -v the library's warning lists the fields.
        let notice = wants_partial_notice(ui);
        if let Some(partial) = partial.filter(|_| report.found > 0 && notice) {
            ui.say(format_args!(
                "these are summaries of {}: {} fields are not populated (-v lists them); \
                 --full fetches full records",
                partial.of,
                partial.unpopulated.len()
            ));
        }
        Ok((report, sink))
    }

    fn batch<O: Operation>(&self, op: O) -> Batch<O> {
        let args = self.args;
        let mut batch = Batch::new(op)
            .concurrency(usize::from(args.concurrency))
            .throttle_patience(Duration::from_secs(args.throttle_patience));
        if let Some(rate) = args.max_rate {
            batch = batch.max_rate(rate);
        }
        if let Some(n) = args.max_batch {
            batch = batch.max_batch(n);
        }
        if args.attempts.is_some() || args.max_retry_after.is_some() {
            let mut retry = userbatch::Retry::default();
            if let Some(n) = args.attempts {
                retry.max_attempts = n;
            }
            if let Some(secs) = args.max_retry_after {
                retry.max_retry_after = Duration::from_secs(secs);
            }
            batch = batch.retry(retry);
        }
        if let Some(secs) = args.deadline {
            batch = batch.deadline(Duration::from_secs(secs));
        }
        let ui = self.ui.clone();
        batch.on_progress(move |p| ui.progress(p))
    }

    /// Streams the records out as NDJSON, in input order, each as the vendor sent it (the
    /// values at `secrets` redacted), and accounts for every id. Ctrl-C or SIGTERM stops
    /// the run ([`watch_signals`]); what was received is still written.
    async fn fetch<O: Operation>(
        self,
        batch: Batch<O>,
        secrets: &[Cow<'static, str>],
        target: &targets::Target,
    ) -> Result<(Report, Sink), Exit> {
        let Run { args, ui, ids } = self;
        // Planning reads every id (it validates them all before any request is sent).
        let stream = batch.stream(&mut *ids);
        if let Some(problem) = ids.error.take() {
            return Err(Usage(problem));
        }
        let mut stream = stream.map_err(|e| match e {
            userbatch::PlanError::InvalidId { id, index, reason } => Usage(format!(
                "invalid id {:?} ({}): {reason}",
                shorten(&id),
                ids.describe(index, args.retry_failed.as_deref())
            )),
            userbatch::PlanError::NoIds => Usage(match &args.ids_file {
                Some(path) => format!(
                    "no ids to fetch: {} holds none, and none were given as arguments",
                    path.display()
                ),
                None => "no ids to fetch: give them as arguments or with --ids-file".to_owned(),
            }),
            other => Usage(other.to_string()),
        })?;
        // Ctrl-C is caught from here on (while the ids are read it ends the process the
        // usual way: nothing was sent and no file made yet), then the output file is made.
        let signals = Signals::new();
        let file = args
            .output
            .as_deref()
            .map(|p| AtomicFile::create("--output", p))
            .transpose()?;
        let mut sink = Sink::new(file);
        let interrupted = Arc::new(AtomicBool::new(false));
        let signals = tokio::spawn(watch_signals(
            signals,
            stream.stopper(),
            Duration::from_secs(args.grace),
            Arc::clone(&interrupted),
            ui.clone(),
        ));
        ui.start(stream.requested());
        let mut report = Report {
            vendor: target.vendor.name.to_owned(),
            resource: target.resource.name.to_owned(),
            requested: stream.requested(),
            found: 0,
            missing: Vec::new(),
            failed: Vec::new(),
            unexpected: 0,
            requests: 0,
            throttled: 0,
            throttle_wait_s: 0.0,
            pace_per_s: None,
            run_error: None,
            interrupted: false,
            records_written: true,
        };
        let redactor = userbatch::json::Redactor::new(secrets);
        // Control characters a terminal would act on are escaped for one; a file or a pipe
        // gets the record as sent.
        let terminal = args.output.is_none() && io::stdout().is_terminal();
        while let Some(outcome) = stream.next().await {
            match outcome {
                Outcome::Found(found) => {
                    report.found += 1;
                    let record = redactor.redact(found.raw.as_str());
                    // One record per line, whatever white space the vendor sent.
                    let record = userbatch::json::one_line(&record);
                    if terminal {
                        sink.record(&userbatch::json::escape_controls(&record));
                    } else {
                        sink.record(&record);
                    }
                }
                Outcome::Missing(id) => report.missing.push(id),
                Outcome::Failed(failure) => {
                    let error = failure.error.to_string();
                    // Requests that fail alike (e.g. all those an interrupt left) make one
                    // entry.
                    match report.failed.last_mut() {
                        Some(last) if last.error == error => last.ids.extend(failure.ids),
                        _ => report.failed.push(FailedIds {
                            ids: failure.ids,
                            error,
                        }),
                    }
                }
            }
        }
        signals.abort();
        report.interrupted = interrupted.load(Ordering::SeqCst);
        report.requests = stream.requests();
        report.unexpected = stream.unexpected();
        report.throttled = stream.throttled();
        report.throttle_wait_s = stream.throttle_wait().as_secs_f64();
        report.pace_per_s = stream.pace();
        report.run_error = stream.run_error().map(|e| e.to_string());
        Ok((report, sink))
    }
}

/// Whether the one-line partial-record notice is for this run (the library's own warning,
/// which lists every field, is shown from -v on).
fn wants_partial_notice(ui: &Ui) -> bool {
    ui.verbosity() < Verbosity::Verbose
}

/// An id as messages show it: at most 40 characters.
fn shorten(id: &str) -> Cow<'_, str> {
    match id.char_indices().nth(40) {
        Some((at, _)) => Cow::Owned(format!("{}…", &id[..at])),
        None => Cow::Borrowed(id),
    }
}

/// On the first Ctrl-C or SIGTERM: no new requests; after `grace`, or on a second signal,
/// the requests in flight are abandoned too. Their ids come out of the stream as failed
/// ("interrupted").
async fn watch_signals(
    signals: io::Result<Signals>,
    stopper: Stopper,
    grace: Duration,
    interrupted: Arc<AtomicBool>,
    ui: Ui,
) {
    let mut signals = match signals {
        Ok(signals) => signals,
        Err(e) => {
            tracing::warn!("Ctrl-C cannot be caught, so it will lose what is in flight: {e}");
            return;
        }
    };
    signals.next().await;
    interrupted.store(true, Ordering::SeqCst);
    ui.say(format_args!(
        "interrupted: no new requests; waiting up to {}s for those in flight (Ctrl-C again \
         to stop now)",
        grace.as_secs()
    ));
    stopper.stop();
    tokio::select! {
        () = tokio::time::sleep(grace) => {}
        () = signals.next() => {}
    }
    stopper.abort();
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere).
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn new() -> io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(not(unix))]
    fn new() -> io::Result<Self> {
        Ok(Self {})
    }

    #[cfg(unix)]
    async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }

    #[cfg(not(unix))]
    async fn next(&mut self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
