//! A token never appears in a log line (at trace level, from every crate in the process), a
//! `Debug` or `Display` output, or an error.

use std::io::Write;
use std::sync::{Arc, Mutex};

use slack_sessions_client::methods::{InvalidateArgs, ListArgs, ResetArgs};
use slack_sessions_client::{Client, Encoding, Pacing};
use slack_sessions_emulator::{RateLimits, demo};
use tracing::Level;

use crate::common::{builder, demo_members, emulator, quick_retries};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const UNKNOWN_TOKEN: &str = "xoxp-7777-SECRETSAUCE-unknown";
const OFFLINE_TOKEN: &str = "xoxp-8888-OFFLINESECRET";

/// Secrets and telltales that must appear nowhere.
fn leaks(text: &str) -> Vec<&'static str> {
    [
        demo::ADMIN_TOKEN,
        "demo-admin",
        "SECRETSAUCE",
        "OFFLINESECRET",
        "Bearer",
    ]
    .into_iter()
    .filter(|secret| text.contains(secret))
    .collect()
}

#[tokio::test]
async fn no_token_in_trace_logs_debug_output_or_errors() {
    // The process-wide subscriber, at trace level, so it sees every event of every crate from
    // every test of this binary running meanwhile (a thread-local one can miss events, as
    // tracing caches per-callsite interest across threads). `log` records (reqwest, rustls)
    // are forwarded to it as well.
    let _ = tracing_log::LogTracer::init();
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .expect("no other test installs a global subscriber");

    let emu = emulator(RateLimits::Scale(3)).await;
    let member = demo_members()[0].clone();
    let mut shown = String::new();
    let mut show = |what: &dyn std::fmt::Debug| {
        let line = format!("{what:?}\n");
        tracing::info!(shown = %line);
        shown.push_str(&line);
    };

    for encoding in [Encoding::Form, Encoding::Json] {
        let client = builder(&emu, demo::ADMIN_TOKEN)
            .encoding(encoding)
            .build()
            .unwrap();
        show(&client);
        show(client.token());
        show(&format!("{}", client.token()));
        show(&client.auth_test().await.expect("auth.test"));
        show(
            &client
                .reset(ResetArgs::new(member.as_str()))
                .await
                .expect("reset"),
        );
        let err = client
            .invalidate(InvalidateArgs::new(1_u64, member.as_str()))
            .await
            .expect_err("no such session");
        show(&err);
        show(&err.to_string());
    }

    // A rate limit waited out: the retry path logs the error.
    let client = builder(&emu, demo::ADMIN_TOKEN).build().unwrap();
    for _ in 0..21 {
        show(
            &client
                .list(ListArgs::new().limit(1))
                .await
                .expect("list")
                .attempts,
        );
    }

    // An unknown token: invalid_auth.
    let stranger = builder(&emu, UNKNOWN_TOKEN).build().unwrap();
    show(&stranger);
    let err = stranger.auth_test().await.expect_err("invalid_auth");
    show(&err);
    show(&err.to_string());

    // A request that could not be sent.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let offline = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/api/"))
        .token(OFFLINE_TOKEN)
        .pacing(Pacing::off())
        .retry_policy(quick_retries().max_attempts(2))
        .build()
        .unwrap();
    let err = offline
        .reset(ResetArgs::new("W1"))
        .await
        .expect_err("not sent");
    show(&err);
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        chain.push_str(&format!(": {cause} / {cause:?}"));
        source = cause.source();
    }
    show(&chain);

    emu.shutdown().await;

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    // The capture really saw the exchange, at trace level, including the retry.
    for expected in [
        "slack_call",
        "admin.users.session.reset",
        "arguments",
        "retrying",
        "rate limited",
        "invalid_auth",
    ] {
        assert!(
            logs.contains(expected),
            "the logs lack {expected:?} ({} lines)",
            logs.lines().count()
        );
    }
    assert!(logs.lines().count() > 50, "{} lines", logs.lines().count());
    assert_eq!(leaks(&logs), Vec::<&str>::new(), "token in the logs");
    assert_eq!(
        leaks(&shown),
        Vec::<&str>::new(),
        "token in Debug/Display: {shown}"
    );
    // The redacted forms are there instead.
    assert!(shown.contains("xoxp-…"), "{shown}");
}
