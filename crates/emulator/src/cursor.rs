//! Page cursors: an opaque keyset position (the last id served), never an offset, so the last
//! page of a million sessions costs what the first does.
//!
//! A cursor is bound to what it pages through: the org and the filter of the call that issued
//! it (a short digest of them travels inside). Used with another org or another filter it is
//! `invalid_cursor`, never a page of something else.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// What a cursor pages through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `admin.users.session.list`: session ids.
    Session,
    /// `users.list`: user ids.
    User,
    /// The Audit Logs API's `/logs`: `date_create:seq` positions.
    AuditLog,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Session => "session",
            Kind::User => "user",
            Kind::AuditLog => "audit_log",
        }
    }
}

/// A digest of the org and filter a cursor belongs to: 12 hex digits.
fn tag(scope: &str) -> String {
    let digest = Sha256::digest(scope.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// The cursor that resumes after `last` within `scope` (the org id and the call's filter).
pub fn encode(kind: Kind, last: &str, scope: &str) -> String {
    STANDARD.encode(format!("{}:{last}:{}", kind.prefix(), tag(scope)))
}

/// The position a cursor resumes after, or `None` for a cursor this emulator did not issue for
/// this `kind` and `scope`.
pub fn decode(cursor: &str, kind: Kind, scope: &str) -> Option<String> {
    let bytes = STANDARD.decode(cursor.trim()).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let rest = text.strip_prefix(kind.prefix())?.strip_prefix(':')?;
    let (last, digest) = rest.rsplit_once(':')?;
    (digest == tag(scope) && !last.is_empty()).then(|| last.to_owned())
}

/// [`encode`] for a session id.
pub fn encode_session(last: u64, scope: &str) -> String {
    encode(Kind::Session, &last.to_string(), scope)
}

/// [`decode`] for a session id.
pub fn decode_session(cursor: &str, scope: &str) -> Option<u64> {
    let last = decode(cursor, Kind::Session, scope)?;
    if !last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    last.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // The fuzz target `cursor_decoder` checks the same property at depth.
        #[test]
        fn any_string_decodes_or_is_refused(s in ".{0,64}", id in any::<u64>(), scope in ".{0,16}") {
            if let Some(position) = decode_session(&s, &scope) {
                prop_assert_eq!(decode_session(&encode_session(position, &scope), &scope), Some(position));
            }
            prop_assert_eq!(decode_session(&encode_session(id, &scope), &scope), Some(id));
        }
    }

    #[test]
    fn round_trip_and_garbage() {
        for id in [0, 1, 1_112_275_520_242, u64::MAX] {
            assert_eq!(decode_session(&encode_session(id, "E1|"), "E1|"), Some(id));
        }
        for bad in [
            "",
            "abc",
            "c2Vzc2lvbjo=",
            "dXNlcjpVMEc5V0ZYTlo=",
            &STANDARD.encode("session:-1"),
            &STANDARD.encode(format!("session:-1:{}", tag("E1|"))),
        ] {
            assert_eq!(decode_session(bad, "E1|"), None, "{bad}");
        }
    }

    #[test]
    fn a_cursor_is_bound_to_its_org_filter_and_kind() {
        let c = encode_session(42, "E1|");
        assert_eq!(decode_session(&c, "E2|"), None, "another org");
        assert_eq!(decode_session(&c, "E1|T1|W1"), None, "another filter");
        assert_eq!(decode(&c, Kind::User, "E1|"), None, "another method");
        let u = encode(Kind::User, "W0:odd", "E1|T1");
        assert_eq!(decode(&u, Kind::User, "E1|T1").as_deref(), Some("W0:odd"));
    }
}
