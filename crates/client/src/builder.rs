//! Building a [`Client`]: where it talks to, with which token, and how patiently.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderValue;

use crate::client::{Client, Inner};
use crate::pacing::{Pacer, Pacing};
use crate::{RetryPolicy, Token};

/// Slack's Web API.
pub const SLACK_API_URL: &str = "https://slack.com/api/";
/// GovSlack's Web API.
pub const GOV_SLACK_API_URL: &str = "https://slack-gov.com/api/";
/// Slack's Audit Logs API (the base URL [`ClientBuilder::build`] derives from
/// [`SLACK_API_URL`]).
pub const SLACK_AUDIT_URL: &str = slack_sessions_api::audit_logs::SLACK_AUDIT_URL;
/// GovSlack's Audit Logs API (derived from [`GOV_SLACK_API_URL`]).
pub const GOV_SLACK_AUDIT_URL: &str = "https://api.slack-gov.com/audit/v1/";
/// The environment variable [`ClientBuilder::from_env`] reads the token from.
pub const TOKEN_ENV: &str = "SLACK_TOKEN";
/// The environment variable [`ClientBuilder::from_env`] reads a base URL from, if set (for
/// example an emulator's `http://127.0.0.1:8787/api/`).
pub const API_URL_ENV: &str = "SLACK_API_URL";

/// How arguments are put in the request body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encoding {
    /// `application/x-www-form-urlencoded`: lists comma-separated, booleans `true`/`false`.
    /// What every official SDK sends.
    #[default]
    Form,
    /// `application/json; charset=utf-8`: a JSON object.
    Json,
}

