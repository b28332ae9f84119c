//! The vendor's error answers, written where its spec says: the error body at
//! `error-message`, or the web server's HTML page for a status in `html-statuses`; and its
//! throttling status.

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::spec::vendor;
use crate::vendor::Vendor;
use crate::vendors::answer::Answer;

/// An error answer with `message` where the spec's `error-message` points (`""`: the
/// body is the message itself; none: `{"message": ...}`), or the web server's HTML page
/// for a status in `html-statuses`.
pub(in crate::vendors) fn error_answer(vendor: Vendor, status: u16, message: &str) -> Answer {
    let spec = self::vendor(vendor);
    if spec.quirks.html_statuses.contains(&status) {
        let reason = StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        return Answer::html(status, &format!("{status} {reason}"));
    }
    let pointer = spec.rules.error_message.as_deref().unwrap_or("/message");
    let mut body = Value::String(message.to_owned());
    for token in pointer.rsplit('/').filter(|t| !t.is_empty()) {
        let mut object = Map::new();
        object.insert(token.replace("~1", "/").replace("~0", "~"), body);
        body = Value::Object(object);
    }
    Answer::json(status, body.to_string())
}

/// The vendor's first throttling status.
pub(in crate::vendors) fn throttle_status(vendor: Vendor) -> u16 {
    self::vendor(vendor)
        .rules
        .throttle_statuses
        .first()
        .copied()
        .unwrap_or(429)
}
