//! What each generated client puts on the wire, seen by a real HTTP server on loopback.

use std::num::NonZeroU32;
use std::time::Duration;

use userbatch_core::{ClientConfig, Credentials, Received, SendResult};
use userbatch_tests::{CaptureServer, Reply, fixture, strip_line_comments};

/// A batch operation's answer (success or error status), read in full.
async fn answer(result: SendResult) -> Received {
    userbatch_core::receive(result, 1 << 20)
        .await
        .expect("an answer")
}

/// The records of a 2xx answer, decoded one by one as `rules` says.
fn records<T: serde::de::DeserializeOwned>(
    received: &Received,
    rules: &userbatch_core::rules::OperationRules,
) -> Vec<T> {
    assert!(received.is_success(), "HTTP {}", received.status);
    received
        .records::<T>(&rules.records, rules.ids.kind)
        .unwrap()
        .into_iter()
        .map(|r| r.value.unwrap())
        .collect()
}

fn nexudus_client(base: &str, credentials: Credentials) -> nexudus::Client {
    nexudus::Client::from_config(ClientConfig::new(base).credentials(credentials)).unwrap()
}

#[tokio::test]
async fn nexudus_get_users_sends_bracketed_ids_percent_encoded() {
    let server =
        CaptureServer::start(Reply::json(200, fixture("nexudus-get-multiple-users.json"))).await;
    let client = nexudus_client(server.base_url(), Credentials::bearer("YOUR_TOKEN"));
    let ids =
        nexudus::types::GetUsersId::try_from("[87654321,87654322,87654323]".to_string()).unwrap();
    let users: Vec<nexudus::types::UserSummary> = records(
        &answer(client.get_users(&ids).await).await,
        &nexudus::rules::GET_USERS,
    );
    assert_eq!(users[0].id, 87654321);

    let req = server.only_request();
    // The trailing slash stays; brackets and commas are percent-encoded (both forms are
    // valid on the wire; this is the one the 2,048-byte limit is counted on).
    assert_eq!(
        req.request_line,
        "GET /api/sys/users/?id=%5B87654321%2C87654322%2C87654323%5D HTTP/1.1"
    );
    assert_eq!(req.header("authorization"), "Bearer YOUR_TOKEN");
    assert_eq!(req.header("accept"), "application/json");
    assert!(
        req.header_values("api-version").is_empty(),
        "api-version leaked to the vendor"
    );
    assert!(req.body.is_empty());
}

#[tokio::test]
async fn nexudus_get_coworkers_with_basic_auth() {
    let server = CaptureServer::start(Reply::json(
        200,
        fixture("nexudus-get-multiple-coworkers.json"),
    ))
    .await;
    let client = nexudus_client(
        server.base_url(),
        Credentials::basic("admin@example.com", "pw"),
    );
    let ids = nexudus::types::GetCoworkersId::try_from("[1,2]".to_string()).unwrap();
    let list: Vec<nexudus::types::CoworkerSummary> = records(
        &answer(client.get_coworkers(&ids).await).await,
        &nexudus::rules::GET_COWORKERS,
    );
    assert_eq!(list.len(), 1);

    let req = server.only_request();
    assert_eq!(
        req.request_line,
        "GET /api/spaces/coworkers/?id=%5B1%2C2%5D HTTP/1.1"
    );
    // base64("admin@example.com:pw")
    assert_eq!(
        req.header("authorization"),
        "Basic YWRtaW5AZXhhbXBsZS5jb206cHc="
    );
}

#[tokio::test]
async fn nexudus_get_one_user_and_its_bare_string_404() {
    let server = CaptureServer::start(Reply::json(200, fixture("nexudus-get-one-user.json"))).await;
    let client = nexudus_client(server.base_url(), Credentials::bearer("t"));
    let users: Vec<nexudus::types::User> = records(
        &answer(client.get_user(87654321).await).await,
        &nexudus::rules::GET_USER,
    );
    assert_eq!(users[0].id, 87654321);
    assert_eq!(
        server.only_request().request_line,
        "GET /api/sys/users/87654321 HTTP/1.1"
    );

    let server = CaptureServer::start(Reply::json(404, "\"Not found\"")).await;
    let client = nexudus_client(server.base_url(), Credentials::bearer("t"));
    let received = answer(client.get_coworker(5).await).await;
    assert_eq!(received.status, 404);
    let message = userbatch_core::json::vendor_message(
        &received.body,
        &nexudus::rules::VENDOR.error_message.unwrap(),
    );
    assert_eq!(message.as_deref(), Some("Not found"));
    assert_eq!(
        server.only_request().request_line,
        "GET /api/spaces/coworkers/5 HTTP/1.1"
    );
}

