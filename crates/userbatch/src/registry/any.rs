//! [`AnyOperation`]: any batch operation of the registry, its type erased.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use userbatch_core::json::{self, RecordError};
use userbatch_core::plan::PlanError;
use userbatch_core::rules::{OperationRules, VendorRules};
use userbatch_core::{Operation, PageRequest, Scrubber, SendResult};

/// Any batch operation, its type erased, with each record checked to be valid JSON and
/// kept as the vendor sent it (as [`crate::engine::Verbatim`] does), or, made
/// [`strict`](AnyOperation::strict), also decoded into the spec's type (a record that does
/// not fit fails its id). Either way the record is [`FoundRecord::raw`](crate::FoundRecord::raw),
/// which knows where its secrets are ([`RawRecord::redacted`](crate::RawRecord::redacted)).
///
/// ```
/// # let client = userbatch::nexudus::Client::with_bearer("https://spaces.nexudus.com", "t").unwrap();
/// use userbatch::{Operation, nexudus, registry::AnyOperation};
/// let op = AnyOperation::new(nexudus::GetCoworkers::new(client));
/// assert!(op.decode(r#"{"Id":1,"GoogleApiToken":"t0k"}"#).is_ok());
/// assert!(op.decode(r#"{"Id":1,"GoogleApiToken":"t0k",}"#).is_err());
/// ```
#[derive(Clone)]
pub struct AnyOperation {
    inner: Arc<dyn Erased>,
    strict: bool,
}

impl AnyOperation {
    /// Erases `op`'s type.
    pub fn new<O: Operation>(op: O) -> Self {
        Self {
            inner: Arc::new(op),
            strict: false,
        }
    }

    /// Also decodes each record into the spec's type.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }
}

impl fmt::Debug for AnyOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnyOperation")
            .field("operation_id", &self.inner.rules().operation_id)
            .field("strict", &self.strict)
            .finish_non_exhaustive()
    }
}

type SendFuture<'a> = Pin<Box<dyn Future<Output = SendResult> + Send + 'a>>;

/// [`Operation`] as a trait object.
trait Erased: Send + Sync + 'static {
    fn rules(&self) -> &'static OperationRules;
    fn vendor(&self) -> &'static VendorRules;
    fn single_id(&self) -> bool;
    fn check(&self) -> Result<(), PlanError>;
    fn page_size(&self) -> u32;
    fn send<'a>(&'a self, ids: &'a [String], page: Option<PageRequest>) -> SendFuture<'a>;
    fn decode_typed(&self, record: &str) -> Result<(), RecordError>;
    fn scrubber(&self) -> Scrubber;
}

impl<O: Operation> Erased for O {
    fn rules(&self) -> &'static OperationRules {
        Operation::rules(self)
    }
    fn vendor(&self) -> &'static VendorRules {
        Operation::vendor(self)
    }
    fn single_id(&self) -> bool {
        Operation::single_id(self)
    }
    fn check(&self) -> Result<(), PlanError> {
        Operation::check(self)
    }
    fn page_size(&self) -> u32 {
        Operation::page_size(self)
    }
    fn send<'a>(&'a self, ids: &'a [String], page: Option<PageRequest>) -> SendFuture<'a> {
        Box::pin(Operation::send(self, ids, page))
    }
    fn decode_typed(&self, record: &str) -> Result<(), RecordError> {
        Operation::decode(self, record).map(drop)
    }
    fn scrubber(&self) -> Scrubber {
        Operation::scrubber(self)
    }
}

impl Operation for AnyOperation {
    type Record = ();

    fn rules(&self) -> &'static OperationRules {
        self.inner.rules()
    }

    fn vendor(&self) -> &'static VendorRules {
        self.inner.vendor()
    }

    fn single_id(&self) -> bool {
        self.inner.single_id()
    }

    fn check(&self) -> Result<(), PlanError> {
        self.inner.check()
    }

    fn page_size(&self) -> u32 {
        self.inner.page_size()
    }

    async fn send(&self, ids: &[String], page: Option<PageRequest>) -> SendResult {
        self.inner.send(ids, page).await
    }

    fn decode(&self, record: &str) -> Result<(), RecordError> {
        if self.strict {
            self.inner.decode_typed(record)
        } else {
            json::check(record)
        }
    }

    fn decode_checked(&self, record: &str) -> Result<(), RecordError> {
        if self.strict {
            self.decode(record)
        } else {
            Ok(())
        }
    }

    fn scrubber(&self) -> Scrubber {
        self.inner.scrubber()
    }
}
