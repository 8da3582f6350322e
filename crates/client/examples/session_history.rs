//! A user's session history from Slack's Audit Logs API: where they signed in from, with which
//! client and session, who reset them and when.
//!
//! Slack combines the filters of `/audit/v1/logs` with AND, so one user's history takes three
//! walks: the user as actor (sign-ins, sign-outs, failed sign-ins, anomalies), the user as
//! entity (resets, invalidations, settings changes by an admin), and the bulk resets, whose
//! entity is the org and whose users are in `details.succeeded_users`. They are merged newest
//! first.
//!
//! Runs against an embedded emulator (the demo org, 30 days of history) whose rate limits are
//! Slack's at 60 times the speed, paced to match. `cargo run --example session_history`.

use std::error::Error;

use slack_sessions_client::audit_logs::Entry;
use slack_sessions_client::prelude::*;
use slack_sessions_emulator::{Emulator, Seed, demo};

// The README's "Reading history from Rust" shows this function as it is (a test below checks).
// README begin
async fn sign_ins(
    client: &Client,
    user: &str,
    since: u64,
) -> Result<Vec<String>, slack_sessions_client::Error> {
    let filter = AuditLogsArgs::new()
        .actor(user)
        .actions([
            action::USER_LOGIN,
            action::USER_LOGIN_FAILED,
            action::USER_LOGOUT,
        ])
        .oldest(since);
    let mut entries = client.audit_logs(filter);
    let mut lines = Vec::new();
    while let Some(e) = entries.try_next().await? {
        lines.push(format!(
            "{} {} from {:?} ({}), session {:?}",
            e.date_create,
            e.action,
            e.context.ip_address,
            e.context.client_kind(),
            e.session_id()
        ));
    }
    Ok(lines)
}
// README end

/// Every entry of `user`'s session history since `oldest` (Unix seconds), newest first.
async fn history(
    client: &Client,
    user: &UserId,
    oldest: u64,
) -> Result<Vec<Entry>, Box<dyn Error>> {
    let own = AuditLogsArgs::new()
        .actor(user)
        .actions([
            action::USER_LOGIN,
            action::USER_LOGIN_FAILED,
            action::USER_LOGOUT,
            action::ANOMALY,
        ])
        .oldest(oldest);
    let about = AuditLogsArgs::new()
        .entity(user.as_str())
        .actions([
            action::USER_SESSION_RESET_BY_ADMIN,
            action::USER_SESSION_INVALIDATED,
            action::USER_SESSION_SETTINGS_CHANGED,
        ])
        .oldest(oldest);
    let bulk = AuditLogsArgs::new()
        .action(action::BULK_SESSION_RESET_BY_ADMIN)
        .oldest(oldest);
    let mut entries: Vec<Entry> = client.audit_logs(own).try_collect().await?;
    entries.extend(client.audit_logs(about).try_collect::<Vec<_>>().await?);
    let named = |e: &Entry| {
        e.details
            .as_ref()
            .and_then(|d| d.succeeded_users.as_ref())
            .is_some_and(|users| users.contains(user))
    };
    entries.extend(
        client
            .audit_logs(bulk)
            .try_filter(|e| futures::future::ready(named(e)))
            .try_collect::<Vec<_>>()
            .await?,
    );
    entries.sort_by(|a, b| {
        b.date_create
            .cmp(&a.date_create)
            .then_with(|| a.id.cmp(&b.id))
    });
    entries.dedup_by(|a, b| a.id == b.id);
    Ok(entries)
}

async fn run() -> Result<(Vec<Entry>, Vec<String>), Box<dyn Error>> {
    let limits = RateLimits::Scale(60);
    let emulator = Emulator::builder()
        .seed(Seed::demo())
        .rate_limits(limits)
        .start()
        .await?;
    // The Audit Logs API's URL follows the Web API's: the emulator's `…/audit/v1/`.
    let client = Client::builder()
        .base_url(emulator.api_url())
        .token(demo::ADMIN_TOKEN)
        .pacing(Pacing::matching(limits))
        .build()?;
    // Sign Dennis out everywhere in bulk, to see it in his history.
    let dennis = UserId::new("W0DEMO0005");
    client.reset_bulk(ResetBulkArgs::new([&dennis])).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let since = now - 30 * 86_400;
    let entries = history(&client, &dennis, since).await?;
    let lines = sign_ins(&client, dennis.as_str(), since).await?;
    emulator.shutdown().await;
    Ok((entries, lines))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (entries, sign_ins) = run().await?;
    for e in entries {
        let who = e
            .actor
            .user
            .as_ref()
            .and_then(|u| u.name.clone())
            .unwrap_or_default();
        println!(
            "{} {:<30} {:<24} {:<8} session {:<14} by {who}",
            e.date_create,
            e.action,
            e.context.ip_address.as_deref().unwrap_or("-"),
            e.context.client_kind().as_str(),
            e.session_id().map_or("-".to_owned(), |s| s.to_string()),
        );
    }
    println!("\nsign-ins and sign-outs only:");
    for line in sign_ins {
        println!("{line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// `cargo test` runs the example against its embedded emulator.
    #[tokio::test]
    async fn shows_sign_ins_and_the_bulk_reset() {
        let (entries, sign_ins) = super::run().await.unwrap();
        assert!(!sign_ins.is_empty() && sign_ins.iter().all(|l| l.contains("user_login")));
        assert!(
            entries
                .windows(2)
                .all(|w| w[0].date_create >= w[1].date_create)
        );
        let newest = &entries[0];
        assert_eq!(newest.action, "bulk_session_reset_by_admin");
        assert_eq!(
            newest.actor.user_id().unwrap().as_str(),
            super::demo::ADMIN_ID
        );
        assert!(
            entries
                .iter()
                .any(|e| e.action == "user_login" && e.session_id().is_some()),
            "his sign-ins, with their sessions"
        );
    }

    #[test]
    fn the_readme_shows_sign_ins_as_it_is_here() {
        let source = include_str!("session_history.rs");
        let begin = format!("// README {}\n", "begin");
        let end = format!("// README {}", "end");
        let code = source
            .split(&begin)
            .nth(1)
            .unwrap()
            .split(&end)
            .next()
            .unwrap();
        let readme = include_str!("../../../README.md");
        assert!(readme.contains(code.trim()), "README differs from:\n{code}");
    }
}
