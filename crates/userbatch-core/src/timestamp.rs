//! [`Timestamp`]: a vendor date-time kept exactly as sent.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// A `date-time` value as the vendor sent it.
///
/// Vendors send ISO 8601 with an offset (`2025-01-15T10:30:00Z`) but also local times
/// without one (Nexudus' `...Local` fields). A strict `DateTime<Utc>` would fail the whole
/// response on the latter, and re-serializing would change the text sent back in a PUT.
/// `Timestamp` keeps the original text and parses on request.
///
/// ```
/// use userbatch_core::Timestamp;
///
/// let t = Timestamp::from("2025-01-15T10:30:00Z");
/// assert_eq!(t.to_utc().unwrap().to_rfc3339(), "2025-01-15T10:30:00+00:00");
/// let local = Timestamp::from("2025-01-15T10:30:00");
/// assert!(local.to_utc().is_none());
/// assert_eq!(local.naive().unwrap().to_string(), "2025-01-15 10:30:00");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// The text as the vendor sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The instant, when the text carries an offset (RFC 3339).
    pub fn with_offset(&self) -> Option<DateTime<FixedOffset>> {
        DateTime::parse_from_rfc3339(&self.0).ok()
    }

    /// The instant in UTC, when the text carries an offset.
    pub fn to_utc(&self) -> Option<DateTime<Utc>> {
        self.with_offset().map(|t| t.with_timezone(&Utc))
    }

    /// The wall-clock date and time, ignoring any offset.
    pub fn naive(&self) -> Option<NaiveDateTime> {
        if let Some(t) = self.with_offset() {
            return Some(t.naive_local());
        }
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(&self.0, f).ok())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Timestamp {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Timestamp {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}
