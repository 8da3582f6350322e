//! Each method's success, its effect on the state, and its own errors.

use serde_json::json;
use slack_sessions_emulator::Seed;

use crate::bench::*;

const MEMBER: &str = "W0DEMO0005";

#[tokio::test]
async fn invalidate_by_user_and_by_team() {
    let b = Bench::demo().await;
    let before = b.sessions_of(MEMBER);
    assert!(before.len() >= 2);
    let id = before[0].to_string();
    b.form(
        "admin.users.session.invalidate",
        ADMIN_TOKEN,
        &[("session_id", &id), ("user_id", MEMBER)],
    )
    .await
    .assert_ok();
    assert!(!b.sessions_of(MEMBER).contains(&before[0]));
    // Gone: a second call finds nothing.
    b.form(
        "admin.users.session.invalidate",
        ADMIN_TOKEN,
        &[("session_id", &id), ("user_id", MEMBER)],
    )
    .await
    .assert_error("session_not_found");

    // The legacy form the official SDKs send: team_id instead of user_id.
    let id = before[1].to_string();
    b.form(
        "admin.users.session.invalidate",
        ADMIN_TOKEN,
        &[("session_id", &id), ("team_id", TEAMS[0])],
    )
    .await
    .assert_ok();
    assert_eq!(b.sessions_of(MEMBER), before[2..].to_vec());
}

#[tokio::test]
async fn invalidate_errors() {
    let b = Bench::demo().await;
    let mine = b.sessions_of(MEMBER)[0].to_string();
    let call = |args: Vec<(&'static str, String)>| {
        let b = &b;
        async move {
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            b.form("admin.users.session.invalidate", ADMIN_TOKEN, &args)
                .await
        }
    };
    call(vec![
        ("session_id", "abc".into()),
        ("user_id", MEMBER.into()),
    ])
    .await
    .assert_error("invalid_arguments");
    let r = call(vec![("session_id", mine.clone())]).await;
    r.assert_error("invalid_arguments");
    assert!(
        r.json["response_metadata"]["messages"][0]
            .as_str()
            .unwrap()
            .starts_with("[ERROR]")
    );
    call(vec![("user_id", MEMBER.into())])
        .await
        .assert_error("invalid_arguments");
    call(vec![
        ("session_id", mine.clone()),
        ("user_id", "W0NOSUCH99".into()),
    ])
    .await
    .assert_error("user_not_found");
    // Someone else's session under this user's id.
    let other = b.sessions_of(ADMIN_ID)[0].to_string();
    call(vec![("session_id", other), ("user_id", MEMBER.into())])
        .await
        .assert_error("session_not_found");
    call(vec![
        ("session_id", "99".into()),
        ("user_id", MEMBER.into()),
    ])
    .await
    .assert_error("session_not_found");
    // The primary owner's session: only the primary owner may end it.
    let po = b.sessions_of(PRIMARY_OWNER_ID)[0].to_string();
    call(vec![
        ("session_id", po.clone()),
        ("user_id", PRIMARY_OWNER_ID.into()),
    ])
    .await
    .assert_error("cannot_invalidate_primary_owner");
    b.form(
        "admin.users.session.invalidate",
        PRIMARY_OWNER_TOKEN,
        &[("session_id", &po), ("user_id", PRIMARY_OWNER_ID)],
    )
    .await
    .assert_ok();
}

fn clients_of(b: &Bench, user: &str) -> Vec<&'static str> {
    b.sessions_where(|s| s.user_id == user)
        .iter()
        .map(|s| s.client.as_str())
        .collect()
}

#[tokio::test]
async fn reset_mobile_web_and_all() {
    let b = Bench::demo().await;
    // Find a user with both mobile and non-mobile sessions.
    let user = (6..48)
        .map(|i| format!("W0DEMO{i:04}"))
        .find(|u| {
            let c = clients_of(&b, u);
            c.contains(&"mobile") && c.iter().any(|k| *k != "mobile")
        })
        .expect("demo has a user with mobile and web sessions");
    b.form(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        &[("user_id", &user), ("mobile_only", "1")],
    )
    .await
    .assert_ok();
    let left = clients_of(&b, &user);
    assert!(!left.is_empty() && !left.contains(&"mobile"), "{left:?}");
    b.form(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        &[("user_id", &user), ("web_only", "true")],
    )
    .await
    .assert_ok();
    assert!(clients_of(&b, &user).is_empty());

    // Neither flag: everything.
    assert!(!b.sessions_of(MEMBER).is_empty());
    b.json(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        json!({"user_id": MEMBER}),
    )
    .await
    .assert_ok();
    assert!(b.sessions_of(MEMBER).is_empty());
}

