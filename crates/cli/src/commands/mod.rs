//! The commands that make one or a few calls: `whoami`, `sessions …`, `settings …`.

pub mod sessions;
pub mod settings;
pub mod whoami;

use futures::TryStreamExt;
use slack_sessions_client::Client;
use slack_sessions_client::api::{ErrorCode, TeamId};
use slack_sessions_client::methods::{AuthTestResponse, ListArgs};

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

/// Checks `--team`: a workspace (or org) of the token's org. Slack's list answers
/// `team_not_found` for one it does not know, where a walk of the org would just find nothing.
pub async fn check_team(client: &Client, me: &AuthTestResponse, team: &str) -> Result<()> {
    let args = ListArgs::for_user(TeamId::new(team), me.user_id.clone()).limit(1);
    match client.list_pages(args).try_next().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(&ErrorCode::TeamNotFound) => Err(Failure::new(
            crate::exit::API,
            format!(
                "--team {team}: no workspace or org with this id in {} ({}) (team_not_found)",
                me.team,
                org_of(me)
            ),
        )
        .hint(
            "give a workspace id (T…) of this org, or its org id (E…); `sessions list` shows them",
        )),
        Err(e) => Err(Failure::api(format!("cannot check --team {team}"), &e)),
    }
}
