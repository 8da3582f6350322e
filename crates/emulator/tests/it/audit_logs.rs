//! Slack's Audit Logs API (`/audit/v1/`): every row of the endpoint's contract, every source
//! of entries, the org-wide rate limit, cursors, durability.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use slack_sessions_emulator::seed::{SessionSeed, TokenSeed};
use slack_sessions_emulator::{Emulator, RateLimits, Seed};

use crate::bench::*;

/// An Acme owner token of another app, with `auditlogs:read`.
const OWNER_APP2: &str = "xoxp-test-audit-owner";
/// Globex's primary owner, with `auditlogs:read`.
const GLOBEX_OWNER: &str = "xoxp-test-globex-owner";
/// An Acme *admin* (not an owner) with `auditlogs:read`.
const ADMIN_WITH_SCOPE: &str = "xoxp-test-admin-scoped";

fn token(token: &str, user: &str, app: Option<&str>) -> TokenSeed {
    TokenSeed {
        token: token.into(),
        user_id: user.into(),
        scopes: vec!["auditlogs:read".into()],
        app_id: app.map(str::to_owned),
        ..TokenSeed::default()
    }
}

/// The demo seed with the tokens above.
fn seed() -> Seed {
    let mut seed = Seed::demo();
    seed.orgs[0]
        .tokens
        .push(token(OWNER_APP2, PRIMARY_OWNER_ID, Some("A0AUDITTOOL")));
    seed.orgs[0]
        .tokens
        .push(token(ADMIN_WITH_SCOPE, "W0DEMO0003", None));
    seed.orgs[1]
        .tokens
        .push(token(GLOBEX_OWNER, "W0GLBX0001", None));
    seed
}

async fn bench() -> Bench {
    Bench::with_seed(seed()).await
}

/// `GET /audit/v1/{path}` with a bearer token (none for `None`) and a query.
async fn get(b: &Bench, path: &str, token: Option<&str>, query: &[(&str, &str)]) -> Reply {
    let mut req = b
        .http
        .get(format!("{}{path}", b.emu.audit_url()))
        .query(query);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    b.send(req).await
}

async fn logs(b: &Bench, token: &str, query: &[(&str, &str)]) -> Reply {
    get(b, "logs", Some(token), query).await
}

fn entries(r: &Reply) -> &Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["entries"].as_array().expect("entries")
}

fn next_cursor(r: &Reply) -> &str {
    r.json["response_metadata"]["next_cursor"]
        .as_str()
        .expect("next_cursor")
}

/// Every entry of a filter, page by page.
async fn walk(b: &Bench, token: &str, query: &[(&str, &str)], limit: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10_000 {
        let mut q = query.to_vec();
        q.push(("limit", limit));
        if !cursor.is_empty() {
            q.push(("cursor", &cursor));
        }
        let r = logs(b, token, &q).await;
        out.extend(entries(&r).iter().cloned());
        cursor = next_cursor(&r).to_owned();
        if cursor.is_empty() {
            return out;
        }
    }
    panic!("the walk never ended");
}

#[track_caller]
fn assert_failure(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.json);
    assert_eq!(r.json, json!({"ok": false, "error": code}));
}

