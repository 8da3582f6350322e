//! Errors by stage, against the emulator's real transport and rate limiter.

use std::time::{Duration, Instant};

use slack_sessions_client::methods::{ListArgs, ResetArgs};
use slack_sessions_client::{Error, NotSentReason, Pacing, RetryPolicy};
use slack_sessions_emulator::{RateLimits, demo};

use crate::common::{builder, demo_members, emulator, quick_retries};

#[tokio::test]
async fn a_refused_connection_is_not_sent_and_retried() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = slack_sessions_client::Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/api/"))
        .token("xoxp-nowhere")
        .pacing(Pacing::off())
        .retry_policy(quick_retries().max_attempts(3))
        .build()
        .unwrap();
    let err = client
        .reset(ResetArgs::new("W0123"))
        .await
        .expect_err("nothing listens");
    let Error::NotSent(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.reason, NotSentReason::Connect);
    assert_eq!(e.call.attempts, 3, "a connection failure is retried");
    assert!(!err.may_have_been_applied());
    assert!(err.to_string().contains("nothing was applied"), "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

/// Spends the `list` budget of the admin token (tier 2: 20 per window) without pacing.
async fn spend_list_budget(emu: &slack_sessions_emulator::Emulator) {
    let client = builder(emu, demo::ADMIN_TOKEN)
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    for _ in 0..20 {
        client
            .list(ListArgs::new().limit(1))
            .await
            .expect("within budget");
    }
}

#[tokio::test]
async fn a_rate_limit_can_be_returned_at_once() {
    let emu = emulator(RateLimits::Slack).await;
    spend_list_budget(&emu).await;
    let client = builder(&emu, demo::ADMIN_TOKEN)
        .retry_policy(quick_retries().wait_on_rate_limit(false))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client
        .list(ListArgs::new().limit(1))
        .await
        .expect_err("over budget");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "returned at once"
    );
    let Error::RateLimited(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.status, 429);
    assert_eq!(e.call.attempts, 1);
    // Tier 2 refills one call every 3 s.
    let wait = e.retry_after.expect("Retry-After");
    assert!(
        (Duration::from_secs(1)..=Duration::from_secs(3)).contains(&wait),
        "{wait:?}"
    );
    assert!(e.raw_body.contains("ratelimited"));
    assert!(!err.may_have_been_applied());
    // Other methods are not limited.
    client
        .reset(ResetArgs::new(demo_members()[0].as_str()))
        .await
        .expect("another method has its own budget");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_then_the_call_succeeds() {
    // Windows of 20 s (one call back per second): the 21st call in a burst is told to come
    // back in 1 s, and the burst surely takes less than that.
    let emu = emulator(RateLimits::Scale(3)).await;
    spend_list_budget(&emu).await;
    let client = builder(&emu, demo::ADMIN_TOKEN).build().unwrap();
    let started = Instant::now();
    let page = client
        .list(ListArgs::new().limit(1))
        .await
        .expect("succeeds after waiting");
    assert_eq!(page.attempts, 2, "one 429, then success");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited Retry-After"
    );
    assert_eq!(page.active_sessions.len(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_retry_after_pauses_that_method_for_every_clone() {
    // The pacer cannot know that another program spent the budget; the first 429 tells it,
    // and from then on the clones wait for the pause instead of collecting 429s of their own.
    let emu = emulator(RateLimits::Scale(3)).await;
    spend_list_budget(&emu).await;
    let client = builder(&emu, demo::ADMIN_TOKEN)
        .pacing(Pacing::scaled(3.0))
        .build()
        .unwrap();
    let started = Instant::now();
    let first = tokio::spawn({
        let client = client.clone();
        async move { client.list(ListArgs::new().limit(1)).await }
    });
    // The first call has its 429 (Retry-After 1 s) well before this.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let others: Vec<_> = (0..3)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.list(ListArgs::new().limit(1)).await })
        })
        .collect();
    let first = first.await.unwrap().expect("first call");
    assert_eq!(first.attempts, 2, "the first call met the 429");
    for other in others {
        let page = other.await.unwrap().expect("paced call");
        assert_eq!(page.attempts, 1, "waited for the pause instead of a 429");
    }
    assert!(started.elapsed() >= Duration::from_secs(1));
    // Another method was never paused.
    let reset_started = Instant::now();
    client
        .reset(ResetArgs::new(demo_members()[0].as_str()))
        .await
        .expect("reset");
    assert!(reset_started.elapsed() < Duration::from_millis(500));
    emu.shutdown().await;
}

/// A log writer that keeps what it is given.
#[derive(Clone, Default)]
struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn request_ids_reach_the_error_text_and_the_retry_log_line() {
    let emu = emulator(RateLimits::Off).await;
    emu.add_fault(
        slack_sessions_emulator::FaultRule::new(slack_sessions_emulator::Effect::Error(
            "internal_error".into(),
        ))
        .method("auth.test")
        .times(1),
    )
    .unwrap();
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let client = builder(&emu, demo::ADMIN_TOKEN).build().unwrap();
    client.auth_test().await.expect("retried past the fault");
    let faulted = emu.requests(&slack_sessions_emulator::RequestFilter::new())[0]
        .request_id
        .clone();
    let logged = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let retry = logged
        .lines()
        .find(|l| l.contains("retrying"))
        .unwrap_or_else(|| panic!("no retry line in {logged:?}"));
    assert!(
        retry.contains(&format!("request_id=\"{faulted}\""))
            || retry.contains(&format!("request_id={faulted}")),
        "{retry}"
    );

    // And `?` into anyhow (or any `Display`) names the request.
    let err = client.reset(ResetArgs::new("W0NOBODY")).await.unwrap_err();
    let id = err.request_id().expect("an answer came").to_owned();
    let shown = format!("{:?}", anyhow::Error::from(err));
    assert!(shown.contains(&id), "{shown}");
    emu.shutdown().await;
}
