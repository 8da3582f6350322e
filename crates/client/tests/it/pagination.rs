//! `list` walks over real pages.

use std::collections::HashSet;

use futures::{StreamExt, TryStreamExt};
use slack_sessions_client::api::ErrorCode;
use slack_sessions_client::methods::ListArgs;
use slack_sessions_client::{Client, Pacing, RetryPolicy};
use slack_sessions_emulator::{Effect, FaultRule, RateLimits, RequestFilter};

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
async fn a_walk_of_10000_sessions_survives_an_injected_429_mid_way() {
    let emu = emulator_with(big_seed(SESSIONS), RateLimits::Off).await;
    let client = builder(&emu, BIG_ADMIN_TOKEN).build().unwrap();
    let mut sessions = client.list_sessions(ListArgs::new().limit(500));
    let mut ids = Vec::new();
    // Five pages in, the next `list` call is rate limited.
    while ids.len() < 2_500 {
        let session = sessions.try_next().await.unwrap().expect("more sessions");
        ids.push(session.session_id.0);
    }
    emu.add_fault(
        FaultRule::new(Effect::RateLimited(1))
            .method("admin.users.session.list")
            .times(1),
    )
    .unwrap();
    while let Some(session) = sessions.try_next().await.expect("the walk succeeds") {
        ids.push(session.session_id.0);
    }
    assert_each_once(&ids);
    assert_eq!(sessions.pages_fetched(), 20);
    // The server saw the 429'd page asked for again, with the same cursor.
    let calls = emu.requests(&RequestFilter {
        method: Some("admin.users.session.list".into()),
        ..RequestFilter::default()
    });
    assert_eq!(calls.len(), 21);
    let limited: Vec<_> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.status == 429)
        .collect();
    assert_eq!(limited.len(), 1);
    let (at, call) = limited[0];
    assert_eq!(at, 5, "the sixth call was rate limited");
    assert!(call.args.contains_key("cursor"));
    assert_eq!(calls[at + 1].args.get("cursor"), call.args.get("cursor"));
    assert_eq!(calls[at + 1].status, 200);
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

#[tokio::test]
async fn no_active_sessions_is_a_walk_with_no_sessions() {
    // Slack documents `no_active_sessions` as an error of `list` without saying when; the
    // plausible case is a filtered list of a user who has none. Whether on the first page or
    // a later one, the walk ends without an error: there are no (more) sessions.
    let emu = emulator_with(big_seed(30), RateLimits::Off).await;
    let client: Client = builder(&emu, BIG_ADMIN_TOKEN).build().unwrap();
    emu.add_fault(
        FaultRule::new(Effect::Error("no_active_sessions".into()))
            .method("admin.users.session.list")
            .times(1),
    )
    .unwrap();
    let sessions: Vec<_> = client
        .list_sessions(ListArgs::new().limit(10))
        .try_collect()
        .await
        .expect("no error");
    assert!(sessions.is_empty());
    // After a first page: the walk ends with the sessions it has.
    let mut pages = client.list_pages(ListArgs::new().limit(10));
    let first = pages.try_next().await.unwrap().expect("a first page");
    assert_eq!(first.active_sessions.len(), 10);
    emu.add_fault(
        FaultRule::new(Effect::Error("no_active_sessions".into()))
            .method("admin.users.session.list")
            .times(1),
    )
    .unwrap();
    // The second page may have been asked for already; it ends the walk either way or is
    // the real second page.
    let rest: Vec<_> = pages.try_collect().await.expect("no error");
    assert!(rest.len() <= 2, "{}", rest.len());
    // Other errors still fail the walk.
    emu.add_fault(
        FaultRule::new(Effect::Error("invalid_cursor".into()))
            .method("admin.users.session.list")
            .times(1),
    )
    .unwrap();
    let err = client
        .list_sessions(ListArgs::new())
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InvalidCursor));
}
