//! The batch engine against the embedded mock, over real HTTP.

mod planning;
mod registry;
mod requests;
mod retries;
mod stopping;

use userbatch::{ErrorKind, Outcome};

/// Every id of `ids` appears exactly once across the outcomes.
pub(super) fn accounted_once<R>(outcomes: &[Outcome<R>], ids: &[String]) {
    let mut seen: Vec<&str> = Vec::new();
    for outcome in outcomes {
        match outcome {
            Outcome::Found(f) => seen.push(&f.id),
            Outcome::Missing(id) => seen.push(id),
            Outcome::Failed(f) => seen.extend(f.ids.iter().map(String::as_str)),
        }
    }
    let expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(seen, expected, "every id once, in input order");
}

/// Found, interrupted and other failed ids of a run's outcomes.
pub(super) fn tally<R>(outcomes: &[Outcome<R>]) -> (usize, usize, usize) {
    let (mut found, mut interrupted, mut failed) = (0, 0, 0);
    for outcome in outcomes {
        match outcome {
            Outcome::Found(_) => found += 1,
            Outcome::Missing(_) => {}
            Outcome::Failed(f) if f.error.kind == ErrorKind::Interrupted => {
                interrupted += f.ids.len();
            }
            Outcome::Failed(f) => failed += f.ids.len(),
        }
    }
    (found, interrupted, failed)
}
