//! The event names the listener knows: the short names `[actions]` uses, and the event-type
//! URIs a Security Event Token carries.
//!
//! - CAEP 1.0 §3 (<https://openid.net/specs/openid-caep-1_0.html>):
//!   `https://schemas.openid.net/secevent/caep/event-type/<name>`;
//! - RISC 1.0 (<https://openid.net/specs/openid-risc-1_0.html>):
//!   `https://schemas.openid.net/secevent/risc/event-type/<name>`;
//! - the Shared Signals Framework 1.0's own (<https://openid.net/specs/openid-sharedsignals-framework-1_0.html>):
//!   `https://schemas.openid.net/secevent/ssf/event-type/<name>`.
//!
//! An event type outside these namespaces keeps its whole URI as its name.

/// The CAEP event names.
pub const CAEP: &[&str] = &[
    "session-revoked",
    "token-claims-change",
    "credential-change",
    "assurance-level-change",
    "device-compliance-change",
    "session-established",
    "session-presented",
    "risk-level-change",
];

/// The RISC event names (`sessions-revoked` is deprecated in favour of CAEP's
/// `session-revoked`).
pub const RISC: &[&str] = &[
    "account-credential-change-required",
    "account-purged",
    "account-disabled",
    "account-enabled",
    "identifier-changed",
    "identifier-recycled",
    "credential-compromise",
    "opt-in",
    "opt-out-initiated",
    "opt-out-cancelled",
    "opt-out-effective",
    "recovery-activated",
    "recovery-information-changed",
    "sessions-revoked",
];

/// The Shared Signals Framework's own events.
pub const SSF: &[&str] = &["verification", "stream-updated"];

/// The SSF verification event: always recorded, never acted on.
pub const VERIFICATION: &str = "verification";

/// The event name of a Global Token Revocation request.
pub const GTR: &str = "gtr";

const CAEP_BASE: &str = "https://schemas.openid.net/secevent/caep/event-type/";
const RISC_BASE: &str = "https://schemas.openid.net/secevent/risc/event-type/";
const SSF_BASE: &str = "https://schemas.openid.net/secevent/ssf/event-type/";

/// Every short name: CAEP, RISC, SSF and `gtr` (Okta's event types are not listed: Okta has
/// hundreds and adds more).
pub fn known() -> impl Iterator<Item = &'static str> {
    CAEP.iter()
        .chain(RISC)
        .chain(SSF)
        .copied()
        .chain(std::iter::once(GTR))
}

/// The name of an event-type URI: its last segment in the CAEP, RISC and SSF namespaces,
/// else the URI itself.
pub fn name_of(uri: &str) -> &str {
    [CAEP_BASE, RISC_BASE, SSF_BASE]
        .iter()
        .find_map(|base| uri.strip_prefix(base))
        .filter(|name| !name.is_empty() && !name.contains('/'))
        .unwrap_or(uri)
}

/// The URI of a short name (`session-revoked` → CAEP's URI); a URI is returned as it is, and
/// a name in no namespace is `None`.
pub fn uri_of(name: &str) -> Option<String> {
    if name.contains(':') {
        return Some(name.to_owned());
    }
    let base = if CAEP.contains(&name) {
        CAEP_BASE
    } else if RISC.contains(&name) {
        RISC_BASE
    } else if SSF.contains(&name) {
        SSF_BASE
    } else {
        return None;
    };
    Some(format!("{base}{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris_round_trip() {
        for name in CAEP.iter().chain(RISC).chain(SSF) {
            let uri = uri_of(name).unwrap();
            assert_eq!(name_of(&uri), *name);
        }
        assert_eq!(
            uri_of("session-revoked").unwrap(),
            "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
        );
        assert_eq!(
            name_of("https://example.com/e/x"),
            "https://example.com/e/x"
        );
        assert_eq!(uri_of("no-such-event"), None);
    }
}
