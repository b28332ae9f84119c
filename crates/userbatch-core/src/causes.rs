//! [`Causes`]: an error with its causes, on one line.

use std::fmt;

/// An error's message followed by each cause its message does not already say, as
/// `message: cause: cause` (the way `anyhow` prints `{:#}`). The `Debug` of this crate's
/// errors, so that `fn main() -> Result<(), E>` prints the message, not the fields.
///
/// ```
/// let e = std::io::Error::other("disk full");
/// assert_eq!(userbatch_core::Causes(&e).to_string(), "disk full");
/// ```
#[derive(Clone, Copy)]
pub struct Causes<'a>(pub &'a (dyn std::error::Error + 'a));

impl fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut said = self.0.to_string();
        f.write_str(&said)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            let text = e.to_string();
            if !said.contains(&text) {
                write!(f, ": {text}")?;
                said.push_str(&text);
            }
            cause = e.source();
        }
        Ok(())
    }
}

impl fmt::Debug for Causes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use crate::error::ClientError;
    use crate::plan::PlanError;

    /// An error with a cause of its own, as `reqwest` errors have.
    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("the request failed")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn debug_is_the_message_with_each_cause_once() {
        // What `fn main() -> Result<(), ClientError>` prints after `Error: `.
        assert_eq!(
            format!("{:?}", ClientError::Status { status: 401 }),
            "the vendor answered HTTP 401"
        );
        let outer = Outer(std::io::Error::other("connection reset"));
        assert_eq!(
            super::Causes(&outer).to_string(),
            "the request failed: connection reset"
        );
        // A cause the message already quotes is not said twice.
        let ids = ClientError::Ids(PlanError::NoIds);
        assert_eq!(format!("{ids:?}"), "no ids to fetch");
        // An id is cut in Debug as in Display: a megabyte line stays off the terminal.
        let long = PlanError::InvalidId {
            id: "x".repeat(100_000),
            index: 0,
            reason: crate::plan::InvalidId::NotAnInteger,
        };
        assert!(format!("{long:?}").len() < 200, "{long:?}");
    }
}
