//! The org a token acts in: who the token is, the org's id, and its workspaces.

use futures::TryStreamExt;
use slack_sessions_client::Client;
use slack_sessions_client::api::{ErrorCode, TeamId};
use slack_sessions_client::methods::{AuthTestResponse, ListArgs};

use crate::error::{Error, Result};

/// The token's identity and org.
#[derive(Clone, Debug)]
pub struct Org {
    /// What `auth.test` said of the token.
    pub me: AuthTestResponse,
    /// The org id to list users and a user's sessions with: the enterprise id on Grid (Slack
    /// accepts it as `team_id` for org-level sessions), else the workspace id.
    pub id: TeamId,
}

impl Org {
    /// Who the token is, from `auth.test`.
    pub async fn of(client: &Client) -> Result<Org> {
        let me = client
            .auth_test()
            .await
            .map(|r| r.into_body())
            .map_err(|e| Error::slack("cannot check the token", e))?;
        Ok(Org::from(me))
    }

    /// The org's name and id: `Acme Corp (E0DEMO0001)`.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.me.team, self.id)
    }

    /// Checks a workspace (or org) id given by the person: Slack's list answers
    /// `team_not_found` for one it does not know, where a walk of the org would just find
    /// nothing.
    pub async fn check_team(&self, client: &Client, team: &TeamId) -> Result<()> {
        let args = ListArgs::for_user(team.clone(), self.me.user_id.clone()).limit(1);
        match client.list_pages(args).try_next().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(&ErrorCode::TeamNotFound) => Err(Error::slack(
                format!(
                    "--team {team}: no workspace or org with this id in {}",
                    self.describe()
                ),
                e,
            )),
            Err(e) => Err(Error::slack(format!("cannot check --team {team}"), e)),
        }
    }
}

impl From<AuthTestResponse> for Org {
    fn from(me: AuthTestResponse) -> Org {
        let id = me
            .enterprise_id
            .clone()
            .unwrap_or_else(|| me.team_id.clone());
        Org { me, id }
    }
}
