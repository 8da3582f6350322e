//! The listener's config file (TOML), read and checked before anything listens:
//!
//! ```toml
//! addr = "127.0.0.1:8788"        # where to listen (default); --addr overrides
//! # tls_cert = "cert.pem"        # optional: serve HTTPS (PEM chain and key, both or neither)
//! # tls_key  = "key.pem"
//! # journal  = "listen.journal"  # default: beside the config file, named after it
//!
//! [ssf]                          # POST /ssf/events
//! issuer   = "https://idp.example.com/"
//! jwks_uri = "https://idp.example.com/oauth2/v1/keys"   # or jwks_file = "jwks.json"
//! audience = "https://sessions.example.com/ssf"
//! # authorization_env = "SSF_PUSH_AUTH"   # the Authorization header the transmitter must send
//! # subject_map = "subjects.csv"          # iss,sub,email: iss_sub subjects to emails
//!
//! [okta]                         # GET and POST /okta/events
//! authorization_env = "OKTA_HOOK_SECRET"
//!
//! [gtr]                          # POST /global-token-revocation
//! issuer   = "https://idp.example.com/"
//! jwks_uri = "https://idp.example.com/oauth2/v1/keys"
//! audience = "https://sessions.example.com/global-token-revocation"
//!
//! [guardrails]
//! max_actions_per_hour = 100
//! max_share = 0.2
//! # exempt_users = ["W…"]
//!
//! [actions]                      # see `Actions`
//! ```
//!
//! A section left out leaves its endpoints answering 404. Relative paths are taken from the
//! config file's directory, so the service's working directory does not matter. A key the
//! listener does not know is refused with the closest known name: a typo would otherwise
//! leave a check silently off. Secrets are never in the file: `authorization_env` names an
//! environment variable, which must be set (and not empty) when the config is read; an error
//! names the variable, never its value.
//!
//! `jwks_uri` must be `https://` (RFC 8414 and SSF 1.0 require TLS for the keys), except on
//! a loopback address, where a local test transmitter serves plain HTTP.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use slack_sessions_client::api::UserId;
use slack_sessions_engine::files::read_capped;
use slack_sessions_engine::listen::{Guardrails, Plan};
use slack_sessions_engine::users::looks_like_id;
use slack_sessions_engine::{Error, Result};

use crate::actions::Actions;
pub use crate::jose::KeySource;
use crate::secret::Secret;
use crate::subjects::SubjectMap;

/// The largest config file read.
pub const MAX_BYTES: u64 = 1 << 20;

/// Where the listener listens unless the config or `--addr` says otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8788";

/// A checked config.
#[derive(Clone, Debug)]
pub struct Config {
    /// The config file, absolute: it names the listener in the guardrails ledger.
    pub path: PathBuf,
    /// Where to listen.
    pub addr: SocketAddr,
    /// HTTPS, if configured.
    pub tls: Option<Tls>,
    /// The listener's journal.
    pub journal: PathBuf,
    /// `[ssf]`, if present.
    pub ssf: Option<Ssf>,
    /// `[okta]`, if present.
    pub okta: Option<Okta>,
    /// `[gtr]`, if present.
    pub gtr: Option<Gtr>,
    /// `[guardrails]`, over the defaults.
    pub guardrails: Guardrails,
    /// `[actions]`, over the defaults.
    pub actions: Actions,
}

/// The certificate chain and key to serve HTTPS with (PEM files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tls {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// `[ssf]`: Shared Signals push (RFC 8935).
#[derive(Clone, Debug, PartialEq)]
pub struct Ssf {
    /// The transmitter's issuer (the SETs' `iss`, compared exactly).
    pub issuer: String,
    /// Its keys.
    pub keys: KeySource,
    /// This receiver's audience (one of the SETs' `aud`).
    pub audience: String,
    /// The `Authorization` header the transmitter must send, if one is configured.
    pub authorization: Option<Secret>,
    /// `iss_sub` subjects to emails.
    pub subject_map: Option<Arc<SubjectMap>>,
}

/// `[okta]`: Okta Event Hooks.
#[derive(Clone, Debug, PartialEq)]
pub struct Okta {
    /// The hook's `Authorization` header value.
    pub authorization: Secret,
}

