//! The Audit Logs API through the client: walks, filters, errors, org-wide pacing.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use futures::future::join;
use slack_sessions_client::audit_logs::{AuditLogsArgs, action};
use slack_sessions_client::{Client, Error, ErrorCode, Pacing, RetryPolicy};
use slack_sessions_emulator::seed::TokenSeed;
use slack_sessions_emulator::{Emulator, RateLimits, RequestFilter, Seed, demo, generate};

use crate::common::{builder, emulator, emulator_with};

/// An emulator of a generated org with `entries` audit-log entries.
async fn generated(entries: usize, limits: RateLimits) -> Emulator {
    Emulator::builder()
        .generate(50, 100)
        .generate_audit_logs(entries)
        .rate_limits(limits)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_audit_url_follows_the_emulators_api_url() {
    let emu = emulator(RateLimits::Off).await;
    let client = builder(&emu, demo::ADMIN_TOKEN).build().unwrap();
    assert_eq!(client.audit_url(), emu.audit_url());
    let actions = client.audit_actions().await.unwrap();
    assert!(
        actions.actions["user"]
            .iter()
            .any(|a| a == action::USER_LOGIN)
    );
    let schemas = client.audit_schemas().await.unwrap();
    assert!(schemas.schemas.iter().any(|s| s["type"] == "enterprise"));
    // No token is needed for them.
    let nobody = client.with_token("xoxp-nobody").unwrap();
    assert!(nobody.audit_actions().await.is_ok());
    emu.shutdown().await;
}

#[tokio::test]
async fn a_thousand_entries_walk_page_by_page_newest_first() {
    let emu = generated(1_000, RateLimits::Off).await;
    let client = builder(&emu, generate::ADMIN_TOKEN).build().unwrap();
    let mut entries = client.audit_logs(AuditLogsArgs::new().limit(100));
    let mut walked = Vec::new();
    while let Some(e) = entries.try_next().await.unwrap() {
        walked.push(e);
    }
    assert_eq!(walked.len(), 1_000);
    assert_eq!(entries.pages_fetched(), 10);
    let ids: HashSet<&str> = walked.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), 1_000, "every entry once");
    assert!(
        walked
            .windows(2)
            .all(|w| w[0].date_create >= w[1].date_create)
    );
    // One page of all of them says the same.
    let page = client
        .audit_logs_page(AuditLogsArgs::new().limit(9_999))
        .await
        .unwrap();
    assert_eq!(page.entries, walked);
    assert_eq!(page.next_cursor(), None);
    // Typed entries: sign-ins carry their session, user agent and address.
    let login = walked
        .iter()
        .find(|e| e.action == action::USER_LOGIN)
        .unwrap();
    assert!(login.session_id().is_some());
    assert!(login.context.ip_address.is_some());
    assert_ne!(
        login.context.client_kind(),
        slack_sessions_client::methods::ClientKind::Unknown
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn filters_narrow_the_walk() {
    let emu = emulator(RateLimits::Off).await;
    let client = builder(&emu, demo::ADMIN_TOKEN).build().unwrap();
    let user = "W0DEMO0005";
    let mine: Vec<_> = client
        .audit_logs(
            AuditLogsArgs::new()
                .actor(user)
                .actions([action::USER_LOGIN, action::ANOMALY])
                .limit(2),
        )
        .try_collect()
        .await
        .unwrap();
    assert!(mine.len() >= 2);
    assert!(
        mine.iter()
            .all(|e| e.actor.user_id().unwrap().as_str() == user
                && (e.action == action::USER_LOGIN || e.action == action::ANOMALY))
    );
    let resets: Vec<_> = client
        .audit_logs(AuditLogsArgs::new().action(action::BULK_SESSION_RESET_BY_ADMIN))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(resets.len(), 1);
    let bulk = resets[0].details.as_ref().unwrap();
    assert_eq!(bulk.succeeded_users.as_ref().unwrap().len(), 3);
    assert_eq!(resets[0].entity.id(), Some(demo::ORG_ID));
    // The history the client made itself is there too.
    client
        .reset(slack_sessions_client::methods::ResetArgs::new(user))
        .await
        .unwrap();
    let newest = client
        .audit_logs_page(AuditLogsArgs::new().entity(user).limit(1))
        .await
        .unwrap();
    assert_eq!(
        newest.entries[0].action,
        action::USER_SESSION_RESET_BY_ADMIN
    );
    assert_eq!(
        newest.entries[0].context.ua.as_deref(),
        Some(concat!("slack-sessions-client/", env!("CARGO_PKG_VERSION")))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn errors_are_typed() {
    let emu = emulator(RateLimits::Off).await;
    let client = builder(&emu, demo::ADMIN_TOKEN).build().unwrap();
    for token in [
        demo::PRIMARY_OWNER_TOKEN,
        demo::READ_ONLY_TOKEN,
        "xoxp-nobody",
    ] {
        let err = client
            .with_token(token)
            .unwrap()
            .audit_logs_page(AuditLogsArgs::new())
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Some(&ErrorCode::InvalidAuthentication),
            "{token}"
        );
        assert!(err.is_auth(), "{err}");
        let Error::Slack(e) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(e.status, 401);
    }
    let err = client
        .with_token(demo::STANDALONE_ADMIN_TOKEN)
        .unwrap()
        .audit_logs_page(AuditLogsArgs::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::FeatureNotEnabled));
    assert!(err.is_permission());
    for (args, code) in [
        (
            AuditLogsArgs::new().cursor("bm90IGEgY3Vyc29y"),
            ErrorCode::InvalidCursor,
        ),
        (
            AuditLogsArgs::new().action("user_teleported"),
            ErrorCode::InvalidAction,
        ),
        (
            AuditLogsArgs::new().oldest(4_102_444_800),
            ErrorCode::InvalidRange,
        ),
    ] {
        let err = client.audit_logs_page(args).await.unwrap_err();
        assert_eq!(err.code(), Some(&code));
        assert!(!err.is_transient());
    }
    // A walk ends at its first error.
    let mut walk = client.audit_logs(AuditLogsArgs::new().cursor("bm90IGEgY3Vyc29y"));
    assert!(walk.try_next().await.is_err());
    assert!(walk.try_next().await.unwrap().is_none());
    emu.shutdown().await;
}

/// The demo seed with a second owner token of another app, with `auditlogs:read`.
fn two_owner_tokens() -> Seed {
    let mut seed = Seed::demo();
    seed.orgs[0].tokens.push(TokenSeed {
        token: "xoxp-test-second-owner".into(),
        user_id: demo::PRIMARY_OWNER_ID.into(),
        scopes: vec!["auditlogs:read".into()],
        app_id: Some("A0SECOND".into()),
        ..TokenSeed::default()
    });
    seed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tokens_of_one_org_are_paced_against_one_budget() {
    // scale=60: tier 3 allows 50 calls a second for the whole org.
    let emu = emulator_with(two_owner_tokens(), RateLimits::Scale(60)).await;
    let a = builder(&emu, demo::ADMIN_TOKEN)
        .pacing(Pacing::matching(RateLimits::Scale(60)))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let b = a.with_token("xoxp-test-second-owner").unwrap();
    let walk = |client: Client| async move {
        let pages: Vec<_> = client
            .audit_log_pages(AuditLogsArgs::new().limit(4))
            .take_pages(60)
            .await;
        pages
    };
    let started = Instant::now();
    let (pa, pb) = join(walk(a), walk(b)).await;
    let elapsed = started.elapsed();
    assert_eq!(pa.len() + pb.len(), 120, "no call refused");
    let limited = emu
        .requests(&RequestFilter::new().method("audit/v1/logs").status(429))
        .len();
    assert_eq!(limited, 0, "paced, not rate limited");
    // 120 calls over a budget of 45 a second (10% headroom) after a burst of 45.
    assert!(elapsed >= Duration::from_millis(1_400), "{elapsed:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_walk_survives_rate_limits_without_losing_its_place() {
    // Unpaced against scale=30 (tier 3: 50 calls per 2 s, a window wide enough for a slow,
    // busy machine to fill): 100 pages meet 429s, wait them out and go on with the same cursor.
    let emu = generated(400, RateLimits::Scale(30)).await;
    let client = builder(&emu, generate::ADMIN_TOKEN).build().unwrap();
    let walked: Vec<_> = client
        .audit_logs(AuditLogsArgs::new().limit(4))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(walked.len(), 400);
    let ids: HashSet<&str> = walked.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), 400);
    let limited = emu
        .requests(&RequestFilter::new().method("audit/v1/logs").status(429))
        .len();
    assert!(limited > 0, "the walk met the rate limit");
    emu.shutdown().await;
}

/// Takes at most `n` pages of a walk, all of which must succeed.
trait TakePages {
    async fn take_pages(self, n: usize) -> Vec<u64>;
}

impl TakePages for slack_sessions_client::AuditLogPages {
    async fn take_pages(mut self, n: usize) -> Vec<u64> {
        let mut out = Vec::new();
        while out.len() < n {
            match self.try_next().await.unwrap() {
                Some(page) => out.push(page.entries.len() as u64),
                None => break,
            }
        }
        out
    }
}
