//! The control plane refuses what a web page can make a browser send: a cross-origin request
//! (`Origin` of another site), a "simple" request that needs no CORS preflight (`text/plain`),
//! and a DNS-rebinding request (`Host` of the attacker's name, resolved to 127.0.0.1). Each case
//! is the request a browser would write, sent byte for byte; the API itself (`/api/`) keeps
//! answering whatever the Host, as Slack does.

use serde_json::Value;

use crate::bench::*;
use crate::edges::raw;

/// A request with the given extra header lines (each ending in `\r\n`) and body.
fn request(verb: &str, path: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "{verb} {path} HTTP/1.1\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

const FAULT: &str = r#"{"effect":{"error":"internal_error"}}"#;

#[tokio::test]
async fn a_cross_origin_text_plain_post_is_refused_and_changes_nothing() {
    let b = Bench::demo().await;
    let host = format!("Host: {}\r\n", b.emu.addr());
    // What `fetch(url, {method: "POST", mode: "no-cors", body})` on http://evil.example sends.
    let forged = format!("{host}Origin: http://evil.example\r\nContent-Type: text/plain\r\n");
    let (status, body) = raw(&b, &request("POST", "/_emulator/faults", &forged, FAULT)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["ok"], false);
    assert_eq!(body["error"], "forbidden_origin");
    assert!(
        body["detail"].as_str().unwrap().contains("evil.example"),
        "{body}"
    );

    // The same body as text/plain without an Origin (a simple request): 415.
    let plain = format!("{host}Content-Type: text/plain\r\n");
    let (status, body) = raw(&b, &request("POST", "/_emulator/faults", &plain, FAULT)).await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(body["error"], "unsupported_media_type");
    // A form, as `curl -d` sends it, is not JSON either.
    let form = format!("{host}Content-Type: application/x-www-form-urlencoded\r\n");
    let (status, _) = raw(&b, &request("POST", "/_emulator/reset", &form, "x=1")).await;
    assert_eq!(status, 415);
    // A body without any Content-Type.
    let (status, _) = raw(&b, &request("POST", "/_emulator/faults", &host, FAULT)).await;
    assert_eq!(status, 415);

    // JSON from another origin: refused all the same.
    let json = format!("{host}Origin: http://evil.example\r\nContent-Type: application/json\r\n");
    let (status, _) = raw(&b, &request("POST", "/_emulator/faults", &json, FAULT)).await;
    assert_eq!(status, 403);
    let null = format!("{host}Origin: null\r\nContent-Type: application/json\r\n");
    let (status, _) = raw(&b, &request("POST", "/_emulator/reset", &null, "{}")).await;
    assert_eq!(status, 403);
    assert!(b.emu.faults().is_empty(), "no fault was added");
}

#[tokio::test]
async fn a_rebinding_host_is_refused() {
    let b = Bench::demo().await;
    let port = b.emu.addr().port();
    // DNS rebinding: evil.example now resolves to 127.0.0.1, so the page is same-origin with
    // it and may read the answer; only the Host header tells.
    for host in ["evil.example".to_owned(), format!("evil.example:{port}")] {
        let headers = format!("Host: {host}\r\nContent-Type: application/json\r\n");
        let (status, body) = raw(&b, &request("POST", "/_emulator/faults", &headers, FAULT)).await;
        assert_eq!(status, 403, "{host}: {body}");
        assert_eq!(body["error"], "forbidden_host");
        let headers = format!("Host: {host}\r\n");
        let (status, body) = raw(&b, &request("GET", "/_emulator/state", &headers, "")).await;
        assert_eq!(status, 403, "{host}");
        assert!(
            !body.to_string().contains("xoxp-"),
            "no token leaks: {body}"
        );
    }
    // Our own address with another port is another server.
    let headers = format!("Host: 127.0.0.1:{}\r\n", port.wrapping_add(1));
    let (status, _) = raw(&b, &request("GET", "/_emulator/health", &headers, "")).await;
    assert_eq!(status, 403);
    assert!(b.emu.faults().is_empty());

    // The API is Slack's and answers any Host (SDKs behind proxies send their own).
    let headers = format!(
        "Host: evil.example\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n"
    );
    let (status, body) = raw(&b, &request("POST", "/api/auth.test", &headers, "")).await;
    assert_eq!((status, &body["ok"]), (200, &Value::Bool(true)), "{body}");
}

#[tokio::test]
async fn what_curl_sdks_and_the_emulators_own_pages_send_is_served() {
    let b = Bench::demo().await;
    let port = b.emu.addr().port();
    for host in [
        b.emu.addr().to_string(),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let headers = format!("Host: {host}\r\n");
        let (status, body) = raw(&b, &request("GET", "/_emulator/health", &headers, "")).await;
        assert_eq!(status, 200, "{host}: {body}");
    }
    let host = format!("Host: {}\r\n", b.emu.addr());
    // `curl -X POST` with no body, and JSON with a charset.
    let (status, _) = raw(&b, &request("POST", "/_emulator/reset", &host, "")).await;
    assert_eq!(status, 200);
    let json = format!("{host}Content-Type: application/json; charset=utf-8\r\n");
    let (status, body) = raw(&b, &request("POST", "/_emulator/faults", &json, FAULT)).await;
    assert_eq!(status, 200, "{body}");
    // An Origin of the emulator itself is one it served.
    for origin in [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ] {
        let headers = format!("{host}Origin: {origin}\r\nContent-Type: application/json\r\n");
        let (status, _) = raw(&b, &request("DELETE", "/_emulator/faults", &headers, "")).await;
        assert_eq!(status, 200, "{origin}");
    }
    // reqwest, as the CLI and tests use it.
    let state = b
        .send(b.http.get(format!("{}/_emulator/state", b.emu.url())))
        .await;
    assert_eq!(state.status, 200);
    assert_eq!(state.json["orgs"].as_array().unwrap().len(), 3);
}
