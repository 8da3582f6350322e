//! A test transmitter: what `slack-sessions signal` and the tests use to play the identity
//! provider. It makes an ES256 key pair (P-256) and its JWKS, signs Security Event Tokens
//! (RFC 8417) of any event type and Global Token Revocation bearer tokens, builds Okta Event
//! Hook bodies, and sends them. An RSA key in PEM signs RS256 instead.
//!
//! The private key is written as PKCS#8 PEM, mode 0600, never through a planted link
//! ([`slack_sessions_engine::files`]).

use std::fmt;
use std::path::Path;
use std::time::Duration;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::zeroize::Zeroizing;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use rand_core::{OsRng, RngCore};
use serde_json::{Map, Value, json};
use slack_sessions_engine::files::{read_capped, write_atomic};
use slack_sessions_engine::{Error, Result};

use crate::events;

/// The largest private key file read.
const MAX_KEY_BYTES: u64 = 64 << 10;

/// A signing key and its public JWK.
pub struct Signer {
    kid: String,
    alg: Algorithm,
    key: EncodingKey,
    jwk: Value,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A new ES256 (P-256) key named `kid`, and its private key as PKCS#8 PEM.
    pub fn generate(kid: &str) -> Result<(Signer, Zeroizing<String>)> {
        let secret = p256::SecretKey::random(&mut OsRng);
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::local(format!("cannot encode the new key: {e}")))?;
        let signer = Signer::from_pem(pem.as_bytes(), kid)?;
        Ok((signer, pem))
    }

    /// A signer from a private key in PEM: an EC P-256 key (PKCS#8) signs ES256, an RSA key
    /// (PKCS#1 or PKCS#8) RS256.
    pub fn from_pem(pem: &[u8], kid: &str) -> Result<Signer> {
        let ec = EncodingKey::from_ec_pem(pem)
            .ok()
            .map(|k| (k, Algorithm::ES256));
        let (key, alg) = match ec {
            Some(found) => found,
            None => (
                EncodingKey::from_rsa_pem(pem).map_err(|_| {
                    Error::refused(
                        "not a private key in PEM: an EC P-256 key in PKCS#8 (BEGIN PRIVATE KEY) or an RSA key",
                    )
                })?,
                Algorithm::RS256,
            ),
        };
        let mut jwk = Jwk::from_encoding_key(&key, alg)
            .map_err(|e| Error::refused(format!("the key cannot sign {alg:?}: {e}")))?;
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
        let jwk = serde_json::to_value(&jwk).expect("a JWK serializes");
        Ok(Signer {
            kid: kid.to_owned(),
            alg,
            key,
            jwk,
        })
    }

    /// Reads a private key file (see [`Signer::from_pem`]).
    pub fn load(path: &Path, kid: &str) -> Result<Signer> {
        let pem = Zeroizing::new(read_capped(path, MAX_KEY_BYTES, "private key")?);
        Signer::from_pem(&pem, kid).map_err(|e| Error::refused(format!("{}: {e}", path.display())))
    }

    /// Makes a new ES256 key named `kid`: its private key written to `key_path` (PKCS#8 PEM,
    /// 0600), its JWKS to `jwks_path`.
    pub fn create(key_path: &Path, jwks_path: &Path, kid: &str) -> Result<Signer> {
        let (signer, pem) = Signer::generate(kid)?;
        write_atomic(key_path, pem.as_bytes())
            .map_err(|e| Error::file("write", "private key", key_path, e))?;
        let jwks = serde_json::to_vec_pretty(&signer.jwks()).expect("a JWKS serializes");
        write_atomic(jwks_path, &jwks)
            .map_err(|e| Error::file("write", "key set", jwks_path, e))?;
        Ok(signer)
    }

    /// Its key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Its algorithm.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// Its public key as a JWK (with `kid`, `alg` and `use`).
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// A JWKS of its public key alone.
    pub fn jwks(&self) -> Value {
        jwks(&[self])
    }

    /// Signs `claims` with JOSE header `typ` (and this key's `alg` and `kid`).
    pub fn sign(&self, typ: &str, claims: &Value) -> Result<String> {
        let mut header = Header::new(self.alg);
        header.typ = Some(typ.to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|e| Error::local(format!("cannot sign: {e}")))
    }

    /// A signed Security Event Token.
    pub fn set(&self, set: &Set) -> Result<String> {
        self.sign("secevent+jwt", &set.claims())
    }

    /// A signed GTR bearer token.
    pub fn gtr_token(&self, token: &GtrToken) -> Result<String> {
        self.sign("JWT", &token.claims())
    }
}

