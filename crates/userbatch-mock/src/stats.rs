//! What the mock counts and logs: [`RequestRecord`], [`Stats`].

use crate::faults::Fault;
use crate::vendor::Vendor;
use std::collections::BTreeMap;
use std::time::Duration;

/// One request as the mock saw and answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Arrival order, from 0.
    pub seq: u64,
    /// The vendor API.
    pub vendor: Vendor,
    /// The spec's `operationId`.
    pub operation: &'static str,
    /// The ids the request named, as sent (decoded), duplicates included.
    pub ids: Vec<String>,
    /// Bytes of path, query and body as sent.
    pub request_bytes: usize,
    /// The answer's status.
    pub status: u16,
    /// Bytes of the answer's body (as much as was sent).
    pub response_bytes: usize,
    /// The fault injected, if any.
    pub fault: Option<Fault>,
    /// When it arrived, from the server's start.
    pub arrived: Duration,
}

/// Counters of one operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationStats {
    /// Requests received.
    pub requests: u64,
    /// Ids named, summed over requests (duplicates included).
    pub ids: u64,
    /// Most ids named by one request.
    pub max_ids_per_request: u64,
    /// Bytes of path, query and body received.
    pub request_bytes: u64,
    /// Bytes of response bodies sent.
    pub response_bytes: u64,
    /// Responses by status.
    pub statuses: BTreeMap<u16, u64>,
}

/// Counters of every operation, by `operationId`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Per operation.
    pub operations: BTreeMap<&'static str, OperationStats>,
    /// Most requests the server was answering at once (over every vendor).
    pub max_in_flight: u64,
    /// Requests to the token endpoint.
    pub token_requests: u64,
    /// Requests for a path no vendor has (answered with an HTML 404 page).
    pub unrouted: u64,
    /// Requests answered with a redirect ([`MockConfig::redirect_to`](crate::MockConfig::redirect_to)).
    pub redirected: u64,
}

impl Stats {
    /// The counters of one operation (zero if it saw no request).
    pub fn operation(&self, operation_id: &str) -> OperationStats {
        self.operations
            .get(operation_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Requests over every operation, for paths no vendor has, and redirected.
    pub fn total_requests(&self) -> u64 {
        self.operations.values().map(|s| s.requests).sum::<u64>() + self.unrouted + self.redirected
    }
}
