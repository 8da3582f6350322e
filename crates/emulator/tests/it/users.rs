//! `users.lookupByEmail`, `users.info` and `users.list`: Slack's full user object, and a walk of
//! a whole org in a few calls.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use slack_sessions_emulator::generate;
use slack_sessions_emulator::{Emulator, RateLimits, Seed};

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
    // Every user of the seed, and Slackbot.
    let org: BTreeSet<String> = b.emu.export().orgs[0]
        .users
        .iter()
        .map(|u| u.id.clone())
        .chain(["USLACKBOT".to_owned()])
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
    for m in members.iter().filter(|m| m["id"] != "USLACKBOT") {
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

/// A small Grid org for the user-object cases: two apps, a bot, and names and time zones
/// chosen for what they test.
async fn people() -> Bench {
    let seed = Seed::from_json(json!({"orgs": [{
        "id": "E0PEOPLE01", "name": "People", "teams": [{"id": "T0PEOPLE01"}],
        "users": [
            {"id": "W0P0001", "name": "ada", "role": "admin", "teams": ["T0PEOPLE01"],
             "tz": "Asia/Kolkata", "has_2fa": true},
            {"id": "W0P0002", "name": "jose", "teams": ["T0PEOPLE01"],
             "real_name": "José Ñúñez 山田", "display_name": "Zoë 😀 Петров",
             "tz": "America/New_York"},
            {"id": "W0P0003", "name": "omar", "teams": ["T0PEOPLE01"], "tz": "Europe/Berlin"},
            {"id": "W0PBOT1", "name": "helper", "is_bot": true, "teams": ["T0PEOPLE01"]}
        ],
        "tokens": [
            {"token": "xoxp-people-a", "user_id": "W0P0001", "app_id": "A0APPA",
             "scopes": ["users:read", "users:read.email"]},
            {"token": "xoxp-people-b", "user_id": "W0P0002", "app_id": "A0APPB",
             "scopes": ["users:read"]},
            {"token": "xoxp-people-b-revoked", "user_id": "W0P0003", "app_id": "A0APPB",
             "scopes": ["users:read"], "state": "revoked"},
            {"token": "xoxb-people-helper", "user_id": "W0PBOT1", "app_id": "A0APPB",
             "scopes": ["users:read"]}
        ]
    }]}))
    .unwrap();
    Bench::with_seed(seed).await
}

fn info<'a>(members: &'a Value, id: &str) -> &'a Value {
    members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| {
            let ids: Vec<&Value> = members
                .as_array()
                .unwrap()
                .iter()
                .map(|m| &m["id"])
                .collect();
            panic!("{id} not in {ids:?}")
        })
}

#[tokio::test]
async fn a_deactivated_user_is_not_found_by_email() {
    // Slack's users.lookupByEmail page: "If the user has been deactivated, users_not_found will
    // be returned instead."
    let b = Bench::demo().await;
    let deactivated = &b.emu.export().orgs[0].users[47];
    assert!(deactivated.deleted && deactivated.id == "W0DEMO0048");
    let email = deactivated.email.clone().unwrap();
    b.form("users.lookupByEmail", ADMIN_TOKEN, &[("email", &email)])
        .await
        .assert_error("users_not_found");
    // users.info still shows them, deleted.
    let r = b
        .form("users.info", ADMIN_TOKEN, &[("user", "W0DEMO0048")])
        .await;
    r.assert_ok();
    assert_eq!(r.json["user"]["deleted"], true);
}

#[tokio::test]
async fn has_2fa_is_shown_to_admins_only() {
    let b = Bench::demo().await;
    let r = b
        .form("users.info", ADMIN_TOKEN, &[("user", ADMIN_ID)])
        .await;
    assert_eq!(r.json["user"]["has_2fa"], true, "{}", r.json);
    let r = b
        .form("users.info", ADMIN_TOKEN, &[("user", "W0DEMO0005")])
        .await;
    assert_eq!(r.json["user"]["has_2fa"], false, "{}", r.json);
    // A member's token does not see it.
    let r = b
        .form("users.info", MEMBER_TOKEN, &[("user", ADMIN_ID)])
        .await;
    r.assert_ok();
    assert!(r.json["user"].get("has_2fa").is_none(), "{}", r.json);
}

