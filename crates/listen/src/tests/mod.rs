//! The receiver's tests: the router driven with `tower`'s `oneshot` over an inbox in memory,
//! tokens signed by [`crate::transmit`] with a generated P-256 key and a fixed RSA test key,
//! and a JWKS served over real HTTP on 127.0.0.1 for the `jwks_uri` cases.

mod config;
mod gtr;
mod health;
mod okta;
mod serve;
mod ssf;

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Request, StatusCode};
use serde_json::Value;
use slack_sessions_engine::listen::{Accepted, Lookup, Signal, Status};
use slack_sessions_engine::{Error, Result};
use tower::ServiceExt;

use crate::config::Config;
use crate::inbox::Inbox;
use crate::transmit::Signer;

pub const ISSUER: &str = "https://idp.example.com/";
pub const SSF_AUD: &str = "https://sessions.example.com/ssf";
pub const GTR_AUD: &str = "https://sessions.example.com/global-token-revocation";
pub const OKTA_SECRET: &str = "okta-hook-secret-value";
pub const SSF_AUTH: &str = "Bearer ssf-push-secret-value";

/// A 2048-bit RSA key made once with `openssl genpkey`, for RS256.
pub const RSA_PEM: &str = include_str!("rsa-test-key.pem");

/// What the memory inbox holds.
#[derive(Debug, Default)]
pub struct Memory {
    /// The signals journaled, in order.
    pub signals: Vec<Signal>,
    /// `accept` calls.
    pub accepts: usize,
    /// Users by email (lower-case); others are not found.
    pub users: HashMap<String, Lookup>,
    /// `accept` fails (a full disk).
    pub fail: bool,
    /// What `status` says.
    pub status: Status,
}

/// An inbox in memory, with the engine's semantics: a key accepted before is a repeat.
#[derive(Clone, Debug, Default)]
pub struct MemoryInbox(pub Arc<Mutex<Memory>>);

impl MemoryInbox {
    pub fn new() -> MemoryInbox {
        let inbox = MemoryInbox::default();
        inbox.with(|m| {
            m.status.journal_open = true;
            m.status.token_ok = true;
        });
        inbox
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Memory) -> T) -> T {
        f(&mut self.0.lock().unwrap())
    }

    pub fn signals(&self) -> Vec<Signal> {
        self.with(|m| m.signals.clone())
    }
}

impl Inbox for MemoryInbox {
    fn accept(&self, signals: Vec<Signal>) -> Result<Vec<Accepted>> {
        self.with(|m| {
            m.accepts += 1;
            if m.fail {
                return Err(Error::local("cannot write the journal: no space left"));
            }
            Ok(signals
                .into_iter()
                .map(|s| match m.signals.iter().position(|k| k.key == s.key) {
                    Some(i) => Accepted::Repeat(i as u64 + 1),
                    None => {
                        m.signals.push(s);
                        Accepted::New(m.signals.len() as u64)
                    }
                })
                .collect())
        })
    }

    fn lookup(&self, email: &str) -> impl Future<Output = Result<Lookup>> + Send {
        let found = self.with(|m| m.users.get(&email.to_ascii_lowercase()).cloned());
        async move { Ok(found.unwrap_or(Lookup::NotFound)) }
    }

    fn status(&self) -> Status {
        self.with(|m| m.status.clone())
    }
}

/// The environment the configs' secrets come from.
pub fn env(name: &str) -> Option<String> {
    match name {
        "OKTA_HOOK_SECRET" => Some(OKTA_SECRET.into()),
        "SSF_PUSH_AUTH" => Some(SSF_AUTH.into()),
        _ => None,
    }
}

/// A config directory with a JWKS of both keys and a subject map, a config, and its router.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub inbox: MemoryInbox,
    pub es: Signer,
    pub rsa: Signer,
    pub router: Router,
}

/// `[ssf]`, `[okta]` and `[gtr]`, keys from `jwks.json`.
pub const ALL: &str = r#"
[ssf]
issuer = "https://idp.example.com/"
jwks_file = "jwks.json"
audience = "https://sessions.example.com/ssf"
subject_map = "subjects.csv"

[okta]
authorization_env = "OKTA_HOOK_SECRET"

[gtr]
issuer = "https://idp.example.com/"
jwks_file = "jwks.json"
audience = "https://sessions.example.com/global-token-revocation"
"#;

impl Fixture {
    pub fn new(config: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let (es, _) = Signer::generate("es-1").unwrap();
        let rsa = Signer::from_pem(RSA_PEM.as_bytes(), "rsa-1").unwrap();
        write_jwks(&dir.path().join("jwks.json"), &[&es, &rsa]);
        std::fs::write(
            dir.path().join("subjects.csv"),
            "iss,sub,email\nhttps://idp.example.com/,00u-ada,ada@x.example\n",
        )
        .unwrap();
        let inbox = MemoryInbox::new();
        let config = load(dir.path(), config).unwrap();
        let router = crate::router(&config, inbox.clone()).unwrap();
        Fixture {
            dir,
            inbox,
            es,
            rsa,
            router,
        }
    }

    pub async fn call(&self, request: Request<Body>) -> Reply {
        call(&self.router, request).await
    }
}

/// Writes `listen.toml` in `dir` and loads it.
pub fn load(dir: &Path, text: &str) -> Result<Config> {
    let path = dir.join("listen.toml");
    std::fs::write(&path, text).unwrap();
    Config::load_with(&path, env)
}

pub fn write_jwks(path: &Path, signers: &[&Signer]) {
    std::fs::write(path, crate::transmit::jwks(signers).to_string()).unwrap();
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn call(router: &Router, request: Request<Body>) -> Reply {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// A request: `method path`, these headers, this body.
pub fn request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Request<Body> {
    let mut r = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        r = r.header(*name, *value);
    }
    r.body(body.into()).unwrap()
}

/// A JWKS served over HTTP on 127.0.0.1, counting its fetches; its keys can be changed.
pub struct JwksServer {
    pub url: String,
    pub jwks: Arc<Mutex<Value>>,
    pub fetches: Arc<AtomicUsize>,
}

impl JwksServer {
    pub async fn start(jwks: Value) -> JwksServer {
        let keys = Arc::new(Mutex::new(jwks));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (k, f) = (keys.clone(), fetches.clone());
        let app = Router::new().route(
            "/keys",
            axum::routing::get(move || {
                let (k, f) = (k.clone(), f.clone());
                async move {
                    f.fetch_add(1, Ordering::SeqCst);
                    axum::Json(k.lock().unwrap().clone())
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/keys", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        JwksServer {
            url,
            jwks: keys,
            fetches,
        }
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}
