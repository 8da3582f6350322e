//! Slack's user object, and the two user reads tooling needs: `users.list` (resolve a whole org
//! in a few calls) and `users.info` (one user by id).

use serde::{Deserialize, Serialize};

use super::method;
use crate::{Scope, TeamId, UserId, lenient};

method! {
    /// List the users of a workspace (or, in the emulator, of the whole org), a page at a time.
    UsersList = "users.list" {
        scope: Some(Scope::UsersRead), tier: Tier2, admin: false, writes: false,
        idempotent: true, args: UsersListArgs, response: UsersListResponse,
        errors: [InvalidArguments, InvalidCursor, LimitRequired],
    }
}

method! {
    /// One user, by id.
    UsersInfo = "users.info" {
        scope: Some(Scope::UsersRead), tier: Tier4, admin: false, writes: false,
        idempotent: true, args: UsersInfoArgs, response: UsersInfoResponse,
        errors: [UserNotFound, UserNotVisible],
    }
}

/// Arguments of `users.list`.
///
/// With an org-wide token Slack's docs require `team_id`; the emulator also accepts the org's id
/// there (every user of the org). `limit` is a maximum: pages may be shorter, so follow
/// `response_metadata.next_cursor` until it is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UsersListArgs {
    /// The workspace (or org) whose users are listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
    /// Page size, at most [`MAX_USERS_LIST_LIMIT`](crate::validate::MAX_USERS_LIST_LIMIT).
    /// Without it Slack tries to send every user at once (or answers `limit_required`).
    #[serde(
        default,
        deserialize_with = "lenient::opt_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Also return each user's locale.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub include_locale: Option<bool>,
}

impl UsersListArgs {
    /// The users of `team_id` (a workspace, or the org).
    pub fn new(team_id: impl Into<TeamId>) -> Self {
        UsersListArgs {
            team_id: Some(team_id.into()),
            ..Self::default()
        }
    }

    /// Page size.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Continue from a previous page's `next_cursor`.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }
}

impl crate::Validate for UsersListArgs {
    fn validate(&self) -> Result<(), crate::InvalidArgs> {
        // Slack serves a larger limit as its maximum; 0 means "no limit".
        Ok(())
    }
}

/// The body of a `users.list` answer; the next page's cursor is in the envelope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UsersListResponse {
    /// One page of users.
    #[serde(default)]
    pub members: Vec<User>,
    /// When the list was read, in seconds since the Unix epoch.
    #[serde(default)]
    pub cache_ts: u64,
}

impl UsersListResponse {
    /// A page of users.
    pub fn new(members: Vec<User>, cache_ts: u64) -> Self {
        UsersListResponse { members, cache_ts }
    }
}

/// Arguments of `users.info`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UsersInfoArgs {
    /// The user.
    pub user: UserId,
    /// Also return the user's locale.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub include_locale: Option<bool>,
}

impl UsersInfoArgs {
    /// The user `user`.
    pub fn new(user: impl Into<UserId>) -> Self {
        UsersInfoArgs {
            user: user.into(),
            include_locale: None,
        }
    }
}

impl crate::Validate for UsersInfoArgs {
    fn validate(&self) -> Result<(), crate::InvalidArgs> {
        if self.user.as_str().trim().is_empty() {
            return Err(crate::InvalidArgs::arg("user", "must not be empty"));
        }
        Ok(())
    }
}

/// The body of a `users.info` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UsersInfoResponse {
    /// The user.
    pub user: User,
}

impl UsersInfoResponse {
    /// An answer.
    pub fn new(user: User) -> Self {
        UsersInfoResponse { user }
    }
}

/// A Slack user object, as `users.lookupByEmail`, `users.info` and `users.list` return it
/// (the fields of Slack's docs example and the Java SDK's recorded sample). Every field is
/// optional on decoding, so a partial object from another server still decodes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The user's ID.
    pub id: UserId,
    /// The user's home workspace (or org).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
    /// The user's handle.
    #[serde(default)]
    pub name: String,
    /// Deactivated.
    #[serde(default)]
    pub deleted: bool,
    /// The colour of the user's name in some clients (hex, no `#`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// The user's full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_name: Option<String>,
    /// Time zone (e.g. `America/Los_Angeles`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
    /// Time zone's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz_label: Option<String>,
    /// Time zone's offset from UTC, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz_offset: Option<i64>,
    /// Profile fields.
    #[serde(default)]
    pub profile: UserProfile,
    /// An admin.
    #[serde(default)]
    pub is_admin: bool,
    /// An owner.
    #[serde(default)]
    pub is_owner: bool,
    /// The primary owner.
    #[serde(default)]
    pub is_primary_owner: bool,
    /// A multi-channel guest.
    #[serde(default)]
    pub is_restricted: bool,
    /// A single-channel guest.
    #[serde(default)]
    pub is_ultra_restricted: bool,
    /// A bot user.
    #[serde(default)]
    pub is_bot: bool,
    /// An authorized user of the calling app (Slack's user type: "Indicates whether the user
    /// is an authorized user of the calling app").
    #[serde(default)]
    pub is_app_user: bool,
    /// Last change to the user object, in seconds since the Unix epoch.
    #[serde(default)]
    pub updated: u64,
    /// Whether two-factor authentication is on for the user: only shown to callers who are
    /// admins (Slack's user type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_2fa: Option<bool>,
    /// Whether the email address has been confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_email_confirmed: Option<bool>,
    /// Who may share the user's contact card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who_can_share_contact_card: Option<String>,
    /// The user's locale (only with `include_locale`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// On Enterprise Grid: the user's org-level record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_user: Option<EnterpriseUser>,
}

impl User {
    /// A user with only an ID and name.
    pub fn new(id: UserId, name: impl Into<String>) -> Self {
        User {
            id,
            name: name.into(),
            ..Self::default()
        }
    }
}

/// A user's profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserProfile {
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_name: Option<String>,
    /// Full name with any non-Latin characters filtered out (Slack's user type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_name_normalized: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Display name with any non-Latin characters filtered out (Slack's user type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name_normalized: Option<String>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Status text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
    /// Status emoji.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_emoji: Option<String>,
    /// When the status expires (0: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_expiration: Option<u64>,
    /// Avatar version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_hash: Option<String>,
    /// The email address (only for tokens with `users:read.email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Avatar, 24 px.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_24: Option<String>,
    /// Avatar, 32 px.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_32: Option<String>,
    /// Avatar, 48 px.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_48: Option<String>,
    /// Avatar, 72 px.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_72: Option<String>,
    /// Avatar, 192 px.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_192: Option<String>,
    /// Avatar, 512 px.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_512: Option<String>,
    /// The workspace of this profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
    /// A bot user's bot (`B…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_id: Option<String>,
    /// A bot user's app (`A…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_app_id: Option<String>,
    /// A bot user set to be always active in presence status (Slackbot is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_active: Option<bool>,
}

/// A user's org-level record on Enterprise Grid.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnterpriseUser {
    /// The user's org-wide ID.
    pub id: UserId,
    /// The org.
    pub enterprise_id: TeamId,
    /// The org's name.
    #[serde(default)]
    pub enterprise_name: String,
    /// An Org Admin.
    #[serde(default)]
    pub is_admin: bool,
    /// An Org Owner.
    #[serde(default)]
    pub is_owner: bool,
    /// The Org's Primary Owner.
    #[serde(default)]
    pub is_primary_owner: bool,
    /// The workspaces the user belongs to.
    #[serde(default)]
    pub teams: Vec<TeamId>,
}
