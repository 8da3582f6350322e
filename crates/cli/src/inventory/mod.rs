//! The session inventory: find sessions by network, OS, client version and client kind
//! ([`filter`]), show them with their users' names ([`names`], [`row`]), count them
//! ([`summary`], [`html`]), and end the ones found, resumably ([`bulk`]).
//!
//! Every command here walks the org's session list once, page by page, and keeps no session
//! it does not need: a list or a summary of 1,000,000 sessions holds one page at a time.

pub mod bulk;
pub mod filter;
pub mod html;
pub mod names;
pub mod row;
pub mod summary;

use futures::TryStreamExt;
use slack_sessions_client::Client;
use slack_sessions_client::api::TeamId;
use slack_sessions_client::methods::{ActiveSession, AuthTestResponse, ListArgs};

use self::filter::Filter;
use crate::cli::FilterArgs;
use crate::commands::{check_team, org_of, who};
use crate::exit::{Failure, Result};

/// The filters of the command line, checked: `--team` must be one of the org's workspaces
/// (or its id). Returns them with the token's identity.
pub async fn filter_of(client: &Client, args: &FilterArgs) -> Result<(Filter, AuthTestResponse)> {
    let me = who(client).await?;
    if let Some(team) = &args.team {
        check_team(client, &me, team).await?;
    }
    let filter = Filter {
        networks: args.ip.clone(),
        os: args.os.iter().map(|o| o.trim().to_lowercase()).collect(),
        client_version_below: args.client_version_below.clone(),
        client: args.client.map(crate::cli::ClientFilter::kind),
        team: args.team.as_deref().map(TeamId::new),
    };
    Ok((filter, me))
}

/// The org to read users and per-user sessions with.
pub fn org(me: &AuthTestResponse) -> TeamId {
    org_of(me)
}

/// Walks the sessions of `list` (the org's, or one user's), calling `each` with every one that passes `filter`, as pages
/// arrive; `each` returns `false` to stop the walk.
pub async fn walk(
    client: &Client,
    filter: &Filter,
    list: ListArgs,
    mut each: impl AsyncFnMut(ActiveSession) -> Result<bool>,
) -> Result<()> {
    let mut sessions = client.list_sessions(list);
    while let Some(s) = sessions
        .try_next()
        .await
        .map_err(|e| Failure::api("cannot list sessions", &e))?
    {
        if filter.matches(&s) && !each(s).await? {
            break;
        }
    }
    Ok(())
}
