//! The batch engine against the embedded mock, over real HTTP.

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use userbatch::{Batch, ErrorKind, Outcome, Retry, avepoint, nexudus, usermgr};
use userbatch_mock::{Fault, Faults, MockConfig, MockServer, RetryAfter, UnknownIdAnswer, Vendor};

use crate::support::{TOKEN, ids, mock, quick_retry};

/// Fast retries for tests.
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

#[tokio::test]
async fn throttling_and_every_5xx_are_retried() {
    for fault in [
        Fault::Throttle,
        Fault::ServerError(500),
        Fault::ServerError(502),
        Fault::ServerError(503),
        Fault::ServerError(504),
        Fault::ServerError(408),
        Fault::Disconnect,
        Fault::Truncate,
        Fault::Html(502),
    ] {
        let faults = Faults {
            script: vec![Some(fault), Some(fault)],
            retry_after: RetryAfter::Seconds(0),
            ..Faults::default()
        };
        let m = mock(MockConfig::new().faults_all(faults)).await;
        let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
        let report = Batch::new(usermgr::GetUsersByIds::new(client))
            .retry(quick_retry())
            .fetch(ids(10))
            .await
            .unwrap();
        assert_eq!(report.found.len(), 10, "{fault:?} was not recovered");
        assert_eq!(report.requests, 3, "{fault:?}: two failures, then success");
    }
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured_too() {
    let faults = Faults {
        script: vec![Some(Fault::Throttle)],
        retry_after: RetryAfter::HttpDate(Duration::from_secs(2)),
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults(Vendor::Avepoint, faults)).await;
    let client = avepoint::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let started = std::time::Instant::now();
    let report = Batch::new(avepoint::RetrieveMultipleUsers::new(client, "c", "t"))
        .retry(quick_retry())
        .fetch(ids(3))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 3);
    // An HTTP date has one-second resolution: at least one second of the two remains.
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_retry_after_beyond_the_throttle_patience_fails_instead_of_waiting() {
    let faults = Faults {
        throttle: 1.0,
        retry_after: RetryAfter::Seconds(3600),
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults(Vendor::Usermgr, faults)).await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .fetch(ids(3))
        .await
        .unwrap();
    assert_eq!(report.failed.len(), 1);
    let error = &report.failed[0].error;
    assert_eq!(
        (error.kind, error.status, error.retry_after),
        (
            ErrorKind::Throttled,
            Some(429),
            Some(Duration::from_secs(3600))
        )
    );
    assert!(error.to_string().contains("asked to wait 3600s"), "{error}");
    assert_eq!(report.requests, 1);
}

#[tokio::test]
async fn timeouts_are_retried() {
    let faults = Faults {
        script: vec![Some(Fault::Hang)],
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults(Vendor::Nexudus, faults)).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(nexudus::GetCoworkers::new(client))
        .retry(quick_retry())
        .request_timeout(Duration::from_millis(300))
        .fetch(ids(5))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 5);
    assert_eq!(report.requests, 2);
}

