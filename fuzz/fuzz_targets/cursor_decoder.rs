//! The list cursor: any string decodes to a position or to "invalid"; a position re-encodes to
//! a cursor that decodes to the same position. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slack_sessions_emulator::cursor::{decode, encode};

fuzz_target!(|cursor: &str| {
    if let Some(position) = decode(cursor) {
        assert_eq!(decode(&encode(position)), Some(position));
    }
});
