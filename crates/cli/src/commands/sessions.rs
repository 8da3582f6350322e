//! `sessions list`, `sessions invalidate`, `sessions reset`.

use std::collections::BTreeSet;

use futures::TryStreamExt;
use serde_json::{Value, json};
use slack_sessions_client::api::{TeamId, UserId};
use slack_sessions_client::methods::{
    ActiveSession, InvalidateArgs, ListArgs, Platform, ResetArgs as ApiResetArgs,
};
use slack_sessions_client::{Client, Error};

use super::{org_of, who};
use crate::cli::{ClientFilter, InvalidateArgs as InvalidateCmd, ListArgs as ListCmd, ResetArgs};
use crate::exit::{self, Failure, OK, PARTIAL, Result};
use crate::output::{Column, Format, ListPrinter, col, plural, print_record, write_failed};
use crate::ui;
use crate::users::resolve_all;

/// The columns of a session list.
const SESSION_COLUMNS: [Column; 8] = [
    col("SESSION", "session_id"),
    col("USER", "user_id"),
    col("TEAM", "team_id"),
    col("CLIENT", "platform"),
    col("DEVICE", "device_hardware"),
    col("OS", "os"),
    col("VERSION", "slack_client_version"),
    col("IP", "ip"),
];

fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Mobile => "mobile",
        _ => "web",
    }
}

fn session_json(s: &ActiveSession) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert("platform".into(), platform_name(s.platform()).into());
    }
    v
}

fn session_cells(s: &ActiveSession) -> Vec<String> {
    let d = s.device();
    let os = match (&d.os, &d.os_version) {
        (Some(os), Some(v)) => format!("{os} {v}"),
        (Some(os), None) => os.clone(),
        _ => String::new(),
    };
    let ip =
        d.ip.clone()
            .or_else(|| s.created.ip.clone())
            .unwrap_or_default();
    vec![
        s.session_id.to_string(),
        s.user_id.to_string(),
        s.team_id.to_string(),
        platform_name(s.platform()).to_owned(),
        d.device_hardware.clone().unwrap_or_default(),
        os,
        d.slack_client_version.clone().unwrap_or_default(),
        ip,
    ]
}

fn wanted(filter: Option<ClientFilter>, s: &ActiveSession) -> bool {
    match filter {
        None => true,
        Some(ClientFilter::Mobile) => s.platform() == Platform::Mobile,
        Some(ClientFilter::Web) => s.platform() != Platform::Mobile,
    }
}

/// Resolves one user argument (ID or email); `changes`: for a command that would change
/// something.
async fn one_user(client: &Client, user: &str, changes: bool) -> Result<UserId> {
    let resolved = resolve_all(client, &[user.to_owned()], changes).await?;
    Ok(resolved[0].user_id.clone())
}

/// Runs `sessions list`.
pub async fn list(client: &Client, args: &ListCmd, format: Format) -> Result<u8> {
    let page = args.limit.map_or(args.page_size, |l| {
        args.page_size.min(l.clamp(1, 1000) as u32)
    });
    let mut list_args = ListArgs::new().limit(page);
    let mut team_filter: Option<TeamId> = None;
    if let Some(user) = &args.user {
        let user_id = one_user(client, user, false).await?;
        let me = who(client).await?;
        let team = match &args.team {
            Some(t) => {
                super::check_team(client, &me, t).await?;
                TeamId::new(t.as_str())
            }
            None => org_of(&me),
        };
        list_args.team_id = Some(team);
        list_args.user_id = Some(user_id);
    } else if let Some(team) = &args.team {
        // Slack lists one workspace only together with a user: walk the org and keep the
        // workspace's sessions, once the workspace is known to be one of the org's.
        super::check_team(client, &who(client).await?, team).await?;
        team_filter = Some(TeamId::new(team.as_str()));
    }
    let mut printer = ListPrinter::stdout(format, &SESSION_COLUMNS);
    let mut sessions = client.list_sessions(list_args);
    let mut users = BTreeSet::new();
    let (mut mobile, mut web) = (0usize, 0usize);
    let mut truncated = false;
    while let Some(s) = sessions
        .try_next()
        .await
        .map_err(|e| Failure::api("cannot list sessions", &e))?
    {
        if team_filter.as_ref().is_some_and(|t| *t != s.team_id) || !wanted(args.client, &s) {
            continue;
        }
        if args.limit.is_some_and(|l| printer.count() >= l) {
            truncated = true;
            break;
        }
        match s.platform() {
            Platform::Mobile => mobile += 1,
            _ => web += 1,
        }
        users.insert(s.user_id.clone());
        printer
            .push(&session_json(&s), session_cells(&s))
            .map_err(write_failed)?;
    }
    let count = printer.count();
    let mut summary = format!(
        "{} of {} ({mobile} mobile, {web} web)",
        plural(count, "session", "sessions"),
        plural(users.len(), "user", "users"),
    );
    if truncated {
        summary.push_str(&format!("; stopped at --limit {count}, more exist"));
    }
    printer
        .finish(Some(&summary), "no active sessions")
        .map_err(write_failed)?;
    Ok(OK)
}