#[tokio::test]
async fn errors_that_do_not_heal_fail_the_ids_with_their_error() {
    let faults = Faults {
        server_errors: 1.0,
        server_error_statuses: vec![503],
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults(Vendor::Usermgr, faults)).await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .retry(Retry {
            max_attempts: 3,
            ..quick_retry()
        })
        .fetch(ids(80))
        .await
        .unwrap();
    assert!(report.found.is_empty() && report.missing.is_empty());
    assert_eq!(report.failed_ids(), 80);
    let e = &report.failed[0].error;
    assert_eq!(
        (e.kind, e.status, e.attempts),
        (ErrorKind::Status, Some(503), 3)
    );
    // The vendor's own message (the spec's `error-message` field), quoted.
    assert_eq!(
        e.to_string(),
        "the vendor answered HTTP 503: \"An error has occurred.\" (after 3 attempts)"
    );
    assert_eq!(report.requests, 6, "two requests, three attempts each");
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_stream_stops_its_requests() {
    let latency = Duration::from_millis(200);
    let m = mock(MockConfig::new().faults(Vendor::Nexudus, Faults::latency(latency))).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    // One id per request, four in flight, eight requests' tasks ahead.
    let mut stream = Batch::new(nexudus::GetCoworkers::new(client))
        .concurrency(4)
        .max_batch(1)
        .stream(ids(40))
        .unwrap();
    // The first poll starts eight tasks: four send, four wait for a slot. Nothing is
    // back before the latency.
    let first = tokio::time::timeout(latency / 4, stream.next()).await;
    assert!(first.is_err(), "no answer before the latency");
    drop(stream);
    // Long enough for the four in flight to be answered and, had the waiting tasks been
    // left running, for four more to be sent and answered too.
    tokio::time::sleep(latency * 3).await;
    let answered = m.stats().total_requests();
    assert!(
        answered <= 4,
        "only the four sent before the drop reached the mock: {answered}"
    );
}

/// Nexudus coworkers, except that the first request's decoding does not end until the mock
/// has answered a second request.
struct SlowFirstDecode {
    inner: nexudus::GetCoworkers,
    mock: Arc<MockServer>,
    first_done: std::sync::atomic::AtomicBool,
}

impl userbatch::Operation for SlowFirstDecode {
    type Record = nexudus::types::CoworkerSummary;

    fn rules(&self) -> &'static userbatch::rules::OperationRules {
        self.inner.rules()
    }

    fn vendor(&self) -> &'static userbatch::rules::VendorRules {
        self.inner.vendor()
    }

    fn send(
        &self,
        ids: &[String],
        page: Option<userbatch::PageRequest>,
    ) -> impl std::future::Future<Output = userbatch_core::RawResult> + Send {
        self.inner.send(ids, page)
    }

    /// The first record's decoding blocks its worker thread until the mock has answered a
    /// second request.
    fn decode(&self, record: &str) -> Result<Self::Record, userbatch::RecordError> {
        if !self.first_done.swap(true, Ordering::SeqCst) {
            let give_up = std::time::Instant::now() + Duration::from_secs(5);
            while self.mock.stats().total_requests() < 2 {
                assert!(
                    std::time::Instant::now() < give_up,
                    "the second request did not go out while the first was being decoded"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        self.inner.decode(record)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slot_is_free_once_the_body_has_arrived() {
    let m = Arc::new(mock(MockConfig::new()).await);
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let op = SlowFirstDecode {
        inner: nexudus::GetCoworkers::new(client),
        mock: Arc::clone(&m),
        first_done: std::sync::atomic::AtomicBool::new(false),
    };
    // One request in flight at a time, two requests: the second can only be answered
    // while the first is still "decoding" if the first gave its slot back on arrival.
    let report = Batch::new(op)
        .concurrency(1)
        .max_batch(1)
        .fetch(ids(2))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 2);
    assert_eq!(m.stats().total_requests(), 2);
}

#[tokio::test]
async fn progress_reaches_the_total_and_concurrency_is_bounded() {
    let m =
        mock(MockConfig::new().faults(Vendor::Usermgr, Faults::latency(Duration::from_millis(30))))
            .await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let last = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&last);
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .concurrency(3)
        .on_progress(move |p| {
            assert!(p.done <= p.total);
            seen.fetch_max(p.done, Ordering::Relaxed);
        })
        .fetch(ids(75 * 9))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 675);
    assert_eq!(last.load(Ordering::Relaxed), 675);
    // Nine requests of 30 ms each, three at a time: never more than three at once at the
    // mock, and more than one (the bound is used).
    let max = m.stats().max_in_flight;
    assert!(
        (2..=3).contains(&max),
        "{max} requests were in flight at once"
    );
}

#[tokio::test]
async fn the_deadline_fails_what_it_cuts_off() {
    let m = mock(
        MockConfig::new().faults(Vendor::Usermgr, Faults::latency(Duration::from_millis(400))),
    )
    .await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .concurrency(1)
        .deadline(Duration::from_millis(600))
        .fetch(ids(75 * 3))
        .await
        .unwrap();
    assert_eq!(
        report.found.len(),
        75,
        "the first request fits the deadline"
    );
    assert_eq!(report.failed_ids(), 150);
    assert!(
        report
            .failed
            .iter()
            .all(|f| f.error.kind == ErrorKind::Deadline)
    );
}

/// Every id of `ids` appears exactly once across the outcomes.
fn accounted_once<R>(outcomes: &[Outcome<R>], ids: &[String]) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_run_finishes_what_is_in_flight_and_fails_the_rest_as_interrupted() {
    // Ten requests of 75 ids, two at a time, 300 ms each: stopped once the first records
    // are out, the two requests sent then are answered, and nothing more is sent.
    let m = mock(
        MockConfig::new().faults(Vendor::Usermgr, Faults::latency(Duration::from_millis(300))),
    )
    .await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let list = ids(750);
    let mut stream = Batch::new(usermgr::GetUsersByIds::new(client))
        .concurrency(2)
        .stream(&list)
        .unwrap();
    let stopper = stream.stopper();
    let mut outcomes = Vec::new();
    while let Some(outcome) = stream.next().await {
        if outcomes.is_empty() {
            // Requests 1 and 2 were sent together and are answered about together; 3 and
            // 4 went out as their slots came back, and are in flight.
            stopper.stop();
        }
        outcomes.push(outcome);
    }
    accounted_once(&outcomes, &list);
    let found: usize = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Found(_)))
        .count();
    let interrupted: usize = outcomes
        .iter()
        .map(|o| match o {
            Outcome::Failed(f) if f.error.kind == ErrorKind::Interrupted => f.ids.len(),
            _ => 0,
        })
        .sum();
    let requests = stream.requests();
    assert!((2..=4).contains(&requests), "{requests} requests sent");
    assert_eq!(found, 75 * requests as usize, "what was in flight arrives");
    assert_eq!(
        found + interrupted,
        750,
        "the rest is interrupted, not lost"
    );
    assert_eq!(m.stats().total_requests(), requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_run_does_not_wait_for_the_requests_in_flight() {
    // Answers take a minute: aborting gives up on them, and every id fails as interrupted.
    let m =
        mock(MockConfig::new().faults(Vendor::Usermgr, Faults::latency(Duration::from_secs(60))))
            .await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let list = ids(300);
    let mut stream = Batch::new(usermgr::GetUsersByIds::new(client))
        .concurrency(2)
        .stream(&list)
        .unwrap();
    let stopper = stream.stopper();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        stopper.abort();
    });
    let drained = tokio::time::timeout(Duration::from_secs(30), async {
        let mut outcomes = Vec::new();
        while let Some(outcome) = stream.next().await {
            outcomes.push(outcome);
        }
        outcomes
    })
    .await
    .expect("the stream ends without waiting for the answers");
    accounted_once(&drained, &list);
    assert!(drained.iter().all(|o| matches!(
        o,
        Outcome::Failed(f) if f.error.kind == ErrorKind::Interrupted
    )));
    assert_eq!(
        stream.requests(),
        2,
        "two were in flight; no more were sent"
    );
}

