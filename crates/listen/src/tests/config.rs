//! The config file: defaults, paths, secrets, and mistakes refused by name.

use std::path::PathBuf;

use slack_sessions_client::api::UserId;
use slack_sessions_engine::listen::{Action, Guardrails};

use super::*;
use crate::config::{KeySource, Tls};

fn err(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    write_jwks(
        &dir.path().join("jwks.json"),
        &[&Signer::generate("k").unwrap().0],
    );
    load(dir.path(), text).unwrap_err().to_string()
}

#[test]
fn an_empty_config_takes_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let c = load(dir.path(), "").unwrap();
    assert_eq!(c.addr.to_string(), "127.0.0.1:8788");
    assert_eq!(c.journal, dir.path().join("listen.journal"));
    assert_eq!(c.path, dir.path().join("listen.toml"));
    assert!(c.tls.is_none() && c.ssf.is_none() && c.okta.is_none() && c.gtr.is_none());
    assert_eq!(c.guardrails, Guardrails::default());
    assert_eq!(c.guardrails.max_actions_per_hour, 100);
    assert_eq!(c.guardrails.max_share, 0.2);
    assert_eq!(c.actions, crate::Actions::default());
    let plan = c.plan(false);
    assert_eq!(
        plan.key,
        dir.path().join("listen.toml").display().to_string()
    );
    assert_eq!(plan.journal, c.journal);
    // A config named like a journal never has itself as its journal.
    let odd = dir.path().join("x.journal");
    std::fs::write(&odd, "").unwrap();
    let c = Config::load_with(&odd, env).unwrap();
    assert_eq!(c.journal, dir.path().join("x.journal.journal"));
}

#[test]
fn relative_paths_are_taken_from_the_configs_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    write_jwks(
        &dir.path().join("keys/jwks.json"),
        &[&Signer::generate("k").unwrap().0],
    );
    std::fs::write(
        dir.path().join("subjects.csv"),
        "iss,sub,email\ni,s,a@x.example\n",
    )
    .unwrap();
    let c = load(
        dir.path(),
        r#"
addr = "0.0.0.0:9443"
tls_cert = "tls/cert.pem"
tls_key = "/etc/ssl/key.pem"
journal = "state/listen.journal"

[ssf]
issuer = "https://idp.example.com/"
jwks_file = "keys/jwks.json"
audience = "https://sessions.example.com/ssf"
subject_map = "subjects.csv"
authorization_env = "SSF_PUSH_AUTH"

[okta]
authorization_env = "OKTA_HOOK_SECRET"

[gtr]
issuer = "https://idp.example.com/"
jwks_uri = "https://idp.example.com/oauth2/v1/keys"
audience = "https://sessions.example.com/global-token-revocation"

[guardrails]
max_actions_per_hour = 30
max_share = 0.05
exempt_users = ["W0BOSS", "U123"]

[actions]
credential-change = "reset"
"#,
    )
    .unwrap();
    assert_eq!(c.addr.to_string(), "0.0.0.0:9443");
    assert_eq!(
        c.tls,
        Some(Tls {
            cert: dir.path().join("tls/cert.pem"),
            key: PathBuf::from("/etc/ssl/key.pem"),
        })
    );
    assert_eq!(c.journal, dir.path().join("state/listen.journal"));
    let ssf = c.ssf.as_ref().unwrap();
    assert_eq!(ssf.keys, KeySource::File(dir.path().join("keys/jwks.json")));
    assert_eq!(
        ssf.subject_map.as_ref().unwrap().email("i", "s"),
        Some("a@x.example")
    );
    assert_eq!(ssf.authorization.as_ref().unwrap().env(), "SSF_PUSH_AUTH");
    assert!(
        ssf.authorization
            .as_ref()
            .unwrap()
            .matches(Some(SSF_AUTH.as_bytes()))
    );
    assert!(
        c.okta
            .as_ref()
            .unwrap()
            .authorization
            .matches(Some(OKTA_SECRET.as_bytes()))
    );
    assert_eq!(
        c.gtr.as_ref().unwrap().keys,
        KeySource::Uri("https://idp.example.com/oauth2/v1/keys".into())
    );
    assert_eq!(c.guardrails.max_actions_per_hour, 30);
    assert_eq!(c.guardrails.max_share, 0.05);
    assert_eq!(
        c.guardrails.exempt_users,
        [UserId::new("W0BOSS"), UserId::new("U123")]
    );
    assert_eq!(
        c.actions
            .decide("credential-change", &serde_json::json!({})),
        Action::Reset
    );
    // The secrets are in no Debug print.
    let shown = format!("{c:?}");
    assert!(
        !shown.contains(OKTA_SECRET) && !shown.contains("ssf-push-secret"),
        "{shown}"
    );
}