#[tokio::test]
async fn nexudus_list_ids_must_match_the_documented_pattern() {
    for bad in ["1,2", "[]", "[1,,2]", "[1,a]", "[1] ", "[-1]"] {
        assert!(
            nexudus::types::GetUsersId::try_from(bad.to_string()).is_err(),
            "{bad:?} was accepted"
        );
    }
}

#[tokio::test]
async fn usermgr_sends_ids_in_one_segment_and_required_headers() {
    let body = r#"{"user":[{"id":"1001"},{"id":"1002"}]}"#;
    let server = CaptureServer::start(Reply::json(200, body)).await;
    let client = usermgr::Client::with_bearer(server.base_url(), "um-token").unwrap();
    let ids = usermgr::types::GetUsersByIdsIds::try_from("1001,1002".to_string()).unwrap();
    let received = answer(
        client
            .get_users_by_ids(
                &ids,
                Some("created,manager"),
                Some(usermgr::types::GetUsersByIdsOrder::Desc),
                Some("lastName"),
                usermgr::types::GetUsersByIdsAccept::ApplicationJson,
                usermgr::types::GetUsersByIdsAcceptLanguage::FrFr,
            )
            .await,
    )
    .await;
    let users: Vec<usermgr::types::User> = records(&received, &usermgr::rules::GET_USERS_BY_IDS);
    assert_eq!(users.len(), 2);

    let req = server.only_request();
    // Commas in the path segment go as they are; `$` and `,` in query values are encoded.
    assert_eq!(
        req.request_line,
        "GET /core/usermgr/v3/users/1001,1002?%24attribute=created%2Cmanager&%24order=desc&%24sort=lastName HTTP/1.1"
    );
    // Exactly one Accept (the required parameter replaces progenitor's default).
    assert_eq!(req.header("accept"), "application/json");
    assert_eq!(req.header("accept-language"), "fr-FR");
    assert_eq!(req.header("authorization"), "Bearer um-token");
    assert!(req.header_values("api-version").is_empty());
}

#[tokio::test]
async fn usermgr_minimal_request_and_undocumented_error_bodies() {
    let server = CaptureServer::start(Reply::json(404, "<html>not json</html>")).await;
    let client = usermgr::Client::with_bearer(server.base_url(), "t").unwrap();
    let ids = usermgr::types::GetUsersByIdsIds::try_from("1049".to_string()).unwrap();
    let received = answer(
        client
            .get_users_by_ids(
                &ids,
                None,
                None,
                None,
                usermgr::types::GetUsersByIdsAccept::ApplicationJson,
                usermgr::types::GetUsersByIdsAcceptLanguage::EnUs,
            )
            .await,
    )
    .await;
    // The docs give no error body: the status comes back, and a body that is not the
    // assumed `{"message"}` yields no vendor message rather than an error.
    assert_eq!(received.status, 404);
    let message = userbatch_core::json::vendor_message(&received.body, "/message");
    assert_eq!(message, None);
    assert_eq!(
        server.only_request().request_line,
        "GET /core/usermgr/v3/users/1049 HTTP/1.1"
    );
}

#[tokio::test]
async fn avepoint_posts_json_body_with_paging() {
    let body = strip_line_comments(&fixture("avepoint-retrieve-multiple-users.jsonc"));
    let server = CaptureServer::start(Reply::json(200, body)).await;
    let client = avepoint::Client::with_bearer(server.base_url(), "ap-token").unwrap();
    let request: avepoint::types::UserBatchRequest = avepoint::types::UserBatchRequest::builder()
        .user_ids(vec!["u-1".to_owned(), "u-2".to_owned()])
        .try_into()
        .unwrap();
    let received = answer(
        client
            .retrieve_multiple_users(
                "cust 1",
                "ten/1",
                NonZeroU32::new(2),
                NonZeroU32::new(50),
                &request,
            )
            .await,
    )
    .await;
    let page: avepoint::types::UserPage = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(page.metadata.total_count, 1);

    let req = server.only_request();
    // Path parameters are percent-encoded, `/` included, so they stay one segment.
    assert_eq!(
        req.request_line,
        "POST /partner/external/v3/um/customers/cust%201/tenants/ten%2F1/users/batch?pageIndex=2&pageSize=50 HTTP/1.1"
    );
    assert_eq!(req.header("content-type"), "application/json");
    assert_eq!(req.header("authorization"), "Bearer ap-token");
    let sent: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(sent, serde_json::json!({"userIds": ["u-1", "u-2"]}));
}

