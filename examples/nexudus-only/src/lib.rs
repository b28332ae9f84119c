//! Fetching many Nexudus users with the `nexudus` crate alone: no facade, no engine.
//!
//! The crate's own parts are enough: [`nexudus::plan::Planner`] validates, dedupes and cuts
//! the ids to the vendor's 2,048-byte query limit; [`nexudus::types::GetUsersId::from_ids`]
//! writes one request's ids as the wire wants them; [`nexudus::receive`] and
//! [`nexudus::Received::records`] read the answer record by record; one error type,
//! [`nexudus::ClientError`], takes every failure with `?`. What this leaves out is
//! what the `userbatch` facade adds: concurrency, retries, throttling, isolating bad ids.
//!
//! ```no_run
//! # async fn run() -> Result<(), nexudus::ClientError> {
//! let client = nexudus::Client::with_bearer("http://127.0.0.1:8080", "token")?;
//! let ids: Vec<String> = (1..=1000).map(|i| i.to_string()).collect();
//! let fetched = nexudus_only::fetch_users(&client, &ids).await?;
//! println!("{} found in {} requests", fetched.found.len(), fetched.requests);
//! # Ok(()) }
//! ```

use nexudus::plan::Planner;
use nexudus::{Client, rules, types};

/// What [`fetch_users`] got.
#[derive(Debug, Default)]
pub struct Fetched {
    /// The summaries found, in the order the vendor sent them.
    pub found: Vec<types::UserSummary>,
    /// Ids asked for that no record came back for.
    pub missing: Vec<String>,
    /// Records that came back but did not decode: (id, why).
    pub undecodable: Vec<(String, String)>,
    /// Requests sent.
    pub requests: usize,
}

/// Fetches the User summaries of `ids`, one request per chunk of the plan, one at a time.
pub async fn fetch_users(client: &Client, ids: &[String]) -> Result<Fetched, nexudus::ClientError> {
    let op = &rules::GET_USERS;
    let plan = Planner::new(op).plan(ids)?;
    let mut out = Fetched::default();
    for chunk in &plan.chunks {
        let asked: Vec<&str> = plan
            .ids
            .iter()
            .skip(chunk.start)
            .take(chunk.len())
            .collect();
        let query = types::GetUsersId::from_ids(&asked)?;
        let answer = nexudus::receive(client.get_users(&query).await, 64 << 20)
            .await?
            .error_for_status()?;
        out.requests += 1;
        let mut seen = std::collections::HashSet::new();
        for record in answer.records::<types::UserSummary>(&op.records, op.ids.kind)? {
            let Ok(id) = record.id else { continue };
            if !asked.contains(&id.as_str()) {
                continue; // not asked for: a vendor that ignored the filter
            }
            seen.insert(id.clone());
            match record.value {
                Ok(user) => out.found.push(user),
                Err(e) => out.undecodable.push((id, e.to_string())),
            }
        }
        out.missing.extend(
            asked
                .iter()
                .filter(|id| !seen.contains(**id))
                .map(|id| id.to_string()),
        );
    }
    Ok(out)
}
