//! What a run tells: each id's [`Outcome`], the whole run's [`Report`], [`Progress`].

use std::sync::Arc;
use std::time::Duration;

use userbatch_core::RawRecord;

use serde::Serialize;

use crate::error::FetchError;

/// What happened to one id (or, for failures, to the ids of one request).
#[derive(Debug, PartialEq)]
pub enum Outcome<R> {
    /// The vendor returned this record for this id.
    Found(FoundRecord<R>),
    /// The vendor said it does not have the id, the documented way: left out of a success
    /// answer that could have carried it, or the documented not-found answer to a request
    /// for it alone. Never for any other answer.
    Missing(String),
    /// No answer could be had for these ids.
    Failed(FailedIds),
}

/// A record found for an id: decoded, and as the vendor sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundRecord<R> {
    /// The id as the input spelled it (its first spelling, for ids the vendor compares
    /// equal: `007` and `7`).
    pub id: String,
    /// The record, decoded into its generated type.
    pub record: R,
    /// The record exactly as the vendor sent it: fields the spec does not know, `null`s and
    /// key order included, secrets too ([`RawRecord::redacted`] replaces them). Its `Debug`
    /// shows only its size.
    pub raw: RawRecord,
}

/// Ids that failed together, with their error. Serializes as `{"ids": [...], "error":
/// "<the error's message>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedIds {
    /// The ids, in input order.
    pub ids: Vec<String>,
    /// Why.
    pub error: FetchError,
}

/// The account of a whole run: every unique requested id is in exactly one of `found`,
/// `missing`, `failed`; each list is in first-seen input order.
#[derive(Debug, Clone, PartialEq)]
pub struct Report<R> {
    /// Records found, with their ids.
    pub found: Vec<FoundRecord<R>>,
    /// Ids the vendor said it does not have ([`Outcome::Missing`]).
    pub missing: Vec<String>,
    /// Ids no answer could be had for.
    pub failed: Vec<FailedIds>,
    /// Unique ids requested.
    pub requested: usize,
    /// Input ids that repeated an earlier one (they cost nothing).
    pub duplicates: usize,
    /// Records the vendor sent whose id was not asked for in their request (ignored, and
    /// counted here: a vendor that does not apply the id filter shows up as a large number).
    pub unexpected: u64,
    /// HTTP requests sent, retries and pages included.
    pub requests: u64,
    /// Answers that throttled the run (the vendor's throttling statuses, 429, 503 with
    /// `Retry-After`). They cost time, not ids: see [`crate::engine::Batch::throttle_patience`].
    pub throttled: u64,
    /// How long the run paused for `Retry-After`, all told.
    pub throttle_wait: Duration,
    /// The pace requests started at when the run ended, in requests a second, if one was in
    /// effect (see [`Progress::rate`]): what the run learned of the vendor's rate limit.
    pub pace: Option<f64>,
    /// The error that made the run stop sending, if one did: an answer the run's requests
    /// got whatever their ids (refused credentials, a wrong tenant, a base URL a gateway
    /// does not route, a token without the role, a host that does not answer). Every id
    /// it left fails with it.
    pub run_error: Option<FetchError>,
}

/// An empty report: nothing requested.
impl<R> Default for Report<R> {
    fn default() -> Self {
        Self {
            found: Vec::new(),
            missing: Vec::new(),
            failed: Vec::new(),
            requested: 0,
            duplicates: 0,
            unexpected: 0,
            requests: 0,
            throttled: 0,
            throttle_wait: Duration::ZERO,
            pace: None,
            run_error: None,
        }
    }
}

impl<R> Report<R> {
    /// The records, in input order.
    pub fn records(&self) -> impl Iterator<Item = &R> {
        self.found.iter().map(|f| &f.record)
    }

    /// Whether every id was found or reported missing (none failed).
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }

    /// Number of failed ids.
    pub fn failed_count(&self) -> usize {
        self.failed.iter().map(|f| f.ids.len()).sum()
    }

    /// The account without the records: what `userbatch --report` writes.
    pub fn summary(&self) -> Summary {
        Summary {
            requested: self.requested,
            found: self.found.len(),
            missing: self.missing.clone(),
            failed: self.failed.clone(),
            unexpected: self.unexpected,
            requests: self.requests,
            throttled: self.throttled,
            throttle_wait: self.throttle_wait,
            pace: self.pace,
            run_error: self.run_error.clone(),
        }
    }
}

/// A report serializes as its [`Summary`]: the JSON `userbatch --report` writes, the found
/// records counted (each one's JSON is [`FoundRecord::raw`]).
///
/// ```
/// let report: userbatch::Report<()> = userbatch::Report::default();
/// let json = serde_json::to_value(&report).unwrap();
/// assert_eq!(json["found"], 0);
/// assert_eq!(json["failed"], serde_json::json!([]));
/// ```
impl<R> Serialize for Report<R> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.summary().serialize(serializer)
    }
}

