//! The HTTP server: the routes of the sections configured, their body limits, and serving
//! them over HTTP or HTTPS (rustls, ring provider) until a stop is asked.
//!
//! | route | section | what |
//! |---|---|---|
//! | `POST /ssf/events` | `[ssf]` | RFC 8935 push of Security Event Tokens ([`crate::ssf`]) |
//! | `GET`, `POST /okta/events` | `[okta]` | Okta Event Hooks ([`crate::okta`]) |
//! | `POST /global-token-revocation` | `[gtr]` | Global Token Revocation ([`crate::gtr`]) |
//! | `GET /healthz`, `GET /metrics` | always | [`crate::health`] |
//!
//! A section left out leaves its routes answering 404, as any other path.

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use slack_sessions_engine::files::read_capped;
use slack_sessions_engine::{Error, Result};

use crate::app::{Section, Shared};
use crate::config::{Config, Tls};
use crate::inbox::Inbox;
use crate::jose::Keys;
use crate::metrics::Metrics;
use crate::{gtr, health, okta, ssf};

/// The body limit of routes that take none (`GET`s).
const DEFAULT_BODY_LIMIT: usize = 4 << 10;

/// How long a client may take to send its request's headers (a slow client holds a
/// connection open otherwise).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to send its request's body, once its headers are in (a slow
/// client holds a connection and a task otherwise): then 408.
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long requests under way may take to finish once a stop is asked.
const GRACE: Duration = Duration::from_secs(10);

/// The largest certificate chain or key file read.
const MAX_PEM_BYTES: u64 = 1 << 20;

/// The routes of `config`'s sections over `inbox` (tests drive it with `tower::ServiceExt::
/// oneshot`; [`Server`] serves it).
pub fn router<I: Inbox>(config: &Config, inbox: I) -> Result<Router> {
    Ok(Routes::new(config, inbox)?.router)
}

/// The router, and the issuers' keys to fetch at start.
struct Routes {
    router: Router,
    keys: Vec<Arc<Keys>>,
}

impl Routes {
    fn new<I: Inbox>(config: &Config, inbox: I) -> Result<Routes> {
        let shared = Arc::new(Shared {
            inbox,
            metrics: Metrics::default(),
            actions: config.actions.clone(),
        });
        let mut keys = Vec::new();
        let mut router = Router::new()
            .route("/healthz", get(health::healthz::<I>))
            .route("/metrics", get(health::metrics::<I>))
            .with_state(shared.clone());
        if let Some(c) = &config.ssf {
            let s = Section::new(&shared, ssf::Endpoint::new(c.clone())?);
            keys.push(s.endpoint.keys.clone());
            router = router.merge(
                Router::new()
                    .route(
                        "/ssf/events",
                        post(ssf::events::<I>).layer(DefaultBodyLimit::max(ssf::MAX_BODY)),
                    )
                    .with_state(s),
            );
        }
        if let Some(c) = &config.okta {
            let s = Section::new(&shared, c.clone());
            router = router.merge(
                Router::new()
                    .route(
                        "/okta/events",
                        get(okta::verify::<I>)
                            .post(okta::events::<I>)
                            .layer(DefaultBodyLimit::max(okta::MAX_BODY)),
                    )
                    .with_state(s),
            );
        }
        if let Some(c) = &config.gtr {
            let s = Section::new(&shared, gtr::Endpoint::new(c.clone())?);
            keys.push(s.endpoint.keys.clone());
            router = router.merge(
                Router::new()
                    .route(
                        "/global-token-revocation",
                        post(gtr::revoke::<I>).layer(DefaultBodyLimit::max(gtr::MAX_BODY)),
                    )
                    .with_state(s),
            );
        }
        let router = router
            .layer(DefaultBodyLimit::max(DEFAULT_BODY_LIMIT))
            .layer(axum::middleware::from_fn(body_in_time));
        Ok(Routes { router, keys })
    }
}

