//! The `slack-sessions` binary against an embedded emulator: every command's output in each
//! format (insta snapshots), the exit codes, the token's handling, and offboarding runs that
//! are interrupted and resumed.

mod commands;
mod exit_codes;
mod harness;
mod kills;
mod offboard;
mod resume;
mod token;