/// The account of a run without its records ([`Report::summary`]): every unique requested
/// id is found (counted), missing or failed. Serializes to the JSON `userbatch --report`
/// writes (errors as their messages, the throttle wait in seconds as `throttle_wait_s`, the
/// pace as `pace_per_s` when there was one); a program that streams a run can fill one as
/// the command line does (`Summary::default()`, then its fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// Unique ids requested.
    pub requested: usize,
    /// Ids found.
    pub found: usize,
    /// Ids the vendor said it does not have.
    pub missing: Vec<String>,
    /// Ids no answer could be had for, with why.
    pub failed: Vec<FailedIds>,
    /// Records nobody asked for.
    pub unexpected: u64,
    /// HTTP requests sent.
    pub requests: u64,
    /// Throttled answers.
    pub throttled: u64,
    /// How long the run paused for `Retry-After`.
    #[serde(rename = "throttle_wait_s", serialize_with = "seconds")]
    pub throttle_wait: Duration,
    /// The pace requests started at when the run ended, in requests a second, if one was in
    /// effect.
    #[serde(rename = "pace_per_s", skip_serializing_if = "Option::is_none")]
    pub pace: Option<f64>,
    /// The error that made the run stop sending, if one did.
    pub run_error: Option<FetchError>,
}

fn seconds<S: serde::Serializer>(wait: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(wait.as_secs_f64())
}

/// Ids resolved so far, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Unique ids resolved (found, missing or failed).
    pub done: usize,
    /// Unique ids in the run.
    pub total: usize,
    /// Requests sent so far.
    pub requests: u64,
    /// Throttled answers so far (they are waited out, not counted as failures).
    pub throttled: u64,
    /// The pace requests start at, in requests a second, while one is in effect: after
    /// the vendor throttled or stated its limit in headers, or under
    /// [`crate::engine::Batch::max_rate`]. `None`: as fast as the concurrency allows.
    pub rate: Option<f64>,
}

pub(in crate::engine) type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

pub(in crate::engine) fn failed<R>(ids: Vec<String>, error: FetchError) -> Vec<Outcome<R>> {
    vec![Outcome::Failed(FailedIds { ids, error })]
}
/// Adds a failure for `id`, merged into the last outcome if that failed with the same error.
pub(in crate::engine) fn push_failed<R>(out: &mut Vec<Outcome<R>>, id: String, error: FetchError) {
    match out.last_mut() {
        Some(Outcome::Failed(last)) if last.error == error => last.ids.push(id),
        _ => out.push(Outcome::Failed(FailedIds {
            ids: vec![id],
            error,
        })),
    }
}
/// One id failed with `error`.
pub(in crate::engine) fn one_failed<R>(id: &str, error: &FetchError) -> Outcome<R> {
    Outcome::Failed(FailedIds {
        ids: vec![id.to_owned()],
        error: error.clone(),
    })
}
/// The outcomes with each failure of several ids as one failure per id, in order.
pub(in crate::engine) fn one_per_id<R>(outcomes: Vec<Outcome<R>>) -> Vec<Outcome<R>> {
    let mut out = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        match outcome {
            Outcome::Failed(failure) => {
                for id in failure.ids {
                    out.push(one_failed(&id, &failure.error));
                }
            }
            other => out.push(other),
        }
    }
    out
}
/// `b` after `a`, merging a failure at the seam with an equal one before it.
pub(in crate::engine) fn append<R>(a: &mut Vec<Outcome<R>>, b: Vec<Outcome<R>>) {
    let mut b = b.into_iter();
    if let Some(first) = b.next() {
        match (a.last_mut(), first) {
            (Some(Outcome::Failed(last)), Outcome::Failed(next)) if last.error == next.error => {
                last.ids.extend(next.ids);
            }
            (_, other) => a.push(other),
        }
    }
    a.extend(b);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn failure(ids: &[&str], kind: ErrorKind) -> Outcome<()> {
        Outcome::Failed(FailedIds {
            ids: ids.iter().map(|i| (*i).to_owned()).collect(),
            error: FetchError::new(kind),
        })
    }

    #[test]
    fn failures_merge_only_with_an_equal_neighbour() {
        let mut out: Vec<Outcome<()>> = Vec::new();
        push_failed(&mut out, "1".into(), FetchError::new(ErrorKind::Paging));
        push_failed(&mut out, "2".into(), FetchError::new(ErrorKind::Paging));
        push_failed(&mut out, "3".into(), FetchError::new(ErrorKind::Timeout));
        assert_eq!(
            out,
            [
                failure(&["1", "2"], ErrorKind::Paging),
                failure(&["3"], ErrorKind::Timeout)
            ]
        );
        // At the seam of two halves of a split request.
        append(
            &mut out,
            vec![
                failure(&["4"], ErrorKind::Timeout),
                Outcome::Missing("5".into()),
                failure(&["6"], ErrorKind::Timeout),
            ],
        );
        assert_eq!(
            out,
            [
                failure(&["1", "2"], ErrorKind::Paging),
                failure(&["3", "4"], ErrorKind::Timeout),
                Outcome::Missing("5".into()),
                failure(&["6"], ErrorKind::Timeout),
            ]
        );
        append(
            &mut out,
            vec![Outcome::Found(FoundRecord {
                id: "7".into(),
                record: (),
                raw: RawRecord::from("{}"),
            })],
        );
        append(&mut out, Vec::new());
        assert_eq!(out.len(), 5);
    }
}
