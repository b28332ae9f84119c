//! Why a run ends early, and its exit status.

/// Why a run ended early, and its exit status.
pub(crate) enum Exit {
    /// Bad usage or input, found before any request: exit 2.
    Usage(String),
    /// Something failed that the user's input did not cause (a mock that cannot start, TLS
    /// that cannot initialise): exit 1.
    Failure(String),
}

use Exit::{Failure, Usage};

impl From<userbatch::ConfigError> for Exit {
    fn from(e: userbatch::ConfigError) -> Self {
        match e {
            userbatch::ConfigError::Http(_) => {
                Failure(format!("cannot build the HTTP client: {e}"))
            }
            userbatch::ConfigError::Insecure(_) => {
                Usage(format!("--base-url {e} (--allow-insecure allows it)"))
            }
            _ => Usage(format!("--base-url {e}")),
        }
    }
}

/// The exit status of an interrupted run, as shells give a process ended by SIGINT.
pub(crate) const INTERRUPTED: u8 = 130;
