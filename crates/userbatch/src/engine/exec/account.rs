//! Matching an answer's records to the ids asked for: found, missing, unrequested.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::Ordering;

use userbatch_core::json::{self, IdError};
use userbatch_core::{Operation, RawRecord};

use crate::engine::exec::state::{Exec, Page};
use crate::engine::report::{FoundRecord, Outcome, one_failed};
use crate::error::{ErrorKind, FetchError};

impl<O: Operation> Exec<O> {
    /// Each requested id's outcome from the pages of one answer, matched by the record's
    /// own id (read from the spec's id field, compared as the vendor compares ids) and
    /// decoded on its own: a record that does not decode fails only its id. Records nobody
    /// asked for are counted, never decoded. `None` for an id to ask again.
    ///
    /// An id is missing only when the answer could have carried it and did not: a success
    /// answer of an operation that leaves unknown ids out, which carries no record nobody
    /// asked for, no record whose id cannot be read, and, paged, whose pages hold every
    /// record its total counts. Otherwise the ids it left out fail, saying why; ids that
    /// paging that did not add up left out are asked again while the answers bring new
    /// records.
    pub(in crate::engine) fn account(
        &self,
        ids: &[String],
        pages: &[Page],
        cut_short: Option<FetchError>,
    ) -> Vec<Option<Outcome<O::Record>>> {
        let rules = self.op.rules();
        let by_key: HashMap<Cow<'_, str>, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (rules.ids.key(id), i))
            .collect();
        let mut at: Vec<Option<(usize, usize)>> = vec![None; ids.len()];
        let mut ambiguous: Vec<Option<&'static str>> = vec![None; ids.len()];
        let (mut unexpected, mut unreadable, mut other) = (0u64, None, None);
        for (p, page) in pages.iter().enumerate() {
            for (r, entry) in page.records.iter().enumerate() {
                match &entry.id {
                    Ok(id) => match by_key.get(&*rules.ids.key(id)) {
                        Some(&i) => match at[i] {
                            None => at[i] = Some((p, r)),
                            Some((p0, r0)) => {
                                let first = &pages[p0].body[pages[p0].records[r0].span.clone()];
                                if *first != page.body[entry.span.clone()] {
                                    ambiguous[i] =
                                        Some("the answer holds two different records for it");
                                }
                            }
                        },
                        None => {
                            unexpected += 1;
                            other.get_or_insert_with(|| id.clone());
                        }
                    },
                    Err(IdError::Conflicting(a, b)) => {
                        let mut named = false;
                        for id in [a, b] {
                            if let Some(&i) = by_key.get(&*rules.ids.key(id)) {
                                ambiguous[i] = Some(
                                    "a record's id field appears twice: as this id and as another",
                                );
                                named = true;
                            }
                        }
                        if !named {
                            unexpected += 1;
                        }
                    }
                    Err(e) => unreadable = Some(e.clone()),
                }
            }
        }
        let found = at.iter().filter(|a| a.is_some()).count();
        if unexpected > 0 {
            self.unexpected.fetch_add(unexpected, Ordering::Relaxed);
            tracing::warn!(
                operation = &*rules.operation_id,
                unexpected,
                "the vendor answered with records whose ids were not asked for"
            );
        }
        if found > 0 {
            crate::partial::warn_once(rules);
        }
        if found == 0
            && unexpected > 0
            && unreadable.is_none()
            && ambiguous.iter().all(Option::is_none)
        {
            let detail = match (rules.records.many, other) {
                // Not the id asked for: requests that fail alike must say the same.
                (false, Some(other)) => format!(
                    "the answer is the record of {}, not of the id asked for",
                    json::cut(&self.op.scrubber().scrub(&other))
                ),
                // No counts: requests that fail alike must say the same ([`Exec::strike`]).
                _ => "none of the ids asked for came back, only records of other ids: the \
                      vendor ignored the id filter"
                    .to_owned(),
            };
            let error = self.strike(FetchError::new(ErrorKind::Unrequested).with_detail(detail));
            return ids.iter().map(|id| Some(one_failed(id, &error))).collect();
        }
        // Paged: every record the vendor's total counts must be on the pages.
        let gap =
            rules
                .paging
                .as_ref()
                .and_then(|paging| match pages.first().and_then(|p| p.total) {
                    Some(total) if total == found as u64 => None,
                    Some(total) => Some(format!(
                        "`{}` says {total}, and the pages held {found} of the {} id(s) asked for",
                        paging.total_pointer,
                        ids.len()
                    )),
                    None => Some(format!("the answer has no `{}`", paging.total_pointer)),
                });
        let again = found > 0 && unexpected == 0 && unreadable.is_none() && cut_short.is_none();
        // A record asked for, or a trusted answer (none unreadable, named twice or nobody
        // asked for, paging that adds up: an empty answer of an operation that leaves
        // unknown ids out): the requests reach the vendor.
        let trusted = unexpected == 0
            && unreadable.is_none()
            && cut_short.is_none()
            && ambiguous.iter().all(Option::is_none)
            && gap.is_none()
            && (found > 0 || rules.unknown_ids.may_omit());
        if trusted || found > 0 {
            self.prove();
        }
        let mut out = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if let Some(why) = ambiguous[i] {
                let error = FetchError::new(ErrorKind::Ambiguous).with_detail(why);
                out.push(Some(one_failed(id, &error)));
                continue;
            }
            if let Some((p, r)) = at[i] {
                let page = &pages[p];
                let entry = &page.records[r];
                let text = &page.body[entry.span.clone()];
                let decoded = if entry.checked {
                    self.op.decode_checked(text)
                } else {
                    self.op.decode(text)
                };
                out.push(Some(match decoded {
                    Ok(record) => Outcome::Found(FoundRecord {
                        id: id.clone(),
                        record,
                        raw: RawRecord::new(&page.body, entry),
                    }),
                    Err(e) => {
                        let error = self.scrub(FetchError::from(e));
                        tracing::debug!(operation = &*rules.operation_id, "{error}");
                        one_failed(id, &error)
                    }
                }));
                continue;
            }
            // Not in the answer: missing only if the answer could have carried it.
            let error = if let Some(error) = &cut_short {
                // On a page that was not received, perhaps.
                Some(error.clone())
            } else if let Some(e) = &unreadable {
                // A record whose id could not be read may be this id's.
                Some(FetchError::new(ErrorKind::Decode).with_detail(format!(
                    "{e} (field `{}`), so ids without a record cannot be told missing",
                    rules.records.id_field
                )))
            } else if unexpected > 0 {
                Some(FetchError::new(ErrorKind::Unrequested).with_detail(format!(
                    "the answer also held {unexpected} record(s) not asked for, so the ids \
                     it left out cannot be called missing"
                )))
            } else if !trusted && ambiguous.iter().any(Option::is_some) {
                Some(FetchError::new(ErrorKind::Ambiguous).with_detail(
                    "the answer names some id more than once, so the ids it left out cannot \
                     be called missing",
                ))
            } else if let Some(gap) = &gap {
                if again {
                    out.push(None);
                    continue;
                }
                Some(FetchError::new(ErrorKind::Paging).with_detail(gap.clone()))
            } else if !rules.unknown_ids.may_omit() {
                Some(FetchError::new(ErrorKind::Decode).with_detail(
                    "the answer left this id out, where the spec says an unknown id fails \
                     the request",
                ))
            } else {
                None
            };
            out.push(Some(match error {
                Some(error) => one_failed(id, &error),
                None => Outcome::Missing(id.clone()),
            }));
        }
        out
    }
}
