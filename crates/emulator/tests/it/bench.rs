//! A running emulator and an HTTP client to talk to it.

use reqwest::StatusCode;
use serde_json::Value;
use slack_sessions_emulator::{Emulator, RateLimits, Seed};

pub use slack_sessions_emulator::demo::*;

pub struct Bench {
    pub emu: Emulator,
    pub http: reqwest::Client,
}

/// An answer: HTTP status, headers and JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Reply {
    pub fn ok(&self) -> bool {
        self.json["ok"] == true
    }

    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(self.ok(), "expected ok, got {}", self.json);
        assert_eq!(self.status, StatusCode::OK);
        self
    }

    #[track_caller]
    pub fn assert_error(&self, code: &str) -> &Self {
        assert_eq!(self.json["ok"], false, "{}", self.json);
        assert_eq!(self.error(), code, "{}", self.json);
        self
    }
}

impl Bench {
    pub async fn with_seed(seed: Seed) -> Bench {
        let emu = Emulator::builder()
            .seed(seed)
            .rate_limits(RateLimits::Off)
            .bulk_delay(std::time::Duration::from_millis(20))
            .start()
            .await
            .expect("emulator starts");
        Bench {
            emu,
            http: reqwest::Client::new(),
        }
    }

    pub async fn demo() -> Bench {
        Bench::with_seed(Seed::demo()).await
    }

    pub fn url(&self, method: &str) -> String {
        format!("{}{method}", self.emu.api_url())
    }

    async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body");
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
        Reply {
            status,
            headers,
            json,
        }
    }

    /// A form POST with a bearer token.
    pub async fn form(&self, method: &str, token: &str, args: &[(&str, &str)]) -> Reply {
        let resp = self
            .http
            .post(self.url(method))
            .bearer_auth(token)
            .form(args)
            .send()
            .await
            .expect("request");
        Self::reply(resp).await
    }

    /// A JSON POST with a bearer token.
    pub async fn json(&self, method: &str, token: &str, body: Value) -> Reply {
        let resp = self
            .http
            .post(self.url(method))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request");
        Self::reply(resp).await
    }

    /// Any request, built by the caller.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        Self::reply(req.send().await.expect("request")).await
    }

    /// Every session id of the org visible to `token`, walking all pages.
    pub async fn all_session_ids(&self, token: &str, extra: &[(&str, &str)]) -> Vec<u64> {
        let mut ids = Vec::new();
        let mut cursor = String::new();
        loop {
            let mut args = extra.to_vec();
            args.push(("limit", "1000"));
            if !cursor.is_empty() {
                args.push(("cursor", &cursor));
            }
            let r = self.form("admin.users.session.list", token, &args).await;
            r.assert_ok();
            for s in r.json["active_sessions"].as_array().unwrap() {
                ids.push(s["session_id"].as_u64().unwrap());
            }
            cursor = r.json["response_metadata"]["next_cursor"]
                .as_str()
                .unwrap()
                .to_owned();
            if cursor.is_empty() {
                return ids;
            }
        }
    }

    /// The session ids of one user, from the emulator's state.
    pub fn sessions_of(&self, user: &str) -> Vec<u64> {
        self.sessions_where(|s| s.user_id == user)
            .iter()
            .map(|s| s.session_id)
            .collect()
    }

    /// The sessions (in id order) that match `keep`, from the emulator's state.
    pub fn sessions_where(
        &self,
        keep: impl Fn(&slack_sessions_emulator::seed::SessionSeed) -> bool,
    ) -> Vec<slack_sessions_emulator::seed::SessionSeed> {
        self.emu
            .export()
            .orgs
            .into_iter()
            .flat_map(|o| o.sessions)
            .filter(|s| keep(s))
            .collect()
    }

    /// Sends a request through the router in-process (axum's `oneshot`), no socket.
    pub async fn oneshot(
        &self,
        request: http::Request<axum::body::Body>,
    ) -> (http::StatusCode, Vec<u8>) {
        use tower::ServiceExt;
        let response = self
            .emu
            .router()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("a body");
        (status, body.to_vec())
    }

    /// Polls until `cond` holds (at most 5 s).
    pub async fn eventually(&self, what: &str, cond: impl Fn(&Bench) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !cond(self) {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}
