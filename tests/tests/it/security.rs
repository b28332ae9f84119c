//! No request leaves its template: every path parameter stays one segment, whoever builds
//! the request. A capture server on loopback sees exactly what is sent.

use std::num::NonZeroU32;

use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use userbatch::{Batch, PlanError, avepoint, usermgr};
use userbatch_core::ConfigError;
use userbatch_tests::{CaptureServer, Reply};

const EMPTY_USERS: &str = r#"{"user": []}"#;
const EMPTY_PAGE: &str =
    r#"{"data": [], "metadata": {"pageIndex": 1, "pageSize": 100, "totalCount": 0}}"#;

#[tokio::test]
async fn ids_that_would_leave_their_segment_are_refused_before_any_request() {
    let server = CaptureServer::start(Reply::json(200, EMPTY_USERS)).await;
    let client = usermgr::Client::with_bearer(server.base_url(), "t").unwrap();
    let batch = Batch::new(usermgr::GetUsersByIds::new(client));
    for bad in [
        r"x\..\..\..\..\..\internal\secrets",
        r"a\b",
        "..",
        ".",
        "a\u{7}b",
        "line\nbreak",
    ] {
        let err = batch.fetch(["ok1", bad, "ok2"]).await.unwrap_err();
        assert!(
            matches!(err, PlanError::InvalidId { index: 1, .. }),
            "{bad:?}: {err}"
        );
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    // What is left is encoded, and stays one segment.
    let report = batch.fetch(["a%2Fb", "c d", "é?#", "..."]).await.unwrap();
    assert_eq!(report.missing.len(), 4);
    assert_eq!(
        server.only_request().request_line,
        "GET /core/usermgr/v3/users/a%252Fb,c%20d,%C3%A9%3F%23,... HTTP/1.1"
    );
}

#[tokio::test]
async fn path_options_that_would_leave_their_segment_are_refused() {
    let server = CaptureServer::start(Reply::json(200, EMPTY_PAGE)).await;
    let client = avepoint::Client::with_bearer(server.base_url(), "t").unwrap();
    let bad = r"c\..\..\..\..\..\..\admin\delete";
    let err = Batch::new(avepoint::RetrieveMultipleUsers::new(
        client.clone(),
        bad,
        "t",
    ))
    .fetch(["a"])
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            PlanError::InvalidParameter {
                name: "customerId",
                ..
            }
        ),
        "{err}"
    );
    let err = Batch::new(avepoint::RetrieveMultipleUsers::new(
        client.clone(),
        "c",
        "..",
    ))
    .fetch(["a"])
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        PlanError::InvalidParameter {
            name: "tenantId",
            ..
        }
    ));
    assert!(server.requests().is_empty());
    // The generated client itself, called directly with the same value: its request hook
    // refuses the request, which never leaves.
    let body: avepoint::types::UserBatchRequest = avepoint::types::UserBatchRequest::builder()
        .user_ids(vec!["a".to_owned()])
        .try_into()
        .unwrap();
    let result = client
        .retrieve_multiple_users(bad, "t", NonZeroU32::new(1), None, &body)
        .await
        .map_err(avepoint::ClientError::from);
    match result {
        Err(avepoint::ClientError::Request(why)) => {
            assert!(
                why.contains("/partner/external/v3/um/customers/{customerId}"),
                "{why}"
            )
        }
        Err(other) => panic!("expected the hook to refuse, got {other:?}"),
        Ok(_) => panic!("expected the hook to refuse, got an answer"),
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    // A value that stays one segment goes through, encoded.
    let result = client
        .retrieve_multiple_users("c 1/2", "t", NonZeroU32::new(1), None, &body)
        .await;
    assert!(result.is_ok());
    assert_eq!(
        server.only_request().request_line,
        "POST /partner/external/v3/um/customers/c%201%2F2/tenants/t/users/batch?pageIndex=1 HTTP/1.1"
    );
}