/// Runs `sessions invalidate`.
pub async fn invalidate(client: &Client, args: &InvalidateCmd, format: Format) -> Result<u8> {
    // The current docs' form: the session's user with its id (`team_id` only as well).
    let mut call = InvalidateArgs::new(args.session_id, one_user(client, &args.user, true).await?);
    if let Some(team) = &args.team {
        call = call.team_id(team.as_str());
    }
    let user = call.user_id.clone();
    let team = call.team_id.clone();
    client
        .invalidate(call)
        .await
        .map_err(|e| Failure::api(format!("cannot end session {}", args.session_id), &e))?;
    let json = json!({
        "session_id": args.session_id,
        "user_id": user,
        "team_id": team,
        "result": "invalidated",
    });
    let fields = [
        ("session", args.session_id.to_string()),
        ("user", user.map(|u| u.to_string()).unwrap_or_default()),
        ("team", team.map(|t| t.to_string()).unwrap_or_default()),
        ("result", "invalidated".to_owned()),
    ];
    print_record(format, &json, &fields)?;
    Ok(OK)
}

/// The columns of per-user results.
const RESULT_COLUMNS: [Column; 5] = [
    col("INPUT", "input"),
    col("USER", "user_id"),
    col("SESSIONS", "scope"),
    col("RESULT", "result"),
    col("ERROR", "error"),
];

/// Whether an error ends the whole command rather than one user's part of it.
fn ends_the_command(err: &Error) -> bool {
    matches!(
        exit::code_of(err),
        exit::AUTH | exit::RATE_LIMIT | exit::NETWORK | exit::FAILURE
    )
}

/// Runs `sessions reset`: one `reset` per user, after every user has resolved.
pub async fn reset(client: &Client, args: &ResetArgs, format: Format) -> Result<u8> {
    let resolved = resolve_all(client, &args.users, true).await?;
    let scope = args.scope.name();
    let distinct: BTreeSet<&UserId> = resolved.iter().map(|r| &r.user_id).collect();
    if distinct.len() > 1 && !args.yes {
        let sessions = match scope {
            "mobile" => "their mobile sessions",
            "web" => "their web and desktop sessions",
            _ => "all their sessions",
        };
        let question = format!(
            "About to sign out {} from {sessions}. Go ahead?",
            plural(distinct.len(), "user", "users")
        );
        if !ui::confirm(&question)? {
            return Err(Failure::usage("not confirmed; nothing was changed"));
        }
    }
    let mut printer = ListPrinter::stdout(format, &RESULT_COLUMNS);
    let mut failed = 0usize;
    let single = resolved.len() == 1;
    let mut done = BTreeSet::new();
    for r in &resolved {
        if !done.insert(r.user_id.clone()) {
            continue; // the same user twice on the command line
        }
        let mut call = ApiResetArgs::new(r.user_id.clone());
        if args.scope.mobile_only {
            call = call.mobile_only(true);
        }
        if args.scope.web_only {
            call = call.web_only(true);
        }
        let (result, error) = match client.reset(call).await {
            Ok(_) => ("reset", String::new()),
            Err(e) if single || ends_the_command(&e) => {
                // Rows already printed are closed (a JSON array ends); none, nothing printed.
                if printer.count() > 0 {
                    printer.finish(None, "").map_err(write_failed)?;
                }
                return Err(Failure::api(
                    format!("cannot reset the sessions of {}", r.user_id),
                    &e,
                ));
            }
            Err(e) => {
                failed += 1;
                let result = if e.may_have_been_applied() {
                    "unknown"
                } else {
                    "failed"
                };
                (
                    result,
                    e.code()
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| e.to_string()),
                )
            }
        };
        let json = json!({
            "input": r.input,
            "user_id": r.user_id,
            "scope": scope,
            "result": result,
            "error": if error.is_empty() { Value::Null } else { error.clone().into() },
        });
        let cells = vec![
            r.input.clone(),
            r.user_id.to_string(),
            scope.to_owned(),
            result.to_owned(),
            error,
        ];
        printer.push(&json, cells).map_err(write_failed)?;
    }
    let count = printer.count();
    let summary = if failed == 0 {
        format!(
            "{} signed out ({scope} sessions)",
            plural(count, "user", "users")
        )
    } else {
        format!("{} of {} failed", failed, plural(count, "user", "users"))
    };
    printer.finish(Some(&summary), "").map_err(write_failed)?;
    if failed > 0 {
        ui::warn(format!("{failed} of {count} users could not be reset"));
        return Ok(PARTIAL);
    }
    Ok(OK)
}
