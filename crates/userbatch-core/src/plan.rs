//! Planning: dedupe, validate every id, and chunk by every limit of the operation's rules.
//!
//! Nothing here knows a vendor: the rules (`x-userbatch` in the specs, the vendor crates'
//! `rules` constants) say where ids go, how they are written and what a request may hold;
//! the costs are computed with the same encoders the generated clients use, so "2,048
//! bytes as sent" means as sent. It is pure (no I/O, no runtime): a consumer of one vendor
//! crate plans with it and sends each request with the generated client.
//!
//! ```
//! use userbatch_core::plan::Planner;
//! use userbatch_core::rules::{Answers, IdEncoding, IdKind, IdLocation, Ids, Limits,
//!     OperationRules, Records, UnknownIds};
//! use std::borrow::Cow::Borrowed;
//!
//! // What a vendor crate's `rules::GET_USERS` says (Nexudus: `?id=[1,2,3]`, 2,048 bytes).
//! static GET_USERS: OperationRules = OperationRules {
//!     operation_id: Borrowed("getUsers"), resource: Borrowed("users"),
//!     ids: Ids { location: IdLocation::Query, name: Borrowed("id"),
//!         encoding: IdEncoding::BracketedCsv, kind: IdKind::Integer, forbidden_chars: Borrowed(""),
//!         case_insensitive: false },
//!     limits: Limits { max_ids: None, max_query_bytes: Some(2048), max_segment_chars: None },
//!     records: Records::list("", "Id"),
//!     paging: None, partial: None, unknown_ids: UnknownIds::Omitted, attributes: None,
//!     update_operation: None, skip_parameters: Borrowed(&[]), answers: Answers::json(),
//! };
//!
//! let planner = Planner::new(&GET_USERS);
//! let plan = planner.plan((1..=1000).map(|i| (1_000_000 + i).to_string()))?;
//! assert_eq!(plan.chunks.len(), 5); // 2,048 bytes of query each, as sent (`,` is `%2C`)
//! let first = planner.join(plan.ids.iter().take(2));
//! assert_eq!(first, "[1000001,1000002]");
//! assert!(planner.plan(["1", "x"]).is_err()); // refused before anything is sent
//! # Ok::<(), userbatch_core::plan::PlanError>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use crate::rules::{IdEncoding, IdKind, IdLocation, OperationRules};

/// Requests for operations whose vendor documents no id limit carry at most this many ids
/// (AvePoint): one request body stays small, chunks can run concurrently, and a stream of a
/// million ids keeps its memory bounded. [`Planner::max_batch`] changes it.
pub const DEFAULT_MAX_IDS_WITHOUT_VENDOR_LIMIT: usize = 1000;

/// Why a list of ids was refused before any request was sent. `Debug` prints what
/// `Display` does (an id cut after 40 characters), as `fn main() -> Result<..>` shows it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanError {
    /// The list holds no id.
    NoIds,
    /// One id cannot be sent; the whole list is refused so that nothing is half-done.
    InvalidId {
        /// The id as given.
        id: String,
        /// Its position in the input (0-based, duplicates counted).
        index: usize,
        /// Why.
        reason: InvalidId,
    },
    /// A parameter of the operation (not an id) cannot be sent, e.g. a path parameter that
    /// would change the request's path.
    InvalidParameter {
        /// The parameter, as the spec names it.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// The ids need more than one request where exactly one was asked for
    /// ([`Planner::one_request`]).
    MoreThanOneRequest {
        /// Unique ids.
        ids: usize,
        /// Requests they need.
        requests: usize,
    },
    /// A maximum batch size of 0, or above the vendor's documented limit.
    MaxBatch {
        /// What was asked for.
        requested: usize,
        /// The vendor's limit, if it has one.
        vendor_limit: Option<usize>,
    },
}