/// Found, interrupted and other failed ids of a run's outcomes.
fn tally<R>(outcomes: &[Outcome<R>]) -> (usize, usize, usize) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_between_the_pages_of_a_request_keeps_the_pages_received() {
    // One request of ten ids in five pages of two, one page at a time, 300 ms each: stopped
    // once page 1 is answered, the pages answered keep their records.
    let m = mock(MockConfig::new().faults(
        Vendor::Avepoint,
        Faults::latency(Duration::from_millis(300)),
    ))
    .await;
    let client = avepoint::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let list = ids(10);
    let mut stream = Batch::new(
        avepoint::RetrieveMultipleUsers::new(client, "c", "t")
            .page_size(NonZeroU32::new(2).unwrap()),
    )
    .max_batch(10)
    .concurrency(1)
    .stream(&list)
    .unwrap();
    let stopper = stream.stopper();
    let stats = Arc::new(m);
    let watched = Arc::clone(&stats);
    tokio::spawn(async move {
        while watched.stats().total_requests() < 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stopper.stop();
    });
    let mut outcomes = Vec::new();
    while let Some(outcome) = stream.next().await {
        outcomes.push(outcome);
    }
    accounted_once(&outcomes, &list);
    // The mock counts a request when it answers it; page 2 goes out as page 1's slot
    // comes back, so it is normally in flight at the stop (1 request if the stop won).
    let requests = stats.stats().total_requests() as usize;
    assert!((1..=2).contains(&requests), "{requests} pages sent");
    assert_eq!(
        tally(&outcomes),
        (2 * requests, 10 - 2 * requests, 0),
        "found, interrupted, failed"
    );
}

#[tokio::test]
async fn a_page_that_fails_costs_only_the_ids_not_on_the_pages_received() {
    // Six ids in three pages; the second page to arrive gets a 500 (no retries).
    let m = mock(MockConfig::new().faults(
        Vendor::Avepoint,
        Faults {
            script: vec![None, Some(Fault::ServerError(500))],
            ..Faults::default()
        },
    ))
    .await;
    let client = avepoint::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let list = ids(6);
    let report = Batch::new(
        avepoint::RetrieveMultipleUsers::new(client, "c", "t")
            .page_size(NonZeroU32::new(2).unwrap()),
    )
    .max_batch(6)
    .concurrency(1)
    .retry(Retry::none())
    .fetch(&list)
    .await
    .unwrap();
    assert_eq!(report.requests, 3);
    assert_eq!(report.found.len(), 4, "{:?}", report.failed);
    assert!(report.missing.is_empty());
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].ids.len(), 2);
    assert_eq!(report.failed[0].error.status, Some(500));
}