#[tokio::test]
async fn the_hook_refuses_what_the_planner_would_have_refused() {
    let server = CaptureServer::start(Reply::json(200, EMPTY_USERS)).await;
    let client = usermgr::Client::with_bearer(server.base_url(), "t").unwrap();
    for bad in [r"a\b", "..", r"x\..\..\admin"] {
        let ids = usermgr::types::GetUsersByIdsIds::try_from(bad.to_string()).unwrap();
        let result = client
            .get_users_by_ids(
                &ids,
                None,
                None,
                None,
                usermgr::types::GetUsersByIdsAccept::ApplicationJson,
                usermgr::types::GetUsersByIdsAcceptLanguage::EnUs,
            )
            .await;
        assert!(
            matches!(
                result.map_err(usermgr::ClientError::from),
                Err(usermgr::ClientError::Request(_))
            ),
            "{bad:?} was not refused"
        );
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[test]
fn base_urls_that_would_leak_credentials_are_refused_when_the_client_is_built() {
    let build = |url: &str| usermgr::Client::with_bearer(url, "t").map(|_| ());
    assert!(matches!(
        build("http://127.0.0.1:1@vm/"),
        Err(ConfigError::BaseUrl(_))
    ));
    assert!(matches!(
        build("https://user:pw@example.com"),
        Err(ConfigError::BaseUrl(_))
    ));
    assert!(matches!(
        build("http://example.com"),
        Err(ConfigError::Insecure(h)) if h == "example.com"
    ));
    assert!(matches!(build("example.com"), Err(ConfigError::BaseUrl(_))));
    assert!(matches!(
        build("ftp://example.com"),
        Err(ConfigError::BaseUrl(_))
    ));
    assert!(matches!(
        build("https://example.com/?q=1"),
        Err(ConfigError::BaseUrl(_))
    ));
    for ok in [
        "https://example.com",
        "https://example.com/prefix/",
        "http://127.0.0.1:8080",
        "http://[::1]:8080",
        "http://localhost",
        "http://127.7.7.7",
    ] {
        assert!(build(ok).is_ok(), "{ok}");
    }
    // Insecure transport by choice, or without credentials to leak.
    let config = userbatch_core::ClientConfig::new("http://example.com")
        .credentials(userbatch_core::Credentials::bearer("t"))
        .allow_insecure(true);
    assert!(usermgr::Client::from_config(config).is_ok());
    assert!(
        usermgr::Client::from_config(userbatch_core::ClientConfig::new("http://example.com"))
            .is_ok()
    );
    // The messages never show the token.
    let err = build("http://a:secret-pw@example.com").unwrap_err();
    assert!(!err.to_string().contains("secret-pw"), "{err}");
}

#[tokio::test]
async fn a_base_path_is_kept_and_checked() {
    let server = CaptureServer::start(Reply::json(200, EMPTY_USERS)).await;
    let base = format!("{}/gateway/um/", server.base_url());
    let client = usermgr::Client::with_bearer(&base, "t").unwrap();
    let report = userbatch::fetch(usermgr::GetUsersByIds::new(client.clone()), ["1"])
        .await
        .unwrap();
    assert_eq!(report.missing, ["1"]);
    assert_eq!(
        server.only_request().request_line,
        "GET /gateway/um/core/usermgr/v3/users/1 HTTP/1.1"
    );
}

fn segment_of(target: &str, prefix: &str) -> String {
    let path = target.split('?').next().unwrap();
    path.strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{path} does not start with {prefix}"))
        .to_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    /// For any ids the planner accepts, the request has exactly the template's segments,
    /// and the ids segment decodes back to the ids, comma-joined.
    #[test]
    fn accepted_ids_stay_one_segment(ids in prop::collection::vec("[a-z0-9./\\\\%?#&=;: é\\x00-\\x1f\\x7f,\\[\\]{}]{1,8}", 1..4)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let server = CaptureServer::start(Reply::json(200, EMPTY_USERS)).await;
            let client = usermgr::Client::with_bearer(server.base_url(), "t").unwrap();
            let batch = Batch::new(usermgr::GetUsersByIds::new(client));
            let Ok(plan) = batch.plan(&ids) else {
                prop_assert!(server.requests().is_empty());
                return Ok(());
            };
            batch.fetch(&ids).await.unwrap();
            let sent = server.only_request();
            let segment = segment_of(sent.target(), "/core/usermgr/v3/users/");
            prop_assert!(!segment.contains('/'), "{} has more segments", sent.target());
            let decoded = percent_decode_str(&segment).decode_utf8().unwrap();
            let expected: Vec<&str> = plan.ids.iter().collect();
            prop_assert_eq!(decoded, expected.join(","));
            Ok(())
        })?;
    }

    /// The same for a path option: any customer id the batch accepts is one segment that
    /// decodes back to it.
    #[test]
    fn accepted_path_options_stay_one_segment(customer in "[a-z0-9./\\\\%?#&=;: é\\x00-\\x1f\\x7f]{0,12}") {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let server = CaptureServer::start(Reply::json(200, EMPTY_PAGE)).await;
            let client = avepoint::Client::with_bearer(server.base_url(), "t").unwrap();
            let batch = Batch::new(avepoint::RetrieveMultipleUsers::new(client, customer.clone(), "tenant"));
            if batch.plan(["a"]).is_err() {
                prop_assert!(server.requests().is_empty());
                return Ok(());
            }
            batch.fetch(["a"]).await.unwrap();
            let sent = server.only_request();
            let rest = segment_of(sent.target(), "/partner/external/v3/um/customers/");
            let segment = rest.strip_suffix("/tenants/tenant/users/batch").unwrap_or_else(|| panic!("{}", sent.target()));
            prop_assert!(!segment.contains('/'));
            prop_assert_eq!(percent_decode_str(segment).decode_utf8().unwrap(), customer.as_str());
            Ok(())
        })?;
    }
}

