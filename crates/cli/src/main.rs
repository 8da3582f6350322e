//! The `slack-sessions` binary: a thin shell over the library (see `src/lib.rs`).

fn main() -> std::process::ExitCode {
    slack_sessions::main()
}
