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
