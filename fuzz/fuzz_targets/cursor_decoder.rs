//! The list cursor: any string decodes to a position or to "invalid"; a position re-encodes to
//! a cursor that decodes to the same position. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slack_sessions_emulator::fuzzing::{decode_session, encode_session};

const SCOPE: &str = "E012AB3CD|";

fuzz_target!(|cursor: &str| {
    if let Some(position) = decode_session(cursor, SCOPE) {
        assert_eq!(decode_session(&encode_session(position, SCOPE), SCOPE), Some(position));
    }
});