#[tokio::test]
async fn time_zones_come_from_the_iana_database_with_daylight_saving() {
    let b = people().await;
    let r = b
        .form(
            "users.list",
            "xoxp-people-a",
            &[("team_id", "T0PEOPLE01"), ("limit", "100")],
        )
        .await;
    r.assert_ok();
    let members = &r.json["members"];
    // India keeps +05:30 all year.
    let kolkata = info(members, "W0P0001");
    assert_eq!(kolkata["tz"], "Asia/Kolkata");
    assert_eq!(kolkata["tz_offset"], 19_800);
    assert_eq!(kolkata["tz_label"], "India Standard Time");
    // New York and Berlin: the offset of the moment, and a label that says which.
    let now = jiff::Timestamp::now();
    for (id, zone, labels) in [
        (
            "W0P0002",
            "America/New_York",
            [
                (-18_000, "Eastern Standard Time"),
                (-14_400, "Eastern Daylight Time"),
            ],
        ),
        (
            "W0P0003",
            "Europe/Berlin",
            [
                (3_600, "Central European Time"),
                (7_200, "Central European Summer Time"),
            ],
        ),
    ] {
        let u = info(members, id);
        let expected = jiff::tz::TimeZone::get(zone)
            .unwrap()
            .to_offset(now)
            .seconds();
        assert_eq!(u["tz_offset"], expected, "{u}");
        let label = labels.iter().find(|(o, _)| *o == expected).unwrap().1;
        assert_eq!(u["tz_label"], label, "{u}");
    }
    // An unknown zone is refused in a seed, naming the entry.
    let e = Seed::from_json(json!({"orgs": [{"id": "E1", "users": [
        {"id": "W1", "tz": "Europe/Paris"}, {"id": "W2", "tz": "Europe/Atlantis"}]}]}))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("orgs[0].users[1].tz") && e.contains("Europe/Atlantis"),
        "{e}"
    );
}

#[tokio::test]
async fn normalized_names_filter_out_non_latin_characters() {
    let b = people().await;
    let r = b
        .form("users.info", "xoxp-people-a", &[("user", "W0P0002")])
        .await;
    let p = &r.json["user"]["profile"];
    assert_eq!(p["real_name"], "José Ñúñez 山田");
    assert_eq!(p["real_name_normalized"], "Jose Nunez");
    assert_eq!(p["display_name"], "Zoë 😀 Петров");
    assert_eq!(p["display_name_normalized"], "Zoe");
}

#[tokio::test]
async fn slackbot_is_a_user_of_every_org() {
    let b = Bench::demo().await;
    for (token, team) in [
        (ADMIN_TOKEN, ORG_ID),
        (ADMIN_TOKEN, TEAMS[1]),
        (OTHER_ORG_ADMIN_TOKEN, "T0GLBXHQ01"),
        (STANDALONE_ADMIN_TOKEN, "T0DEMOSOLO"),
    ] {
        let r = b
            .form("users.list", token, &[("team_id", team), ("limit", "1000")])
            .await;
        r.assert_ok();
        let bot = info(&r.json["members"], "USLACKBOT");
        assert_eq!(bot["name"], "slackbot");
        assert_eq!(bot["is_bot"], false, "Slackbot is not a bot user: {bot}");
        assert_eq!(bot["deleted"], false);
        assert_eq!(bot["profile"]["always_active"], true);
        let r = b.form("users.info", token, &[("user", "USLACKBOT")]).await;
        r.assert_ok();
        assert_eq!(r.json["user"]["id"], "USLACKBOT");
    }
    // In id order, once, whatever the page size (here after the users, one per page).
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let mut args = vec![("limit", "1")];
        if !cursor.is_empty() {
            args.push(("cursor", cursor.as_str()));
        }
        let r = b.form("users.list", STANDALONE_ADMIN_TOKEN, &args).await;
        let members = r.json["members"].as_array().unwrap();
        assert_eq!(members.len(), 1, "{}", r.json);
        seen.push(members[0]["id"].as_str().unwrap().to_owned());
        cursor = r.json["response_metadata"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_owned();
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ["U0INIT0001", "U0INIT0002", "USLACKBOT"]);
}

