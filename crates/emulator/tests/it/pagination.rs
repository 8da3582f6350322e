//! `list`: keyset pagination, filters and its errors.

use std::collections::HashSet;

use slack_sessions_api::methods::DeviceRecord;
use slack_sessions_emulator::seed::*;

use crate::bench::*;

/// One org with `users` users and `sessions` sessions spread over them.
pub fn big_seed(users: usize, sessions: usize) -> Seed {
    let user_ids: Vec<String> = (0..users).map(|i| format!("W{i:08}")).collect();
    let mut org = OrgSeed {
        id: "E00000BIG".into(),
        name: "Big".into(),
        grid: true,
        teams: vec![TeamSeed {
            id: "T00000BIG".into(),
            name: "Big".into(),
        }],
        users: user_ids
            .iter()
            .enumerate()
            .map(|(i, id)| UserSeed {
                id: id.clone(),
                name: format!("user{i}"),
                email: None,
                role: if i == 0 { Role::Owner } else { Role::Member },
                is_bot: false,
                deleted: false,
                teams: vec!["T00000BIG".into()],
                ..Default::default()
            })
            .collect(),
        tokens: vec![TokenSeed {
            token: "xoxp-big".into(),
            user_id: user_ids[0].clone(),
            kind: None,
            scopes: vec!["admin.users:read".into(), "admin.users:write".into()],
            state: TokenState::Active,
            ..Default::default()
        }],
        sessions: Vec::with_capacity(sessions),
        session_settings: vec![],
        audit_logs: vec![],
    };
    let device = DeviceRecord::new("Intel", "OS X", "14.6", "4.41.105", "203.0.113.9");
    for i in 0..sessions {
        org.sessions.push(SessionSeed {
            session_id: 1_000_000_000_000 + (i as u64) * 7,
            user_id: user_ids[i % users].clone(),
            team_id: "T00000BIG".into(),
            client: ClientKind::Desktop,
            created: device.clone(),
            recent: None,
        });
    }
    Seed {
        orgs: vec![org],
        ..Seed::default()
    }
}

#[tokio::test]
async fn hundred_thousand_sessions_each_exactly_once() {
    let b = Bench::with_seed(big_seed(1_000, 100_000)).await;
    let ids = b.all_session_ids("xoxp-big", &[]).await;
    assert_eq!(ids.len(), 100_000);
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 100_000, "no session twice");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "keyset order");
}

#[tokio::test]
async fn pages_limits_and_cursors() {
    let b = Bench::demo().await;
    let all = b.all_session_ids(ADMIN_TOKEN, &[]).await;
    // Small pages give the same sessions.
    let mut walked = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let mut args = vec![("limit", "7")];
        if !cursor.is_empty() {
            args.push(("cursor", cursor.as_str()));
        }
        let r = b.form("admin.users.session.list", ADMIN_TOKEN, &args).await;
        r.assert_ok();
        let page = r.json["active_sessions"].as_array().unwrap();
        assert!(page.len() <= 7);
        walked.extend(page.iter().map(|s| s["session_id"].as_u64().unwrap()));
        cursor = r.json["response_metadata"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_owned();
        pages += 1;
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(walked, all);
    assert_eq!(pages, all.len().div_ceil(7));

    // No bot sessions in the org-wide list.
    let bot_sessions = b.sessions_of(BOT_ID);
    assert!(!bot_sessions.is_empty());
    assert!(bot_sessions.iter().all(|id| !all.contains(id)));

    for limit in ["0", "1001", "-1", "ten"] {
        b.form("admin.users.session.list", ADMIN_TOKEN, &[("limit", limit)])
            .await
            .assert_error("invalid_arguments");
    }
    for cursor in ["garbage", "dXNlcjpVMEc5V0ZYTlo="] {
        b.form(
            "admin.users.session.list",
            ADMIN_TOKEN,
            &[("cursor", cursor)],
        )
        .await
        .assert_error("invalid_cursor");
    }
    b.form(
        "admin.users.session.list",
        ADMIN_TOKEN,
        &[("team_id", TEAMS[0])],
    )
    .await
    .assert_error("missing_user");
    b.form(
        "admin.users.session.list",
        ADMIN_TOKEN,
        &[("user_id", ADMIN_ID)],
    )
    .await
    .assert_error("missing_team");
    b.form(
        "admin.users.session.list",
        ADMIN_TOKEN,
        &[("user_id", BOT_ID), ("team_id", ORG_ID)],
    )
    .await
    .assert_error("bots_not_allowed");
}

#[tokio::test]
async fn one_user_on_one_team() {
    let b = Bench::demo().await;
    let user = "W0DEMO0005";
    let mine = b.sessions_of(user);
    let by_org = b
        .all_session_ids(ADMIN_TOKEN, &[("user_id", user), ("team_id", ORG_ID)])
        .await;
    assert_eq!(by_org, mine, "the org id lists all of the user's sessions");
    let mut by_teams = Vec::new();
    let state_teams: Vec<String> = b
        .sessions_where(|s| s.user_id == user)
        .into_iter()
        .map(|s| s.team_id)
        .collect();
    for team in TEAMS.iter().copied().chain([ORG_ID]) {
        let r = b
            .form(
                "admin.users.session.list",
                ADMIN_TOKEN,
                &[("user_id", user), ("team_id", team)],
            )
            .await;
        r.assert_ok();
        for s in r.json["active_sessions"].as_array().unwrap() {
            assert_eq!(s["user_id"], user);
            if team != ORG_ID {
                assert_eq!(s["team_id"], team);
                by_teams.push(s["session_id"].as_u64().unwrap());
            }
        }
    }
    let on_teams = state_teams.iter().filter(|t| t.as_str() != ORG_ID).count();
    assert_eq!(by_teams.len(), on_teams);
}

/// The `list` fast path writes exactly the bytes the api crate's types serialize to, in
/// Slack's order.
#[tokio::test]
async fn fast_page_encoding_matches_the_api_types() {
    use slack_sessions_api::methods::{ActiveSession, ListResponse};
    use slack_sessions_api::{Status, envelope};

    let b = Bench::demo().await;
    let request = http::Request::post("/api/admin.users.session.list")
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("limit=40"))
        .unwrap();
    let (status, body) = b.oneshot(request).await;
    assert_eq!(status, http::StatusCode::OK);
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();

    let org = &b.emu.export().orgs[0];
    let bots: Vec<&str> = org
        .users
        .iter()
        .filter(|u| u.is_bot)
        .map(|u| u.id.as_str())
        .collect();
    let page: Vec<ActiveSession> = org
        .sessions
        .iter()
        .filter(|s| !bots.contains(&s.user_id.as_str()))
        .take(40)
        .map(|s| {
            ActiveSession::new(
                s.user_id.as_str().into(),
                s.team_id.as_str().into(),
                s.session_id.into(),
                s.created.clone(),
                s.recent.clone(),
            )
        })
        .collect();
    let mut status = Status::success(&[]);
    // The cursor is opaque (bound to the org and filter, tested elsewhere): take the answer's.
    let cursor = answer["response_metadata"]["next_cursor"].as_str().unwrap();
    assert!(!cursor.is_empty());
    status.metadata_mut().next_cursor = Some(cursor.to_owned());
    // In Slack's order, `response_metadata` last: a walk reads the cursor from the end.
    assert_eq!(envelope::peek_cursor(&body).as_deref(), Some(cursor));
    let expected = envelope::encode(&status, Some(&ListResponse::new(page)));
    assert_eq!(
        String::from_utf8(body).unwrap(),
        String::from_utf8(expected).unwrap()
    );
}

