//! `list` walks over real pages.

use std::collections::HashSet;

use futures::{StreamExt, TryStreamExt};
use slack_sessions_client::api::ErrorCode;
use slack_sessions_client::methods::ListArgs;
use slack_sessions_client::{Client, Pacing, RetryPolicy};
use slack_sessions_emulator::RateLimits;

use crate::common::{BIG_ADMIN_TOKEN, big_seed, builder, emulator_with};

const SESSIONS: u64 = 10_000;

fn assert_each_once(ids: &[u64]) {
    let unique: HashSet<u64> = ids.iter().copied().collect();
    assert_eq!(ids.len() as u64, SESSIONS, "sessions returned");
    assert_eq!(unique.len() as u64, SESSIONS, "each session once");
    let expected: HashSet<u64> = (0..SESSIONS).map(|n| 1_000_000 + n).collect();
    assert_eq!(unique, expected);
}

#[tokio::test]
async fn a_walk_of_10000_sessions_keeps_its_place_across_rate_limits() {
    // Windows of 20 s (one `list` call back per second), no pacing, and most of the budget
    // spent before the walk: its 6th page meets a 429 from the emulator's real rate limiter,
    // and so does each page after it; the walk waits and resumes at the same cursor.
    let emu = emulator_with(big_seed(SESSIONS), RateLimits::Scale(3)).await;
    let client: Client = builder(&emu, BIG_ADMIN_TOKEN).build().unwrap();
    for _ in 0..15 {
        client
            .with_retry_policy(RetryPolicy::never())
            .list(ListArgs::new().limit(1))
            .await
            .expect("within budget");
    }
    let mut pages = client.list_pages(ListArgs::new().limit(1000));
    let mut ids = Vec::new();
    let mut rate_limited_pages = 0;
    while let Some(page) = pages.try_next().await.expect("the walk succeeds") {
        if page.attempts > 1 {
            rate_limited_pages += 1;
        }
        ids.extend(page.active_sessions.iter().map(|s| s.session_id.0));
    }
    assert_each_once(&ids);
    assert_eq!(pages.pages_fetched(), 10);
    assert!(
        rate_limited_pages >= 1,
        "a 429 met the walk mid-way ({rate_limited_pages} pages retried)"
    );
    assert_eq!(pages.cursor(), None);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_paced_walk_of_10000_sessions_meets_no_rate_limit() {
    let emu = emulator_with(big_seed(SESSIONS), RateLimits::Scale(60)).await;
    let client = builder(&emu, BIG_ADMIN_TOKEN)
        .pacing(Pacing::scaled(60.0))
        .build()
        .unwrap();
    let mut pages = client.list_pages(ListArgs::new().limit(200));
    let mut ids = Vec::new();
    while let Some(page) = pages.try_next().await.expect("the walk succeeds") {
        assert_eq!(page.attempts, 1, "paced, so never rate limited");
        ids.extend(page.active_sessions.iter().map(|s| s.session_id.0));
    }
    assert_each_once(&ids);
    assert_eq!(pages.pages_fetched(), 50);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_walk_for_one_user_and_a_bad_cursor() {
    let emu = emulator_with(big_seed(SESSIONS), RateLimits::Off).await;
    let client = builder(&emu, BIG_ADMIN_TOKEN).build().unwrap();
    let mine: Vec<_> = client
        .list_sessions(ListArgs::for_user("T0BIG0001", "W0BIG0007").limit(7))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(mine.len() as u64, SESSIONS / 100);
    assert!(mine.iter().all(|s| s.user_id.as_str() == "W0BIG0007"));

    let mut pages = client.list_pages(ListArgs::new().cursor("bogus"));
    let err = pages.next().await.unwrap().unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InvalidCursor));
    assert!(pages.next().await.is_none(), "an error ends the walk");
    assert_eq!(pages.cursor(), Some("bogus"), "where the walk failed");
    emu.shutdown().await;
}
