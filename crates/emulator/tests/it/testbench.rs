//! The emulator as a test bench: rate limits, faults, request log, audit, state import/export and
//! the control plane's safety rules.

use std::time::{Duration, Instant};

use serde_json::json;
use slack_sessions_emulator::{
    Effect, Emulator, FaultRule, RateLimits, RequestFilter, Seed, StartError,
};

use crate::bench::*;

async fn scaled(n: u32) -> Bench {
    let emu = Emulator::builder()
        .seed(Seed::demo())
        .rate_limits(RateLimits::Scale(n))
        .start()
        .await
        .unwrap();
    Bench {
        emu,
        http: reqwest::Client::new(),
    }
}

#[tokio::test]
async fn the_21st_tier2_call_waits_for_retry_after() {
    // scale=60: a one-second window with tier 2's budget of 20.
    let b = scaled(60).await;
    // The bucket refills at 20 calls a second, so a slow machine gets a few more through
    // before the first 429: at most one per 50 ms spent.
    let started = Instant::now();
    let mut passed = 0;
    let r = loop {
        let r = b
            .form("admin.users.session.list", ADMIN_TOKEN, &[("limit", "1")])
            .await;
        if !r.ok() || passed == 200 {
            break r;
        }
        passed += 1;
    };
    let refilled = (started.elapsed().as_secs_f64() * 20.0).ceil() as usize;
    assert!(
        (20..=20 + refilled).contains(&passed),
        "{passed} passed, {refilled} refilled"
    );
    assert_eq!(r.status, 429);
    assert_eq!(r.json, json!({"ok": false, "error": "ratelimited"}));
    let retry_after: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);

    // Other methods and other workspaces have their own budgets.
    b.form(
        "admin.users.session.getSettings",
        ADMIN_TOKEN,
        &[("user_ids", ADMIN_ID)],
    )
    .await
    .assert_ok();
    b.form(
        "admin.users.session.list",
        OTHER_ORG_ADMIN_TOKEN,
        &[("limit", "1")],
    )
    .await
    .assert_ok();
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    b.form("admin.users.session.list", ADMIN_TOKEN, &[("limit", "1")])
        .await
        .assert_ok();
}

#[tokio::test]
async fn tokens_of_one_app_share_a_budget() {
    // Slack counts per method, workspace and app. Slack's own window (a minute): no refill
    // comes between these calls.
    let b = scaled(1).await;
    for _ in 0..20 {
        b.form("admin.users.session.list", ADMIN_TOKEN, &[("limit", "1")])
            .await
            .assert_ok();
    }
    // Another token of the same app (the org's default one) shares the budget…
    b.form(
        "admin.users.session.list",
        PRIMARY_OWNER_TOKEN,
        &[("limit", "1")],
    )
    .await
    .assert_error("ratelimited");
    // …a token of another app has its own.
    b.form(
        "admin.users.session.list",
        READ_ONLY_TOKEN,
        &[("limit", "1")],
    )
    .await
    .assert_ok();
}

#[tokio::test]
async fn tier4_allows_a_hundred() {
    // Slack's own window (a minute): a burst of 100 passes, then the refill (100/min) paces it.
    let b = scaled(1).await;
    let started = Instant::now();
    let mut passed = 0;
    loop {
        let r = b
            .form(
                "admin.users.session.getSettings",
                ADMIN_TOKEN,
                &[("user_ids", ADMIN_ID)],
            )
            .await;
        if r.status == 429 {
            break;
        }
        r.assert_ok();
        passed += 1;
        assert!(passed < 150, "never limited");
    }
    let refilled = (started.elapsed().as_secs_f64() * 100.0 / 60.0).ceil() as usize;
    assert!(
        (100..=100 + refilled).contains(&passed),
        "{passed} passed, {refilled} refilled"
    );
}

