//! A local server that answers Slack's `admin.users.session.*` methods the way Slack does, over
//! real state kept in SQLite.
//!
//! Start it in-process (this is how the client's and CLI's tests use it):
//!
//! ```no_run
//! # async fn demo() -> Result<(), slack_sessions_emulator::StartError> {
//! use slack_sessions_emulator::{Emulator, RateLimits, Seed, demo};
//!
//! let emulator = Emulator::builder()
//!     .seed(Seed::demo())
//!     .rate_limits(RateLimits::Off)
//!     .start()
//!     .await?;
//! let url = emulator.api_url(); // http://127.0.0.1:PORT/api/
//! // … point any Slack client at `url` with token `demo::ADMIN_TOKEN` …
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Or run it as `slack-sessions serve --demo`.
//!
//! Beside `/api/` it serves Slack's Audit Logs API at `/audit/v1/` ([`Emulator::audit_url`]),
//! whose entries it writes from its own events (resets, invalidations, settings changes,
//! sign-ins and sign-outs), from seeds, and from [`Emulator::add_audit_log`].

#![deny(missing_docs)]

mod api;
mod audit_logs;
mod clock;
mod control;
mod cursor;
pub mod demo;
mod faults;
mod forgery;
mod jobs;
mod net;
mod ratelimit;
mod request_log;
pub mod seed;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::any;
use tokio::sync::oneshot;

pub use control::SignInError;
pub use faults::{Effect, FaultError, FaultRule};
pub use ratelimit::RateLimits;
pub use request_log::{LoggedRequest, RequestFilter};
pub use seed::{Seed, SeedError};
pub use slack_sessions_api::BadRateLimits;
pub use store::generate;
pub use store::{AuditEntry, StoreError};

use faults::Faults;
use ratelimit::Limiter;
use request_log::RequestLog;
use store::Store;

/// Largest API request body accepted (413 `request_too_large` past it).
pub const MAX_BODY: usize = 1 << 20;

/// Largest control-plane request body accepted: a `PUT /_emulator/state` of a million sessions
/// is about 250 MiB of JSON.
pub const MAX_CONTROL_BODY: usize = 512 << 20;

/// Settings of a running emulator.
#[derive(Clone)]
struct Config {
    /// How long a `resetBulk` job waits before it runs.
    bulk_delay: Duration,
    /// Whether `/_emulator/` is served.
    control: bool,
    /// The bearer token `/_emulator/` demands, if any (never empty).
    control_token: Option<String>,
    /// How long a client may take to send a request's headers (then the connection closes).
    header_timeout: Duration,
    /// How long a client may take to send a request's body (then `request_timeout`, HTTP 408).
    body_timeout: Duration,
    /// Answer a `list` of one user that finds no session with `no_active_sessions`.
    no_active_sessions: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bulk_delay", &self.bulk_delay)
            .field("control", &self.control)
            .field(
                "control_token",
                &self.control_token.as_ref().map(|_| "<redacted>"),
            )
            .field("header_timeout", &self.header_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("no_active_sessions", &self.no_active_sessions)
            .finish()
    }
}

/// Everything a request handler needs.
#[derive(Debug)]
struct App {
    store: Arc<Store>,
    jobs: jobs::Scheduler,
    limits: Limiter,
    faults: Faults,
    requests: RequestLog,
    config: Config,
    /// The address it listens on (the control plane answers only requests addressed to it).
    addr: SocketAddr,
}

impl App {
    /// The HTTP routes: `/api/{method}`, the Audit Logs API `/audit/v1/…` and, if enabled,
    /// `/_emulator/…`.
    fn router(self: Arc<Self>) -> Router {
        let mut router = Router::new()
            .route("/api/{*method}", any(api::route))
            .route("/audit/v1/{*path}", any(audit_logs::route))
            .route("/audit/v1/", any(audit_logs::route))
            // `/api/` with no name is an unknown method too; any other path is JSON 404.
            .route("/api", any(api::route))
            .route("/api/", any(api::route))
            .fallback(not_found);
        if self.config.control {
            router = router.nest("/_emulator", control::router(&self));
        }
        router.with_state(self)
    }
}

