//! The vendor endpoints and the rules each enforces.
//!
//! Every request is answered in this order: the vendor's own checks (credentials, limits,
//! parameters), which answer as the real service would; then, for a request that passed
//! them, the injected fault if one is due; else the records. The answer leaves once the
//! configured latency has passed since the request arrived: the mock's own work is part of
//! the latency, not added to it.
//!
//! | rule | answer |
//! |---|---|
//! | no `Authorization` credentials of a scheme the spec names | 401 with the vendor's error body |
//! | a token without the role ([`crate::config::MockConfig::forbid_tokens`]) | 403 with the vendor's error body |
//! | a path no vendor has (a base URL with a wrong path prefix) | 404, the web server's HTML page |
//! | any, when told to redirect ([`crate::config::MockConfig::redirect_to`]) | 302 to the prefix plus the path and query |
//! | credentials refused, when told to echo them ([`crate::config::MockConfig::echo_token`]) | 401 whose message quotes the token |
//!
//! What each operation checks and answers is its spec's: see [`generic`]. `answer.rs`
//! holds the answer every handler writes, `incoming.rs` the flow every vendor request
//! takes (faults, rate limits, latency, the log); this file holds the router, redirects,
//! the HTML 404 and the token endpoint.

mod answer;
pub mod generic;
mod incoming;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::post;

use crate::shared::Shared;
use answer::Answer;

type AppState = State<Arc<Shared>>;

/// The router of every vendor endpoint and the token endpoint.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let routes = Router::new().route("/oauth/token", post(oauth_token));
    let routes = generic::routes(routes).fallback(unrouted);
    // Only a mock told to redirect pays for the layer on every request.
    let routes = if shared.config.redirect_to.is_some() {
        routes.layer(axum::middleware::from_fn_with_state(
            Arc::clone(&shared),
            redirecting,
        ))
    } else {
        routes
    };
    routes.with_state(shared)
}

/// Every request redirected, before anything else, when the config says so
/// ([`crate::config::MockConfig::redirect_to`]): `302` to the prefix plus the request's path and
/// query.
async fn redirecting(
    State(shared): AppState,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(prefix) = &shared.config.redirect_to else {
        return next.run(request).await;
    };
    // (Installed only when the config redirects.)
    shared.redirected();
    let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let location = format!("{prefix}{target}");
    let mut answer = Answer::empty(302);
    answer.content_type = "text/plain; charset=utf-8";
    answer.header(header::LOCATION, &location).into_response()
}

/// Any path no vendor has: the HTML 404 page of the web server in front of the vendors, as
/// a base URL with a wrong path prefix meets it.
async fn unrouted(State(shared): AppState) -> Response {
    shared.unrouted();
    Answer::html(404, "404 Not Found").into_response()
}

/// `POST /oauth/token`: the client credentials grant (see [`crate::access::OAuthClient`]).
async fn oauth_token(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let (status, json) = crate::access::token_answer(
        shared.config.oauth.as_ref(),
        shared.config.seed,
        &shared.tokens,
        authorization,
        &body,
    );
    let mut answer = Answer::json(status, json.to_string());
    answer = answer.header(header::CACHE_CONTROL, "no-store");
    answer.into_response()
}
