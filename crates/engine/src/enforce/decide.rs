//! What a round of enforcement does, decided before it does anything: the sessions that break
//! a rule, less the exempt ones, those of users in their cooldown, and those past the caps; or
//! nothing at all when the circuit breaker trips. A pure function of the sessions, the policy
//! and the past actions, so the dry run prints exactly what the run then does.

use std::collections::{HashMap, HashSet};

use slack_sessions_client::api::UserId;
use slack_sessions_client::methods::ActiveSession;

use super::policy::{Action, Policy};
use super::rules::Breach;
use crate::guardrails::History;

/// A session that breaks a rule.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The session.
    pub session: ActiveSession,
    /// The rule it breaks first, and why.
    pub breach: Breach,
    /// Its user's email, if known (for email exemptions).
    pub email: Option<String>,
}

/// Why a session that breaks a rule is left alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hold {
    /// An exempt user: the policy's list, the rule's, or the token's owner.
    Exempt(&'static str),
    /// The user was acted on less than the cooldown ago.
    Cooldown {
        /// When the cooldown ends (ms since the epoch).
        until_ms: u64,
    },
    /// `max_actions_per_run` reached.
    RunCap,
    /// `max_actions_per_hour` reached.
    HourCap,
    /// The user is reset by another action of this round.
    Covered,
    /// The circuit breaker tripped: the round acts on nothing.
    Breaker,
}

impl Hold {
    /// What kind of hold it is, apart from what changes round to round (a cooldown's time
    /// left): a held decision is logged again only when this changes.
    pub fn kind(&self) -> &'static str {
        match self {
            Hold::Exempt(which) => which,
            Hold::Cooldown { .. } => "cooldown",
            Hold::RunCap => "max_actions_per_run",
            Hold::HourCap => "max_actions_per_hour",
            Hold::Covered => "covered",
            Hold::Breaker => "breaker",
        }
    }

    /// In words.
    pub fn describe(&self, now_ms: u64) -> String {
        match self {
            Hold::Exempt(which) => format!("exempt ({which})"),
            Hold::Cooldown { until_ms } => format!(
                "cooldown: the user was acted on recently ({}s left)",
                until_ms.saturating_sub(now_ms).div_ceil(1000)
            ),
            Hold::RunCap => "max_actions_per_run reached".into(),
            Hold::HourCap => "max_actions_per_hour reached".into(),
            Hold::Covered => "the user is reset by this round".into(),
            Hold::Breaker => "circuit breaker: the round would end too many sessions".into(),
        }
    }
}

/// One decision of the round.
#[derive(Clone, Debug)]
pub struct Decision {
    /// The session and its breach.
    pub candidate: Candidate,
    /// The action, or why there is none.
    pub outcome: Result<Action, Hold>,
}

/// A round's decisions, made before any action.
#[derive(Clone, Debug)]
pub struct Round {
    /// Every session that breaks a rule, in the order found.
    pub decisions: Vec<Decision>,
    /// The breaker's reason, when it tripped.
    pub breaker: Option<String>,
    /// Sessions in the org (for the breaker's share).
    pub total: u64,
    /// The rules (indices) no session breaks, first or not: a rule that matches nothing may
    /// be a typo.
    pub unmatched: Vec<usize>,
}

impl Round {
    /// The actions to take.
    pub fn actions(&self) -> impl Iterator<Item = (&Candidate, Action)> {
        self.decisions
            .iter()
            .filter_map(|d| d.outcome.as_ref().ok().map(|a| (&d.candidate, *a)))
    }
}

