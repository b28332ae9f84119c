//! The embedded mock vendor server (`--mock`), when the `mock` feature is built in.

use crate::exit::Exit;

/// The embedded mock server (the `mock` feature).
#[cfg(feature = "mock")]
pub(crate) type Mock = userbatch_mock::MockServer;

#[cfg(feature = "mock")]
pub(crate) async fn start_mock() -> Result<Mock, Exit> {
    Mock::start(userbatch_mock::MockConfig::new())
        .await
        .map_err(|e| Exit::Failure(format!("the mock cannot start: {e}")))
}

/// Without the `mock` feature there is no mock to start.
#[cfg(not(feature = "mock"))]
pub(crate) enum Mock {}

#[cfg(not(feature = "mock"))]
impl Mock {
    pub(crate) fn base_url(&self) -> &str {
        match *self {}
    }

    pub(crate) async fn stop(self) {
        match self {}
    }
}

#[cfg(not(feature = "mock"))]
pub(crate) async fn start_mock() -> Result<Mock, Exit> {
    Err(Exit::Usage(
        "--mock: this build of userbatch has no embedded mock (build userbatch-cli with \
         its `mock` feature)"
            .to_owned(),
    ))
}
