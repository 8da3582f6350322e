//! The policy file (TOML): its rules, exemptions and guardrails, read and checked. Every error
//! names the line it is on.
//!
//! **Names.** A typo in an OS name or a client kind would leave a rule that matches nothing,
//! and a dry run that says `breaches: 0`. What the tool does about a name it does not know
//! depends on the key:
//! - a `min_client_version` key must be a client kind (`mobile`, `desktop`, `web`) or an OS
//!   Slack is known to send: anything else is an error. A minimum left unapplied fails open,
//!   and refusing costs nothing: every session has a kind, so an OS the tool does not know yet
//!   is covered by its kind's key;
//! - a `deny_os` name outside the known OS names is a warning ([`Policy::warnings`]), not an
//!   error: Slack documents no list of OS names and may send new ones, which a policy must be
//!   able to deny. The dry run also says which rules matched no session.
//!
//! **Size.** A policy is read up to [`MAX_BYTES`]; loading is linear in its size.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use slack_sessions_client::methods::{ClientKind, DeviceRecord};
use toml::Spanned;

use crate::error::{Error, Result};
use crate::filter::{Network, Version, parse_network};

/// The largest policy file read: a hand-written policy is a few kilobytes, and 1 MiB holds
/// some 25,000 rules. Past it the file is refused, whatever it is (`/dev/zero`, a log).
pub const MAX_BYTES: u64 = 1 << 20;

/// What a rule does to a session that breaks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// End that session (`admin.users.session.invalidate`).
    Invalidate,
    /// Sign its user out everywhere (`admin.users.session.reset`).
    Reset,
}

impl Action {
    /// As written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Invalidate => "invalidate",
            Action::Reset => "reset",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    guardrails: RawGuardrails,
    #[serde(default)]
    exempt: RawExempt,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuardrails {
    cooldown: Option<Spanned<String>>,
    max_actions_per_run: Option<u64>,
    max_actions_per_hour: Option<u64>,
    max_share: Option<Spanned<f64>>,
    exempt_token_owner: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExempt {
    #[serde(default)]
    users: Vec<Spanned<String>>,
    #[serde(default)]
    emails: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Spanned<String>,
    allowed_networks: Option<Spanned<Vec<Spanned<String>>>>,
    min_client_version: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    deny_os: Option<Spanned<Vec<Spanned<String>>>>,
    action: Option<Action>,
    #[serde(default)]
    exempt_users: Vec<Spanned<String>>,
    #[serde(default)]
    exempt_emails: Vec<Spanned<String>>,
    cooldown: Option<Spanned<String>>,
}

/// An OS, or one version line of it, that a rule denies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeniedOs {
    /// The OS name, lower-case.
    pub os: String,
    /// The version prefix (`10` denies 10, 10.0.19045…), or every version.
    pub version: Option<Version>,
    /// As written.
    pub text: String,
}

/// What a rule checks.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// The session's latest IP must be in one of these networks.
    AllowedNetworks(Vec<Network>),
    /// The latest Slack client version must be at least this, by OS (lower-case) or client
    /// kind (`mobile`, `desktop`, `web`); an OS named is used before its kind, except for a
    /// browser (its version is the browser's), which only `web` applies to.
    MinClientVersion(BTreeMap<String, Version>),
    /// The latest OS (and version) must not be one of these.
    DenyOs(Vec<DeniedOs>),
}

/// One rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Its name (reported with each session that breaks it).
    pub name: String,
    /// What it checks.
    pub check: Check,
    /// What is done.
    pub action: Action,
    /// Users it leaves alone (IDs).
    pub exempt_users: Vec<String>,
    /// Users it leaves alone (emails, lower-case).
    pub exempt_emails: Vec<String>,
    /// Its own cooldown, instead of the guardrail's.
    pub cooldown: Option<Duration>,
    /// The line it starts on.
    pub line: usize,
}

/// The guardrails.
#[derive(Clone, Debug, PartialEq)]
pub struct Guardrails {
    /// A user acted on is left alone this long.
    pub cooldown: Duration,
    /// At most this many actions a run.
    pub max_actions_per_run: u64,
    /// At most this many actions in any hour.
    pub max_actions_per_hour: u64,
    /// A run that would end more than this share of all sessions stops instead.
    pub max_share: f64,
    /// The token's own user is exempt.
    pub exempt_token_owner: bool,
}

