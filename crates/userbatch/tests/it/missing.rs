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

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use userbatch::{Batch, ErrorKind, Operation, Outcome, Raw, Report, avepoint, nexudus, usermgr};
use userbatch_mock::{Fault, Faults, MockConfig, MockServer};

use crate::support::{TOKEN, ids, mock, quick_retry};

/// `op` over ids 1 to `n`, and the requests the mock saw for it.
async fn counted<O: Operation>(m: &MockServer, op: O, n: usize) -> (Report<O::Record>, u64) {
    let before = m.stats().total_requests();
    let report = Batch::new(op).fetch(ids(n)).await.unwrap();
    (report, m.stats().total_requests() - before)
}

/// Every id failed, none found or missing; the run stopped sending with `check`'s error,
/// and every failure carries it; fewer than 20 requests, as the mock counted them (where
/// there is one).
fn all_failed_by_one_cause<R>(
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
    assert_eq!(report.failed_ids(), n, "{at}");
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

#[tokio::test]
async fn an_unknown_avepoint_tenant_fails_every_id_in_a_handful_of_requests() {
    for n in [3, 3_000] {
        let m = mock(
            MockConfig::new()
                .path_values("customerId", ["c"])
                .path_values("tenantId", ["t"]),
        )
        .await;
        let client = avepoint::Client::with_bearer(m.base_url(), TOKEN).unwrap();
        let report = Batch::new(avepoint::RetrieveMultipleUsers::new(client, "c", "gone"))
            .fetch(ids(n))
            .await
            .unwrap();
        all_failed_by_one_cause(
            &report,
            n,
            Some(m.stats().total_requests()),
            &format!("{n} ids"),
            |e| {
                assert_eq!((e.kind, e.status), (ErrorKind::Status, Some(404)), "{e}");
                assert_eq!(
                    e.detail.as_deref(),
                    Some("tenantId 'gone' was not found"),
                    "{e}"
                );
            },
        );
        m.stop().await;
    }
}

#[tokio::test]
async fn a_base_url_with_a_wrong_path_prefix_fails_every_id_for_every_operation() {
    for n in [3, 3_000] {
        let m = mock(MockConfig::new()).await;
        // A gateway in front of the vendor answers its HTML 404 page to every path it does
        // not route.
        let wrong = format!("{}/wrong-prefix", m.base_url());
        let html_404 = |e: &userbatch::FetchError| {
            assert_eq!((e.kind, e.status), (ErrorKind::Status, Some(404)), "{e}");
            assert_eq!(e.received, Some("an HTML page"), "{e}");
            assert_eq!(e.to_string(), "the vendor answered HTTP 404: an HTML page");
        };
        let nx = nexudus::Client::with_bearer(&wrong, TOKEN).unwrap();
        let (report, sent) = counted(&m, nexudus::GetUsers::new(nx.clone()), n).await;
        let at = format!("nexudus users, {n} ids");
        all_failed_by_one_cause(&report, n, Some(sent), &at, html_404);

        let (report, sent) = counted(&m, nexudus::GetUser::new(nx), n).await;
        let at = format!("nexudus users --full, {n} ids");
        all_failed_by_one_cause(&report, n, Some(sent), &at, html_404);

        let um = usermgr::Client::with_bearer(&wrong, TOKEN).unwrap();
        let (report, sent) = counted(&m, usermgr::GetUsersByIds::new(um), n).await;
        let at = format!("usermgr users, {n} ids");
        all_failed_by_one_cause(&report, n, Some(sent), &at, html_404);
        assert_eq!(
            m.stats().unrouted,
            m.stats().total_requests(),
            "every request was unrouted"
        );
        m.stop().await;
    }
}

#[tokio::test]
async fn a_token_without_the_role_fails_every_id_in_a_handful_of_requests() {
    for n in [3, 3_000] {
        let m = mock(MockConfig::new().forbid_tokens([TOKEN])).await;
        let forbidden = |e: &userbatch::FetchError| {
            assert_eq!(e.status, Some(403), "{e}");
            assert!(e.to_string().contains("does not have the role"), "{e}");
        };
        let nx = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
        let um = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
        let ap = avepoint::Client::with_bearer(m.base_url(), TOKEN).unwrap();
        let (r, sent) = counted(&m, nexudus::GetCoworkers::new(nx.clone()), n).await;
        all_failed_by_one_cause(
            &r,
            n,
            Some(sent),
            &format!("nexudus coworkers, {n}"),
            forbidden,
        );
        let (r, sent) = counted(&m, nexudus::GetCoworker::new(nx), n).await;
        all_failed_by_one_cause(
            &r,
            n,
            Some(sent),
            &format!("nexudus coworker, {n}"),
            forbidden,
        );
        let (r, sent) = counted(&m, usermgr::GetUsersByIds::new(um), n).await;
        all_failed_by_one_cause(&r, n, Some(sent), &format!("usermgr, {n}"), forbidden);
        let (r, sent) = counted(&m, avepoint::RetrieveMultipleUsers::new(ap, "c", "t"), n).await;
        all_failed_by_one_cause(&r, n, Some(sent), &format!("avepoint, {n}"), forbidden);
        m.stop().await;
    }
}

#[tokio::test]
async fn a_host_that_refuses_connections_stops_the_run_with_the_cause() {
    // A port nobody listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = nexudus::Client::with_bearer(&format!("http://127.0.0.1:{port}"), TOKEN).unwrap();
    for n in [3, 3_000] {
        let report = Batch::new(nexudus::GetUser::new(client.clone()))
            .retry(quick_retry())
            .fetch(ids(n))
            .await
            .unwrap();
        all_failed_by_one_cause(&report, n, None, &format!("{n} ids"), |e| {
            assert_eq!(e.kind, ErrorKind::Connection, "{e}");
            let text = e.to_string();
            assert!(text.to_lowercase().contains("refused"), "{text}");
            assert!(!text.contains("budget"), "{text}");
        });
    }
}

#[tokio::test]
async fn an_html_200_calls_nothing_missing_and_is_not_retried() {
    for fault in [Fault::Html(200), Fault::MislabelledJson] {
        for n in [3, 3_000] {
            let faults = Faults {
                script: vec![Some(fault); 10_000],
                ..Faults::default()
            };
            let m = mock(MockConfig::new().missing_ids(["2"]).faults_all(faults)).await;
            let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
            let report = Batch::new(nexudus::GetUsers::new(client))
                .fetch(ids(n))
                .await
                .unwrap();
            let at = format!("{fault:?}, {n} ids");
            all_failed_by_one_cause(&report, n, Some(m.stats().total_requests()), &at, |e| {
                assert_eq!(
                    (e.kind, e.status),
                    (ErrorKind::ContentType, Some(200)),
                    "{e}"
                );
                let text = e.to_string();
                assert!(text.contains("text/html"), "{text}");
                assert!(
                    text.contains("where the spec documents application/json"),
                    "{text}"
                );
            });
            if n == 3 {
                assert_eq!(report.requests, 1, "{at}: not retried");
            }
            m.stop().await;
        }
    }
}

#[tokio::test]
async fn the_documented_not_found_answer_is_the_only_single_id_missing() {
    // Nexudus' get-one documents 404 with a bare JSON string: that is "missing".
    let m = mock(MockConfig::new().missing_ids(["2"])).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(nexudus::GetUser::new(client.clone()))
        .fetch(ids(3))
        .await
        .unwrap();
    assert_eq!(report.missing, ["2"]);
    assert_eq!(report.found.len(), 2);
    // The library tells the vendor's not-found answer from an error: the read of a
    // read-modify-write. Alone, it is not proof that the request reached the vendor.
    let gone = userbatch::modify(&nexudus::GetUser::new(client.clone()), 2, |_| {})
        .await
        .unwrap_err();
    assert_eq!(gone.error.kind, ErrorKind::Unproven);
    assert_eq!(gone.error.detail.as_deref(), Some("Not found"));
    let wrong = nexudus::Client::with_bearer(&format!("{}/x", m.base_url()), TOKEN).unwrap();
    let error = userbatch::modify(&nexudus::GetUser::new(wrong.clone()), 2, |_| {})
        .await
        .unwrap_err();
    assert_eq!(
        (error.error.kind, error.error.status),
        (ErrorKind::Status, Some(404))
    );
    m.stop().await;

    // The same status with another body is not that answer: each of these fails the id.
    for (content_type, body, what) in [
        (
            "text/html",
            "<html><body>Not Found</body></html>",
            "an HTML page",
        ),
        ("application/json", "", "an empty body"),
        (
            "application/json",
            r#"{"error": "no such route"}"#,
            "JSON without a message",
        ),
        // The documented body, labelled other than documented: the vendor's message is
        // quoted, but it is not the documented answer.
        ("text/plain", "\"Not found\"", "Not found"),
    ] {
        let server = Sloppy::start(move |_| (404, content_type, body.to_owned())).await;
        let client = nexudus::Client::with_bearer(&server.url(), TOKEN).unwrap();
        let report = Batch::new(nexudus::GetUser::new(client))
            .fetch(["5"])
            .await
            .unwrap();
        assert!(report.missing.is_empty(), "{content_type} {body:?}");
        let error = &report.failed[0].error;
        assert_eq!(
            error.kind,
            ErrorKind::Status,
            "{content_type} {body:?}: {error}"
        );
        // What came: the vendor's message where the body has one, else a description.
        let said = error.detail.as_deref().or(error.received);
        assert_eq!(said, Some(what), "{content_type} {body:?}");
    }
}

// ---------------------------------------------------------------------------------------
// A sloppy vendor.

/// What a sloppy vendor saw of one request.
struct Seen {
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
struct Sloppy {
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
fn record(id: &str, marker: &str) -> String {
    format!(r#"{{"Id":{id},"FullName":"{marker}"}}"#)
}

/// The report's ids, by place.
fn places<R>(report: &Report<R>) -> (Vec<String>, Vec<String>, Vec<(String, ErrorKind)>) {
    let found = report.found.iter().map(|f| f.id.clone()).collect();
    let failed = report
        .failed
        .iter()
        .flat_map(|f| f.ids.iter().map(|id| (id.clone(), f.error.kind)))
        .collect();
    (found, report.missing.clone(), failed)
}

async fn nexudus_users(url: &str, ids: &[&str]) -> Report<()> {
    let client = nexudus::Client::with_bearer(url, TOKEN).unwrap();
    Batch::new(Raw(nexudus::GetUsers::new(client)))
        .fetch(ids)
        .await
        .unwrap()
}

#[tokio::test]
async fn records_nobody_asked_for_stop_the_others_being_missing() {
    // A vendor that ignores the filter and answers its default page, 1 to 25.
    let server = Sloppy::start(|_| {
        let page: Vec<String> = (1..=25).map(|i| record(&i.to_string(), "")).collect();
        (200, "application/json", format!("[{}]", page.join(",")))
    })
    .await;
    let report = nexudus_users(&server.url(), &["1", "2", "3", "30"]).await;
    let (found, missing, failed) = places(&report);
    assert_eq!(found, ["1", "2", "3"]);
    assert!(missing.is_empty());
    assert_eq!(failed, [("30".to_owned(), ErrorKind::Unrequested)]);
    assert_eq!(report.unexpected, 22);

    // One record nobody asked for among those asked.
    let server = Sloppy::start(|_| {
        (
            200,
            "application/json",
            format!(
                "[{},{},{}]",
                record("1", ""),
                record("2", ""),
                record("99", "")
            ),
        )
    })
    .await;
    let report = nexudus_users(&server.url(), &["1", "2", "3"]).await;
    let (found, missing, failed) = places(&report);
    assert_eq!(
        (found, missing),
        (vec!["1".to_owned(), "2".to_owned()], vec![])
    );
    assert_eq!(failed, [("3".to_owned(), ErrorKind::Unrequested)]);
}

#[tokio::test]
async fn ids_are_compared_as_the_vendor_compares_them() {
    // Integer ids by value, and the report names each as the input spelled it.
    let server = Sloppy::start(|seen| {
        let ids = seen.nexudus_ids();
        assert_eq!(ids, ["7", "12"], "integers go out without leading zeros");
        (
            200,
            "application/json",
            format!("[{},{}]", record("\"0012\"", ""), record("7", "")),
        )
    })
    .await;
    let report = nexudus_users(&server.url(), &["007", "12", "7"]).await;
    assert_eq!(places(&report).0, ["007", "12"]);
    assert_eq!(report.duplicates, 1, "007 and 7 are one id");

    // User Manager's ids are strings: `007` answered as 7 is not `007`, and not missing.
    let server = Sloppy::start(|seen| {
        assert_eq!(seen.usermgr_ids(), ["007"]);
        (
            200,
            "application/json",
            r#"{"user": [{"id": 7}]}"#.to_owned(),
        )
    })
    .await;
    let client = usermgr::Client::with_bearer(&server.url(), TOKEN).unwrap();
    let report = Batch::new(Raw(usermgr::GetUsersByIds::new(client)))
        .fetch(["007"])
        .await
        .unwrap();
    let (_, missing, failed) = places(&report);
    assert!(missing.is_empty());
    assert_eq!(failed, [("007".to_owned(), ErrorKind::Unrequested)]);

    // AvePoint's ids are GUIDs (the spec's `case-insensitive`): sent as given, matched in
    // any case, reported as given.
    let upper = "C2AA00D3-1234-5678-9ABC-9E9C79232BFF";
    let server = Sloppy::start(move |seen| {
        let (ids, _, _) = seen.avepoint();
        assert_eq!(ids, [upper, "b"]);
        let data = format!(r#"[{{"id": "{}"}}]"#, upper.to_lowercase());
        (200, "application/json", format!(r#"{{"data": {data}, "metadata": {{"pageIndex": 1, "pageSize": 100, "totalCount": 1}}}}"#))
    })
    .await;
    let client = avepoint::Client::with_bearer(&server.url(), TOKEN).unwrap();
    let report = Batch::new(Raw(avepoint::RetrieveMultipleUsers::new(client, "c", "t")))
        .fetch([upper, "b", &upper.to_lowercase()])
        .await
        .unwrap();
    assert_eq!(places(&report).0, [upper]);
    assert_eq!(report.missing, ["b"]);
    assert_eq!(report.duplicates, 1);
}

/// An AvePoint page of `ids` (as records), with this total.
fn avepoint_page(ids: &[String], index: u64, size: u64, total: Option<usize>) -> String {
    let data: Vec<String> = ids.iter().map(|id| format!(r#"{{"id":"{id}"}}"#)).collect();
    let metadata = match total {
        Some(t) => {
            format!(r#","metadata":{{"pageIndex":{index},"pageSize":{size},"totalCount":{t}}}"#)
        }
        None => String::new(),
    };
    format!(r#"{{"data":[{}]{metadata}}}"#, data.join(","))
}

#[tokio::test]
async fn paging_that_does_not_add_up_calls_nothing_missing() {
    // (what the server does, its answer to (asked ids, page index, page size))
    type Paging = fn(&[String], u64, u64) -> String;
    let cases: [(&str, Paging); 3] = [
        ("at most 25 a page, totalCount 10", |ids, index, _| {
            let skip = ((index - 1) * 25) as usize;
            let page: Vec<String> = ids.iter().skip(skip).take(25).cloned().collect();
            avepoint_page(&page, index, 25, Some(10))
        }),
        ("at most 25 a page, no metadata", |ids, index, _| {
            let skip = ((index - 1) * 25) as usize;
            let page: Vec<String> = ids.iter().skip(skip).take(25).cloned().collect();
            avepoint_page(&page, index, 25, None)
        }),
        ("page 2 cut short, totalCount right", |ids, index, size| {
            let skip = ((index - 1) * size) as usize;
            let take = if index == 1 { 85 } else { 3 };
            let page: Vec<String> = ids.iter().skip(skip).take(take).cloned().collect();
            avepoint_page(&page, index, size, Some(ids.len()))
        }),
    ];
    for (name, paging) in cases {
        let server = Sloppy::start(move |seen| {
            let (ids, index, size) = seen.avepoint();
            (200, "application/json", paging(&ids, index, size))
        })
        .await;
        let client = avepoint::Client::with_bearer(&server.url(), TOKEN).unwrap();
        let asked = ids(100);
        let report = Batch::new(Raw(avepoint::RetrieveMultipleUsers::new(client, "c", "t")))
            .retry(quick_retry())
            .fetch(&asked)
            .await
            .unwrap();
        assert!(report.missing.is_empty(), "{name}: {:?}", report.missing);
        assert_eq!(report.found.len() + report.failed_ids(), 100, "{name}");
        // The ids the pages left out are asked again, while that brings new records.
        assert_eq!(report.found.len(), 100, "{name}: {:?}", report.failed);
        assert!(
            server.requests() < 20,
            "{name}: {} requests",
            server.requests()
        );
    }
}

#[tokio::test]
async fn a_vendor_that_pages_the_same_records_over_and_over_fails_the_rest() {
    // Only ids 1 to 10 ever come back, on every page, while the total counts every id
    // asked: the others can never be accounted for, and asking again brings nothing new.
    let server = Sloppy::start(|seen| {
        let (ids, index, size) = seen.avepoint();
        let page: Vec<String> = ids
            .iter()
            .filter(|id| id.parse::<u32>().is_ok_and(|i| i <= 10))
            .cloned()
            .collect();
        (
            200,
            "application/json",
            avepoint_page(&page, index, size, Some(ids.len())),
        )
    })
    .await;
    let client = avepoint::Client::with_bearer(&server.url(), TOKEN).unwrap();
    let report = Batch::new(Raw(avepoint::RetrieveMultipleUsers::new(client, "c", "t")))
        .fetch(ids(30))
        .await
        .unwrap();
    assert!(report.missing.is_empty());
    assert_eq!(report.found.len(), 10);
    assert_eq!(report.failed_ids(), 20);
    assert!(
        report
            .failed
            .iter()
            .all(|f| f.error.kind == ErrorKind::Paging)
    );
    assert!(server.requests() < 10, "{}", server.requests());
}

#[tokio::test]
async fn a_record_that_names_two_ids_or_an_id_named_twice_is_reported() {
    let server = Sloppy::start(|_| {
        let body = format!(
            r#"[{{"Id":1,"Id":2}},{},{},{},{}]"#,
            record("3", "a"),
            record("3", "b"),
            record("4", "same"),
            record("4", "same")
        );
        (200, "application/json", body)
    })
    .await;
    let report = nexudus_users(&server.url(), &["1", "2", "3", "4", "5"]).await;
    let (found, missing, failed) = places(&report);
    assert_eq!(found, ["4"], "the same record twice is that record");
    // An answer that names ids twice is not trusted to have left 5 out for its reason.
    assert!(missing.is_empty());
    assert_eq!(
        failed,
        [
            ("1".to_owned(), ErrorKind::Ambiguous),
            ("2".to_owned(), ErrorKind::Ambiguous),
            ("3".to_owned(), ErrorKind::Ambiguous),
            ("5".to_owned(), ErrorKind::Ambiguous)
        ]
    );
    let why: Vec<String> = report.failed.iter().map(|f| f.error.to_string()).collect();
    assert!(why.iter().any(|w| w.contains("appears twice")), "{why:?}");
    assert!(
        why.iter().any(|w| w.contains("two different records")),
        "{why:?}"
    );
}

#[tokio::test]
async fn a_200_labelled_html_whose_body_is_an_empty_list_calls_nothing_missing() {
    let server = Sloppy::start(|_| (200, "text/html; charset=utf-8", "[]".to_owned())).await;
    let report = nexudus_users(&server.url(), &["1", "2", "3"]).await;
    assert!(report.missing.is_empty());
    assert_eq!(report.failed_ids(), 3);
    assert_eq!(report.failed[0].error.kind, ErrorKind::ContentType);
    assert_eq!(server.requests(), 1);
    // And labelled right, the same body is the vendor's word.
    let server = Sloppy::start(|_| (200, "application/json; charset=utf-8", "[]".to_owned())).await;
    let report = nexudus_users(&server.url(), &["1", "2", "3"]).await;
    assert_eq!(report.missing, ["1", "2", "3"]);
    // A `null`, or an object where a list is documented, is not.
    for body in ["null", r#"{"Id": 1}"#] {
        let server = Sloppy::start(move |_| (200, "application/json", body.to_owned())).await;
        let report = nexudus_users(&server.url(), &["1", "2", "3"]).await;
        assert!(report.missing.is_empty(), "{body}");
        assert_eq!(report.failed[0].error.kind, ErrorKind::Decode, "{body}");
    }
}

#[tokio::test]
async fn a_stream_says_what_each_id_became_even_when_the_run_stops() {
    // The library's stream agrees with its report: the run error is there as outcomes end.
    let m = mock(
        MockConfig::new()
            .path_values("customerId", ["c"])
            .path_values("tenantId", ["t"]),
    )
    .await;
    let client = avepoint::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let mut stream = Batch::new(avepoint::RetrieveMultipleUsers::new(client, "c", "gone"))
        .stream(ids(1_000))
        .unwrap();
    let mut failed = 0;
    while let Some(outcome) = stream.next().await {
        match outcome {
            Outcome::Failed(f) => failed += f.ids.len(),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(failed, 1_000);
    assert_eq!(stream.run_error().map(|e| e.status), Some(Some(404)));
    m.stop().await;
}

#[tokio::test]
async fn one_wrong_answer_is_not_the_runs_once_an_answer_proved_the_requests_sound() {
    // The first request is answered; later a gateway hiccup answers one request with its
    // HTML 404: only that request's ids fail, and the run goes on.
    let faults = Faults {
        script: vec![
            None,
            Some(Fault::Html(404)),
            Some(Fault::Html(404)),
            Some(Fault::Html(404)),
        ],
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults_all(faults)).await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .concurrency(1)
        .fetch(ids(75 * 6))
        .await
        .unwrap();
    assert!(report.run_error.is_none());
    assert_eq!(report.found.len(), 75 * 3);
    assert_eq!(report.failed_ids(), 75 * 3);
    assert!(report.missing.is_empty());
    m.stop().await;
}

#[tokio::test]
async fn a_gateway_404_that_fits_the_documented_not_found_body_calls_nothing_missing() {
    // API gateways answer a path they do not route with a JSON 404 `{"message": ...}`,
    // which fits User Manager's documented error body. Nothing in the run shows that the
    // requests reach the vendor, so none of these is the vendor's word.
    let gateway = || {
        Sloppy::start(|_| {
            let body = r#"{"message":"no Route matched with those values"}"#;
            (404, "application/json; charset=utf-8", body.to_owned())
        })
    };
    for n in [3, 3_000] {
        let server = gateway().await;
        let client = usermgr::Client::with_bearer(&server.url(), TOKEN).unwrap();
        let report = Batch::new(usermgr::GetUsersByIds::new(client))
            .fetch(ids(n))
            .await
            .unwrap();
        let at = format!("{n} ids");
        all_failed_by_one_cause(&report, n, Some(server.requests()), &at, |e| {
            assert_eq!((e.kind, e.status), (ErrorKind::Unproven, Some(404)), "{e}");
            assert_eq!(
                e.detail.as_deref(),
                Some("no Route matched with those values")
            );
            assert!(e.to_string().starts_with("not called missing"), "{e}");
        });
    }
    // One id per request (an attribute valid for single ids only): no probe can tell, so
    // every id is asked for, and none is called missing.
    let server = gateway().await;
    let client = usermgr::Client::with_bearer(&server.url(), TOKEN).unwrap();
    let op = usermgr::GetUsersByIds::new(client)
        .attributes(["groups"])
        .unwrap();
    let report = Batch::new(op).fetch(ids(30)).await.unwrap();
    assert!(report.missing.is_empty());
    assert_eq!(report.failed_ids(), 30);
    assert!(
        report
            .failed
            .iter()
            .all(|f| f.error.kind == ErrorKind::Unproven)
    );
}

#[tokio::test]
async fn a_not_found_answer_is_missing_once_another_answer_proved_the_requests() {
    // Every id unknown: the vendor's documented 404 to each, but nothing found to prove
    // that the requests reach it.
    let m = mock(MockConfig::new().missing_if(|_| true)).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(nexudus::GetUser::new(client))
        .fetch(ids(5))
        .await
        .unwrap();
    assert!(report.missing.is_empty());
    assert_eq!(report.failed_ids(), 5);
    assert!(
        report
            .failed
            .iter()
            .all(|f| f.error.kind == ErrorKind::Unproven)
    );
    m.stop().await;
    // One id found, anywhere in the run (the last here, one request at a time): the 404s
    // before it are held back until it proves the requests, then are missing.
    let m = mock(MockConfig::new().missing_if(|id| id != "40")).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(nexudus::GetUser::new(client))
        .concurrency(1)
        .fetch(ids(40))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 1);
    assert_eq!(report.missing.len(), 39);
    assert_eq!(report.missing[0], "1", "in input order");
    m.stop().await;
}

#[tokio::test]
async fn a_failure_that_repeats_after_the_run_was_proven_stops_it() {
    // The first request is answered; then the token's role is revoked: every request 403.
    let mut script = vec![None];
    script.extend(std::iter::repeat_n(Some(Fault::Refused(403)), 10_000));
    let faults = Faults {
        script,
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults_all(faults)).await;
    let client = usermgr::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .concurrency(1)
        .fetch(ids(3_000))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 75);
    assert!(report.missing.is_empty());
    assert_eq!(report.failed_ids(), 3_000 - 75);
    assert_eq!(report.run_error.as_ref().and_then(|e| e.status), Some(403));
    assert!(report.requests <= 12, "{} requests", report.requests);
    m.stop().await;
}

#[tokio::test]
async fn a_gateway_that_answers_502_to_every_request_stops_the_run_with_the_cause() {
    let faults = Faults {
        script: vec![Some(Fault::Html(502)); 10_000],
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults_all(faults)).await;
    let client = avepoint::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(avepoint::RetrieveMultipleUsers::new(client, "c", "t"))
        .retry(quick_retry())
        .fetch(ids(3_000))
        .await
        .unwrap();
    assert!(report.missing.is_empty() && report.found.is_empty());
    let error = report.run_error.as_ref().expect("the run stopped");
    assert_eq!(error.status, Some(502));
    for f in &report.failed {
        let text = f.error.to_string();
        assert!(
            text.contains("502") && text.contains("an HTML page"),
            "{text}"
        );
    }
    assert!(report.requests < 30, "{} requests", report.requests);
    m.stop().await;
}

#[tokio::test]
async fn bodies_cut_short_are_answers_not_silence() {
    // Three answers in a row whose bodies break off, before anything was proven: the
    // vendor is there, and the retries get the records.
    let faults = Faults {
        script: vec![Some(Fault::Disconnect); 3],
        ..Faults::default()
    };
    let m = mock(MockConfig::new().faults_all(faults)).await;
    let client = nexudus::Client::with_bearer(m.base_url(), TOKEN).unwrap();
    let report = Batch::new(nexudus::GetUser::new(client))
        .concurrency(1)
        .retry(quick_retry())
        .fetch(ids(2))
        .await
        .unwrap();
    assert_eq!(report.found.len(), 2, "{:?}", report.failed);
    assert!(report.run_error.is_none());
    m.stop().await;
}