/// A cursor is bound to the org and the filter it was issued for: anywhere else it is
/// `invalid_cursor`, never a page of something else.
#[tokio::test]
async fn a_cursor_of_another_org_or_filter_is_invalid() {
    let b = Bench::demo().await;
    let first = b
        .form("admin.users.session.list", ADMIN_TOKEN, &[("limit", "3")])
        .await;
    let cursor = first.json["response_metadata"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!cursor.is_empty());
    // Same org, same filter: the next page.
    b.form(
        "admin.users.session.list",
        ADMIN_TOKEN,
        &[("limit", "3"), ("cursor", &cursor)],
    )
    .await
    .assert_ok();
    // Another org's token.
    b.form(
        "admin.users.session.list",
        OTHER_ORG_ADMIN_TOKEN,
        &[("limit", "3"), ("cursor", &cursor)],
    )
    .await
    .assert_error("invalid_cursor");
    // Another filter.
    b.form(
        "admin.users.session.list",
        ADMIN_TOKEN,
        &[
            ("user_id", "W0DEMO0005"),
            ("team_id", ORG_ID),
            ("cursor", &cursor),
        ],
    )
    .await
    .assert_error("invalid_cursor");
}

#[tokio::test]
async fn an_empty_user_list_can_answer_no_active_sessions() {
    let with = |enabled: bool| async move {
        let emu = slack_sessions_emulator::Emulator::builder()
            .seed(slack_sessions_emulator::Seed::demo())
            .rate_limits(slack_sessions_emulator::RateLimits::Off)
            .no_active_sessions(enabled)
            .start()
            .await
            .unwrap();
        Bench {
            emu,
            http: reqwest::Client::new(),
        }
    };
    for enabled in [false, true] {
        let b = with(enabled).await;
        b.form(
            "admin.users.session.reset",
            ADMIN_TOKEN,
            &[("user_id", "W0DEMO0005")],
        )
        .await
        .assert_ok();
        let r = b
            .form(
                "admin.users.session.list",
                ADMIN_TOKEN,
                &[("user_id", "W0DEMO0005"), ("team_id", ORG_ID)],
            )
            .await;
        if enabled {
            r.assert_error("no_active_sessions");
        } else {
            r.assert_ok();
            assert_eq!(r.json["active_sessions"], serde_json::json!([]));
        }
        // The whole org's list is never an error.
        b.form("admin.users.session.list", ADMIN_TOKEN, &[("limit", "1")])
            .await
            .assert_ok();
    }
}
