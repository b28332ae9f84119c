//! `userbatch`: fetch user records by id from a vendor API (or the embedded mock) and print
//! them as NDJSON, with an exact account of every id.
//!
//! Run `userbatch --help` for the options; `cargo run -p userbatch-cli -- --mock nexudus
//! users 1 2 3` tries it with no vendor account.

use std::borrow::Cow;
use std::io::{self, BufRead, BufWriter, IsTerminal, Read, Write};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use serde::Serialize;
use userbatch::{
    Batch, ClientConfig, Credentials, Operation, Outcome, Raw, avepoint, nexudus, usermgr,
};

const EXAMPLES: &str = "\
Examples:
  # Try it on any machine: the embedded mock server, no token needed.
  userbatch --mock nexudus users 1 2 3
  # Ids from a file (one per line), a JSON report, records into a file.
  userbatch --mock usermgr users --ids-file ids.txt --report report.json > users.ndjson
  # A real vendor: the token from the environment, never printed.
  USERBATCH_TOKEN=... userbatch --base-url https://spaces.nexudus.com nexudus coworkers 87654321

Output:
  stdout  one JSON record per line (NDJSON), in first-seen input order, each exactly as
          the vendor sent it (unknown fields, nulls, key order), except that the values
          of fields the spec marks as passwords read <redacted> unless --show-secrets
  stderr  a progress line (on a terminal), warnings, one summary line

Exit status:
  0  every id was found or reported missing
  1  some ids failed (see stderr and --report), or the run could not be done or recorded:
     the mock did not start, TLS did not initialise, the report could not be written
  2  bad usage or bad input, found before any request was sent";

/// Fetch user records by id from a vendor API, in the fewest requests its rules allow.
#[derive(Debug, Parser)]
#[command(name = "userbatch", version, after_help = EXAMPLES)]
struct Args {
    /// The vendor API
    #[arg(value_enum)]
    vendor: VendorArg,

    /// What to fetch: `users` (every vendor) or `coworkers` (nexudus)
    #[arg(value_enum)]
    resource: ResourceArg,

    /// Ids to fetch; duplicates are fetched once
    ids: Vec<String>,

    /// Read more ids from this file, one per line ('-' reads standard input)
    #[arg(long, value_name = "PATH")]
    ids_file: Option<PathBuf>,

    /// Refuse more ids than this (each costs about 10 bytes of memory while it waits)
    #[arg(long, value_name = "N", default_value_t = 10_000_000)]
    max_ids: usize,

    /// Start the embedded mock server in-process and use it (no token needed)
    #[arg(long, conflicts_with = "base_url")]
    mock: bool,

    /// The vendor's base URL [default: the production URL from the vendor's spec]
    #[arg(long, env = "USERBATCH_BASE_URL", value_name = "URL")]
    base_url: Option<String>,

    /// Bearer token; never printed, never logged
    #[arg(
        long,
        env = "USERBATCH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    token: Option<String>,

    /// OAuth2 client id (client credentials grant), instead of --token
    #[arg(long, env = "USERBATCH_CLIENT_ID", value_name = "ID")]
    client_id: Option<String>,

    /// OAuth2 client secret; never printed, never logged
    #[arg(
        long,
        env = "USERBATCH_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    client_secret: Option<String>,

    /// OAuth2 token endpoint [default: the one in the vendor's spec, if any]
    #[arg(long, value_name = "URL")]
    token_url: Option<String>,

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

    /// Per-request timeout in seconds [default: 30]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    timeout: Option<u64>,

    /// Write a JSON report: requested, found, missing ids, failed ids with errors,
    /// unexpected records, requests
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,

    /// Also decode each record into the spec's type: a record whose fields do not match
    /// fails its id, with an error naming the field (by default records are passed on as
    /// the vendor sent them)
    #[arg(long)]
    strict: bool,

    /// Print the values of fields the spec marks as passwords (tokens, secrets), which are
    /// otherwise replaced by "<redacted>"
    #[arg(long)]
    show_secrets: bool,

    /// Return full records (one get-one request per id) instead of list summaries
    #[arg(long, help_heading = "Nexudus")]
    full: bool,

    /// Extra attributes to return, comma-separated ($attribute), e.g. `created,manager`
    #[arg(long, value_name = "LIST", help_heading = "User Manager")]
    attribute: Option<String>,

