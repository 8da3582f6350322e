//! What a run tells as it goes: notes, warnings, and progress as typed events. The engine never
//! draws anything; the command line turns the events into lines and bars, a service into logs
//! and metrics, a test into a list it can assert on.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// A stretch of work with a known number of steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Task {
    /// Looking users up (emails, IDs).
    Resolving,
    /// Walking the org's sessions for the ones a run acts on.
    Finding,
    /// Checking calls whose answer was lost, before anything is sent again.
    Checking,
    /// Signing users out.
    Resetting,
    /// Ending sessions one by one.
    Ending,
    /// Checking that what was ended is gone.
    Verifying,
}

impl Task {
    /// A short label (`resolving`).
    pub fn label(self) -> &'static str {
        match self {
            Task::Resolving => "resolving",
            Task::Finding => "finding",
            Task::Checking => "checking",
            Task::Resetting => "resetting",
            Task::Ending => "ending",
            Task::Verifying => "verifying",
        }
    }
}

/// How a task's steps are paced: one call of `method` per `per_call` steps, so time left follows
/// the method's rate limit rather than the first burst.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pace {
    /// Slack's method name.
    pub method: &'static str,
    /// Steps each call carries (users per `resetBulk`, 1 otherwise).
    pub per_call: u64,
}

/// Something a run tells.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A line for the person running it.
    Note(String),
    /// Something that needs their attention.
    Warning(String),
    /// A task began, with its number of steps.
    Began {
        /// The task.
        task: Task,
        /// Its steps.
        total: u64,
        /// How its calls are paced, if they are.
        pace: Option<Pace>,
    },
    /// Steps of a task are done.
    Advanced {
        /// The task.
        task: Task,
        /// How many.
        by: u64,
    },
    /// A call has been held up for a while (the client paces to Slack's rate limit, or retries).
    Waiting {
        /// The task.
        task: Task,
        /// Slack's method name.
        method: &'static str,
    },
    /// The call held up came back.
    Answered {
        /// The task.
        task: Task,
    },
    /// A task ended (done or not).
    Ended {
        /// The task.
        task: Task,
    },
}

/// Whoever listens to a run's events.
pub trait Observer: Send + Sync {
    /// Takes one event. Called on the run's task: keep it quick.
    fn event(&self, event: Event);
}

impl<F: Fn(Event) + Send + Sync> Observer for F {
    fn event(&self, event: Event) {
        self(event)
    }
}

/// Where a run's events go.
#[derive(Clone)]
pub struct Events(Arc<dyn Observer>);

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Events")
    }
}

impl Default for Events {
    fn default() -> Self {
        Events::silent()
    }
}

/// How long a call may take before [`Progress::waiting`] says it is held up.
const HELD_UP_AFTER: Duration = Duration::from_secs(1);

impl Events {
    /// Events sent to `observer`.
    pub fn new(observer: impl Observer + 'static) -> Events {
        Events(Arc::new(observer))
    }

    /// Events nobody listens to.
    pub fn silent() -> Events {
        Events::new(|_: Event| {})
    }

    /// Sends an event.
    pub fn send(&self, event: Event) {
        self.0.event(event);
    }

    /// A note.
    pub fn note(&self, text: impl Into<String>) {
        self.send(Event::Note(text.into()));
    }

    /// A warning.
    pub fn warn(&self, text: impl Into<String>) {
        self.send(Event::Warning(text.into()));
    }

    /// Begins a task of `total` steps; it ends when the returned handle is dropped.
    pub fn task(&self, task: Task, total: u64, pace: Option<Pace>) -> Progress {
        self.send(Event::Began { task, total, pace });
        Progress {
            events: self.clone(),
            task,
        }
    }
}

/// A task under way.
#[derive(Debug)]
pub struct Progress {
    events: Events,
    task: Task,
}

impl Progress {
    /// `n` more steps are done.
    pub fn advance(&self, n: u64) {
        self.events.send(Event::Advanced {
            task: self.task,
            by: n,
        });
    }

    /// Runs `call`; if it takes longer than a second (the client paces or retries), says so
    /// until it returns.
    pub async fn waiting<F: Future>(&self, method: &'static str, call: F) -> F::Output {
        tokio::pin!(call);
        tokio::select! {
            out = &mut call => return out,
            _ = tokio::time::sleep(HELD_UP_AFTER) => {}
        }
        self.events.send(Event::Waiting {
            task: self.task,
            method,
        });
        let out = call.await;
        self.events.send(Event::Answered { task: self.task });
        out
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.events.send(Event::Ended { task: self.task });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test(start_paused = true)]
    async fn a_task_tells_its_steps_its_waits_and_its_end() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let events = Events::new(move |e: Event| sink.lock().unwrap().push(e));
        {
            let p = events.task(Task::Ending, 2, None);
            p.advance(1);
            p.waiting("m", tokio::time::sleep(Duration::from_secs(3)))
                .await;
            p.waiting("m", async {}).await;
        }
        let t = Task::Ending;
        assert_eq!(
            *seen.lock().unwrap(),
            [
                Event::Began {
                    task: t,
                    total: 2,
                    pace: None
                },
                Event::Advanced { task: t, by: 1 },
                Event::Waiting {
                    task: t,
                    method: "m"
                },
                Event::Answered { task: t },
                Event::Ended { task: t },
            ]
        );
    }
}
