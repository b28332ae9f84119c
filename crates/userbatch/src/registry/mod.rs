//! Every vendor this build knows, from `specs/` (one per spec, behind the feature of its
//! name), with its resources and their batch operations: what a command line, a config
//! file or a mock iterates instead of naming vendors.
//!
//! ```
//! let nexudus = userbatch::registry::vendor("nexudus").unwrap();
//! let users = nexudus.resource("users").unwrap();
//! // Of a resource's operations, the one that takes the most ids per request.
//! assert_eq!(users.batch_operation().rules.operation_id, "getUsers");
//! // Its summaries' full operation, one id per request.
//! assert_eq!(nexudus.full_operation(users.batch_operation()).unwrap().rules.operation_id, "getUser");
//!
//! let client = userbatch::ClientConfig::new("https://example.com");
//! let avepoint = userbatch::registry::vendor("avepoint").unwrap();
//! let entry = avepoint.resource("users").unwrap().batch_operation();
//! assert!(entry.options.iter().any(|o| o.flag == "tenant-id" && o.required));
//! let op = (entry.build)(client, &[("customerId", "c1"), ("tenantId", "t1")]).unwrap();
//! # let _ = op;
//! ```

pub(crate) mod any;
pub(crate) mod entry;

pub use any::AnyOperation;
pub use entry::{Build, BuildError, OperationEntry, Resource, Vendor};

/// Every vendor of this build, by name.
pub fn vendors() -> &'static [Vendor] {
    crate::vendors::REGISTRY
}

/// Every operation of every resource of every vendor of this build, with its vendor and
/// resource: what a test or a tool that covers the whole registry iterates.
pub fn operations()
-> impl Iterator<Item = (&'static Vendor, &'static Resource, &'static OperationEntry)> {
    vendors().iter().flat_map(|vendor| {
        vendor.resources.iter().flat_map(move |resource| {
            resource
                .operations
                .iter()
                .map(move |entry| (vendor, resource, entry))
        })
    })
}

/// The vendor of this name, if this build has it.
pub fn vendor(name: &str) -> Option<&'static Vendor> {
    vendors().iter().find(|v| v.name == name)
}
