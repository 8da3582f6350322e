//! Verifying a signed JWT (RFC 7519) from an identity provider: a Security Event Token
//! (RFC 8417, <https://www.rfc-editor.org/rfc/rfc8417>) or a Global Token Revocation request's
//! bearer token, with the `jsonwebtoken` crate (its pure-Rust RustCrypto backend).
//!
//! What is checked, in this order (each refusal carries the RFC 8935 §2.4 error code,
//! <https://www.rfc-editor.org/rfc/rfc8935#section-2.4>):
//!
//! 1. a compact JWS of three parts, a JSON header without `crit` (no extension is understood,
//!    RFC 7515 §4.1.11) → else `invalid_request`;
//! 2. `alg` is RS256 or ES256: never `none`, never HMAC, which would let anyone holding the
//!    public key sign (RFC 8725 §2.1, §3.1) → else `authentication_failed`;
//! 3. for a SET, the explicit type `typ: secevent+jwt` (RFC 8417 §2.3, SSF 1.0 §Explicit
//!    Typing), so that no other kind of JWT can be replayed as a SET → else `invalid_request`;
//! 4. the key named by `kid`, in the issuer's JWKS, of the same algorithm (an EC key on P-256,
//!    an RSA key of 2048 bits or more, as the CAEP interoperability profile asks) → else
//!    `invalid_key`;
//! 5. the signature → else `authentication_failed`;
//! 6. `iss` equal to the configured issuer → else `invalid_issuer`; `aud` (a string or an
//!    array) holding the configured audience → else `invalid_audience`; for a GTR token, `exp`
//!    present and not past (60 s of clock skew allowed).
//!
//! **Keys.** A JWKS from `jwks_uri` is fetched when first needed and again after an hour; a
//! `kid` not in it fetches it again at once, so a key rotation needs no restart, but at most
//! once a minute ([`MIN_REFETCH`]), so that a flood of tokens naming made-up keys cannot make
//! the listener hammer the identity provider. A failed fetch keeps the keys it had. A
//! `jwks_file` is read the same way.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use slack_sessions_engine::files::read_capped;
use slack_sessions_engine::{Error, Result};

use crate::shown::shown;

/// The largest JWKS read.
pub const MAX_JWKS_BYTES: u64 = 1 << 20;

/// An unknown `kid` fetches the keys again at most this often.
pub const MIN_REFETCH: Duration = Duration::from_secs(60);

/// Keys older than this are fetched again when next used.
pub const MAX_AGE: Duration = Duration::from_secs(3600);

/// How long a JWKS fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The smallest RSA modulus accepted, in bits.
const MIN_RSA_BITS: usize = 2048;

/// The clock skew allowed on `exp`.
const LEEWAY_SECS: u64 = 60;

/// Why a token was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// What kind of refusal.
    pub code: Code,
    /// What exactly, for the sender and the log (request text shown safely).
    pub description: String,
}

/// RFC 8935's error codes, and one more: the keys could not be had at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// The token is not a well-formed SET.
    InvalidRequest,
    /// Its key is unknown or unacceptable.
    InvalidKey,
    /// Its issuer is not the configured one.
    InvalidIssuer,
    /// Its audience does not hold ours.
    InvalidAudience,
    /// It cannot be authenticated (signature, algorithm, expiry).
    AuthenticationFailed,
    /// The issuer's keys could not be fetched (a temporary failure: answered 503).
    KeysUnavailable,
}

impl Code {
    /// As sent in `err` and counted in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidRequest => "invalid_request",
            Code::InvalidKey => "invalid_key",
            Code::InvalidIssuer => "invalid_issuer",
            Code::InvalidAudience => "invalid_audience",
            Code::AuthenticationFailed => "authentication_failed",
            Code::KeysUnavailable => "keys_unavailable",
        }
    }
}

