//! One module per vendor: its generated crate, re-exported whole, and the [`crate::Operation`]
//! glue for each of its batchable operations.

#[cfg(feature = "avepoint")]
pub mod avepoint;
#[cfg(feature = "nexudus")]
pub mod nexudus;
#[cfg(feature = "usermgr")]
pub mod usermgr;
