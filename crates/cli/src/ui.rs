//! What the program says to the person running it, on standard error: notes, warnings, the
//! confirmation prompt, progress bars, and the client's waits (pacing and retries).
//!
//! Standard output carries results only, so that `slack-sessions … | jq` always works. Notes
//! and progress go to standard error; `-q` silences notes, bars and waits (errors remain).

use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use slack_sessions_client::Pacing;
use slack_sessions_client::api::CATALOGUE;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use slack_sessions_engine::events::{Event as RunEvent, Observer};

use crate::exit::{Failure, Result};

#[derive(Debug)]
struct Ui {
    quiet: bool,
    stderr_tty: bool,
    pacing: Mutex<Option<Pacing>>,
    bar: Mutex<Option<ProgressBar>>,
}

static UI: OnceLock<Ui> = OnceLock::new();

fn ui() -> &'static Ui {
    UI.get_or_init(|| Ui {
        quiet: false,
        stderr_tty: io::stderr().is_terminal(),
        pacing: Mutex::new(None),
        bar: Mutex::new(None),
    })
}

/// Sets up the UI once, at start.
pub fn init(quiet: bool) {
    let _ = UI.set(Ui {
        quiet,
        stderr_tty: io::stderr().is_terminal(),
        pacing: Mutex::new(None),
        bar: Mutex::new(None),
    });
}

/// Records the pacing in force, to explain waits.
pub fn set_pacing(pacing: &Pacing) {
    *ui().pacing.lock().unwrap_or_else(|e| e.into_inner()) = Some(pacing.clone());
}

/// True when `-q` was given.
pub fn quiet() -> bool {
    ui().quiet
}

/// Whether to colour what goes to standard error: only on a terminal, never with `NO_COLOR`
/// set (to anything but empty) or `TERM=dumb`.
pub fn colour() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    io::stderr().is_terminal() && !no_color && !dumb
}

/// True when standard error is a terminal (progress bars are drawn).
pub fn interactive() -> bool {
    ui().stderr_tty && !ui().quiet
}

/// Writes a line to standard error. The line often quotes what came from Slack or a file (a
/// name, an input line, a path): its control characters are shown, never obeyed
/// ([`visible`](slack_sessions_engine::text::visible)), like those of a table.
fn emit(line: &str) {
    let line = &*slack_sessions_engine::text::visible(line);
    let bar = ui().bar.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match bar {
        Some(bar) if !bar.is_hidden() => bar.println(line),
        _ => {
            let mut err = io::stderr().lock();
            let _ = writeln!(err, "{line}");
        }
    }
}

/// A note for the person (not shown with `-q`).
pub fn note(line: impl AsRef<str>) {
    if !ui().quiet {
        emit(line.as_ref());
    }
}

/// A warning (shown even with `-q`).
pub fn warn(line: impl AsRef<str>) {
    emit(&format!("warning: {}", line.as_ref()));
}

/// Asks a yes/no question on the terminal. Without a terminal on standard input, refuses with
/// a usage error that names `--yes`.
pub fn confirm(question: &str) -> Result<bool> {
    if !io::stdin().is_terminal() {
        return Err(Failure::usage(
            "refusing to change sessions without confirmation: standard input is not a terminal",
        )
        .hint("pass --yes to confirm in advance, or --dry-run to see what would be done"));
    }
    let mut err = io::stderr().lock();
    let question = slack_sessions_engine::text::visible(question);
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    let read = io::stdin().lock().read_line(&mut answer);
    read.map_err(|e| Failure::other(format!("cannot read the answer: {e}")))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// A progress bar on standard error with rate and time left; drawn only on a terminal. It is
/// cleared when dropped, so a run that stops early (Ctrl-C, an error) prints its summary after
/// the bar is gone, never under one that is redrawn.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    meter: Arc<Mutex<Meter>>,
}

