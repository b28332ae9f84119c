//! Every vendor, served from its spec alone: each operation with `x-userbatch` answered as
//! its rules say, with records made from its schema, and each `update-operation` they link.
//! Nothing here names a vendor; what the rules cannot say comes from the spec's
//! `x-userbatch-mock` ([`MockQuirks`](userbatch_core::rules::MockQuirks)).
//!
//! | rule | answer |
//! |---|---|
//! | no `Authorization` of a scheme the spec's `securitySchemes` name | 401 |
//! | a path parameter value [`crate::config::MockConfig::path_values`] does not list | 404 with the error body at `error-message` |
//! | a query string over `limits.max-query-bytes` as sent | 414 |
//! | ids not written as `ids.in`/`encoding` say, an id not of `ids.type` (integers as they print, at most 19 digits), or an empty one outside a body | 400 |
//! | more than `limits.max-ids`, or a segment over `limits.max-segment-chars` | 400 |
//! | a required parameter missing; a value outside its `enum` (or `accepted-values`), an integer parameter that is not one or is under its `minimum` | 400 |
//! | an `Accept` parameter without `application/json` (the mock writes only JSON) | 406 |
//! | an attribute `attributes` does not know, or a single-id one with several ids | 400 |
//! | a page index under `paging.first-index`, a page size under 1, or either not a 32-bit integer | 400 |
//! | unknown ids ([`crate::config::MockConfig::missing_ids`]); integer ids beyond 64 bits; empty ids in a body | left out; for `unknown-ids: {fails-request: S}` (and `omitted-or-fails-request` when [`crate::config::MockConfig::unknown_ids`] says so), S for the whole request |
//! | found ids | records at `records.pointer` (inside their envelope, its other fields made from its schema), each once, in request order (`vendor-order`: the mock's own), `partial.unpopulated` left out, only the summary attributes plus those asked for; paged by `paging` (capped by [`crate::config::MockConfig::max_page_size`]), the total at its `total-pointer`, the page's index and size beside it |
//! | a single-record operation (`records.many: false`) asked for an unknown id | 404 with the error body |
//! | an update whose body is not a whole record of its schema with its id | 400 |
//! | an update | 200, `update-answer` (or its response schema); fields absent from the body are reported cleared, as a vendor clears them; later reads return the record sent |
//! | an error status in `html-statuses` | the web server's HTML page instead of the error body |
//! | a path another vendor's spec has too | not served (one origin cannot serve a path twice; said on standard error) |
//!
//! `spec.rs` reads the specs into operations, `request.rs` reads what a request sends,
//! `check.rs` makes the vendor's checks, `batch.rs` answers a batch operation and
//! `update.rs` an update; `error.rs` writes the vendor's error answers. This file routes
//! each operation to its handler.

mod batch;
mod check;
pub(super) mod error;
mod request;
mod spec;
mod update;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::routing::{MethodFilter, on};

use crate::shared::Shared;
use crate::vendor::Vendor;
use batch::serve;
pub(crate) use spec::SPECS;
use spec::vendor;
use update::update;

/// The routes of every operation of every vendor.
pub(crate) fn routes(mut router: Router<Arc<Shared>>) -> Router<Arc<Shared>> {
    // One origin cannot serve a path twice (axum refuses it by panicking): the first spec
    // to declare a path has it.
    let mut taken: Vec<(Vendor, &str)> = Vec::new();
    for v in Vendor::ALL {
        let spec = vendor(v);
        let batch = spec.operations.iter().enumerate().map(|(i, op)| {
            let route = (&op.method, op.path.as_str());
            (route, Served::Batch(i))
        });
        let updates = spec.updates.iter().enumerate().map(|(i, up)| {
            let route = (&up.method, up.path.as_str());
            (route, Served::Update(i))
        });
        let mut mine: Vec<&str> = Vec::new();
        for ((method, path), served) in batch.chain(updates).collect::<Vec<_>>() {
            let Ok(filter) = MethodFilter::try_from(method.clone()) else {
                continue;
            };
            if let Some((other, _)) = taken.iter().find(|(_, p)| same_route(p, path)) {
                eprintln!(
                    "userbatch-mock: {method} {path} of {} is also a path of {}: not served",
                    v.name(),
                    other.name()
                );
                continue;
            }
            mine.push(path);
            router = router.route(
                path,
                on(
                    filter,
                    move |State(shared): State<Arc<Shared>>,
                          method: Method,
                          uri: Uri,
                          headers: HeaderMap,
                          body: Bytes| async move {
                        match served {
                            Served::Batch(i) => {
                                serve(
                                    shared,
                                    spec,
                                    &spec.operations[i],
                                    method,
                                    uri,
                                    headers,
                                    body,
                                )
                                .await
                            }
                            Served::Update(i) => {
                                update(shared, spec, &spec.updates[i], method, uri, headers, body)
                                    .await
                            }
                        }
                    },
                ),
            );
        }
        taken.extend(spec.all_paths.iter().map(|p| (v, p.as_str())));
    }
    router
}

/// Which operation of a vendor a route serves.
#[derive(Clone, Copy)]
enum Served {
    Batch(usize),
    Update(usize),
}

/// Whether axum would take two path templates for one route (`/a/{x}` and `/a/{y}`).
fn same_route(a: &str, b: &str) -> bool {
    let shape = |p: &str| -> Vec<String> {
        p.split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "{}".to_owned()
                } else {
                    s.to_owned()
                }
            })
            .collect()
    };
    shape(a) == shape(b)
}