/// A JWKS of these signers' public keys.
pub fn jwks(signers: &[&Signer]) -> Value {
    json!({ "keys": signers.iter().map(|s| s.jwk.clone()).collect::<Vec<_>>() })
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    slack_sessions_engine::journal::now_ms() / 1000
}

/// A random identifier (128 bits, hex), for `jti` and `uuid`.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A subject identifier (RFC 9493).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubjectId {
    /// `{"format": "email", "email": …}`.
    Email(String),
    /// `{"format": "iss_sub", "iss": …, "sub": …}`.
    IssSub {
        /// The issuer.
        iss: String,
        /// Its user id.
        sub: String,
    },
    /// `{"format": "opaque", "id": …}` (the verification event's stream id).
    Opaque(String),
}

impl SubjectId {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        match self {
            SubjectId::Email(email) => json!({"format": "email", "email": email}),
            SubjectId::IssSub { iss, sub } => json!({"format": "iss_sub", "iss": iss, "sub": sub}),
            SubjectId::Opaque(id) => json!({"format": "opaque", "id": id}),
        }
    }
}

/// A Security Event Token to sign.
#[derive(Clone, Debug)]
pub struct Set {
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// The event: a CAEP/RISC/SSF short name (`session-revoked`) or an event-type URI.
    pub event: String,
    /// Whom it is about.
    pub subject: SubjectId,
    /// Put the subject in the event (`subject`, Okta's legacy shape, as a `complex` subject's
    /// `user`) instead of the top-level `sub_id`.
    pub legacy_subject: bool,
    /// `jti` (random by default).
    pub jti: String,
    /// `iat` (now by default).
    pub iat: u64,
    /// The event's `event_timestamp`, as given (seconds or milliseconds).
    pub event_timestamp: Option<u64>,
    /// More members of the event (`current_level`, `reason_admin`, …).
    pub members: Map<String, Value>,
}

impl Set {
    /// A SET of `event` about `subject`, with a random `jti`, issued now.
    pub fn new(issuer: &str, audience: &str, event: &str, subject: SubjectId) -> Set {
        Set {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            event: event.to_owned(),
            subject,
            legacy_subject: false,
            jti: random_id(),
            iat: now_secs(),
            event_timestamp: None,
            members: Map::new(),
        }
    }

    /// The event-type URI of [`Set::event`] (a name in no namespace is used as it is).
    pub fn event_uri(&self) -> String {
        events::uri_of(&self.event).unwrap_or_else(|| self.event.clone())
    }

    /// Its claims.
    pub fn claims(&self) -> Value {
        let mut event = self.members.clone();
        if let Some(ts) = self.event_timestamp {
            event.insert("event_timestamp".into(), ts.into());
        }
        let mut claims = json!({
            "iss": self.issuer,
            "jti": self.jti,
            "iat": self.iat,
            "aud": self.audience,
        });
        if self.legacy_subject {
            event.insert("subject".into(), json!({ "user": self.subject.to_json() }));
        } else {
            claims["sub_id"] = self.subject.to_json();
        }
        claims["events"] = json!({ self.event_uri(): event });
        claims
    }
}

/// A Global Token Revocation bearer token to sign (draft-parecki-oauth-global-token-revocation
/// §3.5: a private-key JWT).
#[derive(Clone, Debug)]
pub struct GtrToken {
    /// `iss` (and `sub`, as for a client's private-key JWT).
    pub issuer: String,
    /// `aud`: the endpoint's URL.
    pub audience: String,
    /// `jti` (random by default).
    pub jti: String,
    /// `iat` (now by default).
    pub iat: u64,
    /// `exp` − `iat` (five minutes by default).
    pub lifetime: Duration,
}

impl GtrToken {
    /// A token for `audience` from `issuer`, issued now, valid five minutes.
    pub fn new(issuer: &str, audience: &str) -> GtrToken {
        GtrToken {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            jti: random_id(),
            iat: now_secs(),
            lifetime: Duration::from_secs(300),
        }
    }

    /// Its claims.
    pub fn claims(&self) -> Value {
        json!({
            "iss": self.issuer,
            "sub": self.issuer,
            "aud": self.audience,
            "jti": self.jti,
            "iat": self.iat,
            "exp": self.iat + self.lifetime.as_secs(),
        })
    }
}

/// A GTR request's body for `email`: `{"sub_id": {"format": "email", "email": …}}`.
pub fn gtr_body(email: &str) -> Value {
    json!({ "sub_id": SubjectId::Email(email.to_owned()).to_json() })
}

/// One event of an Okta Event Hook (a System Log event, abridged).
#[derive(Clone, Debug)]
pub struct OktaEvent {
    /// `uuid` (random by default).
    pub uuid: String,
    /// `eventType` (`user.session.clear`).
    pub event_type: String,
    /// The target user's `alternateId`, if the event has one.
    pub email: Option<String>,
    /// `outcome.result`.
    pub outcome: String,
}

