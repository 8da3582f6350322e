//! The traps of issue 15, each reproduced against the emulator: a user's sessions listed with
//! the home workspace, the slowdown after a 429 (made visible and bounded), the read-ahead that
//! spends budget, and pacing that does not match the server's limits.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use serde_json::json;
use slack_sessions_client::api::Method;
use slack_sessions_client::methods::{List, ListArgs, LookupByEmailArgs};
use slack_sessions_client::{Error, NotSentReason, Pacing, RetryPolicy};
use slack_sessions_emulator::{Effect, FaultRule, RateLimits, RequestFilter, Seed};

use crate::common::{builder, emulator, emulator_with, quick_retries};

const TOKEN: &str = "xoxp-traps-admin";

/// An org with two workspaces; Ada's home is the first, and she has four sessions: one on each
/// workspace and two signed in at the org level.
fn two_workspaces() -> Seed {
    let session = |id: u64, team: &str| {
        json!({"session_id": id, "user_id": "W0ADA", "team_id": team, "client": "web",
               "created": {"os": "Windows", "ip": "10.0.0.1"}})
    };
    Seed::from_json(json!({"orgs": [{
        "id": "E0TRAPS01",
        "name": "Traps",
        "teams": [{"id": "T0HOME", "name": "Home"}, {"id": "T0AWAY", "name": "Away"}],
        "users": [
            {"id": "W0ADA", "name": "ada", "email": "ada@example.com", "role": "member", "teams": ["T0HOME", "T0AWAY"]},
            {"id": "W0ADMIN", "name": "admin", "role": "admin", "teams": ["T0HOME"]},
        ],
        "tokens": [{"token": TOKEN, "user_id": "W0ADMIN",
                    "scopes": ["admin.users:read", "admin.users:write", "users:read", "users:read.email"]}],
        "sessions": [session(1, "T0HOME"), session(2, "T0AWAY"), session(3, "E0TRAPS01"), session(4, "E0TRAPS01")],
    }]}))
    .expect("a valid seed")
}

