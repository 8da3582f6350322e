use serde::{Deserialize, Serialize};

use super::method;
use crate::{TeamId, UserId};

method! {
    /// Who a token belongs to. Slack's tier is "Special": "This method allows hundreds of
    /// requests per minute" (the method's page); budgeted at 600 a minute, the figure Slack's
    /// Java SDK paces it at (`MethodsRateLimitTier.SpecialTier_auth_test`).
    AuthTest = "auth.test" {
        scope: None, tier: Special(600), admin: false, writes: false,
        idempotent: true, args: AuthTestArgs, response: AuthTestResponse,
        errors: [],
    }
}

/// `auth.test` takes no arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthTestArgs {}

/// The body of an `auth.test` answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthTestResponse {
    /// The org's or workspace's URL.
    #[serde(default)]
    pub url: String,
    /// The org's or workspace's name.
    #[serde(default)]
    pub team: String,
    /// The user's name.
    #[serde(default)]
    pub user: String,
    /// The org (for an org-wide install) or workspace.
    pub team_id: TeamId,
    /// The token's user.
    pub user_id: UserId,
    /// The Enterprise Grid org, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<TeamId>,
    /// An org-wide install.
    #[serde(default)]
    pub is_enterprise_install: bool,
    /// The bot, for a bot token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_id: Option<String>,
}

impl AuthTestResponse {
    /// An answer for `user_id` on `team_id`.
    pub fn new(team_id: TeamId, user_id: UserId) -> Self {
        AuthTestResponse {
            team_id,
            user_id,
            ..Self::default()
        }
    }
}

impl crate::Validate for AuthTestArgs {
    fn validate(&self) -> Result<(), crate::InvalidArgs> {
        Ok(())
    }
}
