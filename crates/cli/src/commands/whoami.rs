//! `whoami`: who the token belongs to, which org, which scopes, and what that allows.

use serde_json::json;
use slack_sessions_client::Client;
use slack_sessions_client::api::Scope;

use crate::exit::{Failure, OK, Result};
use crate::output::{Format, print_record};

/// What each scope allows, in the words of this tool.
const SCOPES: [(Scope, &str); 3] = [
    (Scope::AdminUsersRead, "list sessions, read settings"),
    (
        Scope::AdminUsersWrite,
        "end sessions, reset users, change settings",
    ),
    (Scope::UsersReadEmail, "find users by email"),
];

/// Runs `whoami`.
pub async fn run(client: &Client, format: Format) -> Result<u8> {
    let answer = client
        .auth_test()
        .await
        .map_err(|e| Failure::api("cannot check the token", &e))?;
    let scopes = answer.scopes.clone();
    let who = answer.into_body();
    let (can, missing): (Vec<_>, Vec<_>) = match &scopes {
        Some(scopes) => SCOPES
            .iter()
            .copied()
            .partition(|(scope, _)| scopes.iter().any(|s| s == scope.as_str())),
        None => (Vec::new(), Vec::new()),
    };
    let json = json!({
        "user_id": who.user_id,
        "user": who.user,
        "team_id": who.team_id,
        "team": who.team,
        "enterprise_id": who.enterprise_id,
        "is_enterprise_install": who.is_enterprise_install,
        "url": who.url,
        "token_kind": client.token().kind(),
        "scopes": scopes,
        "missing_scopes": missing.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(),
    });
    let org_kind = if who.enterprise_id.is_some() {
        "Enterprise Grid org"
    } else {
        "workspace (not Enterprise Grid: the session methods will refuse it)"
    };
    let list = |items: &[(Scope, &str)]| {
        items
            .iter()
            .map(|(scope, what)| format!("{what} ({})", scope.as_str()))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let fields = [
        ("user", format!("{} ({})", who.user, who.user_id)),
        ("org", format!("{} ({}), {org_kind}", who.team, who.team_id)),
        ("url", who.url.clone()),
        (
            "token",
            client.token().kind().unwrap_or("unknown").to_owned(),
        ),
        (
            "scopes",
            scopes
                .as_ref()
                .map(|s| s.join(", "))
                .unwrap_or_else(|| "(not reported)".to_owned()),
        ),
        (
            "can",
            if can.is_empty() {
                "-".into()
            } else {
                list(&can)
            },
        ),
        (
            "cannot",
            if missing.is_empty() {
                "-".into()
            } else {
                list(&missing)
            },
        ),
    ];
    print_record(format, &json, &fields)?;
    Ok(OK)
}
