//! [`PartialRecord`]: what summary types generated from a spec's partial-record metadata
//! implement.

/// A summary a list operation returns: the vendor leaves some of the full record's fields
/// unpopulated, so the summary type does not have them at all. `cargo xtask generate`
/// derives each summary type from its spec's `x-userbatch.partial` and implements this
/// trait for it.
///
/// Get the full record ([`PartialRecord::Full`]) with the operation named
/// [`PartialRecord::FULL_OPERATION`] (the `userbatch` facade's hydrate helpers do that for
/// many at once) before reading an unpopulated field or building an update.
pub trait PartialRecord {
    /// The full record type.
    type Full;
    /// The full schema's name in the spec.
    const SUMMARY_OF: &'static str;
    /// The `operationId` that returns the full record.
    const FULL_OPERATION: &'static str;
    /// The full record's fields a summary does not carry, as the vendor's docs list them.
    const UNPOPULATED: &'static [&'static str];
    /// The record's id, as text.
    fn record_id(&self) -> String;
}
