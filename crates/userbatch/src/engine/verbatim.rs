//! [`Verbatim`]: an operation whose records are kept raw (checked to be JSON), not decoded.

use std::future::Future;
use userbatch_core::json::{self, RecordError};
use userbatch_core::plan::PlanError;
use userbatch_core::{Operation, PageRequest, SendResult, rules};

/// An operation whose records are not decoded into the generated type, only checked to be
/// valid JSON: each found id comes with its raw record, exactly as the vendor sent it
/// ([`FoundRecord::raw`](crate::engine::FoundRecord::raw)), and `()` as the typed record. What the
/// `userbatch` command line uses: it writes the vendor's JSON as is, so a record whose
/// fields drifted from the spec's types is still delivered (use the operation itself to
/// have such records fail their ids instead, naming the field).
///
/// ```
/// # let client = userbatch::nexudus::Client::with_bearer("https://spaces.nexudus.com", "t").unwrap();
/// use userbatch::{Batch, Verbatim, nexudus};
/// let batch = Batch::new(Verbatim(nexudus::GetUsers::new(client)));
/// # let _ = batch;
/// ```
#[derive(Debug, Clone)]
pub struct Verbatim<O>(pub O);

impl<O: Operation> Operation for Verbatim<O> {
    type Record = ();

    fn rules(&self) -> &'static rules::OperationRules {
        self.0.rules()
    }

    fn vendor(&self) -> &'static rules::VendorRules {
        self.0.vendor()
    }

    fn single_id(&self) -> bool {
        self.0.single_id()
    }

    fn check(&self) -> Result<(), PlanError> {
        self.0.check()
    }

    fn page_size(&self) -> u32 {
        self.0.page_size()
    }

    fn send(
        &self,
        ids: &[String],
        page: Option<PageRequest>,
    ) -> impl Future<Output = SendResult> + Send {
        self.0.send(ids, page)
    }

    /// Checks that the record is valid JSON (the scan that finds records checks those of a
    /// list on the way: [`decode_checked`](Operation::decode_checked)).
    fn decode(&self, record: &str) -> Result<(), RecordError> {
        json::check(record)
    }

    /// Nothing to do: the record was found to be valid JSON as its body was read.
    fn decode_checked(&self, _record: &str) -> Result<(), RecordError> {
        Ok(())
    }

    fn scrubber(&self) -> userbatch_core::Scrubber {
        self.0.scrubber()
    }
}
