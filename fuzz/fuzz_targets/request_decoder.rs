//! Slack's request decoding: any content type, query and body either decode to arguments that
//! every method's argument type can be built from (or refuse with a reason), or are refused with
//! a Slack error code. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slack_sessions_api::{Method, Validate};
use slack_sessions_api::wire::{args_from_map, decode_body};

const TYPES: [&str; 7] = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/json",
    "application/json; charset=iso-8859-1",
    "multipart/form-data; boundary=xyz",
    "text/plain",
    "",
];

fuzz_target!(|input: (u8, String, Option<String>, Vec<u8>)| {
    let (pick, raw_type, query, body) = input;
    let content_type = match pick as usize % (TYPES.len() + 2) {
        i if i < TYPES.len() => Some(TYPES[i]),
        i if i == TYPES.len() => Some(raw_type.as_str()),
        _ => None,
    };
    match decode_body(content_type, query.as_deref(), &body) {
        Err(e) => assert!(!e.code.as_str().is_empty()),
        Ok(raw) => {
            // Every method of the catalogue: its arguments build, or the error names where.
            macro_rules! every_method {
                ($($m:path),* $(,)?) => {$(
                    match args_from_map::<<$m as Method>::Args>(raw.args.clone()) {
                        Ok(args) => { let _ = args.validate(); }
                        Err(e) => assert!(e.pointer.starts_with('/'), "{e}"),
                    }
                )*};
            }
            slack_sessions_api::for_each_method!(every_method);
        }
    }
});
