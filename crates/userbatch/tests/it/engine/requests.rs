//! Requests: the fewest each vendor allows, duplicates free, outcomes in input order.

use userbatch::{Batch, avepoint, nexudus, usermgr};
use userbatch_mock::MockConfig;

use crate::support::{TOKEN, ids, mock};

/// Fewest Nexudus requests any split of `ids` can use: the query bytes they need over the
/// bytes one request can carry ("id=%5B" + ids joined by "%2C" + "%5D" <= 2,048).
fn nexudus_minimum(ids: &[String]) -> u64 {
    let per_id: usize = ids.iter().map(|i| i.len() + 3).sum();
    per_id.div_ceil(2048 - "id=%5B%5D".len() + 3) as u64
}

#[tokio::test]
async fn request_counts_are_the_minimum_for_each_vendor() {
    let m = mock(MockConfig::new().log_requests(false)).await;
    let nx = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let um = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let ap = avepoint::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    for n in [1usize, 75, 76, 10_000] {
        let list = ids(n);
        let r = Batch::new(nexudus::GetUsers::new(nx.clone()))
            .fetch(&list)
            .await
            .unwrap();
        assert_eq!(
            (r.found.len(), r.requests),
            (n, nexudus_minimum(&list)),
            "nexudus users, {n} ids"
        );
        let r = Batch::new(nexudus::GetCoworkers::new(nx.clone()))
            .fetch(&list)
            .await
            .unwrap();
        assert_eq!(
            (r.found.len(), r.requests),
            (n, nexudus_minimum(&list)),
            "nexudus coworkers, {n} ids"
        );
        let r = Batch::new(usermgr::GetUsersByIds::new(um.clone()))
            .fetch(&list)
            .await
            .unwrap();
        assert_eq!(
            (r.found.len(), r.requests),
            (n, n.div_ceil(75) as u64),
            "usermgr, {n} ids"
        );
        let r = Batch::new(avepoint::RetrieveMultipleUsers::new(ap.clone(), "c", "t"))
            .fetch(&list)
            .await
            .unwrap();
        assert_eq!(
            (r.found.len(), r.requests),
            (n, n.div_ceil(100) as u64),
            "avepoint, {n} ids"
        );
    }
    // 10,000 ids, for the record: 34, 34, 134 and 100 requests.
    assert_eq!(nexudus_minimum(&ids(10_000)), 34);
}

#[tokio::test]
async fn duplicates_cost_no_request_and_order_is_the_inputs() {
    let m = mock(MockConfig::new().missing_ids(["5", "17"])).await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    // 100 unique ids, shuffled, each given twice or three times.
    let mut input: Vec<String> = (1..=100).rev().map(|i| (i * 7 % 101).to_string()).collect();
    input.extend(input.clone());
    input.extend(input[..50].to_vec());
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .fetch(&input)
        .await
        .unwrap();
    assert_eq!(report.requested, 100);
    assert_eq!(report.duplicates, 150);
    assert_eq!(report.requests, 2, "100 unique ids, 75 per request");
    let unique: Vec<&String> = input[..100].iter().collect();
    let expected: Vec<&String> = unique
        .iter()
        .copied()
        .filter(|i| *i != "5" && *i != "17")
        .collect();
    let got: Vec<&String> = report.found.iter().map(|f| &f.id).collect();
    assert_eq!(got, expected, "first-seen input order");
    assert!(
        report.found.iter().all(|f| f.record.id.to_string() == f.id),
        "each record under its own id"
    );
    let mut missing = report.missing.clone();
    missing.sort();
    assert_eq!(missing, ["17", "5"]);
    assert!(report.is_complete());
}