#[tokio::test]
async fn one_users_sessions_are_listed_org_wide() {
    let emu = emulator_with(two_workspaces(), RateLimits::Off).await;
    let client = builder(&emu, TOKEN).build().unwrap();
    let ada = client
        .lookup_by_email(LookupByEmailArgs::new("ada@example.com"))
        .await
        .unwrap()
        .into_body()
        .user;
    let home = ada.team_id.clone().expect("a home workspace");
    assert_eq!(home.as_str(), "T0HOME");

    // The trap: the home workspace restricts the list to that workspace.
    let on_home: Vec<_> = client
        .list_sessions(ListArgs::for_user(&home, &ada.id))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(on_home.len(), 1, "only the session on the home workspace");

    // The fix: every session of the user, with the org id found by the client.
    let mut all: Vec<u64> = client
        .user_sessions(&ada.id)
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .iter()
        .map(|s| s.session_id.0)
        .collect();
    all.sort();
    assert_eq!(all, [1, 2, 3, 4]);
    assert_eq!(client.org_id().await.unwrap().as_str(), "E0TRAPS01");
    // The org id is asked for once per client.
    client
        .user_sessions(&ada.id)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let auth_tests = emu.requests(&RequestFilter {
        method: Some("auth.test".into()),
        ..RequestFilter::default()
    });
    assert_eq!(auth_tests.len(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn the_pacing_after_a_429_is_visible_and_bounded() {
    // Windows of 10 s: tier 2 allows 20 `list` calls per 10 s, and the pacer one per 555 ms
    // once its burst is spent.
    let limits = RateLimits::Scale(6);
    let emu = emulator(limits).await;
    let client = builder(&emu, slack_sessions_emulator::demo::ADMIN_TOKEN)
        .pacing(Pacing::matching(limits))
        // No jitter: the retry leaves as the pause ends, and the next call is one interval
        // (555 ms) behind it.
        .retry_policy(quick_retries().rate_limit_jitter(Duration::ZERO))
        .build()
        .unwrap();
    let list = || client.list(ListArgs::new().limit(1));
    let fresh = client.pacing_state::<List>();
    assert_eq!((fresh.available, fresh.rate_limited), (fresh.burst, 0));
    list().await.unwrap();

    // A 429 with Retry-After 1 s: the call waits it out and retries.
    emu.add_fault(
        FaultRule::new(Effect::RateLimited(1))
            .method(List::NAME)
            .times(1),
    )
    .unwrap();
    let retried = list().await.unwrap();
    assert_eq!(retried.attempts, 2);
    // After the pause the budget restarts empty: the next call is held for an interval, and
    // says so.
    let state = client.pacing_state::<List>();
    assert_eq!(state.rate_limited, 1);
    assert_eq!(state.available, 0, "{state:?}");
    assert!(state.next_call_wait > Duration::ZERO, "{state:?}");
    let next = list().await.unwrap();
    assert!(
        next.paced >= state.interval / 4,
        "{:?} vs {state:?}",
        next.paced
    );

    // Bounded: with max_wait, a call that would sit out a pause fails at once, unsent.
    let bounded = builder(&emu, slack_sessions_emulator::demo::ADMIN_TOKEN)
        .pacing(Pacing::matching(limits).max_wait(Duration::from_millis(300)))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    emu.add_fault(
        FaultRule::new(Effect::RateLimited(2))
            .method(List::NAME)
            .times(1),
    )
    .unwrap();
    let err = bounded.list(ListArgs::new().limit(1)).await.unwrap_err();
    assert!(err.is_rate_limited(), "{err}");
    let paused = bounded.pacing_state::<List>();
    assert!(
        paused
            .paused_for
            .is_some_and(|p| p > Duration::from_secs(1)),
        "{paused:?}"
    );
    let started = Instant::now();
    let err = bounded.list(ListArgs::new().limit(1)).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    let Error::NotSent(not_sent) = &err else {
        panic!("{err:?}")
    };
    let NotSentReason::PacingWait { wait } = not_sent.reason else {
        panic!("{err:?}")
    };
    assert!(wait > Duration::from_secs(1), "{wait:?}");
    assert!(!err.may_have_been_applied());
    emu.shutdown().await;
}

#[tokio::test]
async fn pacer_waits_are_outside_the_retry_budget() {
    // One call per 500 ms (auth.test's 600 a minute scaled down to the floor of one call a
    // window), and a retry budget of 300 ms: each retry queues ~500 ms for its slot, which
    // must not count against the budget.
    let emu = emulator(RateLimits::Off).await;
    let client = builder(&emu, slack_sessions_emulator::demo::ADMIN_TOKEN)
        .pacing(
            Pacing::slack()
                .budget_scale(0.001)
                .window(Duration::from_millis(500)),
        )
        .retry_policy(quick_retries().total_budget(Duration::from_millis(300)))
        .build()
        .unwrap();
    emu.add_fault(
        FaultRule::new(Effect::HttpStatus(503))
            .method("auth.test")
            .times(2),
    )
    .unwrap();
    let answer = client.auth_test().await.expect("retried past two 503s");
    assert_eq!(answer.attempts, 3);
    assert!(
        answer.paced >= Duration::from_millis(800),
        "{:?}",
        answer.paced
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn taking_one_session_costs_one_call_unless_prefetching() {
    let emu = emulator(RateLimits::Off).await;
    let client = builder(&emu, slack_sessions_emulator::demo::ADMIN_TOKEN)
        .build()
        .unwrap();
    let list_calls = || {
        emu.requests(&RequestFilter {
            method: Some(List::NAME.into()),
            ..RequestFilter::default()
        })
        .len()
    };
    let mut sessions = client.list_sessions(ListArgs::new().limit(5));
    let first = sessions.try_next().await.unwrap();
    assert!(first.is_some());
    // Give a read-ahead request, if any were made, the time to reach the server.
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(sessions);
    assert_eq!(list_calls(), 1, "one page asked for");

    // With prefetch, the next page is asked for at once.
    let mut sessions = client
        .list_sessions(ListArgs::new().limit(5))
        .prefetch(true);
    sessions.try_next().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(list_calls(), 3);
    emu.shutdown().await;
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn pacing_faster_than_the_server_is_warned() {
    // The emulator applies Slack's budgets; the client paces as if it were scaled 60 times.
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let emu = emulator(RateLimits::Slack).await;
    let client = builder(&emu, slack_sessions_emulator::demo::ADMIN_TOKEN)
        .pacing(Pacing::scaled(60.0))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let mut limited = 0;
    for _ in 0..21 {
        if let Err(e) = client.list(ListArgs::new().limit(1)).await {
            assert!(e.is_rate_limited(), "{e}");
            limited += 1;
        }
    }
    assert!(limited >= 1, "Slack's budget of 20 a minute is spent");
    assert_eq!(client.pacing_state::<List>().rate_limited, limited);
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        logs.matches("rate limited although paced").count(),
        1,
        "warned once: {logs}"
    );
    assert!(logs.contains("Pacing::matching"), "{logs}");
    assert!(logs.contains(List::NAME), "{logs}");
    emu.shutdown().await;
}

/// A client paced for Slack against an emulator scaled 60 times would run 60 times slower than
/// it could, silently: the emulator says which limits it applies, and the client warns once.
#[tokio::test]
async fn pacing_slower_than_the_server_is_warned() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let emu = emulator(RateLimits::Scale(60)).await;
    let logs = || String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let matching = builder(&emu, slack_sessions_emulator::demo::ADMIN_TOKEN)
        .pacing(Pacing::matching(RateLimits::Scale(60)))
        .build()
        .unwrap();
    matching.auth_test().await.unwrap();
    assert!(
        !logs().contains("other rate limits"),
        "no warning when they match: {}",
        logs()
    );

    let unscaled = builder(&emu, slack_sessions_emulator::demo::ADMIN_TOKEN)
        .pacing(Pacing::slack())
        .build()
        .unwrap();
    for _ in 0..3 {
        unscaled.auth_test().await.unwrap();
    }
    let logs = logs();
    assert_eq!(
        logs.matches("other rate limits").count(),
        1,
        "warned once: {logs}"
    );
    assert!(
        logs.contains("Pacing::matching(RateLimits::Scale(60))"),
        "{logs}"
    );
    emu.shutdown().await;
}