impl Default for Guardrails {
    fn default() -> Self {
        Guardrails {
            cooldown: Duration::from_secs(3600),
            max_actions_per_run: 100,
            max_actions_per_hour: 500,
            max_share: 0.10,
            exempt_token_owner: true,
        }
    }
}

/// A policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// The rules, in the file's order (a session is reported under the first it breaks).
    pub rules: Vec<Rule>,
    /// Users no rule acts on (IDs).
    pub exempt_users: Vec<String>,
    /// Users no rule acts on (emails, lower-case).
    pub exempt_emails: Vec<String>,
    /// The guardrails.
    pub guardrails: Guardrails,
    /// What the policy may have wrong without being refused (a `deny_os` name the tool does
    /// not know), each naming its line: shown before a run and kept in its audit log.
    pub warnings: Vec<String>,
}

/// Where each line of a text starts: the line of any offset by a binary search, so that
/// naming the line of each of N rules costs N log N, not N times the file.
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Lines {
        Lines(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// The line (1-based) of a byte offset.
    fn at(&self, offset: usize) -> usize {
        self.0.partition_point(|newline| *newline < offset) + 1
    }
}

/// The names `min_client_version` takes, lower-case: the client kinds, then the known OS.
fn known_keys() -> impl Iterator<Item = &'static str> {
    ClientKind::JUDGED
        .iter()
        .map(|k| k.as_str())
        .chain(DeviceRecord::KNOWN_OS)
}