#[tokio::test]
async fn error_and_ratelimit_faults_honour_times_and_filters() {
    let b = Bench::demo().await;
    b.emu
        .add_fault(
            FaultRule::new(Effect::Error("internal_error".into()))
                .method("admin.users.session.reset")
                .times(2),
        )
        .unwrap();
    b.emu
        .add_fault(
            FaultRule::new(Effect::RateLimited(7))
                .token(READ_ONLY_TOKEN)
                .times(1),
        )
        .unwrap();
    b.emu
        .add_fault(FaultRule::new(Effect::Error("team_added_to_org".into())).team("E0DEMO0002"))
        .unwrap();
    let before = b.sessions_of("W0DEMO0005");
    for _ in 0..2 {
        b.form(
            "admin.users.session.reset",
            ADMIN_TOKEN,
            &[("user_id", "W0DEMO0005")],
        )
        .await
        .assert_error("internal_error");
    }
    assert_eq!(
        b.sessions_of("W0DEMO0005"),
        before,
        "a faulted call executes nothing"
    );
    b.form(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        &[("user_id", "W0DEMO0005")],
    )
    .await
    .assert_ok();

    let r = b
        .form("admin.users.session.list", READ_ONLY_TOKEN, &[])
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "7");
    b.form(
        "admin.users.session.list",
        READ_ONLY_TOKEN,
        &[("limit", "1")],
    )
    .await
    .assert_ok();

    b.form("auth.test", OTHER_ORG_ADMIN_TOKEN, &[])
        .await
        .assert_error("team_added_to_org");
    b.form("auth.test", ADMIN_TOKEN, &[]).await.assert_ok();

    let listed = b
        .send(b.http.get(format!("{}/_emulator/faults", b.emu.url())))
        .await;
    assert_eq!(
        listed.json["faults"].as_array().unwrap().len(),
        1,
        "exhausted rules are gone"
    );
    b.send(b.http.delete(format!("{}/_emulator/faults", b.emu.url())))
        .await
        .assert_ok();
    b.form("auth.test", OTHER_ORG_ADMIN_TOKEN, &[])
        .await
        .assert_ok();
}

#[tokio::test]
async fn transport_faults() {
    let b = Bench::demo().await;
    let add = |effect: serde_json::Value| {
        let b = &b;
        async move {
            let r = b
                .send(
                    b.http
                        .post(format!("{}/_emulator/faults", b.emu.url()))
                        .json(&json!({"effect": effect, "times": 1})),
                )
                .await;
            r.assert_ok();
        }
    };
    let list = || {
        b.http
            .post(b.url("admin.users.session.list"))
            .bearer_auth(ADMIN_TOKEN)
            .form(&[("limit", "2")])
    };

    add(json!({"http_status": 503})).await;
    let resp = list().send().await.unwrap();
    assert_eq!(resp.status(), 503);

    add(json!("empty_body")).await;
    let resp = list().send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.unwrap().is_empty());

    add(json!("non_json")).await;
    let body = list().send().await.unwrap().text().await.unwrap();
    assert!(body.starts_with("<html>"));

    add(json!("truncated_json")).await;
    let body = list().send().await.unwrap().bytes().await.unwrap();
    assert!(!body.is_empty());
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());

    add(json!("reset_connection")).await;
    let err = list().send().await.unwrap_err();
    assert!(
        err.is_request() || err.is_connect() || err.is_body(),
        "{err:?}"
    );

    add(json!({"latency_ms": 300})).await;
    let started = Instant::now();
    list().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));

    // And the next call is normal again.
    let r = b.send(list()).await;
    r.assert_ok();
}

#[tokio::test]
async fn truncated_answers_still_apply_writes() {
    let b = Bench::demo().await;
    b.emu
        .add_fault(FaultRule::new(Effect::TruncatedJson).times(1))
        .unwrap();
    let resp = b
        .http
        .post(b.url("admin.users.session.reset"))
        .bearer_auth(ADMIN_TOKEN)
        .form(&[("user_id", "W0DEMO0005")])
        .send()
        .await
        .unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&resp.bytes().await.unwrap()).is_err());
    assert!(
        b.sessions_of("W0DEMO0005").is_empty(),
        "the change was made"
    );
}

#[tokio::test]
async fn probability_is_repeatable_with_a_seed() {
    let mut outcomes = Vec::new();
    for _ in 0..2 {
        let emu = Emulator::builder()
            .seed(Seed::demo())
            .rate_limits(RateLimits::Off)
            .fault_seed(42)
            .start()
            .await
            .unwrap();
        let b = Bench {
            emu,
            http: reqwest::Client::new(),
        };
        b.emu
            .add_fault(FaultRule::new(Effect::Error("service_unavailable".into())).probability(0.3))
            .unwrap();
        let mut hits = Vec::new();
        for _ in 0..60 {
            hits.push(!b.form("auth.test", ADMIN_TOKEN, &[]).await.ok());
        }
        outcomes.push(hits);
    }
    assert_eq!(outcomes[0], outcomes[1]);
    let n = outcomes[0].iter().filter(|h| **h).count();
    assert!((6..=30).contains(&n), "about 30% of 60, got {n}");
}

