//! The mistakes users make (a wrong tenant, a wrong path prefix, a token without the role, a host that does not answer) and the documented not-found answer.
use userbatch::{Batch, ErrorKind, avepoint, nexudus, usermgr};
use userbatch_mock::{Fault, Faults, MockConfig};

use super::{Sloppy, all_failed_by_one_cause, counted};
use crate::support::{TOKEN, ids, mock, quick_retry};

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
