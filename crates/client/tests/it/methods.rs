//! Every method, in both encodings: its success against real state, and its typed errors.

use std::collections::HashSet;
use std::time::Duration;

use futures::TryStreamExt;
use slack_sessions_client::api::{ErrorCode, UserId};
use slack_sessions_client::methods::*;
use slack_sessions_client::{Client, Encoding, Error, Response};
use slack_sessions_emulator::{RateLimits, demo};

use crate::common::{admin, builder, demo_members, emulator};

async fn all_sessions(client: &Client) -> Vec<ActiveSession> {
    client
        .list_sessions(ListArgs::new().limit(100))
        .try_collect()
        .await
        .expect("list walk")
}

fn sessions_of<'a>(all: &'a [ActiveSession], user: &str) -> Vec<&'a ActiveSession> {
    all.iter().filter(|s| s.user_id.as_str() == user).collect()
}

/// Members with at least one session, most sessions first.
fn members_with_sessions(all: &[ActiveSession]) -> Vec<String> {
    let mut members: Vec<(usize, String)> = demo_members()
        .into_iter()
        .map(|m| (sessions_of(all, &m).len(), m))
        .filter(|(n, _)| *n > 0)
        .collect();
    members.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    members.into_iter().map(|(_, m)| m).collect()
}

fn assert_clean<T>(response: &Response<T>) {
    // Our content types earn neither `superfluous_charset` nor `missing_charset`.
    assert!(response.warnings.is_empty(), "{:?}", response.warnings);
    assert_eq!(response.attempts, 1);
    assert!(response.request_id.is_some());
}

