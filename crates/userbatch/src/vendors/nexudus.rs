//! Nexudus: the generated client (everything of the `nexudus` crate is re-exported here)
//! and its batch operations.
//!
//! The list operations return **summaries** (see `rules::GET_USERS.partial`): fields the
//! docs list as unpopulated are `None`. Never build a PUT from a summary.

pub use ::nexudus::*;

use crate::engine::{Batch, Fetched, Operation, PageRequest, Report};
use crate::error::{ErrorKind, FetchError, from_progenitor};
use crate::plan::{PlanError, join_ids};

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

macro_rules! constructor {
    ($($op:ident),*) => {$(
        impl $op {
            /// The operation over this client.
            pub fn new(client: Client) -> Self {
                Self { client }
            }
        }
    )*};
}
constructor!(Users, Coworkers, UserById, CoworkerById);

fn bracketed<T: TryFrom<String>>(ids: &[String]) -> Result<T, FetchError> {
    T::try_from(join_ids(rules::GET_USERS.ids.encoding, ids))
        .map_err(|_| FetchError::new(ErrorKind::Request))
}

fn single(ids: &[String]) -> Result<i64, FetchError> {
    match ids {
        [id] => id.parse().map_err(|_| FetchError::new(ErrorKind::Request)),
        _ => Err(FetchError::new(ErrorKind::Request)),
    }
}

impl Operation for Users {
    type Record = types::User;

    fn rules(&self) -> &'static userbatch_core::rules::Operation {
        &rules::GET_USERS
    }

    fn vendor(&self) -> &'static userbatch_core::rules::Vendor {
        &rules::VENDOR
    }

    async fn fetch(
        &self,
        ids: &[String],
        _: Option<PageRequest>,
    ) -> Result<Fetched<types::User>, FetchError> {
        let ids: types::GetUsersId = bracketed(ids)?;
        let list = self.client.get_users(&ids).await.map_err(from_progenitor)?;
        Ok(Fetched {
            records: list.into_inner().0,
            total: None,
        })
    }

    fn record_id(record: &types::User) -> String {
        record.id.to_string()
    }
}

impl Operation for Coworkers {
    type Record = types::Coworker;

    fn rules(&self) -> &'static userbatch_core::rules::Operation {
        &rules::GET_COWORKERS
    }

    fn vendor(&self) -> &'static userbatch_core::rules::Vendor {
        &rules::VENDOR
    }

    async fn fetch(
        &self,
        ids: &[String],
        _: Option<PageRequest>,
    ) -> Result<Fetched<types::Coworker>, FetchError> {
        let ids: types::GetCoworkersId = bracketed(ids)?;
        let list = self
            .client
            .get_coworkers(&ids)
            .await
            .map_err(from_progenitor)?;
        Ok(Fetched {
            records: list.into_inner().0,
            total: None,
        })
    }

    fn record_id(record: &types::Coworker) -> String {
        record.id.to_string()
    }
}

impl Operation for UserById {
    type Record = types::User;

    fn rules(&self) -> &'static userbatch_core::rules::Operation {
        &rules::GET_USER
    }

    fn vendor(&self) -> &'static userbatch_core::rules::Vendor {
        &rules::VENDOR
    }

    async fn fetch(
        &self,
        ids: &[String],
        _: Option<PageRequest>,
    ) -> Result<Fetched<types::User>, FetchError> {
        let user = self
            .client
            .get_user(single(ids)?)
            .await
            .map_err(from_progenitor)?;
        Ok(Fetched {
            records: vec![user.into_inner()],
            total: None,
        })
    }

    fn record_id(record: &types::User) -> String {
        record.id.to_string()
    }
}

impl Operation for CoworkerById {
    type Record = types::Coworker;

    fn rules(&self) -> &'static userbatch_core::rules::Operation {
        &rules::GET_COWORKER
    }

    fn vendor(&self) -> &'static userbatch_core::rules::Vendor {
        &rules::VENDOR
    }

    async fn fetch(
        &self,
        ids: &[String],
        _: Option<PageRequest>,
    ) -> Result<Fetched<types::Coworker>, FetchError> {
        let coworker = self
            .client
            .get_coworker(single(ids)?)
            .await
            .map_err(from_progenitor)?;
        Ok(Fetched {
            records: vec![coworker.into_inner()],
            total: None,
        })
    }

    fn record_id(record: &types::Coworker) -> String {
        record.id.to_string()
    }
}

/// Fetches User summaries for `ids` with the default settings ([`Batch`] for others).
pub async fn users<I, S>(client: &Client, ids: I) -> Result<Report<types::User>, PlanError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    Batch::new(Users::new(client.clone())).fetch(ids).await
}

/// Fetches Coworker summaries for `ids` with the default settings.
pub async fn coworkers<I, S>(client: &Client, ids: I) -> Result<Report<types::Coworker>, PlanError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    Batch::new(Coworkers::new(client.clone())).fetch(ids).await
}