/// Time left for `remaining` steps: at the rate measured so far, but never faster than the
/// rate pacing allows (the first calls of a run come at once, from the rate limit's burst, and
/// would promise far too early an end). `None` while there is no rate to go by (no step done
/// yet): a bar then shows no time left rather than centuries.
pub fn eta(remaining: u64, measured_per_sec: f64, paced_per_sec: Option<f64>) -> Option<Duration> {
    let rate = match paced_per_sec {
        Some(paced) if paced > 0.0 => measured_per_sec.min(paced),
        _ => measured_per_sec,
    };
    if remaining == 0 {
        return Some(Duration::ZERO);
    }
    if !rate.is_finite() || rate <= 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64((remaining as f64 / rate).min(1e9)))
}

/// What a bar measures: the steps done over the time they took, up to the last of them. A
/// wait (a `Retry-After`, pacing) neither lowers the rate nor stretches the time left while it
/// lasts, as indicatif's own estimate, which counts time since the last step, would; and before
/// the first step there is no rate.
#[derive(Debug)]
struct Meter {
    started: Instant,
    /// Steps done, and when the last of them was.
    done: Option<(u64, Instant)>,
}

impl Meter {
    fn new(started: Instant) -> Self {
        Meter {
            started,
            done: None,
        }
    }

    fn advanced(&mut self, position: u64, at: Instant) {
        self.done = Some((position, at));
    }

    /// Steps a second over the work done; `None` before the first step.
    fn per_sec(&self) -> Option<f64> {
        let (steps, at) = self.done?;
        let secs = at.duration_since(self.started).as_secs_f64();
        (steps > 0).then(|| steps as f64 / secs.max(0.001))
    }
}

/// The look of a bar: the bar takes the room the rest leaves, so the message after it (`waiting
/// for resetBulk (paced to …)`) is never cut; rate and time left follow `meter`.
fn style(meter: &Arc<Mutex<Meter>>, paced: Option<f64>) -> ProgressStyle {
    let rate_of =
        |meter: &Arc<Mutex<Meter>>| meter.lock().unwrap_or_else(|e| e.into_inner()).per_sec();
    let (for_rate, for_left) = (meter.clone(), meter.clone());
    ProgressStyle::with_template(
        "{prefix:>10.bold} [{wide_bar}] {pos}/{len}{rate:.dim}{left} {msg}",
    )
    .expect("a valid template")
    .with_key(
        "rate",
        move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            if let Some(rate) = rate_of(&for_rate) {
                let _ = write!(w, " {rate:.1}/s");
            }
        },
    )
    .with_key(
        "left",
        move |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let remaining = state.len().unwrap_or(0).saturating_sub(state.pos());
            let left = rate_of(&for_left).and_then(|rate| eta(remaining, rate, paced));
            if let Some(left) = left {
                let _ = write!(w, " ETA {}", indicatif::HumanDuration(left));
            }
        },
    )
    .progress_chars("=> ")
}

impl Progress {
    /// Starts a bar of `len` steps named `prefix` (hidden when not on a terminal or quiet).
    pub fn start(prefix: &'static str, len: u64) -> Progress {
        Self::with_pace(prefix, len, None)
    }

    /// Starts a bar whose steps are calls of `method` (`steps_per_call` steps each): its time
    /// left follows the rate pacing allows for the method.
    pub fn for_calls(
        prefix: &'static str,
        len: u64,
        method: &str,
        steps_per_call: u64,
    ) -> Progress {
        let paced = paced_calls_per_sec(method).map(|r| r * steps_per_call as f64);
        Self::with_pace(prefix, len, paced)
    }

    fn with_pace(prefix: &'static str, len: u64, paced: Option<f64>) -> Progress {
        let target = if interactive() {
            Some(ProgressDrawTarget::stderr())
        } else {
            None
        };
        let progress = Self::drawn_on(target, prefix, len, paced);
        *ui().bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(progress.bar.clone());
        progress
    }

    /// A bar drawn on `target` (none: hidden).
    fn drawn_on(
        target: Option<ProgressDrawTarget>,
        prefix: &'static str,
        len: u64,
        paced: Option<f64>,
    ) -> Progress {
        let meter = Arc::new(Mutex::new(Meter::new(Instant::now())));
        let bar = match target {
            Some(target) => {
                let bar = ProgressBar::with_draw_target(Some(len), target);
                bar.set_style(style(&meter, paced));
                bar.set_prefix(prefix);
                bar.enable_steady_tick(Duration::from_millis(200));
                bar
            }
            None => ProgressBar::hidden(),
        };
        Progress { bar, meter }
    }

