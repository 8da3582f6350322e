//! `listen CONFIG.toml`: the shell around the engine's listener and the receiver crate. It
//! opens the listener's journal, serves the configured endpoints, runs the worker that signs
//! users out, and logs as a service does (timestamps, one line per event, to standard error).
//! SIGINT and SIGTERM stop it after the requests and the call under way; SIGUSR1 resumes a
//! tripped circuit breaker.

use std::io::Write;

use slack_sessions_engine::Context;
use slack_sessions_engine::events::{Event, Events};
use slack_sessions_engine::listen::Listener;
use slack_sessions_engine::text::visible;
use slack_sessions_listen::{Config, Server};

use crate::cli::ListenFlags;
use crate::exit::{Failure, OK, Result};

/// The engine's events as log lines: a service has no terminal to draw bars on.
pub(crate) fn logged() -> Events {
    Events::new(|event: Event| match event {
        Event::Note(text) => tracing::info!(target: "slack_sessions::listen", "{}", visible(&text)),
        Event::Warning(text) => {
            tracing::warn!(target: "slack_sessions::listen", "{}", visible(&text))
        }
        _ => {}
    })
}

/// Runs `listen`.
pub(crate) async fn run(ctx: &Context, flags: &ListenFlags) -> Result<u8> {
    let config = Config::load(&flags.config)?;
    let (listener, worker) = Listener::open(ctx, config.plan(flags.resume_breaker)).await?;
    let server = Server::bind(&config, listener.clone(), flags.addr).await?;
    banner(&config, &server).map_err(crate::output::write_failed)?;
    resume_on_sigusr1(listener.clone());
    let mut worker = tokio::spawn(worker.run());
    let stop = ctx.stop.clone();
    let serving = server.run(async move { stop.wait().await });
    tokio::pin!(serving);
    // On a stop (SIGINT, SIGTERM) both end, in either order: the worker after the call in
    // progress, the server once its requests are answered. The worker ends on its own only
    // when the journal cannot be written: nothing may be acknowledged any more, so the server
    // stops too.
    tokio::select! {
        served = &mut serving => {
            served?;
            ctx.stop.ask();
            joined(worker.await)?;
        }
        ended = &mut worker => {
            let stopping = ctx.stop.asked();
            ctx.stop.ask();
            let served = serving.await;
            joined(ended)?;
            if !stopping {
                return Err(Failure::other("the listener's worker stopped"));
            }
            served?;
        }
    }
    tracing::info!(target: "slack_sessions::listen", "stopped");
    Ok(OK)
}

fn joined(
    result: std::result::Result<slack_sessions_engine::Result<()>, tokio::task::JoinError>,
) -> Result<()> {
    match result {
        Ok(done) => done.map_err(Failure::from),
        Err(e) => Err(Failure::other(format!("the listener's worker failed: {e}"))),
    }
}

/// What `listen` prints once it serves: where, which endpoints, and its journal.
fn banner(config: &Config, server: &Server) -> std::io::Result<()> {
    let url = server.url();
    let mut out = std::io::stdout().lock();
    writeln!(out, "slack-sessions listener on {url}")?;
    let served = [
        (
            config.ssf.is_some(),
            "POST /ssf/events (Shared Signals push)",
        ),
        (
            config.okta.is_some(),
            "GET, POST /okta/events (Okta Event Hooks)",
        ),
        (
            config.gtr.is_some(),
            "POST /global-token-revocation (Global Token Revocation)",
        ),
    ];
    for (on, what) in served {
        if on {
            writeln!(out, "  {what}")?;
        }
    }
    writeln!(out, "  GET /healthz, GET /metrics")?;
    writeln!(out, "journal {}", config.journal.display())?;
    out.flush()
}

/// SIGUSR1 resumes a tripped circuit breaker (an admin's word, from the same machine).
fn resume_on_sigusr1(listener: Listener) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut usr1) = signal(SignalKind::user_defined1()) else {
            return;
        };
        while usr1.recv().await.is_some() {
            match listener.resume_breaker() {
                Ok(()) => {
                    tracing::info!(target: "slack_sessions::listen", "SIGUSR1: circuit breaker resumed")
                }
                Err(e) => {
                    tracing::error!(target: "slack_sessions::listen", "SIGUSR1: cannot resume the circuit breaker: {e}")
                }
            }
        }
    });
    #[cfg(not(unix))]
    drop(listener);
}
