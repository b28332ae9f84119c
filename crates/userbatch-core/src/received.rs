//! When a response has been received in full, before it is decoded.
//!
//! A batch bounds the requests in flight at the vendor. A request stops being in flight
//! once its response body has arrived; decoding it is the caller's own work, and holding
//! the concurrency slot through it would keep the next request from starting. The vendor
//! crates' `exec` hook reads the whole body, then drops the guard that
//! [`release_when_received`] put around the call, then hands the buffered response to the
//! generated code, which decodes it.

use std::cell::RefCell;
use std::future::Future;

use reqwest::ResponseBuilderExt as _;

tokio::task_local! {
    static GUARD: RefCell<Option<Box<dyn Send>>>;
}

/// Runs `call` (one generated-client call) and drops `guard` as soon as that call's
/// response has been received in full, or when `call` ends, whichever comes first.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(4));
/// let permit = slots.clone().acquire_owned().await.unwrap();
/// // Inside, a vendor client's request gives the slot back once its body has arrived.
/// userbatch_core::release_when_received(permit, async {}).await;
/// assert_eq!(slots.available_permits(), 4);
/// # }
/// ```
pub async fn release_when_received<F: Future>(guard: impl Send + 'static, call: F) -> F::Output {
    GUARD.scope(RefCell::new(Some(Box::new(guard))), call).await
}

/// Sends `request` and reads its whole body, then drops the guard of the enclosing
/// [`release_when_received`], if any. The response handed back holds the body in memory.
///
/// The vendor crates' `exec` hook (see [`vendor_client_support!`](crate::vendor_client_support));
/// errors are `reqwest`'s, as from `Client::execute`.
pub async fn execute_buffered(
    client: &reqwest::Client,
    request: reqwest::Request,
) -> reqwest::Result<reqwest::Response> {
    let result = read_whole(client, request).await;
    // Dropped whether the body arrived or the request failed: either way the request is
    // no longer in flight.
    if let Ok(Some(guard)) = GUARD.try_with(|guard| guard.borrow_mut().take()) {
        drop(guard);
        // Dropping a permit wakes the next request's task into this worker's LIFO slot,
        // which no other worker may steal: without a yield it would wait for this
        // response's decoding (milliseconds for a large body) before it could be sent.
        tokio::task::yield_now().await;
    }
    result
}

async fn read_whole(
    client: &reqwest::Client,
    request: reqwest::Request,
) -> reqwest::Result<reqwest::Response> {
    let response = client.execute(request).await?;
    let mut head = http::Response::builder()
        .status(response.status())
        .version(response.version())
        .url(response.url().clone());
    if let Some(headers) = head.headers_mut() {
        *headers = response.headers().clone();
    }
    let body = response.bytes().await?;
    let buffered = head
        .body(body)
        .expect("status, version and headers come from a valid response");
    Ok(reqwest::Response::from(buffered))
}
