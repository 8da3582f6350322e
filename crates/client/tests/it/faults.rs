//! Every failure Slack can produce, injected by the emulator's fault rules, classified by stage
//! and retried (or not) as the policy says. The request log shows what reached the server.

use std::time::Duration;

use slack_sessions_client::api::ErrorCode;
use slack_sessions_client::methods::{InvalidateArgs, ListArgs, ResetArgs};
use slack_sessions_client::{Client, Error, NoAnswerReason, RetryPolicy};
use slack_sessions_emulator::{Effect, Emulator, FaultRule, RateLimits, RequestFilter, demo};

use crate::common::{admin, builder, demo_members, emulator, quick_retries};

const RESET: &str = "admin.users.session.reset";
const LIST: &str = "admin.users.session.list";
const INVALIDATE: &str = "admin.users.session.invalidate";

fn fault(emu: &Emulator, method: &str, effect: Effect, times: u64) {
    emu.add_fault(FaultRule::new(effect).method(method).times(times))
        .expect("a valid fault rule");
}

/// (HTTP status, fault) of each call of `method` the server saw, in order.
fn logged(emu: &Emulator, method: &str) -> Vec<(u16, Option<String>)> {
    emu.requests(&RequestFilter {
        method: Some(method.to_owned()),
        ..RequestFilter::default()
    })
    .into_iter()
    .map(|e| (e.status, e.fault))
    .collect()
}

fn never(emu: &Emulator) -> Client {
    builder(emu, demo::ADMIN_TOKEN)
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap()
}

async fn sessions_of(client: &Client, user: &str) -> usize {
    let all: Vec<_> =
        futures::TryStreamExt::try_collect::<Vec<_>>(client.list_sessions(ListArgs::new()))
            .await
            .unwrap();
    all.iter().filter(|s| s.user_id.as_str() == user).count()
}

/// A member with at least two sessions, and one of them.
async fn member_with_sessions(client: &Client) -> (String, u64) {
    let all: Vec<_> =
        futures::TryStreamExt::try_collect::<Vec<_>>(client.list_sessions(ListArgs::new()))
            .await
            .unwrap();
    let user = demo_members()
        .into_iter()
        .find(|m| all.iter().filter(|s| s.user_id.as_str() == m).count() >= 2)
        .expect("a member with two sessions");
    let session = all
        .iter()
        .find(|s| s.user_id.as_str() == user)
        .unwrap()
        .session_id
        .0;
    (user, session)
}

#[tokio::test]
async fn a_429_then_success() {
    let emu = emulator(RateLimits::Off).await;
    fault(&emu, RESET, Effect::RateLimited(1), 1);
    let client = admin(&emu, Default::default());
    let done = client
        .reset(ResetArgs::new(demo_members()[0].as_str()))
        .await
        .expect("succeeds after Retry-After");
    assert_eq!(done.attempts, 2);
    let seen = logged(&emu, RESET);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0, 429);
    assert_eq!(seen[1], (200, None));

    // The same 429, returned at once when asked to.
    fault(&emu, RESET, Effect::RateLimited(30), 1);
    let impatient = builder(&emu, demo::ADMIN_TOKEN)
        .retry_policy(quick_retries().wait_on_rate_limit(false))
        .build()
        .unwrap();
    let err = impatient
        .reset(ResetArgs::new(demo_members()[0].as_str()))
        .await
        .expect_err("429 at once");
    assert!(err.is_rate_limited());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert!(!err.may_have_been_applied());
    emu.shutdown().await;
}

#[tokio::test]
async fn a_503_then_success() {
    let emu = emulator(RateLimits::Off).await;
    fault(&emu, RESET, Effect::HttpStatus(503), 1);
    let client = admin(&emu, Default::default());
    let done = client
        .reset(ResetArgs::new(demo_members()[0].as_str()))
        .await
        .expect("succeeds after a backoff");
    assert_eq!(done.attempts, 2);
    assert_eq!(logged(&emu, RESET)[0].0, 503);

    fault(&emu, RESET, Effect::HttpStatus(503), 1);
    let err = never(&emu)
        .reset(ResetArgs::new(demo_members()[0].as_str()))
        .await
        .expect_err("503");
    let Error::Http(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.status, 503);
    assert!(err.may_have_been_applied());
    emu.shutdown().await;
}

