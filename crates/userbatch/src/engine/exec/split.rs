//! Where ids are split when a request fails: a failure one id could cause is narrowed
//! down by probing and halving the request, so the other ids still come back.

use std::sync::Arc;

use userbatch_core::Operation;

use crate::engine::exec::health::unproven;
use crate::engine::exec::state::{Exec, Held, Page};
use crate::engine::report::{Outcome, append, failed, one_per_id, push_failed};
use crate::error::{ErrorKind, FetchError};

impl<O: Operation> Exec<O> {
    /// Every id of `ids` accounted for, in order, as outcomes (adjacent failures with the
    /// same error merged).
    ///
    /// A failure one bad id could have caused ([`FetchError::is_caused_by_an_id`]) is
    /// narrowed down, so the good ids still come back: the request is split in halves until
    /// the bad ids stand alone, about (bad ids) x log2(request size) extra requests. Until
    /// some answer proved the requests sound, [`Exec::probe`] first tells a bad id from a
    /// bad request. A body over the size cap is split the same way. Any other failure is
    /// the request's: its ids fail with it ([`Exec::strike`]). A paged request whose later
    /// page fails otherwise (or is not sent: the run was stopped) keeps the records of the
    /// pages received; only the ids not on them fail.
    ///
    /// A single id's documented not-found answer, before any answer proved the requests
    /// sound, comes back as a failure of kind [`ErrorKind::NotFound`]: provisional, until
    /// the run can tell ([`settle_unproven`]).
    pub(in crate::engine) fn resolve(
        self: &Arc<Self>,
        ids: Vec<String>,
    ) -> futures_util::future::BoxFuture<'_, Vec<Outcome<O::Record>>> {
        Box::pin(async move {
            if let Some(error) = self.fault() {
                return failed(ids, error);
            }
            if self.stopper.is_stopped() {
                return failed(ids, FetchError::new(ErrorKind::Interrupted));
            }
            let (pages, error) = self.fetch_pages(&ids, false).await;
            let Some(error) = error else {
                return self.settle(ids, pages, None).await;
            };
            let splittable =
                error.kind == ErrorKind::TooLarge || (error.is_caused_by_an_id() && ids.len() > 1);
            // Paged, and a later page failed for a reason splitting would not mend (or the
            // run was stopped before it): the records of the pages received are kept, the
            // ids not on them fail.
            if !pages.is_empty() && !splittable {
                return self.settle(ids, pages, Some(error)).await;
            }
            if let Some(fault) = self.fault().filter(|f| f.same_answer(&error)) {
                return failed(ids, fault);
            }
            if error.kind == ErrorKind::NotFound && ids.len() == 1 {
                return self.not_found(ids, error);
            }
            if !splittable || ids.len() == 1 {
                let error = self.strike(error);
                return failed(ids, error);
            }
            if error.kind != ErrorKind::TooLarge && !self.is_proven() {
                return self.probe(ids, error).await;
            }
            // Proven: a failure that repeats over the halves (a role revoked mid-run) stops
            // the run after a few, instead of splitting every request down to single ids.
            let error = if error.kind != ErrorKind::NotFound && error.kind != ErrorKind::TooLarge {
                self.strike(error)
            } else {
                error
            };
            if let Some(fault) = self.fault().filter(|f| f.same_answer(&error)) {
                return failed(ids, fault);
            }
            tracing::debug!(
                operation = &*self.op.rules().operation_id,
                status = error.status,
                ids = ids.len(),
                "splitting a request to isolate the ids it fails on: {error}"
            );
            self.split(ids).await
        })
    }

    /// A single id's documented not-found answer: missing, once some answer proved the
    /// requests reach the vendor; until then provisional (see [`Exec::resolve`]).
    pub(in crate::engine) fn not_found(
        &self,
        ids: Vec<String>,
        error: FetchError,
    ) -> Vec<Outcome<O::Record>> {
        if self.is_proven() {
            ids.into_iter().map(Outcome::Missing).collect()
        } else {
            failed(ids, error)
        }
    }

    /// Before any answer proved the requests sound, a failure one bad id could have caused
    /// may also be the request's own (a bad parameter, a token without the role, a
    /// gateway's not-found answer that happens to fit the documented one). One probe at a
    /// time, while new requests wait: the first and the last id are asked for alone. If
    /// both fail as the whole request did (same status, same vendor message) and still
    /// nothing is proven, the request is at fault, and it and every id left in the run
    /// fail with its error, without more requests. Otherwise those two are accounted for
    /// and the ids between them are split as usual.
    pub(in crate::engine) async fn probe(
        self: &Arc<Self>,
        mut ids: Vec<String>,
        error: FetchError,
    ) -> Vec<Outcome<O::Record>> {
        let probing = self.probing.lock().await;
        // Decided while this request waited for the probe before it.
        if let Some(fault) = self.fault().filter(|f| f.same_answer(&error)) {
            return failed(ids, fault);
        }
        if self.is_proven() {
            drop(probing);
            return self.split(ids).await;
        }
        let last = ids.pop().unwrap_or_default();
        let first = ids.remove(0);
        let like_the_request =
            |r: &Result<Vec<Page>, FetchError>| matches!(r, Err(e) if e.same_answer(&error));
        let (a, b) = {
            self.hold.send_replace(true);
            let _held = Held(&self.hold);
            let (a, b) = tokio::join!(
                self.fetch_all(std::slice::from_ref(&first)),
                self.fetch_all(std::slice::from_ref(&last))
            );
            if like_the_request(&a) && like_the_request(&b) {
                // Requests sent before the probe may yet prove the run: their answers first.
                let mut flying = self.in_flight.subscribe();
                let _ = flying.wait_for(|n| *n == 0).await;
            }
            (a, b)
        };
        if like_the_request(&a) && like_the_request(&b) && !self.is_proven() {
            let fault = self.fail_run(&unproven(error));
            ids.insert(0, first);
            ids.push(last);
            return failed(ids, fault);
        }
        drop(probing);
        let mut out = self.alone(first, a).await;
        let middle = self.split(ids).await;
        append(&mut out, middle);
        append(&mut out, self.alone(last, b).await);
        out
    }

    /// The outcome of a request for `id` alone.
    pub(in crate::engine) async fn alone(
        self: &Arc<Self>,
        id: String,
        result: Result<Vec<Page>, FetchError>,
    ) -> Vec<Outcome<O::Record>> {
        match result {
            Ok(pages) => self.settle(vec![id], pages, None).await,
            Err(e) if e.kind == ErrorKind::NotFound => self.not_found(vec![id], e),
            Err(e) => failed(vec![id], self.strike(e)),
        }
    }

    /// `ids` in two halves, each resolved on its own (one request, if one id is left).
    pub(in crate::engine) async fn split(
        self: &Arc<Self>,
        ids: Vec<String>,
    ) -> Vec<Outcome<O::Record>> {
        if ids.len() <= 1 {
            return if ids.is_empty() {
                Vec::new()
            } else {
                self.resolve(ids).await
            };
        }
        let right = ids[ids.len() / 2..].to_vec();
        let mut left = ids;
        left.truncate(left.len() / 2);
        let (mut a, b) = tokio::join!(self.resolve(left), self.resolve(right));
        append(&mut a, b);
        a
    }

    /// The outcomes of a request's answer ([`Exec::account`]), the ids the answer could not
    /// account for asked again in a new request.
    pub(in crate::engine) async fn settle(
        self: &Arc<Self>,
        ids: Vec<String>,
        pages: Vec<Page>,
        cut_short: Option<FetchError>,
    ) -> Vec<Outcome<O::Record>> {
        let slots = self.account(&ids, &pages, cut_short);
        drop(pages);
        let again: Vec<String> = ids
            .iter()
            .zip(&slots)
            .filter(|(_, slot)| slot.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        let mut more = Vec::new().into_iter();
        if !again.is_empty() {
            tracing::debug!(
                operation = &*self.op.rules().operation_id,
                ids = again.len(),
                "asking again for the ids the vendor's pages did not account for"
            );
            more = one_per_id(self.resolve(again).await).into_iter();
        }
        let mut out = Vec::with_capacity(ids.len());
        for (id, slot) in ids.into_iter().zip(slots) {
            match slot.or_else(|| more.next()) {
                Some(Outcome::Failed(failure)) => {
                    for id in failure.ids {
                        push_failed(&mut out, id, failure.error.clone());
                    }
                }
                Some(outcome) => out.push(outcome),
                // Never: one outcome comes back per id asked again. Still, no id is lost.
                None => push_failed(
                    &mut out,
                    id,
                    FetchError::new(ErrorKind::Request).with_detail("no outcome (a bug)"),
                ),
            }
        }
        out
    }
}
