use serde::{Deserialize, Serialize};

use super::{Empty, method};
use crate::{Scope, UserId, lenient};

method! {
    /// Wipe all valid sessions of a user on all devices (or only mobile, or only web).
    Reset = "admin.users.session.reset" {
        scope: Some(Scope::AdminUsersWrite), tier: Tier2, admin: true, writes: true,
        idempotent: true, args: ResetArgs, response: Empty,
        errors: [CannotResetBot, CannotResetPrimaryOwner, FeatureNotEnabled, InternalError, NotAnAdmin, UserNotFound, UserSessionResetFailed],
    }
}

method! {
    /// Enqueue a job that wipes the sessions of up to 1,000 users. `ok` means queued, not done.
    ResetBulk = "admin.users.session.resetBulk" {
        scope: Some(Scope::AdminUsersWrite), tier: Tier2, admin: true, writes: true,
        idempotent: true, args: ResetBulkArgs, response: Empty,
        errors: [CannotResetBot, CannotResetPrimaryOwner, FailedForSomeUsers, FeatureNotEnabled, InternalError, InvalidArguments, NotAnAdmin, RestrictedAction, SessionResetNotAllowed, UserNotFound, UserSessionResetFailed],
    }
}

/// Arguments of `admin.users.session.reset`.
///
/// `web_only` covers browsers and the desktop app, `mobile_only` phones and tablets; with both
/// or neither, every session goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResetArgs {
    /// The user whose sessions are wiped.
    pub user_id: UserId,
    /// Only expire mobile sessions.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub mobile_only: Option<bool>,
    /// Only expire web (browser and desktop app) sessions.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub web_only: Option<bool>,
}

impl ResetArgs {
    /// Resets every session of `user_id`.
    pub fn new(user_id: impl Into<UserId>) -> Self {
        ResetArgs {
            user_id: user_id.into(),
            mobile_only: None,
            web_only: None,
        }
    }

    /// Only expire mobile sessions.
    pub fn mobile_only(mut self, yes: bool) -> Self {
        self.mobile_only = Some(yes);
        self
    }

    /// Only expire web (browser and desktop) sessions.
    pub fn web_only(mut self, yes: bool) -> Self {
        self.web_only = Some(yes);
        self
    }
}

/// Arguments of `admin.users.session.resetBulk`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResetBulkArgs {
    /// 1 to 1,000 users.
    #[serde(deserialize_with = "lenient::user_ids")]
    pub user_ids: Vec<UserId>,
    /// Only expire mobile sessions.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub mobile_only: Option<bool>,
    /// Only expire web (browser and desktop) sessions.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub web_only: Option<bool>,
}

impl ResetBulkArgs {
    /// Resets every session of each of `user_ids`.
    pub fn new<I, U>(user_ids: I) -> Self
    where
        I: IntoIterator<Item = U>,
        U: Into<UserId>,
    {
        ResetBulkArgs {
            user_ids: user_ids.into_iter().map(Into::into).collect(),
            mobile_only: None,
            web_only: None,
        }
    }

    /// Only expire mobile sessions.
    pub fn mobile_only(mut self, yes: bool) -> Self {
        self.mobile_only = Some(yes);
        self
    }

    /// Only expire web (browser and desktop) sessions.
    pub fn web_only(mut self, yes: bool) -> Self {
        self.web_only = Some(yes);
        self
    }
}

impl crate::Validate for ResetArgs {
    fn validate(&self) -> Result<(), crate::InvalidArgs> {
        Ok(())
    }
}

impl crate::Validate for ResetBulkArgs {
    fn validate(&self) -> Result<(), crate::InvalidArgs> {
        crate::validate::user_count(&self.user_ids, "user_ids")
    }
}
