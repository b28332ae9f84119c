//! Runs that end early or partly: dropped, stopped, aborted, past the deadline, a page cut short; slots and progress.
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use userbatch::{Batch, ErrorKind, Outcome, Retry, avepoint, nexudus, usermgr};
use userbatch_mock::{Fault, Faults, MockConfig, MockServer, Vendor};

use super::{accounted_once, tally};
use crate::support::{TOKEN, ids, mock};

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
    ) -> impl std::future::Future<Output = userbatch_core::SendResult> + Send {
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
    assert_eq!(report.failed_count(), 150);
    assert!(
        report
            .failed
            .iter()
            .all(|f| f.error.kind == ErrorKind::Deadline)
    );
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
