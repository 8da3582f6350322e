use serde::{Deserialize, Serialize};

use super::method;
use crate::{Scope, TeamId, UserId};

method! {
    /// Find a user by email address.
    LookupByEmail = "users.lookupByEmail" {
        scope: Some(Scope::UsersReadEmail), tier: Tier3, admin: false, writes: false,
        args: LookupByEmailArgs, response: LookupByEmailResponse,
    }
}

/// Arguments of `users.lookupByEmail`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LookupByEmailArgs {
    /// The address to look up.
    pub email: String,
}

impl LookupByEmailArgs {
    /// Looks `email` up.
    pub fn new(email: impl Into<String>) -> Self {
        LookupByEmailArgs {
            email: email.into(),
        }
    }
}

/// The body of a `users.lookupByEmail` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LookupByEmailResponse {
    /// The user found.
    pub user: User,
}

impl LookupByEmailResponse {
    /// An answer.
    pub fn new(user: User) -> Self {
        LookupByEmailResponse { user }
    }
}

/// The parts of a Slack user object this project uses.
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
    /// An admin.
    #[serde(default)]
    pub is_admin: bool,
    /// An owner.
    #[serde(default)]
    pub is_owner: bool,
    /// The primary owner.
    #[serde(default)]
    pub is_primary_owner: bool,
    /// A bot user.
    #[serde(default)]
    pub is_bot: bool,
    /// Profile fields.
    #[serde(default)]
    pub profile: UserProfile,
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

/// The profile fields this project uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserProfile {
    /// The user's email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_name: Option<String>,
}
