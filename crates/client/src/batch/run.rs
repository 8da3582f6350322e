//! [`Bulk`]: a bulk write's options, and the run that sends its batches and isolates the users
//! Slack refuses.

use std::collections::{HashSet, VecDeque};
use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use slack_sessions_api::methods::{Empty, UsersInfo};
use slack_sessions_api::{ErrorCode, Method, UserId};
use tokio::time::Instant;

use super::progress::{Event, Progress};
use super::report::{BatchResult, BulkReport, FoundBy, Refusal};
use super::screen::{Screening, Write};
use super::{MAX_USER_IDS, unique};
use crate::{Client, Error, NotSentReason, Response};

type Call = Arc<dyn Fn(Client, Vec<UserId>) -> BoxFuture<'static, CallResult> + Send + Sync>;
type CallResult = Result<Response<Empty>, Error>;
type OnProgress = Arc<dyn Fn(&Progress) + Send + Sync>;

/// When the run must end.
#[derive(Clone, Copy, Debug)]
enum Deadline {
    At(Instant),
    After(Duration),
}

/// A bulk write, ready to run: set its options, then `.await` it for a [`BulkReport`]. Made by
/// [`Client::reset_bulk_all`], [`Client::set_settings_all`] and
/// [`Client::clear_settings_all`].
///
/// ```no_run
/// # async fn run(client: slack_sessions_client::Client, users: Vec<String>) {
/// use std::time::Duration;
/// use slack_sessions_client::methods::ResetBulkArgs;
///
/// let report = client
///     .reset_bulk_all(ResetBulkArgs::new(&users))
///     .on_progress(|p| eprintln!("{p}"))      // one line per call, screening and wait
///     .timeout(Duration::from_secs(120))      // then stop: the rest is `NotSent`
///     .await;
/// println!("{} done, {} refused, {} failed, {} not sent", report.done().len(),
///     report.refused().len(), report.failed().len(), report.not_sent().len());
/// # }
/// ```
#[must_use = "a bulk write does nothing until awaited"]
pub struct Bulk {
    client: Client,
    users: Vec<UserId>,
    call: Call,
    method: &'static str,
    write: Write,
    batch_size: usize,
    concurrency: usize,
    split_refused: bool,
    screen: bool,
    keep_going: bool,
    deadline: Option<Deadline>,
    on_progress: Option<OnProgress>,
}

impl std::fmt::Debug for Bulk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bulk")
            .field("method", &self.method)
            .field("users", &self.users.len())
            .field("batch_size", &self.batch_size)
            .field("concurrency", &self.concurrency)
            .field("split_refused", &self.split_refused)
            .field("screen", &self.screen)
            .field("keep_going", &self.keep_going)
            .field("deadline", &self.deadline)
            .field("on_progress", &self.on_progress.is_some())
            .finish_non_exhaustive()
    }
}

impl Bulk {
    pub(crate) fn new<F>(
        client: &Client,
        method: &'static str,
        write: Write,
        users: Vec<UserId>,
        call: F,
    ) -> Self
    where
        F: Fn(Client, Vec<UserId>) -> BoxFuture<'static, CallResult> + Send + Sync + 'static,
    {
        Bulk {
            client: client.clone(),
            users,
            call: Arc::new(call),
            method,
            write,
            batch_size: MAX_USER_IDS,
            concurrency: 1,
            split_refused: true,
            screen: true,
            keep_going: false,
            deadline: None,
            on_progress: None,
        }
    }

