//! The one stop signal of every run. SIGINT and SIGTERM alike ask a run to stop: it finishes
//! (or settles) the call in flight, journals it, and returns [`Error::Interrupted`]. A second
//! signal ends the process at once, as does one while the run waits at a prompt (nothing has
//! changed then). The journal is safe either way: intents are on disk before their calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use crate::error::{Error, Result};
use crate::events::Events;

/// The exit status of a process ended by a second signal (the shell's for SIGINT).
pub const EXIT_AT_ONCE: i32 = 130;

#[derive(Debug, Default)]
struct Inner {
    asked: AtomicBool,
    at_once: AtomicBool,
    notify: Notify,
}

/// A stop asked for, shared by a run and whoever may ask.
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<Inner>);

impl Stop {
    /// A stop that only [`ask`](Stop::ask) sets.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// A stop that SIGINT and SIGTERM set (within a tokio runtime). The first signal asks
    /// (and says so on `events`); the second ends the process with status 130.
    pub fn on_signals(events: Events) -> Stop {
        let stop = Stop::new();
        let this = stop.clone();
        let mut signals = Signals::new();
        tokio::spawn(async move {
            let mut first = true;
            while signals.next().await {
                if this.0.at_once.load(Ordering::SeqCst) {
                    events.warn("interrupted at the prompt; nothing was changed");
                    std::process::exit(EXIT_AT_ONCE);
                }
                if !first {
                    events.warn("stopped at once");
                    std::process::exit(EXIT_AT_ONCE);
                }
                first = false;
                this.ask();
                events.warn(
                    "stopping after the call in progress (Ctrl-C again to stop at once; the \
                     journal is safe either way)",
                );
            }
        });
        stop
    }

    /// Asks the run to stop.
    pub fn ask(&self) {
        self.0.asked.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether a stop was asked for.
    pub fn asked(&self) -> bool {
        self.0.asked.load(Ordering::SeqCst)
    }

    /// [`Error::Interrupted`] once a stop was asked for.
    pub fn check(&self) -> Result<()> {
        if self.asked() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }

    /// Sleeps `d`, or less if a stop is asked for: `false` then.
    pub async fn sleep(&self, d: Duration) -> bool {
        let asked = self.0.notify.notified();
        tokio::pin!(asked);
        asked.as_mut().enable();
        if self.asked() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => !self.asked(),
            _ = asked => false,
        }
    }

    /// Waits until a stop is asked for (a service's shutdown).
    pub async fn wait(&self) {
        while self.sleep(Duration::from_secs(3600)).await {}
    }

    /// Runs `f` (a prompt, where nothing has changed yet): a signal meanwhile ends the
    /// process at once.
    pub fn at_once<T>(&self, f: impl FnOnce() -> T) -> T {
        self.0.at_once.store(true, Ordering::SeqCst);
        let out = f();
        self.0.at_once.store(false, Ordering::SeqCst);
        out
    }
}

/// SIGINT and SIGTERM, caught from the moment this is made.
struct Signals {
    #[cfg(unix)]
    both: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                both: signal(SignalKind::interrupt())
                    .ok()
                    .zip(signal(SignalKind::terminate()).ok()),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next signal (`false` if none can be caught).
    async fn next(&mut self) -> bool {
        #[cfg(unix)]
        {
            let Some((int, term)) = &mut self.both else {
                return false;
            };
            tokio::select! {
                s = int.recv() => s.is_some(),
                s = term.recv() => s.is_some(),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.is_ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_stop_cuts_a_sleep_short() {
        let stop = Stop::new();
        assert!(stop.check().is_ok());
        assert!(stop.sleep(Duration::from_millis(10)).await);
        let other = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            other.ask();
        });
        let started = tokio::time::Instant::now();
        assert!(!stop.sleep(Duration::from_secs(3600)).await);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(matches!(stop.check(), Err(Error::Interrupted)));
    }
}