#[tokio::test]
async fn the_request_log_records_calls_without_tokens() {
    let b = Bench::demo().await;
    b.form(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        &[("user_id", "W0DEMO0005"), ("token", ADMIN_TOKEN)],
    )
    .await;
    b.send(
        b.http
            .post(b.url("admin.users.session.list"))
            .form(&[("token", ADMIN_TOKEN), ("limit", "1")]),
    )
    .await;
    b.form(
        "admin.users.session.reset",
        MEMBER_TOKEN,
        &[("user_id", "W0DEMO0006")],
    )
    .await;

    let all = b
        .send(b.http.get(format!("{}/_emulator/requests", b.emu.url())))
        .await;
    let text = all.json.to_string();
    assert!(
        !text.contains("xoxp-"),
        "no token in the request log: {text}"
    );
    let entries = all.json["requests"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["method"], "admin.users.session.reset");
    assert_eq!(entries[0]["org_id"], ORG_ID);
    assert_eq!(entries[0]["user_id"], ADMIN_ID);
    assert_eq!(entries[0]["args"], json!({"user_id": "W0DEMO0005"}));
    assert_eq!(entries[0]["status"], 200);
    assert_eq!(entries[2]["error"], "not_an_admin");

    let resets = b.emu.requests(&RequestFilter {
        method: Some("admin.users.session.reset".into()),
        ..Default::default()
    });
    assert_eq!(resets.len(), 2);
    let later = b.emu.requests(&RequestFilter {
        since: Some(entries[2]["at_ms"].as_u64().unwrap() + 60_000),
        ..Default::default()
    });
    assert!(later.is_empty());
    b.send(b.http.delete(format!("{}/_emulator/requests", b.emu.url())))
        .await
        .assert_ok();
    assert!(b.emu.requests(&RequestFilter::default()).is_empty());
}

#[tokio::test]
async fn audit_lists_every_change() {
    let b = Bench::demo().await;
    let sessions = b.sessions_of("W0DEMO0005");
    b.form(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        &[("user_id", "W0DEMO0005")],
    )
    .await
    .assert_ok();
    b.form(
        "admin.users.session.setSettings",
        ADMIN_TOKEN,
        &[("user_ids", "W0DEMO0030"), ("duration", "3600")],
    )
    .await
    .assert_ok();
    b.form("admin.users.session.list", ADMIN_TOKEN, &[])
        .await
        .assert_ok(); // a read: not audited
    let r = b
        .send(b.http.get(format!("{}/_emulator/audit", b.emu.url())))
        .await;
    let audit = r.json["audit"].as_array().unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0]["method"], "admin.users.session.reset");
    assert_eq!(audit[0]["actor"], ADMIN_ID);
    assert_eq!(audit[0]["users"], json!(["W0DEMO0005"]));
    assert_eq!(audit[0]["sessions"], json!(sessions));
    assert_eq!(audit[1]["method"], "admin.users.session.setSettings");
    let after = audit[0]["id"].as_u64().unwrap();
    assert_eq!(b.emu.audit(after).unwrap().len(), 1);
}

#[tokio::test]
async fn export_then_import_reproduces_the_state() {
    let b = Bench::demo().await;
    b.form(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        &[("user_id", "W0DEMO0005")],
    )
    .await
    .assert_ok();
    let exported = b
        .send(b.http.get(format!("{}/_emulator/state", b.emu.url())))
        .await
        .json;
    b.send(b.http.post(format!("{}/_emulator/reset", b.emu.url())))
        .await
        .assert_ok();
    assert!(!b.sessions_of("W0DEMO0005").is_empty());
    b.send(
        b.http
            .put(format!("{}/_emulator/state", b.emu.url()))
            .json(&exported),
    )
    .await
    .assert_ok();
    let again = b
        .send(b.http.get(format!("{}/_emulator/state", b.emu.url())))
        .await
        .json;
    assert_eq!(again, exported);
    assert!(b.sessions_of("W0DEMO0005").is_empty());

    let bad = json!({"orgs": [{"id": "E1", "sessions": [{"session_id": 1, "user_id": "W404", "team_id": "E1"}]}]});
    let r = b
        .send(
            b.http
                .put(format!("{}/_emulator/state", b.emu.url()))
                .json(&bad),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json["detail"]
            .as_str()
            .unwrap()
            .contains("orgs[0].sessions[0].user_id")
    );
    assert_eq!(
        b.send(b.http.get(format!("{}/_emulator/state", b.emu.url())))
            .await
            .json,
        exported,
        "unchanged"
    );

    let health = b
        .send(b.http.get(format!("{}/_emulator/health", b.emu.url())))
        .await;
    assert_eq!(health.json["orgs"], 3);
    let sessions: usize = b.emu.export().orgs.iter().map(|o| o.sessions.len()).sum();
    assert_eq!(health.json["sessions"], sessions);
}

