//! Building the client from the global options.

use slack_sessions_client::{
    API_URL_ENV, BuildError, Client, GOV_SLACK_API_URL, Pacing, RetryPolicy, SLACK_API_URL,
};

use crate::cli::{Global, PacingMode};
use crate::exit::{AUTH, Failure, Result};
use crate::{token, ui};

/// The base URL: `--api-url`, then `--gov`, then `SLACK_API_URL`, then Slack.
pub fn api_url(global: &Global) -> String {
    if let Some(url) = &global.api_url {
        return url.clone();
    }
    if global.gov {
        return GOV_SLACK_API_URL.to_owned();
    }
    match std::env::var(API_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => url.trim().to_owned(),
        _ => SLACK_API_URL.to_owned(),
    }
}

/// The pacing asked for.
pub fn pacing(mode: PacingMode) -> Pacing {
    match mode {
        PacingMode::Slack => Pacing::slack(),
        PacingMode::Off => Pacing::off(),
        PacingMode::Scale(n) => Pacing::scaled(n),
    }
}

/// The retry policy asked for.
pub fn retry_policy(global: &Global) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(global.retries.saturating_add(1))
        .total_budget(global.retry_budget)
}

/// A client for the token and options given.
pub fn client(global: &Global) -> Result<Client> {
    let token = token::resolve(global.token.as_ref(), global.token_file.as_deref())?;
    let url = api_url(global);
    let pacing = pacing(global.pacing);
    ui::set_pacing(&pacing);
    Client::builder()
        .base_url(url)
        .token(token)
        .timeout(global.timeout)
        .retry_policy(retry_policy(global))
        .pacing(pacing)
        .user_agent(concat!("slack-sessions-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| match e {
            BuildError::InvalidToken => Failure::new(
                AUTH,
                "the token contains characters that cannot be sent (a line break?)",
            ),
            BuildError::MissingToken => Failure::usage("no Slack token given"),
            BuildError::InsecureHttp { url } => Failure::usage(format!(
                "refusing to send the token over plain http to {url}"
            ))
            .hint("use https, or an emulator on a loopback address (127.0.0.1, localhost)"),
            other => Failure::usage(other.to_string()),
        })
}