async fn not_found() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        http::StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"ok": false, "error": "not_found"})),
    )
        .into_response()
}

/// Why the emulator did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The store could not be opened or seeded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The control plane would be reachable from other hosts without a token.
    #[error(
        "refusing to serve the control plane on non-loopback address {0} without a control token \
         (give --control-token, or --no-control)"
    )]
    UnprotectedControl(SocketAddr),
    /// The control token is empty or blank, which would let anyone in.
    #[error("the control token is empty: give a non-blank one, or none on a loopback address")]
    EmptyControlToken,
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The I/O error (its text is not repeated in this error's message).
        source: std::io::Error,
    },
}

/// What `GET /_emulator/health` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Health {
    /// Orgs.
    pub orgs: usize,
    /// Users, bots included.
    pub users: usize,
    /// Active sessions.
    pub sessions: usize,
    /// Queued `resetBulk` jobs.
    pub pending_jobs: usize,
    /// Entries of the orgs' audit logs, together.
    pub audit_logs: u64,
}

/// Builds an [`Emulator`]; see the crate docs.
#[derive(Debug)]
pub struct EmulatorBuilder {
    addr: SocketAddr,
    db: Option<PathBuf>,
    seed: Option<Seed>,
    generate: Option<generate::Sizes>,
    rate_limits: RateLimits,
    fault_seed: u64,
    request_log_capacity: usize,
    config: Config,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            db: None,
            seed: None,
            generate: None,
            rate_limits: RateLimits::Slack,
            fault_seed: 0,
            request_log_capacity: 10_000,
            config: Config {
                bulk_delay: Duration::from_millis(250),
                control: true,
                control_token: None,
                header_timeout: Duration::from_secs(10),
                body_timeout: Duration::from_secs(10),
                no_active_sessions: false,
            },
        }
    }
}

