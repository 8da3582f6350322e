//! `sessions list`, `sessions invalidate SESSION_ID`, `sessions reset`, `sessions summary`.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use slack_sessions_client::Error;
use slack_sessions_client::api::{ErrorCode, UserId};
use slack_sessions_client::methods::{InvalidateArgs, ListArgs, ResetArgs as ApiResetArgs};

use slack_sessions_engine::Context;
use slack_sessions_engine::count::{CountBy, Counter};
use slack_sessions_engine::filter::KindCounts;
use slack_sessions_engine::journal::Devices;
use slack_sessions_engine::offboard::Hold;
use slack_sessions_engine::offboard::state::Facts;
use slack_sessions_engine::org::Org;
use slack_sessions_engine::users::{Directory, Found, Named, ResolveBy};

use crate::cli::{InvalidateFlags, ListFlags, ResetFlags, SummaryFlags};
use crate::commands::history::LastLogins;
use crate::exit::{self, Failure, OK, PARTIAL, Result};
use crate::inventory::{self, row};
use crate::output::{Column, Format, ListPrinter, col, plural, print_record, write_failed};
use crate::ui;

/// The org's users, for names (`names`) and for the users named on the command line.
fn directory(ctx: &Context, org: &Org, names: bool) -> Directory {
    let d = Directory::new(
        &ctx.client,
        org.id.clone(),
        ctx.events.clone(),
        ctx.stop.clone(),
    );
    if names { d } else { d.without_names() }
}

/// Resolves one user argument (ID or email); `changes`: for a command that would change
/// something.
async fn one_user(directory: &mut Directory, user: &str, changes: bool) -> Result<UserId> {
    let resolved = directory.resolve_all(&[user.to_owned()], changes).await?;
    Ok(resolved[0].user_id.clone())
}

