//! The partial-record warning: once per operation per process, silenceable. Its own test
//! binary, beside `it`: the "once per process" state and the silencing switch are global.

#[path = "it/support/mod.rs"]
mod support;

use userbatch::nexudus;
use userbatch_mock::{MockConfig, MockServer};

use support::Buffer;

#[tokio::test]
async fn warns_once_per_operation_naming_the_fields_and_the_way_out() {
    let buffer = Buffer::default();
    let sink = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let m = MockServer::start(MockConfig::new()).await.unwrap();
    let client = nexudus::Client::with_bearer(m.base_url(), "t").unwrap();
    let warnings = || {
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .filter(|l| l.contains("returns summaries"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };

    // Silenced: nothing, and the operation is not marked as warned.
    userbatch::silence_partial_warnings(true);
    userbatch::fetch(nexudus::GetCoworkers::new(client.clone()), ["1"])
        .await
        .unwrap();
    assert!(warnings().is_empty(), "silenced, yet warned");
    userbatch::silence_partial_warnings(false);

    userbatch::fetch(nexudus::GetUsers::new(client.clone()), ["1", "2"])
        .await
        .unwrap();
    userbatch::fetch(nexudus::GetUsers::new(client.clone()), ["3"])
        .await
        .unwrap();
    let w = warnings();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(w[0].contains("`getUsers` returns summaries of User"));
    assert!(w[0].contains("IsAdmin") && w[0].contains("OnIdentityCheckUpdate"));
    assert!(w[0].contains("`getUser`") && w[0].contains("hydrate"));

    userbatch::fetch(nexudus::GetCoworkers::new(client.clone()), ["1"])
        .await
        .unwrap();
    userbatch::fetch(nexudus::GetCoworkers::new(client.clone()), ["2"])
        .await
        .unwrap();
    assert_eq!(warnings().len(), 2, "coworkers warn once too");

    // Full records do not warn.
    userbatch::Batch::new(nexudus::GetUser::new(client.clone()))
        .fetch(["1"])
        .await
        .unwrap();
    assert_eq!(warnings().len(), 2);
}