#[tokio::test]
async fn reset_errors() {
    let b = Bench::demo().await;
    let reset = |user: &'static str, token: &'static str| {
        let b = &b;
        async move {
            b.form("admin.users.session.reset", token, &[("user_id", user)])
                .await
        }
    };
    reset("W0NOSUCH99", ADMIN_TOKEN)
        .await
        .assert_error("user_not_found");
    reset(BOT_ID, ADMIN_TOKEN)
        .await
        .assert_error("cannot_reset_bot");
    reset(PRIMARY_OWNER_ID, ADMIN_TOKEN)
        .await
        .assert_error("cannot_reset_primary_owner");
    assert!(!b.sessions_of(PRIMARY_OWNER_ID).is_empty());
    reset(PRIMARY_OWNER_ID, PRIMARY_OWNER_TOKEN)
        .await
        .assert_ok();
    assert!(b.sessions_of(PRIMARY_OWNER_ID).is_empty());
    b.form(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        &[("user_id", MEMBER), ("mobile_only", "maybe")],
    )
    .await
    .assert_error("invalid_arguments");
    b.form("admin.users.session.reset", ADMIN_TOKEN, &[])
        .await
        .assert_error("invalid_arguments");
}

#[tokio::test]
async fn reset_bulk_is_queued_then_done() {
    let b = Bench::demo().await;
    let users = ["W0DEMO0012", "W0DEMO0013", "W0DEMO0014"];
    for u in users {
        assert!(!b.sessions_of(u).is_empty());
    }
    // Node's spelling: a JSON-array string in a form field.
    b.form(
        "admin.users.session.resetBulk",
        ADMIN_TOKEN,
        &[("user_ids", r#"["W0DEMO0012","W0DEMO0013","W0DEMO0014"]"#)],
    )
    .await
    .assert_ok();
    b.eventually("the bulk reset job", |b| {
        users.iter().all(|u| b.sessions_of(u).is_empty())
    })
    .await;
    assert!(!b.sessions_of(MEMBER).is_empty(), "others untouched");
}

#[tokio::test]
async fn reset_bulk_errors() {
    let b = Bench::demo().await;
    let bulk = |ids: String| {
        let b = &b;
        async move {
            b.form(
                "admin.users.session.resetBulk",
                ADMIN_TOKEN,
                &[("user_ids", &ids)],
            )
            .await
        }
    };
    bulk(String::new()).await.assert_error("invalid_arguments");
    let too_many: Vec<String> = (0..1001).map(|i| format!("W{i:09}")).collect();
    let r = bulk(too_many.join(",")).await;
    r.assert_error("invalid_arguments");
    assert!(
        r.json["response_metadata"]["messages"][0]
            .as_str()
            .unwrap()
            .contains("/user_ids")
    );
    bulk(format!("{MEMBER},W0NOSUCH99"))
        .await
        .assert_error("user_not_found");
    bulk(format!("{MEMBER},{BOT_ID}"))
        .await
        .assert_error("cannot_reset_bot");
    bulk(format!("{MEMBER},{PRIMARY_OWNER_ID}"))
        .await
        .assert_error("cannot_reset_primary_owner");
    // A refused call changes nothing, even for the valid users in it.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(!b.sessions_of(MEMBER).is_empty());
}

#[tokio::test]
async fn settings_round_trip() {
    let b = Bench::demo().await;
    let users = "W0DEMO0030,W0DEMO0031";
    let r = b
        .form(
            "admin.users.session.getSettings",
            ADMIN_TOKEN,
            &[("user_ids", users)],
        )
        .await;
    r.assert_ok();
    assert_eq!(r.json["session_settings"], json!([]));
    assert_eq!(
        r.json["no_settings_applied"],
        json!(["W0DEMO0030", "W0DEMO0031"])
    );

    b.form(
        "admin.users.session.setSettings",
        ADMIN_TOKEN,
        &[("user_ids", users), ("duration", "28800")],
    )
    .await
    .assert_ok();
    // Only the other setting: the first is kept.
    b.form(
        "admin.users.session.setSettings",
        ADMIN_TOKEN,
        &[
            ("user_ids", "['W0DEMO0030']"),
            ("desktop_app_browser_quit", "1"),
        ],
    )
    .await
    .assert_ok();
    let r = b
        .json(
            "admin.users.session.getSettings",
            ADMIN_TOKEN,
            json!({"user_ids": ["W0DEMO0030", "W0DEMO0031"]}),
        )
        .await;
    r.assert_ok();
    assert_eq!(
        r.json["session_settings"],
        json!([
            {"user_id": "W0DEMO0030", "desktop_app_browser_quit": true, "duration": 28800},
            {"user_id": "W0DEMO0031", "desktop_app_browser_quit": null, "duration": 28800}
        ])
    );
    assert_eq!(r.json["no_settings_applied"], json!([]));

    b.form(
        "admin.users.session.clearSettings",
        ADMIN_TOKEN,
        &[("user_ids", "W0DEMO0030")],
    )
    .await
    .assert_ok();
    let r = b
        .form(
            "admin.users.session.getSettings",
            ADMIN_TOKEN,
            &[("user_ids", users)],
        )
        .await;
    assert_eq!(r.json["no_settings_applied"], json!(["W0DEMO0030"]));
    assert_eq!(r.json["session_settings"][0]["user_id"], "W0DEMO0031");
}

#[tokio::test]
async fn settings_errors() {
    let b = Bench::demo().await;
    let set = |args: &'static [(&'static str, &'static str)]| {
        let b = &b;
        async move {
            b.form("admin.users.session.setSettings", ADMIN_TOKEN, args)
                .await
        }
    };
    set(&[("user_ids", "W0DEMO0030")])
        .await
        .assert_error("at_least_one_session_setting_required");
    set(&[("user_ids", "W0DEMO0030"), ("duration", "179")])
        .await
        .assert_error("invalid_arguments");
    set(&[("user_ids", "W0DEMO0030"), ("duration", "315569521")])
        .await
        .assert_error("invalid_arguments");
    set(&[("user_ids", "W0DEMO0030"), ("duration", "8h")])
        .await
        .assert_error("invalid_arguments");
    set(&[("user_ids", "W0DEMO0030"), ("duration", "315569520")])
        .await
        .assert_ok();
    set(&[("user_ids", ""), ("duration", "28800")])
        .await
        .assert_error("invalid_arguments");
    set(&[("user_ids", "W0NOSUCH99"), ("duration", "28800")])
        .await
        .assert_error("user_not_found");
    set(&[("user_ids", "W0DEMOBOT1"), ("duration", "28800")])
        .await
        .assert_error("bots_not_allowed");
    for method in [
        "admin.users.session.getSettings",
        "admin.users.session.clearSettings",
    ] {
        b.form(method, ADMIN_TOKEN, &[("user_ids", "W0NOSUCH99")])
            .await
            .assert_error("user_not_found");
        b.form(method, ADMIN_TOKEN, &[("user_ids", BOT_ID)])
            .await
            .assert_error("bots_not_allowed");
        b.form(method, ADMIN_TOKEN, &[])
            .await
            .assert_error("invalid_arguments");
    }
}

#[tokio::test]
async fn auth_test_and_lookup_by_email() {
    let b = Bench::demo().await;
    let r = b.form("auth.test", ADMIN_TOKEN, &[]).await;
    r.assert_ok();
    assert_eq!(r.json["user_id"], ADMIN_ID);
    assert_eq!(r.json["team_id"], ORG_ID);
    assert_eq!(r.json["enterprise_id"], ORG_ID);
    assert_eq!(r.json["is_enterprise_install"], true);
    // auth.test answers any valid token, bots included.
    let r = b.form("auth.test", BOT_TOKEN, &[]).await;
    r.assert_ok();
    assert!(r.json["bot_id"].is_string());

    let r = b
        .form(
            "users.lookupByEmail",
            ADMIN_TOKEN,
            &[("email", "Dennis.Ritchie@acme.example")],
        )
        .await;
    r.assert_ok();
    assert_eq!(r.json["user"]["id"], MEMBER);
    assert_eq!(
        r.json["user"]["profile"]["email"],
        "dennis.ritchie@acme.example"
    );
    b.form(
        "users.lookupByEmail",
        ADMIN_TOKEN,
        &[("email", "nobody@acme.example")],
    )
    .await
    .assert_error("users_not_found");
    // Another org's user is not found either.
    b.form(
        "users.lookupByEmail",
        ADMIN_TOKEN,
        &[("email", "homer.simpson@globex.example")],
    )
    .await
    .assert_error("users_not_found");
    b.form("users.lookupByEmail", READ_ONLY_TOKEN, &[("email", "x@y")])
        .await
        .assert_error("missing_scope");
}

#[tokio::test]
async fn control_plane_login_and_reset() {
    let b = Bench::demo().await;
    let r = b
        .send(b.http.post(format!("{}/_emulator/sessions", b.emu.url())).json(&json!({
            "user_id": MEMBER, "team_id": TEAMS[0], "client": "mobile", "os": "iOS", "ip": "198.51.100.4"
        })))
        .await;
    r.assert_ok();
    let id = r.json["session_id"].as_u64().unwrap();
    let listed = b
        .form(
            "admin.users.session.list",
            ADMIN_TOKEN,
            &[("team_id", TEAMS[0]), ("user_id", MEMBER)],
        )
        .await;
    let found = listed.json["active_sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == id)
        .cloned();
    let found = found.expect("the new session is listed");
    assert_eq!(found["created"], json!({"os": "iOS", "ip": "198.51.100.4"}));
    assert!(
        found.get("recent").is_none(),
        "unchanged sessions have no recent"
    );

    b.form(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        &[("user_id", MEMBER)],
    )
    .await
    .assert_ok();
    assert!(b.sessions_of(MEMBER).is_empty());
    b.send(b.http.post(format!("{}/_emulator/reset", b.emu.url())))
        .await
        .assert_ok();
    assert!(!b.sessions_of(MEMBER).is_empty(), "the seed is back");
    assert!(
        !b.sessions_of(MEMBER).contains(&id),
        "the simulated login was not in the seed"
    );

    let r = b
        .send(
            b.http
                .post(format!("{}/_emulator/sessions", b.emu.url()))
                .json(&json!({
                    "user_id": MEMBER, "team_id": "T0GLBXHQ01"
                })),
        )
        .await;
    assert_eq!(r.error(), "team_not_found");
}

/// A stored session always has a definite kind: `unknown` (a kind the api crate can conclude of a
/// device record) is refused as a session's client wherever one is given, as an unknown name is.
#[tokio::test]
async fn a_session_on_an_unknown_client_is_refused() {
    use rand::SeedableRng;
    use slack_sessions_emulator::seed::{ClientKind, IndefiniteClient};

    let b = Bench::demo().await;
    let before = b.emu.export();

    // The control plane: `unknown` is answered as `tablet` is.
    for client in ["unknown", "tablet"] {
        let r = b
            .send(
                b.http
                    .post(format!("{}/_emulator/sessions", b.emu.url()))
                    .json(&json!({
                        "user_id": MEMBER, "team_id": TEAMS[0], "client": client
                    })),
            )
            .await;
        assert_eq!(r.status, 400, "{client}: {}", r.json);
        r.assert_error("invalid_client");
        assert_eq!(r.json["detail"], "client must be web, desktop or mobile");
    }
    // Its Rust form too.
    let mut session = before.orgs[0].sessions[0].clone();
    session.session_id = 0;
    session.client = ClientKind::Unknown;
    let e = b.emu.add_session(session).unwrap_err();
    assert_eq!(
        (e.code, e.detail.as_str()),
        ("invalid_client", "client must be web, desktop or mobile")
    );

    // A seed, as JSON (`PUT /_emulator/state`, `--seed`) and as Rust (an import).
    let mut state = serde_json::to_value(&before).unwrap();
    state["orgs"][0]["sessions"][3]["client"] = json!("unknown");
    let r = b
        .send(
            b.http
                .put(format!("{}/_emulator/state", b.emu.url()))
                .json(&state),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.json);
    r.assert_error("invalid_state");
    let detail = r.json["detail"].as_str().unwrap();
    assert!(
        detail.contains("orgs[0].sessions[3].client")
            && detail
                .contains("unknown variant `unknown`, expected one of `web`, `desktop`, `mobile`"),
        "{detail}"
    );
    assert!(Seed::from_json(state).is_err());
    let mut seed = before.clone();
    seed.orgs[0].sessions[3].client = ClientKind::Unknown;
    let e = b.emu.import(&seed).unwrap_err().to_string();
    assert!(
        e.contains("orgs[0].sessions[3].client")
            && e.contains("client must be web, desktop or mobile"),
        "{e}"
    );

    // The generators.
    let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
    let e: IndefiniteClient = device(&mut rng, ClientKind::Unknown).unwrap_err();
    assert_eq!(e.to_string(), "client must be web, desktop or mobile");
    assert!(device(&mut rng, ClientKind::Desktop).is_ok());

    assert_eq!(b.emu.export(), before, "nothing was changed");
}

/// `invalidate`'s legacy `team_id` names the session's workspace: the org id works too, any
/// other workspace does not have the session.
#[tokio::test]
async fn invalidate_with_a_team_finds_the_session_only_there() {
    let b = Bench::demo().await;
    let session = b
        .sessions_where(|s| s.user_id == "W0DEMO0005" && s.team_id != ORG_ID)
        .into_iter()
        .next()
        .expect("a session on a workspace");
    let id = session.session_id.to_string();
    let elsewhere = TEAMS.iter().find(|t| **t != session.team_id).unwrap();
    b.form(
        "admin.users.session.invalidate",
        ADMIN_TOKEN,
        &[("session_id", &id), ("team_id", elsewhere)],
    )
    .await
    .assert_error("session_not_found");
    b.form(
        "admin.users.session.invalidate",
        ADMIN_TOKEN,
        &[("session_id", &id), ("team_id", ORG_ID)],
    )
    .await
    .assert_ok();
}
