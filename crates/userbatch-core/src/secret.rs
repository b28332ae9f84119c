//! [`Secret`]: a string that never shows itself in `Debug` or `Display`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A sensitive string (a password, a token, a key) from or for a vendor.
///
/// Generated types use it for every schema property marked `format: password` in the
/// specs. It serializes to and from the plain JSON string, so records round-trip
/// unchanged, but `Debug` prints `Secret(<redacted>)` and it has no `Display`: reading the
/// value takes an explicit [`Secret::expose`].
///
/// ```
/// use userbatch_core::Secret;
///
/// let s = Secret::from("hunter2");
/// assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
/// assert_eq!(s.expose(), "hunter2");
/// assert_eq!(serde_json::to_string(&s).unwrap(), "\"hunter2\"");
/// ```
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}