    /// Users per call (default and most: [`MAX_USER_IDS`]).
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch_size = size.clamp(1, MAX_USER_IDS);
        self
    }

    /// Write calls in flight at once (default 1). The client's pacing still spreads them over
    /// the method's budget, so this helps when calls are slow, not when the budget is spent.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Find the users a refused batch was refused for, and send the others again (default:
    /// yes). When off, every user of such a batch gets [`UserOutcome::Failed`](super::UserOutcome::Failed).
    pub fn split_refused(mut self, split: bool) -> Self {
        self.split_refused = split;
        self
    }

    /// Read the users of a refused batch with `users.info` to find who is at fault (default:
    /// yes, when the budgets favour it; see the [module docs](super)). When off, or when the
    /// token lacks `users:read`, refused batches are only split in halves.
    pub fn screen_with_users_info(mut self, screen: bool) -> Self {
        self.screen = screen;
        self
    }

    /// Go on with the other batches after a batch failed for another reason than its users
    /// (authentication, a rate limit or a server error the retries did not get past, no
    /// usable answer). Default: stop, since the next batches would most likely fail the same
    /// way; the users not sent get [`UserOutcome::NotSent`](super::UserOutcome::NotSent).
    pub fn keep_going(mut self, keep_going: bool) -> Self {
        self.keep_going = keep_going;
        self
    }

    /// Send nothing after `deadline`: a call whose rate-limit slot (or retry) would come later
    /// is not sent, the run stops, and the report comes back with every user not sent as
    /// [`UserOutcome::NotSent`](super::UserOutcome::NotSent) and
    /// [`BulkReport::deadline_passed`] set. A call already on the wire at the deadline is
    /// waited for (at most the client's request timeout), so that its users' outcome is known.
    ///
    /// This, not `tokio::time::timeout` (which drops the report) nor
    /// [`Pacing::max_wait`](crate::Pacing::max_wait) (which bounds each call's wait, so that
    /// the first call to wait longer ends the run), is how to bound a run.
    pub fn deadline(mut self, deadline: impl Into<Instant>) -> Self {
        self.deadline = Some(Deadline::At(deadline.into()));
        self
    }

    /// [`deadline`](Self::deadline) `timeout` after the run starts (when it is awaited).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = Some(Deadline::After(timeout));
        self
    }

    /// Calls `f` after each step of the run: a call about to leave (with its wait for the rate
    /// limit), a call answered, a screening started or answered, the end. [`Progress`]'s
    /// `Display` is a line for a log: `.on_progress(|p| eprintln!("{p}"))`.
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(f));
        self
    }

    async fn run(self) -> BulkReport {
        let started = Instant::now();
        let deadline = self.deadline.map(|d| match d {
            Deadline::At(at) => at,
            Deadline::After(after) => started + after,
        });
        let order = unique(self.users.iter().cloned());
        let queue = order
            .chunks(self.batch_size)
            .map(|users| Batch::new(users.to_vec()))
            .collect();
        let mut run = Run {
            client: self.client.with_deadline(deadline),
            call: Arc::clone(&self.call),
            method: self.method,
            write: self.write,
            concurrency: self.concurrency,
            split_refused: self.split_refused,
            screen: self.screen,
            keep_going: self.keep_going,
            deadline,
            on_progress: self.on_progress.clone(),
            started,
            queue,
            cleared: HashSet::new(),
            screening_users: 0,
            to_screen: Vec::new(),
            sends_running: 0,
            stop: false,
            done: 0,
            failed: 0,
            report: BulkReport {
                order,
                ..BulkReport::default()
            },
        };
        run.go().await;
        run.report
    }
}

impl IntoFuture for Bulk {
    type Output = BulkReport;
    type IntoFuture = BoxFuture<'static, BulkReport>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// A write call to make. `sibling`: the other half of a refused batch, with that batch's
/// error; if this call is accepted, the sibling holds every user the batch was refused for.
struct Batch {
    users: Vec<UserId>,
    sibling: Option<(Vec<UserId>, Error)>,
}

impl Batch {
    fn new(users: Vec<UserId>) -> Self {
        Batch {
            users,
            sibling: None,
        }
    }
}

/// A step that came back.
enum Step {
    Sent(Batch, CallResult),
    Screened {
        group: Vec<UserId>,
        refused_for: Error,
        screening: Screening,
    },
}

struct Run {
    client: Client,
    call: Call,
    method: &'static str,
    write: Write,
    concurrency: usize,
    split_refused: bool,
    screen: bool,
    keep_going: bool,
    deadline: Option<Instant>,
    on_progress: Option<OnProgress>,
    started: Instant,
    /// Write calls to make, the next first.
    queue: VecDeque<Batch>,
    /// Users whose `users.info` record showed no reason to refuse them.
    cleared: HashSet<UserId>,
    /// Users in screenings under way.
    screening_users: usize,
    /// Screenings decided, to start: the refused group, its users to read, why it was refused.
    to_screen: Vec<(Vec<UserId>, Vec<UserId>, Error)>,
    sends_running: usize,
    stop: bool,
    done: usize,
    failed: usize,
    report: BulkReport,
}

impl Run {
    async fn go(&mut self) {
        let mut running: FuturesUnordered<BoxFuture<'static, Step>> = FuturesUnordered::new();
        loop {
            while !self.stop && self.sends_running < self.concurrency {
                if self.deadline.is_some_and(|d| Instant::now() >= d) {
                    self.stop = true;
                    break;
                }
                let Some(send) = self.queue.pop_front() else {
                    break;
                };
                let wait = self.wait_of(self.method);
                self.emit(Event::Sending {
                    method: self.method,
                    users: send.users.len(),
                    wait,
                });
                let call = (self.call)(self.client.clone(), send.users.clone());
                self.sends_running += 1;
                running.push(Box::pin(async move { Step::Sent(send, call.await) }));
            }
            let Some(step) = running.next().await else {
                break;
            };
            match step {
                Step::Sent(send, result) => {
                    self.sends_running -= 1;
                    self.sent(send, result);
                }
                Step::Screened {
                    group,
                    refused_for,
                    screening,
                } => self.screened(group, refused_for, screening),
            }
            if self.stop && self.sends_running == 0 {
                // Nothing more will be sent: readings under way could not change that.
                break;
            }
            self.start_screenings(&mut running);
        }
        let left = self.queue.iter().map(|s| s.users.len()).sum::<usize>();
        self.report.deadline_passed |=
            left > 0 && self.deadline.is_some_and(|d| Instant::now() >= d);
        self.emit(Event::Finished);
    }