impl Encoding {
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            // No charset: Slack answers a form charset with the `superfluous_charset` warning.
            Encoding::Form => "application/x-www-form-urlencoded",
            // A charset: Slack answers JSON without one with `missing_charset`.
            Encoding::Json => "application/json; charset=utf-8",
        }
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No token was given (and `SLACK_TOKEN` was not set, for [`ClientBuilder::from_env`]).
    #[error("no Slack token given (set {TOKEN_ENV} or call ClientBuilder::token)")]
    MissingToken,
    /// The token contains characters that cannot go in an HTTP header.
    #[error("the Slack token contains characters that cannot be sent in an HTTP header")]
    InvalidToken,
    /// The base URL is not an absolute `http(s)` URL without query or fragment.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A plain-`http` base URL to a host other than the loopback, which would send the token
    /// in clear text. Allow it with [`ClientBuilder::allow_insecure_http`].
    #[error(
        "refusing to send a token over plain http to {url:?}; use https, a loopback address, \
         or ClientBuilder::allow_insecure_http"
    )]
    InsecureHttp {
        /// The URL as given.
        url: String,
    },
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client")]
    Http(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Builds a [`Client`]. Start with [`Client::builder`].
///
/// ```
/// use std::time::Duration;
/// use slack_sessions_client::{Client, Encoding, Pacing, RetryPolicy};
///
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:8787/api/") // an emulator
///     .token("xoxp-emulator-admin")
///     .timeout(Duration::from_secs(10))
///     .retry_policy(RetryPolicy::default().max_attempts(3))
///     .pacing(Pacing::scaled(10.0))
///     .encoding(Encoding::Json)
///     .build()?;
/// assert_eq!(client.base_url(), "http://127.0.0.1:8787/api/");
/// # Ok::<(), slack_sessions_client::BuildError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    base_url: String,
    audit_url: Option<String>,
    token: Option<Token>,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    pacing: Pacing,
    encoding: Encoding,
    allow_insecure_http: bool,
    user_agent: String,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: SLACK_API_URL.to_owned(),
            audit_url: None,
            token: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            pacing: Pacing::default(),
            encoding: Encoding::default(),
            allow_insecure_http: false,
            user_agent: concat!("slack-sessions-client/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl ClientBuilder {
    /// Defaults: slack.com, no token, 10 s to connect, 30 s per attempt, the default
    /// [`RetryPolicy`] and [`Pacing`], form encoding.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defaults, with the token from `SLACK_TOKEN` and, if set, the base URL from
    /// `SLACK_API_URL`.
    pub fn from_env() -> Self {
        let mut builder = Self::default();
        if let Ok(token) = std::env::var(TOKEN_ENV) {
            builder.token = Some(Token::new(token)).filter(|t| !t.is_empty());
        }
        if let Ok(url) = std::env::var(API_URL_ENV)
            && !url.trim().is_empty()
        {
            builder.base_url = url.trim().to_owned();
        }
        builder
    }

    /// The Web API's base URL, e.g. an emulator's `http://127.0.0.1:8787/api/`. A missing
    /// trailing `/` is added.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// GovSlack (`https://slack-gov.com/api/`).
    pub fn gov(self) -> Self {
        self.base_url(GOV_SLACK_API_URL)
    }

    /// The Audit Logs API's base URL. By default it follows the Web API's
    /// ([`base_url`](Self::base_url)): Slack's `https://slack.com/api/` gives
    /// `https://api.slack.com/audit/v1/` (GovSlack's likewise), and any other server (an
    /// emulator's `http://127.0.0.1:8787/api/`) the same host with `audit/v1/` in place of the
    /// last `api/` (`http://127.0.0.1:8787/audit/v1/`), where the emulator serves it.
    ///
    /// ```
    /// use slack_sessions_client::Client;
    ///
    /// let slack = Client::builder().token("xoxp-1").build()?;
    /// assert_eq!(slack.audit_url(), "https://api.slack.com/audit/v1/");
    /// let emulator = Client::builder().base_url("http://127.0.0.1:8787/api/").token("xoxp-1").build()?;
    /// assert_eq!(emulator.audit_url(), "http://127.0.0.1:8787/audit/v1/");
    /// let proxied = Client::builder()
    ///     .audit_url("https://audit-proxy.example/slack/audit/v1/")
    ///     .token("xoxp-1")
    ///     .build()?;
    /// assert_eq!(proxied.audit_url(), "https://audit-proxy.example/slack/audit/v1/");
    /// # Ok::<(), slack_sessions_client::BuildError>(())
    /// ```
    pub fn audit_url(mut self, url: impl Into<String>) -> Self {
        self.audit_url = Some(url.into());
        self
    }

    /// The token (a user token `xoxp-…` of an Org Admin or Owner for the admin methods).
    pub fn token(mut self, token: impl Into<Token>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The longest wait for a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest wait for one attempt, from connecting to the end of the answer.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// When to retry.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How to pace calls ([`Pacing::off`] to turn pacing off).
    pub fn pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = pacing;
        self
    }

    /// Form (default) or JSON bodies.
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Allows plain `http` to hosts other than the loopback (an emulator in another
    /// container). The token then crosses the network in clear text.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        let token = self.token.ok_or(BuildError::MissingToken)?;
        let auth = auth_header(&token)?;
        let base = parse_base_url(&self.base_url, self.allow_insecure_http)?;
        let audit = match &self.audit_url {
            Some(url) => parse_base_url(url, self.allow_insecure_http)?,
            None => audit_url_for(&base),
        };
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            // Slack does not redirect API calls; following one could carry the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| BuildError::Http(Box::new(e)))?;
        Ok(Client::from_inner(Arc::new(Inner {
            http,
            base,
            audit,
            token,
            auth,
            retry: self.retry,
            encoding: self.encoding,
            pacer: Pacer::new(self.pacing),
            me: Arc::default(),
            deadline: None,
        })))
    }
}

pub(crate) fn auth_header(token: &Token) -> Result<HeaderValue, BuildError> {
    if token.is_empty() {
        return Err(BuildError::MissingToken);
    }
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
        .map_err(|_| BuildError::InvalidToken)?;
    // Marks the header so that the HTTP stack never prints it.
    value.set_sensitive(true);
    Ok(value)
}

/// The Audit Logs API's base URL that goes with the Web API's `api` (see
/// [`ClientBuilder::audit_url`]).
fn audit_url_for(api: &Url) -> Url {
    match api.host_str() {
        Some("slack.com") => Url::parse(SLACK_AUDIT_URL).expect("a valid URL"),
        Some("slack-gov.com") => Url::parse(GOV_SLACK_AUDIT_URL).expect("a valid URL"),
        _ => {
            let mut url = api.clone();
            let path = api.path();
            let root = path.strip_suffix("api/").unwrap_or(path);
            url.set_path(&format!("{root}audit/v1/"));
            url
        }
    }
}

fn parse_base_url(given: &str, allow_insecure_http: bool) -> Result<Url, BuildError> {
    let invalid = |reason: &str| BuildError::InvalidBaseUrl {
        url: given.to_owned(),
        reason: reason.to_owned(),
    };
    let mut url = Url::parse(given.trim()).map_err(|e| invalid(&e.to_string()))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it has a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it carries credentials"));
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            let host = url.host_str().unwrap_or("");
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if !loopback && !allow_insecure_http {
                return Err(BuildError::InsecureHttp {
                    url: given.to_owned(),
                });
            }
        }
        other => return Err(invalid(&format!("scheme {other:?} is not http or https"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(given: &str) -> Result<String, BuildError> {
        parse_base_url(given, false).map(|u| u.to_string())
    }

    #[test]
    fn base_urls() {
        assert_eq!(url(SLACK_API_URL).unwrap(), SLACK_API_URL);
        assert_eq!(url(GOV_SLACK_API_URL).unwrap(), GOV_SLACK_API_URL);
        assert_eq!(
            url("http://127.0.0.1:8787/api").unwrap(),
            "http://127.0.0.1:8787/api/"
        );
        assert_eq!(
            url("http://localhost:1/api/").unwrap(),
            "http://localhost:1/api/"
        );
        assert_eq!(url("http://[::1]:1/api/").unwrap(), "http://[::1]:1/api/");
        assert!(matches!(
            url("http://emulator:8787/api/"),
            Err(BuildError::InsecureHttp { .. })
        ));
        assert_eq!(
            parse_base_url("http://emulator:8787/api/", true)
                .unwrap()
                .as_str(),
            "http://emulator:8787/api/"
        );
        for bad in [
            "slack.com/api",
            "ftp://slack.com/api/",
            "https://slack.com/api/?x=1",
            "https://u:p@slack.com/api/",
        ] {
            assert!(
                matches!(url(bad), Err(BuildError::InvalidBaseUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn tokens_are_checked_and_the_header_is_sensitive() {
        assert!(matches!(
            auth_header(&Token::new("")),
            Err(BuildError::MissingToken)
        ));
        assert!(matches!(
            auth_header(&Token::new("xoxp-a\nb")),
            Err(BuildError::InvalidToken)
        ));
        let header = auth_header(&Token::new("xoxp-secret")).unwrap();
        assert!(header.is_sensitive());
        assert!(!format!("{header:?}").contains("secret"));
        assert!(matches!(
            ClientBuilder::new().build(),
            Err(BuildError::MissingToken)
        ));
    }

    #[test]
    fn audit_urls_follow_the_api_url() {
        let audit = |api: &str| audit_url_for(&parse_base_url(api, true).unwrap()).to_string();
        assert_eq!(audit(SLACK_API_URL), SLACK_AUDIT_URL);
        assert_eq!(audit(GOV_SLACK_API_URL), GOV_SLACK_AUDIT_URL);
        assert_eq!(
            audit("http://127.0.0.1:8787/api/"),
            "http://127.0.0.1:8787/audit/v1/"
        );
        assert_eq!(
            audit("http://127.0.0.1:8787/api"),
            "http://127.0.0.1:8787/audit/v1/"
        );
        assert_eq!(
            audit("http://proxy.test/slack/api/"),
            "http://proxy.test/slack/audit/v1/"
        );
        assert_eq!(audit("http://proxy.test/"), "http://proxy.test/audit/v1/");
        let given = ClientBuilder::new()
            .token("xoxp-1")
            .audit_url("http://127.0.0.1:1/audit/v1")
            .build()
            .unwrap();
        assert_eq!(given.audit_url(), "http://127.0.0.1:1/audit/v1/");
        assert!(matches!(
            ClientBuilder::new()
                .token("xoxp-1")
                .audit_url("http://audit.test/")
                .build(),
            Err(BuildError::InsecureHttp { .. })
        ));
    }

    #[test]
    fn presets() {
        let client = ClientBuilder::new().token("xoxp-1").gov().build().unwrap();
        assert_eq!(client.base_url(), GOV_SLACK_API_URL);
        let client = ClientBuilder::new().token("xoxp-1").build().unwrap();
        assert_eq!(client.base_url(), SLACK_API_URL);
        assert_eq!(client.encoding(), Encoding::Form);
    }
}
