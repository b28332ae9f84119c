//! One fetch of one operation, as the options say: credentials, options, the stream of
//! outcomes written as they come.

use std::io::{self, IsTerminal};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use userbatch::registry::AnyOperation;
use userbatch::{Batch, Credentials, Operation, Outcome};

use crate::args::Args;
use crate::exit::Exit;
use crate::exit::Exit::Usage;
use crate::files::AtomicFile;
use crate::ids::InputIds;
use crate::report::{JsonReport, shorten};
use crate::signals::{Signals, watch_signals};
use crate::sink::Sink;
use crate::ui::{Ui, Verbosity};
use crate::{files, targets};

/// A bearer token (`--token`, `--token-file`), or tokens from an OAuth2 token endpoint
/// (`--client-id`, `--client-secret[-file]`, `--token-url`, by default the spec's); `None`
/// if none was given.
pub(crate) fn credentials(
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
pub(crate) fn option_error(target: &targets::Target, e: &userbatch::OptionError) -> String {
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

/// One fetch of one operation, as the options say.
pub(crate) struct Fetch<'a> {
    pub(crate) args: &'a Args,
    pub(crate) ui: &'a Ui,
    pub(crate) ids: &'a mut InputIds,
}

impl Fetch<'_> {
    /// Runs `op`: records as the vendor sent them, or (`--strict`) decoded into the spec's
    /// types too, as the operation was made.
    pub(crate) async fn op(
        self,
        op: AnyOperation,
        target: &targets::Target,
    ) -> Result<(JsonReport, Sink), Exit> {
        let rules = op.rules();
        let partial = rules.partial.as_ref();
        let ui = self.ui;
        let batch = self.batch(op);
        let (report, sink) = self.fetch(batch, target).await?;
        // With -v the library's warning lists the fields.
        let notice = wants_partial_notice(ui);
        if let Some(partial) = partial.filter(|_| report.summary.found > 0 && notice) {
            ui.say(format_args!(
                "these are summaries of {}: {} fields are not populated (-v lists them); \
                 --full fetches full records",
                partial.of,
                partial.unpopulated.len()
            ));
        }
        Ok((report, sink))
    }

    pub(crate) fn batch<O: Operation>(&self, op: O) -> Batch<O> {
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
    /// values at the operation's secrets redacted), and accounts for every id. Ctrl-C or
    /// SIGTERM stops the run ([`watch_signals`]); what was received is still written.
    pub(crate) async fn fetch(
        self,
        batch: Batch<AnyOperation>,
        target: &targets::Target,
    ) -> Result<(JsonReport, Sink), Exit> {
        let Fetch { args, ui, ids } = self;
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
        let mut report = JsonReport {
            vendor: target.vendor.name.to_owned(),
            resource: target.resource.name.to_owned(),
            summary: userbatch::Summary::default(),
            interrupted: false,
            records_written: true,
        };
        let summary = &mut report.summary;
        summary.requested = stream.requested();
        // Control characters a terminal would act on are escaped for one; a file or a pipe
        // gets the record as sent.
        let terminal = args.output.is_none() && io::stdout().is_terminal();
        while let Some(outcome) = stream.next().await {
            match outcome {
                Outcome::Found(found) => {
                    summary.found += 1;
                    // The secrets' values replaced (the scan of the body found them).
                    sink.record(&found.raw, !args.reveal_secrets, terminal);
                }
                Outcome::Missing(id) => summary.missing.push(id),
                Outcome::Failed(failure) => {
                    // Requests that fail alike (e.g. all those an interrupt left) make one
                    // entry.
                    match summary.failed.last_mut() {
                        Some(last) if last.error.to_string() == failure.error.to_string() => {
                            last.ids.extend(failure.ids);
                        }
                        _ => summary.failed.push(failure),
                    }
                }
            }
        }
        signals.abort();
        summary.requests = stream.requests();
        summary.unexpected = stream.unexpected();
        summary.throttled = stream.throttled();
        summary.throttle_wait = stream.throttle_wait();
        summary.pace = stream.pace();
        summary.run_error = stream.run_error();
        report.interrupted = interrupted.load(Ordering::SeqCst);
        Ok((report, sink))
    }
}

/// Whether the one-line partial-record notice is for this run (the library's own warning,
/// which lists every field, is shown from -v on).
pub(crate) fn wants_partial_notice(ui: &Ui) -> bool {
    ui.verbosity() < Verbosity::Verbose
}
