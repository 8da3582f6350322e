//! Judging a session against a policy's rules: which rule it breaks first, and why.

use std::net::IpAddr;

use slack_sessions_client::methods::{ActiveSession, ClientKind};

use super::policy::{Check, Policy, Rule};
use crate::filter::{Version, latest};

/// A rule a session breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breach {
    /// The rule's index in the policy.
    pub rule: usize,
    /// Why, in words (`IP 192.0.2.7 is outside the allowed networks`).
    pub why: String,
}

/// Whether a session breaks `rule`, and why. What a session does not tell (no IP, no version,
/// no OS) breaks nothing: it is not guessed.
pub fn breaks(rule: &Rule, s: &ActiveSession) -> Option<String> {
    match &rule.check {
        Check::AllowedNetworks(nets) => {
            let text = latest(s, |d| d.ip.as_ref())?;
            let ip: IpAddr = text.trim().parse().ok()?;
            (!nets.iter().any(|n| n.contains(ip)))
                .then(|| format!("IP {ip} is outside the allowed networks"))
        }
        Check::MinClientVersion(min) => {
            let kind = s.client_kind();
            let os = latest(s, |d| d.os.as_ref()).map(str::to_lowercase);
            // An OS's minimum is a Slack app's version; a browser's version is the browser's,
            // so only the `web` key applies to it.
            let by_os = os
                .as_ref()
                .filter(|_| kind != ClientKind::Web)
                .and_then(|os| min.get_key_value(os));
            let (key, wanted) = by_os.or_else(|| min.get_key_value(kind.as_str()))?;
            let text = latest(s, |d| d.slack_client_version.as_ref())?;
            let version = Version::of_session(text)?;
            (version < *wanted).then(|| format!("Slack {text} is below {wanted} ({key})"))
        }
        Check::DenyOs(denied) => {
            let os = latest(s, |d| d.os.as_ref())?;
            let os_version = latest(s, |d| d.os_version.as_ref()).and_then(Version::of_session);
            denied
                .iter()
                .find(|d| {
                    d.os == os.to_lowercase()
                        && d.version.as_ref().is_none_or(|prefix| {
                            os_version.as_ref().is_some_and(|v| v.starts_with(prefix))
                        })
                })
                .map(|d| {
                    let v = latest(s, |d| d.os_version.as_ref()).unwrap_or("");
                    format!("{os} {v} is denied ({})", d.text).replace("  ", " ")
                })
        }
    }
}

/// The first rule of `policy` a session breaks.
pub fn first_breach(policy: &Policy, s: &ActiveSession) -> Option<Breach> {
    policy
        .rules
        .iter()
        .enumerate()
        .find_map(|(i, r)| breaks(r, s).map(|why| Breach { rule: i, why }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enforce::policy::parse;
    use slack_sessions_client::api::{SessionId, TeamId, UserId};
    use slack_sessions_client::methods::DeviceRecord;
    use std::path::Path;

    fn s(os: &str, os_v: &str, app: &str, ip: &str, recent_ip: Option<&str>) -> ActiveSession {
        let created = DeviceRecord::new("hw", os, os_v, app, ip);
        let recent = recent_ip.map(|r| DeviceRecord::new("hw", os, os_v, app, r));
        ActiveSession::new(
            UserId::new("W1"),
            TeamId::new("T1"),
            SessionId(1),
            created,
            recent,
        )
    }

    const POLICY: &str = r#"
[[rule]]
name = "office"
allowed_networks = ["198.51.100.0/24", "2001:db8:ac3e::/48"]
[[rule]]
name = "patched"
min_client_version = { windows = "4.36", mobile = "24.1" }
[[rule]]
name = "old-os"
deny_os = ["OS X 12", "Android"]
"#;

    #[test]
    fn each_check() {
        let p = parse(Path::new("p"), POLICY).unwrap();
        let rule =
            |s: &ActiveSession| first_breach(&p, s).map(|b| (p.rules[b.rule].name.clone(), b.why));
        assert_eq!(
            rule(&s("Windows", "11", "4.41.0", "198.51.100.7", None)),
            None
        );
        // The recent IP decides.
        let moved = s("Windows", "11", "4.41.0", "198.51.100.7", Some("192.0.2.1"));
        assert_eq!(
            rule(&moved),
            Some((
                "office".into(),
                "IP 192.0.2.1 is outside the allowed networks".into()
            ))
        );
        let back = s(
            "Windows",
            "11",
            "4.41.0",
            "192.0.2.1",
            Some("2001:db8:ac3e:1::9"),
        );
        assert_eq!(rule(&back), None);
        let old = s("Windows", "10", "4.33.73", "198.51.100.7", None);
        assert_eq!(
            rule(&old),
            Some((
                "patched".into(),
                "Slack 4.33.73 is below 4.36 (windows)".into()
            ))
        );
        // iOS has no key of its own: the mobile kind's applies.
        let phone = s("iOS", "16.7", "23.08.10", "198.51.100.7", None);
        assert_eq!(rule(&phone).unwrap().0, "patched");
        // OS X has no minimum: not judged on its version.
        assert_eq!(rule(&s("OS X", "14.2", "4.0", "198.51.100.7", None)), None);
        let mac12 = s("OS X", "12.7.6", "4.41", "198.51.100.7", None);
        assert_eq!(
            rule(&mac12),
            Some(("old-os".into(), "OS X 12.7.6 is denied (OS X 12)".into()))
        );
        assert_eq!(
            rule(&s("OS X", "120.1", "4.41", "198.51.100.7", None)),
            None
        );
        assert_eq!(
            rule(&s("android", "15", "24.11", "198.51.100.7", None))
                .unwrap()
                .0,
            "old-os"
        );
        // Nothing to judge by: no breach.
        let blank = ActiveSession::new(
            UserId::new("W1"),
            TeamId::new("T1"),
            SessionId(1),
            DeviceRecord::default(),
            None,
        );
        assert_eq!(rule(&blank), None);
    }

    #[test]
    fn a_browser_is_judged_by_the_web_minimum_only() {
        let p = parse(
            Path::new("p"),
            "[[rule]]\nname = \"v\"\nmin_client_version = { windows = \"4.36\", desktop = \"4.30\", web = \"120\" }\n",
        )
        .unwrap();
        let why = |s: &ActiveSession| first_breach(&p, s).map(|b| b.why);
        // Chrome 109 on Windows: the web minimum, not Windows' (a desktop-app version).
        assert_eq!(
            why(&s("Windows", "10", "109.0", "192.0.2.1", None)).as_deref(),
            Some("Slack 109.0 is below 120 (web)")
        );
        assert_eq!(
            why(&s("Windows", "11", "131.0.6778.86", "192.0.2.1", None)),
            None
        );
        // The desktop app on Windows: Windows' minimum before the desktop kind's.
        assert_eq!(
            why(&s("Windows", "11", "4.33.73", "192.0.2.1", None)).as_deref(),
            Some("Slack 4.33.73 is below 4.36 (windows)")
        );
        // On Linux, no OS minimum: the desktop kind's applies, never the web one.
        assert_eq!(
            why(&s("Linux", "6.8", "4.29.149", "192.0.2.1", None)).as_deref(),
            Some("Slack 4.29.149 is below 4.30 (desktop)")
        );
        assert_eq!(why(&s("Linux", "6.8", "4.39.95", "192.0.2.1", None)), None);
    }
}
