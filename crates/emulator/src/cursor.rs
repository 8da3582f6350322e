//! The `list` cursor: an opaque keyset position (the last session id served), never an offset,
//! so the last page of a million sessions costs what the first does.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const PREFIX: &str = "session:";

/// The cursor that resumes after session `last`.
pub fn encode(last: u64) -> String {
    STANDARD.encode(format!("{PREFIX}{last}"))
}

/// The session id a cursor resumes after, or `None` for a cursor this emulator did not issue.
pub fn decode(cursor: &str) -> Option<u64> {
    let bytes = STANDARD.decode(cursor.trim()).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let digits = text.strip_prefix(PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // The fuzz target `cursor_decoder` checks the same property at depth.
        #[test]
        fn any_string_decodes_or_is_refused(s in ".{0,64}", id in any::<u64>()) {
            if let Some(position) = decode(&s) {
                prop_assert_eq!(decode(&encode(position)), Some(position));
            }
            prop_assert_eq!(decode(&encode(id)), Some(id));
        }
    }

    #[test]
    fn round_trip_and_garbage() {
        for id in [0, 1, 1_112_275_520_242, u64::MAX] {
            assert_eq!(decode(&encode(id)), Some(id));
        }
        for bad in [
            "",
            "abc",
            "c2Vzc2lvbjo=",
            "dXNlcjpVMEc5V0ZYTlo=",
            &STANDARD.encode("session:-1"),
        ] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
