//! Unit tests of `plan`.

use super::*;
use crate::rules::{Ids, Limits, Records, UnknownIds};
use std::borrow::Cow;

const fn op(
    location: IdLocation,
    encoding: IdEncoding,
    kind: IdKind,
    forbidden: &'static str,
    limits: Limits,
) -> OperationRules {
    OperationRules {
        operation_id: Cow::Borrowed("op"),
        resource: Cow::Borrowed("users"),
        ids: Ids {
            location,
            name: Cow::Borrowed("id"),
            encoding,
            kind,
            forbidden_chars: Cow::Borrowed(forbidden),
            case_insensitive: false,
        },
        limits,
        records: Records::list("", "id"),
        paging: None,
        partial: None,
        unknown_ids: UnknownIds::Omitted,
        attributes: None,
        update_operation: None,
        skip_parameters: Cow::Borrowed(&[]),
        answers: crate::rules::Answers::json(),
    }
}

static QUERY: OperationRules = op(
    IdLocation::Query,
    IdEncoding::BracketedCsv,
    IdKind::Integer,
    "",
    Limits {
        max_ids: None,
        max_query_bytes: Some(2048),
        max_segment_chars: None,
    },
);
static PATH: OperationRules = op(
    IdLocation::Path,
    IdEncoding::Csv,
    IdKind::String,
    ",/",
    Limits {
        max_ids: Some(75),
        max_query_bytes: None,
        max_segment_chars: Some(20_000),
    },
);

fn query_len(ids: &[String]) -> usize {
    // What reqwest sends: id=<form-urlencoded [a,b,c]>.
    let value = join_ids(IdEncoding::BracketedCsv, ids);
    form_urlencoded::Serializer::new(String::new())
        .append_pair("id", &value)
        .finish()
        .len()
}

#[test]
fn query_sizes_match_what_is_sent() {
    let shape = Planner::new(&QUERY);
    let ids: Vec<String> = (1..=300).map(|i| i.to_string()).collect();
    assert_eq!(shape.size_of(&ids).unwrap(), query_len(&ids));
    assert_eq!(query_len(&["1".to_owned()]), "id=%5B1%5D".len());
}

#[test]
fn chunks_fill_the_query_to_2048_bytes_and_no_further() {
    let shape = Planner::new(&QUERY);
    let ids: Vec<String> = (1..=10_000).map(|i| i.to_string()).collect();
    let chunks = shape.chunk(&ids.iter().collect());
    for (i, c) in chunks.iter().enumerate() {
        let len = query_len(&ids[c.clone()]);
        assert!(len <= 2048, "chunk {i} is {len} bytes");
        if let Some(next) = ids.get(c.end) {
            let mut grown = ids[c.clone()].to_vec();
            grown.push(next.clone());
            assert!(
                query_len(&grown) > 2048,
                "chunk {i} could have taken one more id"
            );
        }
    }
    // The lower bound: total bytes over capacity.
    let per_id: usize = ids.iter().map(|i| i.len() + 3).sum();
    let capacity = 2048 - "id=%5B%5D".len() + 3;
    assert_eq!(
        chunks.len(),
        per_id.div_ceil(capacity),
        "the minimum number of requests"
    );
}

#[test]
fn path_chunks_respect_75_ids_and_20000_characters() {
    let shape = Planner::new(&PATH);
    let ids: Vec<String> = (0..76).map(|i| i.to_string()).collect();
    assert_eq!(shape.chunk(&ids.iter().collect()), vec![0..75, 75..76]);
    // Long ids: the character limit binds first.
    let long: Vec<String> = (0..10)
        .map(|i| format!("{i}{}", "x".repeat(4999)))
        .collect();
    let chunks = shape.chunk(&long.iter().collect());
    assert_eq!(chunks, vec![0..3, 3..6, 6..9, 9..10]);
    assert!(shape.size_of(&long[0..3]).unwrap() <= 20_000);
    assert!(shape.size_of(&long[0..4]).unwrap() > 20_000);
    // A space is sent as %20: three characters, counted as such.
    assert_eq!(shape.size_of(&["a b".to_owned()]), Some(5));
}

