//! "Missing" is the vendor's word: an id is missing only when the vendor said so the
//! documented way (left out of a success answer of an operation that leaves unknown ids
//! out, or a single-id request answered with the documented not-found answer). Every other
//! answer fails the ids, saying what came, and an answer every request gets stops the run
//! in a handful of requests.
//!
//! The mistakes users make (a wrong tenant, a base URL with a wrong path prefix, a token
//! without the role, a host that does not answer) against the embedded mock at 3 and 3,000
//! ids; a sloppy vendor (records nobody asked for, ids written differently, paging that does
//! not add up, duplicated ids, HTML labels) against a small server of each test's own.

mod mistakes;
mod proven;
mod sloppy;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use userbatch::{Batch, ErrorKind, Operation, Report, Verbatim, nexudus};
use userbatch_mock::MockServer;

use crate::support::{TOKEN, ids};

/// `op` over ids 1 to `n`, and the requests the mock saw for it.
pub(super) async fn counted<O: Operation>(
    m: &MockServer,
    op: O,
    n: usize,
) -> (Report<O::Record>, u64) {
    let before = m.stats().total_requests();
    let report = Batch::new(op).fetch(ids(n)).await.unwrap();
    (report, m.stats().total_requests() - before)
}

/// Every id failed, none found or missing; the run stopped sending with `check`'s error,
/// and every failure carries it; fewer than 20 requests, as the mock counted them (where
/// there is one).
pub(super) fn all_failed_by_one_cause<R>(
    report: &Report<R>,
    n: usize,
    mock_requests: Option<u64>,
    at: &str,
    check: impl Fn(&userbatch::FetchError),
) {
    assert!(
        report.missing.is_empty(),
        "{at}: {:?}",
        &report.missing[..report.missing.len().min(5)]
    );
    assert!(report.found.is_empty(), "{at}");
    assert_eq!(report.failed_count(), n, "{at}");
    assert!(!report.is_complete(), "{at}");
    assert!(report.requests < 20, "{at}: {} requests", report.requests);
    if let Some(counted) = mock_requests {
        assert_eq!(report.requests, counted, "{at}: the mock's count");
    }
    if n > 3 {
        let error = report
            .run_error
            .as_ref()
            .unwrap_or_else(|| panic!("{at}: no run error"));
        check(error);
    }
    for failure in &report.failed {
        check(&failure.error);
    }
}

/// What a sloppy vendor saw of one request.
pub(super) struct Seen {
    uri: Uri,
    body: Bytes,
}

impl Seen {
    /// The ids of a Nexudus list request (`?id=[1,2,3]`).
    fn nexudus_ids(&self) -> Vec<String> {
        let query = self.uri.query().unwrap_or("");
        let value = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "id")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        value
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(str::to_owned)
            .collect()
    }

    /// The ids of a User Manager request (the last path segment).
    fn usermgr_ids(&self) -> Vec<String> {
        let segment = self.uri.path().rsplit('/').next().unwrap_or("");
        segment.split(',').map(str::to_owned).collect()
    }

    /// The ids and the page of an AvePoint request.
    fn avepoint(&self) -> (Vec<String>, u64, u64) {
        let body: serde_json::Value = serde_json::from_slice(&self.body).unwrap();
        let ids = body["userIds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        let query = self.uri.query().unwrap_or("");
        let param = |name: &str| {
            form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.parse().ok())
        };
        (
            ids,
            param("pageIndex").unwrap_or(1),
            param("pageSize").unwrap_or(100),
        )
    }
}

type Answerer = dyn Fn(&Seen) -> (u16, &'static str, String) + Send + Sync;

/// A vendor server of the test's own on loopback: `answer` gives each request's status,
/// content type and body.
pub(super) struct Sloppy {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Sloppy {
    async fn start(
        answer: impl Fn(&Seen) -> (u16, &'static str, String) + Send + Sync + 'static,
    ) -> Self {
        let answer: Arc<Answerer> = Arc::new(answer);
        let requests = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&requests);
        let app = axum::Router::new().fallback(move |uri: Uri, body: Bytes| {
            let answer = Arc::clone(&answer);
            counter.fetch_add(1, Ordering::Relaxed);
            async move {
                let (status, content_type, body) = answer(&Seen { uri, body });
                let mut response: Response = body.into_response();
                *response.status_mut() = StatusCode::from_u16(status).unwrap();
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, content_type.parse().unwrap());
                response
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            requests,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for Sloppy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A Nexudus record with this id (as JSON text) and a marker field.
pub(super) fn record(id: &str, marker: &str) -> String {
    format!(r#"{{"Id":{id},"FullName":"{marker}"}}"#)
}

/// The report's ids, by place.
pub(super) fn places<R>(
    report: &Report<R>,
) -> (Vec<String>, Vec<String>, Vec<(String, ErrorKind)>) {
    let found = report.found.iter().map(|f| f.id.clone()).collect();
    let failed = report
        .failed
        .iter()
        .flat_map(|f| f.ids.iter().map(|id| (id.clone(), f.error.kind)))
        .collect();
    (found, report.missing.clone(), failed)
}

pub(super) async fn nexudus_users(url: &str, ids: &[&str]) -> Report<()> {
    let client = nexudus::Client::with_bearer(url, TOKEN).unwrap();
    Batch::new(Verbatim(nexudus::GetUsers::new(client)))
        .fetch(ids)
        .await
        .unwrap()
}

/// An AvePoint page of `ids` (as records), with this total.
pub(super) fn avepoint_page(ids: &[String], index: u64, size: u64, total: Option<usize>) -> String {
    let data: Vec<String> = ids.iter().map(|id| format!(r#"{{"id":"{id}"}}"#)).collect();
    let metadata = match total {
        Some(t) => {
            format!(r#","metadata":{{"pageIndex":{index},"pageSize":{size},"totalCount":{t}}}"#)
        }
        None => String::new(),
    };
    format!(r#"{{"data":[{}]{metadata}}}"#, data.join(","))
}
