//! `POST /ssf/events`: every row of RFC 8935 push the listener answers.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use serde_json::{Value, json};
use slack_sessions_engine::listen::{Action, Source, Subject};

use super::*;
use crate::transmit::{Set, Signer, SubjectId};

fn post(token: &str) -> Request<Body> {
    request(
        "POST",
        "/ssf/events",
        &[("content-type", "application/secevent+jwt")],
        token.to_owned(),
    )
}

fn set(event: &str, email: &str) -> Set {
    Set::new(ISSUER, SSF_AUD, event, SubjectId::Email(email.into()))
}

fn email(e: &str) -> Subject {
    Subject::Email { email: e.into() }
}

/// Posts `token`; asserts RFC 8935's error response with `err`; returns the description.
async fn refused(f: &Fixture, token: &str, err: &str) -> String {
    let r = f.call(post(token)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("content-language"), Some("en"));
    let body = r.json();
    assert_eq!(body["err"], err, "{body}");
    assert!(f.inbox.signals().is_empty(), "nothing is journaled");
    body["description"].as_str().unwrap().to_owned()
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn a_valid_set_is_journaled_then_answered_202_es256_and_rs256() {
    let f = Fixture::new(ALL);
    for signer in [&f.es, &f.rsa] {
        let s = set("session-revoked", "ada@x.example");
        let r = f.call(post(&signer.set(&s).unwrap())).await;
        assert_eq!(
            r.status,
            StatusCode::ACCEPTED,
            "{:?}: {}",
            signer.alg(),
            r.body
        );
        assert_eq!(r.body, "");
        let got = f.inbox.signals().pop().unwrap();
        assert_eq!(got.source, Source::Ssf);
        assert_eq!(got.key, format!("ssf {ISSUER} {}", s.jti));
        assert_eq!(got.event, "session-revoked");
        assert_eq!(got.subject, email("ada@x.example"));
        assert_eq!(got.action, Action::Reset);
    }
    assert_eq!(f.inbox.signals().len(), 2);
}

#[tokio::test]
async fn a_repeated_set_answers_202_and_does_nothing_more() {
    let f = Fixture::new(ALL);
    let token = f.es.set(&set("session-revoked", "ada@x.example")).unwrap();
    for _ in 0..2 {
        let r = f.call(post(&token)).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
    }
    assert_eq!(f.inbox.signals().len(), 1);
    let metrics = f
        .call(request("GET", "/metrics", &[], Body::empty()))
        .await
        .body;
    assert!(
        metrics.contains("signals_received_total{source=\"ssf\",outcome=\"accepted\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("signals_received_total{source=\"ssf\",outcome=\"repeat\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_bad_signature_is_authentication_failed() {
    let f = Fixture::new(ALL);
    // Another key under the same kid: the signature does not verify with the JWKS's key.
    let (impostor, _) = Signer::generate("es-1").unwrap();
    let d = refused(
        &f,
        &impostor
            .set(&set("session-revoked", "ada@x.example"))
            .unwrap(),
        "authentication_failed",
    )
    .await;
    assert!(d.contains("signature"), "{d}");
    // A valid token with one byte of its payload changed.
    let token = f.es.set(&set("session-revoked", "ada@x.example")).unwrap();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["sub_id"]["email"] = json!("boss@x.example");
    parts[1] = b64(&claims);
    refused(&f, &parts.join("."), "authentication_failed").await;
}

#[tokio::test]
async fn issuer_and_audience_must_be_ours() {
    let f = Fixture::new(ALL);
    let mut s = set("session-revoked", "ada@x.example");
    s.issuer = "https://evil.example/".into();
    refused(&f, &f.es.set(&s).unwrap(), "invalid_issuer").await;
    let mut s = set("session-revoked", "ada@x.example");
    s.audience = "https://other.example/ssf".into();
    refused(&f, &f.es.set(&s).unwrap(), "invalid_audience").await;
    // An array iss is refused even if it holds ours.
    let mut claims = set("session-revoked", "ada@x.example").claims();
    claims["iss"] = json!([ISSUER]);
    refused(
        &f,
        &f.es.sign("secevent+jwt", &claims).unwrap(),
        "invalid_issuer",
    )
    .await;
    // An aud array holding ours is fine.
    let mut claims = set("session-revoked", "ada@x.example").claims();
    claims["aud"] = json!(["https://other.example/", SSF_AUD]);
    let r = f
        .call(post(&f.es.sign("secevent+jwt", &claims).unwrap()))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
}

#[tokio::test]
async fn only_rs256_and_es256_signatures_are_taken() {
    let f = Fixture::new(ALL);
    let claims = set("session-revoked", "ada@x.example").claims();
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "secevent+jwt", "kid": "es-1"})),
        b64(&claims)
    );
    let d = refused(&f, &none, "authentication_failed").await;
    assert!(d.contains("alg none"), "{d}");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("secevent+jwt".into());
    header.kid = Some("es-1".into());
    let hs = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(f.es.jwk().to_string().as_bytes()),
    )
    .unwrap();
    let d = refused(&f, &hs, "authentication_failed").await;
    assert!(d.contains("HS256"), "{d}");
    // An ES256 token naming the RSA key.
    let (es, _) = Signer::generate("rsa-1").unwrap();
    refused(
        &f,
        &es.set(&set("session-revoked", "a@x.example")).unwrap(),
        "invalid_key",
    )
    .await;
}