/// Every batch operation of the registry (a spec added to `specs/` is in it too), built
/// from text options as a command line builds it, against the mock: every id found but the
/// one the vendor lacks, which is missing, in the fewest requests its rules allow.
#[tokio::test]
async fn every_operation_of_the_registry_fetches_and_says_what_is_missing() {
    use userbatch::rules::{IdEncoding, IdKind};
    let mut checked = 0;
    for vendor in userbatch::registry::vendors() {
        for resource in vendor.resources {
            for entry in resource.operations {
                let rules = entry.rules;
                let single = rules.ids.encoding == IdEncoding::Single;
                let n = if single { 3 } else { 150 };
                let list: Vec<String> = (1..=n)
                    .map(|i| match rules.ids.kind {
                        IdKind::Integer => (1000 + i).to_string(),
                        IdKind::String => format!("u{i}"),
                    })
                    .collect();
                let gone = list[1].clone();
                let m = mock(
                    MockConfig::new()
                        .missing_ids([gone.as_str()])
                        .log_requests(false),
                )
                .await;
                let config = userbatch::ClientConfig::new(m.base_url())
                    .credentials(userbatch::Credentials::bearer(TOKEN));
                let op = entry.build_for_mock(config).unwrap();
                let what = format!("{} {} {}", vendor.name, resource.name, rules.operation_id);
                let report = Batch::new(op.strict(true)).fetch(&list).await.unwrap();
                assert_eq!(report.found.len(), n - 1, "{what}: {:?}", report.failed);
                assert_eq!(report.missing, [gone], "{what}");
                assert!(report.failed.is_empty(), "{what}");
                let found: Vec<&str> = report.found.iter().map(|f| f.id.as_str()).collect();
                let expected: Vec<&str> = list
                    .iter()
                    .filter(|i| **i != list[1])
                    .map(String::as_str)
                    .collect();
                assert_eq!(found, expected, "{what}: input order");
                // The fewest requests: one per id, or as the planner cuts them (a paged
                // operation's requests carry at most a page).
                let minimum = if single {
                    n as u64
                } else {
                    let mut planner = userbatch::Planner::new(rules);
                    if let Some(p) = &rules.paging {
                        planner = planner.max_batch(p.default_size as usize).unwrap();
                    }
                    planner.plan(&list).unwrap().chunks.len() as u64
                };
                // Unknown ids that fail a whole request cost a split to isolate: not here,
                // where the mock omits them unless the rules say a request fails.
                if !matches!(
                    rules.unknown_ids,
                    userbatch::rules::UnknownIds::FailsRequest(_)
                ) || single
                {
                    assert_eq!(report.requests, minimum, "{what}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 6, "{checked} operations");
}

/// The batch operation of each resource of the registry, built from text options with
/// the required ones given (the first value the spec lists, else any word: the mock takes
/// any), with `n` ids of its type.
fn registry_operations(
    base_url: &str,
) -> Vec<(
    &'static userbatch::registry::Vendor,
    &'static userbatch::registry::OperationEntry,
    userbatch::registry::AnyOperation,
)> {
    let mut out = Vec::new();
    for vendor in userbatch::registry::vendors() {
        for resource in vendor.resources {
            for entry in resource.operations {
                let config = userbatch::ClientConfig::new(base_url)
                    .credentials(userbatch::Credentials::bearer(TOKEN));
                out.push((vendor, entry, entry.build_for_mock(config).unwrap()));
            }
        }
    }
    out
}

/// `n` ids of the operation's type.
fn ids_for(entry: &userbatch::registry::OperationEntry, n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| match entry.rules.ids.kind {
            userbatch::rules::IdKind::Integer => (1000 + i).to_string(),
            userbatch::rules::IdKind::String => format!("u{i}"),
        })
        .collect()
}

/// The mock's name for a vendor of the registry.
fn mock_vendor(name: &str) -> Vendor {
    Vendor::ALL.into_iter().find(|v| v.name() == name).unwrap()
}

#[tokio::test]
async fn every_vendor_throttles_with_its_own_status_and_retry_after_is_honoured() {
    let mut seen = BTreeSet::new();
    for vendor in userbatch::registry::vendors() {
        let faults = Faults {
            script: vec![Some(Fault::Throttle)],
            retry_after: RetryAfter::Seconds(1),
            ..Faults::default()
        };
        let m = mock(MockConfig::new().faults(mock_vendor(vendor.name), faults)).await;
        let (_, entry, op) = registry_operations(m.base_url())
            .into_iter()
            .find(|(v, e, _)| {
                v.name == vendor.name
                    && e.rules.ids.encoding != userbatch::rules::IdEncoding::Single
            })
            .unwrap();
        let started = std::time::Instant::now();
        let report = Batch::new(op)
            .retry(quick_retry())
            .fetch(ids_for(entry, 3))
            .await
            .unwrap();
        assert_eq!(report.found.len(), 3, "{}", vendor.name);
        assert_eq!(
            m.log()[0].status,
            vendor.rules.throttle_statuses[0],
            "{}",
            vendor.name
        );
        // Backoff alone would wait at most 5 ms; Retry-After said one second.
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{}: Retry-After was not honoured",
            vendor.name
        );
        seen.insert(vendor.rules.throttle_statuses[0]);
        m.stop().await;
    }
    assert!(seen.len() >= 2, "statuses of their own: {seen:?}");
}

#[tokio::test]
async fn an_unknown_id_that_fails_its_whole_request_costs_only_itself() {
    use userbatch::rules::{IdEncoding, UnknownIds};
    let mut checked = 0;
    for (vendor, entry, _) in registry_operations("http://127.0.0.1:9") {
        let rules = entry.rules;
        let can_fail = !matches!(rules.unknown_ids, UnknownIds::Omitted);
        if !can_fail || rules.ids.encoding == IdEncoding::Single {
            continue;
        }
        let n = rules.limits.max_ids.unwrap_or(75).min(75);
        let list = ids_for(entry, n);
        let gone = list[n / 2].clone();
        let config = MockConfig::new()
            .missing_ids([gone.clone()])
            .unknown_ids(UnknownIdAnswer::FailRequest);
        let m = mock(config).await;
        let (_, _, op) = registry_operations(m.base_url())
            .into_iter()
            .find(|(_, e, _)| e.rules.operation_id == rules.operation_id)
            .unwrap();
        let report = Batch::new(op).fetch(&list).await.unwrap();
        let what = format!("{} {}", vendor.name, rules.operation_id);
        assert_eq!(report.found.len(), n - 1, "{what}");
        assert_eq!(report.missing, [gone], "{what}");
        assert!(report.failed.is_empty(), "{what}");
        // 1 request, then halves down to the bad id: 2 per level.
        let levels = (n as f64).log2().ceil() as u64;
        assert!(
            report.requests <= 1 + 2 * levels,
            "{what}: {} requests",
            report.requests
        );
        assert!(report.requests >= 3, "{what}");
        checked += 1;
        m.stop().await;
    }
    assert!(checked >= 1);
}

#[tokio::test]
async fn paged_operations_return_every_record_even_from_a_server_that_caps_the_page() {
    let mut checked = 0;
    for (vendor, entry, _) in registry_operations("http://127.0.0.1:9") {
        let Some(paging) = &entry.rules.paging else {
            continue;
        };
        let page = paging.default_size as usize;
        let most = entry.rules.limits.max_ids.unwrap_or(usize::MAX);
        let what = format!("{} {}", vendor.name, entry.rules.operation_id);
        // 2.5 pages of ids in one request: the first page's total says 2 more follow. Then
        // a server that serves 30 per page, whatever is asked: the engine reads the real
        // size off the short first page and fetches the rest.
        let cap = (page / 3).max(1);
        for (n, cap) in [
            ((page * 5 / 2).min(most), None),
            (page.min(most), Some(cap as u64)),
        ] {
            let list = ids_for(entry, n);
            let gone = list[n / 3].clone();
            let mut config = MockConfig::new().missing_ids([gone.clone()]);
            if let Some(cap) = cap {
                config = config.max_page_size(cap);
            }
            let m = mock(config).await;
            let (_, _, op) = registry_operations(m.base_url())
                .into_iter()
                .find(|(_, e, _)| e.rules.operation_id == entry.rules.operation_id)
                .unwrap();
            let report = Batch::new(op).max_batch(n).fetch(&list).await.unwrap();
            assert_eq!(report.found.len(), n - 1, "{what}");
            assert_eq!(report.missing, [gone], "{what}");
            assert!(report.failed.is_empty(), "{what}");
            let per_page = cap.map_or(page, |c| c as usize);
            assert_eq!(
                report.requests as usize,
                (n - 1).div_ceil(per_page),
                "{what}"
            );
            m.stop().await;
        }
        checked += 1;
    }
    assert!(checked >= 1);
}
