//! What is decided before the first request: single-id attributes, bad input, the stream's order.

use userbatch::{Batch, Outcome, Retry, usermgr};
use userbatch_mock::{Fault, Faults, MockConfig, Vendor};

use crate::support::{TOKEN, ids, mock, quick_retry};

#[tokio::test]
async fn single_id_attributes_mean_one_request_per_id_decided_up_front() {
    let m = mock(MockConfig::new()).await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let batch = Batch::new(
        usermgr::GetUsersByIds::new(client.clone())
            .attributes(["groups"])
            .unwrap(),
    );
    assert_eq!(batch.plan(ids(5)).unwrap().chunks.len(), 5);
    let report = batch.fetch(ids(5)).await.unwrap();
    assert_eq!((report.found.len(), report.requests), (5, 5));
    assert!(
        report.records().any(|u| u.groups.is_some()),
        "groups were asked for and sent"
    );
    // Other attributes keep the batch.
    let batch = Batch::new(
        usermgr::GetUsersByIds::new(client.clone())
            .attributes(["created", "custom.costCenter"])
            .unwrap(),
    );
    let report = batch.fetch(ids(5)).await.unwrap();
    assert_eq!(report.requests, 1);
    assert!(
        report.records().any(|u| u.created.is_some()),
        "created was asked for and sent"
    );
    assert!(
        report.records().all(|u| u.title.is_none()),
        "title was not asked for"
    );
    // Unknown attributes are refused before any request.
    let err = usermgr::GetUsersByIds::new(client.clone())
        .attributes(["nonsense"])
        .unwrap_err();
    assert_eq!(err.name, "nonsense");
    // The error lists the valid names.
    assert!(
        err.to_string()
            .starts_with("unknown $attribute value \"nonsense\"; valid: title, "),
        "{err}"
    );
    assert!(err.to_string().ends_with("all or custom.<name>"), "{err}");
    let err = usermgr::GetUsersByIds::new(client)
        .attributes([""])
        .unwrap_err();
    assert_eq!(err.name, "", "an empty name is refused");
    assert_eq!(m.stats().total_requests(), 6);
}

#[tokio::test]
async fn bad_input_is_refused_before_any_request() {
    let m = mock(MockConfig::new()).await;
    let um = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let batch = Batch::new(usermgr::GetUsersByIds::new(um));
    for (input, needle) in [
        (
            vec!["a", "b,c"],
            "\"b,c\" (input position 1): it contains ','",
        ),
        (vec!["a/b"], "contains '/'"),
        (vec!["ok", ""], "\"\" (input position 1): it is empty"),
    ] {
        let err = batch.fetch(&input).await.unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
    assert!(matches!(
        batch.fetch(Vec::<String>::new()).await,
        Err(userbatch::PlanError::NoIds)
    ));
    assert!(batch.clone().max_batch(76).fetch(["a"]).await.is_err());
    assert_eq!(m.stats().total_requests(), 0, "nothing was sent");
}

#[tokio::test]
async fn the_stream_yields_outcomes_in_input_order() {
    use futures_util::StreamExt;
    let faults = Faults {
        // Request 2 (ids 76..=150) fails for good.
        script: vec![
            None,
            Some(Fault::ServerError(500)),
            Some(Fault::ServerError(500)),
        ],
        ..Faults::default()
    };
    let m = mock(
        MockConfig::new()
            .missing_ids(["3"])
            .faults(Vendor::Usermgr, faults),
    )
    .await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let stream = Batch::new(usermgr::GetUsersByIds::new(client))
        .concurrency(1)
        .retry(Retry {
            max_attempts: 2,
            ..quick_retry()
        })
        .stream(ids(200))
        .unwrap();
    let outcomes: Vec<Outcome<usermgr::types::User>> = stream.collect().await;
    let mut next = 1;
    for o in &outcomes {
        match o {
            Outcome::Found(found) => {
                assert_eq!(found.id, next.to_string());
                assert_eq!(found.record.id.to_string(), found.id);
                next += 1;
            }
            Outcome::Missing(id) => {
                assert_eq!(id, "3");
                next += 1;
            }
            Outcome::Failed(failure) => {
                assert_eq!(failure.ids.first().unwrap(), &next.to_string());
                assert_eq!(failure.ids.len(), 75);
                assert_eq!(failure.error.status, Some(500));
                next += failure.ids.len();
            }
        }
    }
    assert_eq!(next, 201, "every id exactly once");
}