#[tokio::test]
async fn no_credentials_sends_no_authorization() {
    let server = CaptureServer::start(Reply::json(200, "[]")).await;
    let client = nexudus_client(server.base_url(), Credentials::None);
    let ids = nexudus::types::GetUsersId::try_from("[1]".to_string()).unwrap();
    assert!(answer(client.get_users(&ids).await).await.is_success());
    assert!(
        server
            .only_request()
            .header_values("authorization")
            .is_empty()
    );
}

#[tokio::test]
async fn the_configured_timeout_applies() {
    let mut reply = Reply::json(200, "[]");
    reply.delay = Duration::from_secs(5);
    let server = CaptureServer::start(reply).await;
    let client = nexudus::Client::from_config(
        ClientConfig::new(server.base_url())
            .credentials(Credentials::bearer("t"))
            .timeout(Duration::from_millis(200)),
    )
    .unwrap();
    let ids = nexudus::types::GetUsersId::try_from("[1]".to_string()).unwrap();
    match client
        .get_users(&ids)
        .await
        .map_err(nexudus::ClientError::from)
    {
        Err(nexudus::ClientError::Transport(e)) => assert!(e.is_timeout(), "{e}"),
        Err(other) => panic!("expected a timeout, got {other:?}"),
        Ok(_) => panic!("expected a timeout, got an answer"),
    }
}

#[tokio::test]
async fn the_token_is_not_in_debug_output_of_client_or_errors() {
    let server = CaptureServer::start(Reply::json(500, "{}")).await;
    let client = nexudus_client(server.base_url(), Credentials::bearer("sekrit-token-42"));
    assert!(!format!("{client:?}").contains("sekrit-token-42"));
    let ids = nexudus::types::GetUsersId::try_from("[1]".to_string()).unwrap();
    let Err(err) = client.get_users(&ids).await else {
        panic!("a 500 is an error");
    };
    assert!(!format!("{err:?}").contains("sekrit-token-42"));
    assert!(!err.to_string().contains("sekrit-token-42"));
    assert_eq!(
        server.only_request().header("authorization"),
        "Bearer sekrit-token-42"
    );
}

#[tokio::test]
async fn https_base_urls_speak_tls() {
    // A loopback listener that only records the first bytes the client sends: a TLS
    // ClientHello starts with the handshake record type 0x16 and version 0x03.
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let first_bytes = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 2];
        socket.read_exact(&mut buf).await.unwrap();
        buf
    });
    let client = nexudus::Client::from_config(
        ClientConfig::new(format!("https://127.0.0.1:{port}"))
            .credentials(Credentials::bearer("t"))
            .timeout(Duration::from_secs(2)),
    )
    .unwrap();
    let result = client.get_user(1).await;
    assert!(
        result.is_err(),
        "no TLS server there, yet the call succeeded"
    );
    assert_eq!(
        first_bytes.await.unwrap(),
        [0x16, 0x03],
        "the client did not start a TLS handshake"
    );
}

#[test]
fn credentials_that_cannot_be_a_header_are_refused_up_front() {
    let err = nexudus::Client::from_config(
        ClientConfig::new("https://spaces.nexudus.com")
            .credentials(Credentials::bearer("abc\r\ndef")),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        userbatch_core::ConfigError::InvalidCredentials
    ));
    assert!(
        !err.to_string().contains("abc"),
        "the message shows the token"
    );
}

/// The spec's (path template, operation) of `operation_id`.
fn spec_operation(
    vendor: &str,
    operation_id: &str,
) -> (String, serde_json::Value, serde_json::Value) {
    let path = userbatch_tests::workspace_root()
        .join(format!("crates/userbatch-mock/specs/{vendor}.json"));
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for (template, item) in spec["paths"].as_object().unwrap() {
        for op in item.as_object().unwrap().values() {
            if op["operationId"] == operation_id {
                return (template.clone(), op.clone(), spec.clone());
            }
        }
    }
    panic!("{vendor}: no operation {operation_id}")
}

/// Text as a server reads a query value (`+` is a space) or a path segment.
fn decoded(text: &str, plus_is_space: bool) -> String {
    let text = if plus_is_space {
        text.replace('+', " ")
    } else {
        text.to_owned()
    };
    percent_encoding::percent_decode_str(&text)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

/// The ids a captured request carries, read back as the operation's rules say they are
/// written.
fn ids_sent(
    req: &userbatch_tests::Captured,
    template: &str,
    rules: &userbatch_core::rules::OperationRules,
) -> Vec<String> {
    use userbatch_core::rules::{IdEncoding, IdLocation};
    let target = req.target();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let name = &*rules.ids.name;
    let text = match rules.ids.location {
        IdLocation::Path => {
            let at = template
                .split('/')
                .position(|s| s == format!("{{{name}}}"))
                .expect("the path has the ids");
            decoded(path.split('/').nth(at).unwrap(), false)
        }
        IdLocation::Query => query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| decoded(k, true) == name)
            .map(|(_, v)| decoded(v, true))
            .expect("the query has the ids"),
        IdLocation::Body => {
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
            return body[name]
                .as_array()
                .expect("the body has the ids")
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect();
        }
    };
    match rules.ids.encoding {
        IdEncoding::Single => vec![text],
        IdEncoding::Csv => text.split(',').map(str::to_owned).collect(),
        IdEncoding::BracketedCsv => text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .expect("[id,...]")
            .split(',')
            .map(str::to_owned)
            .collect(),
        IdEncoding::JsonArray => serde_json::from_str(&text).unwrap(),
    }
}