/// `[gtr]`: Global Token Revocation.
#[derive(Clone, Debug, PartialEq)]
pub struct Gtr {
    /// The requests' issuer (the bearer JWT's `iss`).
    pub issuer: String,
    /// Its keys.
    pub keys: KeySource,
    /// This endpoint's URL (the bearer JWT's `aud`).
    pub audience: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    addr: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    journal: Option<PathBuf>,
    ssf: Option<RawSsf>,
    okta: Option<RawOkta>,
    gtr: Option<RawGtr>,
    guardrails: Option<RawGuardrails>,
    actions: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSsf {
    issuer: String,
    jwks_uri: Option<String>,
    jwks_file: Option<PathBuf>,
    audience: String,
    authorization_env: Option<String>,
    subject_map: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOkta {
    authorization_env: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGtr {
    issuer: String,
    jwks_uri: Option<String>,
    jwks_file: Option<PathBuf>,
    audience: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuardrails {
    max_actions_per_hour: Option<u64>,
    max_share: Option<f64>,
    exempt_users: Option<Vec<String>>,
}

impl Config {
    /// Reads and checks the config at `path`, secrets from the process's environment.
    pub fn load(path: &Path) -> Result<Config> {
        Config::load_with(path, |name| std::env::var(name).ok())
    }

    /// Reads and checks the config at `path`, secrets from `env` (a test's or an embedder's
    /// environment).
    pub fn load_with(path: &Path, env: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let bytes = read_capped(path, MAX_BYTES, "config")?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::refused(format!("the config {} is not UTF-8 text", path.display()))
        })?;
        Config::parse(path, &text, env)
    }

    /// Checks a config's text; `path` names it and anchors its relative paths.
    pub fn parse(path: &Path, text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let path = std::path::absolute(path).map_err(|e| Error::file("find", "config", path, e))?;
        let shown = path.display().to_string();
        let fail = |what: String| Error::refused(format!("{shown}: {what}"));
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let message = suggest(e.message().trim());
            match e.span() {
                Some(span) => fail(format!("line {}: {message}", line_of(text, span.start))),
                None => fail(message),
            }
        })?;
        let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        let here = |p: &Path| dir.join(p);
        let secret = |section: &str, name: &str| -> Result<Secret> {
            match env(name) {
                Some(value) if !value.is_empty() => Ok(Secret::new(name, &value)),
                _ => Err(fail(format!(
                    "[{section}] authorization_env names ${name}, which is not set (or is empty)"
                ))
                .hint(format!("set {name} in the listener's environment"))),
            }
        };
        let keys = |section: &str, uri: Option<String>, file: Option<PathBuf>| match (uri, file) {
            (Some(uri), None) => {
                check_uri(&uri)
                    .map_err(|why| fail(format!("[{section}] jwks_uri {uri:?}: {why}")))?;
                Ok(KeySource::Uri(uri))
            }
            (None, Some(file)) => {
                let file = here(&file);
                crate::jose::read_file(&file)?;
                Ok(KeySource::File(file))
            }
            (Some(_), Some(_)) => Err(fail(format!(
                "[{section}] has both jwks_uri and jwks_file: give one"
            ))),
            (None, None) => Err(fail(format!(
                "[{section}] needs jwks_uri (or jwks_file): where the issuer's keys are"
            ))),
        };
        let nonempty = |section: &str, key: &str, v: String| {
            if v.trim().is_empty() {
                Err(fail(format!("[{section}] {key} is empty")))
            } else {
                Ok(v)
            }
        };

        let addr = match raw.addr {
            Some(a) => a.parse().map_err(|_| {
                fail(format!(
                    "addr {a:?} is not an address and port (127.0.0.1:8788, [::1]:8788, 0.0.0.0:443)"
                ))
            })?,
            None => DEFAULT_ADDR.parse().expect("the default address parses"),
        };
        let tls = match (raw.tls_cert, raw.tls_key) {
            (Some(cert), Some(key)) => Some(Tls {
                cert: here(&cert),
                key: here(&key),
            }),
            (None, None) => None,
            _ => {
                return Err(fail(
                    "tls_cert and tls_key go together: give both or neither".into(),
                ));
            }
        };
        let journal = match raw.journal {
            Some(j) => here(&j),
            // `listen.toml` → `listen.journal`; never the config itself (`x.journal`).
            None if path.extension().is_some_and(|e| e == "journal") => {
                PathBuf::from(format!("{}.journal", path.display()))
            }
            None => path.with_extension("journal"),
        };
        let ssf = match raw.ssf {
            Some(s) => Some(Ssf {
                issuer: nonempty("ssf", "issuer", s.issuer)?,
                keys: keys("ssf", s.jwks_uri, s.jwks_file)?,
                audience: nonempty("ssf", "audience", s.audience)?,
                authorization: s
                    .authorization_env
                    .map(|name| secret("ssf", &name))
                    .transpose()?,
                subject_map: s
                    .subject_map
                    .map(|p| SubjectMap::load(&here(&p)).map(Arc::new))
                    .transpose()?,
            }),
            None => None,
        };
        let okta = match raw.okta {
            Some(o) => Some(Okta {
                authorization: secret("okta", &o.authorization_env)?,
            }),
            None => None,
        };
        let gtr = match raw.gtr {
            Some(g) => Some(Gtr {
                issuer: nonempty("gtr", "issuer", g.issuer)?,
                keys: keys("gtr", g.jwks_uri, g.jwks_file)?,
                audience: nonempty("gtr", "audience", g.audience)?,
            }),
            None => None,
        };
        let mut guardrails = Guardrails::default();
        if let Some(g) = raw.guardrails {
            if let Some(n) = g.max_actions_per_hour {
                if n == 0 {
                    return Err(fail(
                        "[guardrails] max_actions_per_hour 0 would never act: at least 1".into(),
                    ));
                }
                guardrails.max_actions_per_hour = n;
            }
            if let Some(share) = g.max_share {
                if !(share > 0.0 && share <= 1.0) {
                    return Err(fail(format!(
                        "[guardrails] max_share {share}: a share above 0 and at most 1 (0.2 is 20%)"
                    )));
                }
                guardrails.max_share = share;
            }
            for id in g.exempt_users.unwrap_or_default() {
                let id = id.trim();
                if !looks_like_id(id) {
                    return Err(fail(format!(
                        "[guardrails] exempt_users: {id:?} is not a user ID (W… or U…)"
                    )));
                }
                guardrails.exempt_users.push(UserId::new(id));
            }
        }
        let actions = match raw.actions {
            Some(t) => Actions::from_table(&t).map_err(fail)?,
            None => Actions::default(),
        };
        Ok(Config {
            path,
            addr,
            tls,
            journal,
            ssf,
            okta,
            gtr,
            guardrails,
            actions,
        })
    }