/// Why one id cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidId {
    /// The empty string.
    Empty,
    /// The vendor's ids are integers and this is not one (or does not fit 64 bits).
    NotAnInteger,
    /// It contains a character that would break the request's encoding (e.g. a comma in a
    /// comma-separated list, a slash in a path segment).
    ForbiddenChar(char),
    /// It goes into a path segment and would change the request's path (`.`, `..`, `\`, a
    /// control character).
    Segment(crate::path::SegmentError),
    /// Alone it already exceeds the request's size limit (`limit` bytes or characters).
    TooLong {
        /// The size it would take, as sent.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for InvalidId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("it is empty"),
            Self::NotAnInteger => f.write_str("this vendor's ids are integers"),
            Self::ForbiddenChar(c) => write!(f, "it contains {c:?}, which would break the request"),
            Self::Segment(e) => write!(f, "{e}"),
            Self::TooLong { size, limit } => {
                write!(
                    f,
                    "it takes {size} bytes as sent, more than the request limit of {limit}"
                )
            }
        }
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoIds => f.write_str("no ids to fetch"),
            Self::InvalidId { id, index, reason } => {
                write!(
                    f,
                    "invalid id {} (input position {index}): {reason}",
                    Shown(id)
                )
            }
            Self::InvalidParameter { name, reason } => {
                write!(f, "invalid parameter {name}: {reason}")
            }
            Self::MoreThanOneRequest { ids, requests } => write!(
                f,
                "{ids} ids need {requests} requests under the vendor's limits; plan them \
                 (Planner::plan) and send each request's ids"
            ),
            Self::MaxBatch {
                requested,
                vendor_limit: Some(limit),
            } => write!(
                f,
                "max batch {requested} is not within 1..={limit}, the vendor's limit"
            ),
            Self::MaxBatch { requested, .. } => {
                write!(f, "max batch {requested} must be at least 1")
            }
        }
    }
}

impl std::error::Error for PlanError {}

impl fmt::Debug for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&crate::causes::Causes(self), f)
    }
}

/// An id as errors show it: quoted, and cut after 40 characters (an ids file with a
/// megabyte line must not come back on the terminal whole).
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 40;
        let count = self.0.chars().count();
        if count <= MAX {
            return write!(f, "{:?}", self.0);
        }
        let head: String = self.0.chars().take(MAX).collect();
        write!(f, "{head:?}... ({count} characters)")
    }
}

/// Ids stored compactly: one text buffer and where each id ends. A million ids of seven
/// digits take about 11 MB here, against about 40 MB as a `Vec<String>`. The text of all
/// ids together must stay under 4 GiB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdList {
    text: String,
    ends: Vec<u32>,
}

impl IdList {
    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The id at `index`.
    ///
    /// # Panics
    ///
    /// If `index` is out of bounds.
    pub fn get(&self, index: usize) -> &str {
        let start = if index == 0 {
            0
        } else {
            self.ends[index - 1] as usize
        };
        &self.text[start..self.ends[index] as usize]
    }

    /// The ids, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The ids of `range`, owned.
    pub fn to_vec(&self, range: Range<usize>) -> Vec<String> {
        range.map(|i| self.get(i).to_owned()).collect()
    }

    fn with_capacity(ids: usize) -> Self {
        Self {
            text: String::new(),
            ends: Vec::with_capacity(ids),
        }
    }

