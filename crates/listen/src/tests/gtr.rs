//! `POST /global-token-revocation`.

use std::time::Duration;

use http::StatusCode;
use serde_json::json;
use slack_sessions_client::api::UserId;
use slack_sessions_engine::listen::{Action, Lookup, Source, Subject};

use super::*;
use crate::transmit::{GtrToken, Signer, gtr_body, now_secs};

fn post(token: Option<&str>, body: String) -> Request<Body> {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    headers.extend(bearer.as_deref().map(|b| ("authorization", b)));
    request("POST", "/global-token-revocation", &headers, body)
}

fn fixture() -> Fixture {
    let f = Fixture::new(ALL);
    f.inbox.with(|m| {
        m.users
            .insert("ada@x.example".into(), Lookup::User(UserId::new("W1")));
        m.users.insert(
            "owner@x.example".into(),
            Lookup::Refused(UserId::new("W0"), "primary owner"),
        );
    });
    f
}

fn token(signer: &Signer) -> (GtrToken, String) {
    let t = GtrToken::new(ISSUER, GTR_AUD);
    let signed = signer.gtr_token(&t).unwrap();
    (t, signed)
}

#[tokio::test]
async fn a_valid_request_is_journaled_then_204() {
    let f = fixture();
    for signer in [&f.es, &f.rsa] {
        let (t, signed) = token(signer);
        let r = f
            .call(post(Some(&signed), gtr_body("ADA@x.example").to_string()))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let got = f.inbox.signals().pop().unwrap();
        assert_eq!(got.source, Source::Gtr);
        assert_eq!(got.key, format!("gtr {ISSUER} {}", t.jti));
        assert_eq!(got.event, "gtr");
        assert_eq!(got.action, Action::Reset);
        assert_eq!(
            got.subject,
            Subject::Email {
                email: "ADA@x.example".into()
            }
        );
        assert_eq!(got.keep_key_until_ms, Some((t.iat + 300) * 1000));
    }
    // The older body shape.
    let (_, signed) = token(&f.es);
    let body = json!({"subject": {"format": "email", "email": "ada@x.example"}});
    let r = f.call(post(Some(&signed), body.to_string())).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(f.inbox.signals().len(), 3);
}

#[tokio::test]
async fn a_reused_jti_is_401() {
    let f = fixture();
    let (_, signed) = token(&f.es);
    let body = gtr_body("ada@x.example").to_string();
    assert_eq!(
        f.call(post(Some(&signed), body.clone())).await.status,
        StatusCode::NO_CONTENT
    );
    let r = f.call(post(Some(&signed), body)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
    assert_eq!(f.inbox.signals().len(), 1);
}

#[tokio::test]
async fn a_jti_accepted_before_a_restart_is_401() {
    // The journal (here the inbox) knows the jti; this process's memory does not.
    let f = fixture();
    let (t, signed) = token(&f.es);
    f.inbox.with(|m| {
        m.signals.push(slack_sessions_engine::listen::Signal {
            source: Source::Gtr,
            key: format!("gtr {ISSUER} {}", t.jti),
            event: "gtr".into(),
            subject: Subject::Email {
                email: "ada@x.example".into(),
            },
            action: Action::Reset,
            event_ms: None,
            keep_key_until_ms: None,
            detail: None,
        })
    });
    let r = f
        .call(post(Some(&signed), gtr_body("ada@x.example").to_string()))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_authentication_is_401() {
    let f = fixture();
    let body = gtr_body("ada@x.example").to_string();
    let mut expired = GtrToken::new(ISSUER, GTR_AUD);
    expired.iat = now_secs() - 600;
    expired.lifetime = Duration::from_secs(300);
    let mut wrong_aud = GtrToken::new(ISSUER, GTR_AUD);
    wrong_aud.audience = SSF_AUD.into();
    let mut wrong_iss = GtrToken::new(ISSUER, GTR_AUD);
    wrong_iss.issuer = "https://evil.example/".into();
    let (impostor, _) = Signer::generate("es-1").unwrap();
    let mut no_exp = GtrToken::new(ISSUER, GTR_AUD).claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut no_jti = GtrToken::new(ISSUER, GTR_AUD).claims();
    no_jti.as_object_mut().unwrap().remove("jti");
    // A SET is not a GTR token (no exp, another audience).
    let set =
        f.es.set(&crate::transmit::Set::new(
            ISSUER,
            GTR_AUD,
            "session-revoked",
            crate::transmit::SubjectId::Email("ada@x.example".into()),
        ))
        .unwrap();
    let tokens = [
        ("expired", f.es.gtr_token(&expired).unwrap()),
        ("wrong aud", f.es.gtr_token(&wrong_aud).unwrap()),
        ("wrong iss", f.es.gtr_token(&wrong_iss).unwrap()),
        (
            "bad signature",
            impostor.gtr_token(&GtrToken::new(ISSUER, GTR_AUD)).unwrap(),
        ),
        ("no exp", f.es.sign("JWT", &no_exp).unwrap()),
        ("no jti", f.es.sign("JWT", &no_jti).unwrap()),
        ("a SET", set),
        ("not a JWT", "abc".into()),
    ];
    for (what, t) in tokens {
        let r = f.call(post(Some(&t), body.clone())).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.body);
    }
    let r = f.call(post(None, body.clone())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let (_, signed) = token(&f.es);
    let r = f
        .call(request(
            "POST",
            "/global-token-revocation",
            &[
                ("content-type", "application/json"),
                ("authorization", &format!("Basic {signed}")),
            ],
            body,
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(f.inbox.signals().is_empty());
}

#[tokio::test]
async fn a_malformed_or_unsupported_subject_is_400() {
    let f = fixture();
    for body in [
        json!({"sub_id": {"format": "iss_sub", "iss": ISSUER, "sub": "00u-ada"}}),
        json!({"sub_id": {"format": "email", "email": "not an email"}}),
        json!({"sub_id": {"email": "ada@x.example"}}),
        json!({"user": "ada@x.example"}),
        json!("ada@x.example"),
    ] {
        let (_, signed) = token(&f.es);
        let r = f.call(post(Some(&signed), body.to_string())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.json()["error"], "invalid_request");
    }
    assert!(f.inbox.signals().is_empty());
}

#[tokio::test]
async fn an_unknown_user_is_404_and_one_slack_refuses_is_422() {
    let f = fixture();
    let (_, signed) = token(&f.es);
    let r = f
        .call(post(
            Some(&signed),
            gtr_body("nobody@x.example").to_string(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let (_, signed) = token(&f.es);
    let r = f
        .call(post(Some(&signed), gtr_body("owner@x.example").to_string()))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        f.inbox.signals().is_empty(),
        "nothing journaled before answering"
    );
}