#[test]
fn dedupe_keeps_first_occurrence_and_counts_duplicates() {
    let shape = Planner::new(&QUERY);
    let plan = shape.plan(["3", "1", "3", "007", "7", "2"]).unwrap();
    // `007` and `7` are one id; the first spelling is kept, and goes out as `7`.
    assert_eq!(plan.ids.iter().collect::<Vec<_>>(), ["3", "1", "007", "2"]);
    assert_eq!((plan.ids.len(), plan.ids.get(2)), (4, "007"));
    assert_eq!(plan.ids.to_vec(1..3), ["1", "007"]);
    assert_eq!(plan.duplicates, 2);
    assert_eq!(plan.chunks, vec![0..4]);
    assert_eq!(shape.join(plan.ids.iter()), "[3,1,7,2]");
    assert_eq!(shape.one_request(["0", "00", "010"]).unwrap(), "[0,10]");
    // In increasing order, a repeat next to its first is still found.
    assert_eq!(shape.plan(["1", "2", "2", "10"]).unwrap().duplicates, 1);
    assert_eq!(shape.plan(["1", "01", "2"]).unwrap().duplicates, 1);
    let path = Planner::new(&PATH);
    assert_eq!(path.plan(["a", "b", "b", "ab"]).unwrap().duplicates, 1);
    assert_eq!(path.plan(["9", "10", "11"]).unwrap().duplicates, 0);
}

proptest::proptest! {
    /// The sort-based dedupe against the obvious one (a set, first occurrence wins),
    /// on ids drawn from a small alphabet so that repeats are common, including
    /// characters of several bytes in UTF-8.
    #[test]
    fn dedupe_matches_a_set(ids in proptest::collection::vec("[ab\u{e9}\u{4e2d}]{1,3}", 1..200)) {
        let shape = Planner::new(&PATH);
        // As drawn, and in increasing order (shorter first), where the sort is skipped
        // unless an id repeats.
        let mut sorted = ids.clone();
        sorted.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        for ids in [ids, sorted] {
            let plan = shape.plan(&ids).unwrap();
            let mut seen = std::collections::HashSet::new();
            let expected: Vec<&str> =
                ids.iter().map(String::as_str).filter(|i| seen.insert(*i)).collect();
            proptest::prop_assert_eq!(plan.ids.iter().collect::<Vec<_>>(), expected.clone());
            proptest::prop_assert_eq!(plan.duplicates, ids.len() - expected.len());
        }
    }
}

#[test]
fn invalid_ids_are_named_before_anything_is_sent() {
    let q = Planner::new(&QUERY);
    assert_eq!(q.plan(Vec::<String>::new()), Err(PlanError::NoIds));
    let err = q.plan(["1", "x2", "3"]).unwrap_err();
    assert_eq!(
        err,
        PlanError::InvalidId {
            id: "x2".into(),
            index: 1,
            reason: InvalidId::NotAnInteger
        }
    );
    assert!(err.to_string().contains("\"x2\""), "{err}");
    assert!(matches!(
        q.plan(["1", ""]),
        Err(PlanError::InvalidId {
            index: 1,
            reason: InvalidId::Empty,
            ..
        })
    ));
    assert!(matches!(
        q.plan(["-1"]),
        Err(PlanError::InvalidId {
            reason: InvalidId::NotAnInteger,
            ..
        })
    ));
    assert!(matches!(
        q.plan(["99999999999999999999"]),
        Err(PlanError::InvalidId {
            reason: InvalidId::NotAnInteger,
            ..
        })
    ));

    let p = Planner::new(&PATH);
    for (bad, c) in [("a,b", ','), ("a/b", '/')] {
        assert_eq!(p.validate(bad), Err(InvalidId::ForbiddenChar(c)));
    }
    assert!(matches!(
        p.validate(&"x".repeat(20_001)),
        Err(InvalidId::TooLong { limit: 20_000, .. })
    ));
    assert_eq!(p.validate("a b").unwrap(), "a b");
}

#[test]
fn max_batch_may_only_lower_the_vendor_limit() {
    assert_eq!(Planner::new(&PATH).max_batch(10).unwrap().max_ids(), 10);
    assert!(matches!(
        Planner::new(&PATH).max_batch(76),
        Err(PlanError::MaxBatch {
            requested: 76,
            vendor_limit: Some(75)
        })
    ));
    assert!(matches!(
        Planner::new(&PATH).max_batch(0),
        Err(PlanError::MaxBatch { .. })
    ));
    assert_eq!(Planner::new(&PATH).single_id().max_ids(), 1);
    assert_eq!(
        Planner::new(&QUERY).max_ids(),
        DEFAULT_MAX_IDS_WITHOUT_VENDOR_LIMIT
    );
}
