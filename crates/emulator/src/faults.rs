//! Fault injection: ordered rules, the first that matches a call applies its effect.

use std::time::Duration;

use parking_lot::Mutex;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use slack_sessions_api::ErrorCode;

/// What a fault does to a call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Effect {
    /// Answer `ok:false` with this Slack error code (HTTP 200), without executing the call.
    /// Any code: one Slack has not documented is [`ErrorCode::Other`] (`"new_code".into()`).
    Error(ErrorCode),
    /// Answer HTTP 429 `ratelimited` with this `Retry-After` (seconds), without executing.
    RateLimited(u64),
    /// Answer this HTTP status (a 5xx) with a plain-text body, without executing.
    HttpStatus(u16),
    /// Answer HTTP 200 with an empty body, without executing.
    EmptyBody,
    /// Answer HTTP 200 with an HTML page, without executing.
    NonJson,
    /// Execute the call, then send only the first half of its JSON answer: the change is made
    /// but the client cannot know it.
    TruncatedJson,
    /// Close the connection with a TCP reset, without executing.
    ResetConnection,
    /// Wait this many milliseconds, then answer normally.
    LatencyMs(u64),
}

/// A fault rule. Every filter given must match; `times` counts down and the rule is removed at 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// Assigned when added.
    #[serde(default)]
    pub id: u64,
    /// Only this method (e.g. `admin.users.session.list`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only calls with this token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Only calls whose token belongs to this org, or to the org of this team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Chance in [0, 1] that a matching call is affected (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// How many calls it affects before it is removed (default: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// What it does.
    pub effect: Effect,
}

impl FaultRule {
    /// A rule with no filters: every call, forever.
    pub fn new(effect: Effect) -> Self {
        FaultRule {
            id: 0,
            method: None,
            token: None,
            team: None,
            probability: None,
            times: None,
            effect,
        }
    }

    /// Only this method.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Only this token.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Only this org (or team).
    pub fn team(mut self, team: impl Into<String>) -> Self {
        self.team = Some(team.into());
        self
    }

    /// Affects a matching call with this chance.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }

    /// Affects this many calls, then goes away.
    pub fn times(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }

    /// Checks the rule's values.
    pub fn validate(&self) -> Result<(), FaultError> {
        let refuse = |why: String| Err(FaultError(why));
        if let Some(p) = self.probability
            && !(0.0..=1.0).contains(&p)
        {
            return refuse(format!("probability must be within [0, 1], got {p}"));
        }
        if self.times == Some(0) {
            return refuse("times must be at least 1 (leave it out for no limit)".into());
        }
        match &self.effect {
            Effect::HttpStatus(s) if !(500..=599).contains(s) => {
                refuse(format!("http_status must be a 5xx, got {s}"))
            }
            Effect::Error(code) if code.as_str().trim().is_empty() => {
                refuse("error needs a code".into())
            }
            Effect::LatencyMs(ms) if *ms > 120_000 => refuse("latency_ms is at most 120000".into()),
            _ => Ok(()),
        }
    }

    /// The latency effect as a duration.
    pub fn latency(&self) -> Option<Duration> {
        match self.effect {
            Effect::LatencyMs(ms) => Some(Duration::from_millis(ms)),
            _ => None,
        }
    }
}

/// Why a fault rule was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault rule: {0}")]
pub struct FaultError(String);

/// What identifies a call for matching.
#[derive(Debug, Default)]
pub struct Call<'a> {
    /// The method name.
    pub method: &'a str,
    /// The token, if any.
    pub token: Option<&'a str>,
    /// The token's org id and its teams.
    pub teams: Vec<&'a str>,
}

/// The rules, and the seeded random source for `probability`.
#[derive(Debug)]
pub struct Faults {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    rules: Vec<FaultRule>,
    next_id: u64,
    rng: SmallRng,
}

impl Faults {
    /// No rules; `seed` makes `probability` draws repeatable.
    pub fn new(seed: u64) -> Self {
        Faults {
            inner: Mutex::new(Inner {
                rules: Vec::new(),
                next_id: 1,
                rng: SmallRng::seed_from_u64(seed),
            }),
        }
    }

