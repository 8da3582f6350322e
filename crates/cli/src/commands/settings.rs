//! `settings get`, `settings set`, `settings clear`.

use std::collections::HashMap;

use serde_json::{Value, json};
use slack_sessions_client::api::{UserId, Validate};
use slack_sessions_client::methods::{ClearSettingsArgs, GetSettingsArgs, SetSettingsArgs};

use slack_sessions_engine::Context;
use slack_sessions_engine::duration::format_secs;
use slack_sessions_engine::org::Org;
use slack_sessions_engine::users::{Directory, Named as Resolved};

use crate::cli::{ClearFlags, SetFlags, UsersFlags};
use crate::exit::{self, Failure, OK, Result};
use crate::output::{Column, Format, ListPrinter, col, plural, write_failed};

/// Users per settings call (Slack's maximum).
const CHUNK: usize = 1000;

const COLUMNS: [Column; 5] = [
    col("INPUT", "input"),
    col("USER", "user_id"),
    col("DURATION", "duration"),
    col("QUIT ON CLOSE", "desktop_app_browser_quit"),
    col("RESULT", "result"),
];

/// Resolves the users named on the command line, all or nothing; each user once, in the
/// order given.
async fn users(ctx: &Context, named: &[String], changes: bool) -> Result<Vec<Resolved>> {
    let org = Org::of(&ctx.client).await?;
    let mut directory = Directory::new(
        &ctx.client,
        org.id.clone(),
        ctx.events.clone(),
        ctx.stop.clone(),
    );
    Ok(super::once_each(
        directory.resolve_all(named, changes).await?,
    ))
}

/// An item: its JSON, its table cells and its CSV cells.
type Row = (Value, Vec<String>, Vec<String>);

fn row(r: &Resolved, duration: Option<u64>, quit: Option<bool>, result: &str) -> Row {
    let json = json!({
        "input": r.input,
        "user_id": r.user_id,
        "duration": duration,
        "duration_human": duration.map(format_secs),
        "desktop_app_browser_quit": quit,
        "result": result,
    });
    let cells = vec![
        r.input.clone(),
        r.user_id.to_string(),
        duration
            .map(|d| format!("{} ({d} s)", format_secs(d)))
            .unwrap_or_else(|| "default".to_owned()),
        quit.map(|q| q.to_string())
            .unwrap_or_else(|| "default".to_owned()),
        result.to_owned(),
    ];
    let csv = vec![
        r.input.clone(),
        r.user_id.to_string(),
        duration.map(|d| d.to_string()).unwrap_or_default(),
        quit.map(|q| q.to_string()).unwrap_or_default(),
        result.to_owned(),
    ];
    (json, cells, csv)
}

/// Runs `settings get`.
pub(crate) async fn get(ctx: &Context, args: &UsersFlags, format: Format) -> Result<u8> {
    let client = &ctx.client;
    let users = users(ctx, &args.users, false).await?;
    let mut found = HashMap::new();
    for chunk in users.chunks(CHUNK) {
        let ids: Vec<UserId> = chunk.iter().map(|r| r.user_id.clone()).collect();
        let answer = client
            .get_settings(GetSettingsArgs::new(ids))
            .await
            .map_err(|e| Failure::api("cannot read session settings", &e))?;
        for s in &answer.session_settings {
            found.insert(s.user_id.clone(), (s.duration, s.desktop_app_browser_quit));
        }
    }
    let mut printer = ListPrinter::stdout(format, &COLUMNS);
    let mut custom = 0;
    for r in &users {
        let (json, cells, csv) = match found.get(&r.user_id) {
            Some((d, q)) => {
                custom += 1;
                row(r, *d, *q, "custom")
            }
            None => row(r, None, None, "default"),
        };
        printer
            .push_split(&json, cells, csv)
            .map_err(write_failed)?;
    }
    let summary = format!(
        "{} with custom settings, {} on the org's defaults",
        plural(custom, "user", "users"),
        users.len() - custom
    );
    printer.finish(Some(&summary), "").map_err(write_failed)?;
    Ok(OK)
}

/// Runs `settings set`.
pub(crate) async fn set(ctx: &Context, args: &SetFlags, format: Format) -> Result<u8> {
    let client = &ctx.client;
    let duration = args.duration.map(|d| d.as_secs());
    if duration == Some(0) {
        return Err(Failure::usage("--duration must be longer than 0"));
    }
    let users = users(ctx, &args.users, true).await?;
    for chunk in users.chunks(CHUNK) {
        let mut call = SetSettingsArgs::new(chunk.iter().map(|r| r.user_id.clone()));
        if let Some(d) = duration {
            call = call.duration(d);
        }
        if let Some(q) = args.quit_on_close {
            call = call.desktop_app_browser_quit(q);
        }
        if args.dry_run {
            // What Slack refuses without looking anything up (a duration out of its range).
            call.validate().map_err(|e| {
                Failure::new(
                    exit::API,
                    format!("cannot change session settings: Slack would answer {e}"),
                )
            })?;
            continue;
        }
        client
            .set_settings(call)
            .await
            .map_err(|e| Failure::api("cannot change session settings", &e))?;
    }
    let result = if args.dry_run { PLANNED } else { "set" };
    let mut printer = ListPrinter::stdout(format, &COLUMNS);
    for r in &users {
        let (mut json, mut cells, csv) = row(r, duration, args.quit_on_close, result);
        // A setting not given is kept as it was: `null` in JSON, "unchanged" in a table.
        let mut changed = Vec::new();
        match duration {
            Some(_) => changed.push("duration"),
            None => cells[2] = "unchanged".into(),
        }
        match args.quit_on_close {
            Some(_) => changed.push("desktop_app_browser_quit"),
            None => cells[3] = "unchanged".into(),
        }
        json["changed"] = changed.into();
        printer
            .push_split(&json, cells, csv)
            .map_err(write_failed)?;
    }
    let summary = format!(
        "settings {} for {}",
        if args.dry_run {
            "would change"
        } else {
            "changed"
        },
        plural(users.len(), "user", "users")
    );
    printer.finish(Some(&summary), "").map_err(write_failed)?;
    dry_run_note(args.dry_run);
    Ok(OK)
}

/// The result of a row of a dry run.
const PLANNED: &str = "planned";

fn dry_run_note(dry_run: bool) {
    if dry_run {
        crate::ui::note("dry run: nothing was changed");
    }
}

/// Runs `settings clear`.
pub(crate) async fn clear(ctx: &Context, args: &ClearFlags, format: Format) -> Result<u8> {
    let client = &ctx.client;
    let users = users(ctx, &args.users, true).await?;
    for chunk in users.chunks(CHUNK) {
        if args.dry_run {
            continue;
        }
        client
            .clear_settings(ClearSettingsArgs::new(
                chunk.iter().map(|r| r.user_id.clone()),
            ))
            .await
            .map_err(|e| Failure::api("cannot clear session settings", &e))?;
    }
    let mut printer = ListPrinter::stdout(format, &COLUMNS);
    for r in &users {
        let result = if args.dry_run { PLANNED } else { "cleared" };
        let (json, cells, csv) = row(r, None, None, result);
        printer
            .push_split(&json, cells, csv)
            .map_err(write_failed)?;
    }
    let summary = format!(
        "settings {} for {}; the org's defaults {}",
        if args.dry_run {
            "would be cleared"
        } else {
            "cleared"
        },
        plural(users.len(), "user", "users"),
        if args.dry_run { "would apply" } else { "apply" }
    );
    printer.finish(Some(&summary), "").map_err(write_failed)?;
    dry_run_note(args.dry_run);
    Ok(OK)
}
