//! `whoami`: who the token belongs to, which org, which scopes, and what that allows.
//!
//! What the token can do is checked, not inferred from its scopes alone: a bot token is known
//! by its type (the admin methods refuse it), and whether its user is an Org Owner or Admin is
//! asked with a harmless read (`admin.users.session.list`, one session). Whether it can read
//! the audit logs (`sessions history`, `sessions list --last-login`) is asked the same way:
//! one `/audit/v1/logs` call for one entry.

use serde_json::json;
use slack_sessions_client::api::audit_logs::AuditLogsArgs;
use slack_sessions_client::api::{ErrorCode, Scope};
use slack_sessions_client::methods::ListArgs;
use slack_sessions_client::{Client, Error};

use crate::exit::{AUTH, Failure, OK, Result};
use crate::output::{Format, print_record};

/// What each scope allows, in the words of this tool, and whether it needs an admin's user
/// token.
const SCOPES: [(Scope, &str, bool); 3] = [
    (Scope::AdminUsersRead, "list sessions, read settings", true),
    (
        Scope::AdminUsersWrite,
        "end sessions, reset users, change settings",
        true,
    ),
    (Scope::UsersReadEmail, "find users by email", false),
];

/// Whether the token may use the admin methods: `Ok(())`, or why not.
async fn admin_check(client: &Client, bot: bool) -> Result<std::result::Result<(), String>> {
    if bot {
        return Ok(Err(
            "a bot token: the admin methods take a user token (xoxp-) of an Org Owner or Admin"
                .to_owned(),
        ));
    }
    match client.list(ListArgs::new().limit(1)).await {
        Ok(_) => Ok(Ok(())),
        // Without the read scope the check says nothing more than the scopes do.
        Err(Error::Slack(e)) if e.code == ErrorCode::MissingScope => Ok(Ok(())),
        Err(Error::Slack(e)) if e.code.is_auth() || e.code.is_permission() => Ok(Err(format!(
            "{}: {}",
            e.code,
            match e.code {
                ErrorCode::NotAnAdmin | ErrorCode::RestrictedAction => {
                    "the token's user is not an Org Owner or Admin"
                }
                ErrorCode::FeatureNotEnabled => "not an Enterprise Grid org",
                ErrorCode::NotAllowedTokenType => "this kind of token is refused",
                _ => "refused",
            }
        ))),
        Err(e) => Err(Failure::api("cannot check what the token may do", &e)),
    }
}

/// Whether the token can read the audit logs: `Ok(why)` or `Err(why not)`. `bot`: a bot
/// token; `scoped`: whether it has `auditlogs:read` (`None`: not reported). The API answers
/// every token it refuses alike (`invalid_authentication`): what else is known tells why.
async fn audit_check(
    client: &Client,
    bot: bool,
    scoped: Option<bool>,
) -> std::result::Result<String, String> {
    match client.audit_logs_page(AuditLogsArgs::new().limit(1)).await {
        Ok(_) => Ok("an Org Owner's token with auditlogs:read".to_owned()),
        Err(e) if e.is_auth() => Err(match (bot, scoped) {
            (true, _) => "a bot token: the audit logs take an Org Owner's user token".to_owned(),
            (false, Some(false)) => "missing scope auditlogs:read".to_owned(),
            _ => format!(
                "{}: the audit logs take only an Org Owner's user token with auditlogs:read",
                e.code().map_or("refused".to_owned(), ToString::to_string)
            ),
        }),
        Err(Error::Slack(e)) if e.code == ErrorCode::FeatureNotEnabled => {
            Err("feature_not_enabled: not an Enterprise Grid org".to_owned())
        }
        Err(e) => Err(format!("could not check: {e}")),
    }
}