    /// Advances by `n`.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
        let mut meter = self.meter.lock().unwrap_or_else(|e| e.into_inner());
        meter.advanced(self.bar.position(), Instant::now());
    }

    /// Sets the message shown after the counters.
    pub fn message(&self, msg: impl Into<String>) {
        self.bar.set_message(msg.into());
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
        let mut slot = ui().bar.lock().unwrap_or_else(|e| e.into_inner());
        *slot = None;
    }
}

/// The calls pacing allows `method` in each window, and the window in seconds, if the client
/// paces.
fn paced_budget(method: &str) -> Option<(u32, f64)> {
    let pacing = ui()
        .pacing
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()?;
    if !pacing.enabled {
        return None;
    }
    let info = CATALOGUE.iter().find(|m| m.name == method)?;
    Some((pacing.burst(info.tier), pacing.window.as_secs_f64()))
}

/// Calls a second that pacing allows for `method`, if the client paces.
fn paced_calls_per_sec(method: &str) -> Option<f64> {
    paced_budget(method).map(|(per_window, window)| f64::from(per_window) / window)
}

/// How a method is paced, for messages: "18 calls a minute".
pub fn budget_of(method: &str) -> Option<String> {
    let (per_window, window) = paced_budget(method)?;
    Some(if (window - 60.0).abs() < 0.001 {
        format!("{per_window} calls a minute")
    } else {
        format!("{per_window} calls per {window:.1} s")
    })
}

/// What a bar says while a call of `method` is held up: `waiting for resetBulk (paced to
/// Slack's limit: 18 calls a minute)`.
fn waiting_for(method: &str) -> String {
    let short = method.trim_start_matches("admin.users.session.");
    let why = budget_of(method)
        .map(|b| format!(" (paced to Slack's limit: {b})"))
        .unwrap_or_default();
    format!("waiting for {short}{why}")
}

/// Draws a run's events: notes and warnings as lines on standard error, tasks as bars.
#[derive(Debug, Default)]
pub struct Bars {
    current: Mutex<Option<Progress>>,
}

impl Observer for Bars {
    fn event(&self, event: RunEvent) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            RunEvent::Note(text) => note(text),
            RunEvent::Warning(text) => warn(text),
            RunEvent::Began { task, total, pace } => {
                // The old bar goes first: one bar at a time.
                *current = None;
                *current = Some(match pace {
                    Some(p) => Progress::for_calls(task.label(), total, p.method, p.per_call),
                    None => Progress::start(task.label(), total),
                });
            }
            RunEvent::Advanced { by, .. } => {
                if let Some(p) = current.as_ref() {
                    p.inc(by);
                }
            }
            RunEvent::Waiting { method, .. } => {
                if let Some(p) = current.as_ref() {
                    p.message(waiting_for(method));
                }
            }
            RunEvent::Answered { .. } => {
                if let Some(p) = current.as_ref() {
                    p.message("");
                }
            }
            RunEvent::Ended { .. } => *current = None,
            _ => {}
        }
    }
}

/// A tracing layer that turns the client's waits into notes: every retry (after a rate limit
/// or an error), and pacing: when the client starts holding calls of a method back to stay
/// within Slack's limit, and then the total waited at most once a minute per method, so that
/// a long paced run says what it does without flooding the terminal.
#[derive(Debug, Default)]
pub struct WaitNotices {
    paced: Mutex<std::collections::HashMap<String, Paced>>,
}

/// Pacing of one method so far.
#[derive(Debug)]
struct Paced {
    total: Duration,
    noted_at: Option<std::time::Instant>,
}

/// The least time between two pacing notes for one method.
const PACED_NOTE_EVERY: Duration = Duration::from_secs(60);
/// Pacing waits shorter than this are not counted (scheduling noise).
const PACED_MIN: Duration = Duration::from_millis(50);

