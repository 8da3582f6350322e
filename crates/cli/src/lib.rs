//! `slack-sessions`: Slack Enterprise Grid session administration, and a local emulator of the
//! `admin.users.session.*` API.
//!
//! The binary (`src/main.rs`) only calls [`main`]: it parses the command line, sets up
//! logging, runs one command and turns its outcome into an exit code ([`exit`]). The commands
//! live in their own modules; the resumable bulk engine (journal, state, run, verify, report)
//! is [`offboard`], usable by any bulk operation on sessions, and what every journaled run
//! shares (recording, replaying, printing its outcome) is [`journaled`].

pub mod cli;
pub mod commands;
pub mod completions;
pub mod connect;
pub mod duration;
pub mod exit;
pub mod inventory;
pub mod journal;
pub mod journaled;
pub mod offboard;
pub mod output;
pub mod policy;
pub mod serve;
pub mod token;
pub mod ui;
pub mod users;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::cli::{Cli, Command, Global, SessionsCommand, SettingsCommand};
use crate::exit::Failure;
use crate::output::Format;

/// Runs the program: parses the command line, runs the command, returns its exit code.
pub fn main() -> ExitCode {
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
    let result = runtime.block_on(dispatch(cli));
    // Do not wait for blocking tasks (a pending stdin read) on the way out.
    runtime.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => report(failure),
    }
}

/// Prints a failure as one line (plus a hint) and returns its exit code.
fn report(failure: Failure) -> ExitCode {
    if !failure.message.is_empty() {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "error: {}", failure.message);
        if let Some(hint) = &failure.hint {
            let _ = writeln!(err, "hint: {hint}");
        }
    }
    ExitCode::from(failure.code)
}

fn init_logging(cli: &Cli) {
    let g = &cli.global;
    let serving = matches!(cli.command, Command::Serve(_));
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
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(notices)
        .try_init();
}

async fn dispatch(cli: Cli) -> exit::Result<u8> {
    let Cli { global, command } = cli;
    let format = || Format::pick(global.output);
    match command {
        Command::Serve(args) => serve::run(args)
            .await
            .map(|()| exit::OK)
            .map_err(|e| Failure::other(exit::chain(&e))),
        Command::Completions { shell } => completions::print(shell)
            .map(|()| exit::OK)
            .map_err(output::write_failed),
        Command::Whoami => commands::whoami::run(&client(&global)?, format()).await,
        Command::Sessions(sub) => {
            let client = client(&global)?;
            match sub {
                SessionsCommand::List(args) => {
                    commands::sessions::list(&client, &args, format()).await
                }
                SessionsCommand::Invalidate(args) => {
                    commands::sessions::invalidate(&global, &client, &args, format()).await
                }
                SessionsCommand::Summary(args) => {
                    commands::sessions::summary(&client, &args, format()).await
                }
                SessionsCommand::Reset(args) => {
                    commands::sessions::reset(&client, &args, format()).await
                }
            }
        }
        Command::Settings(sub) => {
            let client = client(&global)?;
            match sub {
                SettingsCommand::Get(args) => {
                    commands::settings::get(&client, &args, format()).await
                }
                SettingsCommand::Set(args) => {
                    commands::settings::set(&client, &args, format()).await
                }
                SettingsCommand::Clear(args) => {
                    commands::settings::clear(&client, &args, format()).await
                }
            }
        }
        Command::Offboard(args) => offboard::run(&global, &args, format()).await,
        Command::Enforce(args) => policy::enforce::run(&global, &args, format()).await,
    }
}

fn client(global: &Global) -> exit::Result<slack_sessions_client::Client> {
    connect::client(global)
}
