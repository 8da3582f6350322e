//! The `slack-sessions` binary against an embedded emulator: every command's output in each
//! format (insta snapshots), the exit codes, the token's handling, and offboarding runs that
//! are interrupted and resumed; and `serve` as a process (durability across `kill -9`, a mixed
//! load with rate limits on).

mod bulk_kills;
mod commands;
mod enforce;
mod enforce_kills;
mod exit_codes;
mod files;
mod harness;
mod history;
mod hostile;
mod identity;
mod input;
mod inventory;
mod kills;
mod listen;
mod manners;
mod offboard;
mod plan;
mod policy_names;
mod readme;
mod reliability;
mod resolve;
mod resume;
mod serve;
mod slack_answers;
mod summary;
mod token;
