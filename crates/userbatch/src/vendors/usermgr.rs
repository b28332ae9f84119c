//! User Manager v3: the generated client (everything of the `usermgr` crate is re-exported
//! here) and its batch operation.

pub use ::usermgr::*;

use userbatch_core::RawResult;
use userbatch_core::json::{RecordError, decode};

use crate::engine::{Batch, Operation, PageRequest, Report};
use userbatch_core::plan::PlanError;

/// `getUsersByIds`: up to 75 users per request (20,000 characters of path segment).
///
/// # What comes back
///
/// Without attributes the vendor returns only the **summary attributes**
/// (`rules::GET_USERS_BY_IDS.attributes.summary`: `id`, `loginId`, `firstName`,
/// `lastName`); every other field of [`types::User`] is `None` then, which does not mean the
/// user has no value. Ask for more with [`Users::attributes`], and ask the operation what
/// its records carry with [`Users::returns`]:
///
/// | request | can return |
/// |---|---|
/// | several ids | summary attributes, plus `title`, `middleName`, `suffix`, `created`, `createdBy`, `authenticationType`, `manager`, `emailAddress`, `mobileNumber`, `externalId`, `custom.<name>` when asked for |
/// | one id | all of the above, plus `directReports`, `groups`, `languages` |
///
/// Asking for `directReports`, `groups` or `languages` (or `all`, which includes them)
/// therefore makes every request name **one id**, as the vendor requires: the batch sends
/// one request per id instead of one per 75. That choice is made before any request and
/// shows in [`Batch::plan`]; the alternative, refusing, would leave the caller to write the
/// same loop.
///
/// ```
/// # let client = userbatch::usermgr::Client::with_bearer("https://um.example.com", "t").unwrap();
/// use userbatch::usermgr::Users;
/// let op = Users::new(client).attributes(["created", "custom.costCenter"]).unwrap();
/// assert!(op.returns("lastName"));         // a summary attribute
/// assert!(op.returns("created"));          // asked for
/// assert!(!op.returns("emailAddress"));    // not asked for: None means "not sent"
/// assert_eq!(op.requested_attributes(), ["created", "custom.costCenter"]);
/// ```
#[derive(Debug, Clone)]
pub struct Users {
    client: Client,
    attributes: Option<String>,
    sort: Option<String>,
    order: Option<types::GetUsersByIdsOrder>,
    language: types::GetUsersByIdsAcceptLanguage,
}

/// An attribute the spec does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAttribute(pub String);

impl std::fmt::Display for UnknownAttribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown User Manager attribute {:?}", self.0)?;
        if let Some(rules) = &rules::GET_USERS_BY_IDS.attributes {
            write!(
                f,
                "; valid: {}, {} or {}<name>",
                rules.values.join(", "),
                rules.all,
                rules.custom_prefix
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownAttribute {}

impl Users {
    /// Summary attributes, the vendor's order, `en-US`.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            attributes: None,
            sort: None,
            order: None,
            language: types::GetUsersByIdsAcceptLanguage::EnUs,
        }
    }

    /// Asks for more attributes (`$attribute`): the values the spec lists
    /// (`rules::GET_USERS_BY_IDS.attributes.values`), `all`, or `custom.<name>`. Unknown
    /// names (the empty one too) are refused here, before any request; the error lists the
    /// valid ones.
    pub fn attributes<I, S>(mut self, names: I) -> Result<Self, UnknownAttribute>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let rules = rules::GET_USERS_BY_IDS
            .attributes
            .as_ref()
            .expect("the spec declares attributes");
        let mut list = Vec::new();
        for name in names {
            let name = name.as_ref().trim();
            if !rules.knows(name) {
                return Err(UnknownAttribute(name.to_owned()));
            }
            list.push(name.to_owned());
        }
        self.attributes = (!list.is_empty()).then(|| list.join(","));
        Ok(self)
    }

    /// The attributes asked for beyond the summary ones, as sent in `$attribute`.
    pub fn requested_attributes(&self) -> Vec<&str> {
        self.attributes
            .as_deref()
            .map(|a| a.split(',').collect())
            .unwrap_or_default()
    }

    /// Whether the records this operation returns carry `attribute` (a summary attribute,
    /// one asked for, or any when `all` was asked for). A `None` field the records do not
    /// carry means "not sent", not "empty".
    pub fn returns(&self, attribute: &str) -> bool {
        let rules = rules::GET_USERS_BY_IDS
            .attributes
            .as_ref()
            .expect("the spec declares attributes");
        let asked = self.requested_attributes();
        rules.summary.iter().any(|s| s == attribute)
            || asked.contains(&attribute)
            || asked.contains(&&*rules.all)
    }

    /// Sends `$sort`. It has no visible effect: the vendor sorts within one request of at
    /// most 75 ids, and the engine hands records back in input order whatever the order of
    /// a response. Sort [`Report::found`](crate::Report::found) instead. (The vendor still
    /// validates the value: a bad one fails every request.)
    #[deprecated(
        note = "no visible effect: records come back in input order; sort the results instead"
    )]
    pub fn sort(mut self, attribute: impl Into<String>) -> Self {
        self.sort = Some(attribute.into());
        self
    }

    /// Sends `$order`; no visible effect, as with [`Users::sort`].
    #[deprecated(
        note = "no visible effect: records come back in input order; sort the results instead"
    )]
    pub fn order(mut self, order: types::GetUsersByIdsOrder) -> Self {
        self.order = Some(order);
        self
    }

    /// `Accept-Language`.
    pub fn language(mut self, language: types::GetUsersByIdsAcceptLanguage) -> Self {
        self.language = language;
        self
    }
}

impl Operation for Users {
    type Record = types::User;

    fn rules(&self) -> &'static userbatch_core::rules::OperationRules {
        &rules::GET_USERS_BY_IDS
    }

    fn vendor(&self) -> &'static userbatch_core::rules::VendorRules {
        &rules::VENDOR
    }

    fn single_id(&self) -> bool {
        let Some(asked) = &self.attributes else {
            return false;
        };
        let rules = rules::GET_USERS_BY_IDS
            .attributes
            .expect("the spec declares attributes");
        asked
            .split(',')
            .any(|a| a == rules.all || rules.single_id_only.iter().any(|s| s == a))
    }

    async fn send(&self, ids: &[String], _: Option<PageRequest>) -> RawResult {
        let segment = types::GetUsersByIdsIds::from_ids(ids)
            .map_err(|e| progenitor_client::Error::InvalidRequest(e.to_string()))?;
        self.client
            .get_users_by_ids(
                &segment,
                self.attributes.as_deref(),
                self.order,
                self.sort.as_deref(),
                types::GetUsersByIdsAccept::ApplicationJson,
                self.language,
            )
            .await
    }

    fn decode(&self, record: &str) -> Result<types::User, RecordError> {
        decode(record, &rules::GET_USERS_BY_IDS.records.secrets)
    }

    fn scrubber(&self) -> userbatch_core::Scrubber {
        self.client.scrubber()
    }
}

/// Fetches users (summary attributes) for `ids` with the default settings.
pub async fn users<I, S>(client: &Client, ids: I) -> Result<Report<types::User>, PlanError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    Batch::new(Users::new(client.clone())).fetch(ids).await
}