/// Runs `whoami`.
pub(crate) async fn run(client: &Client, format: Format) -> Result<u8> {
    let answer = client
        .auth_test()
        .await
        .map_err(|e| Failure::api("cannot check the token", &e))?;
    let scopes = answer.scopes.clone();
    let who = answer.into_body();
    let bot = client.token().kind() == Some("xoxb") || who.bot_id.is_some();
    let admin = admin_check(client, bot).await?;
    let granted = |scope: &Scope| {
        scopes
            .as_ref()
            .is_some_and(|s| s.iter().any(|g| g == scope.as_str()))
    };
    let audit = audit_check(
        client,
        bot,
        scopes.as_ref().map(|_| granted(&Scope::AuditLogsRead)),
    )
    .await;
    let mut can = Vec::new();
    let mut cannot = Vec::new();
    for (scope, what, needs_admin) in SCOPES {
        let why = if !granted(&scope) {
            Some(format!("missing scope {}", scope.as_str()))
        } else if needs_admin {
            admin.as_ref().err().cloned()
        } else {
            None
        };
        match why {
            None => can.push(format!("{what} ({})", scope.as_str())),
            Some(why) => cannot.push((what, why)),
        }
    }
    let missing: Vec<&str> = SCOPES
        .iter()
        .filter(|(s, _, _)| !granted(s))
        .map(|(s, _, _)| s.as_str())
        .collect();
    let json = json!({
        "user_id": who.user_id,
        "user": who.user,
        "team_id": who.team_id,
        "team": who.team,
        "enterprise_id": who.enterprise_id,
        "is_enterprise_install": who.is_enterprise_install,
        "url": who.url,
        "token_kind": client.token().kind(),
        "admin": admin.is_ok(),
        "audit_logs": audit.is_ok(),
        "audit_logs_why": match &audit { Ok(why) | Err(why) => why },
        "scopes": scopes,
        "missing_scopes": missing,
        "can": can,
        "cannot": cannot.iter().map(|(what, why)| json!({"what": what, "why": why})).collect::<Vec<_>>(),
    });
    let org_kind = if who.enterprise_id.is_some() {
        "Enterprise Grid org"
    } else {
        "workspace (not Enterprise Grid: the session methods will refuse it)"
    };
    let token = match (client.token().kind(), bot) {
        (_, true) => "bot token".to_owned(),
        (Some("xoxp"), false) => "user token (xoxp-)".to_owned(),
        (Some(kind), false) => format!("{kind}- token"),
        (None, false) => "unknown".to_owned(),
    };
    let fields = [
        ("user", format!("{} ({})", who.user, who.user_id)),
        ("org", format!("{} ({}), {org_kind}", who.team, who.team_id)),
        ("url", who.url.clone()),
        ("token", token),
        (
            "scopes",
            scopes
                .as_ref()
                .map(|s| s.join(", "))
                .unwrap_or_else(|| "(not reported)".to_owned()),
        ),
        (
            "audit logs",
            match &audit {
                Ok(why) => format!("yes ({why})"),
                Err(why) => format!("no ({why})"),
            },
        ),
        (
            "can",
            if can.is_empty() {
                "-".into()
            } else {
                can.join("; ")
            },
        ),
        (
            "cannot",
            if cannot.is_empty() {
                "-".into()
            } else {
                cannot
                    .iter()
                    .map(|(what, why)| format!("{what} ({why})"))
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        ),
    ];
    print_record(format, &json, &fields)?;
    // Listing sessions is the least this tool needs: a token that cannot is a failure of its
    // own (exit 3), said in one line naming the scope or the role it lacks.
    let (read, _, _) = &SCOPES[0];
    if scopes.is_some() && !granted(read) {
        return Err(Failure::new(
            AUTH,
            format!(
                "this token cannot list sessions: it lacks the scope {}",
                read.as_str()
            ),
        )
        .hint(format!(
            "add the user scope {} to the app and have an Org Owner reinstall it at the org level",
            read.as_str()
        )));
    }
    if let Err(why) = &admin {
        return Err(
            Failure::new(AUTH, format!("this token cannot list sessions: {why}"))
                .hint("the admin methods take a user token (xoxp-) of an Org Owner or Org Admin"),
        );
    }
    Ok(OK)
}