impl Rejection {
    /// A refusal.
    pub fn new(code: Code, description: impl Into<String>) -> Rejection {
        Rejection {
            code,
            description: description.into(),
        }
    }
}

/// What a token must be.
#[derive(Clone, Copy, Debug)]
pub struct Expect<'a> {
    /// Its `iss`.
    pub issuer: &'a str,
    /// A member of its `aud`.
    pub audience: &'a str,
    /// Its JOSE `typ` must be `secevent+jwt`.
    pub set: bool,
    /// Its `exp` is required and must not be past.
    pub exp: bool,
}

/// A verification key.
#[derive(Clone, Debug)]
pub(crate) struct Key {
    alg: Algorithm,
    decoding: DecodingKey,
}

pub(crate) type KeyMap = HashMap<String, Arc<Key>>;

#[derive(Debug, Default)]
struct Cache {
    keys: KeyMap,
    /// When the keys were last had.
    loaded: Option<Instant>,
    /// When a fetch was last tried.
    attempted: Option<Instant>,
    /// When an unknown `kid` last fetched them.
    refetched: Option<Instant>,
}

#[derive(Debug)]
enum Origin {
    Uri {
        client: reqwest::Client,
        url: String,
    },
    File(PathBuf),
}

/// Where an issuer's signing keys (a JWKS, RFC 7517 §5) are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// Fetched over HTTPS (`jwks_uri`).
    Uri(String),
    /// Read from a file (`jwks_file`).
    File(PathBuf),
}

/// An issuer's keys (one per config section), cached.
#[derive(Debug)]
pub struct Keys {
    from: Origin,
    cache: Mutex<Cache>,
    /// Held while the keys are fetched, so that one fetch serves every request waiting.
    fetching: tokio::sync::Mutex<()>,
}