    /// Sort by this attribute ($sort): id, firstName, lastName, loginId, custom.NAME
    #[arg(long, value_name = "FIELD", help_heading = "User Manager")]
    sort: Option<String>,

    /// Sort order ($order)
    #[arg(long, value_enum, help_heading = "User Manager")]
    order: Option<OrderArg>,

    /// Accept-Language, e.g. en-US, fr-FR [default: en-US]
    #[arg(long, value_name = "LOCALE", help_heading = "User Manager")]
    language: Option<String>,

    /// The customer's id (required for avepoint)
    #[arg(long, value_name = "ID", help_heading = "AvePoint")]
    customer_id: Option<String>,

    /// The tenant's id (required for avepoint)
    #[arg(long, value_name = "ID", help_heading = "AvePoint")]
    tenant_id: Option<String>,

    /// Page size to ask for [default: 100]
    #[arg(long, value_name = "N", help_heading = "AvePoint")]
    page_size: Option<NonZeroU32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum VendorArg {
    /// Nexudus (users, coworkers)
    Nexudus,
    /// User Manager v3 (users)
    Usermgr,
    /// AvePoint Graph (users)
    Avepoint,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ResourceArg {
    /// Users
    Users,
    /// Coworkers (nexudus)
    Coworkers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OrderArg {
    /// Ascending
    Asc,
    /// Descending
    Desc,
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

impl From<userbatch::PlanError> for Exit {
    fn from(e: userbatch::PlanError) -> Self {
        Usage(e.to_string())
    }
}

impl From<userbatch::ConfigError> for Exit {
    fn from(e: userbatch::ConfigError) -> Self {
        match e {
            userbatch::ConfigError::Http(_) => {
                Failure(format!("cannot build the HTTP client: {e}"))
            }
            _ => Usage(format!("--base-url {e}")),
        }
    }
}

impl From<userbatch::usermgr::UnknownAttribute> for Exit {
    fn from(e: userbatch::usermgr::UnknownAttribute) -> Self {
        Usage(e.to_string())
    }
}

#[derive(Debug, Serialize)]
struct Report {
    requested: usize,
    found: usize,
    missing: Vec<String>,
    failed: Vec<FailedIds>,
    unexpected: u64,
    requests: u64,
    throttled: u64,
    throttle_wait_s: f64,
}

#[derive(Debug, Serialize)]
struct FailedIds {
    ids: Vec<String>,
    error: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("userbatch: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(Usage(message)) => {
            eprintln!("userbatch: {message}");
            ExitCode::from(2)
        }
        Err(Failure(message)) => {
            eprintln!("userbatch: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, Exit> {
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_max_level(tracing::Level::WARN)
        .without_time()
        .with_target(false)
        .with_ansi(false)
        .init();

    check_combination(&args)?;
    let mut ids = Ids::open(&args)?;
    let report_file = args.report.as_deref().map(ReportFile::create).transpose()?;

    let mock = if args.mock {
        Some(start_mock().await?)
    } else {
        None
    };
    let base_url = match (&mock, &args.base_url) {
        (Some(m), _) => m.base_url().to_owned(),
        (None, Some(url)) => url.clone(),
        (None, None) => vendor_rules(args.vendor).default_base_url.to_string(),
    };
    let credentials = credentials(&args, mock.is_some())?;
    // The library refuses what it must not send (credentials in the URL, a token in clear
    // to a host that is not loopback) when the client is built, before any request.
    let mut config = ClientConfig::new(&base_url)
        .credentials(credentials)
        .allow_insecure(args.allow_insecure);
    if let Some(secs) = args.timeout {
        config = config.timeout(Duration::from_secs(secs));
    }
    let started = Instant::now();
    let report = match (args.vendor, args.resource) {
        (VendorArg::Nexudus, resource) => {
            let client = nexudus::Client::from_config(config)?;
            match (resource, args.full) {
                (ResourceArg::Users, false) => {
                    run_op(&args, nexudus::Users::new(client), &mut ids).await?
                }
                (ResourceArg::Users, true) => {
                    run_op(&args, nexudus::UserById::new(client), &mut ids).await?
                }
                (ResourceArg::Coworkers, false) => {
                    run_op(&args, nexudus::Coworkers::new(client), &mut ids).await?
                }
                (ResourceArg::Coworkers, true) => {
                    run_op(&args, nexudus::CoworkerById::new(client), &mut ids).await?
                }
            }
        }
        (VendorArg::Usermgr, _) => {
            let client = usermgr::Client::from_config(config)?;
            let mut op = usermgr::Users::new(client);
            if let Some(list) = &args.attribute {
                op = op.attributes(list.split(',').map(str::trim).filter(|a| !a.is_empty()))?;
            }
            if let Some(sort) = &args.sort {
                op = op.sort(sort.clone());
            }
            if let Some(order) = args.order {
                op = op.order(match order {
                    OrderArg::Asc => usermgr::types::GetUsersByIdsOrder::Asc,
                    OrderArg::Desc => usermgr::types::GetUsersByIdsOrder::Desc,
                });
            }
            if let Some(language) = &args.language {
                let parsed = language.parse().map_err(|_| {
                    Usage(format!(
                        "--language {language:?} is not a locale User Manager supports"
                    ))
                })?;
                op = op.language(parsed);
            }
            run_op(&args, op, &mut ids).await?
        }
        (VendorArg::Avepoint, _) => {
            let client = avepoint::Client::from_config(config)?;
            let (Some(customer), Some(tenant)) = (&args.customer_id, &args.tenant_id) else {
                return Err(Usage(
                    "avepoint needs --customer-id and --tenant-id".to_owned(),
                ));
            };
            let mut op = avepoint::Users::new(client, customer.clone(), tenant.clone());
            if let Some(size) = args.page_size {
                op = op.page_size(size);
            }
            run_op(&args, op, &mut ids).await?
        }
    };
    if let Some(m) = mock {
        m.stop().await;
    }

    let failed: usize = report.failed.iter().map(|f| f.ids.len()).sum();
    eprintln!(
        "userbatch: requested {}, found {}, missing {}, failed {}, requests {}, elapsed {:.2}s",
        report.requested,
        report.found,
        report.missing.len(),
        failed,
        report.requests,
        started.elapsed().as_secs_f64()
    );
    if report.throttled > 0 {
        eprintln!(
            "userbatch: the vendor throttled {} answer(s); the run paused {:.2}s for them",
            report.throttled, report.throttle_wait_s
        );
    }
    if report.unexpected > 0 {
        eprintln!(
            "userbatch: the vendor also sent {} record(s) whose ids were not asked for (not printed)",
            report.unexpected
        );
    }
    for f in &report.failed {
        eprintln!("userbatch: {} id(s) failed: {}", f.ids.len(), f.error);
    }
    if let Some(file) = report_file {
        let path = file.path.clone();
        if let Err(e) = file.write(&report) {
            eprintln!(
                "userbatch: cannot write the report to {}: {e}",
                path.display()
            );
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A bearer token (`--token`), or tokens from an OAuth2 token endpoint (`--client-id`,
/// `--client-secret`, `--token-url`, by default the spec's).
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

fn credentials(args: &Args, mock: bool) -> Result<Credentials, Exit> {
    match (&args.token, &args.client_id, &args.client_secret) {
        (Some(_), Some(_), _) => Err(Usage(
            "--token and --client-id are two ways to authenticate: give one".to_owned(),
        )),
        (Some(token), None, _) => Ok(Credentials::bearer(token.clone())),
        (None, Some(id), Some(secret)) => {
            let url = match &args.token_url {
                Some(url) => url.clone(),
                None => vendor_rules(args.vendor)
                    .token_url
                    .as_ref()
                    .map(|url| url.to_string())
                    .ok_or_else(|| {
                        Usage(format!(
                            "--client-id needs --token-url: the {} spec names no token endpoint",
                            vendor_rules(args.vendor).title
                        ))
                    })?,
            };
            Ok(Credentials::client_credentials(
                userbatch::ClientCredentials::new(url, id.clone(), secret.clone()),
            ))
        }
        (None, Some(_), None) => Err(Usage(
            "--client-id needs --client-secret (or USERBATCH_CLIENT_SECRET)".to_owned(),
        )),
        (None, None, _) if mock => Ok(Credentials::bearer("mock-token")),
        (None, None, _) => Err(Usage(
            "no credentials: pass --token (or USERBATCH_TOKEN), or --client-id and \
             --client-secret (or use --mock)"
                .to_owned(),
        )),
    }
}

fn vendor_rules(vendor: VendorArg) -> &'static userbatch::rules::VendorRules {
    match vendor {
        VendorArg::Nexudus => &nexudus::rules::VENDOR,
        VendorArg::Usermgr => &usermgr::rules::VENDOR,
        VendorArg::Avepoint => &avepoint::rules::VENDOR,
    }
}

/// Options that belong to another vendor or resource are mistakes, not no-ops.
fn check_combination(args: &Args) -> Result<(), Exit> {
    if args.resource == ResourceArg::Coworkers && args.vendor != VendorArg::Nexudus {
        return Err(Usage(format!(
            "{} has no coworkers; only `nexudus coworkers` exists",
            args.vendor
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_owned())
        )));
    }
    let misplaced = |present: bool, flag: &str, vendor: VendorArg, name: &str| {
        if present && args.vendor != vendor {
            Err(Usage(format!("{flag} applies to {name} only")))
        } else {
            Ok(())
        }
    };
    misplaced(args.full, "--full", VendorArg::Nexudus, "nexudus")?;
    misplaced(
        args.attribute.is_some(),
        "--attribute",
        VendorArg::Usermgr,
        "usermgr",
    )?;
    misplaced(args.sort.is_some(), "--sort", VendorArg::Usermgr, "usermgr")?;
    misplaced(
        args.order.is_some(),
        "--order",
        VendorArg::Usermgr,
        "usermgr",
    )?;
    misplaced(
        args.language.is_some(),
        "--language",
        VendorArg::Usermgr,
        "usermgr",
    )?;
    misplaced(
        args.customer_id.is_some(),
        "--customer-id",
        VendorArg::Avepoint,
        "avepoint",
    )?;
    misplaced(
        args.tenant_id.is_some(),
        "--tenant-id",
        VendorArg::Avepoint,
        "avepoint",
    )?;
    misplaced(
        args.page_size.is_some(),
        "--page-size",
        VendorArg::Avepoint,
        "avepoint",
    )?;
    Ok(())
}

/// The longest line an ids file may have, in bytes: more than any vendor's id (User
/// Manager's path segment holds 20,000 characters), and a bound on what one line can cost
/// (`--ids-file /dev/zero` ends here instead of filling memory).
const MAX_LINE_BYTES: usize = 64 * 1024;

/// The ids to fetch, read as the planner takes them (it keeps them compactly, so a file of
/// millions is never held as strings): the arguments first, then the file's lines, each
/// trimmed of surrounding white space, blank lines skipped. Arguments are taken as given;
/// the planner validates every id and names any bad one. The first problem with the input
/// stops the reading and is kept in `error`.
struct Ids {
    args: std::vec::IntoIter<String>,
    file: Option<IdsFile>,
    count: usize,
    max: usize,
    error: Option<String>,
}

struct IdsFile {
    reader: Box<dyn BufRead>,
    name: String,
    line: usize,
}

impl Ids {
    /// Opens the ids file, if any: a file that cannot be opened is an error before anything
    /// else happens.
    fn open(args: &Args) -> Result<Self, Exit> {
        let file = match &args.ids_file {
            None => None,
            Some(path) if path.as_os_str() == "-" => Some(IdsFile {
                reader: Box::new(io::stdin().lock()),
                name: "standard input".to_owned(),
                line: 0,
            }),
            Some(path) => {
                let file = std::fs::File::open(path).map_err(|e| {
                    Usage(format!("cannot read --ids-file {}: {e}", path.display()))
                })?;
                Some(IdsFile {
                    reader: Box::new(io::BufReader::new(file)),
                    name: path.display().to_string(),
                    line: 0,
                })
            }
        };
        Ok(Self {
            args: args.ids.clone().into_iter(),
            file,
            count: 0,
            max: args.max_ids,
            error: None,
        })
    }

    fn next_line(&mut self) -> Option<String> {
        let file = self.file.as_mut()?;
        loop {
            file.line += 1;
            let mut buf = Vec::new();
            let read = (&mut file.reader)
                .take(MAX_LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut buf);
            match read {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.error = Some(format!("cannot read the ids from {}: {e}", file.name));
                    return None;
                }
            }
            if buf.last() == Some(&b'\n') {
                buf.pop();
            } else if buf.len() > MAX_LINE_BYTES {
                self.error = Some(format!(
                    "line {} of {} is longer than {MAX_LINE_BYTES} bytes: no vendor takes such an id",
                    file.line, file.name
                ));
                return None;
            }
            let Ok(text) = String::from_utf8(buf) else {
                self.error = Some(format!("line {} of {} is not UTF-8", file.line, file.name));
                return None;
            };
            let id = text.trim();
            if !id.is_empty() {
                return Some(id.to_owned());
            }
        }
    }
}

impl Iterator for Ids {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.error.is_some() {
            return None;
        }
        let id = match self.args.next() {
            Some(id) => id,
            None => self.next_line()?,
        };
        self.count += 1;
        if self.count > self.max {
            self.error = Some(format!(
                "more than {} ids (raise --max-ids to fetch more)",
                self.max
            ));
            return None;
        }
        Some(id)
    }
}

/// Where the report goes: a temporary file (mode 0600) made in the report's folder before
/// any request, so a bad path costs no traffic, and renamed over the report at the end, so a
/// symlink at the report's path is replaced, never followed.
struct ReportFile {
    path: PathBuf,
    temp: tempfile::NamedTempFile,
}

impl ReportFile {
    fn create(path: &Path) -> Result<Self, Exit> {
        if path.is_dir() {
            return Err(Usage(format!("--report {} is a folder", path.display())));
        }
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".userbatch-report-")
            .tempfile_in(folder)
            .map_err(|e| Usage(format!("cannot write --report {}: {e}", path.display())))?;
        Ok(Self {
            path: path.to_owned(),
            temp,
        })
    }

    fn write(mut self, report: &Report) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut self.temp, report)?;
        self.temp.write_all(b"\n")?;
        self.temp.as_file().sync_all()?;
        self.temp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.trim_end_matches("/s").parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err("a number of requests per second above 0, e.g. 50 or 50/s".to_owned()),
    }
}

fn batch<O: Operation>(args: &Args, op: O) -> Batch<O> {
    let mut batch = Batch::new(op).concurrency(usize::from(args.concurrency));
    if let Some(rate) = args.max_rate {
        batch = batch.max_rate(rate);
    }
    if let Some(n) = args.max_batch {
        batch = batch.max_batch(n);
    }
    if io::stderr().is_terminal() {
        batch = batch.on_progress(|p| {
            eprint!(
                "\ruserbatch: {}/{} ids, {} requests ",
                p.done, p.total, p.requests
            );
            if p.done == p.total {
                eprintln!();
            }
        });
    }
    batch
}

/// Runs `op` as the options say: records as the vendor sent them, or (`--strict`) decoded
/// into the spec's types too.
async fn run_op<O: Operation>(args: &Args, op: O, ids: &mut Ids) -> Result<Report, Exit> {
    let secrets = if args.show_secrets {
        &[][..]
    } else {
        &op.rules().records.secrets[..]
    };
    if args.strict {
        fetch(batch(args, op), ids, secrets).await
    } else {
        fetch(batch(args, Raw(op)), ids, secrets).await
    }
}

/// Streams the records to stdout as NDJSON, in input order, each as the vendor sent it
/// (the values at `secrets` redacted), and accounts for every id.
async fn fetch<O: Operation>(
    batch: Batch<O>,
    ids: &mut Ids,
    secrets: &[Cow<'static, str>],
) -> Result<Report, Exit> {
    // Planning reads every id (it validates them all before any request is sent).
    let stream = batch.stream(&mut *ids);
    if let Some(problem) = ids.error.take() {
        return Err(Usage(problem));
    }
    let mut stream = stream?;
    let requested = stream.requested();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut report = Report {
        requested,
        found: 0,
        missing: Vec::new(),
        failed: Vec::new(),
        unexpected: 0,
        requests: 0,
        throttled: 0,
        throttle_wait_s: 0.0,
    };
    let mut broken_pipe = false;
    let redactor = userbatch::json::Redactor::new(secrets);
    while let Some(outcome) = stream.next().await {
        match outcome {
            Outcome::Found(found) => {
                report.found += 1;
                if !broken_pipe {
                    let record = redactor.redact(found.raw.as_str());
                    let written = out
                        .write_all(record.as_bytes())
                        .and_then(|()| out.write_all(b"\n"));
                    // A closed pipe (`| head`) stops the output, not the accounting.
                    broken_pipe = written.is_err();
                }
            }
            Outcome::Missing(id) => report.missing.push(id),
            Outcome::Failed(failure) => report.failed.push(FailedIds {
                ids: failure.ids,
                error: failure.error.to_string(),
            }),
        }
    }
    let _ = out.flush();
    report.requests = stream.requests();
    report.unexpected = stream.unexpected();
    report.throttled = stream.throttled();
    report.throttle_wait_s = stream.throttle_wait().as_secs_f64();
    Ok(report)
}
