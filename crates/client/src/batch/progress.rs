//! What a running bulk write reports as it goes ([`Bulk::on_progress`](super::Bulk::on_progress)).

use std::fmt;
use std::time::Duration;

/// What just happened in a bulk write.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A write call for `users` users is about to leave; `wait` is how long it waits for the
    /// method's rate-limit budget first (zero when a slot is free).
    Sending {
        /// Slack's method name.
        method: &'static str,
        /// Users the call names.
        users: usize,
        /// The wait for the rate-limit budget, as the pacer sees it now.
        wait: Duration,
    },
    /// A write call came back.
    Answered {
        /// Slack's method name.
        method: &'static str,
        /// Users the call named.
        users: usize,
        /// `ok`, Slack's error code, or what went wrong (`not sent`, `no answer`, …).
        result: String,
    },
    /// A refused batch's users are being read with `users.info` to find who is at fault.
    Screening {
        /// Users read.
        users: usize,
        /// The wait for `users.info`'s budget before the first read.
        wait: Duration,
    },
    /// The reads of a screening came back.
    Screened {
        /// Users found refused.
        refused: usize,
        /// Users found fine.
        cleared: usize,
    },
    /// The run is over (the report is being returned).
    Finished,
}

/// Where a bulk write stands, passed to the [`Bulk::on_progress`](super::Bulk::on_progress)
/// callback after each [`Event`]. `Display` writes one line for a log or a terminal.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// What just happened.
    pub event: Event,
    /// Users in the run (each once).
    pub total: usize,
    /// Users whose call succeeded so far.
    pub done: usize,
    /// Users found refused so far.
    pub refused: usize,
    /// Users whose call failed so far.
    pub failed: usize,
    /// Users not sent (known once the run stops).
    pub not_sent: usize,
    /// Write calls made so far.
    pub calls: u32,
    /// `users.info` calls made so far.
    pub screen_calls: u32,
    /// Time since the run started.
    pub elapsed: Duration,
}

impl Progress {
    /// Users settled: done, refused, failed or not sent.
    pub fn settled(&self) -> usize {
        self.done + self.refused + self.failed + self.not_sent
    }
}

impl fmt::Display for Progress {
    /// `[12.3 s] 1000/2500 settled (997 done, 3 refused, 0 failed, 0 not sent; 7 calls, 12
    /// users.info): resetBulk of 500 users waits 2.9 s for its rate limit`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:.1} s] {}/{} settled ({} done, {} refused, {} failed, {} not sent; {} calls, {} users.info): ",
            self.elapsed.as_secs_f64(),
            self.settled(),
            self.total,
            self.done,
            self.refused,
            self.failed,
            self.not_sent,
            self.calls,
            self.screen_calls,
        )?;
        let short = |m: &'static str| m.rsplit('.').next().unwrap_or(m);
        match &self.event {
            Event::Sending {
                method,
                users,
                wait,
            } if !wait.is_zero() => write!(
                f,
                "{} of {users} users waits {:.2} s for its rate limit",
                short(method),
                wait.as_secs_f64()
            ),
            Event::Sending { method, users, .. } => {
                write!(f, "{} of {users} users sent", short(method))
            }
            Event::Answered {
                method,
                users,
                result,
            } => write!(f, "{} of {users} users: {result}", short(method)),
            Event::Screening { users, wait } if !wait.is_zero() => write!(
                f,
                "reading {users} users with users.info (after {:.2} s for its rate limit)",
                wait.as_secs_f64()
            ),
            Event::Screening { users, .. } => write!(f, "reading {users} users with users.info"),
            Event::Screened { refused, cleared } => {
                write!(f, "users.info: {refused} refused, {cleared} fine")
            }
            Event::Finished => f.write_str("finished"),
        }
    }
}