#[tokio::test]
async fn schemas_and_actions_need_no_token_and_are_slacks() {
    let b = bench().await;
    let actions = get(&b, "actions", None, &[]).await;
    assert_eq!(actions.status, 200);
    assert!(actions.json.get("ok").is_none(), "Slack's answer has no ok");
    let user: Vec<&str> = actions.json["actions"]["user"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in [
        "user_login",
        "user_login_failed",
        "user_logout",
        "user_session_invalidated",
    ] {
        assert!(user.contains(&name), "{name}");
    }
    assert!(
        actions.json["actions"]["anomaly"]
            .as_array()
            .unwrap()
            .contains(&json!("anomaly"))
    );
    let schemas = get(&b, "schemas", None, &[]).await;
    assert_eq!(schemas.status, 200);
    assert!(
        schemas.json["schemas"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["type"] == "user" && s["user"]["email"] == "string")
    );
    // A token is no matter to them.
    assert_eq!(
        get(&b, "schemas", Some("xoxp-nobody"), &[]).await.status,
        200
    );
}

#[tokio::test]
async fn only_an_org_owners_token_with_the_scope_reads_logs() {
    let b = bench().await;
    assert_failure(
        &get(&b, "logs", None, &[]).await,
        401,
        "missing_authentication",
    );
    let basic = b
        .send(
            b.http
                .get(format!("{}logs", b.emu.audit_url()))
                .header("authorization", "Basic eG94cDp4"),
        )
        .await;
    assert_failure(&basic, 401, "missing_authentication");
    // The token as a query field is not a credential here.
    assert_failure(
        &get(&b, "logs", None, &[("token", ADMIN_TOKEN)]).await,
        401,
        "missing_authentication",
    );
    for token in [
        "xoxp-no-such-token",
        REVOKED_TOKEN,
        EXPIRED_TOKEN,
        DEACTIVATED_TOKEN,
        BOT_TOKEN,
        MEMBER_TOKEN,
        READ_ONLY_TOKEN,     // an admin without the scope
        ADMIN_WITH_SCOPE,    // an admin with the scope: not an owner
        PRIMARY_OWNER_TOKEN, // an owner without the scope
    ] {
        assert_failure(&logs(&b, token, &[]).await, 401, "invalid_authentication");
    }
    assert_failure(
        &logs(&b, STANDALONE_ADMIN_TOKEN, &[]).await,
        403,
        "feature_not_enabled",
    );
    let r = logs(&b, ADMIN_TOKEN, &[]).await;
    assert!(!entries(&r).is_empty());
    assert!(r.json.get("ok").is_none(), "a success carries no ok");
    assert_eq!(logs(&b, OWNER_APP2, &[]).await.status, 200);
}

#[tokio::test]
async fn entries_are_newest_first_and_filters_combine_with_and() {
    let b = bench().await;
    let all = walk(&b, ADMIN_TOKEN, &[], "9999").await;
    assert!(all.len() > 300, "{}", all.len());
    let dates: Vec<u64> = all
        .iter()
        .map(|e| e["date_create"].as_u64().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");
    for e in &all {
        for key in ["id", "date_create", "action", "actor", "entity", "context"] {
            assert!(e.get(key).is_some(), "{key} in {e}");
        }
        assert!(e["context"]["location"]["id"].is_string(), "{e}");
    }
    let ids: HashSet<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), all.len(), "ids are unique");

    let logins = walk(&b, ADMIN_TOKEN, &[("action", "user_login")], "50").await;
    assert!(logins.iter().all(|e| e["action"] == "user_login"));
    assert_eq!(
        logins.len(),
        all.iter().filter(|e| e["action"] == "user_login").count()
    );

    let two = walk(
        &b,
        ADMIN_TOKEN,
        &[("action", "user_logout,user_login_failed")],
        "7",
    )
    .await;
    let want: Vec<&Value> = all
        .iter()
        .filter(|e| e["action"] == "user_logout" || e["action"] == "user_login_failed")
        .collect();
    assert_eq!(
        two.iter().collect::<Vec<_>>(),
        want,
        "merged in order, every one once"
    );
    assert!(two.iter().any(|e| e["action"] == "user_login_failed"));

    let user = "W0DEMO0005";
    let by_actor = walk(&b, ADMIN_TOKEN, &[("actor", user)], "3").await;
    assert!(!by_actor.is_empty());
    assert!(by_actor.iter().all(|e| e["actor"]["user"]["id"] == user));
    let by_entity = walk(&b, ADMIN_TOKEN, &[("entity", ADMIN_ID)], "3").await;
    assert!(
        by_entity
            .iter()
            .all(|e| e["entity"]["user"]["id"] == ADMIN_ID)
    );
    let org = walk(&b, ADMIN_TOKEN, &[("entity", ORG_ID)], "3").await;
    assert!(
        org.iter()
            .any(|e| e["action"] == "bulk_session_reset_by_admin")
    );
    let both = walk(
        &b,
        ADMIN_TOKEN,
        &[
            ("actor", ADMIN_ID),
            (
                "action",
                "user_session_reset_by_admin,user_session_invalidated",
            ),
        ],
        "2",
    )
    .await;
    assert!(both.len() >= 2);
    assert!(both.iter().all(|e| e["actor"]["user"]["id"] == ADMIN_ID
        && (e["action"] == "user_session_reset_by_admin"
            || e["action"] == "user_session_invalidated")));

    // latest and oldest are inclusive.
    let mid = dates[dates.len() / 2];
    let (lo, hi) = (mid - 86_400, mid);
    let (los, his) = (lo.to_string(), hi.to_string());
    let ranged = walk(&b, ADMIN_TOKEN, &[("oldest", &los), ("latest", &his)], "10").await;
    let want = dates.iter().filter(|d| (lo..=hi).contains(*d)).count();
    assert_eq!(ranged.len(), want);
    assert!(ranged.iter().any(|e| e["date_create"] == hi));
}

