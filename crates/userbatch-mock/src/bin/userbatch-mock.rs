//! `userbatch-mock`: the three vendors' mock as a server of its own, for tests in any
//! language. It prints its base URL as the first line of stdout and stops on Ctrl-C or
//! SIGTERM.
//!
//! ```text
//! userbatch-mock --port 8080 --token secret --missing 3,4 --latency-ms 20
//! curl -H 'Authorization: Bearer secret' 'http://127.0.0.1:8080/api/sys/users?id=[1,2,3]'
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use userbatch_mock::{
    Drift, Faults, LimitHeaders, MockConfig, MockServer, OAuthClient, RateLimit, RetryAfter, Vendor,
};

/// Every vendor API of this project's `specs/`, as the specs describe them, on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(name = "userbatch-mock", version)]
struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed of the generated records (the same seed serves the same records).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The bearer token requests must carry (the vendor's 401 otherwise); repeat for more.
    /// Without it (and without --client-id) any token is accepted.
    #[arg(long = "token", env = "USERBATCH_MOCK_TOKEN", hide_env_values = true)]
    tokens: Vec<String>,
    /// Added to every answer.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Ids that do not exist (comma-separated, or repeat the option).
    #[arg(long, value_delimiter = ',')]
    missing: Vec<String>,
    /// Answer this share of requests (0..1) with a server error.
    #[arg(long, default_value_t = 0.0)]
    server_errors: f64,
    /// Throttle this share of requests (0..1): the vendor's throttling status with
    /// `Retry-After`.
    #[arg(long, default_value_t = 0.0)]
    throttle: f64,
    /// Answer this share of list requests (0..1) with other ids' records, as a vendor that
    /// ignores the id filter.
    #[arg(long, default_value_t = 0.0)]
    ignore_filter: f64,
    /// Answer this share of requests (0..1) with the usual JSON labelled `text/html`.
    #[arg(long, default_value_t = 0.0)]
    mislabelled: f64,
    /// Answer this share of requests (0..1) with the vendor's 403 or 404 error answer, as
    /// for a request it refuses whatever its ids.
    #[arg(long, default_value_t = 0.0)]
    refused: f64,
    /// A token whose user lacks the role: requests carrying it get the vendor's 403; repeat
    /// for more.
    #[arg(long = "forbidden-token", value_name = "TOKEN")]
    forbidden_tokens: Vec<String>,
    /// A value of a path parameter that exists, as NAME=VALUE (e.g. tenantId=t1; repeat
    /// for more); once a parameter has any, a request with another value gets 404
    /// "<NAME> '<VALUE>' was not found". Without, every value exists.
    #[arg(long = "path-value", value_name = "NAME=VALUE", value_parser = name_value)]
    path_values: Vec<(String, String)>,
    /// The throttling status of --throttle [default: each vendor's own]
    #[arg(long, value_name = "STATUS")]
    throttle_status: Option<u16>,
    /// Drift: success bodies pretty-printed, a record over several lines.
    #[arg(long)]
    pretty: bool,
    /// Drift: success bodies pretty-printed with CRLF line endings.
    #[arg(long)]
    crlf: bool,
    /// A 401 quotes the token it refused, as some services do.
    #[arg(long)]
    echo_token: bool,
    /// Answer every request with a 302 to this prefix plus its path and query (another
    /// origin; "" redirects to itself, a loop).
    #[arg(long, value_name = "PREFIX")]
    redirect_to: Option<String>,
    /// Drift: every record also carries fields no spec knows (an object and a null).
    #[arg(long)]
    unknown_fields: bool,
    /// Drift: ids made of digits are sent as JSON integers (where the spec says strings).
    #[arg(long)]
    integer_ids: bool,
    /// Throttle every vendor to this many requests per second (a token bucket).
    #[arg(long, value_name = "PER_SECOND")]
    rate_limit: Option<u32>,
    /// The rate limit's burst (the bucket's size); default: the rate limit's number.
    #[arg(long, requires = "rate_limit", value_parser = clap::value_parser!(u32).range(1..))]
    rate_limit_burst: Option<u32>,
    /// How throttled answers write `Retry-After`: the wait until a request can pass in whole
    /// seconds (rounded up, as most servers do) or in fractions of a second.
    #[arg(long, requires = "rate_limit", value_enum, default_value_t = RetryForm::Seconds)]
    retry_after: RetryForm,
    /// Rate-limit headers on every rate-limited answer: `x-rate-limit` (`X-RateLimit-Limit`,
    /// `-Remaining`, `-Reset`) or `ietf` (`RateLimit-Policy` and `RateLimit`).
    #[arg(long, requires = "rate_limit", value_enum)]
    rate_limit_headers: Option<HeadersForm>,
    /// Serve `/oauth/token` (client credentials) for this client id; with --client-secret.
    #[arg(long, requires = "client_secret")]
    client_id: Option<String>,
    /// The secret of --client-id.
    #[arg(long, env = "USERBATCH_MOCK_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// Lifetime of the tokens /oauth/token issues, in seconds.
    #[arg(long, default_value_t = 3600)]
    token_lifetime_s: u64,
}