#[tokio::test]
async fn a_set_must_say_it_is_one() {
    let f = Fixture::new(ALL);
    let claims = set("session-revoked", "ada@x.example").claims();
    let d = refused(&f, &f.es.sign("JWT", &claims).unwrap(), "invalid_request").await;
    assert!(d.contains("secevent+jwt"), "{d}");
    let r = f
        .call(request(
            "POST",
            "/ssf/events",
            &[("content-type", "application/jwt")],
            f.es.set(&set("session-revoked", "ada@x.example")).unwrap(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["err"], "invalid_request");
    assert!(
        r.json()["description"]
            .as_str()
            .unwrap()
            .contains("Content-Type")
    );
    refused(&f, "not a token", "invalid_request").await;
}

#[tokio::test]
async fn jti_iat_events_and_a_subject_are_required() {
    let f = Fixture::new(ALL);
    for (member, said) in [
        ("jti", "no jti"),
        ("iat", "no iat"),
        ("events", "no events"),
        ("sub_id", "no subject"),
    ] {
        let mut claims = set("session-revoked", "ada@x.example").claims();
        claims.as_object_mut().unwrap().remove(member);
        let d = refused(
            &f,
            &f.es.sign("secevent+jwt", &claims).unwrap(),
            "invalid_request",
        )
        .await;
        assert!(d.contains(said), "{member}: {d}");
    }
    let mut claims = set("session-revoked", "ada@x.example").claims();
    claims["events"] = json!({});
    refused(
        &f,
        &f.es.sign("secevent+jwt", &claims).unwrap(),
        "invalid_request",
    )
    .await;
    // An event type must look like one.
    for event in ["x\u{1b}[2J".to_owned(), "u".repeat(300)] {
        let s = set(&event, "ada@x.example");
        let d = refused(&f, &f.es.set(&s).unwrap(), "invalid_request").await;
        assert!(d.contains("not a URI") && !d.contains('\u{1b}'), "{d}");
    }
}

#[tokio::test]
async fn the_push_authorization_header_is_checked_when_configured() {
    let f = Fixture::new(&ALL.replace(
        "subject_map = \"subjects.csv\"",
        "subject_map = \"subjects.csv\"\nauthorization_env = \"SSF_PUSH_AUTH\"",
    ));
    let token = f.es.set(&set("session-revoked", "ada@x.example")).unwrap();
    for auth in [None, Some("Bearer wrong"), Some("ssf-push-secret-value")] {
        let mut headers = vec![("content-type", "application/secevent+jwt")];
        headers.extend(auth.map(|a| ("authorization", a)));
        let r = f
            .call(request("POST", "/ssf/events", &headers, token.clone()))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(!r.body.contains("ssf-push-secret"));
    }
    assert!(f.inbox.signals().is_empty());
    let r = f
        .call(request(
            "POST",
            "/ssf/events",
            &[
                ("content-type", "application/secevent+jwt"),
                ("authorization", SSF_AUTH),
            ],
            token,
        ))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn subjects_legacy_complex_iss_sub_and_ms_timestamps() {
    let f = Fixture::new(ALL);
    let ada = || SubjectId::IssSub {
        iss: ISSUER.into(),
        sub: "00u-ada".into(),
    };
    // Okta's shape: the subject inside the event, as a complex subject's user, and a
    // millisecond event_timestamp.
    let mut s = Set::new(ISSUER, SSF_AUD, "session-revoked", ada());
    s.legacy_subject = true;
    s.event_timestamp = Some(1_615_304_991_643);
    s.members.insert(
        "reason_admin".into(),
        json!({"en": "Policy Violation: C076E822"}),
    );
    assert_eq!(
        f.call(post(&f.es.set(&s).unwrap())).await.status,
        StatusCode::ACCEPTED
    );
    let got = f.inbox.signals().pop().unwrap();
    assert_eq!(got.subject, email("ada@x.example"));
    assert_eq!(got.event_ms, Some(1_615_304_991_643));
    assert_eq!(got.detail.as_deref(), Some("Policy Violation: C076E822"));
    // Seconds.
    let mut s = set("session-revoked", "bob@x.example");
    s.event_timestamp = Some(1_615_304_991);
    f.call(post(&f.es.set(&s).unwrap())).await;
    assert_eq!(
        f.inbox.signals().pop().unwrap().event_ms,
        Some(1_615_304_991_000)
    );
    // A complex sub_id.
    let mut claims = set("session-revoked", "x@x.example").claims();
    claims["sub_id"] = json!({"format": "complex", "user": {"format": "email", "email": "cy@x.example"}, "device": {"format": "opaque", "id": "d1"}});
    f.call(post(&f.es.sign("secevent+jwt", &claims).unwrap()))
        .await;
    assert_eq!(
        f.inbox.signals().pop().unwrap().subject,
        email("cy@x.example")
    );
    // iss_sub mapped (top level), and unmapped: accepted, recorded and counted.
    f.call(post(
        &f.es
            .set(&Set::new(ISSUER, SSF_AUD, "session-revoked", ada()))
            .unwrap(),
    ))
    .await;
    assert_eq!(
        f.inbox.signals().pop().unwrap().subject,
        email("ada@x.example")
    );
    let stranger = SubjectId::IssSub {
        iss: ISSUER.into(),
        sub: "00u-who".into(),
    };
    let r = f
        .call(post(
            &f.es
                .set(&Set::new(ISSUER, SSF_AUD, "session-revoked", stranger))
                .unwrap(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(
        f.inbox.signals().pop().unwrap().subject,
        Subject::Unmapped {
            described: format!("iss_sub {ISSUER} 00u-who")
        }
    );
    let metrics = f
        .call(request("GET", "/metrics", &[], Body::empty()))
        .await
        .body;
    assert!(
        metrics.contains("unmapped_subjects_total{source=\"ssf\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn what_each_event_does_follows_the_actions_table() {
    let f = Fixture::new(&format!(
        "{ALL}\n[actions]\nrisk-level-change = {{ reset_when = {{ current_level = \"HIGH\" }} }}\n"
    ));
    let cases = [
        (
            "risk-level-change",
            json!({"principal": "USER", "current_level": "HIGH"}),
            Action::Reset,
        ),
        (
            "risk-level-change",
            json!({"principal": "USER", "current_level": "LOW"}),
            Action::Record,
        ),
        (
            "credential-change",
            json!({"credential_type": "password", "change_type": "update"}),
            Action::Record,
        ),
        ("account-disabled", json!({}), Action::Reset),
        (
            "https://example.com/event-type/custom",
            json!({}),
            Action::Record,
        ),
    ];
    for (event, members, action) in cases {
        let mut s = set(event, "ada@x.example");
        s.members = members.as_object().unwrap().clone();
        let r = f.call(post(&f.es.set(&s).unwrap())).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{event}");
        let got = f.inbox.signals().pop().unwrap();
        assert_eq!(
            (got.event.as_str(), got.action),
            (event, action),
            "{members}"
        );
    }
    // The SSF verification event: recorded, its opaque subject unmapped.
    let mut s = Set::new(
        ISSUER,
        SSF_AUD,
        "verification",
        SubjectId::Opaque("stream-1".into()),
    );
    s.members
        .insert("state".into(), json!("VGhpcyBpcyBhbiBleGFtcGxl"));
    assert_eq!(
        f.call(post(&f.es.set(&s).unwrap())).await.status,
        StatusCode::ACCEPTED
    );
    let got = f.inbox.signals().pop().unwrap();
    assert_eq!(
        (got.event.as_str(), got.action),
        ("verification", Action::Record)
    );
    assert!(matches!(got.subject, Subject::Unmapped { .. }));
}

#[tokio::test]
async fn a_journal_that_cannot_be_written_is_500_never_202() {
    let f = Fixture::new(ALL);
    f.inbox.with(|m| m.fail = true);
    let r = f
        .call(post(
            &f.es.set(&set("session-revoked", "ada@x.example")).unwrap(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(f.inbox.with(|m| m.accepts), 1);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_unread() {
    let f = Fixture::new(ALL);
    let r = f.call(post(&"a".repeat(crate::ssf::MAX_BODY + 1))).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn an_unknown_kid_fetches_the_keys_again_once_not_on_every_request() {
    let (old, _) = Signer::generate("old").unwrap();
    let (new, _) = Signer::generate("new").unwrap();
    let server = JwksServer::start(old.jwks()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = load(
        dir.path(),
        &format!(
            "[ssf]\nissuer = \"{ISSUER}\"\njwks_uri = \"{}\"\naudience = \"{SSF_AUD}\"\n",
            server.url
        ),
    )
    .unwrap();
    let inbox = MemoryInbox::new();
    let router = crate::router(&config, inbox.clone()).unwrap();
    let send = |signer: &Signer| {
        post(
            &signer
                .set(&set("session-revoked", "ada@x.example"))
                .unwrap(),
        )
    };
    // Fetched when first needed.
    assert_eq!(call(&router, send(&old)).await.status, StatusCode::ACCEPTED);
    assert_eq!(server.fetches(), 1);
    assert_eq!(call(&router, send(&old)).await.status, StatusCode::ACCEPTED);
    assert_eq!(server.fetches(), 1, "cached");
    // The identity provider rotates its key: the new kid fetches the keys again.
    *server.jwks.lock().unwrap() = crate::transmit::jwks(&[&old, &new]);
    assert_eq!(call(&router, send(&new)).await.status, StatusCode::ACCEPTED);
    assert_eq!(server.fetches(), 2);
    // A flood of made-up kids right after: refused without fetching again.
    for i in 0..20 {
        let (bogus, _) = Signer::generate(&format!("bogus-{i}")).unwrap();
        let r = call(&router, send(&bogus)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["err"], "invalid_key");
    }
    assert_eq!(
        server.fetches(),
        2,
        "at most one fetch a minute for unknown kids"
    );
    assert_eq!(inbox.signals().len(), 3);
}

#[tokio::test]
async fn keys_that_cannot_be_fetched_are_a_503_not_a_rejection() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let config = load(
        dir.path(),
        &format!(
            "[ssf]\nissuer = \"{ISSUER}\"\njwks_uri = \"http://127.0.0.1:{port}/keys\"\naudience = \"{SSF_AUD}\"\n"
        ),
    )
    .unwrap();
    let router = crate::router(&config, MemoryInbox::new()).unwrap();
    let (es, _) = Signer::generate("k").unwrap();
    let r = call(
        &router,
        post(&es.set(&set("session-revoked", "a@x.example")).unwrap()),
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
}

/// A client that sends its headers and then trickles (or never finishes) its body cannot hold
/// a connection and a task for ever: past the body timeout it is answered 408, and nothing is
/// journaled.
#[tokio::test(start_paused = true)]
async fn a_body_that_never_arrives_is_answered_408() {
    let f = Fixture::new(ALL);
    for path in ["/ssf/events", "/okta/events", "/global-token-revocation"] {
        let never = futures::stream::pending::<std::result::Result<bytes::Bytes, std::io::Error>>();
        let request = Request::builder()
            .method("POST")
            .uri(path)
            .header("content-type", "application/json")
            .header("authorization", OKTA_SECRET)
            .body(Body::from_stream(never))
            .unwrap();
        let started = tokio::time::Instant::now();
        let r = f.call(request).await;
        assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT, "{path}: {}", r.body);
        assert!(started.elapsed() >= crate::server::BODY_TIMEOUT);
    }
    assert!(f.inbox.signals().is_empty());
}