    /// The engine's plan for this listener.
    pub fn plan(&self, resume_breaker: bool) -> Plan {
        Plan {
            journal: self.journal.clone(),
            key: self.path.display().to_string(),
            guardrails: self.guardrails.clone(),
            resume_breaker,
        }
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// serde's "unknown field `x`, expected one of `a`, `b`" with the closest known name.
fn suggest(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_owned();
    };
    let Some((given, expected)) = rest.split_once('`') else {
        return message.to_owned();
    };
    let close = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|known| {
            strsim::levenshtein(given, known) <= 2 || strsim::jaro_winkler(given, known) >= 0.88
        })
        .max_by(|a, b| strsim::jaro_winkler(given, a).total_cmp(&strsim::jaro_winkler(given, b)));
    let known = expected
        .trim_start_matches(", ")
        .trim_start_matches("expected one of ")
        .trim_start_matches("expected ");
    match close {
        Some(close) => format!("unknown key `{given}`; did you mean `{close}`? (known: {known})"),
        None => format!("unknown key `{given}` (known: {known})"),
    }
}

/// A JWKS URI must be HTTPS, except on a loopback address.
fn check_uri(uri: &str) -> std::result::Result<(), &'static str> {
    let url = reqwest::Url::parse(uri).map_err(|_| "not a URL")?;
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let host = url.host_str().unwrap_or_default();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err("the keys must come over https:// (plain http only on a loopback address)")
            }
        }
        _ => Err("not an https:// URL"),
    }
}