/// A TLS server on loopback with a self-signed certificate for `names`: it completes no
/// handshake a client that checks certificates would accept. Returns its port and how many
/// connections it saw.
async fn self_signed_server(
    names: &[&str],
) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap()
            .self_signed(&key)
            .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(socket).await;
            });
        }
    });
    (port, connections)
}

#[tokio::test]
async fn tls_failures_say_what_failed_and_are_not_retried() {
    use std::sync::atomic::Ordering;
    // A certificate nobody trusts, for the right name.
    let (port, connections) = self_signed_server(&["localhost"]).await;
    let client = usermgr::Client::with_bearer(&format!("https://localhost:{port}"), "t").unwrap();
    let report = userbatch::fetch(usermgr::GetUsersByIds::new(client.clone()), ["1", "2"])
        .await
        .unwrap();
    assert_eq!(report.failed_count(), 2);
    let error = &report.failed[0].error;
    assert_eq!(error.kind, userbatch::ErrorKind::Tls, "{error}");
    assert!(
        error
            .to_string()
            .contains("not signed by a trusted authority"),
        "{error}"
    );
    assert_eq!(report.requests, 1, "not retried");
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    assert!(!error.to_string().contains("(after"), "{error}");
}

#[tokio::test]
async fn a_flood_of_records_nobody_asked_for_is_counted_not_decoded() {
    // 110,000 tiny records for a request of two ids: only the two are decoded (decoding all
    // 110,000 into 2 KB summaries each would take 218 MB).
    let body = format!(
        "[{}]",
        (1..=110_000)
            .map(|i| format!(r#"{{"Id":{i}}}"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    let server = CaptureServer::start(Reply::json(200, body)).await;
    let client = userbatch::nexudus::Client::with_bearer(server.base_url(), "t").unwrap();
    let report = userbatch::fetch(nexudus::GetCoworkers::new(client.clone()), ["5", "7"])
        .await
        .unwrap();
    assert_eq!(report.found.len(), 2);
    assert_eq!(report.unexpected, 109_998);
    assert_eq!(report.requests, 1);
}