/// The client's events about pacing whose text is for Rust programmers (`use
/// Pacing::matching`, `bound it with Pacing::max_wait`): [`WaitNotices`] says them in the
/// CLI's words (its flags), and the plain log leaves them out. They are known by their fields:
/// the warning of a rate limit met although paced (`retry_after_ms`), the warning that the
/// server applies other limits (`server`), and the note of a first long pacing wait (`wait_ms`).
pub fn told_in_cli_words(meta: &tracing::Metadata<'_>) -> bool {
    let field = |name: &str| meta.fields().field(name).is_some();
    meta.is_event()
        && meta.target().starts_with("slack_sessions_client")
        && match *meta.level() {
            tracing::Level::WARN => field("retry_after_ms") || field("server"),
            tracing::Level::INFO => field("wait_ms") && field("burst"),
            _ => false,
        }
}

#[derive(Default)]
struct Fields {
    message: String,
    error: Option<String>,
    retry_in_ms: Option<u64>,
    waited_ms: Option<u64>,
    retry_after_ms: Option<u64>,
    method: Option<String>,
    server: Option<String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "error" => self.error = Some(format!("{value:?}")),
            "method" => self.method = Some(format!("{value:?}").trim_matches('"').to_owned()),
            "server" => self.server = Some(format!("{value:?}").trim_matches('"').to_owned()),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_owned(),
            "error" => self.error = Some(value.to_owned()),
            "method" => self.method = Some(value.to_owned()),
            "server" => self.server = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "retry_in_ms" => self.retry_in_ms = Some(value),
            "waited_ms" => self.waited_ms = Some(value),
            "retry_after_ms" => self.retry_after_ms = Some(value),
            _ => {}
        }
    }
}

impl WaitNotices {
    /// Counts a pacing wait; returns the total waited for `method` when a note is due.
    fn paced(&self, method: &str, waited: Duration) -> Option<Duration> {
        if waited < PACED_MIN {
            return None;
        }
        let mut paced = self.paced.lock().unwrap_or_else(|e| e.into_inner());
        let entry = paced.entry(method.to_owned()).or_insert(Paced {
            total: Duration::ZERO,
            noted_at: None,
        });
        entry.total += waited;
        let now = std::time::Instant::now();
        match entry.noted_at {
            Some(at) if now.duration_since(at) < PACED_NOTE_EVERY => None,
            _ => {
                entry.noted_at = Some(now);
                Some(entry.total)
            }
        }
    }
}

/// What the CLI says for one of the client's pacing events ([`told_in_cli_words`]): the
/// flags an admin would use, not the Rust API. The note of a long wait says nothing: the
/// pacing notes of [`WaitNotices`] cover it.
fn in_cli_words(meta: &tracing::Metadata<'_>, fields: &Fields) -> Option<String> {
    if *meta.level() != tracing::Level::WARN {
        return None;
    }
    if let Some(server) = &fields.server {
        return Some(format!(
            "the server applies other rate limits ({server}) than the calls are paced for: \
             give --pacing {server}"
        ));
    }
    let method = fields.method.as_deref().unwrap_or("a method");
    let wait = fields.retry_after_ms.unwrap_or(0) as f64 / 1000.0;
    Some(format!(
        "Slack's rate limit for {method} was reached although the calls were paced: an earlier \
         run or another program spent this token's budget for it; waiting {wait:.1} s as Slack \
         asks, then going on at its pace (against an emulator, give --pacing the value of its \
         --rate-limits)"
    ))
}

/// The method of a `slack_call` span, kept in its extensions.
struct SpanMethod(String);

