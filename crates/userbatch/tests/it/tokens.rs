//! Tokens that last the run: the OAuth2 client credentials grant against the mock's token
//! endpoint, with tokens shorter-lived than the run, tokens revoked early, and credentials
//! refused for good.

use std::time::{Duration, Instant};

use userbatch::{
    Batch, ClientAuth, ClientConfig, ClientCredentials, Credentials, ErrorKind, usermgr,
};
use userbatch_mock::{Faults, MockConfig, MockServer, OAuthClient, Vendor};

use crate::support::ids;

fn oauth_client(m: &MockServer, secret: &str, auth: ClientAuth) -> usermgr::Client {
    let grant = ClientCredentials::new(format!("{}/oauth/token", m.base_url()), "app", secret)
        .client_auth(auth);
    usermgr::Client::from_config(
        ClientConfig::new(m.base_url()).credentials(Credentials::client_credentials(grant)),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_three_times_longer_than_the_tokens_loses_nothing() {
    // Tokens live 1 s; the run takes about 3.5 s (one id per request, 20 ms each, 16 in
    // flight): the token is renewed shortly before it expires, once each time, however
    // many requests are in flight.
    for auth in [ClientAuth::Basic, ClientAuth::Form] {
        let m = MockServer::start(
            MockConfig::new()
                .oauth(OAuthClient::new("app", "s3cret", Duration::from_secs(1)))
                .faults(Vendor::Usermgr, Faults::latency(Duration::from_millis(20)))
                .log_requests(false),
        )
        .await
        .unwrap();
        let client = oauth_client(&m, "s3cret", auth);
        let started = Instant::now();
        let report = Batch::new(usermgr::GetUsersByIds::new(client))
            .concurrency(16)
            .max_batch(1)
            .fetch(ids(2_500))
            .await
            .unwrap();
        let run = started.elapsed();
        assert!(
            report.failed.is_empty(),
            "{auth:?}: {:?}",
            report.failed.first()
        );
        assert_eq!(report.found.len(), 2_500);
        assert!(
            run > Duration::from_secs(3),
            "the run must outlive three tokens: {run:?}"
        );
        // Renewed at 0.9 s of each 1 s token (expires_in has whole seconds): one token per
        // 0.9 s of run, one request each.
        let tokens = m.stats().token_requests;
        eprintln!(
            "{auth:?}: {tokens} token requests in {run:?}, {} requests",
            report.requests
        );
        let most = (run.as_secs_f64() / 0.9).ceil() as u64 + 1;
        assert!(
            (3..=most).contains(&tokens),
            "{auth:?}: {tokens} token requests in {run:?}"
        );
        assert_eq!(
            m.stats().operation("getUsersByIds").statuses.get(&401),
            None,
            "no token was used after it expired"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_early_is_renewed_once_on_401() {
    // Tokens live 300 ms but are announced for an hour: only the vendor's 401 tells. Each
    // 401 renews the token once (shared by every request refused meanwhile) and the request
    // goes again.
    let m = MockServer::start(
        MockConfig::new()
            .oauth(OAuthClient {
                announced: Some(Duration::from_secs(3600)),
                ..OAuthClient::new("app", "s3cret", Duration::from_millis(300))
            })
            .faults(Vendor::Usermgr, Faults::latency(Duration::from_millis(20)))
            .log_requests(false),
    )
    .await
    .unwrap();
    let client = oauth_client(&m, "s3cret", ClientAuth::Basic);
    let started = Instant::now();
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .concurrency(8)
        .max_batch(1)
        .fetch(ids(400))
        .await
        .unwrap();
    let run = started.elapsed();
    assert!(report.failed.is_empty(), "{:?}", report.failed.first());
    assert_eq!(report.found.len(), 400);
    let stats = m.stats();
    let refused = stats
        .operation("getUsersByIds")
        .statuses
        .get(&401)
        .copied()
        .unwrap_or(0);
    eprintln!(
        "revoked: {} token requests, {refused} refusals in {run:?}",
        stats.token_requests
    );
    assert!(refused > 0, "the tokens did expire mid-run ({run:?})");
    // One renewal per expiry, not one per refused request.
    let expiries = (run.as_secs_f64() / 0.3).ceil() as u64 + 1;
    assert!(
        stats.token_requests <= expiries,
        "{} token requests, {refused} refusals, {run:?}",
        stats.token_requests
    );
    assert!(stats.token_requests < refused + 1 || refused <= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_refused_for_good_stop_the_run_quickly() {
    // A static token the vendor does not accept: every id fails with the auth error, and
    // fewer than concurrency + 2 requests go out after the first 401.
    let m = MockServer::start(MockConfig::new().accept_tokens(["good"]))
        .await
        .unwrap();
    let client = usermgr::Client::with_bearer(m.base_url(), "bad").unwrap();
    let concurrency = 4;
    let started = Instant::now();
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .concurrency(concurrency)
        .fetch(ids(75 * 40))
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(report.failed_count(), 3_000);
    assert!(
        report
            .failed
            .iter()
            .all(|f| f.error.kind == ErrorKind::Auth)
    );
    assert!(
        report.failed[0]
            .error
            .to_string()
            .contains("refused the credentials (HTTP 401)")
    );
    assert!(
        report.requests < concurrency as u64 + 2,
        "{} requests",
        report.requests
    );

    // A client secret the token endpoint refuses: no request reaches the vendor at all.
    let m = MockServer::start(MockConfig::new().oauth(OAuthClient::new(
        "app",
        "s3cret",
        Duration::from_secs(60),
    )))
    .await
    .unwrap();
    let client = oauth_client(&m, "zq-not-the-secret", ClientAuth::Basic);
    let report = Batch::new(usermgr::GetUsersByIds::new(client))
        .fetch(ids(300))
        .await
        .unwrap();
    assert_eq!(report.failed_count(), 300);
    let error = &report.failed[0].error;
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.to_string().contains("invalid_client"), "{error}");
    assert!(!error.to_string().contains("zq-not-the-secret"), "{error}");
    assert_eq!(m.stats().operation("getUsersByIds").requests, 0);
    assert_eq!(m.stats().token_requests, 1, "one try: a refusal is final");
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let grant = ClientCredentials::new("https://login.example.com/token", "app", "hunter2-secret");
    let credentials = Credentials::client_credentials(grant);
    assert!(!format!("{credentials:?}").contains("hunter2"));
    let client = usermgr::Client::from_config(
        ClientConfig::new("https://um.example.com").credentials(credentials),
    )
    .unwrap();
    assert!(!format!("{client:?}").contains("hunter2"));
    // The token URL is held to the base URL's rules.
    let insecure = ClientCredentials::new("http://login.example.com/token", "app", "s");
    let err = usermgr::Client::from_config(
        ClientConfig::new("https://um.example.com")
            .credentials(Credentials::client_credentials(insecure)),
    )
    .unwrap_err();
    assert!(matches!(err, userbatch::ConfigError::Insecure(_)), "{err}");
}