/// The largest body any route takes.
const MAX_ANY_BODY: usize = {
    let (a, b, c) = (ssf::MAX_BODY, okta::MAX_BODY, gtr::MAX_BODY);
    let ab = if a > b { a } else { b };
    if ab > c { ab } else { c }
};

/// Reads the request's body within [`BODY_TIMEOUT`] (408 past it) and hands it on whole; each
/// route's own limit then applies to it.
async fn body_in_time(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_ANY_BODY)).await {
        Ok(Ok(bytes)) => {
            let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
            next.run(request).await
        }
        Ok(Err(_)) => http::StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        Err(_) => http::StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// A listener bound to its address, ready to serve.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    tls: Option<RustlsConfig>,
    router: Router,
}

impl Server {
    /// Binds `addr` (else the config's; port 0 takes a free port), loads the TLS certificate
    /// if configured, and starts fetching the issuers' keys.
    pub async fn bind<I: Inbox>(
        config: &Config,
        inbox: I,
        addr: Option<SocketAddr>,
    ) -> Result<Server> {
        let routes = Routes::new(config, inbox)?;
        let tls = config.tls.as_ref().map(tls_config).transpose()?;
        let want = addr.unwrap_or(config.addr);
        let listener = TcpListener::bind(want)
            .map_err(|e| Error::local(format!("cannot listen on {want}: {e}")))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::local(format!("cannot listen on {want}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::local(format!("cannot listen on {want}: {e}")))?;
        for keys in routes.keys {
            tokio::spawn(async move { keys.prefetch().await });
        }
        Ok(Server {
            listener,
            addr,
            tls,
            router: routes.router,
        })
    }

    /// The address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL (`https://127.0.0.1:8788`).
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Serves until `stop` completes, then lets the requests under way finish (up to ten
    /// seconds) and returns.
    pub async fn run(self, stop: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let handle = Handle::new();
        let stopping = handle.clone();
        tokio::spawn(async move {
            stop.await;
            stopping.graceful_shutdown(Some(GRACE));
        });
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let addr = self.addr;
        let served = match self.tls {
            Some(tls) => {
                let mut server = axum_server::from_tcp_rustls(self.listener, tls).handle(handle);
                timeouts(server.http_builder());
                server.serve(service).await
            }
            None => {
                let mut server = axum_server::from_tcp(self.listener).handle(handle);
                timeouts(server.http_builder());
                server.serve(service).await
            }
        };
        served.map_err(|e| Error::local(format!("serving on {addr} failed: {e}")))
    }
}

fn timeouts(builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>) {
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
}

/// Binds, tells `bound` the address, and serves until `stop` (see [`Server`]).
pub async fn serve<I: Inbox>(
    config: &Config,
    inbox: I,
    addr: Option<SocketAddr>,
    bound: impl FnOnce(SocketAddr),
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let server = Server::bind(config, inbox, addr).await?;
    bound(server.local_addr());
    server.run(stop).await
}

/// The rustls server config of a PEM certificate chain and key, on the ring provider.
fn tls_config(tls: &Tls) -> Result<RustlsConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let cert = read_capped(&tls.cert, MAX_PEM_BYTES, "TLS certificate")?;
    let key = read_capped(&tls.key, MAX_PEM_BYTES, "TLS key")?;
    let certs = CertificateDer::pem_slice_iter(&cert)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::refused(format!("the TLS certificate {}: {e}", tls.cert.display())))?;
    if certs.is_empty() {
        return Err(Error::refused(format!(
            "the TLS certificate {} holds no certificate (PEM)",
            tls.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_slice(&key)
        .map_err(|e| Error::refused(format!("the TLS key {}: {e}", tls.key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::local(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            Error::refused(format!(
                "the TLS certificate {} and key {} do not make a pair: {e}",
                tls.cert.display(),
                tls.key.display()
            ))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}