    /// Removes every id that repeats an earlier one (by `cmp`), keeping first occurrences in
    /// order; returns how many it removed. It sorts a permutation of indices (4 bytes per id)
    /// rather than building a hash table (about 10 bytes per id at a million ids), since
    /// with a million ids this is the run's peak memory.
    fn dedupe(
        &mut self,
        cmp: impl Fn(&str, &str) -> std::cmp::Ordering,
        eq: impl Fn(&str, &str) -> bool,
    ) -> usize {
        let n = self.len();
        // Ids given in increasing order (an export, a range) cannot repeat: no sort.
        if (1..n).all(|i| cmp(self.get(i - 1), self.get(i)).is_lt()) {
            return 0;
        }
        let mut order: Vec<u32> = (0..u32::try_from(n).expect("fewer than 2^32 ids")).collect();
        order.sort_unstable_by(|&a, &b| {
            cmp(self.get(a as usize), self.get(b as usize)).then(a.cmp(&b))
        });
        // Equal ids sit together, first occurrence first; mark the others.
        let mut repeated = vec![0u64; n.div_ceil(64)];
        let mut count = 0;
        for pair in order.windows(2) {
            let (first, next) = (pair[0] as usize, pair[1] as usize);
            if eq(self.get(first), self.get(next)) {
                repeated[next / 64] |= 1 << (next % 64);
                count += 1;
            }
        }
        drop(order);
        if count == 0 {
            return 0;
        }
        // Compact in place: each kept id moves to where the kept text ends so far. Only
        // whole ids move, so the text stays UTF-8; taking it back as a `String` checks that
        // once (a few milliseconds for a million ids) and copies nothing.
        let mut text = std::mem::take(&mut self.text).into_bytes();
        let (mut start, mut written, mut kept) = (0usize, 0usize, 0usize);
        for i in 0..n {
            let end = self.ends[i] as usize;
            if repeated[i / 64] & (1 << (i % 64)) == 0 {
                text.copy_within(start..end, written);
                written += end - start;
                self.ends[kept] = u32::try_from(written).expect("the ids' text is under 4 GiB");
                kept += 1;
            }
            start = end;
        }
        text.truncate(written);
        self.text = String::from_utf8(text).expect("whole ids moved, so still UTF-8");
        self.ends.truncate(kept);
        count
    }

    fn push(&mut self, id: &str) {
        self.text.push_str(id);
        let end = u32::try_from(self.text.len()).expect("the ids' text is under 4 GiB");
        self.ends.push(end);
    }
}

impl<S: AsRef<str>> FromIterator<S> for IdList {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut list = Self::default();
        for id in iter {
            list.push(id.as_ref());
        }
        list
    }
}

/// The most ids [`Planner::plan`] reserves offsets for before it sees them (16 Mi); an
/// iterator that claims more still works, the offsets growing as they fill.
const MAX_PRESIZE: usize = 1 << 24;

/// Unique, valid ids in first-seen order, cut into requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The unique ids as given (the first spelling of each: `007` stays `007`, though it
    /// goes out as `7`), first-seen order. Ids are one id when the vendor compares them
    /// equal ([`crate::rules::Ids::key`]).
    pub ids: IdList,
    /// Each request's ids, as ranges of `ids`, in order.
    pub chunks: Vec<Range<usize>>,
    /// How many input ids were duplicates (of an earlier one), and cost no request.
    pub duplicates: usize,
}

/// How ids are validated, measured and cut into requests for one operation.
#[derive(Debug, Clone, Copy)]
pub struct Planner {
    rules: &'static OperationRules,
    max_ids: usize,
    single_id: bool,
    /// (limit, fixed overhead, separator cost) for the size-limited part of the request.
    size_limit: Option<(usize, usize, usize)>,
}

impl Planner {
    /// The planner for an operation's rules, at the vendor's own limits.
    pub fn new(rules: &'static OperationRules) -> Self {
        Self::with(rules, None, false).expect("no caller's limit to refuse")
    }

    /// At most `max` ids per request: refused if 0 or above the vendor's limit.
    pub fn max_batch(self, max: usize) -> Result<Self, PlanError> {
        Self::with(self.rules, Some(max), self.single_id)
    }

    /// One id per request (e.g. User Manager's attributes valid only for a single user).
    pub fn single_id(self) -> Self {
        Self {
            max_ids: 1,
            single_id: true,
            ..self
        }
    }

