//! Integration tests: the client against the real emulator, embedded on `127.0.0.1:0`.
//! No mocks: every answer comes from the emulator's own request path.

mod audit_logs;
mod bulk;
mod common;
mod errors;
mod faults;
mod helpers;
mod methods;
mod pacing;
mod pagination;
mod redaction;
mod traps;
mod walk_faults;
