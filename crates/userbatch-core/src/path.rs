//! Path parameters stay one segment: no value may add, remove or climb a segment of the
//! request's path template.
//!
//! The generated clients percent-encode path parameters (`/`, `?`, `#`, `%`, spaces,
//! control characters and non-ASCII all are), but not `\`, which URL parsers read as `/`
//! for `http` and `https`, and a value that is `.` or `..` becomes a dot segment that
//! climbs. [`check_segment`] refuses those before any request (the batch planner and the
//! batch operations call it); the vendor crates' request hook checks every request's path
//! against its template with [`within_template`], whatever built it.

use std::fmt;

/// Why a value cannot be a path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentError {
    /// The empty string: the segment would vanish.
    Empty,
    /// `.` or `..`: a dot segment, which a URL resolves away or climbs with.
    DotSegment,
    /// A character that URL parsers turn into a separator (`\`) or that has no place in a
    /// path (a control character).
    Char(char),
}

impl fmt::Display for SegmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("it is empty"),
            Self::DotSegment => f.write_str("`.` and `..` would climb the request's path"),
            Self::Char(c) => write!(
                f,
                "it contains {c:?}, which would change the request's path"
            ),
        }
    }
}

impl std::error::Error for SegmentError {}

/// Whether `value` can go into a path segment (percent-encoded as the generated clients do)
/// and stay exactly one segment that decodes back to `value`.
///
/// ```
/// use userbatch_core::path::{SegmentError, check_segment};
///
/// assert!(check_segment("c1 %2F?#é").is_ok()); // all percent-encoded
/// assert_eq!(check_segment(".."), Err(SegmentError::DotSegment));
/// assert_eq!(check_segment(r"a\b"), Err(SegmentError::Char('\\')));
/// assert_eq!(check_segment("a\nb"), Err(SegmentError::Char('\n')));
/// ```
pub fn check_segment(value: &str) -> Result<(), SegmentError> {
    if value.is_empty() {
        return Err(SegmentError::Empty);
    }
    if value == "." || value == ".." {
        return Err(SegmentError::DotSegment);
    }
    match value.chars().find(|c| *c == '\\' || c.is_control()) {
        Some(c) => Err(SegmentError::Char(c)),
        None => Ok(()),
    }
}

/// Whether the request path `path` is the path template `template` (`/users/{ids}`) below
/// the base path `base` (the base URL's path, `""` for none): as many segments, every
/// literal one equal, every parameter one not empty.
///
/// ```
/// use userbatch_core::path::within_template;
///
/// let t = "/partner/v3/customers/{customerId}/users/batch";
/// assert!(within_template("/partner/v3/customers/c%201/users/batch", "", t));
/// assert!(within_template("/api/partner/v3/customers/c/users/batch", "/api", t));
/// assert!(!within_template("/admin/delete/users/batch", "", t));
/// assert!(!within_template("/partner/v3/customers/a/b/users/batch", "", t));
/// assert!(!within_template("/partner/v3/customers//users/batch", "", t));
/// ```
pub fn within_template(path: &str, base: &str, template: &str) -> bool {
    let Some(rest) = path.strip_prefix(base.trim_end_matches('/')) else {
        return false;
    };
    let mut got = rest.split('/');
    let mut want = template.split('/');
    loop {
        match (got.next(), want.next()) {
            (None, None) => return true,
            (Some(g), Some(w)) if w.starts_with('{') && w.ends_with('}') => {
                if g.is_empty() {
                    return false;
                }
            }
            (Some(g), Some(w)) if g == w => {}
            _ => return false,
        }
    }
}
