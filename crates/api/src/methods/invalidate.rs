use serde::{Deserialize, Serialize};

use super::{Empty, method};
use crate::{Scope, SessionId, TeamId, UserId};

method! {
    /// Revoke a single session of a user; the user must sign in again on that device.
    Invalidate = "admin.users.session.invalidate" {
        scope: Some(Scope::AdminUsersWrite), tier: Tier2, admin: true, writes: true,
        idempotent: true, args: InvalidateArgs, response: Empty,
        errors: [AdminUnauthorized, CannotInvalidatePrimaryOwner, FeatureNotEnabled, InvalidArguments, NotAnAdmin, SessionInvalidationFailed, SessionNotFound, UserNotFound],
    }
}

/// Arguments of `admin.users.session.invalidate`.
///
/// Current docs require `user_id`; the legacy form (what the official SDKs still send) names the
/// session's workspace with `team_id` instead. Both are accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InvalidateArgs {
    /// The session to invalidate.
    pub session_id: SessionId,
    /// The user the session belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// The workspace the session belongs to (legacy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
}

impl InvalidateArgs {
    /// Invalidates `session_id` of `user_id` (the current form).
    pub fn new(session_id: impl Into<SessionId>, user_id: impl Into<UserId>) -> Self {
        InvalidateArgs {
            session_id: session_id.into(),
            user_id: Some(user_id.into()),
            team_id: None,
        }
    }

    /// Invalidates `session_id` on workspace `team_id` (the legacy form).
    pub fn on_team(session_id: impl Into<SessionId>, team_id: impl Into<TeamId>) -> Self {
        InvalidateArgs {
            session_id: session_id.into(),
            user_id: None,
            team_id: Some(team_id.into()),
        }
    }

    /// Also names the session's workspace.
    pub fn team_id(mut self, team_id: impl Into<TeamId>) -> Self {
        self.team_id = Some(team_id.into());
        self
    }
}

impl crate::Validate for InvalidateArgs {
    fn validate(&self) -> Result<(), crate::InvalidArgs> {
        if self.user_id.is_none() && self.team_id.is_none() {
            return Err(crate::InvalidArgs::arg(
                "user_id",
                "one of user_id or team_id is required",
            ));
        }
        Ok(())
    }
}
