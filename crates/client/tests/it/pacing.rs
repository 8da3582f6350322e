//! Proactive pacing against the emulator's real tier limits.

use std::time::{Duration, Instant};

use futures::future::join_all;
use slack_sessions_client::methods::ResetArgs;
use slack_sessions_client::{Error, Pacing, RetryPolicy};
use slack_sessions_emulator::{RateLimits, RequestFilter, demo};

use crate::common::{builder, demo_members, emulator};

/// Windows of 60/SCALE s: tier 2 (`reset`) allows 20 calls per 0.1 s, 200 per second.
const SCALE: u32 = 600;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_resets_are_paced_not_rate_limited() {
    let emu = emulator(RateLimits::Scale(SCALE)).await;
    let client = builder(&emu, demo::ADMIN_TOKEN)
        .pacing(Pacing::scaled(f64::from(SCALE)))
        .retry_policy(RetryPolicy::default())
        .build()
        .unwrap();
    let members = demo_members();
    let started = Instant::now();
    let calls = (0..1000).map(|i| {
        let client = client.clone();
        let user = members[i % members.len()].clone();
        tokio::spawn(async move { client.reset(ResetArgs::new(user)).await })
    });
    let results = join_all(calls).await;
    let elapsed = started.elapsed();
    let mut retried = 0;
    for result in results {
        let response = result.unwrap().expect("no error reaches the caller");
        retried += response.attempts - 1;
    }
    // What the server saw agrees.
    let on_the_wire = emu
        .requests(&RequestFilter {
            status: Some(429),
            ..RequestFilter::default()
        })
        .len();
    assert_eq!(
        on_the_wire as u32, retried,
        "429s answered vs calls retried"
    );
    // Pacing, not retries, spread the calls: 1,000 calls at 18 per 0.1 s take about 5.5 s.
    assert!(
        retried <= 10,
        "{retried} calls met a 429 despite pacing (elapsed {elapsed:?})"
    );
    assert!(
        elapsed >= Duration::from_secs(4),
        "paced over the budget: {elapsed:?}"
    );
    eprintln!("1000 paced resets: {elapsed:?}, {retried} retried after a 429");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_pacing_the_same_burst_collects_429s() {
    // The control experiment: the same server, no pacing, no retries.
    let emu = emulator(RateLimits::Scale(SCALE)).await;
    let client = builder(&emu, demo::ADMIN_TOKEN)
        .pacing(Pacing::off())
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let members = demo_members();
    let calls = (0..100).map(|i| {
        let client = client.clone();
        let user = members[i % members.len()].clone();
        tokio::spawn(async move { client.reset(ResetArgs::new(user)).await })
    });
    let limited = join_all(calls)
        .await
        .into_iter()
        .filter(|r| matches!(r.as_ref().unwrap(), Err(Error::RateLimited(_))))
        .count();
    assert!(limited >= 30, "only {limited} of 100 were rate limited");
    emu.shutdown().await;
}