impl EmulatorBuilder {
    /// Where to listen (default `127.0.0.1:0`, a free port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// A database file (default: in memory).
    pub fn db_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.db = Some(path.into());
        self
    }

    /// The initial state (and what `/_emulator/reset` restores).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Instead of a seed, a synthetic Grid org of `users` users and `sessions` sessions, written
    /// straight into a new database (org `E0SCALE001`, token `xoxp-scale-admin`; see
    /// [`store::generate`]).
    pub fn generate(mut self, users: usize, sessions: usize) -> Self {
        let logs = self.generate.map_or(0, |s| s.audit_logs);
        self.generate = Some(generate::Sizes::new(users, sessions).audit_logs(logs));
        self
    }

    /// With [`generate`](Self::generate): that many entries in the generated org's audit log,
    /// over 30 days (see [`generate::Sizes`]).
    pub fn generate_audit_logs(mut self, entries: usize) -> Self {
        self.generate = Some(self.generate.unwrap_or_default().audit_logs(entries));
        self
    }

    /// Rate-limit mode (default: Slack's).
    pub fn rate_limits(mut self, mode: RateLimits) -> Self {
        self.rate_limits = mode;
        self
    }

    /// Delay before a `resetBulk` job runs (default 250 ms).
    pub fn bulk_delay(mut self, delay: Duration) -> Self {
        self.config.bulk_delay = delay;
        self
    }

    /// Serve the control plane `/_emulator/` (default: yes).
    pub fn control(mut self, enabled: bool) -> Self {
        self.config.control = enabled;
        self
    }

    /// The bearer token the control plane demands (required on a non-loopback address).
    pub fn control_token(mut self, token: impl Into<String>) -> Self {
        self.config.control_token = Some(token.into());
        self
    }

    /// How long clients may take to send headers and bodies (default 10 s each).
    pub fn client_timeouts(mut self, headers: Duration, body: Duration) -> Self {
        self.config.header_timeout = headers;
        self.config.body_timeout = body;
        self
    }

    /// Seed of the random source behind fault `probability` (default 0): same seed, same draws.
    pub fn fault_seed(mut self, seed: u64) -> Self {
        self.fault_seed = seed;
        self
    }

    /// How many requests the request log keeps (default 10,000; the oldest go first). It also
    /// keeps at most 16 MiB, and at most 32 KiB of arguments per request.
    pub fn request_log_capacity(mut self, capacity: usize) -> Self {
        self.request_log_capacity = capacity;
        self
    }

    /// Answer a `list` of one user (`team_id` + `user_id`) that finds no session with
    /// `no_active_sessions` instead of an empty page (default: an empty page). Slack documents
    /// that error for `list` without saying when it is given; this lets tools be tested
    /// against both readings.
    pub fn no_active_sessions(mut self, enabled: bool) -> Self {
        self.config.no_active_sessions = enabled;
        self
    }

    /// Opens the store, binds, and serves in the background on the current tokio runtime.
    pub async fn start(self) -> Result<Emulator, StartError> {
        if self
            .config
            .control_token
            .as_deref()
            .is_some_and(|t| t.trim().is_empty())
        {
            return Err(StartError::EmptyControlToken);
        }
        // `::ffff:127.0.0.1` is loopback too.
        if self.config.control
            && self.config.control_token.is_none()
            && !self.addr.ip().to_canonical().is_loopback()
        {
            return Err(StartError::UnprotectedControl(self.addr));
        }
        let store = Arc::new(match self.generate {
            Some(sizes) => Store::open_generated(self.db.as_deref(), sizes)?,
            None => Store::open(self.db.as_deref(), self.seed.as_ref())?,
        });
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: self.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: self.addr,
            source,
        })?;
        let app = Arc::new(App {
            jobs: jobs::Scheduler::new(Arc::clone(&store)),
            store,
            limits: Limiter::new(self.rate_limits),
            faults: Faults::new(self.fault_seed),
            requests: RequestLog::new(self.request_log_capacity, request_log::MAX_BYTES),
            config: self.config,
            addr,
        });
        app.jobs.resume();
        let (stop, stopped) = oneshot::channel::<()>();
        let router = Arc::clone(&app).router();
        let header_timeout = app.config.header_timeout;
        let task = tokio::spawn(net::serve(
            listener,
            router,
            header_timeout,
            stopped,
            Duration::from_secs(5),
        ));
        Ok(Emulator {
            addr,
            app,
            stop: Some(stop),
            task,
        })
    }
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Emulator {
    /// A builder with the defaults: `127.0.0.1:0`, in-memory database, empty state.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://ADDR/api/`: the base URL for Slack clients.
    pub fn api_url(&self) -> String {
        format!("http://{}/api/", self.addr)
    }

    /// `http://ADDR/audit/v1/`: the base URL of the Audit Logs API (Slack's is
    /// `https://api.slack.com/audit/v1/`).
    pub fn audit_url(&self) -> String {
        format!("http://{}/audit/v1/", self.addr)
    }

    /// The HTTP routes (`/api/…` and `/_emulator/…`), to serve them yourself or to drive them
    /// in-process with tower's `oneshot`, as axum's testing example does. Without a real
    /// connection the `reset_connection` fault cannot reset one, and answers an empty 200. The
    /// control plane still answers only requests whose `Host` (when they carry one) is this
    /// emulator's address or a loopback name with its port.
    pub fn router(&self) -> Router {
        Arc::clone(&self.app).router()
    }

    /// The ids of the orgs the emulator holds, in seed order.
    pub fn org_ids(&self) -> Vec<String> {
        self.app
            .store
            .read(|v| v.orgs().map(|o| o.id().to_owned()).collect())
    }

    /// Whether the database already held state at start-up, which was kept as it was (the seed
    /// given is then only what a reset restores).
    pub fn kept_existing_state(&self) -> bool {
        self.app.store.kept_existing_state()
    }

    /// Restores the seed (`POST /_emulator/reset`).
    pub fn reset(&self) -> Result<(), StoreError> {
        self.app.limits.clear();
        self.app.store.reset()
    }

    /// The whole state in the seed's shape, audit logs included (`GET /_emulator/state`), so
    /// that it imports back as it was: **bot users' sessions included**, which
    /// `admin.users.session.list` never returns (Slack lists no bot sessions). To compare an
    /// export with what a client listed, leave out the sessions of users with `is_bot`.
    ///
    /// # Panics
    ///
    /// If the database cannot be read (the audit logs are read from it).
    ///
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use slack_sessions_emulator::{Emulator, Seed};
    ///
    /// let emulator = Emulator::builder().seed(Seed::demo()).start().await?;
    /// let state = emulator.export();
    /// let org = &state.orgs[0];
    /// let listable = org
    ///     .sessions
    ///     .iter()
    ///     .filter(|s| !org.users.iter().any(|u| u.id == s.user_id && u.is_bot))
    ///     .count();
    /// println!("{listable} sessions a list call returns, of {}", org.sessions.len());
    /// # Ok(()) }
    /// ```
    pub fn export(&self) -> Seed {
        self.app.store.export().expect("the database is readable")
    }

    /// Replaces the whole state (`PUT /_emulator/state`).
    pub fn import(&self, seed: &Seed) -> Result<(), StoreError> {
        self.app.limits.clear();
        self.app.store.replace(seed)
    }

    /// Counts of orgs, users, sessions and pending jobs (`GET /_emulator/health`).
    pub fn health(&self) -> Health {
        control::health_of(&self.app)
    }

    /// A simulated sign-in (`POST /_emulator/sessions`): adds `session` to its user's org, with
    /// a fresh id when its `session_id` is 0, and its `user_login` to the org's audit log. A
    /// session on an `unknown` client is refused (`invalid_client`), as on the control plane.
    pub fn add_session(&self, session: seed::SessionSeed) -> Result<u64, SignInError> {
        control::add_session(&self.app, session)
    }

    /// A simulated sign-out (`DELETE /_emulator/sessions/{id}`): the session ends, and its
    /// `user_logout` goes to its org's audit log.
    pub fn sign_out(&self, session_id: u64) -> Result<(), SignInError> {
        control::sign_out(&self.app, session_id)
    }

    /// Adds an entry to an org's audit log (`POST /_emulator/audit-logs`), e.g. an `anomaly`
    /// or a `user_login_failed`: see that route for how `entry` is completed. Returns the
    /// entry's id.
    pub fn add_audit_log(&self, entry: serde_json::Value) -> Result<String, SignInError> {
        control::add_audit_log(&self.app, entry)
    }

    /// Adds a fault rule after the existing ones (`POST /_emulator/faults`).
    pub fn add_fault(&self, rule: FaultRule) -> Result<FaultRule, FaultError> {
        self.app.faults.add(rule)
    }

    /// The fault rules with their remaining `times` (`GET /_emulator/faults`).
    pub fn faults(&self) -> Vec<FaultRule> {
        self.app.faults.list()
    }

    /// Removes every fault rule (`DELETE /_emulator/faults`).
    pub fn clear_faults(&self) {
        self.app.faults.clear();
    }

    /// The request log (`GET /_emulator/requests`).
    pub fn requests(&self, filter: &RequestFilter) -> Vec<LoggedRequest> {
        self.app.requests.list(filter)
    }

    /// Empties the request log (`DELETE /_emulator/requests`).
    pub fn clear_requests(&self) {
        self.app.requests.clear();
    }

    /// Audit entries after id `after` (`GET /_emulator/audit`).
    pub fn audit(&self, after: u64) -> Result<Vec<AuditEntry>, StoreError> {
        self.app.store.audit(after, u32::MAX)
    }

    /// Stops accepting connections, finishes in-flight requests, and waits for the server.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        self.app.jobs.stop().await;
    }

    /// Waits until the server stops (it stops when `shutdown` is called or it fails).
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.app.jobs.abort();
    }
}

/// Entry points for the fuzz targets (`fuzz/`), which can only reach public items.
#[cfg(feature = "test-util")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::cursor::{decode_session, encode_session};
    use crate::{Seed, StoreError, store::Store};

    /// Loads `seed` into an in-memory store and exports it back.
    pub fn store_round_trip(seed: &Seed) -> Result<Seed, StoreError> {
        Store::open(None, Some(seed))?.export()
    }
}