    /// Adds a rule at the end; returns it with its id.
    pub fn add(&self, mut rule: FaultRule) -> Result<FaultRule, FaultError> {
        rule.validate()?;
        let mut inner = self.inner.lock();
        rule.id = inner.next_id;
        inner.next_id += 1;
        inner.rules.push(rule.clone());
        Ok(rule)
    }

    /// The rules, with their remaining `times`.
    pub fn list(&self) -> Vec<FaultRule> {
        self.inner.lock().rules.clone()
    }

    /// Whether there are no rules (the common case, checked on every call).
    pub fn is_empty(&self) -> bool {
        self.inner.lock().rules.is_empty()
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.inner.lock().rules.clear();
    }

    /// The first rule matching `call`, consumed once; `None` if no rule applies.
    pub fn pick(&self, call: &Call<'_>) -> Option<FaultRule> {
        let mut inner = self.inner.lock();
        if inner.rules.is_empty() {
            return None;
        }
        let Inner { rules, rng, .. } = &mut *inner;
        let idx = rules.iter().position(|r| {
            r.method.as_deref().is_none_or(|m| m == call.method)
                && r.token.as_deref().is_none_or(|t| Some(t) == call.token)
                && r.team.as_deref().is_none_or(|t| call.teams.contains(&t))
                && r.probability.is_none_or(|p| rng.random_bool(p))
        })?;
        let rule = rules[idx].clone();
        if let Some(times) = rules[idx].times.as_mut() {
            *times = times.saturating_sub(1);
            if *times == 0 {
                rules.remove(idx);
            }
        }
        Some(rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_effect_is_a_typed_code_with_the_same_json() {
        let rule = FaultRule::new(Effect::Error(ErrorCode::InternalError));
        let json = serde_json::to_value(&rule.effect).unwrap();
        assert_eq!(json, serde_json::json!({"error": "internal_error"}));
        let back: Effect =
            serde_json::from_value(serde_json::json!({"error": "brand_new"})).unwrap();
        assert_eq!(back, Effect::Error(ErrorCode::Other("brand_new".into())));
        assert_eq!(Effect::Error("internal_error".into()), rule.effect);
        assert!(FaultRule::new(Effect::Error("".into())).validate().is_err());
        assert!(rule.validate().is_ok());
    }

    #[test]
    fn first_match_times_and_filters() {
        let faults = Faults::new(7);
        faults
            .add(FaultRule::new(Effect::EmptyBody).method("a").times(2))
            .unwrap();
        faults.add(FaultRule::new(Effect::NonJson)).unwrap();
        let a = Call {
            method: "a",
            ..Call::default()
        };
        let b = Call {
            method: "b",
            ..Call::default()
        };
        assert_eq!(faults.pick(&a).unwrap().effect, Effect::EmptyBody);
        assert_eq!(faults.list()[0].times, Some(1));
        assert_eq!(faults.pick(&b).unwrap().effect, Effect::NonJson);
        assert_eq!(faults.pick(&a).unwrap().effect, Effect::EmptyBody);
        assert_eq!(faults.list().len(), 1, "exhausted rule removed");
        assert_eq!(faults.pick(&a).unwrap().effect, Effect::NonJson);
    }

    #[test]
    fn probability_is_seeded() {
        let draws = |seed| {
            let faults = Faults::new(seed);
            faults
                .add(FaultRule::new(Effect::EmptyBody).probability(0.5))
                .unwrap();
            (0..200)
                .map(|_| {
                    faults
                        .pick(&Call {
                            method: "m",
                            ..Call::default()
                        })
                        .is_some()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(1), draws(1));
        let hits = draws(1).iter().filter(|h| **h).count();
        assert!((60..140).contains(&hits), "{hits}");
    }

    #[test]
    fn bad_rules_are_refused() {
        let faults = Faults::new(0);
        assert!(faults.add(FaultRule::new(Effect::HttpStatus(200))).is_err());
        assert!(
            faults
                .add(FaultRule::new(Effect::EmptyBody).probability(1.5))
                .is_err()
        );
        assert!(
            faults
                .add(FaultRule::new(Effect::EmptyBody).times(0))
                .is_err()
        );
    }
}