#[tokio::test]
async fn limits_and_cursors_walk_every_entry_once() {
    let b = bench().await;
    let all = walk(&b, ADMIN_TOKEN, &[], "9999").await;
    let paged = walk(&b, ADMIN_TOKEN, &[], "7").await;
    assert_eq!(paged, all);
    let first = logs(&b, ADMIN_TOKEN, &[("limit", "7")]).await;
    assert_eq!(entries(&first).len(), 7);
    assert!(!next_cursor(&first).is_empty());
    // Without limit: a page of 100.
    assert_eq!(entries(&logs(&b, ADMIN_TOKEN, &[]).await).len(), 100);
    for bad in ["0", "10000", "-1", "x"] {
        assert_failure(
            &logs(&b, ADMIN_TOKEN, &[("limit", bad)]).await,
            400,
            "invalid_arguments",
        );
    }
}

#[tokio::test]
async fn a_cursor_is_bound_to_its_org_and_filter() {
    let b = bench().await;
    let page = logs(&b, ADMIN_TOKEN, &[("limit", "2"), ("action", "user_login")]).await;
    let cursor = next_cursor(&page).to_owned();
    // The same filter and org, another token and page size: fine.
    let again = logs(
        &b,
        OWNER_APP2,
        &[
            ("limit", "5"),
            ("action", "user_login"),
            ("cursor", &cursor),
        ],
    )
    .await;
    assert_eq!(entries(&again).len(), 5);
    for query in [
        vec![("cursor", cursor.as_str())],
        vec![("action", "user_logout"), ("cursor", &cursor)],
        vec![
            ("action", "user_login"),
            ("actor", ADMIN_ID),
            ("cursor", &cursor),
        ],
        vec![("action", "user_login"), ("cursor", "YXVkaXRfbG9nOjE6MQ==")],
        vec![("action", "user_login"), ("cursor", "not a cursor")],
    ] {
        assert_failure(&logs(&b, ADMIN_TOKEN, &query).await, 400, "invalid_cursor");
    }
    // Another org's owner with the same filter.
    assert_failure(
        &logs(
            &b,
            GLOBEX_OWNER,
            &[("action", "user_login"), ("cursor", &cursor)],
        )
        .await,
        400,
        "invalid_cursor",
    );
}

