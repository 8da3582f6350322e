//! `users.lookupByEmail`, `users.info` and `users.list`: Slack's full user object, and a walk of
//! a whole org in a few calls.

use std::collections::BTreeSet;

use slack_sessions_emulator::generate;
use slack_sessions_emulator::{Emulator, RateLimits};

use crate::bench::*;

#[tokio::test]
async fn lookup_by_email_returns_the_full_user_object() {
    let b = Bench::demo().await;
    let r = b
        .form(
            "users.lookupByEmail",
            ADMIN_TOKEN,
            &[("email", "grace.hopper@acme.example")],
        )
        .await;
    r.assert_ok();
    let u = &r.json["user"];
    assert_eq!(u["id"], ADMIN_ID);
    for field in ["real_name", "tz", "tz_label", "color"] {
        assert!(
            u[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field}: {u}"
        );
    }
    assert!(
        u["tz_offset"].is_i64() && u["updated"].as_u64().unwrap() > 0,
        "{u}"
    );
    for flag in [
        "is_app_user",
        "is_restricted",
        "is_ultra_restricted",
        "is_bot",
        "is_admin",
    ] {
        assert!(u[flag].is_boolean(), "{flag}: {u}");
    }
    let p = &u["profile"];
    for field in [
        "real_name",
        "display_name",
        "email",
        "avatar_hash",
        "image_72",
        "team",
    ] {
        assert!(
            p[field].as_str().is_some_and(|s| !s.is_empty()),
            "profile.{field}: {u}"
        );
    }
    let e = &u["enterprise_user"];
    assert_eq!(e["enterprise_id"], ORG_ID);
    assert!(!e["teams"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn users_info_shows_emails_only_with_their_scope() {
    let b = Bench::demo().await;
    let r = b
        .form("users.info", ADMIN_TOKEN, &[("user", "W0DEMO0005")])
        .await;
    r.assert_ok();
    assert!(r.json["user"]["profile"]["email"].is_string());
    // A token without users:read may not read users at all.
    let r = b
        .form("users.info", READ_ONLY_TOKEN, &[("user", "W0DEMO0005")])
        .await;
    r.assert_error("missing_scope");
    assert_eq!(r.json["needed"], "users:read");
    let r = b
        .form("users.info", ADMIN_TOKEN, &[("user", "W0GLBX0002")])
        .await;
    r.assert_error("user_not_found");
}

#[tokio::test]
async fn users_list_walks_an_org_in_pages() {
    let b = Bench::demo().await;
    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut calls = 0;
    loop {
        let mut args = vec![("team_id", ORG_ID), ("limit", "7")];
        if !cursor.is_empty() {
            args.push(("cursor", cursor.as_str()));
        }
        let r = b.form("users.list", ADMIN_TOKEN, &args).await;
        r.assert_ok();
        calls += 1;
        for m in r.json["members"].as_array().unwrap() {
            seen.push(m["id"].as_str().unwrap().to_owned());
        }
        cursor = r.json["response_metadata"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_owned();
        if cursor.is_empty() {
            break;
        }
    }
    let org: BTreeSet<String> = b.emu.export().orgs[0]
        .users
        .iter()
        .map(|u| u.id.clone())
        .collect();
    assert_eq!(seen.len(), org.len(), "each user once");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), org);
    assert_eq!(calls, org.len().div_ceil(7));

    // One workspace: only its members.
    let r = b
        .form(
            "users.list",
            ADMIN_TOKEN,
            &[("team_id", TEAMS[0]), ("limit", "1000")],
        )
        .await;
    let members = r.json["members"].as_array().unwrap();
    assert!(!members.is_empty() && members.len() < org.len());
    for m in members {
        let teams = m["enterprise_user"]["teams"].as_array().unwrap();
        assert!(teams.iter().any(|t| t == TEAMS[0]), "{m}");
    }
    // An org-wide token must name a workspace (Slack's docs); another org's is refused.
    b.form("users.list", ADMIN_TOKEN, &[])
        .await
        .assert_error("missing_argument");
    b.form("users.list", ADMIN_TOKEN, &[("team_id", "T0GLBXHQ01")])
        .await
        .assert_error("invalid_arguments");
    // A cursor of one workspace is not a cursor of another.
    let r = b
        .form(
            "users.list",
            ADMIN_TOKEN,
            &[("team_id", ORG_ID), ("limit", "2")],
        )
        .await;
    let c = r.json["response_metadata"]["next_cursor"].as_str().unwrap();
    b.form(
        "users.list",
        ADMIN_TOKEN,
        &[("team_id", TEAMS[0]), ("cursor", c)],
    )
    .await
    .assert_error("invalid_cursor");
}

#[tokio::test]
async fn users_list_without_a_limit_on_a_large_org_needs_one() {
    let emu = Emulator::builder()
        .generate(1_500, 10)
        .rate_limits(RateLimits::Off)
        .start()
        .await
        .unwrap();
    let b = Bench {
        emu,
        http: reqwest::Client::new(),
    };
    b.form(
        "users.list",
        generate::ADMIN_TOKEN,
        &[("team_id", generate::TEAM_ID)],
    )
    .await
    .assert_error("limit_required");
    let r = b
        .form(
            "users.list",
            generate::ADMIN_TOKEN,
            &[("team_id", generate::TEAM_ID), ("limit", "5000")],
        )
        .await;
    assert_eq!(
        r.json["members"].as_array().unwrap().len(),
        1000,
        "a larger limit is served as 1,000"
    );
}
