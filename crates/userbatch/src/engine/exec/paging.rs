//! Every page of a paged request.

use std::borrow::Cow;

use userbatch_core::{Operation, PageRequest};

use crate::engine::exec::state::{Exec, Page};
use crate::error::FetchError;

impl<O: Operation> Exec<O> {
    /// Every page for `ids`, as many as the vendor's total says the ids could fill.
    pub(in crate::engine) async fn fetch_all(
        &self,
        ids: &[String],
    ) -> Result<Vec<Page>, FetchError> {
        match self.fetch_pages(ids, true).await {
            (pages, None) => Ok(pages),
            (_, Some(error)) => Err(error),
        }
    }

    /// [`Exec::fetch_all`], keeping the pages received when a later one fails: the pages,
    /// and the first error if any page failed. A `probe`'s requests do not wait for the
    /// probe to end.
    pub(in crate::engine) async fn fetch_pages(
        &self,
        ids: &[String],
        probe: bool,
    ) -> (Vec<Page>, Option<FetchError>) {
        let rules = self.op.rules();
        // As the wire wants them (`007` goes out as `7`).
        let wire: Cow<'_, [String]> = if ids.iter().all(|id| rules.ids.wire(id) == id) {
            Cow::Borrowed(ids)
        } else {
            Cow::Owned(ids.iter().map(|id| rules.ids.wire(id).to_owned()).collect())
        };
        let Some(paging) = &rules.paging else {
            return match self.fetch_page(&wire, None, probe).await {
                Ok(page) => (vec![page], None),
                Err(error) => (Vec::new(), Some(error)),
            };
        };
        let size = self.op.page_size().max(1);
        let first = PageRequest {
            index: paging.first_index,
            size,
        };
        let page = match self.fetch_page(&wire, Some(first), probe).await {
            Ok(page) => page,
            Err(error) => return (Vec::new(), Some(error)),
        };
        // Without a total there is no telling how many pages there are: the ids the first
        // page does not account for are asked again ([`Exec::account`]).
        let Some(total) = page.total else {
            return (vec![page], None);
        };
        let got = page.records.len() as u64;
        let expected = total.min(ids.len() as u64);
        // A server may cap the page size below what was asked: a short first page that is
        // not the last one tells its real size, and the next pages are asked at that size.
        let per_page = if got > 0 && got < u64::from(size) && got < expected {
            got
        } else {
            u64::from(size)
        };
        // Never more pages than the ids could fill, whatever the server claims.
        let pages = expected.div_ceil(per_page).max(1);
        let per_page = u32::try_from(per_page).unwrap_or(size);
        let rest: Vec<_> = (1..pages)
            .map(|i| {
                let index = paging.first_index + u32::try_from(i).unwrap_or(u32::MAX);
                let page = PageRequest {
                    index,
                    size: per_page,
                };
                self.fetch_page(&wire, Some(page), probe)
            })
            .collect();
        let mut all = vec![page];
        let mut first_error = None;
        for page in futures_util::future::join_all(rest).await {
            match page {
                Ok(page) => all.push(page),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        (all, first_error)
    }
}
