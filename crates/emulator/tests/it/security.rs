//! Every method refuses every kind of bad token with the right code, and no org sees another.

use serde_json::json;
use slack_sessions_api::CATALOGUE;

use crate::bench::*;

const ADMIN_METHODS: [&str; 7] = [
    "admin.users.session.invalidate",
    "admin.users.session.reset",
    "admin.users.session.resetBulk",
    "admin.users.session.list",
    "admin.users.session.getSettings",
    "admin.users.session.setSettings",
    "admin.users.session.clearSettings",
];

#[tokio::test]
async fn every_method_refuses_bad_tokens() {
    let b = Bench::demo().await;
    for m in CATALOGUE.iter() {
        let no_token = b
            .send(b.http.post(b.url(m.name)).form(&[("user_id", "W1")]))
            .await;
        no_token.assert_error("not_authed");
        for (token, code) in [
            ("xoxp-not-a-token", "invalid_auth"),
            (REVOKED_TOKEN, "token_revoked"),
            (EXPIRED_TOKEN, "token_expired"),
            (DEACTIVATED_TOKEN, "account_inactive"),
        ] {
            let r = b.form(m.name, token, &[]).await;
            r.assert_error(code);
            assert_eq!(r.status, 200, "Slack answers errors with HTTP 200");
        }
    }
    for name in ADMIN_METHODS {
        b.form(name, BOT_TOKEN, &[])
            .await
            .assert_error("not_allowed_token_type");
        b.form(name, MEMBER_TOKEN, &[])
            .await
            .assert_error("not_an_admin");
        b.form(name, STANDALONE_ADMIN_TOKEN, &[])
            .await
            .assert_error("feature_not_enabled");
    }
    for name in [
        "admin.users.session.invalidate",
        "admin.users.session.reset",
        "admin.users.session.resetBulk",
        "admin.users.session.setSettings",
        "admin.users.session.clearSettings",
    ] {
        let r = b.form(name, READ_ONLY_TOKEN, &[]).await;
        r.assert_error("missing_scope");
        assert_eq!(r.json["needed"], "admin.users:write");
        assert_eq!(r.json["provided"], "admin.users:read");
    }
}

#[tokio::test]
async fn token_in_form_field_header_and_json_rules() {
    let b = Bench::demo().await;
    // The form field `token`.
    let r = b
        .send(
            b.http
                .post(b.url("auth.test"))
                .form(&[("token", ADMIN_TOKEN)]),
        )
        .await;
    r.assert_ok();
    // A JSON body's token attribute is not a credential: the header is required.
    let r = b
        .send(
            b.http
                .post(b.url("auth.test"))
                .json(&json!({"token": ADMIN_TOKEN})),
        )
        .await;
    r.assert_error("not_authed");
    // GET with a query string.
    let r = b
        .send(
            b.http
                .get(format!("{}?limit=1", b.url("admin.users.session.list")))
                .bearer_auth(ADMIN_TOKEN),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.json["active_sessions"].as_array().unwrap().len(), 1);
    // Headers like Slack's.
    assert_eq!(r.headers["x-accepted-oauth-scopes"], "admin.users:read");
    assert_eq!(
        r.headers["x-oauth-scopes"],
        "admin.users:read,admin.users:write,users:read,users:read.email,auditlogs:read"
    );
    assert!(r.headers.contains_key("x-slack-req-id"));
    // On every answer, errors and unknown methods included.
    for r in [
        b.form("admin.users.session.list", "xoxp-unknown", &[])
            .await,
        b.send(b.http.post(b.url("auth.test"))).await,
        b.form("no.such.method", ADMIN_TOKEN, &[]).await,
    ] {
        assert!(r.headers.contains_key("x-oauth-scopes"), "{:?}", r.json);
        assert!(
            r.headers.contains_key("x-accepted-oauth-scopes"),
            "{:?}",
            r.json
        );
    }
}

#[tokio::test]
async fn tenant_isolation() {
    let b = Bench::demo().await;
    let globex_user = "W0GLBX0003";
    let globex_session = b.sessions_of(globex_user)[0].to_string();
    for (user, expected) in [
        (globex_user, "user_not_found"),
        ("W0NOSUCH99", "user_not_found"),
    ] {
        b.form(
            "admin.users.session.reset",
            ADMIN_TOKEN,
            &[("user_id", user)],
        )
        .await
        .assert_error(expected);
        b.form(
            "admin.users.session.resetBulk",
            ADMIN_TOKEN,
            &[("user_ids", user)],
        )
        .await
        .assert_error(expected);
        for m in [
            "admin.users.session.getSettings",
            "admin.users.session.clearSettings",
        ] {
            b.form(m, ADMIN_TOKEN, &[("user_ids", user)])
                .await
                .assert_error(expected);
        }
        b.form(
            "admin.users.session.setSettings",
            ADMIN_TOKEN,
            &[("user_ids", user), ("duration", "28800")],
        )
        .await
        .assert_error(expected);
        b.form(
            "admin.users.session.invalidate",
            ADMIN_TOKEN,
            &[("user_id", user), ("session_id", &globex_session)],
        )
        .await
        .assert_error(expected);
        b.form(
            "admin.users.session.list",
            ADMIN_TOKEN,
            &[("user_id", user), ("team_id", TEAMS[0])],
        )
        .await
        .assert_error(expected);
    }
    b.form(
        "admin.users.session.invalidate",
        ADMIN_TOKEN,
        &[("team_id", TEAMS[0]), ("session_id", &globex_session)],
    )
    .await
    .assert_error("session_not_found");
    b.form(
        "admin.users.session.list",
        ADMIN_TOKEN,
        &[("user_id", "W0DEMO0005"), ("team_id", "T0GLBXHQ01")],
    )
    .await
    .assert_error("team_not_found");
    assert!(!b.sessions_of(globex_user).is_empty(), "Globex untouched");
    // And Acme's whole-org list holds no Globex session.
    let acme = b.all_session_ids(ADMIN_TOKEN, &[]).await;
    assert!(!acme.contains(&globex_session.parse().unwrap()));
    let globex = b.all_session_ids(OTHER_ORG_ADMIN_TOKEN, &[]).await;
    assert!(globex.iter().all(|id| !acme.contains(id)));
}
