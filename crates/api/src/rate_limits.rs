//! How a server applies Slack's rate limits: shared by the emulator (which enforces them) and
//! the client (whose pacing should match them).

use std::time::Duration;

/// How a server applies the tier rate limits: Slack's budgets, none, or Slack's budgets over
/// shorter windows.
///
/// The emulator takes it (`Emulator::builder().rate_limits(…)`, `serve --rate-limits`), and the
/// client paces to match it with `Pacing::matching`, so one value configures both sides.
///
/// ```
/// use std::time::Duration;
/// use slack_sessions_api::RateLimits;
///
/// let limits: RateLimits = "scale=60".parse().unwrap();
/// assert_eq!(limits, RateLimits::Scale(60));
/// assert_eq!(limits.window(), Some(Duration::from_secs(1)));
/// assert_eq!(RateLimits::Off.window(), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RateLimits {
    /// Slack's budgets per minute (the default).
    #[default]
    Slack,
    /// No limits: for functional tests.
    Off,
    /// Windows of 60/N seconds with the same per-window budget: N times Slack's rate, so a
    /// pacing test runs in seconds.
    Scale(u32),
}

/// A rate-limit mode that is not `slack`, `off` or `scale=N` (1..=3600).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected slack, off or scale=N (1..=3600), got {0:?}")]
pub struct BadRateLimits(String);

impl std::str::FromStr for RateLimits {
    type Err = BadRateLimits;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "slack" => Ok(RateLimits::Slack),
            "off" => Ok(RateLimits::Off),
            other => other
                .strip_prefix("scale=")
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| (1..=3600).contains(n))
                .map(RateLimits::Scale)
                .ok_or_else(|| BadRateLimits(other.to_owned())),
        }
    }
}

impl RateLimits {
    /// The window over which a tier's budget refills (`None`: no limits).
    pub fn window(self) -> Option<Duration> {
        match self {
            RateLimits::Slack => Some(Duration::from_secs(60)),
            RateLimits::Off => None,
            RateLimits::Scale(n) => Some(Duration::from_secs(60) / n.max(1)),
        }
    }
}

impl std::fmt::Display for RateLimits {
    /// As `--rate-limits` takes it: `slack`, `off` or `scale=N`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RateLimits::Off => f.write_str("off"),
            RateLimits::Scale(n) => write!(f, "scale={n}"),
            _ => f.write_str("slack"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_modes() {
        assert_eq!("slack".parse(), Ok(RateLimits::Slack));
        assert_eq!("off".parse(), Ok(RateLimits::Off));
        assert_eq!("scale=10".parse(), Ok(RateLimits::Scale(10)));
        assert!("scale=0".parse::<RateLimits>().is_err());
        assert!("fast".parse::<RateLimits>().is_err());
    }
}
