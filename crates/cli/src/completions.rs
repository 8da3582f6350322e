//! `completions SHELL`: the shell completion scripts, from clap_complete.
//!
//! clap_complete's bash script names nested commands of a hyphenated binary inconsistently:
//! it records `slack__sessions__subcmd__sessions` for `slack-sessions sessions`, but its case
//! arms read `slack__subcmd__sessions__subcmd__sessions`, so nothing past the first word
//! completes. The arms are renamed here to what the script records.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// The name the completions are for.
const BIN: &str = "slack-sessions";

/// The completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut out);
    if shell == Shell::Bash {
        let text = String::from_utf8_lossy(&out).replace(
            "slack__subcmd__sessions__subcmd__",
            "slack__sessions__subcmd__",
        );
        return text.into_bytes();
    }
    out
}

/// Prints the completion script for `shell`.
pub fn print(shell: Shell) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&script(shell))?;
    stdout.flush()
}
