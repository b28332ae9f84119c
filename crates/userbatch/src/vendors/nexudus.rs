//! Nexudus: the generated client (everything of the `nexudus` crate is re-exported here)
//! and its batch operations.
//!
//! # Summaries and full records
//!
//! The list operations ([`Users`], [`Coworkers`]) return **summaries**:
//! [`types::UserSummary`], [`types::CoworkerSummary`]. They are generated from the spec's
//! `x-userbatch.partial` and simply do not have the fields the docs list as unpopulated,
//! so reading one does not compile:
//!
//! ```compile_fail,E0609
//! fn is_admin(summary: &userbatch::nexudus::types::UserSummary) -> Option<bool> {
//!     summary.is_admin // UserSummary has no field `is_admin`: hydrate it first.
//! }
//! ```
//!
//! while the full record has it:
//!
//! ```
//! fn is_admin(user: &userbatch::nexudus::types::User) -> Option<bool> {
//!     user.is_admin
//! }
//! ```
//!
//! [`hydrate_users`] / [`hydrate_coworkers`] turn summaries (or [`crate::hydrate`] bare
//! ids) into full records, one get-one request per id, through the batch engine.
//!
//! # Updating: read, modify, write
//!
//! The docs demand it: retrieve the full record with a GET, apply the changes to it, send
//! it back. Sending a summary would clear every unpopulated field at the vendor, so the
//! update helpers take only full records:
//!
//! ```compile_fail,E0308
//! async fn clear_fields(client: &userbatch::nexudus::Client, s: &userbatch::nexudus::types::UserSummary) {
//!     userbatch::nexudus::update_user(client, s).await; // expected `&User`, found `&UserSummary`
//! }
//! ```
//!
//! [`modify_user`] / [`modify_coworker`] do the whole read-modify-write:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mock = userbatch_mock::MockServer::start(Default::default()).await?;
//! use userbatch::nexudus;
//! let client = nexudus::Client::with_bearer(mock.base_url(), "token")?;
//! let result = nexudus::modify_user(&client, 42, |user| {
//!     user.full_name = Some("Ada Lovelace".into());
//! })
//! .await?;
//! assert_eq!(result.was_successful, Some(true));
//! # Ok(())
//! # }
//! ```

pub use ::nexudus::*;

use userbatch_core::RawResult;
use userbatch_core::json::{RecordError, decode};

use crate::engine::{Batch, Operation, PageRequest, Report};
use crate::error::{ErrorKind, FetchError, ModifyError, ModifyStep, from_progenitor};
use crate::partial::hydrate;
use userbatch_core::plan::PlanError;

/// `getUsers`: many Users per request (`?id=[1,2,3]`, up to 2,048 bytes of query), as
/// summaries.
#[derive(Debug, Clone)]
pub struct Users {
    client: Client,
}

/// `getCoworkers`: many Coworkers per request, as summaries.
#[derive(Debug, Clone)]
pub struct Coworkers {
    client: Client,
}

/// `getUser`: one full User per request.
#[derive(Debug, Clone)]
pub struct UserById {
    client: Client,
}

/// `getCoworker`: one full Coworker per request.
#[derive(Debug, Clone)]
pub struct CoworkerById {
    client: Client,
}

/// The glue of one operation: its type, record, rules, and how to send one request. The
/// four operations differ only in these, so one macro writes them.
macro_rules! operation {
    ($op:ident, $record:ty, $rules:expr, |$client:ident, $ids:ident| $call:expr) => {
        impl $op {
            /// The operation over this client.
            pub fn new(client: Client) -> Self {
                Self { client }
            }
        }

        impl Operation for $op {
            type Record = $record;

            fn rules(&self) -> &'static userbatch_core::rules::OperationRules {
                &$rules
            }

            fn vendor(&self) -> &'static userbatch_core::rules::VendorRules {
                &rules::VENDOR
            }

            async fn send(&self, $ids: &[String], _: Option<PageRequest>) -> RawResult {
                let $client = &self.client;
                $call
            }

            fn decode(&self, record: &str) -> Result<$record, RecordError> {
                decode(record, &$rules.records.secrets)
            }

            fn scrubber(&self) -> userbatch_core::Scrubber {
                self.client.scrubber()
            }
        }
    };
}

operation!(
    Users,
    types::UserSummary,
    rules::GET_USERS,
    |client, ids| match types::GetUsersId::from_ids(ids) {
        Ok(ids) => client.get_users(&ids).await,
        Err(e) => Err(refused(e)),
    }
);
operation!(
    Coworkers,
    types::CoworkerSummary,
    rules::GET_COWORKERS,
    |client, ids| match types::GetCoworkersId::from_ids(ids) {
        Ok(ids) => client.get_coworkers(&ids).await,
        Err(e) => Err(refused(e)),
    }
);
operation!(UserById, types::User, rules::GET_USER, |client, ids| {
    match single(ids) {
        Some(id) => client.get_user(id).await,
        None => Err(refused("not one integer id")),
    }
});
operation!(
    CoworkerById,
    types::Coworker,
    rules::GET_COWORKER,
    |client, ids| match single(ids) {
        Some(id) => client.get_coworker(id).await,
        None => Err(refused("not one integer id")),
    }
);

