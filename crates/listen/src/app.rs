//! What the endpoints share: the inbox (the engine's listener), the receiver's metrics and the
//! actions table ([`Shared`]), each endpoint's own part beside it ([`Section`]), and what they
//! read of a request (its `Authorization`, its media type, its peer). The server builds one
//! [`Section`] per configured endpoint; the endpoints never reach back into the server.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::extract::connect_info::ConnectInfo;
use axum::http::request::Parts;
use http::HeaderMap;
use slack_sessions_engine::listen::{Accepted, Signal};
use slack_sessions_engine::{Error, Result};

use crate::actions::Actions;
use crate::inbox::Inbox;
use crate::metrics::Metrics;

/// What every handler shares.
#[derive(Debug)]
pub(crate) struct Shared<I> {
    pub inbox: I,
    pub metrics: Metrics,
    pub actions: Actions,
}

impl<I: Inbox> Shared<I> {
    /// Journals `signals` (off the async workers: it syncs a file).
    pub async fn accept(&self, signals: Vec<Signal>) -> Result<Vec<Accepted>> {
        let inbox = self.inbox.clone();
        let n = signals.len();
        let accepted = tokio::task::spawn_blocking(move || inbox.accept(signals))
            .await
            .map_err(|e| Error::local(format!("the journal's task failed: {e}")))??;
        if accepted.len() != n {
            return Err(Error::Unexpected(format!(
                "the listener answered {} of {n} signals",
                accepted.len()
            )));
        }
        Ok(accepted)
    }
}

/// One endpoint's state: what all share, and its own part (`E`: its config, keys, `jti`s).
#[derive(Debug)]
pub(crate) struct Section<I, E> {
    pub shared: Arc<Shared<I>>,
    pub endpoint: E,
}

impl<I, E> Section<I, E> {
    /// `endpoint` beside what all share.
    pub fn new(shared: &Arc<Shared<I>>, endpoint: E) -> Arc<Self> {
        Arc::new(Section {
            shared: shared.clone(),
            endpoint,
        })
    }
}

impl<I, E> Deref for Section<I, E> {
    type Target = Shared<I>;

    fn deref(&self) -> &Shared<I> {
        &self.shared
    }
}

/// The request's `Authorization` header, as bytes.
pub(crate) fn authorization(headers: &HeaderMap) -> Option<&[u8]> {
    headers
        .get(http::header::AUTHORIZATION)
        .map(|v| v.as_bytes())
}

/// The essence of the request's `Content-Type` (`application/json` of
/// `application/json; charset=utf-8`), lower-case.
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(http::header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    Some(essence.to_ascii_lowercase())
}

/// The peer's address, when served (not when a test drives the router).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &S,
    ) -> std::result::Result<Peer, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(addr) => write!(f, "{addr}"),
            None => f.write_str("-"),
        }
    }
}
