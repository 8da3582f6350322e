//! The edges an attacker or a confused client reaches: verbs, broken bodies, odd paths, and the
//! control plane's own inputs. Every answer is a JSON object and nothing is changed by mistake.

use std::net::SocketAddr;

use serde_json::{Value, json};
use slack_sessions_emulator::{Effect, Emulator, FaultRule, RateLimits, Seed, StartError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::bench::*;

/// Sends raw bytes, half-closes, and returns the HTTP status and the body of the answer.
pub async fn raw(b: &Bench, request: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(b.emu.addr()).await.unwrap();
    stream.write_all(request).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text}"));
    let (_, body) = text.split_once("\r\n\r\n").expect("headers end");
    // A chunked answer: the JSON is inside the chunk framing.
    let json = body
        .find('{')
        .and_then(|start| body.rfind('}').map(|end| &body[start..=end]))
        .unwrap_or("");
    let value = serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, value)
}

#[tokio::test]
async fn head_and_other_verbs_change_nothing() {
    let b = Bench::demo().await;
    let before = b.sessions_of("W0DEMO0005");
    assert!(!before.is_empty());
    for verb in [
        reqwest::Method::HEAD,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let r = b
            .http
            .request(verb.clone(), b.url("admin.users.session.reset"))
            .bearer_auth(ADMIN_TOKEN)
            .query(&[("user_id", "W0DEMO0005")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{verb}");
        assert_eq!(r.headers()["allow"], "GET, POST");
    }
    assert_eq!(
        b.sessions_of("W0DEMO0005"),
        before,
        "no verb but GET/POST acts"
    );
    let r = b
        .send(
            b.http
                .put(b.url("admin.users.session.reset"))
                .bearer_auth(ADMIN_TOKEN),
        )
        .await;
    r.assert_error("method_not_allowed");
}

#[tokio::test]
async fn broken_bodies_are_400_with_a_json_error_not_413() {
    let b = Bench::demo().await;
    let malformed_chunks = format!(
        "POST /api/auth.test HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {ADMIN_TOKEN}\r\n\
         content-type: application/x-www-form-urlencoded\r\ntransfer-encoding: chunked\r\n\r\n\
         zz\r\nab\r\n0\r\n\r\n"
    );
    let (status, body) = raw(&b, malformed_chunks.as_bytes()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "request_timeout", "{body}");

    let cut_short = format!(
        "POST /api/auth.test HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {ADMIN_TOKEN}\r\n\
         content-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\nlimit=1"
    );
    let (status, body) = raw(&b, cut_short.as_bytes()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "request_timeout");
}

#[tokio::test]
async fn odd_method_names_are_unknown_methods_in_json() {
    let b = Bench::demo().await;
    for path in ["auth%fftest", "auth.test%00", "a/b/c", ""] {
        let r = b
            .send(
                b.http
                    .post(format!("{}{path}", b.emu.api_url()))
                    .bearer_auth(ADMIN_TOKEN),
            )
            .await;
        r.assert_error("unknown_method");
    }
    // Anything outside /api/ and /_emulator/ is a JSON 404.
    let r = b.send(b.http.get(format!("{}/nowhere", b.emu.url()))).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json["ok"], false);
}

#[tokio::test]
async fn control_plane_inputs_are_checked_and_answered_in_json() {
    let b = Bench::demo().await;
    let control = |path: &str| format!("{}/_emulator/{path}", b.emu.url());

    // A fault that would never fire is refused, not turned into one that fires once.
    let r = b
        .send(
            b.http
                .post(control("faults"))
                .json(&json!({"effect": "empty_body", "times": 0})),
        )
        .await;
    assert_eq!(r.status, 400);
    r.assert_error("invalid_fault");
    assert!(
        b.emu
            .add_fault(FaultRule::new(Effect::EmptyBody).times(0))
            .is_err()
    );

    // Query errors are JSON too.
    for path in ["audit?after=abc", "requests?since=x", "audit?limit=-1"] {
        let r = b.send(b.http.get(control(path))).await;
        assert_eq!(r.status, 400, "{path}");
        r.assert_error("invalid_query");
    }

    // An `after` past any id returns nothing (it used to wrap around to everything).
    b.form(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        &[("user_id", "W0DEMO0005")],
    )
    .await
    .assert_ok();
    let all = b.send(b.http.get(control("audit"))).await;
    assert!(!all.json["audit"].as_array().unwrap().is_empty());
    for after in [u64::MAX, i64::MAX as u64 + 1, i64::MAX as u64] {
        let r = b
            .send(b.http.get(control(&format!("audit?after={after}"))))
            .await;
        assert_eq!(r.json["audit"], json!([]), "after={after}");
    }
}

#[tokio::test]
async fn the_request_log_pages() {
    let b = Bench::demo().await;
    for _ in 0..25 {
        b.form("auth.test", ADMIN_TOKEN, &[]).await.assert_ok();
    }
    let mut after = 0;
    let mut seen = 0;
    loop {
        let r = b
            .send(b.http.get(format!(
                "{}/_emulator/requests?method=auth.test&limit=10&after={after}",
                b.emu.url()
            )))
            .await;
        let page = r.json["requests"].as_array().unwrap();
        seen += page.len();
        match r.json["next_after"].as_u64() {
            Some(next) => {
                assert_eq!(page.len(), 10);
                after = next;
            }
            None => break,
        }
    }
    assert_eq!(seen, 25);
}

#[tokio::test]
async fn an_empty_control_token_is_refused_at_start() {
    for token in ["", "   "] {
        let err = Emulator::builder()
            .addr(SocketAddr::from(([0, 0, 0, 0], 0)))
            .control_token(token)
            .start()
            .await
            .unwrap_err();
        assert!(matches!(err, StartError::EmptyControlToken), "{err}");
        // Not on loopback either: an empty token is never a token.
        let err = Emulator::builder()
            .control_token(token)
            .start()
            .await
            .unwrap_err();
        assert!(matches!(err, StartError::EmptyControlToken), "{err}");
    }
}

#[tokio::test]
async fn an_ipv4_mapped_loopback_address_is_loopback() {
    let addr: SocketAddr = "[::ffff:127.0.0.1]:0".parse().unwrap();
    match Emulator::builder().addr(addr).start().await {
        Ok(emu) => emu.shutdown().await,
        // A machine without IPv6 cannot bind it; what matters is that it was not refused.
        Err(StartError::Bind { .. }) => {}
        Err(e) => panic!("{addr} refused: {e}"),
    }
}

#[tokio::test]
async fn an_export_of_two_hundred_thousand_sessions_imports_back() {
    let emu = Emulator::builder()
        .generate(20_000, 200_000)
        .rate_limits(RateLimits::Off)
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let state = format!("{}/_emulator/state", emu.url());
    let exported = http
        .get(&state)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(exported.len() > 40 << 20, "{} bytes", exported.len());
    let r = http
        .put(&state)
        .header("content-type", "application/json")
        .body(exported.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let again = http
        .get(&state)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        exported == again,
        "export → import → export is the identity"
    );
    assert_eq!(emu.health().sessions, 200_000);
    emu.shutdown().await;
}

#[tokio::test]
async fn sign_in_refuses_ids_that_would_overflow() {
    let b = Bench::with_seed(Seed::demo()).await;
    let sign_in = |id: Option<u64>| {
        let mut body = json!({"user_id": "W0DEMO0005", "team_id": ORG_ID});
        if let Some(id) = id {
            body["session_id"] = json!(id);
        }
        b.http
            .post(format!("{}/_emulator/sessions", b.emu.url()))
            .json(&body)
    };
    let r = b.send(sign_in(Some(i64::MAX as u64 + 1))).await;
    assert_eq!(r.status, 400);
    let r = b.send(sign_in(Some(i64::MAX as u64))).await;
    r.assert_ok();
    // No id is left above the highest one: refused, not wrapped.
    let r = b.send(sign_in(None)).await;
    assert_eq!(r.status, 409);
    r.assert_error("session_ids_exhausted");
    // And the state still imports back.
    let exported = b.emu.export();
    b.emu.import(&exported).unwrap();
    assert_eq!(b.emu.export(), exported);
}