    /// The wait a call of `method` made now would have for its rate-limit slot.
    fn wait_of(&self, method: &str) -> Duration {
        self.client
            .pacing_state_by_name(method)
            .map_or(Duration::ZERO, |s| s.next_call_wait)
    }

    fn sent(&mut self, send: Batch, result: CallResult) {
        let Batch { users, sibling } = send;
        self.report.calls += 1;
        self.emit(Event::Answered {
            method: self.method,
            users: users.len(),
            result: match &result {
                Ok(_) => "ok".to_owned(),
                Err(e) => describe(e),
            },
        });
        match result {
            Ok(response) => {
                self.done += users.len();
                self.report.batches.push(BatchResult {
                    users,
                    result: Ok(response),
                });
                if let Some((rest, refused_for)) = sibling {
                    // The batch was refused and this half accepted: the rest holds every user
                    // it was refused for.
                    self.refused_group(rest, refused_for, FoundBy::Batch);
                }
            }
            Err(e) if self.split_refused && e.is_user_refusal() => {
                if let Some((rest, _)) = sibling {
                    self.queue.push_front(Batch::new(rest));
                }
                let found_by = if users.len() == 1 {
                    FoundBy::OwnCall
                } else {
                    FoundBy::Batch
                };
                self.refused_group(users, e, found_by);
            }
            Err(e) => {
                let about_users =
                    e.is_user_refusal() || e.code() == Some(&ErrorCode::FailedForSomeUsers);
                if !about_users && !self.keep_going {
                    self.stop = true;
                }
                if let Error::NotSent(not_sent) = &e {
                    if matches!(not_sent.reason, NotSentReason::Deadline { .. }) {
                        self.stop = true;
                        self.report.deadline_passed = true;
                    }
                } else {
                    self.failed += users.len();
                }
                if let Some((rest, _)) = sibling {
                    self.queue.push_front(Batch::new(rest));
                }
                self.report.batches.push(BatchResult {
                    users,
                    result: Err(e),
                });
            }
        }
    }

    /// `group` holds at least one user Slack refuses (`refused_for` says so): find them.
    fn refused_group(&mut self, group: Vec<UserId>, refused_for: Error, found_by: FoundBy) {
        if let [user] = group.as_slice() {
            if found_by == FoundBy::Batch && self.cleared.contains(user) {
                // Halving says this user is refused, their record says nothing against them:
                // ask Slack about them alone rather than leave them out on inference.
                self.queue.push_front(Batch::new(group));
                return;
            }
            let code = refused_for
                .code()
                .cloned()
                .unwrap_or(ErrorCode::UserNotFound);
            self.report.refusals.insert(
                user.clone(),
                Refusal {
                    code,
                    found_by,
                    error: Some(refused_for),
                },
            );
            return;
        }
        self.halve_or_screen(group, refused_for);
    }

    fn halve_or_screen(&mut self, group: Vec<UserId>, refused_for: Error) {
        let unscreened: Vec<UserId> = group
            .iter()
            .filter(|u| !self.cleared.contains(*u))
            .cloned()
            .collect();
        if self.screen && !unscreened.is_empty() && self.should_screen(unscreened.len()) {
            self.screening_users += unscreened.len();
            self.to_screen.push((group, unscreened, refused_for));
            return;
        }
        let (a, b) = group.split_at(group.len() / 2);
        self.report.splits += 1;
        self.queue.push_front(Batch {
            users: a.to_vec(),
            sibling: Some((b.to_vec(), refused_for)),
        });
    }
}

impl Run {
    fn start_screenings(&mut self, running: &mut FuturesUnordered<BoxFuture<'static, Step>>) {
        for (group, users, refused_for) in std::mem::take(&mut self.to_screen) {
            let wait = self.wait_of(UsersInfo::NAME);
            self.emit(Event::Screening {
                users: users.len(),
                wait,
            });
            let client = self.client.clone();
            let write = self.write;
            running.push(Box::pin(async move {
                let screening = client.screen(&users, write).await;
                Step::Screened {
                    group,
                    refused_for,
                    screening,
                }
            }));
        }
    }

