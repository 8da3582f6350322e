//! The seed loader: any bytes are refused with a message or accepted; an accepted seed loads
//! into the store and exports to itself (in the store's stable order). Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slack_sessions_emulator::Seed;
use slack_sessions_emulator::fuzzing::store_round_trip;

fuzz_target!(|bytes: &[u8]| {
    let Ok(seed) = Seed::from_json_bytes(bytes) else {
        return;
    };
    let exported = store_round_trip(&seed).expect("a valid seed loads");
    assert_eq!(store_round_trip(&exported).expect("an export loads"), exported);
});