/// Every batch operation of the registry, built from text options as the command line
/// builds it, writes its ids where its rules say and as its encoding says (characters that
/// need escaping included), on its spec's method and path, with every parameter its spec
/// requires and the credentials: a spec added to `specs/` is held to this with no test code
/// of its own.
#[tokio::test]
async fn every_operation_of_the_registry_writes_its_ids_as_its_rules_say() {
    use std::collections::BTreeSet;
    use userbatch_core::rules::IdKind;
    let mut checked = 0;
    for (vendor, _, entry) in userbatch::registry::operations() {
        let rules = entry.rules;
        let (template, op, spec) = spec_operation(vendor.name, &rules.operation_id);
        let what = format!("{} {}", vendor.name, rules.operation_id);
        // An answer with no records: every request is made, none is retried.
        let mut empty = serde_json::Value::Null;
        if !rules.records.pointer.is_empty() {
            for token in rules
                .records
                .pointer
                .trim_start_matches('/')
                .split('/')
                .rev()
            {
                empty = serde_json::json!({ token: empty });
            }
            *empty.pointer_mut(&rules.records.pointer).unwrap() = serde_json::json!([]);
        } else {
            empty = serde_json::json!([]);
        }
        let server = CaptureServer::start(Reply::json(200, empty.to_string())).await;
        let config = ClientConfig::new(server.base_url()).credentials(Credentials::bearer("t"));
        let built = entry.build_for_mock(config).unwrap();
        let ids: Vec<String> = match rules.ids.kind {
            IdKind::Integer => vec!["87654321".into(), "5".into()],
            IdKind::String => ["a b", "x+y", "é%"]
                .into_iter()
                .filter(|id| !id.chars().any(|c| rules.ids.forbidden_chars.contains(c)))
                .map(str::to_owned)
                .collect(),
        };
        let _ = userbatch::Batch::new(built).fetch(&ids).await;
        let requests = server.requests();
        assert!(!requests.is_empty(), "{what}");
        let mut sent = BTreeSet::new();
        for req in &requests {
            let method = req.request_line.split(' ').next().unwrap();
            let expected = spec["paths"][&template]
                .as_object()
                .unwrap()
                .iter()
                .find(|(_, o)| o["operationId"] == *rules.operation_id)
                .unwrap()
                .0
                .to_uppercase();
            assert_eq!(method, expected, "{what}");
            let path = req.target().split('?').next().unwrap();
            assert_eq!(
                path.split('/').count(),
                template.split('/').count(),
                "{what}: {path}"
            );
            for (segment, literal) in path.split('/').zip(template.split('/')) {
                if !literal.starts_with('{') {
                    assert_eq!(segment, literal, "{what}: {path}");
                }
            }
            assert_eq!(req.header("authorization"), "Bearer t", "{what}");
            sent.extend(ids_sent(req, &template, rules));
            let item = &spec["paths"][&template];
            let declared = [&op, item]
                .into_iter()
                .filter_map(|v| v["parameters"].as_array())
                .flatten();
            for p in declared {
                let mut p = p;
                while let Some(r) = p.get("$ref").and_then(|r| r.as_str()) {
                    p = spec.pointer(r.trim_start_matches('#')).unwrap();
                }
                if p["required"] != true {
                    continue;
                }
                let name = p["name"].as_str().unwrap();
                match p["in"].as_str() {
                    Some("header") => {
                        assert!(!req.header_values(name).is_empty(), "{what}: {name}")
                    }
                    Some("query") => assert!(
                        req.target().split_once('?').is_some_and(|(_, q)| q
                            .split('&')
                            .any(|pair| decoded(pair.split('=').next().unwrap(), true) == name)),
                        "{what}: {name}"
                    ),
                    _ => {}
                }
            }
        }
        assert_eq!(sent, ids.iter().cloned().collect::<BTreeSet<_>>(), "{what}");
        checked += 1;
    }
    assert!(checked >= 6, "{checked} operations");
}
