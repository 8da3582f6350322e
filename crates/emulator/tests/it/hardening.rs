//! Hostile input: oversized bodies, long names, deep JSON, slow clients; and no token in any log.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slack_sessions_emulator::{Emulator, RateLimits, Seed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::bench::*;

#[tokio::test]
async fn oversized_bodies_get_413_and_others_are_served() {
    let b = Bench::demo().await;
    let big = vec![b'a'; (1 << 20) + 1];
    let r = b
        .send(
            b.http
                .post(b.url("admin.users.session.list"))
                .bearer_auth(ADMIN_TOKEN)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(big.clone()),
        )
        .await;
    assert_eq!(r.status, 413);
    r.assert_error("request_too_large");
    // Without a Content-Length (chunked), the limit still holds.
    let stream = futures_stream(big);
    let r = b
        .send(
            b.http
                .post(b.url("admin.users.session.list"))
                .bearer_auth(ADMIN_TOKEN)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(reqwest::Body::wrap_stream(stream)),
        )
        .await;
    assert_eq!(r.status, 413);
    b.form("auth.test", ADMIN_TOKEN, &[]).await.assert_ok();
}

fn futures_stream(bytes: Vec<u8>) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures::stream::iter(
        bytes
            .chunks(64 * 1024)
            .map(|c| Ok(c.to_vec()))
            .collect::<Vec<_>>(),
    )
}

#[tokio::test]
async fn long_names_values_many_ids_and_deep_json() {
    let b = Bench::demo().await;
    let long_name = "a".repeat(10_000);
    b.form(
        "admin.users.session.list",
        ADMIN_TOKEN,
        &[(long_name.as_str(), "1")],
    )
    .await
    .assert_error("invalid_arg_name");
    let long_value = "W".repeat(900_000);
    let started = Instant::now();
    b.form(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        &[("user_id", &long_value)],
    )
    .await
    .assert_error("user_not_found");
    b.form(
        "admin.users.session.list",
        ADMIN_TOKEN,
        &[("cursor", &long_value)],
    )
    .await
    .assert_error("invalid_cursor");
    assert!(started.elapsed() < Duration::from_secs(5));

    let ids: Vec<String> = (0..1001).map(|i| format!("W{i:09}")).collect();
    let ids = ids.join(",");
    for m in [
        "admin.users.session.resetBulk",
        "admin.users.session.getSettings",
        "admin.users.session.setSettings",
        "admin.users.session.clearSettings",
    ] {
        b.form(m, ADMIN_TOKEN, &[("user_ids", &ids), ("duration", "28800")])
            .await
            .assert_error("invalid_arguments");
    }

    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let body = format!("{{\"user_ids\":{deep}}}");
    let r = b
        .send(
            b.http
                .post(b.url("admin.users.session.getSettings"))
                .bearer_auth(ADMIN_TOKEN)
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
    r.assert_error("invalid_json");
    b.form("auth.test", ADMIN_TOKEN, &[]).await.assert_ok();
}

async fn slow_bench() -> Bench {
    let emu = Emulator::builder()
        .seed(Seed::demo())
        .rate_limits(RateLimits::Off)
        .client_timeouts(Duration::from_millis(800), Duration::from_millis(800))
        .start()
        .await
        .unwrap();
    Bench {
        emu,
        http: reqwest::Client::new(),
    }
}

/// Writes `bytes` one at a time, 100 ms apart, until the server closes or `limit` passes.
async fn trickle(stream: &mut TcpStream, bytes: &[u8], limit: Duration) -> Duration {
    let started = Instant::now();
    for byte in bytes.iter().cycle() {
        if stream.write_all(&[*byte]).await.is_err() || started.elapsed() > limit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn trickling_headers_are_cut_off() {
    let b = slow_bench().await;
    let mut stream = TcpStream::connect(b.emu.addr()).await.unwrap();
    stream
        .write_all(b"POST /api/auth.test HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let writer = async {
        let mut stream = stream;
        let took = trickle(
            &mut stream,
            b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            Duration::from_secs(10),
        )
        .await;
        (stream, took)
    };
    // Another client is served meanwhile.
    let other = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        b.form("auth.test", ADMIN_TOKEN, &[]).await
    };
    let ((mut stream, took), other) = tokio::join!(writer, other);
    other.assert_ok();
    assert!(
        took < Duration::from_secs(5),
        "the connection was closed after {took:?}"
    );
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut rest)).await;
}

#[tokio::test]
async fn trickling_bodies_get_request_timeout() {
    let b = slow_bench().await;
    let mut stream = TcpStream::connect(b.emu.addr()).await.unwrap();
    let head = format!(
        "POST /api/admin.users.session.list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\nlimit=1"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    let trickler = tokio::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(b"&").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf).await {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                break;
            }
        }
    })
    .await;
    trickler.abort();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains(r#""error":"request_timeout""#), "{text}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

/// A `MakeWriter` that appends every log line to a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::Write::write(&mut *self.0.lock().unwrap(), buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_token_reaches_a_log_line_at_any_level() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let b = Bench::demo().await;
    b.emu
        .add_fault(
            slack_sessions_emulator::FaultRule::new(
                slack_sessions_emulator::Effect::ResetConnection,
            )
            .times(1),
        )
        .unwrap();
    let _ = b
        .http
        .post(b.url("auth.test"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await;
    b.form(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        &[("user_id", "W0DEMO0005")],
    )
    .await;
    b.form("admin.users.session.reset", REVOKED_TOKEN, &[])
        .await;
    b.send(
        b.http
            .post(b.url("auth.test"))
            .form(&[("token", MEMBER_TOKEN)]),
    )
    .await;
    b.send(
        b.http
            .get(format!("{}?token={BOT_TOKEN}", b.url("auth.test"))),
    )
    .await;
    b.send(
        b.http
            .post(b.url("auth.test"))
            .json(&serde_json::json!({"token": EXPIRED_TOKEN})),
    )
    .await;
    b.send(
        b.http
            .post(b.url("auth.test"))
            .header("token", READ_ONLY_TOKEN),
    )
    .await;
    b.send(
        b.http
            .post(b.url("auth.test"))
            .bearer_auth("xoxp-guessed-wrong"),
    )
    .await;
    b.form(
        "admin.users.session.list",
        NO_SCOPES_TOKEN,
        &[("limit", "x")],
    )
    .await;
    b.emu.shutdown().await;

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("api call"), "the request path logs: {logs}");
    for secret in [
        ADMIN_TOKEN,
        REVOKED_TOKEN,
        MEMBER_TOKEN,
        BOT_TOKEN,
        EXPIRED_TOKEN,
        READ_ONLY_TOKEN,
        NO_SCOPES_TOKEN,
        "xoxp-guessed-wrong",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
    assert!(!logs.contains("xox"), "no token-like string in the logs");
}