#[tokio::test]
async fn control_plane_safety() {
    let refused = Emulator::builder()
        .addr("0.0.0.0:0".parse().unwrap())
        .start()
        .await;
    assert!(
        matches!(refused, Err(StartError::UnprotectedControl(_))),
        "{refused:?}"
    );
    let without_control = Emulator::builder()
        .addr("0.0.0.0:0".parse().unwrap())
        .control(false)
        .start()
        .await;
    without_control.unwrap().shutdown().await;

    let emu = Emulator::builder()
        .seed(Seed::demo())
        .control_token("s3cret")
        .start()
        .await
        .unwrap();
    let b = Bench {
        emu,
        http: reqwest::Client::new(),
    };
    for (verb, path) in [
        ("GET", "health"),
        ("POST", "reset"),
        ("GET", "state"),
        ("PUT", "state"),
        ("POST", "sessions"),
        ("GET", "requests"),
        ("DELETE", "requests"),
        ("GET", "faults"),
        ("POST", "faults"),
        ("DELETE", "faults"),
        ("GET", "audit"),
    ] {
        let url = format!("{}/_emulator/{path}", b.emu.url());
        let verb = reqwest::Method::from_bytes(verb.as_bytes()).unwrap();
        let r = b.http.request(verb.clone(), &url).send().await.unwrap();
        assert_eq!(r.status(), 401, "{verb} {path} without the token");
        let r = b
            .http
            .request(verb.clone(), &url)
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{verb} {path} with a wrong token");
    }
    let r = b
        .send(
            b.http
                .get(format!("{}/_emulator/health", b.emu.url()))
                .bearer_auth("s3cret"),
        )
        .await;
    r.assert_ok();
    // Control routes are never reachable under /api/: there they are unknown methods.
    let r = b
        .send(
            b.http
                .post(format!("{}/api/_emulator/reset", b.emu.url()))
                .bearer_auth("s3cret"),
        )
        .await;
    r.assert_error("unknown_method");
    let r = b.form("_emulator", ADMIN_TOKEN, &[]).await;
    r.assert_error("unknown_method");
}

#[tokio::test]
async fn control_calls_as_rust_methods() {
    let b = Bench::demo().await;
    let before = b.emu.health();
    assert_eq!(before.orgs, 3);
    let mut session = b.emu.export().orgs[0].sessions[0].clone();
    session.session_id = 0;
    let id = b.emu.add_session(session.clone()).unwrap();
    assert!(b.sessions_of(&session.user_id).contains(&id));
    assert_eq!(b.emu.health().sessions, before.sessions + 1);
    session.session_id = id;
    assert!(b.emu.add_session(session.clone()).unwrap_err().code == "session_exists");
    session.user_id = "W0NOSUCH99".into();
    session.session_id = 0;
    assert!(b.emu.add_session(session).unwrap_err().code == "user_not_found");
}