/// Runs `sessions list`: the org's sessions (or one user's), filtered as pages arrive.
pub(crate) async fn list(ctx: &Context, args: &ListFlags, format: Format) -> Result<u8> {
    let client = &ctx.client;
    let (mut filter, org) = inventory::filter_of(client, &args.filter).await?;
    let names = !args.no_names;
    let mut directory = directory(ctx, &org, names);
    let page = args.limit.map_or(args.page_size, |l| {
        args.page_size.min(l.clamp(1, 1000) as u32)
    });
    let mut list_args = ListArgs::new().limit(page);
    let mut last_logins = None;
    if let Some(user) = &args.user {
        // Slack lists one user's sessions on one workspace, or on the org id: all of them.
        let user_id = one_user(&mut directory, user, false).await?;
        if args.last_login {
            last_logins = Some(LastLogins::of(client, &user_id).await?);
        }
        list_args.team_id = Some(filter.team.take().unwrap_or_else(|| org.id.clone()));
        list_args.user_id = Some(user_id);
    }
    let mut columns = row::columns(names);
    if last_logins.is_some() {
        columns.push(LastLogins::COLUMN);
    }
    let mut printer = ListPrinter::stdout(format, &columns);
    let mut users = BTreeSet::new();
    let mut kinds = KindCounts::default();
    let mut truncated = false;
    slack_sessions_engine::filter::walk::<Failure>(client, &filter, list_args, async |s| {
        if args.limit.is_some_and(|l| printer.count() >= l) {
            truncated = true;
            return Ok(false);
        }
        kinds.add(&s);
        users.insert(s.user_id.clone());
        let person = directory.person(&s.user_id).await?;
        let mut json = row::json(&s, person.as_ref());
        let mut cells = row::cells(&s, person.as_ref());
        if let Some(last) = &last_logins {
            last.add(&s, &mut json, &mut cells);
        }
        printer.push(&json, cells).map_err(write_failed)?;
        Ok(true)
    })
    .await?;
    let count = printer.count();
    let mut summary = format!(
        "{} of {} ({kinds})",
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

/// Runs `sessions invalidate`: one session by its id, or (without one) every session the
/// filters find, as a resumable bulk run.
pub(crate) async fn invalidate(
    ctx: &Context,
    args: &InvalidateFlags,
    format: Format,
) -> Result<u8> {
    let Some(session_id) = args.session_id else {
        return super::invalidate::run(ctx, args, format).await;
    };
    let client = &ctx.client;
    let Some(user) = &args.user else {
        return Err(Failure::usage(
            "--user is needed with SESSION_ID: Slack's invalidate names the session's user",
        )
        .hint("`sessions list` shows each session's user"));
    };
    if args.filter.team.is_none() && args.filter.any() {
        return Err(Failure::usage(
            "filters (--ip, --os, --client, --client-version-below) are for ending many sessions: give them without SESSION_ID",
        ));
    }
    // The current docs' form: the session's user with its id (`team_id` only as well).
    let org = Org::of(client).await?;
    let user_id = one_user(&mut directory(ctx, &org, false), user, true).await?;
    let mut call = InvalidateArgs::new(session_id, user_id.clone());
    if let Some(team) = &args.filter.team {
        call = call.team_id(team.as_str());
    }
    let user = call.user_id.clone();
    let team = call.team_id.clone();
    let result = if args.dry_run {
        // The run minus the write: the session must be one of the user's sessions where the
        // call looks for it (the workspace given, else the whole org), or Slack refuses.
        use futures::TryStreamExt;
        let team = team.clone().unwrap_or_else(|| org.id.clone());
        let list = ListArgs::for_user(team, user_id.clone()).limit(1000);
        let mut sessions = client.list_sessions(list);
        let mut found = false;
        while let Some(s) = sessions
            .try_next()
            .await
            .map_err(|e| Failure::api(format!("cannot list the sessions of {user_id}"), &e))?
        {
            if s.session_id.0 == session_id {
                found = true;
                break;
            }
        }
        if !found {
            return Err(Failure::new(
                exit::API,
                format!(
                    "cannot end session {session_id}: Slack would answer session_not_found \
                     (the user's sessions have no such id); nothing was changed"
                ),
            )
            .hint("`sessions list --user USER` shows the user's sessions and their ids"));
        }
        "planned"
    } else {
        client
            .invalidate(call)
            .await
            .map_err(|e| Failure::api(format!("cannot end session {session_id}"), &e))?;
        "invalidated"
    };
    let json = json!({
        "session_id": session_id,
        "user_id": user,
        "team_id": team,
        "result": result,
    });
    let fields = [
        ("session", session_id.to_string()),
        ("user", user.map(|u| u.to_string()).unwrap_or_default()),
        ("team", team.map(|t| t.to_string()).unwrap_or_default()),
        ("result", result.to_owned()),
    ];
    print_record(format, &json, &fields)?;
    if args.dry_run {
        ui::note("dry run: nothing was changed");
    }
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
pub(crate) async fn reset(ctx: &Context, args: &ResetFlags, format: Format) -> Result<u8> {
    let client = &ctx.client;
    let org = Org::of(client).await?;
    let mut directory = directory(ctx, &org, false);
    let resolved = super::once_each(directory.resolve_all(&args.users, true).await?);
    let devices = args.devices.devices();
    let scope = devices.as_str();
    if args.dry_run {
        return reset_dry_run(ctx, &org, &mut directory, &resolved, devices, format).await;
    }
    if resolved.len() > 1 && !args.yes {
        let sessions = match devices {
            Devices::Mobile => "their mobile sessions",
            Devices::Web => "their web and desktop sessions",
            Devices::All => "all their sessions",
        };
        let question = format!(
            "About to sign out {} from {sessions}. Go ahead?",
            plural(resolved.len(), "user", "users")
        );
        super::confirm(ctx, &question)?;
    }
    let mut printer = ListPrinter::stdout(format, &RESULT_COLUMNS);
    let mut failed = 0usize;
    let single = resolved.len() == 1;
    for r in &resolved {
        let mut call = ApiResetArgs::new(r.user_id.clone());
        match devices {
            Devices::All => {}
            Devices::Mobile => call = call.mobile_only(true),
            Devices::Web => call = call.web_only(true),
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

/// The columns of a reset's dry run.
const PLAN_COLUMNS: [Column; 6] = [
    col("INPUT", "input"),
    col("USER", "user_id"),
    col("SESSIONS", "scope"),
    col("NOW", "sessions_now"),
    col("RESULT", "result"),
    col("ERROR", "error"),
];

/// `sessions reset --dry-run`: the run minus the writes, exiting as the run would. Each
/// user's record tells whether Slack would refuse the reset (the primary owner, a bot, a user
/// the org does not have), and their sessions now what it would end.
async fn reset_dry_run(
    ctx: &Context,
    org: &Org,
    directory: &mut Directory,
    users: &[Named],
    devices: Devices,
    format: Format,
) -> Result<u8> {
    let mut records = std::collections::HashMap::new();
    let ids = users.iter().map(|r| r.user_id.clone()).collect();
    directory
        .resolve(Vec::new(), ids, ResolveBy::Lookup, &mut |found| {
            if let Found::Id { id, user } = found {
                records.insert(id, user);
            }
            Ok(())
        })
        .await?;
    let counter = Counter {
        client: ctx.client.clone(),
        team: org.id.clone(),
        devices,
        by: CountBy::User,
    };
    let mut plan: Vec<(&Named, std::result::Result<u64, &'static str>)> = Vec::new();
    for r in users {
        // The token's own user may reset themself, the primary owner included.
        let held = match records.get(&r.user_id) {
            _ if r.user_id == org.me.user_id => None,
            Some(None) => Some(Hold::NotFound),
            Some(Some(person)) => Hold::of(Facts::from(person)),
            // Users not read (a token without users:read): the list call tells.
            None => None,
        };
        let outcome = match held {
            Some(hold) => Err(hold.code()),
            None => match counter.count_one(&r.user_id).await {
                Ok(n) => Ok(n),
                Err(e) => match e.code() {
                    Some(ErrorCode::BotsNotAllowed | ErrorCode::CannotResetBot) => {
                        Err(Hold::Bot.code())
                    }
                    Some(ErrorCode::UserNotFound) => Err(Hold::NotFound.code()),
                    _ => {
                        return Err(Failure::api(
                            format!("cannot list the sessions of {}", r.user_id),
                            &e,
                        ));
                    }
                },
            },
        };
        plan.push((r, outcome));
    }
    // One user, refused: the run fails with Slack's error (exit 4) and prints no row.
    if let [(r, Err(code))] = plan.as_slice() {
        return Err(Failure::new(
            exit::API,
            format!(
                "cannot reset the sessions of {}: Slack would answer {code}; nothing was changed",
                r.user_id
            ),
        ));
    }
    let scope = devices.as_str();
    let mut printer = ListPrinter::stdout(format, &PLAN_COLUMNS);
    let mut refused = 0;
    for (r, outcome) in &plan {
        let (now, result, error) = match outcome {
            Ok(n) => (Some(*n), "planned", ""),
            Err(code) => {
                refused += 1;
                (None, "failed", *code)
            }
        };
        let json = json!({
            "input": r.input,
            "user_id": r.user_id,
            "scope": scope,
            "sessions_now": now,
            "result": result,
            "error": if error.is_empty() { Value::Null } else { error.into() },
        });
        let cells = vec![
            r.input.clone(),
            r.user_id.to_string(),
            scope.to_owned(),
            now.map(|n| n.to_string()).unwrap_or_default(),
            result.to_owned(),
            error.to_owned(),
        ];
        printer.push(&json, cells).map_err(write_failed)?;
    }
    let summary = format!(
        "{} would be signed out ({scope} sessions){}",
        plural(plan.len() - refused, "user", "users"),
        match refused {
            0 => String::new(),
            n => format!(", {n} refused"),
        }
    );
    printer.finish(Some(&summary), "").map_err(write_failed)?;
    if refused > 0 {
        ui::warn(format!(
            "Slack would refuse {refused} of {} users",
            plan.len()
        ));
    }
    ui::note("dry run: nothing was changed");
    Ok(if refused > 0 { PARTIAL } else { OK })
}

/// Runs `sessions summary`.
pub(crate) async fn summary(ctx: &Context, args: &SummaryFlags, format: Format) -> Result<u8> {
    let client = &ctx.client;
    let (filter, org) = inventory::filter_of(client, &args.filter).await?;
    let mut counter = inventory::summary::Counter::default();
    let mut kept: Vec<slack_sessions_client::methods::ActiveSession> = Vec::new();
    let mut more = 0u64;
    slack_sessions_engine::filter::walk::<Failure>(
        client,
        &filter,
        ListArgs::new().limit(1000),
        async |s| {
            counter.add(&s);
            if args.html.is_some() {
                if kept.len() < inventory::html::HTML_ROWS {
                    kept.push(s);
                } else {
                    more += 1;
                }
            }
            Ok(true)
        },
    )
    .await?;
    let mut directory = directory(ctx, &org, !args.no_names);
    let top = counter.top(args.top);
    let mut people = std::collections::HashMap::new();
    let wanted = top
        .iter()
        .map(|(u, _)| u.clone())
        .chain(kept.iter().map(|s| s.user_id.clone()));
    for u in wanted {
        if let std::collections::hash_map::Entry::Vacant(slot) = people.entry(u) {
            let p = directory.person(slot.key()).await?.unwrap_or_default();
            slot.insert(p);
        }
    }
    let teams = inventory::team_names(&org);
    let counts = counter.finish(filter.describe(), org.id.to_string(), &top, &people, &teams);
    if let Some(path) = &args.html {
        let page = inventory::html::page(&counts, &kept, more, &people, &org.me.team);
        slack_sessions_engine::files::write_atomic(path, page.as_bytes()).map_err(|e| {
            Failure::other(format!("cannot write the page {}: {e}", path.display()))
        })?;
        crate::ui::note(format!("wrote {}", path.display()));
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    inventory::summary::print(&counts, format, &mut out).map_err(write_failed)?;
    Ok(OK)
}
