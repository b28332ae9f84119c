//! `cargo run -p nexudus-only -- BASE_URL [N]`: fetches users 1..=N (default 1,000) from
//! BASE_URL (e.g. a `userbatch-mock`), the bearer token from `NEXUDUS_TOKEN`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(base_url) = args.next() else {
        eprintln!("usage: nexudus-only BASE_URL [N]  (token in NEXUDUS_TOKEN)");
        return ExitCode::from(2);
    };
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let token = std::env::var("NEXUDUS_TOKEN").unwrap_or_default();
    let client = match nexudus::Client::with_bearer(&base_url, token) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("nexudus-only: {e}");
            return ExitCode::from(2);
        }
    };
    let ids: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    match nexudus_only::fetch_users(&client, &ids).await {
        Ok(fetched) => {
            println!(
                "{} found, {} missing, {} undecodable, {} requests",
                fetched.found.len(),
                fetched.missing.len(),
                fetched.undecodable.len(),
                fetched.requests
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nexudus-only: {e}");
            ExitCode::FAILURE
        }
    }
}