impl OktaEvent {
    /// A successful `event_type` on the user `email`.
    pub fn new(event_type: &str, email: &str) -> OktaEvent {
        OktaEvent {
            uuid: random_id(),
            event_type: event_type.to_owned(),
            email: Some(email.to_owned()),
            outcome: "SUCCESS".into(),
        }
    }

    fn to_json(&self, published: &str) -> Value {
        let mut event = json!({
            "uuid": self.uuid,
            "published": published,
            "eventType": self.event_type,
            "version": "0",
            "severity": "INFO",
            "displayMessage": "test event from slack-sessions signal",
            "actor": {"id": "00u-admin", "type": "User", "alternateId": "admin@okta.example", "displayName": "Admin"},
            "outcome": {"result": self.outcome},
            "target": [],
        });
        if let Some(email) = &self.email {
            event["target"] = json!([{"id": "00u-target", "type": "User", "alternateId": email, "displayName": email}]);
        }
        event
    }
}

/// An Okta Event Hook body carrying `events` (the envelope of Okta's event hook docs).
pub fn okta_hook(events: &[OktaEvent]) -> Value {
    let now = jiff::Timestamp::now().to_string();
    json!({
        "eventType": "com.okta.event_hook",
        "eventTypeVersion": "1.0",
        "cloudEventsVersion": "0.1",
        "source": "https://okta.example/api/v1/eventHooks/test",
        "eventId": random_id(),
        "eventTime": now,
        "contentType": "application/json",
        "data": { "events": events.iter().map(|e| e.to_json(&now)).collect::<Vec<_>>() },
    })
}

/// What a request got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The status code.
    pub status: u16,
    /// Its `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body, as text.
    pub body: String,
}

/// Sends one request; `headers` are added as given (the secret in `Authorization` too: it is
/// never part of an error).
pub async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<Sent> {
    let mut request = client.request(method, url).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .send()
        .await
        .map_err(|e| Error::local(format!("cannot send to {url}: {}", e.without_url())))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.text().await.map_err(|e| {
        Error::local(format!(
            "cannot read the answer from {url}: {}",
            e.without_url()
        ))
    })?;
    Ok(Sent {
        status,
        content_type,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_is_private_and_its_jwks_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let (key, jwks) = (dir.path().join("idp.pem"), dir.path().join("jwks.json"));
        let signer = Signer::create(&key, &jwks, "test-1").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let text = std::fs::read_to_string(&key).unwrap();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
        let set: Value = serde_json::from_slice(&std::fs::read(&jwks).unwrap()).unwrap();
        assert_eq!(set["keys"][0]["kid"], "test-1");
        assert_eq!(set["keys"][0]["crv"], "P-256");
        assert!(
            set["keys"][0].get("d").is_none(),
            "no private part in the JWKS"
        );
        let again = Signer::load(&key, "test-1").unwrap();
        assert_eq!(again.jwk(), signer.jwk());
        assert_eq!(again.alg(), Algorithm::ES256);
        assert!(format!("{again:?}").contains("test-1"));
        assert!(!format!("{again:?}").contains("PRIVATE"));
        let bad = dir.path().join("bad.pem");
        std::fs::write(
            &bad,
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
        )
        .unwrap();
        assert!(
            Signer::load(&bad, "x")
                .unwrap_err()
                .to_string()
                .contains("PKCS#8")
        );
    }

    #[test]
    fn a_set_has_the_shape_ssf_asks_for() {
        let mut set = Set::new(
            "https://i/",
            "https://a/",
            "session-revoked",
            SubjectId::Email("a@x.example".into()),
        );
        set.event_timestamp = Some(1);
        let c = set.claims();
        assert_eq!(
            c["sub_id"],
            json!({"format": "email", "email": "a@x.example"})
        );
        let uri = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
        assert_eq!(c["events"][uri]["event_timestamp"], 1);
        assert!(c.get("sub").is_none() && c.get("exp").is_none());
        set.legacy_subject = true;
        let c = set.claims();
        assert!(c.get("sub_id").is_none());
        assert_eq!(c["events"][uri]["subject"]["user"]["email"], "a@x.example");
        let gtr = GtrToken::new("https://i/", "https://a/gtr").claims();
        assert_eq!(
            gtr["exp"].as_u64().unwrap() - gtr["iat"].as_u64().unwrap(),
            300
        );
        let hook = okta_hook(&[OktaEvent::new("user.session.clear", "a@x.example")]);
        assert_eq!(
            hook["data"]["events"][0]["target"][0]["alternateId"],
            "a@x.example"
        );
    }
}
