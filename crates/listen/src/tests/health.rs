//! `/healthz`, `/metrics`, and the sections left out.

use http::StatusCode;
use serde_json::json;

use super::*;

#[tokio::test]
async fn healthz_is_200_while_the_journal_and_token_work_and_shows_the_breaker() {
    let f = Fixture::new(ALL);
    f.inbox.with(|m| m.status.pending = 2);
    let r = f.call(request("GET", "/healthz", &[], Body::empty())).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        json!({"status": "ok", "journal_open": true, "token_ok": true, "pending": 2, "breaker": null})
    );
    f.inbox.with(|m| {
        m.status.breaker = Some("20% of the org's users signed out within the hour".into())
    });
    let r = f.call(request("GET", "/healthz", &[], Body::empty())).await;
    assert_eq!(r.status, StatusCode::OK, "a tripped breaker still journals");
    assert!(r.json()["breaker"].as_str().unwrap().contains("20%"));
    f.inbox.with(|m| m.status.token_ok = false);
    let r = f.call(request("GET", "/healthz", &[], Body::empty())).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json()["status"], "unavailable");
    f.inbox.with(|m| {
        m.status.token_ok = true;
        m.status.journal_open = false;
    });
    let r = f.call(request("GET", "/healthz", &[], Body::empty())).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let f = Fixture::new(ALL);
    f.inbox.with(|m| {
        m.status.pending = 5;
        m.status.actions = 7;
        m.status.rate_limit_waits = 2;
        m.status.settled.insert("reset".into(), 7);
        m.status.settled.insert("unmapped".into(), 1);
    });
    f.call(request(
        "POST",
        "/ssf/events",
        &[("content-type", "text/plain")],
        "x",
    ))
    .await;
    let r = f.call(request("GET", "/metrics", &[], Body::empty())).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        r.header("content-type")
    );
    for line in [
        "slack_sessions_listen_signals_received_total{source=\"ssf\",outcome=\"rejected\",reason=\"invalid_request\"} 1",
        "slack_sessions_listen_signals_settled_total{outcome=\"reset\"} 7",
        "slack_sessions_listen_signals_settled_total{outcome=\"unmapped\"} 1",
        "slack_sessions_listen_actions_total 7",
        "slack_sessions_listen_queue_depth 5",
        "slack_sessions_listen_rate_limit_waits_total 2",
        "slack_sessions_listen_breaker_tripped 0",
    ] {
        assert!(r.body.lines().any(|l| l == line), "{line}\n{}", r.body);
    }
    // Every sample's family is declared.
    for sample in r.body.lines().filter(|l| !l.starts_with('#')) {
        let name = sample.split(['{', ' ']).next().unwrap();
        assert!(r.body.contains(&format!("# TYPE {name} ")), "{sample}");
    }
}

#[tokio::test]
async fn a_section_left_out_answers_404() {
    let only_okta = "[okta]\nauthorization_env = \"OKTA_HOOK_SECRET\"\n";
    let f = Fixture::new(only_okta);
    for (method, path) in [
        ("POST", "/ssf/events"),
        ("POST", "/global-token-revocation"),
        ("GET", "/nowhere"),
    ] {
        let r = f.call(request(method, path, &[], Body::empty())).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    let f = Fixture::new("");
    let r = f
        .call(request(
            "POST",
            "/okta/events",
            &[("authorization", OKTA_SECRET)],
            "{}",
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = f.call(request("GET", "/healthz", &[], Body::empty())).await;
    assert_eq!(r.status, StatusCode::OK);
}