/// `--retry-after`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RetryForm {
    Seconds,
    Fractional,
}

/// `--rate-limit-headers`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum HeadersForm {
    XRateLimit,
    Ietf,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut config = MockConfig::new()
        .seed(args.seed)
        .missing_ids(args.missing)
        .faults_all(Faults {
            latency: Duration::from_millis(args.latency_ms),
            server_errors: args.server_errors,
            throttle: args.throttle,
            ignore_filter: args.ignore_filter,
            mislabelled: args.mislabelled,
            refused: args.refused,
            throttle_status: args.throttle_status,
            ..Faults::default()
        })
        .forbid_tokens(args.forbidden_tokens)
        .echo_token(args.echo_token);
    if let Some(prefix) = args.redirect_to {
        config = config.redirect_to(prefix);
    }
    for (name, value) in args.path_values {
        config = config.path_values(name, [value]);
    }
    if args.unknown_fields || args.integer_ids || args.pretty || args.crlf {
        for vendor in Vendor::ALL {
            config = config.drift(
                vendor,
                Drift {
                    unknown_fields: args.unknown_fields,
                    integer_ids: args.integer_ids,
                    pretty: args.pretty,
                    crlf: args.crlf,
                    ..Drift::default()
                },
            );
        }
    }
    if !args.tokens.is_empty() {
        config = config.accept_tokens(args.tokens);
    }
    if let (Some(id), Some(secret)) = (args.client_id, args.client_secret) {
        config = config.oauth(OAuthClient::new(
            &id,
            &secret,
            Duration::from_secs(args.token_lifetime_s),
        ));
    }
    if let Some(rate) = args.rate_limit {
        let mut limit = RateLimit::new(
            f64::from(rate),
            args.rate_limit_burst.unwrap_or(rate).max(1),
        );
        limit.retry_after = match args.retry_after {
            RetryForm::Seconds => RetryAfter::Wait,
            RetryForm::Fractional => RetryAfter::WaitFractional,
        };
        limit.headers = args.rate_limit_headers.map(|form| match form {
            HeadersForm::XRateLimit => LimitHeaders::XRateLimit,
            HeadersForm::Ietf => LimitHeaders::Ietf,
        });
        for vendor in Vendor::ALL {
            config = config.rate_limit(vendor, limit);
        }
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let server = match MockServer::start_on(config, addr).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("userbatch-mock: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", server.base_url());
    stopped().await;
    server.stop().await;
    ExitCode::SUCCESS
}

/// `NAME=VALUE`.
fn name_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((n, v)) if !n.is_empty() && !v.is_empty() => Ok((n.to_owned(), v.to_owned())),
        _ => Err("expected NAME=VALUE".to_owned()),
    }
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
