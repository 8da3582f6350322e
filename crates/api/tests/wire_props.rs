//! The request decoder's properties, checked on random input in every CI run (the fuzz target
//! `fuzz/fuzz_targets/request_decoder.rs` checks the same ones at depth).

use proptest::prelude::*;
use slack_sessions_api::wire::{args_from_map, decode_body};
use slack_sessions_api::{Method, Validate};

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("application/x-www-form-urlencoded".to_owned())),
        Just(Some("application/json".to_owned())),
        Just(Some("multipart/form-data; boundary=b".to_owned())),
        Just(Some("text/plain; charset=iso-8859-1".to_owned())),
        ".{0,50}".prop_map(Some),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..400),
        "[a-z_\\[\\]=&%0-9A-F+,]{0,200}".prop_map(String::into_bytes),
        "\\{\"[a-z_]{1,12}\":(\"[^\"]{0,20}\"|[0-9]{1,25}|true|null|\\[\\]|\\[\"W1\"\\])\\}"
            .prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn decoding_never_panics_and_errors_have_codes(
        ct in content_type(),
        query in proptest::option::of("[a-z_=&%0-9A-F]{0,80}"),
        body in body(),
    ) {
        match decode_body(ct.as_deref(), query.as_deref(), &body) {
            Err(e) => prop_assert!(!e.code.as_str().is_empty()),
            Ok(raw) => {
                prop_assert!(!raw.args.contains_key("token"), "the token never stays among the arguments");
                // Every method of the catalogue: its arguments build, or the error names where.
                macro_rules! every_method {
                    ($($m:path),* $(,)?) => {$(
                        match args_from_map::<<$m as Method>::Args>(raw.args.clone()) {
                            Ok(args) => { let _ = args.validate(); }
                            Err(e) => prop_assert!(e.pointer.starts_with('/'), "{e}"),
                        }
                    )*};
                }
                slack_sessions_api::for_each_method!(every_method);
            }
        }
    }
}