#[tokio::test]
async fn transient_slack_errors_are_retried_until_the_attempts_run_out() {
    let emu = emulator(RateLimits::Off).await;
    fault(&emu, RESET, Effect::Error("service_unavailable".into()), 1);
    fault(&emu, RESET, Effect::Error("internal_error".into()), 1);
    let client = admin(&emu, Default::default());
    let done = client
        .reset(ResetArgs::new(demo_members()[0].as_str()))
        .await
        .expect("succeeds on the third attempt");
    assert_eq!(done.attempts, 3);

    emu.add_fault(FaultRule::new(Effect::Error("internal_error".into())).method(RESET))
        .unwrap();
    let client = builder(&emu, demo::ADMIN_TOKEN)
        .retry_policy(quick_retries().max_attempts(3))
        .build()
        .unwrap();
    let err = client
        .reset(ResetArgs::new(demo_members()[0].as_str()))
        .await
        .expect_err("always internal_error");
    assert_eq!(err.code(), Some(&ErrorCode::InternalError));
    assert_eq!(err.call().attempts, 3);
    assert!(err.may_have_been_applied());
    // A permanent error is not retried.
    emu.clear_faults();
    fault(&emu, RESET, Effect::Error("team_added_to_org".into()), 1);
    let err = client
        .reset(ResetArgs::new(demo_members()[0].as_str()))
        .await
        .expect_err("not retried");
    assert_eq!(err.code(), Some(&ErrorCode::TeamAddedToOrg));
    assert_eq!(err.call().attempts, 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_reset_connection_may_have_been_applied_and_is_retried() {
    let emu = emulator(RateLimits::Off).await;
    fault(&emu, RESET, Effect::ResetConnection, 1);
    let err = never(&emu)
        .reset(ResetArgs::new(demo_members()[0].as_str()))
        .await
        .expect_err("connection reset");
    let Error::NoAnswer(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.reason, NoAnswerReason::ConnectionLost);
    assert!(err.may_have_been_applied());
    assert!(err.to_string().contains("may have been applied"), "{err}");

    // reset is harmless to repeat, so the default policy retries it.
    fault(&emu, RESET, Effect::ResetConnection, 1);
    let done = admin(&emu, Default::default())
        .reset(ResetArgs::new(demo_members()[0].as_str()))
        .await
        .expect("retried after the reset");
    assert_eq!(done.attempts, 2);
    // A strict policy never repeats a write that may have been applied.
    fault(&emu, RESET, Effect::ResetConnection, 1);
    let strict = builder(&emu, demo::ADMIN_TOKEN)
        .retry_policy(quick_retries().retry_ambiguous_writes(false))
        .build()
        .unwrap();
    let err = strict
        .reset(ResetArgs::new(demo_members()[0].as_str()))
        .await
        .expect_err("not repeated");
    assert_eq!(err.call().attempts, 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn empty_non_json_and_truncated_bodies_may_have_been_applied() {
    let emu = emulator(RateLimits::Off).await;
    let client = never(&emu);
    for (effect, reason) in [
        (Effect::EmptyBody, NoAnswerReason::EmptyBody),
        (Effect::NonJson, NoAnswerReason::NotJson),
        (Effect::TruncatedJson, NoAnswerReason::TruncatedBody),
    ] {
        fault(&emu, RESET, effect.clone(), 1);
        let err = client
            .reset(ResetArgs::new(demo_members()[0].as_str()))
            .await
            .expect_err("no usable answer");
        let Error::NoAnswer(e) = &err else {
            panic!("{effect:?}: {err:?}")
        };
        assert_eq!(e.reason, reason, "{effect:?}");
        assert_eq!(e.status, Some(200));
        assert!(err.may_have_been_applied(), "{effect:?}");
        // Reads are retried through the same faults.
        fault(&emu, LIST, effect.clone(), 1);
        let page = admin(&emu, Default::default())
            .list(ListArgs::new().limit(1))
            .await
            .expect("a read is retried");
        assert_eq!(page.attempts, 2, "{effect:?}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn a_truncated_answer_was_applied_and_the_retry_says_so() {
    // The emulator executes the call, then cuts its answer: the change is made.
    let emu = emulator(RateLimits::Off).await;
    let client = admin(&emu, Default::default());
    let (user, session) = member_with_sessions(&client).await;
    fault(&emu, INVALIDATE, Effect::TruncatedJson, 1);
    let err = client
        .invalidate(InvalidateArgs::new(session, user.as_str()))
        .await
        .expect_err("the repeat finds the session gone");
    // The first attempt revoked the session; the retry answers session_not_found, and the
    // error carries that an earlier attempt may have been applied.
    assert_eq!(err.code(), Some(&ErrorCode::SessionNotFound));
    assert_eq!(err.call().attempts, 2);
    assert!(err.call().earlier_attempt_may_have_applied);
    assert!(err.may_have_been_applied());
    let all: Vec<_> =
        futures::TryStreamExt::try_collect::<Vec<_>>(client.list_sessions(ListArgs::new()))
            .await
            .unwrap();
    assert!(!all.iter().any(|s| s.session_id.0 == session));

    // A truncated reset: applied, and the client says it may have been.
    let before = sessions_of(&client, &user).await;
    fault(&emu, RESET, Effect::TruncatedJson, 1);
    let err = never(&emu)
        .reset(ResetArgs::new(user.as_str()))
        .await
        .expect_err("truncated");
    assert!(err.may_have_been_applied());
    assert!(before >= 1);
    assert_eq!(sessions_of(&client, &user).await, 0, "had {before}");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_slow_answer_times_out_and_may_have_been_applied() {
    let emu = emulator(RateLimits::Off).await;
    fault(&emu, RESET, Effect::LatencyMs(2_000), 1);
    let client = builder(&emu, demo::ADMIN_TOKEN)
        .timeout(Duration::from_millis(300))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let err = client
        .reset(ResetArgs::new(demo_members()[0].as_str()))
        .await
        .expect_err("timed out");
    let Error::NoAnswer(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.reason, NoAnswerReason::Timeout);
    assert!(err.may_have_been_applied());
    emu.shutdown().await;
}