    /// Whether to read a refused group's `n` unscreened users with `users.info` now, rather
    /// than halve the group once more (about 1.5 write calls: the half after an accepted half
    /// is known refused without a call) and read half as many later. Each budget's time to
    /// serve what is queued on it plus the option's calls is weighed from where it stands
    /// (its burst, its rate); the option that ends sooner wins. When neither adds time (both
    /// have their burst to spend), the one that spends less of Slack's budgets does: a write
    /// call is worth `rate(users.info) / rate(write)` reads (5 for tier 2 against tier 4).
    fn should_screen(&self, n: usize) -> bool {
        let info = self.client.pacing_state::<UsersInfo>();
        let Ok(write) = self.client.pacing_state_by_name(self.method) else {
            return false;
        };
        let reads_per_write =
            f64::from(UsersInfo::TIER.per_minute()) / f64::from(self.write_tier_per_minute());
        let cheaper_in_budget = (n as f64) / 2.0 <= 1.5 * reads_per_write;
        if !info.enabled {
            return cheaper_in_budget;
        }
        let time = |state: &crate::PacingState, calls: f64| -> f64 {
            let over = calls - f64::from(state.available);
            if over <= 0.0 {
                0.0
            } else if state.available == 0 {
                state.next_call_wait.as_secs_f64()
                    + (over - 1.0).max(0.0) * state.interval.as_secs_f64()
            } else {
                over * state.interval.as_secs_f64()
            }
        };
        let queued_writes = self.queue.len() as f64;
        let queued_reads = self.screening_users as f64;
        let n = n as f64;
        let screen = time(&write, queued_writes).max(time(&info, queued_reads + n));
        let halve = time(&write, queued_writes + 1.5).max(time(&info, queued_reads + n / 2.0));
        if (screen - halve).abs() < 1e-6 {
            cheaper_in_budget
        } else {
            screen < halve
        }
    }

    /// The write method's budget per minute (tier 2 for `resetBulk`, tier 4 for the settings).
    fn write_tier_per_minute(&self) -> u32 {
        slack_sessions_api::MethodInfo::find(self.method).map_or(20, |m| m.tier.per_minute())
    }

    fn screened(&mut self, group: Vec<UserId>, refused_for: Error, screening: Screening) {
        let Screening {
            refused,
            cleared,
            unscreened,
            error,
            calls,
            ..
        } = screening;
        self.screening_users -= refused.len() + cleared.len() + unscreened.len();
        self.report.screen_calls += calls;
        if let Some(e) = &error {
            // Without `users:read`, or past the retries: halving still works.
            tracing::debug!(error = %e, "users.info failed: refused batches are halved from now on");
            self.screen = false;
        }
        self.emit(Event::Screened {
            refused: refused.len(),
            cleared: cleared.len(),
        });
        let found: HashSet<UserId> = refused.iter().map(|(u, _, _)| u.clone()).collect();
        for (user, code, error) in refused {
            self.report.refusals.insert(
                user,
                Refusal {
                    code,
                    found_by: FoundBy::UsersInfo,
                    error,
                },
            );
        }
        self.cleared.extend(cleared);
        if found.is_empty() {
            // The records show no reason: a refusal users.info cannot see. Halve.
            self.refused_group(group, refused_for, FoundBy::Batch);
            return;
        }
        let rest: Vec<UserId> = group.into_iter().filter(|u| !found.contains(u)).collect();
        if !rest.is_empty() {
            self.queue.push_front(Batch::new(rest));
        }
    }

    fn emit(&self, event: Event) {
        let Some(f) = &self.on_progress else {
            return;
        };
        let refused = self.report.refusals.len();
        let total = self.report.order.len();
        let not_sent = if event == Event::Finished {
            total.saturating_sub(self.done + refused + self.failed)
        } else {
            0
        };
        f(&Progress {
            event,
            total,
            done: self.done,
            refused,
            failed: self.failed,
            not_sent,
            calls: self.report.calls,
            screen_calls: self.report.screen_calls,
            elapsed: self.started.elapsed(),
        });
    }
}

/// A short word for a failed call, for progress events.
fn describe(e: &Error) -> String {
    match e {
        Error::NotSent(n) => format!("not sent ({})", n.reason),
        Error::NoAnswer(n) => format!("no answer ({})", n.reason),
        Error::Http(h) => format!("HTTP {}", h.status),
        _ => e
            .code()
            .map_or_else(|| "failed".to_owned(), |c| c.as_str().to_owned()),
    }
}
