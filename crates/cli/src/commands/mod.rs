//! The commands that make one or a few calls: `whoami`, `sessions …`, `settings …`.

pub mod sessions;
pub mod settings;
pub mod whoami;

use slack_sessions_client::Client;
use slack_sessions_client::api::TeamId;
use slack_sessions_client::methods::AuthTestResponse;

use crate::exit::{Failure, Result};

/// Who the token is, from `auth.test`.
pub async fn who(client: &Client) -> Result<AuthTestResponse> {
    client
        .auth_test()
        .await
        .map(|r| r.into_body())
        .map_err(|e| Failure::api("cannot check the token", &e))
}

/// The org id to list a user's sessions with: the enterprise id for a Grid org (Slack accepts
/// it as `team_id` for org-level sessions), else the workspace id.
pub fn org_of(who: &AuthTestResponse) -> TeamId {
    who.enterprise_id
        .clone()
        .unwrap_or_else(|| who.team_id.clone())
}
