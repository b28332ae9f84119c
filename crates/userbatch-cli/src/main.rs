//! `userbatch`: fetch user records by id from a vendor API (or the embedded mock) and print
//! them as NDJSON, with an exact account of every id.
//!
//! Run `userbatch --help` for the options; `cargo run -p userbatch-cli -- --mock nexudus
//! users 1 2 3` tries it with no vendor account.

mod files;
mod ids;
mod targets;
mod ui;

mod args;
mod exit;
mod fetch;
mod mock;
mod report;
mod signals;
mod sink;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{CommandFactory, FromArgMatches};
use userbatch::{ClientConfig, Credentials};

use crate::args::{Args, Command, cli};
use crate::exit::Exit::{Failure, Usage};
use crate::exit::{Exit, INTERRUPTED};
use crate::fetch::{Fetch, credentials, option_error};
use crate::files::AtomicFile;
use crate::ids::InputIds;
use crate::mock::start_mock;
use crate::report::{summarize, write_report};
use crate::ui::{Ui, Verbosity};

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
    let mut ids = InputIds::open(&args.ids, retry, args.ids_file.as_deref(), args.max_ids)?;
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
    let fetch = Fetch {
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
    let (mut report, sink) = fetch.op(op.strict(args.strict), &target).await?;
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
    let failed: usize = report.summary.failed.iter().map(|f| f.ids.len()).sum();
    Ok(if report.interrupted {
        ExitCode::from(INTERRUPTED)
    } else if failed > 0 || failed_to_record {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