async fn every_method_succeeds(encoding: Encoding) {
    let emu = emulator(RateLimits::Off).await;
    let client = admin(&emu, encoding);

    let me = client.auth_test().await.expect("auth.test");
    assert_clean(&me);
    assert_eq!(me.user_id.as_str(), demo::ADMIN_ID);
    let scopes = me.scopes.clone().expect("x-oauth-scopes");
    assert!(
        scopes.iter().any(|s| s == "admin.users:write"),
        "{scopes:?}"
    );

    let found = client
        .lookup_by_email(LookupByEmailArgs::new("grace.hopper@acme.example"))
        .await
        .expect("users.lookupByEmail");
    assert_clean(&found);
    assert_eq!(found.user.id.as_str(), demo::ADMIN_ID);

    let page = client
        .list(ListArgs::new().limit(5))
        .await
        .expect("one list page");
    assert_clean(&page);
    assert_eq!(page.active_sessions.len(), 5);
    assert!(page.next_cursor().is_some());
    assert_eq!(
        page.accepted_scopes.as_deref(),
        Some(&["admin.users:read".to_owned()][..])
    );

    let all = all_sessions(&client).await;
    let members = members_with_sessions(&all);
    assert!(members.len() >= 4, "members with sessions: {members:?}");

    // list for one user on one team
    let user = &members[0];
    let team = sessions_of(&all, user)[0].team_id.clone();
    let mine = client
        .list(ListArgs::for_user(team.clone(), user.as_str()))
        .await
        .expect("list for one user");
    assert!(!mine.active_sessions.is_empty());
    assert!(
        mine.active_sessions
            .iter()
            .all(|s| s.user_id.as_str() == user.as_str())
    );

    // invalidate one session
    let victim = mine.active_sessions[0].clone();
    let done = client
        .invalidate(InvalidateArgs::new(
            victim.session_id,
            victim.user_id.clone(),
        ))
        .await
        .expect("invalidate");
    assert_clean(&done);
    let all = all_sessions(&client).await;
    assert!(!all.iter().any(|s| s.session_id == victim.session_id));

    // reset every session of the user
    client
        .reset(ResetArgs::new(user.as_str()))
        .await
        .expect("reset");
    let all = all_sessions(&client).await;
    assert!(sessions_of(&all, user).is_empty());

    // resetBulk: queued, then done shortly after
    let bulk = [members[1].clone(), members[2].clone()];
    client
        .reset_bulk(ResetBulkArgs::new(bulk.iter().map(String::as_str)))
        .await
        .expect("resetBulk");
    let mut remaining = usize::MAX;
    for _ in 0..100 {
        let all = all_sessions(&client).await;
        remaining = bulk.iter().map(|u| sessions_of(&all, u).len()).sum();
        if remaining == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(remaining, 0, "resetBulk's job did not run");

    // settings: set, get, clear, get
    let (a, b) = (members[0].as_str(), members[3].as_str());
    client
        .clear_settings(ClearSettingsArgs::new([a, b]))
        .await
        .expect("clearSettings");
    client
        .set_settings(
            SetSettingsArgs::new([a])
                .duration(86_400)
                .desktop_app_browser_quit(true),
        )
        .await
        .expect("setSettings");
    let got = client
        .get_settings(GetSettingsArgs::new([a, b]))
        .await
        .expect("getSettings");
    assert_clean(&got);
    assert_eq!(got.session_settings.len(), 1, "{got:?}");
    let setting = &got.session_settings[0];
    assert_eq!(setting.user_id.as_str(), a);
    assert_eq!(setting.duration, Some(86_400));
    assert_eq!(setting.desktop_app_browser_quit, Some(true));
    assert_eq!(got.no_settings_applied, vec![UserId::new(b)]);
    client
        .clear_settings(ClearSettingsArgs::new([a]))
        .await
        .expect("clearSettings");
    let got = client
        .get_settings(GetSettingsArgs::new([a]))
        .await
        .expect("getSettings");
    assert!(got.session_settings.is_empty());
    assert_eq!(got.no_settings_applied, vec![UserId::new(a)]);

    emu.shutdown().await;
}

#[tokio::test]
async fn every_method_succeeds_with_form_bodies() {
    every_method_succeeds(Encoding::Form).await;
}

#[tokio::test]
async fn every_method_succeeds_with_json_bodies() {
    every_method_succeeds(Encoding::Json).await;
}

/// The Slack error of a call that must fail with `ok:false`, checked for the common facts.
fn slack_error<T: std::fmt::Debug>(
    result: Result<Response<T>, Error>,
) -> Box<slack_sessions_client::SlackError> {
    let err = result.expect_err("the call fails");
    assert!(!err.may_have_been_applied(), "{err}");
    assert_eq!(err.call().attempts, 1, "not retried: {err}");
    match err {
        Error::Slack(e) => {
            assert!(e.raw_body.contains(e.code.as_str()), "{}", e.raw_body);
            assert_eq!(e.status, 200);
            e
        }
        other => panic!("expected ok:false, got {other:?}"),
    }
}

async fn every_method_has_typed_errors(encoding: Encoding) {
    let emu = emulator(RateLimits::Off).await;
    let client = admin(&emu, encoding);
    let member = demo_members()[0].clone();
    let code = |e: Box<slack_sessions_client::SlackError>| e.code;

    assert_eq!(
        code(slack_error(
            client
                .invalidate(InvalidateArgs::new(42_u64, member.as_str()))
                .await
        )),
        ErrorCode::SessionNotFound
    );
    assert_eq!(
        code(slack_error(
            client.reset(ResetArgs::new("W0NOSUCHUSR")).await
        )),
        ErrorCode::UserNotFound
    );
    assert_eq!(
        code(slack_error(
            client.reset(ResetArgs::new(demo::BOT_ID)).await
        )),
        ErrorCode::CannotResetBot
    );
    assert_eq!(
        code(slack_error(
            client.reset(ResetArgs::new(demo::PRIMARY_OWNER_ID)).await
        )),
        ErrorCode::CannotResetPrimaryOwner
    );
    let empty = slack_error(
        client
            .reset_bulk(ResetBulkArgs::new(Vec::<String>::new()))
            .await,
    );
    assert_eq!(empty.code, ErrorCode::InvalidArguments);
    assert!(
        empty.messages.iter().any(|m| m.contains("/user_ids")),
        "{:?}",
        empty.messages
    );
    assert!(empty.to_string().contains("/user_ids"), "{empty}");
    assert_eq!(
        code(slack_error(
            client.reset_bulk(ResetBulkArgs::new(["W0NOSUCHUSR"])).await
        )),
        ErrorCode::UserNotFound
    );
    assert_eq!(
        code(slack_error(
            client.list(ListArgs::new().cursor("not-a-cursor")).await
        )),
        ErrorCode::InvalidCursor
    );
    let mut only_user = ListArgs::new();
    only_user.user_id = Some(UserId::new(member.as_str()));
    assert_eq!(
        code(slack_error(client.list(only_user).await)),
        ErrorCode::MissingTeam
    );
    assert_eq!(
        code(slack_error(
            client
                .get_settings(GetSettingsArgs::new(["W0NOSUCHUSR"]))
                .await
        )),
        ErrorCode::UserNotFound
    );
    assert_eq!(
        code(slack_error(
            client
                .set_settings(SetSettingsArgs::new([member.as_str()]))
                .await
        )),
        ErrorCode::AtLeastOneSessionSettingRequired
    );
    assert_eq!(
        code(slack_error(
            client
                .clear_settings(ClearSettingsArgs::new(["W0NOSUCHUSR"]))
                .await
        )),
        ErrorCode::UserNotFound
    );
    assert_eq!(
        code(slack_error(
            client
                .lookup_by_email(LookupByEmailArgs::new("nobody@nowhere.example"))
                .await
        )),
        ErrorCode::UsersNotFound
    );
    let stranger = builder(&emu, "xoxp-not-a-known-token")
        .encoding(encoding)
        .build()
        .unwrap();
    assert_eq!(
        code(slack_error(stranger.auth_test().await)),
        ErrorCode::InvalidAuth
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn every_method_has_typed_errors_with_form_bodies() {
    every_method_has_typed_errors(Encoding::Form).await;
}

#[tokio::test]
async fn every_method_has_typed_errors_with_json_bodies() {
    every_method_has_typed_errors(Encoding::Json).await;
}

#[tokio::test]
async fn authorization_errors_are_typed_with_needed_and_provided() {
    let emu = emulator(RateLimits::Off).await;
    let member = demo_members()[0].clone();
    let cases = [
        (demo::READ_ONLY_TOKEN, ErrorCode::MissingScope),
        (demo::MEMBER_TOKEN, ErrorCode::NotAnAdmin),
        (demo::BOT_TOKEN, ErrorCode::NotAllowedTokenType),
        (demo::REVOKED_TOKEN, ErrorCode::TokenRevoked),
        (demo::EXPIRED_TOKEN, ErrorCode::TokenExpired),
        (demo::DEACTIVATED_TOKEN, ErrorCode::AccountInactive),
        (demo::STANDALONE_ADMIN_TOKEN, ErrorCode::FeatureNotEnabled),
        ("xoxp-made-up", ErrorCode::InvalidAuth),
    ];
    let mut seen = HashSet::new();
    for (token, expected) in cases.clone() {
        for encoding in [Encoding::Form, Encoding::Json] {
            let client = builder(&emu, token).encoding(encoding).build().unwrap();
            let e = slack_error(client.reset(ResetArgs::new(member.as_str())).await);
            assert_eq!(e.code, expected, "{token} {encoding:?}");
            seen.insert(e.code.clone());
            if expected == ErrorCode::MissingScope {
                assert_eq!(e.needed.as_deref(), Some("admin.users:write"));
                let provided = e.provided.as_deref().unwrap_or_default();
                assert!(provided.contains("admin.users:read"), "{provided}");
                assert!(e.to_string().contains("needed: admin.users:write"), "{e}");
            }
        }
    }
    assert_eq!(seen.len(), cases.len());
    emu.shutdown().await;
}

#[tokio::test]
async fn users_are_read_one_by_one_and_walked_page_by_page() {
    let emu = emulator(RateLimits::Off).await;
    let client = admin(&emu, Encoding::Form);
    let one = client
        .users_info(UsersInfoArgs::new(demo::PRIMARY_OWNER_ID))
        .await
        .unwrap();
    assert!(one.user.is_primary_owner);
    assert!(
        one.user.profile.email.is_some(),
        "the admin token has users:read.email"
    );
    let all: Vec<User> = client
        .list_users(UsersListArgs::new(demo::ORG_ID).limit(7))
        .try_collect()
        .await
        .unwrap();
    let ids: HashSet<String> = all.iter().map(|u| u.id.as_str().to_owned()).collect();
    assert_eq!(ids.len(), all.len(), "each user once");
    // Every user of the org, and Slackbot (listed in every workspace, as on Slack).
    assert_eq!(all.len(), emu.export().orgs[0].users.len() + 1);
    assert!(ids.contains("USLACKBOT"));
    assert!(ids.contains(demo::BOT_ID), "bots are users too");
    emu.shutdown().await;
}