#[tokio::test]
async fn ranges_and_actions_are_checked() {
    let b = bench().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let future = (now + 3_600).to_string();
    let recent = (now - 3_600).to_string();
    for query in [
        vec![("latest", future.as_str())],
        vec![("oldest", future.as_str())],
        vec![("oldest", recent.as_str()), ("latest", "1600000000")],
        vec![("oldest", "1519862399")], // before March 2018
    ] {
        assert_failure(&logs(&b, ADMIN_TOKEN, &query).await, 400, "invalid_range");
    }
    assert_eq!(
        logs(&b, ADMIN_TOKEN, &[("oldest", "1519862400")])
            .await
            .status,
        200
    );
    assert_failure(
        &logs(&b, ADMIN_TOKEN, &[("action", "user_login,user_teleported")]).await,
        400,
        "invalid_action",
    );
    // Thirty known names pass, thirty-one do not.
    let actions: Value = get(&b, "actions", None, &[]).await.json;
    let names: Vec<&str> = actions["actions"]["workspace_or_org"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .take(31)
        .collect();
    let thirty = names[..30].join(",");
    assert_eq!(
        logs(&b, ADMIN_TOKEN, &[("action", &thirty)]).await.status,
        200
    );
    assert_failure(
        &logs(&b, ADMIN_TOKEN, &[("action", &names.join(","))]).await,
        400,
        "invalid_action",
    );
}

#[tokio::test]
async fn endpoints_and_verbs() {
    let b = bench().await;
    assert_failure(
        &get(&b, "nothing", Some(ADMIN_TOKEN), &[]).await,
        404,
        "bad_endpoint",
    );
    assert_failure(
        &get(&b, "", Some(ADMIN_TOKEN), &[]).await,
        404,
        "bad_endpoint",
    );
    let post = b
        .send(
            b.http
                .post(format!("{}logs", b.emu.audit_url()))
                .bearer_auth(ADMIN_TOKEN),
        )
        .await;
    assert_failure(&post, 405, "method_not_allowed");
    assert_eq!(post.headers["allow"], "GET");
}

#[tokio::test]
async fn the_rate_limit_is_tier_3_for_the_whole_org() {
    // scale=1: Slack's one-minute window, so nothing refills between these calls but the
    // trickle of 50 a minute.
    let emu = Emulator::builder()
        .seed(seed())
        .rate_limits(RateLimits::Scale(1))
        .start()
        .await
        .unwrap();
    let b = Bench {
        emu,
        http: reqwest::Client::new(),
    };
    let started = Instant::now();
    let mut passed = 0;
    let limited = loop {
        // Two tokens of two apps of one org share the budget.
        let token = if passed % 2 == 0 {
            ADMIN_TOKEN
        } else {
            OWNER_APP2
        };
        let r = logs(&b, token, &[("limit", "1")]).await;
        if r.status != 200 || passed == 200 {
            break r;
        }
        passed += 1;
    };
    let refilled = (started.elapsed().as_secs_f64() * 50.0 / 60.0).ceil() as usize;
    assert!((50..=50 + refilled).contains(&passed), "{passed} passed");
    assert_failure(&limited, 429, "rate_limited");
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_failure(&logs(&b, ADMIN_TOKEN, &[]).await, 429, "rate_limited");
    assert_failure(&logs(&b, OWNER_APP2, &[]).await, 429, "rate_limited");
    // Another org has its own budget; the Web API's methods theirs.
    assert_eq!(logs(&b, GLOBEX_OWNER, &[]).await.status, 200);
    b.form("admin.users.session.list", ADMIN_TOKEN, &[("limit", "1")])
        .await
        .assert_ok();
    // The token is checked first: a bad one is told so, not rate limited.
    assert_failure(
        &logs(&b, "xoxp-nobody", &[]).await,
        401,
        "invalid_authentication",
    );

    // scale=60 refills in a second; `off` never limits.
    let fast = Emulator::builder()
        .seed(seed())
        .rate_limits(RateLimits::Scale(60))
        .start()
        .await
        .unwrap();
    let b = Bench {
        emu: fast,
        http: reqwest::Client::new(),
    };
    let r = loop {
        let r = logs(&b, ADMIN_TOKEN, &[("limit", "1")]).await;
        if r.status != 200 {
            break r;
        }
    };
    assert_failure(&r, 429, "rate_limited");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(logs(&b, ADMIN_TOKEN, &[("limit", "1")]).await.status, 200);
    let off = bench().await;
    for _ in 0..120 {
        assert_eq!(logs(&off, ADMIN_TOKEN, &[("limit", "1")]).await.status, 200);
    }
}

/// The newest entry of an action.
async fn newest(b: &Bench, action: &str) -> Value {
    let r = logs(b, ADMIN_TOKEN, &[("action", action), ("limit", "1")]).await;
    entries(&r)
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no {action}"))
}

#[tokio::test]
async fn admin_calls_write_entries_in_their_transaction() {
    let b = bench().await;
    let before = logs(&b, ADMIN_TOKEN, &[("limit", "9999")]).await;
    let count = entries(&before).len();
    let ua = "audit-test/1.0";
    let call = |method: &'static str, args: Vec<(&'static str, String)>| {
        let b = &b;
        async move {
            b.send(
                b.http
                    .post(b.url(method))
                    .bearer_auth(ADMIN_TOKEN)
                    .header("user-agent", ua)
                    .form(&args),
            )
            .await
        }
    };

    call(
        "admin.users.session.reset",
        vec![
            ("user_id", "W0DEMO0005".into()),
            ("mobile_only", "true".into()),
        ],
    )
    .await
    .assert_ok();
    let e = newest(&b, "user_session_reset_by_admin").await;
    assert_eq!(e["actor"]["user"]["id"], ADMIN_ID);
    assert_eq!(e["actor"]["user"]["email"], "grace.hopper@acme.example");
    assert_eq!(
        e["entity"],
        json!({"type": "user", "user": {"id": "W0DEMO0005",
        "name": "dennis.ritchie", "email": "dennis.ritchie@acme.example", "team": ORG_ID}})
    );
    assert_eq!(
        e["details"],
        json!({"mobile_only": true, "web_only": false})
    );
    assert_eq!(e["context"]["ua"], ua);
    assert_eq!(e["context"]["ip_address"], "127.0.0.1");
    assert_eq!(e["context"]["session_id"], Value::Null);
    assert_eq!(e["context"]["app"]["id"], format!("A{ORG_ID}"));
    assert_eq!(
        e["context"]["location"],
        json!({"type": "enterprise", "id": ORG_ID,
        "name": "Acme Corp", "domain": "acmecorp"})
    );

    call(
        "admin.users.session.resetBulk",
        vec![("user_ids", "W0DEMO0012,W0DEMO0013".into())],
    )
    .await
    .assert_ok();
    let e = newest(&b, "bulk_session_reset_by_admin").await;
    assert_eq!(e["entity"]["type"], "enterprise");
    assert_eq!(e["entity"]["enterprise"]["id"], ORG_ID);
    assert_eq!(
        e["details"],
        json!({"succeeded_users": ["W0DEMO0012", "W0DEMO0013"], "failed_users": []})
    );

    let session = b.sessions_of("W0DEMO0020")[0];
    call(
        "admin.users.session.invalidate",
        vec![
            ("session_id", session.to_string()),
            ("user_id", "W0DEMO0020".into()),
        ],
    )
    .await
    .assert_ok();
    let e = newest(&b, "user_session_invalidated").await;
    assert_eq!(e["entity"]["user"]["id"], "W0DEMO0020");
    assert_eq!(e["context"]["session_id"], session);

    let before_settings = entries(
        &logs(
            &b,
            ADMIN_TOKEN,
            &[
                ("action", "user_session_settings_changed"),
                ("limit", "9999"),
            ],
        )
        .await,
    )
    .len();
    call(
        "admin.users.session.setSettings",
        vec![
            ("user_ids", "W0DEMO0030,W0DEMO0031".into()),
            ("duration", "3600".into()),
        ],
    )
    .await
    .assert_ok();
    call(
        "admin.users.session.clearSettings",
        vec![("user_ids", "W0DEMO0030".into())],
    )
    .await
    .assert_ok();
    let changed = logs(
        &b,
        ADMIN_TOKEN,
        &[("action", "user_session_settings_changed"), ("limit", "3")],
    )
    .await;
    let changed = entries(&changed);
    assert_eq!(changed[0]["entity"]["user"]["id"], "W0DEMO0030");
    assert!(
        changed[0].get("details").is_none(),
        "a clear has no details"
    );
    let set: HashSet<&str> = changed[1..]
        .iter()
        .map(|e| e["entity"]["user"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(set, HashSet::from(["W0DEMO0030", "W0DEMO0031"]));
    assert!(
        changed[1..]
            .iter()
            .all(|e| e["details"] == json!({"duration": 3600}))
    );
    let after_settings = entries(
        &logs(
            &b,
            ADMIN_TOKEN,
            &[
                ("action", "user_session_settings_changed"),
                ("limit", "9999"),
            ],
        )
        .await,
    )
    .len();
    assert_eq!(after_settings, before_settings + 3);

    // A refused call writes nothing; reads write nothing.
    call(
        "admin.users.session.reset",
        vec![("user_id", "W0NOBODY".into())],
    )
    .await
    .assert_error("user_not_found");
    call("admin.users.session.list", vec![("limit", "1".into())])
        .await
        .assert_ok();
    let after = logs(&b, ADMIN_TOKEN, &[("limit", "9999")]).await;
    assert_eq!(
        entries(&after).len(),
        count + 6,
        "reset, bulk, invalidate, 2 set, 1 clear"
    );
}

#[tokio::test]
async fn control_plane_sign_ins_sign_outs_and_entries() {
    let b = bench().await;
    let control = |path: &str| format!("{}/_emulator/{path}", b.emu.url());
    let signed_in = b
        .send(b.http.post(control("sessions")).json(&json!({
            "user_id": "W0DEMO0005", "team_id": TEAMS[0], "client": "mobile",
            "device_hardware": "iPhone15,3", "os": "iOS", "os_version": "18.1",
            "slack_client_version": "24.11.10", "ip": "203.0.113.99"})))
        .await;
    let id = signed_in.json["session_id"].as_u64().unwrap();
    let e = newest(&b, "user_login").await;
    assert_eq!(e["context"]["session_id"], id, "the id list shows");
    assert!(b.sessions_of("W0DEMO0005").contains(&id));
    assert_eq!(e["context"]["ip_address"], "203.0.113.99");
    assert_eq!(
        e["context"]["ua"],
        "com.tinyspeck.chatlyio/24.11.10 (iPhone; iOS 18.1; Scale/3.00)"
    );
    assert_eq!(e["context"]["location"]["type"], "workspace");
    assert_eq!(e["context"]["location"]["id"], TEAMS[0]);
    assert_eq!(e["actor"], e["entity"]);
    // A user agent given is kept.
    let given = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0";
    b.send(b.http.post(control("sessions")).json(&json!({
        "user_id": "W0DEMO0006", "team_id": ORG_ID, "user_agent": given, "ip": "198.51.100.4"})))
        .await
        .assert_ok();
    assert_eq!(newest(&b, "user_login").await["context"]["ua"], given);

    let out = b
        .send(b.http.delete(control(&format!("sessions/{id}"))))
        .await;
    out.assert_ok();
    assert!(!b.sessions_of("W0DEMO0005").contains(&id));
    let e = newest(&b, "user_logout").await;
    assert_eq!(e["context"]["session_id"], id);
    assert_eq!(e["actor"]["user"]["id"], "W0DEMO0005");
    let again = b
        .send(b.http.delete(control(&format!("sessions/{id}"))))
        .await;
    assert_eq!(again.status, 404);
    assert_eq!(again.json["error"], "session_not_found");

    // Entries of Slack's own making: an anomaly and a failed sign-in.
    let anomaly = b
        .send(b.http.post(control("audit-logs")).json(&json!({
            "action": "anomaly", "actor": "W0DEMO0007",
            "context": {"ip_address": "185.220.101.1", "ua": "curl/8.5.0", "session_id": 7},
            "details": {"reason": ["tor"], "previous_ip_address": "198.51.100.7"}})))
        .await;
    anomaly.assert_ok();
    let e = newest(&b, "anomaly").await;
    assert_eq!(e["id"], anomaly.json["id"]);
    assert_eq!(
        e["actor"]["user"]["email"], "guido.rossum7@acme.example",
        "completed from the org"
    );
    assert_eq!(e["entity"], e["actor"], "the actor is the entity");
    assert_eq!(e["context"]["location"]["id"], ORG_ID);
    assert_eq!(e["details"]["reason"], json!(["tor"]));
    b.send(b.http.post(control("audit-logs")).json(&json!({
        "org_id": ORG_ID, "action": "user_login_failed", "date_create": 1_700_000_000,
        "actor": {"type": "user", "user": {"id": "W0DEMO0008"}}})))
        .await
        .assert_ok();
    let failed = logs(
        &b,
        ADMIN_TOKEN,
        &[("action", "user_login_failed"), ("actor", "W0DEMO0008")],
    )
    .await;
    assert_eq!(entries(&failed)[0]["date_create"], 1_700_000_000);
    // Refused: no org, no action, not an object.
    for (body, code) in [
        (
            json!({"action": "anomaly", "actor": "W0NOBODY"}),
            "org_not_found",
        ),
        (json!({"actor": "W0DEMO0007"}), "invalid_entry"),
        (
            json!({"action": "", "actor": "W0DEMO0007"}),
            "invalid_entry",
        ),
        (json!(["anomaly"]), "invalid_entry"),
    ] {
        let r = b.send(b.http.post(control("audit-logs")).json(&body)).await;
        assert_eq!(r.json["error"], code, "{body}");
        assert!(r.status.is_client_error());
    }
    // The Rust API does the same.
    let id = b
        .emu
        .add_audit_log(json!({"action": "user_login_failed", "actor": "W0DEMO0009"}))
        .unwrap();
    assert_eq!(newest(&b, "user_login_failed").await["id"], id.as_str());
    let session = b.sessions_of("W0DEMO0009")[0];
    b.emu.sign_out(session).unwrap();
    assert_eq!(
        newest(&b, "user_logout").await["context"]["session_id"],
        session
    );
}

#[tokio::test]
async fn each_org_reads_its_own_log() {
    let b = bench().await;
    let globex = walk(&b, GLOBEX_OWNER, &[], "9999").await;
    assert!(!globex.is_empty());
    assert!(globex.iter().all(|e| {
        e["context"]["location"]["id"]
            .as_str()
            .is_some_and(|id| id == "E0DEMO0002" || id == "T0GLBXHQ01")
    }));
    assert!(entries(&logs(&b, GLOBEX_OWNER, &[("actor", ADMIN_ID)]).await).is_empty());
    assert!(entries(&logs(&b, GLOBEX_OWNER, &[("entity", ORG_ID)]).await).is_empty());
}

#[tokio::test]
async fn the_demo_has_thirty_days_of_history_matching_its_sessions() {
    let b = Bench::demo().await;
    let all = walk(&b, ADMIN_TOKEN, &[], "9999").await;
    let newest = all[0]["date_create"].as_u64().unwrap();
    let oldest = all.last().unwrap()["date_create"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(newest <= now && newest + 2 * 86_400 > now, "up to today");
    assert!(newest - oldest > 25 * 86_400 && newest - oldest <= 30 * 86_400);
    let count = |action: &str| all.iter().filter(|e| e["action"] == action).count();
    assert!(count("user_logout") > 20);
    assert!((2..=12).contains(&count("user_login_failed")));
    assert_eq!(count("user_session_reset_by_admin"), 2);
    assert_eq!(count("bulk_session_reset_by_admin"), 1);
    assert_eq!(count("user_session_invalidated"), 1);
    assert_eq!(count("anomaly"), 1);
    assert_eq!(
        count("user_session_settings_changed"),
        3,
        "the seed's three settings"
    );
    // Every live (non-bot) session has its user_login, with its IP address and id.
    let seed = Seed::demo();
    let acme = &seed.orgs[0];
    let bots: HashSet<&str> = acme
        .users
        .iter()
        .filter(|u| u.is_bot)
        .map(|u| u.id.as_str())
        .collect();
    let live: Vec<&SessionSeed> = acme
        .sessions
        .iter()
        .filter(|s| !bots.contains(s.user_id.as_str()))
        .collect();
    for s in &live {
        let login = all
            .iter()
            .find(|e| e["action"] == "user_login" && e["context"]["session_id"] == s.session_id)
            .unwrap_or_else(|| panic!("no user_login for session {}", s.session_id));
        assert_eq!(login["actor"]["user"]["id"], s.user_id.as_str());
        assert_eq!(
            login["context"]["ip_address"].as_str(),
            s.created.ip.as_deref()
        );
    }
    // Varied networks and clients.
    let ips: HashSet<&str> = all
        .iter()
        .filter_map(|e| e["context"]["ip_address"].as_str())
        .collect();
    for prefix in [
        "198.51.100.",
        "203.0.113.",
        "2001:db8:ac3e:",
        "185.220.101.",
    ] {
        assert!(ips.iter().any(|ip| ip.starts_with(prefix)), "{prefix}");
    }
    let uas: HashSet<&str> = all
        .iter()
        .filter_map(|e| e["context"]["ua"].as_str())
        .collect();
    for marker in [
        "Slack_SSB",
        "chatlyio",
        "Android",
        "Chrome/",
        "Firefox/",
        "Safari/605",
    ] {
        assert!(uas.iter().any(|ua| ua.contains(marker)), "{marker}");
    }
    // A bulk-reset user's live sessions began after the reset.
    let bulk = all
        .iter()
        .find(|e| e["action"] == "bulk_session_reset_by_admin")
        .unwrap();
    let at = bulk["date_create"].as_u64().unwrap();
    for user in bulk["details"]["succeeded_users"].as_array().unwrap() {
        for s in live.iter().filter(|s| s.user_id == user.as_str().unwrap()) {
            let login = all
                .iter()
                .find(|e| e["action"] == "user_login" && e["context"]["session_id"] == s.session_id)
                .unwrap();
            assert!(login["date_create"].as_u64().unwrap() > at, "{user}");
        }
    }
}

#[tokio::test]
async fn logs_survive_restarts_export_import_and_reset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let start = || async {
        Emulator::builder()
            .db_path(&path)
            .seed(seed())
            .rate_limits(RateLimits::Off)
            .start()
            .await
            .unwrap()
    };
    let b = Bench {
        emu: start().await,
        http: reqwest::Client::new(),
    };
    let seeded = walk(&b, ADMIN_TOKEN, &[], "9999").await;
    b.form(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        &[("user_id", "W0DEMO0005")],
    )
    .await
    .assert_ok();
    let after_reset = walk(&b, ADMIN_TOKEN, &[], "9999").await;
    assert_eq!(after_reset.len(), seeded.len() + 1);
    b.emu.shutdown().await;

    let b = Bench {
        emu: start().await,
        http: reqwest::Client::new(),
    };
    assert_eq!(
        walk(&b, ADMIN_TOKEN, &[], "9999").await,
        after_reset,
        "kept on restart"
    );

    // An export carries each org's log; it imports back to the same pages.
    let exported = b.emu.export();
    assert_eq!(exported.orgs[0].audit_logs.len(), after_reset.len());
    let other = bench().await;
    other.emu.import(&exported).unwrap();
    assert_eq!(walk(&other, ADMIN_TOKEN, &[], "9999").await, after_reset);
    // Over HTTP too, and entries without an id are given one.
    let mut json = serde_json::to_value(&exported).unwrap();
    json["orgs"][0]["audit_logs"][0]
        .as_object_mut()
        .unwrap()
        .remove("id");
    let put = other
        .send(
            other
                .http
                .put(format!("{}/_emulator/state", other.emu.url()))
                .json(&json),
        )
        .await;
    put.assert_ok();
    let reimported = walk(&other, ADMIN_TOKEN, &[], "9999").await;
    assert_eq!(reimported.len(), after_reset.len());
    assert!(
        reimported
            .iter()
            .all(|e| e["id"].as_str().is_some_and(|id| id.len() == 36))
    );

    // A reset restores the seed's log.
    b.emu.reset().unwrap();
    assert_eq!(walk(&b, ADMIN_TOKEN, &[], "9999").await, seeded);
    let health = b
        .send(b.http.get(format!("{}/_emulator/health", b.emu.url())))
        .await;
    assert_eq!(
        health.json["audit_logs"].as_u64().unwrap() as usize,
        b.emu.health().audit_logs as usize
    );
    b.emu.shutdown().await;
}

#[tokio::test]
async fn calls_are_logged() {
    let b = bench().await;
    logs(&b, ADMIN_TOKEN, &[("limit", "2"), ("action", "user_login")]).await;
    logs(&b, "xoxp-nobody", &[]).await;
    let logged = b
        .emu
        .requests(&slack_sessions_emulator::RequestFilter::new().method("audit/v1/logs"));
    assert_eq!(logged.len(), 2);
    assert_eq!(logged[0].status, 200);
    assert_eq!(logged[0].user_id.as_deref(), Some(ADMIN_ID));
    assert_eq!(logged[0].args["action"], "user_login");
    assert_eq!(logged[1].status, 401);
    assert_eq!(logged[1].error.as_deref(), Some("invalid_authentication"));
}

#[tokio::test]
async fn a_database_from_before_the_audit_logs_gains_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let start = || async {
        Emulator::builder()
            .db_path(&path)
            .seed(seed())
            .rate_limits(RateLimits::Off)
            .start()
            .await
            .unwrap()
    };
    start().await.shutdown().await;
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("DROP TABLE audit_logs").unwrap();
    }
    let b = Bench {
        emu: start().await,
        http: reqwest::Client::new(),
    };
    assert!(
        entries(&logs(&b, ADMIN_TOKEN, &[]).await).is_empty(),
        "kept as it was"
    );
    b.form(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        &[("user_id", "W0DEMO0005")],
    )
    .await
    .assert_ok();
    assert_eq!(entries(&logs(&b, ADMIN_TOKEN, &[]).await).len(), 1);
    b.emu.reset().unwrap();
    assert!(
        walk(&b, ADMIN_TOKEN, &[], "9999").await.len() > 300,
        "the seed's"
    );
    b.emu.shutdown().await;
}

#[tokio::test]
async fn the_readmes_seed_example_loads_and_its_owner_reads_the_log() {
    let readme = include_str!("../../../../README.md");
    let section = &readme[readme.find("### Seed file").expect("a seed section")..];
    let json = section
        .split("```json\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a json block");
    let seed = Seed::from_json_bytes(json.as_bytes()).unwrap();
    let b = Bench::with_seed(seed).await;
    let r = logs(&b, "xoxp-example-owner", &[]).await;
    let e = &entries(&r)[0];
    assert_eq!(e["action"], "user_login");
    assert_eq!(e["context"]["session_id"], 1112275520242u64);
    // The admin's token has neither the scope nor an owner.
    assert_failure(
        &logs(&b, "xoxp-example-admin", &[]).await,
        401,
        "invalid_authentication",
    );
}
