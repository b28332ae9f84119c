//! The command line's arguments (the registry adds each vendor's resources and options).
use std::path::PathBuf;

use crate::targets;
use clap::{CommandFactory, Parser, Subcommand};

pub(crate) const EXAMPLES: &str = "\
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
pub(crate) struct Args {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    /// The vendor API [default with --retry-failed: the report's]
    #[arg(index = 1, required_unless_present = "retry_failed")]
    pub(crate) vendor: Option<String>,

    /// What to fetch [default with --retry-failed: the report's]
    #[arg(index = 2, required_unless_present = "retry_failed")]
    pub(crate) resource: Option<String>,

    /// Ids to fetch, trimmed; duplicates are fetched once
    #[arg(index = 3)]
    pub(crate) ids: Vec<String>,

    /// Read more ids from this file, one per line ('-' reads standard input)
    #[arg(long, value_name = "PATH")]
    pub(crate) ids_file: Option<PathBuf>,

    /// Fetch the ids a report written by --report lists as failed (with any others given)
    #[arg(long, value_name = "REPORT")]
    pub(crate) retry_failed: Option<PathBuf>,

    /// Refuse more ids than this (each costs about 10 bytes of memory while it waits)
    #[arg(long, value_name = "N", default_value_t = 10_000_000)]
    pub(crate) max_ids: usize,

    /// Write the records to this file instead of standard output (replaced when the run
    /// ends, also when interrupted; never left half-written)
    #[arg(short, long, value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,

    /// Write a JSON report: requested, found, missing ids, failed ids with errors,
    /// unexpected records, requests
    #[arg(long, value_name = "PATH")]
    pub(crate) report: Option<PathBuf>,

    /// Start the embedded mock server in-process and use it (no token needed)
    #[arg(long, conflicts_with = "base_url")]
    pub(crate) mock: bool,

    /// The vendor's base URL [default: the production URL from the vendor's spec]
    #[arg(long, env = "USERBATCH_BASE_URL", value_name = "URL")]
    pub(crate) base_url: Option<String>,

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
    pub(crate) token: Option<String>,

    /// Read the bearer token from this file's first line ('-' reads standard input)
    #[arg(long, value_name = "PATH")]
    pub(crate) token_file: Option<PathBuf>,

    /// OAuth2 client id (client credentials grant), instead of a token
    #[arg(long, env = "USERBATCH_CLIENT_ID", value_name = "ID")]
    pub(crate) client_id: Option<String>,

    /// OAuth2 client secret; as with --token, a command line is the least private way
    /// (prefer --client-secret-file or USERBATCH_CLIENT_SECRET). Never printed, never logged
    #[arg(
        long,
        env = "USERBATCH_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET",
        conflicts_with = "client_secret_file"
    )]
    pub(crate) client_secret: Option<String>,

    /// Read the OAuth2 client secret from this file's first line ('-' reads standard input)
    #[arg(long, value_name = "PATH")]
    pub(crate) client_secret_file: Option<PathBuf>,

    /// OAuth2 token endpoint [default: the one in the vendor's spec, if any]
    #[arg(long, value_name = "URL")]
    pub(crate) token_url: Option<String>,

    /// OAuth2 scopes to ask for, space-separated [default: those the vendor's spec names]
    #[arg(long, value_name = "SCOPES")]
    pub(crate) scope: Option<String>,

    /// A variable of the vendor's server URL, as NAME=VALUE (e.g. region=us), for the
    /// default base URL; `userbatch --help` lists each vendor's
    #[arg(long, value_name = "NAME=VALUE", conflicts_with = "base_url")]
    pub(crate) server_var: Vec<String>,

    /// At most this many requests per second (the run also slows down by itself when the
    /// vendor throttles it)
    #[arg(long, value_name = "N", value_parser = positive_rate)]
    pub(crate) max_rate: Option<f64>,

    /// Send the token over plain HTTP to a host that is not loopback, and through a proxy
    /// from the environment (http_proxy) over plain HTTP
    #[arg(long)]
    pub(crate) allow_insecure: bool,

    /// Requests in flight at once
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) concurrency: u16,

    /// At most this many ids per request (may only lower the vendor's limit)
    #[arg(long, value_name = "N")]
    pub(crate) max_batch: Option<usize>,

    /// Attempts per request, the first included (1: no retries) [default: 5]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub(crate) attempts: Option<u32>,

    /// Longest Retry-After to wait, in seconds; a longer one fails the request instead
    /// [default: 60]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub(crate) max_retry_after: Option<u64>,

    /// Give up on the ids left after this many seconds of the whole run (they fail with
    /// "deadline"), at most a week [default: none]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub(crate) deadline: Option<u64>,

    /// Per-request timeout in seconds, at most a day [default: 30]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) timeout: Option<u64>,

    /// On Ctrl-C or SIGTERM, how long the requests in flight may take to finish (at most a
    /// day)
    #[arg(long, value_name = "SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub(crate) grace: u64,

    /// While the vendor throttles every request, how long the run may go without an answer
    /// before the ids left fail (at most a week)
    #[arg(long, value_name = "SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub(crate) throttle_patience: u64,

    /// Also decode each record into the spec's type: a record whose fields do not match
    /// fails its id, with an error naming the field (by default records are passed on as
    /// the vendor sent them)
    #[arg(long)]
    pub(crate) strict: bool,

    /// Write the values of fields the spec marks as passwords (tokens, secrets, nested ones
    /// too) as the vendor sent them; otherwise they read "<redacted>"
    #[arg(long)]
    pub(crate) reveal_secrets: bool,

    /// Errors only on standard error: no progress, no notices, no summary
    #[arg(short, long, conflicts_with = "verbose")]
    pub(crate) quiet: bool,

    /// More on standard error: -v one line per request (operation, ids, status, attempt,
    /// ms) and every unpopulated field of summaries; -vv debug logs of every crate; -vvv
    /// trace. RUST_LOG, if set, is used instead (e.g. RUST_LOG=userbatch=debug)
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    /// Return full records (one get-one request per id, the summaries' full operation)
    /// instead of list summaries
    #[arg(long)]
    pub(crate) full: bool,
}

/// What else the command does.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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

/// The command line: the arguments of [`Args`], and the vendors, resources and options of
/// the registry.
pub(crate) fn cli() -> clap::Command {
    targets::augment(Args::command())
}

/// Requests per second: from one every 1,000 s to a million a second (outside that, a
/// slip of the keyboard: refused before any request).
pub(crate) fn positive_rate(text: &str) -> Result<f64, String> {
    match text.trim_end_matches("/s").parse::<f64>() {
        Ok(r) if (0.001..=1_000_000.0).contains(&r) => Ok(r),
        _ => {
            Err("a number of requests per second from 0.001 to 1000000, e.g. 50 or 50/s".to_owned())
        }
    }
}
