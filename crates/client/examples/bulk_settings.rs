//! Bulk session settings: an 8-hour session limit, ended when the browser or desktop app quits,
//! for every user of the org, in paced batches; bots (which Slack refuses) are isolated and
//! reported, everyone else gets the settings, and a read-back checks them.
//!
//! Runs against an embedded emulator (the demo org) whose rate limits are Slack's at 60 times
//! the speed; the client paces to the same value with `Pacing::matching`, so the run stays
//! under the budget without a single 429. `cargo run --example bulk_settings`.

use std::error::Error;
use std::time::Duration;

use slack_sessions_client::batch::UserOutcome;
use slack_sessions_client::prelude::*;
use slack_sessions_emulator::{Emulator, Seed, demo};

/// What the run did.
#[derive(Debug)]
struct Summary {
    users: usize,
    done: usize,
    refused: Vec<(UserId, ErrorCode)>,
    calls: u32,
    checked: usize,
}

/// The bulk change itself.
async fn apply(client: &Client) -> Result<Summary, Box<dyn Error>> {
    let org = client.org_id().await?;
    let users: Vec<UserId> = client
        .list_users(UsersListArgs::new(org))
        .try_filter(|u| slack_sessions_client::futures::future::ready(!u.deleted))
        .map_ok(|u| u.id)
        .try_collect()
        .await?;
    let eight_hours = Duration::from_secs(8 * 3600);
    let args = SetSettingsArgs::new(&users)
        .duration(eight_hours)
        .desktop_app_browser_quit(true);
    let report = client
        .set_settings_all(args)
        .batch_size(10)
        .concurrency(2)
        .await;
    let mut refused = Vec::new();
    for (user, outcome) in report.outcomes() {
        match outcome {
            UserOutcome::Done(_) => {}
            UserOutcome::Refused(r) => refused.push((user.clone(), r.code.clone())),
            other => return Err(format!("{user}: {other:?}").into()),
        }
    }
    // Read back what was set, in batches of the documented maximum.
    let done: Vec<&UserId> = report.done();
    let mut checked = 0;
    for batch in done.chunks(slack_sessions_client::batch::MAX_USER_IDS) {
        let answer = client
            .get_settings(GetSettingsArgs::new(batch.iter().copied()))
            .await?;
        for setting in &answer.session_settings {
            if setting.session_duration() != Some(eight_hours)
                || setting.desktop_app_browser_quit != Some(true)
            {
                return Err(format!("{}: {setting:?}", setting.user_id).into());
            }
            checked += 1;
        }
    }
    Ok(Summary {
        users: users.len(),
        done: done.len(),
        refused,
        calls: report.calls,
        checked,
    })
}

async fn run() -> Result<Summary, Box<dyn Error>> {
    let limits = RateLimits::Scale(60);
    let emulator = Emulator::builder()
        .seed(Seed::demo())
        .rate_limits(limits)
        .start()
        .await?;
    let client = Client::builder()
        .base_url(emulator.api_url())
        .token(demo::ADMIN_TOKEN)
        .pacing(Pacing::matching(limits))
        .build()?;
    let summary = apply(&client).await?;
    let state = client.pacing_state::<SetSettings>();
    emulator.shutdown().await;
    if state.rate_limited > 0 {
        return Err(format!("met {} rate limit(s) despite pacing", state.rate_limited).into());
    }
    Ok(summary)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let summary = run().await?;
    eprintln!(
        "{} of {} users set in {} calls; checked {}",
        summary.done, summary.users, summary.calls, summary.checked
    );
    for (user, code) in &summary.refused {
        eprintln!("refused: {user} ({code})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// `cargo test` runs the example against its embedded emulator.
    #[tokio::test]
    async fn sets_everyone_but_the_bots() {
        let summary = super::run().await.unwrap();
        assert_eq!(summary.done + summary.refused.len(), summary.users);
        assert!(
            !summary.refused.is_empty(),
            "the demo org's bots are refused"
        );
        assert_eq!(summary.checked, summary.done);
    }
}