#[tokio::test]
async fn is_app_user_marks_the_users_who_authorized_the_calling_app() {
    let b = people().await;
    for (token, app_users) in [
        ("xoxp-people-a", ["W0P0001"].as_slice()),
        // A revoked token's user has not authorized the app any more; the bot is not a user.
        ("xoxp-people-b", ["W0P0002"].as_slice()),
        ("xoxb-people-helper", ["W0P0002"].as_slice()),
    ] {
        let r = b
            .form(
                "users.list",
                token,
                &[("team_id", "T0PEOPLE01"), ("limit", "100")],
            )
            .await;
        r.assert_ok();
        let marked: Vec<&str> = r.json["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["is_app_user"] == true)
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert_eq!(marked, app_users, "{token}");
    }
}

#[tokio::test]
async fn a_bot_users_profile_names_its_bot_and_its_app() {
    let b = Bench::demo().await;
    let r = b.form("users.info", ADMIN_TOKEN, &[("user", BOT_ID)]).await;
    let u = &r.json["user"];
    assert_eq!(u["is_bot"], true);
    let who = b.form("auth.test", BOT_TOKEN, &[]).await;
    assert_eq!(u["profile"]["bot_id"], who.json["bot_id"], "{u}");
    assert_eq!(u["profile"]["api_app_id"], format!("A{ORG_ID}"));
    assert_eq!(u["profile"]["always_active"], false);
    // The bot of another app names that app.
    let b = people().await;
    let r = b
        .form("users.info", "xoxp-people-a", &[("user", "W0PBOT1")])
        .await;
    assert_eq!(r.json["user"]["profile"]["api_app_id"], "A0APPB");
    // People have none of these.
    let r = b
        .form("users.info", "xoxp-people-a", &[("user", "W0P0001")])
        .await;
    let p = &r.json["user"]["profile"];
    assert!(
        p.get("bot_id").is_none() && p.get("api_app_id").is_none(),
        "{p}"
    );
}

#[tokio::test]
async fn a_workspace_token_ignores_a_foreign_team_id() {
    // Slack's docs: team_id is "required if org token is used"; a workspace's token lists its
    // workspace whatever team_id says.
    let b = Bench::demo().await;
    let r = b
        .form(
            "users.list",
            STANDALONE_ADMIN_TOKEN,
            &[("team_id", "T0GLBXHQ01"), ("limit", "100")],
        )
        .await;
    r.assert_ok();
    let ids: BTreeSet<&str> = r.json["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from(["U0INIT0001", "U0INIT0002", "USLACKBOT"])
    );
}

#[tokio::test]
async fn auth_test_is_budgeted_as_slacks_special_tier() {
    // "This method allows hundreds of requests per minute" (auth.test's page): more than tier
    // 4's 100, with Slack's own one-minute window.
    let emu = Emulator::builder()
        .seed(Seed::demo())
        .rate_limits(RateLimits::Slack)
        .start()
        .await
        .unwrap();
    let b = Bench {
        emu,
        http: reqwest::Client::new(),
    };
    let started = std::time::Instant::now();
    let mut passed = 0;
    let last = loop {
        let r = b.form("auth.test", ADMIN_TOKEN, &[]).await;
        if !r.ok() || passed == 1_000 {
            break r;
        }
        passed += 1;
    };
    // The bucket refills at 10 calls a second meanwhile.
    let refilled = (started.elapsed().as_secs_f64() * 10.0).ceil() as usize;
    assert!((600..=600 + refilled).contains(&passed), "{passed} passed");
    assert_eq!(last.status, 429);
}

#[tokio::test]
async fn guests_can_be_seeded() {
    let b = Bench::demo().await;
    for (id, restricted, ultra) in [
        ("W0DEMO0046", true, false),
        ("W0DEMO0047", true, true),
        ("W0DEMO0045", false, false),
    ] {
        let r = b.form("users.info", ADMIN_TOKEN, &[("user", id)]).await;
        let u = &r.json["user"];
        assert_eq!(u["is_restricted"], restricted, "{u}");
        assert_eq!(u["is_ultra_restricted"], ultra, "{u}");
        assert_eq!(u["is_admin"], false);
    }
}
