//! The Rust trial's program, both halves:
//!
//! 1. **An incident over a network**: the VPN's egress range was compromised. List every
//!    session whose IP address (as it began, or as last seen) is in that CIDR range, end each,
//!    and check that none is left.
//! 2. **A bulk sign-out** of 2,500 users, 3 of whose ids are wrong, with a progress line per
//!    step and a deadline: the report says who was signed out, who Slack refuses (found with
//!    `users.info`, the cheap budget), and, had the deadline passed, who was not sent.
//!
//! Both run against embedded emulators paced like Slack (60 times faster), so
//! `cargo run -p slack-sessions-client --example network_incident` needs no Slack org; against
//! Slack, build the client with `Client::from_env()` instead. Nothing but this crate is needed:
//! its prelude and its re-exported `futures`.

use std::time::Duration;

use slack_sessions_client::futures::future::ready;
use slack_sessions_client::prelude::*;
use slack_sessions_emulator::{Emulator, Seed, demo, generate};

/// What the two halves did.
#[derive(Debug)]
struct Summary {
    /// Sessions ended in the network, those Slack refused to end, those left afterwards.
    ended: usize,
    kept: usize,
    left: usize,
    /// The bulk sign-out: users done, refused (with how each was found), failed, not sent.
    done: usize,
    refused: Vec<(UserId, ErrorCode, String)>,
    failed: usize,
    not_sent: usize,
    calls: u32,
    progress_lines: usize,
}

/// Part 1: every session in `network`, ended, but those Slack refuses to end (the primary
/// owner's, for an admin's token): returns (ended, refused, left afterwards). Nothing here
/// knows it talks to an emulator.
async fn end_sessions_in(
    client: &Client,
    network: &Network,
) -> Result<(usize, usize, usize), Box<dyn std::error::Error>> {
    let in_network = |s: &ActiveSession| ready(s.in_network(network));
    let hits: Vec<ActiveSession> = client
        .list_sessions(ListArgs::new())
        .try_filter(in_network)
        .try_collect()
        .await?;
    let mut refused = 0;
    for s in &hits {
        let args = InvalidateArgs::new(s.session_id, &s.user_id);
        match client.invalidate(args).await {
            Ok(_) => {}
            // The error names the request for Slack support.
            Err(e) if e.is_user_refusal() => {
                eprintln!("session {} of {}: {e}", s.session_id, s.user_id);
                refused += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let left = client
        .list_sessions(ListArgs::new())
        .try_filter(in_network)
        .try_fold(0, |n, _| ready(Ok(n + 1)))
        .await?;
    Ok((hits.len() - refused, refused, left))
}

/// Part 2: `users` signed out in batches, watched and bounded.
async fn sign_out_all(client: &Client, users: &[String]) -> Summary {
    let lines = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&lines);
    let report = client
        .reset_bulk_all(ResetBulkArgs::new(users))
        .on_progress(move |p| {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            eprintln!("{p}");
        })
        .timeout(Duration::from_secs(60))
        .await;
    let refused = report
        .refusals
        .iter()
        .map(|(user, r)| (user.clone(), r.code.clone(), format!("{:?}", r.found_by)))
        .collect();
    Summary {
        ended: 0,
        kept: 0,
        left: 0,
        done: report.done().len(),
        refused,
        failed: report.failed().len(),
        not_sent: report.not_sent().len(),
        calls: report.calls,
        progress_lines: lines.load(std::sync::atomic::Ordering::Relaxed),
    }
}

/// A client for `emulator`, paced to its limits.
fn client_for(
    emulator: &Emulator,
    token: &str,
    limits: RateLimits,
) -> Result<Client, Box<dyn std::error::Error>> {
    Ok(Client::builder()
        .base_url(emulator.api_url())
        .token(token)
        .pacing(Pacing::matching(limits))
        .build()?)
}

async fn run() -> Result<Summary, Box<dyn std::error::Error>> {
    let limits = RateLimits::Scale(60);

    // Part 1, on the demo org.
    let emulator = Emulator::builder()
        .seed(Seed::demo())
        .rate_limits(limits)
        .start()
        .await?;
    let client = client_for(&emulator, demo::ADMIN_TOKEN, limits)?;
    let vpn: Network = demo::VPN_NET.parse()?;
    let (ended, kept, left) = end_sessions_in(&client, &vpn).await?;
    emulator.shutdown().await;

    // Part 2, on a generated org of 2,500 users (and its owner, user 0), with 3 wrong ids.
    let emulator = Emulator::builder()
        .generate(2_501, 5_000)
        .rate_limits(limits)
        .start()
        .await?;
    let client = client_for(&emulator, generate::ADMIN_TOKEN, limits)?;
    let mut users: Vec<String> = (1..=2_500).map(generate::user_id).collect();
    for (at, typo) in [
        (400, "W0000O400"),
        (1_300, "W00001300X"),
        (2_200, "W9999999"),
    ] {
        users.insert(at, typo.to_owned());
    }
    let mut summary = sign_out_all(&client, &users).await;
    emulator.shutdown().await;
    summary.ended = ended;
    summary.kept = kept;
    summary.left = left;
    Ok(summary)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let s = run().await?;
    println!(
        "network: {} session(s) ended, {} refused by Slack, {} left",
        s.ended, s.kept, s.left
    );
    println!(
        "bulk: {} done, {} refused, {} failed, {} not sent, in {} resetBulk calls ({} progress lines)",
        s.done,
        s.refused.len(),
        s.failed,
        s.not_sent,
        s.calls,
        s.progress_lines
    );
    for (user, code, found_by) in &s.refused {
        println!("  {user}: {code} (found by {found_by})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// `cargo test` runs the example against its embedded emulators.
    #[tokio::test]
    async fn ends_the_networks_sessions_and_signs_out_all_but_the_wrong_ids() {
        let s = super::run().await.unwrap();
        assert!(s.ended > 0, "{s:?}");
        assert_eq!(s.left, s.kept, "only what Slack refused is left: {s:?}");
        assert_eq!((s.done, s.failed, s.not_sent), (2_500, 0, 0), "{s:?}");
        assert_eq!(s.refused.len(), 3, "{s:?}");
        assert!(
            s.refused
                .iter()
                .all(|(_, code, _)| code.as_str() == "user_not_found"),
            "{s:?}"
        );
        // Halving alone took 61 calls here; reading the small groups with users.info, fewer.
        assert!(s.calls < 40, "{s:?}");
        assert!(s.progress_lines as u32 > s.calls, "{s:?}");
    }
}
