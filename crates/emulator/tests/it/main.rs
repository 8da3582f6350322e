//! Integration tests: a real emulator on 127.0.0.1:0, spoken to over HTTP.

mod bench;
mod decoding;
mod hardening;
mod methods;
mod pagination;
mod security;
mod storage;
mod testbench;
