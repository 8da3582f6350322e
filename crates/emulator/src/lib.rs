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

#![deny(missing_docs)]

pub mod api;
mod clock;
mod control;
mod cursor;
pub mod demo;
mod jobs;
mod ratelimit;
pub mod seed;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use tokio::sync::oneshot;

pub use ratelimit::{Limiter, RateLimits};
pub use seed::{Seed, SeedError};
use store::{Store, StoreError};

/// Largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;

/// Settings of a running emulator.
#[derive(Clone, Debug)]
pub struct Config {
    /// How long a `resetBulk` job waits before it runs.
    pub bulk_delay: Duration,
    /// Whether `/_emulator/` is served.
    pub control: bool,
}

/// Everything a request handler needs.
#[derive(Debug)]
pub struct App {
    /// The state.
    pub store: Arc<Store>,
    /// Rate-limit buckets.
    pub limits: Limiter,
    /// Settings.
    pub config: Config,
}

impl App {
    /// The HTTP routes: `/api/{method}` and, if enabled, `/_emulator/…`.
    pub fn router(self: Arc<Self>) -> Router {
        let mut router = Router::new().route("/api/{method}", post(api::route).get(api::route));
        if self.config.control {
            router = router.nest("/_emulator", control::router());
        }
        router
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(self)
    }
}

/// Why the emulator did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The store could not be opened or seeded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Builds an [`Emulator`]; see the crate docs.
#[derive(Debug)]
pub struct EmulatorBuilder {
    addr: SocketAddr,
    db: Option<PathBuf>,
    seed: Option<Seed>,
    rate_limits: RateLimits,
    config: Config,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            db: None,
            seed: None,
            rate_limits: RateLimits::Slack,
            config: Config {
                bulk_delay: Duration::from_millis(250),
                control: true,
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

    /// Opens the store, binds, and serves in the background on the current tokio runtime.
    pub async fn start(self) -> Result<Emulator, StartError> {
        let store = Arc::new(Store::open(self.db.as_deref(), self.seed.as_ref())?);
        jobs::resume(&store);
        let app = Arc::new(App {
            store,
            limits: Limiter::new(self.rate_limits),
            config: self.config,
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
        let (stop, stopped) = oneshot::channel::<()>();
        let router = Arc::clone(&app).router();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(err) = serve.await {
                tracing::error!(%err, "server failed");
            }
        });
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

    /// The shared state, for tests that look inside.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Restores the seed.
    pub fn reset(&self) -> Result<(), StoreError> {
        self.app.limits.clear();
        self.app.store.reset()
    }

    /// The whole state in the seed's shape.
    pub fn export(&self) -> Seed {
        self.app.store.export()
    }

    /// Stops accepting connections, finishes in-flight requests, and waits for the server.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
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
    }
}
