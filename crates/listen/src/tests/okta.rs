//! `GET` and `POST /okta/events`: Okta Event Hooks.

use http::StatusCode;
use serde_json::json;
use slack_sessions_engine::listen::{Action, Source, Subject};

use super::*;
use crate::transmit::{OktaEvent, okta_hook};

fn post(auth: Option<&str>, body: String) -> Request<Body> {
    let mut headers = vec![("content-type", "application/json")];
    headers.extend(auth.map(|a| ("authorization", a)));
    request("POST", "/okta/events", &headers, body)
}

#[tokio::test]
async fn the_verification_request_is_answered_with_its_challenge() {
    let f = Fixture::new(ALL);
    let challenge = "Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg";
    let r = f
        .call(request(
            "GET",
            "/okta/events",
            &[
                ("x-okta-verification-challenge", challenge),
                ("authorization", OKTA_SECRET),
            ],
            Body::empty(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json(), json!({ "verification": challenge }));
    // Okta sends the secret on verification too: without it, nothing is echoed.
    let r = f
        .call(request(
            "GET",
            "/okta/events",
            &[("x-okta-verification-challenge", challenge)],
            Body::empty(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(!r.body.contains(challenge));
    let r = f
        .call(request(
            "GET",
            "/okta/events",
            &[("authorization", OKTA_SECRET)],
            Body::empty(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_wrong_or_missing_secret_is_401_and_nothing_is_journaled() {
    let f = Fixture::new(ALL);
    let body = okta_hook(&[OktaEvent::new("user.session.clear", "ada@x.example")]).to_string();
    for auth in [None, Some("wrong"), Some("Bearer okta-hook-secret-value")] {
        let r = f.call(post(auth, body.clone())).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?}");
    }
    assert_eq!(f.inbox.with(|m| m.accepts), 0);
    let metrics = f
        .call(request("GET", "/metrics", &[], Body::empty()))
        .await
        .body;
    assert!(
        metrics.contains("{source=\"okta\",outcome=\"rejected\",reason=\"unauthorized\"} 3"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_batch_is_journaled_once_deduplicated_by_uuid_then_204() {
    let f = Fixture::new(ALL);
    let clear = OktaEvent::new("user.session.clear", "ada@x.example");
    let start = OktaEvent::new("user.session.start", "bob@x.example");
    let mut failed = OktaEvent::new("user.lifecycle.suspend", "cy@x.example");
    failed.outcome = "FAILURE".into();
    let mut no_user = OktaEvent::new("user.lifecycle.deactivate", "x");
    no_user.email = None;
    let body = okta_hook(&[clear.clone(), start.clone(), clear.clone(), failed, no_user]);
    let r = f.call(post(Some(OKTA_SECRET), body.to_string())).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(r.body, "");
    assert_eq!(
        f.inbox.with(|m| m.accepts),
        1,
        "one journal write for the batch"
    );
    let got = f.inbox.signals();
    let summary: Vec<_> = got
        .iter()
        .map(|s| (s.key.clone(), s.event.as_str(), s.action))
        .collect();
    assert_eq!(
        summary,
        [
            (
                format!("okta {}", clear.uuid),
                "user.session.clear",
                Action::Reset
            ),
            (
                format!("okta {}", start.uuid),
                "user.session.start",
                Action::Record
            ),
            (got[2].key.clone(), "user.lifecycle.suspend", Action::Record),
            (
                got[3].key.clone(),
                "user.lifecycle.deactivate",
                Action::Reset
            ),
        ]
    );
    assert!(got.iter().all(|s| s.source == Source::Okta));
    assert_eq!(
        got[0].subject,
        Subject::Email {
            email: "ada@x.example".into()
        }
    );
    assert!(got[0].event_ms.is_some());
    assert!(
        got[2]
            .detail
            .as_deref()
            .unwrap()
            .contains("outcome FAILURE")
    );
    assert!(matches!(got[3].subject, Subject::Unmapped { .. }));
    // Okta delivers at least once: the same batch again adds nothing.
    let r = f.call(post(Some(OKTA_SECRET), body.to_string())).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(f.inbox.signals().len(), 4);
}

#[tokio::test]
async fn malformed_events_are_skipped_and_a_malformed_body_is_400() {
    let f = Fixture::new(ALL);
    let body = json!({"data": {"events": [
        {"eventType": "user.session.clear"},
        {"uuid": "u-1", "eventType": "user.session.clear", "target": [{"type": "User", "alternateId": "ada@x.example"}]},
    ]}});
    let r = f.call(post(Some(OKTA_SECRET), body.to_string())).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(f.inbox.signals().len(), 1);
    let r = f
        .call(post(Some(OKTA_SECRET), "{\"data\": 1}".into()))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_journal_that_cannot_be_written_is_500() {
    let f = Fixture::new(ALL);
    f.inbox.with(|m| m.fail = true);
    let body = okta_hook(&[OktaEvent::new("user.session.clear", "ada@x.example")]);
    let r = f.call(post(Some(OKTA_SECRET), body.to_string())).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
}