    /// The rules it plans for.
    pub fn rules(&self) -> &'static OperationRules {
        self.rules
    }

    fn with(
        rules: &'static OperationRules,
        max_batch: Option<usize>,
        single_id: bool,
    ) -> Result<Self, PlanError> {
        let vendor_max = match rules.ids.encoding {
            IdEncoding::Single => Some(1),
            _ => rules.limits.max_ids,
        };
        let mut max_ids = vendor_max.unwrap_or(DEFAULT_MAX_IDS_WITHOUT_VENDOR_LIMIT);
        if let Some(requested) = max_batch {
            if requested == 0 || vendor_max.is_some_and(|v| requested > v) {
                return Err(PlanError::MaxBatch {
                    requested,
                    vendor_limit: vendor_max,
                });
            }
            max_ids = requested;
        }
        if single_id {
            max_ids = 1;
        }
        let size_limit = match (rules.ids.location, rules.limits) {
            (IdLocation::Query, l) if l.max_query_bytes.is_some() => {
                let limit = l.max_query_bytes.unwrap_or_default();
                // name=<open>...<close>
                let (open, close) = brackets(rules.ids.encoding);
                let overhead = encoded_len(rules, &rules.ids.name)
                    + 1
                    + encoded_len(rules, open)
                    + encoded_len(rules, close);
                Some((limit, overhead, encoded_len(rules, ",")))
            }
            (IdLocation::Path, l) if l.max_segment_chars.is_some() => {
                let (open, close) = brackets(rules.ids.encoding);
                let overhead = encoded_len(rules, open) + encoded_len(rules, close);
                Some((
                    l.max_segment_chars.unwrap_or_default(),
                    overhead,
                    encoded_len(rules, ","),
                ))
            }
            _ => None,
        };
        Ok(Self {
            rules,
            max_ids,
            single_id,
            size_limit,
        })
    }

    /// Most ids per request under these rules.
    pub fn max_ids(&self) -> usize {
        self.max_ids
    }

    /// The canonical form of a valid id (integers lose leading zeros), or why it cannot be
    /// sent.
    pub fn validate<'a>(&self, id: &'a str) -> Result<Cow<'a, str>, InvalidId> {
        if id.is_empty() {
            return Err(InvalidId::Empty);
        }
        let canonical = match self.rules.ids.kind {
            IdKind::Integer => {
                if !id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(InvalidId::NotAnInteger);
                }
                let value = id.parse::<i64>().map_err(|_| InvalidId::NotAnInteger)?;
                // Digits without a leading zero are already canonical.
                if id.len() == 1 || !id.starts_with('0') {
                    Cow::Borrowed(id)
                } else {
                    Cow::Owned(value.to_string())
                }
            }
            IdKind::String => {
                if let Some(c) = id
                    .chars()
                    .find(|c| self.rules.ids.forbidden_chars.contains(*c))
                {
                    return Err(InvalidId::ForbiddenChar(c));
                }
                if self.rules.ids.location == IdLocation::Path {
                    // Alone in a request (after a split), the id is the whole segment.
                    crate::path::check_segment(id).map_err(InvalidId::Segment)?;
                }
                Cow::Borrowed(id)
            }
        };
        if let Some((limit, overhead, _)) = self.size_limit {
            let size = overhead + encoded_len(self.rules, &canonical);
            if size > limit {
                return Err(InvalidId::TooLong { size, limit });
            }
        }
        Ok(canonical)
    }

    /// Dedupes (first occurrence wins; ids the vendor compares equal are one id), validates
    /// every id, then chunks: the ids of each request are `plan.ids` over one of
    /// `plan.chunks`.
    pub fn plan<I, S>(&self, ids: I) -> Result<Plan, PlanError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let ids = ids.into_iter();
        // Sized from the iterator's lower bound: growing a buffer of a million offsets by
        // doubling would briefly hold both copies.
        let mut unique = IdList::with_capacity(ids.size_hint().0.min(MAX_PRESIZE));
        // Whether some id is spelled other than the vendor compares it (`007`, `ABC` for a
        // case-insensitive vendor): only then does the dedupe need to compare keys.
        let mut respelled = false;
        for (index, id) in ids.enumerate() {
            let id = id.as_ref();
            self.validate(id).map_err(|reason| PlanError::InvalidId {
                id: id.to_owned(),
                index,
                reason,
            })?;
            respelled |= match self.rules.ids.kind {
                IdKind::Integer => id.len() > 1 && id.starts_with('0'),
                IdKind::String => self.rules.ids.case_insensitive && *self.rules.ids.key(id) != *id,
            };
            unique.push(id);
        }
        let ids = &self.rules.ids;
        let duplicates = if respelled {
            unique.dedupe(|a, b| ids.cmp_keys(a, b), |a, b| ids.cmp_keys(a, b).is_eq())
        } else {
            // Shorter first, then by bytes: a total order, and ascending numbers' order.
            unique.dedupe(
                |a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
                |a, b| a == b,
            )
        };
        if unique.is_empty() {
            return Err(PlanError::NoIds);
        }
        let chunks = self.chunk(&unique);
        Ok(Plan {
            ids: unique,
            chunks,
            duplicates,
        })
    }

    /// The ids of one request, as the operation writes them (`[1,2,3]`, `a,b,c`; integers
    /// without leading zeros); for a body or single-id encoding, joined by commas.
    pub fn join<I, S>(&self, ids: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let rules = &self.rules.ids;
        let (open, close) = brackets(rules.encoding);
        let mut out = String::from(open);
        for (i, id) in ids.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(rules.wire(id.as_ref()));
        }
        out.push_str(close);
        out
    }

    /// The ids of exactly one request, planned and written as [`Planner::join`] does:
    /// refused if they are invalid or need more than one request. The typed constructors
    /// of the vendor crates' id parameters (`from_ids`) are built on it.
    pub fn one_request<I, S>(&self, ids: I) -> Result<String, PlanError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let plan = self.plan(ids)?;
        if plan.chunks.len() > 1 {
            return Err(PlanError::MoreThanOneRequest {
                ids: plan.ids.len(),
                requests: plan.chunks.len(),
            });
        }
        Ok(self.join(plan.ids.iter()))
    }

    /// Greedy, in order: each request takes ids while every limit holds. With ids of equal
    /// size this is the minimum number of requests; in general it wastes less than one id
    /// per request.
    fn chunk(&self, ids: &IdList) -> Vec<Range<usize>> {
        let mut chunks = Vec::new();
        let mut start = 0;
        let mut size = 0;
        for (i, id) in ids.iter().enumerate() {
            let id = self.rules.ids.wire(id);
            let count = i - start;
            let cost = self.size_limit.map(|(_, overhead, sep)| {
                let id_cost = encoded_len(self.rules, id);
                if count == 0 {
                    overhead + id_cost
                } else {
                    sep + id_cost
                }
            });
            let over_size = match (self.size_limit, cost) {
                (Some((limit, _, _)), Some(cost)) => size + cost > limit,
                _ => false,
            };
            if count > 0 && (count >= self.max_ids || over_size) {
                chunks.push(start..i);
                start = i;
                size = self
                    .size_limit
                    .map_or(0, |(_, overhead, _)| overhead + encoded_len(self.rules, id));
            } else {
                size += cost.unwrap_or(0);
            }
        }
        if start < ids.len() {
            chunks.push(start..ids.len());
        }
        chunks
    }

    /// The request size of `ids` as sent (bytes of the query or characters of the path
    /// segment), if the operation limits it.
    #[cfg(test)]
    pub(crate) fn size_of(&self, ids: &[String]) -> Option<usize> {
        let (_, overhead, sep) = self.size_limit?;
        let body: usize = ids.iter().map(|id| encoded_len(self.rules, id)).sum();
        Some(overhead + body + sep * ids.len().saturating_sub(1))
    }
}

/// The literal text around the ids, by encoding.
fn brackets(encoding: IdEncoding) -> (&'static str, &'static str) {
    match encoding {
        IdEncoding::BracketedCsv => ("[", "]"),
        _ => ("", ""),
    }
}

/// Writes ids as the operation's encoding wants them, for path and query encodings.
#[cfg(test)]
fn join_ids<I, S>(encoding: IdEncoding, ids: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let (open, close) = brackets(encoding);
    let mut out = String::new();
    out.push_str(open);
    for (i, id) in ids.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(id.as_ref());
    }
    out.push_str(close);
    out
}

/// Length of `text` as the generated client sends it in this operation's id location.
fn encoded_len(rules: &OperationRules, text: &str) -> usize {
    match rules.ids.location {
        // reqwest's query serializer (serde_urlencoded): application/x-www-form-urlencoded.
        IdLocation::Query => form_urlencoded::byte_serialize(text.as_bytes())
            .map(str::len)
            .sum(),
        // progenitor's path encoder, exactly.
        IdLocation::Path => progenitor_client::encode_path(text).len(),
        IdLocation::Body => text.len(),
    }
}

#[cfg(test)]
mod tests;