/// Names as a list for people: `mobile, desktop, "OS X", Windows`.
fn listed(names: impl Iterator<Item = &'static str>) -> String {
    names
        .map(|n| {
            if n.contains(' ') {
                format!("{n:?}")
            } else {
                n.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The known name `given` is likely a typo of (any case, spaces ignored, two edits at most).
fn suggestion(given: &str, known: impl Iterator<Item = &'static str>) -> Option<&'static str> {
    let squash = |s: &str| s.to_lowercase().replace(' ', "");
    let given = squash(given);
    known
        .map(|k| (strsim::levenshtein(&given, &squash(k)), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn did_you_mean(name: Option<&str>) -> String {
    name.map(|n| format!("; did you mean {n:?}?"))
        .unwrap_or_default()
}

struct Checker<'a> {
    path: &'a Path,
    lines: Lines,
}

impl Checker<'_> {
    fn at(&self, span: std::ops::Range<usize>, message: impl std::fmt::Display) -> String {
        format!(
            "{} line {}: {message}",
            self.path.display(),
            self.lines.at(span.start)
        )
    }

    fn fail<T>(&self, span: std::ops::Range<usize>, message: impl std::fmt::Display) -> Result<T> {
        Err(Error::refused(self.at(span, message)))
    }

    fn duration(&self, d: &Spanned<String>, what: &str) -> Result<Duration> {
        crate::duration::parse(d.get_ref())
            .or_else(|e| self.fail(d.span(), format!("{what} {:?}: {e}", d.get_ref())))
    }

    fn users(&self, ids: &[Spanned<String>]) -> Result<Vec<String>> {
        ids.iter()
            .map(|u| {
                let id = u.get_ref().trim();
                if crate::users::looks_like_id(id) {
                    Ok(id.to_owned())
                } else {
                    self.fail(u.span(), format!("{id:?} is not a user ID (W… or U…)"))
                }
            })
            .collect()
    }

    fn emails(&self, emails: &[Spanned<String>]) -> Result<Vec<String>> {
        emails
            .iter()
            .map(|e| {
                let email = e.get_ref().trim();
                if crate::users::looks_like_email(email) {
                    Ok(email.to_ascii_lowercase())
                } else {
                    self.fail(e.span(), format!("{email:?} is not an email address"))
                }
            })
            .collect()
    }

    fn check(&self, r: &RawRule, warnings: &mut Vec<String>) -> Result<Check> {
        let given = [
            r.allowed_networks.as_ref().map(|v| v.span()),
            r.min_client_version.as_ref().map(|v| v.span()),
            r.deny_os.as_ref().map(|v| v.span()),
        ];
        let count = given.iter().flatten().count();
        if count != 1 {
            return self.fail(
                r.name.span(),
                format!(
                    "rule {:?} must have exactly one of allowed_networks, min_client_version, deny_os (it has {count})",
                    r.name.get_ref()
                ),
            );
        }
        if let Some(nets) = &r.allowed_networks {
            if nets.get_ref().is_empty() {
                return self.fail(
                    nets.span(),
                    "allowed_networks is empty: it would end every session",
                );
            }
            let nets = nets
                .get_ref()
                .iter()
                .map(|n| parse_network(n.get_ref()).or_else(|e| self.fail(n.span(), e)))
                .collect::<Result<Vec<_>>>()?;
            return Ok(Check::AllowedNetworks(nets));
        }
        if let Some(min) = &r.min_client_version {
            if min.get_ref().is_empty() {
                return self.fail(min.span(), "min_client_version names no OS or client kind");
            }
            let mut out = BTreeMap::new();
            for (k, v) in min.get_ref() {
                // A key has no span of its own: its value's is on the same line.
                let key = k.trim().to_lowercase();
                if key.is_empty() {
                    return self.fail(
                        v.span(),
                        "min_client_version has an empty key: an OS or client kind",
                    );
                }
                if !known_keys().any(|n| n.to_lowercase() == key) {
                    return self.fail(
                        v.span(),
                        format!(
                            "min_client_version key {k:?} is neither a client kind nor an OS Slack sends (known: {}){}",
                            listed(known_keys()),
                            did_you_mean(suggestion(k, known_keys())),
                        ),
                    );
                }
                let version = Version::parse(v.get_ref())
                    .or_else(|e| self.fail(v.span(), format!("min_client_version.{k}: {e}")))?;
                out.insert(key, version);
            }
            return Ok(Check::MinClientVersion(out));
        }
        let denied = r
            .deny_os
            .as_ref()
            .map(Spanned::get_ref)
            .cloned()
            .unwrap_or_default();
        let denied = denied
            .iter()
            .map(|d| {
                let text = d.get_ref().trim();
                if text.is_empty() {
                    return self.fail(d.span(), "deny_os has an empty OS name");
                }
                // "Windows 10", "OS X 12": a last word that is a version is the version.
                let (os, version) = match text.rsplit_once(' ') {
                    Some((os, v)) if Version::parse(v).is_ok() => {
                        (os.trim(), Version::parse(v).ok())
                    }
                    _ => (text, None),
                };
                let os = os.to_lowercase();
                if !DeviceRecord::KNOWN_OS.iter().any(|k| k.to_lowercase() == os) {
                    warnings.push(self.at(
                        d.span(),
                        format!(
                            "deny_os {text:?} is not an OS Slack is known to send (known: {}){}; it denies only sessions whose OS is exactly that",
                            listed(DeviceRecord::KNOWN_OS.into_iter()),
                            did_you_mean(suggestion(&os, DeviceRecord::KNOWN_OS.into_iter())),
                        ),
                    ));
                }
                Ok(DeniedOs {
                    os,
                    version,
                    text: text.to_owned(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Check::DenyOs(denied))
    }
}

/// Parses and checks a policy's text.
pub fn parse(path: &Path, text: &str) -> Result<Policy> {
    let lines = Lines::of(text);
    let raw: RawPolicy = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| lines.at(s.start));
        let message = e.message().trim().to_owned();
        Error::refused(match line {
            Some(line) => format!("{} line {line}: {message}", path.display()),
            None => format!("{}: {message}", path.display()),
        })
    })?;
    let c = Checker { path, lines };
    let mut g = Guardrails::default();
    if let Some(d) = &raw.guardrails.cooldown {
        g.cooldown = c.duration(d, "cooldown")?;
    }
    if let Some(n) = raw.guardrails.max_actions_per_run {
        g.max_actions_per_run = n;
    }
    if let Some(n) = raw.guardrails.max_actions_per_hour {
        g.max_actions_per_hour = n;
    }
    if let Some(share) = &raw.guardrails.max_share {
        let v = *share.get_ref();
        if !(v > 0.0 && v <= 1.0) {
            return c.fail(
                share.span(),
                format!("max_share {v}: a share above 0 and at most 1 (0.1 is 10%)"),
            );
        }
        g.max_share = v;
    }
    if let Some(b) = raw.guardrails.exempt_token_owner {
        g.exempt_token_owner = b;
    }
    if raw.rule.is_empty() {
        return Err(Error::refused(format!(
            "{}: no [[rule]]: a policy needs at least one rule",
            path.display()
        )));
    }
    let mut rules: Vec<Rule> = Vec::with_capacity(raw.rule.len());
    let mut warnings = Vec::new();
    // Each name's line, to find a second rule of a name without a pass over the others.
    let mut names: HashMap<String, usize> = HashMap::with_capacity(raw.rule.len());
    for r in &raw.rule {
        let name = r.name.get_ref().trim().to_owned();
        if name.is_empty() {
            return c.fail(r.name.span(), "a rule's name is empty");
        }
        let line = c.lines.at(r.name.span().start);
        if let Some(first) = names.insert(name.clone(), line) {
            return c.fail(
                r.name.span(),
                format!("a second rule named {name:?} (the first is on line {first})"),
            );
        }
        rules.push(Rule {
            check: c.check(r, &mut warnings)?,
            action: r.action.unwrap_or(Action::Invalidate),
            exempt_users: c.users(&r.exempt_users)?,
            exempt_emails: c.emails(&r.exempt_emails)?,
            cooldown: r
                .cooldown
                .as_ref()
                .map(|d| c.duration(d, "cooldown"))
                .transpose()?,
            line,
            name,
        });
    }
    Ok(Policy {
        rules,
        exempt_users: c.users(&raw.exempt.users)?,
        exempt_emails: c.emails(&raw.exempt.emails)?,
        guardrails: g,
        warnings,
    })
}

/// Reads (up to [`MAX_BYTES`]) and checks a policy file.
pub fn read(path: &Path) -> Result<(Policy, String)> {
    let bytes = crate::files::read_capped(path, MAX_BYTES, "policy")?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::refused(format!(
            "the policy {} is not UTF-8 text (at byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok((parse(path, &text)?, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(Path::new("p.toml"), text).unwrap_err().to_string()
    }

    const GOOD: &str = r#"
[guardrails]
cooldown = "30m"
max_share = 0.25

[exempt]
emails = ["Ada@Acme.example"]

[[rule]]
name = "office"
allowed_networks = ["198.51.100.0/24", "2001:db8::/32"]

[[rule]]
name = "patched"
min_client_version = { "OS X" = "4.36", mobile = "24.1" }
action = "reset"
cooldown = "0s"

[[rule]]
name = "old-os"
deny_os = ["Windows 10", "Android"]
exempt_users = ["W0DEMO0005"]
"#;

    #[test]
    fn a_good_policy() {
        let p = parse(Path::new("p.toml"), GOOD).unwrap();
        assert_eq!(p.rules.len(), 3);
        assert_eq!(p.guardrails.cooldown, Duration::from_secs(1800));
        assert_eq!(p.guardrails.max_share, 0.25);
        assert_eq!(p.exempt_emails, vec!["ada@acme.example"]);
        assert_eq!(p.rules[0].line, 10);
        assert_eq!(p.rules[1].action, Action::Reset);
        assert_eq!(p.rules[1].cooldown, Some(Duration::ZERO));
        let Check::MinClientVersion(min) = &p.rules[1].check else {
            panic!()
        };
        assert_eq!(min["os x"], Version::parse("4.36").unwrap());
        let Check::DenyOs(d) = &p.rules[2].check else {
            panic!()
        };
        assert_eq!(d[0].os, "windows");
        assert_eq!(d[0].version, Some(Version::parse("10").unwrap()));
        assert_eq!(d[1].version, None);
    }

    #[test]
    fn errors_name_the_line() {
        let e = err("[[rule]]\nname = \"a\"\nallowed_networks = [\"10.1.2.3/8\"]\n");
        assert!(
            e.contains("p.toml line 3") && e.contains("did you mean 10.0.0.0/8"),
            "{e}"
        );
        let e = err("[[rule]]\nname = \"a\"\n\nmin_client_version = { web = \"4.x\" }\n");
        assert!(e.contains("line 4") && e.contains("not a version"), "{e}");
        let e = err("[[rule]]\nname = \"a\"\nallowed_netwrks = [\"10.0.0.0/8\"]\n");
        assert!(e.contains("line 3") && e.contains("allowed_netwrks"), "{e}");
        let e = err("[[rule]]\nname = \"a\"\n");
        assert!(e.contains("line 2") && e.contains("exactly one"), "{e}");
        let e = err("[guardrails]\nmax_share = 5.0\n[[rule]]\nname = \"a\"\ndeny_os = [\"iOS\"]\n");
        assert!(e.contains("line 2") && e.contains("max_share"), "{e}");
        let e = err(
            "[[rule]]\nname = \"a\"\ndeny_os = [\"iOS\"]\n[[rule]]\nname = \"a\"\ndeny_os = [\"x\"]\n",
        );
        assert!(
            e.contains("line 5") && e.contains("first is on line 2"),
            "{e}"
        );
        let e = err("[[rule]]\nname = \"a\"\ndeny_os = [\"iOS\"]\nexempt_users = [\"bob\"]\n");
        assert!(e.contains("line 4") && e.contains("not a user ID"), "{e}");
        let e = err("[[rule]]\nname = \"a\"\ndeny_os = [\"iOS\"]\ncooldown = \"soon\"\n");
        assert!(e.contains("line 4") && e.contains("cooldown"), "{e}");
        assert!(err("").contains("no [[rule]]"));
        assert!(err("[[rule]\n").contains("line 1"));
    }

    #[test]
    fn names_a_tool_does_not_know() {
        let e = err("[[rule]]\nname = \"a\"\nmin_client_version = { \"OSX\" = \"99.0\" }\n");
        assert!(
            e.contains("p.toml line 3")
                && e.contains("\"OSX\" is neither")
                && e.contains(
                    "known: mobile, desktop, web, \"OS X\", Windows, Linux, iOS, iPadOS, Android"
                )
                && e.contains("did you mean \"OS X\"?"),
            "{e}"
        );
        let e = err("[[rule]]\nname = \"a\"\nmin_client_version = { Mobil = \"1\" }\n");
        assert!(e.contains("did you mean \"mobile\"?"), "{e}");
        let e = err("[[rule]]\nname = \"a\"\nmin_client_version = { \"\" = \"1\" }\n");
        assert!(e.contains("line 3") && e.contains("empty key"), "{e}");
        let e = err("[[rule]]\nname = \"a\"\ndeny_os = [\"iOS\", \"\"]\n");
        assert!(e.contains("line 3") && e.contains("empty OS name"), "{e}");
        // deny_os: a warning, the rule kept.
        let p = parse(
            Path::new("p.toml"),
            "[[rule]]\nname = \"a\"\ndeny_os = [\"Windws\", \"Android 12\", \"ChromeOS\"]\n",
        )
        .unwrap();
        assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
        assert!(
            p.warnings[0].starts_with("p.toml line 3: deny_os \"Windws\" is not an OS")
                && p.warnings[0].contains("did you mean \"Windows\"?"),
            "{}",
            p.warnings[0]
        );
        assert!(
            p.warnings[1].contains("\"ChromeOS\"") && !p.warnings[1].contains("did you mean"),
            "{}",
            p.warnings[1]
        );
        // Known names, any case.
        let p = parse(
            Path::new("p.toml"),
            "[[rule]]\nname = \"a\"\ndeny_os = [\"ipados\", \"os x 12\"]\n[[rule]]\nname = \"b\"\nmin_client_version = { LINUX = \"4\", Web = \"120\" }\n",
        )
        .unwrap();
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn a_large_policy_loads_and_names_its_lines() {
        let mut text = String::new();
        for i in 0..2_000 {
            text.push_str(&format!(
                "[[rule]]\nname = \"r{i}\"\ndeny_os = [\"Windows {i}\"]\n"
            ));
        }
        let p = parse(Path::new("p.toml"), &text).unwrap();
        assert_eq!(p.rules.len(), 2_000);
        assert_eq!(p.rules[1_999].line, 1_999 * 3 + 2);
        text.push_str("[[rule]]\nname = \"r7\"\ndeny_os = [\"iOS\"]\n");
        let e = err(&text);
        assert!(
            e.contains("line 6002") && e.contains("first is on line 23"),
            "{e}"
        );
    }

    #[test]
    fn a_policy_past_the_cap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        let rule = "[[rule]]\nname = \"a\"\ndeny_os = [\"iOS\"]\n";
        std::fs::write(
            &path,
            format!("{rule}{}", "#".repeat(MAX_BYTES as usize - rule.len())),
        )
        .unwrap();
        read(&path).unwrap();
        std::fs::write(&path, format!("{rule}{}", "#".repeat(MAX_BYTES as usize))).unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("p.toml is over the 1 MiB limit"), "{e}");
    }
}
