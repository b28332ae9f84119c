//! AvePoint Graph: the generated client (everything of the `avepoint` crate is re-exported
//! here) and its batch operation.

use std::num::NonZeroU32;

pub use ::avepoint::*;

use userbatch_core::RawResult;
use userbatch_core::json::{RecordError, decode};

use crate::engine::{Batch, Operation, PageRequest, Report};
use userbatch_core::plan::PlanError;

/// `retrieveMultipleUsers` for one customer's tenant: ids in the JSON body, results paged.
///
/// Each request carries at most one page's worth of ids (the page size, 100 by default),
/// so one page answers it when every id exists; if the vendor reports more results than a
/// page holds, the engine fetches the other pages (never more than the ids could fill).
#[derive(Debug, Clone)]
pub struct Users {
    client: Client,
    customer_id: String,
    tenant_id: String,
    page_size: NonZeroU32,
}

impl Users {
    /// The operation for one customer's tenant, with the vendor's default page size.
    pub fn new(
        client: Client,
        customer_id: impl Into<String>,
        tenant_id: impl Into<String>,
    ) -> Self {
        let default = rules::RETRIEVE_MULTIPLE_USERS
            .paging
            .map_or(100, |p| p.default_size);
        Self {
            client,
            customer_id: customer_id.into(),
            tenant_id: tenant_id.into(),
            page_size: NonZeroU32::new(default).unwrap_or(NonZeroU32::MIN),
        }
    }

    /// The page size to ask for (`pageSize`).
    pub fn page_size(mut self, size: NonZeroU32) -> Self {
        self.page_size = size;
        self
    }
}

impl Operation for Users {
    type Record = types::User;

    fn rules(&self) -> &'static userbatch_core::rules::OperationRules {
        &rules::RETRIEVE_MULTIPLE_USERS
    }

    fn vendor(&self) -> &'static userbatch_core::rules::VendorRules {
        &rules::VENDOR
    }

    fn page_size(&self) -> u32 {
        self.page_size.get()
    }

    /// The customer and tenant ids go into path segments: they must stay one each.
    fn check(&self) -> Result<(), PlanError> {
        for (name, value) in [
            ("customerId", &self.customer_id),
            ("tenantId", &self.tenant_id),
        ] {
            userbatch_core::path::check_segment(value).map_err(|e| {
                PlanError::InvalidParameter {
                    name,
                    reason: e.to_string(),
                }
            })?;
        }
        Ok(())
    }

    async fn send(&self, ids: &[String], page: Option<PageRequest>) -> RawResult {
        let body = types::UserBatchRequest {
            user_ids: ids.to_vec(),
        };
        let page = page.ok_or_else(|| {
            progenitor_client::Error::InvalidRequest("a paged operation needs a page".into())
        })?;
        self.client
            .retrieve_multiple_users(
                &self.customer_id,
                &self.tenant_id,
                NonZeroU32::new(page.index),
                NonZeroU32::new(page.size),
                &body,
            )
            .await
    }

    fn decode(&self, record: &str) -> Result<types::User, RecordError> {
        decode(record, &rules::RETRIEVE_MULTIPLE_USERS.records.secrets)
    }

    fn scrubber(&self) -> userbatch_core::Scrubber {
        self.client.scrubber()
    }
}

/// Fetches users of one customer's tenant for `ids` with the default settings.
pub async fn users<I, S>(
    client: &Client,
    customer_id: &str,
    tenant_id: &str,
    ids: I,
) -> Result<Report<types::User>, PlanError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    Batch::new(Users::new(client.clone(), customer_id, tenant_id))
        .fetch(ids)
        .await
}
