//! What the HTTP side needs of the engine's listener: to journal signals, to look a user up
//! (GTR answers 404/422 before it journals), and to say where things stand. A trait, so that
//! the receiver can be tested with an inbox in memory.

use std::future::Future;

use slack_sessions_engine::Result;
use slack_sessions_engine::listen::{Accepted, Listener, Lookup, Signal, Status};

/// Where accepted signals go.
pub trait Inbox: Clone + Send + Sync + 'static {
    /// Journals the new ones of `signals` (synced) before returning; one answer per signal,
    /// in order. Blocking (it syncs a file): called off the async workers.
    fn accept(&self, signals: Vec<Signal>) -> Result<Vec<Accepted>>;

    /// Looks `email` up.
    fn lookup(&self, email: &str) -> impl Future<Output = Result<Lookup>> + Send;

    /// Where things stand.
    fn status(&self) -> Status;
}

impl Inbox for Listener {
    fn accept(&self, signals: Vec<Signal>) -> Result<Vec<Accepted>> {
        Listener::accept(self, signals)
    }

    fn lookup(&self, email: &str) -> impl Future<Output = Result<Lookup>> + Send {
        Listener::lookup(self, email)
    }

    fn status(&self) -> Status {
        Listener::status(self)
    }
}
