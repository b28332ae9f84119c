//! The answer a handler writes: status, content type, body and headers, and where a fault
//! cuts the body short.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

/// What to send back.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) content_type: &'static str,
    pub(super) body: Bytes,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    /// Send this many body bytes, then close the connection.
    pub(super) cut_after: Option<usize>,
}

impl Answer {
    pub(super) fn json(status: u16, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            content_type: "application/json; charset=utf-8",
            body: body.into(),
            headers: Vec::new(),
            cut_after: None,
        }
    }

    /// A JSON body `{"message": ...}`.
    pub(super) fn message(status: u16, message: &str) -> Self {
        Self::json(
            status,
            serde_json::json!({ "message": message }).to_string(),
        )
    }

    pub(super) fn html(status: u16, title: &str) -> Self {
        Self {
            status,
            content_type: "text/html; charset=utf-8",
            body: format!(
                "<!DOCTYPE html><html><head><title>{title}</title></head>\
                 <body><h1>{title}</h1></body></html>"
            )
            .into(),
            headers: Vec::new(),
            cut_after: None,
        }
    }

    pub(super) fn empty(status: u16) -> Self {
        Self {
            status,
            content_type: "application/json; charset=utf-8",
            body: Bytes::new(),
            headers: Vec::new(),
            cut_after: None,
        }
    }

    pub(super) fn header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    pub(super) fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, self.content_type);
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        let body = match self.cut_after {
            None => Body::from(self.body),
            Some(n) => {
                // Announce the whole length, send part of it, then fail the body: hyper
                // closes the connection mid-response.
                builder = builder.header(header::CONTENT_LENGTH, self.body.len());
                let part = self.body.slice(..n.min(self.body.len()));
                // The pause lets hyper flush the head and the part before the body fails.
                Body::from_stream(futures_util::stream::unfold(
                    (0u8, part),
                    |(step, part)| async move {
                        match step {
                            0 => Some((Ok(part.clone()), (1, part))),
                            1 => {
                                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                                let cut =
                                    std::io::Error::other("connection closed by fault injection");
                                Some((Err(cut), (2, part)))
                            }
                            _ => None,
                        }
                    },
                ))
            }
        };
        builder
            .body(body)
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }
}
