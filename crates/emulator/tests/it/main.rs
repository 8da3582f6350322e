//! Integration tests: a real emulator on 127.0.0.1:0, spoken to over HTTP.

mod audit_logs;
mod bench;
mod churn;
mod decoding;
mod edges;
mod forgery;
mod hardening;
mod integrity;
mod methods;
mod pagination;
mod security;
mod session_ids;
mod storage;
mod testbench;
mod users;
