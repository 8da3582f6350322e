//! `signal …`: plays the identity provider against a listener, for trying it locally and for
//! the tests: a key pair and its JWKS, a signed Security Event Token, an Okta Event Hook, a
//! Global Token Revocation request. Issuers, audiences and secrets come from the listener's
//! own config, so what is sent is what it expects.

use std::path::PathBuf;

use serde_json::Value;
use slack_sessions_listen::Config;
use slack_sessions_listen::secret::Secret;
use slack_sessions_listen::transmit::{
    GtrToken, OktaEvent, Sent, Set, Signer, SubjectId, gtr_body, okta_hook, send,
};

use crate::cli::{SignalCommand, SignalKey, SignalTarget};
use crate::exit::{Failure, OK, Result};

/// Runs `signal …`.
pub(crate) async fn run(command: &SignalCommand) -> Result<u8> {
    match command {
        SignalCommand::Keys(f) => {
            let (key, jwks) = (f.dir.join("signer.pem"), f.dir.join("jwks.json"));
            Signer::create(&key, &jwks, &f.kid)?;
            println!(
                "wrote {} (private key, 0600) and {} (its JWKS: jwks_file = \"{}\" in the \
                 listener's config)",
                key.display(),
                jwks.display(),
                jwks.display()
            );
            Ok(OK)
        }
        SignalCommand::Ssf(f) => {
            let config = Config::load(&f.target.config)?;
            let ssf = config
                .ssf
                .as_ref()
                .ok_or_else(|| no_section(&f.target, "ssf"))?;
            let subject = match (&f.email, &f.sub) {
                (_, Some(sub)) => SubjectId::IssSub {
                    iss: ssf.issuer.clone(),
                    sub: sub.clone(),
                },
                (Some(email), None) => SubjectId::Email(email.clone()),
                (None, None) => return Err(Failure::usage("give an EMAIL or --sub")),
            };
            let mut set = Set::new(&ssf.issuer, &ssf.audience, &f.event, subject);
            set.legacy_subject = f.legacy_subject;
            for m in &f.member {
                let (k, v) = m
                    .split_once('=')
                    .ok_or_else(|| Failure::usage(format!("--member {m}: write KEY=VALUE")))?;
                let value = serde_json::from_str(v).unwrap_or_else(|_| Value::from(v));
                set.members.insert(k.to_owned(), value);
            }
            let jwt = signer(&f.key, &f.target)?.set(&set)?;
            let auth = secret(ssf.authorization.as_ref())?;
            let mut headers = vec![
                ("Content-Type", "application/secevent+jwt"),
                ("Accept", "application/json"),
            ];
            if let Some(a) = &auth {
                headers.push(("Authorization", a.as_str()));
            }
            let url = url(&config, &f.target, "/ssf/events");
            answered(&url, post(&url, &headers, jwt.into_bytes()).await?)
        }
        SignalCommand::Okta(f) => {
            let config = Config::load(&f.target.config)?;
            let okta = config
                .okta
                .as_ref()
                .ok_or_else(|| no_section(&f.target, "okta"))?;
            let auth = secret(Some(&okta.authorization))?.unwrap_or_default();
            let body = okta_hook(&[OktaEvent::new(&f.event, &f.email)]);
            let headers = [
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
                ("Authorization", auth.as_str()),
            ];
            let url = url(&config, &f.target, "/okta/events");
            answered(
                &url,
                post(&url, &headers, body.to_string().into_bytes()).await?,
            )
        }
        SignalCommand::Gtr(f) => {
            let config = Config::load(&f.target.config)?;
            let gtr = config
                .gtr
                .as_ref()
                .ok_or_else(|| no_section(&f.target, "gtr"))?;
            let jwt =
                signer(&f.key, &f.target)?.gtr_token(&GtrToken::new(&gtr.issuer, &gtr.audience))?;
            let bearer = format!("Bearer {jwt}");
            let headers = [
                ("Content-Type", "application/json"),
                ("Authorization", bearer.as_str()),
            ];
            let url = url(&config, &f.target, "/global-token-revocation");
            let body = gtr_body(&f.email).to_string().into_bytes();
            answered(&url, post(&url, &headers, body).await?)
        }
    }
}

fn no_section(target: &SignalTarget, section: &str) -> Failure {
    Failure::usage(format!(
        "{} has no [{section}] section: the listener does not serve it",
        target.config.display()
    ))
}

/// The signing key: `--key`, else `signer.pem` beside the config.
fn signer(key: &SignalKey, target: &SignalTarget) -> Result<Signer> {
    let path = key.key.clone().unwrap_or_else(|| {
        let dir = target
            .config
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        dir.join("signer.pem")
    });
    Ok(Signer::load(&path, &key.kid)?)
}

/// The secret's value, from the variable the config names (it was checked at load).
fn secret(secret: Option<&Secret>) -> Result<Option<String>> {
    secret
        .map(|s| {
            std::env::var(s.env()).map_err(|_| Failure::usage(format!("${} is not set", s.env())))
        })
        .transpose()
}

/// `--url`, else the config's address (`https` when it serves TLS), with `path`.
fn url(config: &Config, target: &SignalTarget, path: &str) -> String {
    let base = target.url.clone().unwrap_or_else(|| {
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", config.addr)
    });
    format!("{}{path}", base.trim_end_matches('/'))
}

async fn post(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Result<Sent> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| Failure::other(format!("cannot make an HTTP client: {e}")))?;
    Ok(send(&client, reqwest::Method::POST, url, headers, body).await?)
}

/// Prints the listener's answer; a 2xx is success, anything else exit 1 with its body (or,
/// when it has none, the status's name: GTR's answers carry none).
fn answered(url: &str, sent: Sent) -> Result<u8> {
    use slack_sessions_engine::text::visible;
    let body = sent.body.trim();
    let said = if body.is_empty() {
        http_reason(sent.status).to_owned()
    } else {
        visible(body).into_owned()
    };
    if (200..300).contains(&sent.status) {
        println!("{url}: {} {said}", sent.status);
        Ok(OK)
    } else {
        Err(Failure::other(format!(
            "{url} answered {} {said}",
            sent.status
        )))
    }
}

/// The reason phrase of an HTTP status (RFC 9110 §15).
fn http_reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}
