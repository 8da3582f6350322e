//! What every user wrote by hand, now in the crate: request ids on errors, error categories,
//! batching with per-user outcomes, flat session records.

use std::collections::HashSet;
use std::time::Duration;

use futures::TryStreamExt;
use slack_sessions_client::batch::UserOutcome;
use slack_sessions_client::methods::{
    FlatSession, GetSettingsArgs, ListArgs, LookupByEmailArgs, ResetArgs, ResetBulkArgs,
    SetSettingsArgs,
};
use slack_sessions_client::{Encoding, Error, ErrorCode, RequestId, RetryPolicy, UserId};
use slack_sessions_emulator::{Effect, FaultRule, RateLimits, demo};

use crate::common::{admin, builder, demo_members, emulator};

#[tokio::test]
async fn answers_and_errors_carry_the_request_id() {
    let emu = emulator(RateLimits::Off).await;
    let client = admin(&emu, Encoding::Form);
    let ok = client.auth_test().await.unwrap();
    assert!(ok.request_id().is_some_and(|id| !id.is_empty()));
    let err = client.reset(ResetArgs::new("W0NOBODY")).await.unwrap_err();
    let Error::Slack(slack) = &err else {
        panic!("{err:?}")
    };
    assert!(slack.request_id().is_some());
    assert_eq!(err.request_id(), slack.request_id());
    assert_ne!(err.request_id(), ok.request_id(), "one id per request");
    emu.add_fault(FaultRule::new(Effect::RateLimited(1)).times(1))
        .unwrap();
    let limited = client
        .with_retry_policy(RetryPolicy::never())
        .auth_test()
        .await
        .unwrap_err();
    let Error::RateLimited(e) = &limited else {
        panic!("{limited:?}")
    };
    assert!(e.request_id().is_some());
    emu.shutdown().await;
}

#[tokio::test]
async fn errors_fall_in_categories() {
    let emu = emulator(RateLimits::Off).await;
    let client = admin(&emu, Encoding::Form);
    for token in [demo::REVOKED_TOKEN, demo::EXPIRED_TOKEN, "xoxp-unknown"] {
        let err = client
            .with_token(token)
            .unwrap()
            .auth_test()
            .await
            .unwrap_err();
        assert!(err.is_auth() && !err.is_permission(), "{token}: {err}");
    }
    let err = client
        .with_token(demo::MEMBER_TOKEN)
        .unwrap()
        .list(ListArgs::new())
        .await
        .unwrap_err();
    assert!(err.is_permission() && !err.is_auth(), "{err}");
    // `users_not_found` (an email address) and `user_not_found` (an id) are both "not found";
    // only the second refuses a batch because of a user.
    let err = client
        .lookup_by_email(LookupByEmailArgs::new("nobody@example.com"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::UsersNotFound));
    assert!(err.is_not_found() && !err.is_user_refusal());
    let err = client.reset(ResetArgs::new("W0NOBODY")).await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::UserNotFound));
    assert!(err.is_not_found() && err.is_user_refusal() && !err.is_transient());
    emu.add_fault(FaultRule::new(Effect::Error("service_unavailable".into())).times(1))
        .unwrap();
    let err = client
        .with_retry_policy(RetryPolicy::never())
        .auth_test()
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    emu.shutdown().await;
}

#[tokio::test]
async fn reset_bulk_all_isolates_the_users_slack_refuses() {
    let emu = emulator(RateLimits::Off).await;
    let client = admin(&emu, Encoding::Form);
    let members: Vec<String> = demo_members().into_iter().take(20).collect();
    let mut users = members.clone();
    users.insert(3, demo::BOT_ID.to_owned());
    users.insert(11, "W0NOBODY".to_owned());
    users.push(demo::PRIMARY_OWNER_ID.to_owned());
    users.push(members[0].clone()); // a repeat is sent once
    let report = client
        .reset_bulk_all(ResetBulkArgs::new(&users))
        .batch_size(8)
        .concurrency(2)
        .await;
    let outcomes: Vec<(String, &str)> = report
        .outcomes()
        .map(|(u, o)| {
            let what = match o {
                UserOutcome::Done(_) => "done",
                UserOutcome::Refused(r) => r.code.as_str(),
                other => panic!("{u}: {other:?}"),
            };
            (u.to_string(), what)
        })
        .collect();
    assert_eq!(outcomes.len(), 23, "each user once, in order");
    assert_eq!(outcomes[3], (demo::BOT_ID.to_owned(), "cannot_reset_bot"));
    assert_eq!(outcomes[11], ("W0NOBODY".to_owned(), "user_not_found"));
    assert_eq!(outcomes[22].0, demo::PRIMARY_OWNER_ID);
    assert_ne!(outcomes[22].1, "done");
    assert_eq!(report.done().len(), 20);
    assert_eq!(report.refused().len(), 3);
    assert!(!report.all_done());

    // The jobs run: the members have no session left.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let left: HashSet<UserId> = client
        .list_sessions(ListArgs::new())
        .map_ok(|s| s.user_id)
        .try_collect()
        .await
        .unwrap();
    for m in &members {
        assert!(!left.contains(&UserId::from(m)), "{m} still has sessions");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn set_settings_all_sends_batches_and_stops_on_a_failure_of_the_whole_call() {
    let emu = emulator(RateLimits::Off).await;
    let client = admin(&emu, Encoding::Json);
    let members = demo_members();
    let eight_hours = Duration::from_secs(8 * 3600);
    let report = client
        .set_settings_all(SetSettingsArgs::new(&members).duration(eight_hours))
        .batch_size(7)
        .concurrency(3)
        .await;
    assert!(report.all_done(), "{:?}", report.failed());
    assert_eq!(report.calls as usize, members.len().div_ceil(7));
    let settings = client
        .get_settings(GetSettingsArgs::new(&members))
        .await
        .unwrap()
        .into_body()
        .session_settings;
    assert_eq!(settings.len(), members.len());
    assert!(
        settings
            .iter()
            .all(|s| s.session_duration() == Some(eight_hours))
    );

    // No setting at all: the first batch is refused for a reason that is not about a user, and
    // the run stops there.
    let report = client
        .set_settings_all(SetSettingsArgs::new(&members))
        .batch_size(7)
        .await;
    assert_eq!(report.calls, 1);
    assert_eq!(report.failed().len(), 7, "the batch sent");
    assert_eq!(
        report.not_sent().len(),
        members.len() - 7,
        "apart from failed"
    );
    let (_, first) = report.outcomes().next().unwrap();
    let UserOutcome::Failed(e) = first else {
        panic!("{first:?}")
    };
    assert_eq!(e.code(), Some(&ErrorCode::AtLeastOneSessionSettingRequired));
    emu.shutdown().await;
}

#[tokio::test]
async fn sessions_export_as_flat_csv_rows() {
    let emu = emulator(RateLimits::Off).await;
    let client = builder(&emu, demo::ADMIN_TOKEN).build().unwrap();
    let sessions: Vec<_> = client
        .list_sessions(ListArgs::new())
        .try_collect()
        .await
        .unwrap();
    let mut csv = csv::Writer::from_writer(Vec::new());
    for s in &sessions {
        csv.serialize(s.flat()).unwrap();
    }
    let bytes = csv.into_inner().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("user_id,team_id,session_id,platform,created_device_hardware"));
    assert!(header.contains("recent_ip"));
    let back: Vec<FlatSession> = csv::Reader::from_reader(&bytes[..])
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(back.len(), sessions.len());
    assert_eq!(back[0], sessions[0].flat());
    assert!(back.iter().any(|r| r.platform.to_string() == "mobile"));
    emu.shutdown().await;
}
