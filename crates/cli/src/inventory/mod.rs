//! Session inventory output: one session as a list shows it ([`row`]), counts of sessions
//! ([`summary`]) and a page with charts ([`html`]). Every command here walks the org's session
//! list once, page by page, and keeps no session it does not need: a list or a summary of
//! 1,000,000 sessions holds one page at a time.

pub(crate) mod html;
pub(crate) mod row;
pub(crate) mod summary;

use std::collections::HashMap;

use slack_sessions_client::Client;
use slack_sessions_client::api::TeamId;
use slack_sessions_engine::filter::Filter;
use slack_sessions_engine::org::Org;

use crate::cli::FilterFlags;
use crate::exit::Result;

/// The filters of the command line, checked: `--team` must be one of the org's workspaces
/// (or its id). Returns them with the token's org.
pub(crate) async fn filter_of(client: &Client, flags: &FilterFlags) -> Result<(Filter, Org)> {
    let org = Org::of(client).await?;
    let filter = crate::plans::filter(flags);
    if let Some(team) = &filter.team {
        org.check_team(client, team).await?;
    }
    Ok((filter, org))
}

/// The names of workspaces the tool knows, by id: the org's own (sessions at the org level
/// carry its id), from `auth.test`. A workspace's (`T…`) name is in none of the answers of the
/// methods the tool calls (Slack gives it with `auth.teams.list` or `admin.teams.list`): those
/// are shown by id.
pub(crate) fn team_names(org: &Org) -> HashMap<TeamId, String> {
    [&org.id, &org.me.team_id]
        .into_iter()
        .filter(|_| !org.me.team.is_empty())
        .map(|id| (id.clone(), org.me.team.clone()))
        .collect()
}