/// Decides a round. `history`: the actions taken under the policy in the org (by any run);
/// `sessions_of`: each user's sessions in the org now (a reset ends them all); `me`: the
/// token's owner; `now_ms`: the time.
pub fn decide(
    policy: &Policy,
    candidates: Vec<Candidate>,
    total: u64,
    history: &History,
    sessions_of: &HashMap<UserId, u64>,
    me: &UserId,
    now_ms: u64,
) -> Round {
    let g = &policy.guardrails;
    let last_applied = history.last_applied();
    let in_last_hour = history.taken_since(now_ms.saturating_sub(crate::guardrails::HOUR_MS));
    let mut decisions = Vec::with_capacity(candidates.len());
    let mut reset_users: HashSet<UserId> = HashSet::new();
    for c in candidates {
        let rule = &policy.rules[c.breach.rule];
        let user = &c.session.user_id;
        let email = c.email.as_deref().map(str::to_ascii_lowercase);
        let exempt = if g.exempt_token_owner && user == me {
            Some("the token's owner")
        } else if policy.exempt_users.iter().any(|u| u == user.as_str())
            || email
                .as_ref()
                .is_some_and(|e| policy.exempt_emails.contains(e))
        {
            Some("the policy's exemptions")
        } else if rule.exempt_users.iter().any(|u| u == user.as_str())
            || email
                .as_ref()
                .is_some_and(|e| rule.exempt_emails.contains(e))
        {
            Some("the rule's exemptions")
        } else {
            None
        };
        let cooldown = rule.cooldown.unwrap_or(g.cooldown).as_millis() as u64;
        let outcome = if let Some(which) = exempt {
            Err(Hold::Exempt(which))
        } else if let Some(t) = last_applied.get(user).filter(|t| **t + cooldown > now_ms) {
            Err(Hold::Cooldown {
                until_ms: t + cooldown,
            })
        } else if reset_users.contains(user) {
            Err(Hold::Covered)
        } else {
            if rule.action == Action::Reset {
                reset_users.insert(user.clone());
            }
            Ok(rule.action)
        };
        decisions.push(Decision {
            candidate: c,
            outcome,
        });
    }
    // A reset ends every session of its user: the others of this round are covered by it.
    for d in &mut decisions {
        if d.outcome == Ok(Action::Invalidate) && reset_users.contains(&d.candidate.session.user_id)
        {
            d.outcome = Err(Hold::Covered);
        }
    }
    // The breaker: the sessions this round would end, against all of the org's.
    let would_end: u64 = decisions
        .iter()
        .map(|d| match d.outcome {
            Ok(Action::Invalidate) => 1,
            Ok(Action::Reset) => sessions_of
                .get(&d.candidate.session.user_id)
                .copied()
                .unwrap_or(1),
            Err(_) => 0,
        })
        .sum();
    if total > 0 && would_end as f64 > g.max_share * total as f64 {
        let reason = format!(
            "the round would end {would_end} of {total} sessions ({:.1}%), over max_share {:.1}%: nothing was done",
            would_end as f64 * 100.0 / total as f64,
            g.max_share * 100.0
        );
        for d in &mut decisions {
            if d.outcome.is_ok() {
                d.outcome = Err(Hold::Breaker);
            }
        }
        return Round {
            decisions,
            breaker: Some(reason),
            total,
            unmatched: Vec::new(),
        };
    }
    // The caps, in the order found.
    let mut taken = 0u64;
    for d in &mut decisions {
        if d.outcome.is_ok() {
            if taken >= g.max_actions_per_run {
                d.outcome = Err(Hold::RunCap);
            } else if in_last_hour + taken >= g.max_actions_per_hour {
                d.outcome = Err(Hold::HourCap);
            } else {
                taken += 1;
            }
        }
    }
    Round {
        decisions,
        breaker: None,
        total,
        unmatched: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enforce::policy::parse;
    use slack_sessions_client::api::{SessionId, TeamId};
    use slack_sessions_client::methods::DeviceRecord;
    use std::path::Path;

    fn cand(id: u64, user: &str, rule: usize, email: Option<&str>) -> Candidate {
        Candidate {
            session: ActiveSession::new(
                UserId::new(user),
                TeamId::new("T1"),
                SessionId(id),
                DeviceRecord::default(),
                None,
            ),
            breach: Breach {
                rule,
                why: "x".into(),
            },
            email: email.map(Into::into),
        }
    }

    fn policy(extra: &str) -> Policy {
        let text = format!(
            "{extra}\n[exempt]\nemails = [\"boss@x.example\"]\n[[rule]]\nname = \"net\"\nallowed_networks = [\"10.0.0.0/8\"]\nexempt_users = [\"W99\"]\n[[rule]]\nname = \"os\"\ndeny_os = [\"Android\"]\naction = \"reset\"\ncooldown = \"0s\"\n"
        );
        parse(Path::new("p"), &text).unwrap()
    }

    fn outcomes(plan: &Round) -> Vec<(u64, Result<Action, Hold>)> {
        plan.decisions
            .iter()
            .map(|d| (d.candidate.session.session_id.0, d.outcome.clone()))
            .collect()
    }

    const NOW: u64 = 10_000_000;

    #[test]
    fn exemptions_cooldowns_and_resets() {
        let p = policy("[guardrails]\nmax_share = 1.0\ncooldown = \"1h\"");
        let past = History::of(&[("W3", NOW - 60_000, false), ("W4", NOW - 60_000, true)]);
        let plan = decide(
            &p,
            vec![
                cand(1, "W0ME", 0, None),
                cand(2, "W2", 0, Some("Boss@x.example")),
                cand(3, "W99", 0, None),
                cand(4, "W3", 0, None),
                cand(5, "W4", 0, None),
                cand(6, "W3", 1, None),
                cand(7, "W5", 1, None),
                cand(8, "W5", 0, None),
            ],
            100,
            &past,
            &HashMap::new(),
            &UserId::new("W0ME"),
            NOW,
        );
        assert_eq!(
            outcomes(&plan),
            vec![
                (1, Err(Hold::Exempt("the token's owner"))),
                (2, Err(Hold::Exempt("the policy's exemptions"))),
                (3, Err(Hold::Exempt("the rule's exemptions"))),
                (
                    4,
                    Err(Hold::Cooldown {
                        until_ms: NOW - 60_000 + 3_600_000
                    })
                ),
                // The action on W4 did not take effect: no cooldown.
                (5, Ok(Action::Invalidate)),
                // The rule's own cooldown (0s) lets W3 be reset.
                (6, Ok(Action::Reset)),
                (7, Ok(Action::Reset)),
                (8, Err(Hold::Covered)),
            ]
        );
    }

    #[test]
    fn the_breaker_stops_a_round_that_would_end_too_much() {
        let p = policy("[guardrails]\nmax_share = 0.1");
        let cands: Vec<Candidate> = (0..3).map(|i| cand(i, &format!("W{i}"), 0, None)).collect();
        let plan = decide(
            &p,
            cands.clone(),
            30,
            &History::default(),
            &HashMap::new(),
            &UserId::new("W0ME"),
            NOW,
        );
        assert!(plan.breaker.is_none(), "3 of 30 is 10%: allowed");
        let plan = decide(
            &p,
            cands,
            29,
            &History::default(),
            &HashMap::new(),
            &UserId::new("W0ME"),
            NOW,
        );
        assert!(plan.breaker.as_deref().unwrap().contains("3 of 29"));
        assert_eq!(plan.actions().count(), 0);
        // A reset counts every session of its user.
        let sessions = HashMap::from([(UserId::new("W7"), 5)]);
        let plan = decide(
            &p,
            vec![cand(9, "W7", 1, None)],
            30,
            &History::default(),
            &sessions,
            &UserId::new("W0ME"),
            NOW,
        );
        assert!(plan.breaker.is_some());
    }

    #[test]
    fn caps_per_run_and_per_hour() {
        let p = policy(
            "[guardrails]\nmax_share = 1.0\nmax_actions_per_run = 2\nmax_actions_per_hour = 3",
        );
        let cands: Vec<Candidate> = (0..4).map(|i| cand(i, &format!("W{i}"), 0, None)).collect();
        let plan = decide(
            &p,
            cands.clone(),
            10,
            &History::default(),
            &HashMap::new(),
            &UserId::new("W0ME"),
            NOW,
        );
        assert_eq!(plan.actions().count(), 2);
        assert_eq!(plan.decisions[2].outcome, Err(Hold::RunCap));
        let past = History::of(&[("W8", NOW - 1000, false), ("W8", NOW - 4_000_000, false)]);
        let plan = decide(
            &p,
            cands,
            10,
            &past,
            &HashMap::new(),
            &UserId::new("W0ME"),
            NOW,
        );
        assert_eq!(plan.actions().count(), 2);
        let plan_hour: Vec<_> = outcomes(&plan).into_iter().map(|(_, o)| o).collect();
        assert_eq!(plan_hour[2], Err(Hold::RunCap));
        let p = policy("[guardrails]\nmax_share = 1.0\nmax_actions_per_hour = 2");
        let cands: Vec<Candidate> = (0..4).map(|i| cand(i, &format!("W{i}"), 0, None)).collect();
        let plan = decide(
            &p,
            cands,
            10,
            &past,
            &HashMap::new(),
            &UserId::new("W0ME"),
            NOW,
        );
        assert_eq!(plan.actions().count(), 1);
        assert_eq!(plan.decisions[1].outcome, Err(Hold::HourCap));
    }
}
