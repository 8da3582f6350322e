//! Incident response by email: a user's laptop was stolen. Find the user by email address, list
//! every session they have anywhere in the org (a CSV report for the incident ticket), sign them
//! out everywhere, and check that nothing is left. A failure prints the request id Slack support
//! asks for.
//!
//! Runs against an embedded emulator (the demo org), so `cargo run --example incident_response`
//! needs no Slack org; against Slack, build the client with `Client::from_env()` instead.

use std::error::Error;

use slack_sessions_client::prelude::*;
use slack_sessions_emulator::{Emulator, Seed, demo};

/// What the response found and did.
#[derive(Debug)]
struct Outcome {
    user: UserId,
    sessions: usize,
    workspaces: usize,
    report_csv: String,
}

/// The incident response itself: nothing here knows it talks to an emulator.
async fn respond(client: &Client, email: &str) -> Result<Outcome, Box<dyn Error>> {
    let user = client
        .lookup_by_email(LookupByEmailArgs::new(email))
        .await?
        .into_body()
        .user;
    // Every session, on every workspace and at the org level: not `ListArgs::for_user` with the
    // user's `team_id`, which is only their home workspace.
    let sessions: Vec<ActiveSession> = client.user_sessions(&user.id).try_collect().await?;
    let mut report = csv::Writer::from_writer(Vec::new());
    for session in &sessions {
        report.serialize(session.flat())?;
    }
    let report_csv = String::from_utf8(report.into_inner()?)?;
    let mut workspaces: Vec<&TeamId> = sessions.iter().map(|s| &s.team_id).collect();
    workspaces.sort();
    workspaces.dedup();

    match client.reset(ResetArgs::new(&user.id)).await {
        Ok(answer) => eprintln!(
            "signed {} out everywhere (request {})",
            user.id,
            answer.request_id().unwrap_or("-")
        ),
        Err(e) => {
            eprintln!(
                "could not sign {} out: {e} (may have been applied: {}; request id for Slack \
                 support: {})",
                user.id,
                e.may_have_been_applied(),
                e.request_id().unwrap_or("-")
            );
            return Err(e.into());
        }
    }
    let left: Vec<ActiveSession> = client.user_sessions(&user.id).try_collect().await?;
    if !left.is_empty() {
        return Err(format!("{} session(s) survived the reset", left.len()).into());
    }
    Ok(Outcome {
        user: user.id,
        sessions: sessions.len(),
        workspaces: workspaces.len(),
        report_csv,
    })
}

/// A member of the demo org signed in on more than one workspace, by email address.
fn someone_on_several_workspaces(seed: &Seed) -> String {
    let org = seed.orgs.iter().find(|o| o.id == demo::ORG_ID).unwrap();
    org.users
        .iter()
        .filter(|u| !u.is_bot && !u.role.is_admin() && u.id != demo::PRIMARY_OWNER_ID)
        .find_map(|u| {
            let mut teams: Vec<&str> = org
                .sessions
                .iter()
                .filter(|s| s.user_id == u.id)
                .map(|s| s.team_id.as_str())
                .collect();
            teams.sort();
            teams.dedup();
            (teams.len() >= 2).then(|| u.email.clone()).flatten()
        })
        .expect("the demo org has one")
}

async fn run() -> Result<Outcome, Box<dyn Error>> {
    let seed = Seed::demo();
    let email = someone_on_several_workspaces(&seed);
    let emulator = Emulator::builder().seed(seed).start().await?;
    let client = Client::builder()
        .base_url(emulator.api_url())
        .token(demo::ADMIN_TOKEN)
        .build()?;
    let outcome = respond(&client, &email).await?;
    emulator.shutdown().await;
    Ok(outcome)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let outcome = run().await?;
    print!("{}", outcome.report_csv);
    eprintln!(
        "{}: {} session(s) on {} workspace(s) ended",
        outcome.user, outcome.sessions, outcome.workspaces
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    /// `cargo test` runs the example against its embedded emulator.
    #[tokio::test]
    async fn signs_the_user_out_everywhere() {
        let outcome = super::run().await.unwrap();
        assert!(outcome.workspaces >= 2, "{outcome:?}");
        assert_eq!(outcome.report_csv.lines().count(), outcome.sessions + 1);
    }
}
