//! `slack-sessions`: the command line over the engine (`slack-sessions-engine`) and the
//! emulator (`slack-sessions-emulator`).
//!
//! The binary (`src/main.rs`) only calls [`main`]: it parses the command line ([`cli`]), sets
//! up logging, turns the flags into the engine's plans once (`plans`), runs one command
//! (`commands`), draws the engine's events as notes and bars (`ui`), prints results
//! (`output`) and turns the outcome into an exit code ([`exit`]). What a journaled run does
//! lives in the engine; what it looks like lives here.

pub mod cli;
pub(crate) mod commands;
pub(crate) mod completions;
pub(crate) mod connect;
pub mod exit;
pub(crate) mod inventory;
pub(crate) mod output;
pub(crate) mod plans;
pub(crate) mod serve;
pub(crate) mod token;
pub(crate) mod ui;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use slack_sessions_engine::Context;
use slack_sessions_engine::events::Events;
use slack_sessions_engine::stop::Stop;

use crate::cli::{Cli, Command, Global, SessionsCommand, SettingsCommand};
use crate::exit::Failure;
use crate::output::Format;

/// Runs the program: parses the command line, runs the command, returns its exit code.
pub fn main() -> ExitCode {
    quiet_on_closed_stdout();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { exit::USAGE } else { 0 });
        }
    };
    init_logging(&cli);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    // A print to a closed standard output unwinds to here (see `quiet_on_closed_stdout`).
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(dispatch(cli))
    }));
    // Do not wait for blocking tasks (a pending stdin read) on the way out.
    runtime.shutdown_background();
    match result {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(failure)) => report(failure),
        Err(payload) if closed_stdout(payload_text(payload.as_ref())) => ExitCode::from(exit::OK),
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// Whether a panic's message is `print!`'s on a closed standard output ("failed printing to
/// stdout: Broken pipe (os error 32)"): the reader went away (`| head -1`).
fn closed_stdout(message: Option<&str>) -> bool {
    let broken_pipe = std::io::Error::from_raw_os_error(EPIPE).to_string();
    message.is_some_and(|m| m.starts_with("failed printing to stdout") && m.contains(&broken_pipe))
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
}

/// `EPIPE`: the same number on Linux, the BSDs and macOS.
const EPIPE: i32 = 32;

/// Makes a print to a closed standard output end every command quietly, in one place: Rust
/// ignores SIGPIPE, so such a print fails with `EPIPE`, and `print!` panics on it. That panic
/// prints no message or backtrace, and unwinds to [`main`], which exits 0, as a command whose
/// reader has had all it wanted (`output::write_failed` does the same for lists). Any other
/// panic is reported as before.
fn quiet_on_closed_stdout() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !closed_stdout(payload_text(info.payload())) {
            report(info);
        }
    }));
}

/// Prints a failure as one line (plus a hint) and returns its exit code. A message may quote
/// input (a file's line, a name from Slack): its control characters are shown, not obeyed.
fn report(failure: Failure) -> ExitCode {
    use slack_sessions_engine::text::visible;
    if !failure.message.is_empty() {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "error: {}", visible(&failure.message));
        if let Some(hint) = &failure.hint {
            let _ = writeln!(err, "hint: {}", visible(hint));
        }
    }
    ExitCode::from(failure.code)
}

fn init_logging(cli: &Cli) {
    let g = &cli.global;
    let serving = matches!(cli.command, Command::Serve(_) | Command::Listen(_));
    ui::init(g.quiet);
    // -v: each call of the client (and the emulator's requests); -vv: every library's debug
    // events too (HTTP connections); -vvv: everything.
    let level = match (g.quiet, g.verbose, serving) {
        (true, _, _) => "error",
        (false, 0, true) => "info",
        (false, 0, false) => "warn",
        (false, 1, true) => "info,slack_sessions_emulator=debug,slack_sessions=debug",
        (false, 1, false) => "warn,slack_sessions_client=debug,slack_sessions=debug",
        (false, 2, _) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ui::colour());
    let fmt = if serving {
        fmt.boxed()
    } else {
        fmt.without_time().with_target(false).boxed()
    };
    let notices = (!serving).then(|| {
        ui::WaitNotices::default().with_filter(
            tracing_subscriber::filter::Targets::new()
                .with_target("slack_sessions_client", tracing::Level::DEBUG),
        )
    });
    // The client's pacing events written for Rust users are said by `WaitNotices` instead.
    let fmt = fmt.with_filter(tracing_subscriber::filter::filter_fn(|meta| {
        !ui::told_in_cli_words(meta)
    }));
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(notices)
        .try_init();
}

async fn dispatch(cli: Cli) -> exit::Result<u8> {
    let Cli { global, command } = cli;
    let format = || Format::pick(global.output);
    match command {
        Command::Serve(args) => serve::run(args).await.map(|()| exit::OK),
        Command::Completions { shell } => completions::print(shell)
            .map(|()| exit::OK)
            .map_err(output::write_failed),
        Command::Whoami => commands::whoami::run(&connect::client(&global)?, format()).await,
        Command::Sessions(sub) => {
            let ctx = context(&global)?;
            match sub {
                SessionsCommand::List(f) => commands::sessions::list(&ctx, &f, format()).await,
                SessionsCommand::Invalidate(f) => {
                    commands::sessions::invalidate(&ctx, &f, format()).await
                }
                SessionsCommand::Summary(f) => {
                    commands::sessions::summary(&ctx, &f, format()).await
                }
                SessionsCommand::Reset(f) => commands::sessions::reset(&ctx, &f, format()).await,
                SessionsCommand::History(f) => commands::history::run(&ctx, &f, format()).await,
            }
        }
        Command::Settings(sub) => {
            let ctx = context(&global)?;
            match sub {
                SettingsCommand::Get(f) => commands::settings::get(&ctx, &f, format()).await,
                SettingsCommand::Set(f) => commands::settings::set(&ctx, &f, format()).await,
                SettingsCommand::Clear(f) => commands::settings::clear(&ctx, &f, format()).await,
            }
        }
        Command::Offboard(f) => commands::offboard::run(&context(&global)?, &f, format()).await,
        Command::Enforce(f) => commands::enforce::run(&context(&global)?, &f, format()).await,
        Command::Listen(f) => {
            let events = commands::listen::logged();
            let ctx = Context {
                client: connect::client(&global)?,
                stop: Stop::on_signals(events.clone()),
                events,
            };
            commands::listen::run(&ctx, &f).await
        }
        Command::Signal(sub) => commands::signal::run(&sub).await,
    }
}

/// What the engine is given: the client, the events drawn as notes and bars, and the stop
/// signal (SIGINT and SIGTERM).
fn context(global: &Global) -> exit::Result<Context> {
    let events = Events::new(ui::Bars::default());
    Ok(Context {
        client: connect::client(global)?,
        stop: Stop::on_signals(events.clone()),
        events,
    })
}