impl Keys {
    /// The keys of `source`; a `jwks_file` is read now (an error names it).
    pub fn new(source: &KeySource) -> Result<Keys> {
        let (from, cache) = match source {
            KeySource::Uri(url) => {
                let client = reqwest::Client::builder()
                    .timeout(FETCH_TIMEOUT)
                    .connect_timeout(FETCH_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::limited(3))
                    // Never from https to plain http on a redirect.
                    .https_only(url.starts_with("https://"))
                    .user_agent(concat!("slack-sessions-listen/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| Error::local(format!("cannot make an HTTP client: {e}")))?;
                let from = Origin::Uri {
                    client,
                    url: url.clone(),
                };
                (from, Cache::default())
            }
            KeySource::File(path) => {
                let keys = read_file(path)?;
                let cache = Cache {
                    keys,
                    loaded: Some(Instant::now()),
                    ..Cache::default()
                };
                (Origin::File(path.clone()), cache)
            }
        };
        Ok(Keys {
            from,
            cache: Mutex::new(cache),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    /// Where the keys come from, for the log.
    pub fn source(&self) -> String {
        match &self.from {
            Origin::Uri { url, .. } => url.clone(),
            Origin::File(path) => path.display().to_string(),
        }
    }

    /// Fetches the keys now unless they are had (at start, so that the log shows at once
    /// whether the identity provider's keys can be had).
    pub async fn prefetch(&self) {
        let _fetching = self.fetching.lock().await;
        if self.lock().loaded.is_none() {
            self.load().await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fetches (or reads) the keys and keeps them; a failure is logged and keeps the keys had.
    async fn load(&self) {
        let got = match &self.from {
            Origin::Uri { client, url } => fetch(client, url).await,
            Origin::File(path) => read_file(path).map_err(|e| e.to_string()),
        };
        let mut cache = self.lock();
        let now = Instant::now();
        cache.attempted = Some(now);
        match got {
            Ok(keys) => {
                tracing::info!(source = %self.source(), keys = keys.len(), "signing keys loaded");
                cache.keys = keys;
                cache.loaded = Some(now);
            }
            Err(why) => {
                tracing::warn!(source = %self.source(), error = %why, "cannot load the signing keys");
            }
        }
    }

    /// The key `kid`, fetching the keys when they are not had, old, or lack it (see the
    /// module's docs for how often).
    async fn key(&self, kid: &str) -> std::result::Result<Arc<Key>, Rejection> {
        let fresh = |c: &Cache, now: Instant| c.loaded.is_some_and(|t| now - t < MAX_AGE);
        {
            let c = self.lock();
            if let Some(k) = c.keys.get(kid).filter(|_| fresh(&c, Instant::now())) {
                return Ok(k.clone());
            }
        }
        let _fetching = self.fetching.lock().await;
        let now = Instant::now();
        let again = |t: Option<Instant>| t.is_none_or(|t| now - t >= MIN_REFETCH);
        let fetch = {
            let mut c = self.lock();
            let hit = c.keys.get(kid).cloned();
            match (hit, fresh(&c, now)) {
                (Some(k), true) => return Ok(k),
                // Never had, or old: fetch unless a fetch just failed.
                (_, false) => again(c.attempted),
                (None, true) => {
                    let fetch = again(c.refetched);
                    if fetch {
                        c.refetched = Some(now);
                    }
                    fetch
                }
            }
        };
        if fetch {
            self.load().await;
        }
        let c = self.lock();
        match c.keys.get(kid) {
            Some(k) => Ok(k.clone()),
            None if c.loaded.is_none() => Err(Rejection::new(
                Code::KeysUnavailable,
                "the issuer's signing keys cannot be fetched now; try again later",
            )),
            None => Err(Rejection::new(
                Code::InvalidKey,
                format!("no key {:?} among the issuer's signing keys", shown(kid)),
            )),
        }
    }

    /// Verifies `token` as [`Expect`] says; returns its claims.
    pub async fn verify(
        &self,
        token: &str,
        expect: Expect<'_>,
    ) -> std::result::Result<Map<String, Value>, Rejection> {
        let bad = |code, what: String| Err(Rejection::new(code, what));
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() == 5 {
            return bad(
                Code::InvalidRequest,
                "an encrypted token (JWE) is not accepted: sign it (JWS)".into(),
            );
        }
        if parts.len() != 3 {
            return bad(
                Code::InvalidRequest,
                "not a JWT: a compact JWS has three parts separated by dots".into(),
            );
        }
        let header: Map<String, Value> = match URL_SAFE_NO_PAD
            .decode(parts[0])
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            Some(h) => h,
            None => {
                return bad(
                    Code::InvalidRequest,
                    "the JOSE header is not base64url-encoded JSON".into(),
                );
            }
        };
        if header.contains_key("crit") {
            return bad(
                Code::InvalidRequest,
                "the JOSE header has `crit`: no extension is understood here".into(),
            );
        }
        let alg = match header.get("alg").and_then(Value::as_str) {
            Some("RS256") => Algorithm::RS256,
            Some("ES256") => Algorithm::ES256,
            Some("none") => {
                return bad(
                    Code::AuthenticationFailed,
                    "an unsigned token (alg none) is never accepted".into(),
                );
            }
            Some(other) => {
                return bad(
                    Code::AuthenticationFailed,
                    format!("alg {:?} is not accepted: RS256 or ES256", shown(other)),
                );
            }
            None => return bad(Code::InvalidRequest, "the JOSE header has no alg".into()),
        };
        if expect.set {
            let typ = header.get("typ").and_then(Value::as_str).unwrap_or("");
            let typ = typ.strip_prefix("application/").unwrap_or(typ);
            if !typ.eq_ignore_ascii_case("secevent+jwt") {
                return bad(
                    Code::InvalidRequest,
                    format!(
                        "the JOSE typ is {:?}: a Security Event Token's is secevent+jwt",
                        shown(typ)
                    ),
                );
            }
        }
        let Some(kid) = header.get("kid").and_then(Value::as_str) else {
            return bad(
                Code::InvalidKey,
                "the JOSE header names no key (kid)".into(),
            );
        };
        let key = self.key(kid).await?;
        if key.alg != alg {
            return bad(
                Code::InvalidKey,
                format!(
                    "key {:?} is a {:?} key; the token says {alg:?}",
                    shown(kid),
                    key.alg
                ),
            );
        }
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECS;
        validation.set_issuer(&[expect.issuer]);
        validation.set_audience(&[expect.audience]);
        validation.validate_exp = expect.exp;
        validation.required_spec_claims = ["iss", "aud"]
            .into_iter()
            .chain(expect.exp.then_some("exp"))
            .map(str::to_owned)
            .collect::<HashSet<_>>();
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key.decoding, &validation)
            .map_err(|e| rejected(e.kind()))?
            .claims;
        // `iss` is one string (RFC 7519 §4.1.1); the crate would also take an array holding it.
        if claims.get("iss").and_then(Value::as_str) != Some(expect.issuer) {
            return bad(
                Code::InvalidIssuer,
                format!("iss must be {:?}", shown(expect.issuer)),
            );
        }
        Ok(claims)
    }
}

/// A `jsonwebtoken` error as a refusal.
fn rejected(kind: &jsonwebtoken::errors::ErrorKind) -> Rejection {
    use jsonwebtoken::errors::ErrorKind as K;
    let (code, what) = match kind {
        K::InvalidSignature => (
            Code::AuthenticationFailed,
            "the signature does not verify".to_owned(),
        ),
        K::ExpiredSignature => (
            Code::AuthenticationFailed,
            "the token has expired (exp)".to_owned(),
        ),
        K::ImmatureSignature => (
            Code::AuthenticationFailed,
            "the token is not valid yet (nbf)".to_owned(),
        ),
        K::InvalidIssuer => (
            Code::InvalidIssuer,
            "the issuer (iss) is not the one configured".to_owned(),
        ),
        K::InvalidAudience => (
            Code::InvalidAudience,
            "the audience (aud) does not name this receiver".to_owned(),
        ),
        K::MissingRequiredClaim(c) if c == "iss" => {
            (Code::InvalidIssuer, "the token has no iss".to_owned())
        }
        K::MissingRequiredClaim(c) if c == "aud" => {
            (Code::InvalidAudience, "the token has no aud".to_owned())
        }
        K::MissingRequiredClaim(c) => (Code::InvalidRequest, format!("the token has no {c}")),
        K::InvalidClaimFormat(c) => (
            Code::InvalidRequest,
            format!("the token's {c} is malformed"),
        ),
        K::InvalidAlgorithm | K::InvalidEcdsaKey | K::InvalidRsaKey(_) | K::InvalidKeyFormat => (
            Code::InvalidKey,
            "the key does not fit the token's algorithm".to_owned(),
        ),
        K::Base64(_) | K::Json(_) | K::Utf8(_) | K::InvalidToken => (
            Code::InvalidRequest,
            "the token's payload is not base64url-encoded JSON".to_owned(),
        ),
        other => (
            Code::AuthenticationFailed,
            format!("the token cannot be verified ({other:?})"),
        ),
    };
    Rejection::new(code, what)
}

/// Fetches a JWKS over HTTP(S), at most [`MAX_JWKS_BYTES`].
async fn fetch(client: &reqwest::Client, url: &str) -> std::result::Result<KeyMap, String> {
    let mut response = client
        .get(url)
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if !response.status().is_success() {
        return Err(format!("the server answered {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        if (body.len() + chunk.len()) as u64 > MAX_JWKS_BYTES {
            return Err("the key set is over 1 MiB".into());
        }
        body.extend_from_slice(&chunk);
    }
    parse_jwks(&body)
}

pub(crate) fn read_file(path: &std::path::Path) -> Result<KeyMap> {
    let bytes = read_capped(path, MAX_JWKS_BYTES, "key set")?;
    parse_jwks(&bytes)
        .map_err(|why| Error::refused(format!("the key set {}: {why}", path.display())))
}

/// The usable keys of a JWKS (RFC 7517 §5): signing keys (`use` absent or `sig`) with a
/// `kid`, RSA of 2048 bits or more for RS256, EC on P-256 for ES256. Others are skipped.
pub(crate) fn parse_jwks(bytes: &[u8]) -> std::result::Result<KeyMap, String> {
    #[derive(serde::Deserialize)]
    struct Set {
        keys: Vec<Value>,
    }
    let set: Set = serde_json::from_slice(bytes)
        .map_err(|e| format!("not a JSON Web Key Set ({{\"keys\": [...]}}): {e}"))?;
    let mut keys = KeyMap::new();
    for jwk in set.keys {
        let text = |name: &str| jwk.get(name).and_then(Value::as_str);
        let Some(kid) = text("kid") else { continue };
        if text("use").is_some_and(|u| u != "sig") {
            continue;
        }
        let alg = match (text("kty"), text("alg")) {
            (Some("RSA"), None | Some("RS256")) => Algorithm::RS256,
            (Some("EC"), None | Some("ES256")) if text("crv") == Some("P-256") => Algorithm::ES256,
            _ => continue,
        };
        if alg == Algorithm::RS256 {
            let bits = text("n")
                .and_then(|n| URL_SAFE_NO_PAD.decode(n).ok())
                .map(|n| {
                    let n = &n[n.iter().take_while(|b| **b == 0).count()..];
                    n.len() * 8
                });
            if bits.is_none_or(|b| b < MIN_RSA_BITS) {
                continue;
            }
        }
        let Ok(parsed) = serde_json::from_value::<Jwk>(jwk.clone()) else {
            continue;
        };
        let Ok(decoding) = DecodingKey::from_jwk(&parsed) else {
            continue;
        };
        keys.insert(kid.to_owned(), Arc::new(Key { alg, decoding }));
    }
    if keys.is_empty() {
        return Err(
            "no usable signing key (RS256 of 2048 bits or more, or ES256 on P-256, with a kid)"
                .into(),
        );
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_usable_signing_keys_are_kept() {
        let (es, _) = crate::transmit::Signer::generate("es").unwrap();
        let rsa = crate::transmit::Signer::from_pem(
            include_str!("tests/rsa-test-key.pem").as_bytes(),
            "rsa",
        )
        .unwrap();
        let with = |jwk: &Value, changes: Value| {
            let mut jwk = jwk.clone();
            for (k, v) in changes.as_object().unwrap() {
                jwk[k] = v.clone();
            }
            jwk
        };
        // A 1024-bit modulus.
        let short_n = URL_SAFE_NO_PAD.encode([0xc5_u8; 128]);
        let set = json!({"keys": [
            es.jwk(),
            rsa.jwk(),
            with(es.jwk(), json!({"kid": "enc", "use": "enc"})),
            with(es.jwk(), json!({"kid": "p384", "crv": "P-384"})),
            with(es.jwk(), json!({"kid": "es-as-rs", "alg": "RS256"})),
            with(rsa.jwk(), json!({"kid": "short", "n": short_n})),
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"},
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "ed"},
            with(es.jwk(), json!({"kid": null})),
        ]});
        let keys = parse_jwks(set.to_string().as_bytes()).unwrap();
        let mut kids: Vec<_> = keys.keys().cloned().collect();
        kids.sort();
        assert_eq!(kids, ["es", "rsa"]);
        assert_eq!(keys["es"].alg, Algorithm::ES256);
        assert_eq!(keys["rsa"].alg, Algorithm::RS256);
        assert!(parse_jwks(b"{\"keys\": []}").is_err());
        assert!(parse_jwks(b"[]").is_err());
    }
}