impl<S> tracing_subscriber::Layer<S> for WaitNotices
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let (Some(method), Some(span)) = (fields.method, ctx.span(id)) {
            span.extensions_mut().insert(SpanMethod(method));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if quiet() {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        if told_in_cli_words(event.metadata()) {
            if let Some(line) = in_cli_words(event.metadata(), &fields) {
                warn(line);
            }
            return;
        }
        let method = || {
            ctx.event_scope(event).and_then(|scope| {
                scope
                    .from_root()
                    .find_map(|span| span.extensions().get::<SpanMethod>().map(|m| m.0.clone()))
            })
        };
        match fields.message.as_str() {
            "retrying" => {
                let wait = fields.retry_in_ms.unwrap_or(0) as f64 / 1000.0;
                let error = fields.error.unwrap_or_default();
                note(format!("{error}; trying again in {wait:.1} s"));
            }
            "paced" => {
                let waited = Duration::from_millis(fields.waited_ms.unwrap_or(0));
                if let Some(method) = method()
                    && let Some(total) = self.paced(&method, waited)
                {
                    let budget = budget_of(&method)
                        .map(|b| format!(" ({b})"))
                        .unwrap_or_default();
                    note(format!(
                        "pacing {method} to stay within Slack's rate limit{budget}: waited {:.1} s so far",
                        total.as_secs_f64()
                    ));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_follows_the_paced_rate_not_the_first_burst() {
        // 20 calls came at once (the burst): measured 40/s; pacing allows 1/3 s.
        let left = eta(280, 40.0, Some(1.0 / 3.0));
        assert_eq!(left, Some(Duration::from_secs(840)));
        assert_eq!(
            eta(280, 0.1, Some(1.0 / 3.0)),
            Some(Duration::from_secs(2800))
        );
        assert_eq!(eta(10, 2.0, None), Some(Duration::from_secs(5)));
        assert_eq!(eta(0, 0.0, None), Some(Duration::ZERO));
        assert_eq!(eta(5, 0.0, None), None, "no rate yet: no time left");
    }

    /// A terminal of 80 columns that keeps the last line drawn.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<String>>);

    impl Screen {
        fn line(&self) -> String {
            self.0.lock().unwrap().clone()
        }
    }

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            // A line is drawn, then padded with blanks over what an older one left.
            if !s.trim().is_empty() {
                *self.0.lock().unwrap() = s.to_owned();
            }
            Ok(())
        }
        fn clear_line(&self) -> io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A bar of `len` steps on an 80-column screen, paced to one call a second.
    fn bar(len: u64) -> (Progress, Screen) {
        let screen = Screen::default();
        let target = ProgressDrawTarget::term_like_with_hz(Box::new(screen.clone()), 100);
        (
            Progress::drawn_on(Some(target), "resetting", len, Some(1.0)),
            screen,
        )
    }

    /// What the screen shows once the bar's steady tick (every 200 ms) has redrawn it.
    fn drawn(_: &Progress, screen: &Screen) -> String {
        std::thread::sleep(Duration::from_millis(450));
        screen.line()
    }

    #[test]
    fn a_bar_promises_no_end_before_its_first_step() {
        let (p, screen) = bar(300);
        let line = drawn(&p, &screen);
        assert!(line.contains("0/300"), "{line:?}");
        assert!(!line.contains("ETA"), "{line:?}");
        assert!(!line.contains("years"), "{line:?}");
        p.inc(3);
        let line = drawn(&p, &screen);
        assert!(line.contains("ETA"), "{line:?}");
        assert!(!line.contains("years"), "{line:?}");
    }

    #[test]
    fn a_bar_shows_its_whole_message() {
        let (p, screen) = bar(1000);
        p.inc(500);
        let message = "waiting for resetBulk (paced to Slack's limit: 18 calls a minute)";
        p.message(message);
        let line = drawn(&p, &screen);
        assert!(line.contains(message), "{line:?}");
    }

    #[test]
    fn a_bars_rate_holds_while_it_waits() {
        let (p, screen) = bar(1000);
        std::thread::sleep(Duration::from_millis(200));
        p.inc(100);
        let rate = |line: &str| {
            line.split_whitespace()
                .find(|w| w.ends_with("/s"))
                .map(str::to_owned)
                .unwrap_or_else(|| panic!("no rate in {line:?}"))
        };
        let before = rate(&drawn(&p, &screen));
        // A Retry-After: no step for a while.
        p.message("waiting for resetBulk");
        std::thread::sleep(Duration::from_millis(1200));
        assert_eq!(rate(&drawn(&p, &screen)), before);
    }

    #[test]
    fn a_dropped_bar_is_gone() {
        let progress = Progress::start("test", 10);
        assert!(ui().bar.lock().unwrap().is_some());
        drop(progress);
        assert!(ui().bar.lock().unwrap().is_none(), "nothing left to redraw");
    }
}