/// The one integer id of a get-one request.
fn single(ids: &[String]) -> Option<i64> {
    match ids {
        [id] => id.parse().ok(),
        _ => None,
    }
}

/// Ids the generated client would refuse (the planner lets none through).
fn refused(why: impl std::fmt::Display) -> progenitor_client::Error<ByteStream> {
    progenitor_client::Error::InvalidRequest(format!("ids the generated client refuses: {why}"))
}

/// Fetches User summaries for `ids` with the default settings ([`Batch`] for others).
pub async fn users<I, S>(client: &Client, ids: I) -> Result<Report<types::UserSummary>, PlanError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    Batch::new(Users::new(client.clone())).fetch(ids).await
}

/// Fetches Coworker summaries for `ids` with the default settings.
pub async fn coworkers<I, S>(
    client: &Client,
    ids: I,
) -> Result<Report<types::CoworkerSummary>, PlanError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    Batch::new(Coworkers::new(client.clone())).fetch(ids).await
}

/// Full Users for these summaries (one `getUser` per id, through the batch engine).
pub async fn hydrate_users(
    client: &Client,
    summaries: &[types::UserSummary],
) -> Result<Report<types::User>, PlanError> {
    hydrate(&Batch::new(UserById::new(client.clone())), summaries).await
}

/// Full Coworkers for these summaries (one `getCoworker` per id, through the batch engine).
pub async fn hydrate_coworkers(
    client: &Client,
    summaries: &[types::CoworkerSummary],
) -> Result<Report<types::Coworker>, PlanError> {
    hydrate(&Batch::new(CoworkerById::new(client.clone())), summaries).await
}

/// Sends a full User back (`PUT`). Only a full record is accepted; get one with
/// `getUser` (or [`hydrate_users`]) and change it, or use [`modify_user`].
pub async fn update_user(
    client: &Client,
    user: &types::User,
) -> Result<types::UpdateResult, FetchError> {
    Ok(client
        .update_user(user)
        .await
        .map_err(from_progenitor)?
        .into_inner())
}

/// Sends a full Coworker back (`PUT`). Only a full record is accepted.
pub async fn update_coworker(
    client: &Client,
    coworker: &types::Coworker,
) -> Result<types::UpdateResult, FetchError> {
    Ok(client
        .update_coworker(coworker)
        .await
        .map_err(from_progenitor)?
        .into_inner())
}

/// Read-modify-write of one User: GET the full record, apply `change`, PUT it back. The
/// error says which of the two calls failed.
pub async fn modify_user(
    client: &Client,
    id: i64,
    change: impl FnOnce(&mut types::User),
) -> Result<types::UpdateResult, ModifyError> {
    let mut user = get_one(&UserById::new(client.clone()), id)
        .await
        .map_err(|error| ModifyError {
            step: ModifyStep::Get,
            error,
        })?;
    change(&mut user);
    update_user(client, &user)
        .await
        .map_err(|error| ModifyError {
            step: ModifyStep::Put,
            error,
        })
}

/// Read-modify-write of one Coworker: GET the full record, apply `change`, PUT it back.
/// The error says which of the two calls failed.
pub async fn modify_coworker(
    client: &Client,
    id: i64,
    change: impl FnOnce(&mut types::Coworker),
) -> Result<types::UpdateResult, ModifyError> {
    let mut coworker = get_one(&CoworkerById::new(client.clone()), id)
        .await
        .map_err(|error| ModifyError {
            step: ModifyStep::Get,
            error,
        })?;
    change(&mut coworker);
    update_coworker(client, &coworker)
        .await
        .map_err(|error| ModifyError {
            step: ModifyStep::Put,
            error,
        })
}

/// One full record, through the engine's checks (its own id, decoded on its own), without
/// retries: a read-modify-write is the caller's to retry. The vendor's documented
/// not-found answer is [`ErrorKind::Unproven`] (one request alone cannot show that it
/// reached the vendor: a gateway in front of a wrong base URL may answer alike), any other
/// failure keeps its own kind ([`ErrorKind::Status`] with the status and message, ...).
async fn get_one<O: Operation + Clone>(op: &O, id: i64) -> Result<O::Record, FetchError> {
    let batch = Batch::new(op.clone()).retry(crate::Retry::none());
    let report = batch
        .fetch([id.to_string()])
        .await
        .map_err(|e| FetchError::new(ErrorKind::Request).with_detail(e.to_string()))?;
    if let Some(found) = report.found.into_iter().next() {
        return Ok(found.record);
    }
    if let Some(failure) = report.failed.into_iter().next() {
        return Err(failure.error);
    }
    // The vendor's documented not-found answer; any other failure is in `report.failed`.
    Err(FetchError::new(ErrorKind::NotFound))
}