#[test]
fn unknown_keys_are_refused_with_the_closest_name() {
    let e = err("adr = \"127.0.0.1:1\"\n");
    assert!(
        e.contains("line 1") && e.contains("unknown key `adr`; did you mean `addr`?"),
        "{e}"
    );
    let e = err("[ssf]\nissuer = \"https://i/\"\njwks_url = \"https://i/k\"\naudience = \"a\"\n");
    assert!(
        e.contains("line 3") && e.contains("did you mean `jwks_uri`?"),
        "{e}"
    );
    assert!(e.contains("known: `issuer`, `jwks_uri`"), "{e}");
    let e = err("[guardrails]\nmax_actions_per_day = 3\n");
    assert!(e.contains("did you mean `max_actions_per_hour`?"), "{e}");
    let e = err("[sff]\n");
    assert!(e.contains("did you mean `ssf`?"), "{e}");
    let e = err("[actions]\nsession-revokd = \"reset\"\n");
    assert!(e.contains("did you mean `session-revoked`?"), "{e}");
}

#[test]
fn a_secrets_variable_must_be_set_and_is_named_never_shown() {
    let e = err("[okta]\nauthorization_env = \"NOT_SET_ANYWHERE\"\n");
    assert!(e.contains("$NOT_SET_ANYWHERE, which is not set"), "{e}");
    let e = err("[okta]\n");
    assert!(e.contains("missing field `authorization_env`"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("listen.toml");
    std::fs::write(&path, "[okta]\nauthorization_env = \"EMPTY\"\n").unwrap();
    let e = Config::load_with(&path, |_| Some(String::new()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("$EMPTY") && e.contains("empty"), "{e}");
    // A later mistake does not show an earlier secret.
    std::fs::write(
        &path,
        "[okta]\nauthorization_env = \"OKTA_HOOK_SECRET\"\n[guardrails]\nmax_share = 2.0\n",
    )
    .unwrap();
    let e = Config::load_with(&path, env).unwrap_err().to_string();
    assert!(e.contains("max_share 2") && !e.contains(OKTA_SECRET), "{e}");
}

#[test]
fn keys_and_other_values_are_checked() {
    let ssf = |keys: &str| format!("[ssf]\nissuer = \"https://i/\"\naudience = \"a\"\n{keys}\n");
    assert!(err(&ssf("")).contains("needs jwks_uri"));
    assert!(
        err(&ssf(
            "jwks_uri = \"https://i/k\"\njwks_file = \"jwks.json\""
        ))
        .contains("both")
    );
    let e = err(&ssf("jwks_uri = \"http://idp.example.com/keys\""));
    assert!(e.contains("https://"), "{e}");
    assert!(err(&ssf("jwks_uri = \"nope\"")).contains("not a URL"));
    assert!(err(&ssf("jwks_file = \"missing.json\"")).contains("missing.json"));
    let dir = tempfile::tempdir().unwrap();
    for loopback in [
        "http://127.0.0.1:9/k",
        "http://[::1]:9/k",
        "http://localhost:9/k",
    ] {
        assert!(
            load(dir.path(), &ssf(&format!("jwks_uri = \"{loopback}\""))).is_ok(),
            "{loopback}"
        );
    }
    std::fs::write(
        dir.path().join("bad.json"),
        "{\"keys\": [{\"kty\": \"oct\", \"k\": \"c2VjcmV0\", \"kid\": \"h\"}]}",
    )
    .unwrap();
    let e = load(dir.path(), &ssf("jwks_file = \"bad.json\""))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no usable signing key"), "{e}");
    assert!(err("tls_cert = \"c.pem\"\n").contains("go together"));
    assert!(err("addr = \"localhost:80\"\n").contains("not an address"));
    assert!(err("[guardrails]\nmax_share = 0.0\n").contains("above 0"));
    assert!(err("[guardrails]\nmax_actions_per_hour = 0\n").contains("at least 1"));
    assert!(err("[guardrails]\nexempt_users = [\"ada@x.example\"]\n").contains("not a user ID"));
    assert!(
        err(&ssf("jwks_file = \"jwks.json\"").replace("\"https://i/\"", "\" \""))
            .contains("issuer is empty")
    );
}