/// Writes one form POST on a fresh connection; the caller decides when to hang up.
async fn raw_post(b: &Bench, method: &str, body: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(b.emu.addr()).await.unwrap();
    let request = format!(
        "POST /api/{method} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

fn invalidated_in_request_log(b: &Bench) -> Vec<u64> {
    let mut ids: Vec<u64> = b
        .emu
        .requests(&RequestFilter {
            method: Some("admin.users.session.invalidate".into()),
            ..Default::default()
        })
        .iter()
        .filter(|e| e.status == 200 && e.error.is_none())
        .map(|e| e.args["session_id"].as_str().unwrap().parse().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

/// A client that hangs up the moment its request is written does not leave a change the
/// request log cannot see: every call applied is logged, so tests that count calls in the
/// request log (the CLI's exactly-once tests) can trust it.
#[tokio::test]
async fn a_call_applied_after_the_client_hung_up_is_logged() {
    let b = Bench::demo().await;
    let listed = b.all_session_ids(ADMIN_TOKEN, &[]).await;
    let sessions: Vec<_> = b.emu.export().orgs[0]
        .sessions
        .iter()
        .filter(|s| s.user_id != ADMIN_ID && listed.contains(&s.session_id))
        .map(|s| (s.session_id, s.team_id.clone()))
        .collect();
    assert!(sessions.len() >= 5, "{}", sessions.len());
    for (id, team) in &sessions {
        let stream = raw_post(
            &b,
            "admin.users.session.invalidate",
            &format!("session_id={id}&team_id={team}"),
        )
        .await;
        drop(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let left: Vec<u64> = b.all_session_ids(ADMIN_TOKEN, &[]).await;
    let mut gone: Vec<u64> = sessions
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !left.contains(id))
        .collect();
    gone.sort_unstable();
    assert_eq!(gone, invalidated_in_request_log(&b), "applied = logged");
}

/// A fault's latency is spent before the call is handled: a client that hangs up during it
/// cancels the call, which is then neither applied nor logged.
#[tokio::test]
async fn a_client_that_hangs_up_during_injected_latency_cancels_the_call() {
    let b = Bench::demo().await;
    b.emu
        .add_fault(FaultRule::new(Effect::LatencyMs(400)).method("admin.users.session.invalidate"))
        .unwrap();
    let session = b.emu.export().orgs[0]
        .sessions
        .iter()
        .find(|s| s.user_id != ADMIN_ID)
        .cloned()
        .unwrap();
    let stream = raw_post(
        &b,
        "admin.users.session.invalidate",
        &format!(
            "session_id={}&team_id={}",
            session.session_id, session.team_id
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(stream);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        b.sessions_of(&session.user_id)
            .contains(&session.session_id)
    );
    assert!(invalidated_in_request_log(&b).is_empty());
}

#[tokio::test]
async fn every_logged_request_carries_the_request_id_its_answer_sent() {
    let b = Bench::demo().await;
    let list = || {
        b.http
            .post(b.url("admin.users.session.list"))
            .bearer_auth(ADMIN_TOKEN)
            .form(&[("limit", "2")])
    };
    let mut sent = Vec::new();
    let mut call = async |request: reqwest::RequestBuilder| {
        let resp = request.send().await.unwrap();
        let id = resp.headers()["x-slack-req-id"]
            .to_str()
            .unwrap()
            .to_owned();
        sent.push(id);
    };
    call(list()).await;
    call(
        b.http
            .post(b.url("admin.users.session.reset"))
            .bearer_auth(ADMIN_TOKEN),
    )
    .await;
    call(b.http.post(b.url("no.such.method"))).await;
    call(b.http.put(b.url("auth.test"))).await;
    for effect in [
        json!({"http_status": 503}),
        json!("empty_body"),
        json!("non_json"),
        json!({"error": "internal_error"}),
        json!({"rate_limited": 2}),
    ] {
        b.send(
            b.http
                .post(format!("{}/_emulator/faults", b.emu.url()))
                .json(&json!({"effect": effect, "times": 1})),
        )
        .await
        .assert_ok();
        call(list()).await;
    }
    let logged: Vec<String> = b
        .emu
        .requests(&RequestFilter::new())
        .into_iter()
        .map(|e| e.request_id)
        .collect();
    assert_eq!(logged, sent);
    assert_eq!(
        sent.iter().collect::<std::collections::HashSet<_>>().len(),
        sent.len(),
        "one id per request"
    );
}

#[tokio::test]
async fn the_request_log_keeps_user_ids_as_an_array() {
    let b = Bench::demo().await;
    b.form(
        "admin.users.session.getSettings",
        ADMIN_TOKEN,
        &[("user_ids", "W0DEMO0005,W0DEMO0006")],
    )
    .await
    .assert_ok();
    let entry = b
        .emu
        .requests(&RequestFilter::new().method("admin.users.session.getSettings"))
        .pop()
        .unwrap();
    assert_eq!(entry.args["user_ids"], json!(["W0DEMO0005", "W0DEMO0006"]));
}
