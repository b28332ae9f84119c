//! What the engine's test binaries share. Each binary uses part of it.
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use userbatch::Retry;
use userbatch_mock::{MockConfig, MockServer};

/// The token the tests send (the mock accepts any unless told otherwise).
pub const TOKEN: &str = "t";

/// A mock on a free loopback port.
pub async fn mock(config: MockConfig) -> MockServer {
    MockServer::start(config).await.unwrap()
}

/// `"1"` to `"n"`.
pub fn ids(n: usize) -> Vec<String> {
    (1..=n).map(|i| i.to_string()).collect()
}

/// Fast retries for tests.
pub fn quick_retry() -> Retry {
    Retry {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..Retry::default()
    }
}

/// A shared in-memory writer for a tracing subscriber's output.
#[derive(Clone, Default)]
pub struct Buffer(pub Arc<Mutex<Vec<u8>>>);

impl Buffer {
    /// What was written, as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
