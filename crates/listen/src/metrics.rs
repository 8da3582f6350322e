//! `GET /metrics`: the Prometheus text exposition format, version 0.0.4
//! (<https://prometheus.io/docs/instrumenting/exposition_formats/>). What the receiver counts
//! itself (requests by source and outcome) and what the engine's listener reports
//! ([`Status`]: settled signals, actions, queue depth, rate-limit waits, the breaker).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Mutex, PoisonError};

use slack_sessions_engine::listen::{Source, Status};

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

const PREFIX: &str = "slack_sessions_listen_";

/// What became of one signal (or one request that carried none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Journaled.
    Accepted,
    /// Its key was journaled before.
    Repeat,
    /// Refused, and why (`invalid_key`, `unauthorized`, `not_found`, …).
    Rejected(&'static str),
    /// Could not be taken now, and why (`journal`, `keys_unavailable`, `lookup`).
    Failed(&'static str),
}

impl Outcome {
    fn labels(self) -> (&'static str, Option<&'static str>) {
        match self {
            Outcome::Accepted => ("accepted", None),
            Outcome::Repeat => ("repeat", None),
            Outcome::Rejected(why) => ("rejected", Some(why)),
            Outcome::Failed(why) => ("failed", Some(why)),
        }
    }
}

/// The receiver's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    received: Mutex<BTreeMap<(Source, Outcome), u64>>,
    unmapped: Mutex<BTreeMap<Source, u64>>,
}

impl Metrics {
    /// Counts `n` signals from `source` that came to `outcome`.
    pub fn count(&self, source: Source, outcome: Outcome, n: u64) {
        *self
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((source, outcome))
            .or_default() += n;
    }

    /// Counts a signal whose subject names no Slack user the receiver can tell.
    pub fn unmapped(&self, source: Source) {
        *self
            .unmapped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(source)
            .or_default() += 1;
    }

    /// The exposition: these counters and the listener's `status`.
    pub fn render(&self, status: &Status) -> String {
        let mut out = String::new();
        family(
            &mut out,
            "signals_received_total",
            "counter",
            "Signals received, by source and outcome (rejections and failures by reason).",
        );
        for ((source, outcome), n) in self
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let (outcome, reason) = outcome.labels();
            let reason = reason
                .map(|r| format!(",reason=\"{}\"", escape(r)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{PREFIX}signals_received_total{{source=\"{}\",outcome=\"{outcome}\"{reason}}} {n}",
                source.as_str()
            );
        }
        family(
            &mut out,
            "unmapped_subjects_total",
            "counter",
            "Signals accepted whose subject names no Slack user (an unmapped iss_sub, an opaque id).",
        );
        for (source, n) in self
            .unmapped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "{PREFIX}unmapped_subjects_total{{source=\"{}\"}} {n}",
                source.as_str()
            );
        }
        family(
            &mut out,
            "signals_settled_total",
            "counter",
            "Signals the worker settled, by outcome.",
        );
        for (outcome, n) in &status.settled {
            let _ = writeln!(
                out,
                "{PREFIX}signals_settled_total{{outcome=\"{}\"}} {n}",
                escape(outcome)
            );
        }
        let single = |out: &mut String, name: &str, kind: &str, help: &str, value: u64| {
            family(out, name, kind, help);
            let _ = writeln!(out, "{PREFIX}{name} {value}");
        };
        single(
            &mut out,
            "actions_total",
            "counter",
            "admin.users.session.reset calls made.",
            status.actions,
        );
        single(
            &mut out,
            "queue_depth",
            "gauge",
            "Signals accepted and not yet settled.",
            status.pending,
        );
        single(
            &mut out,
            "rate_limit_waits_total",
            "counter",
            "Calls that waited for Slack's rate limit.",
            status.rate_limit_waits,
        );
        single(
            &mut out,
            "breaker_tripped",
            "gauge",
            "1 while the circuit breaker is tripped (no sign-outs until an admin resumes).",
            u64::from(status.breaker.is_some()),
        );
        single(
            &mut out,
            "journal_open",
            "gauge",
            "1 while the journal is open and writable.",
            u64::from(status.journal_open),
        );
        single(
            &mut out,
            "token_ok",
            "gauge",
            "1 while the Slack token works.",
            u64::from(status.token_ok),
        );
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {PREFIX}{name} {help}");
    let _ = writeln!(out, "# TYPE {PREFIX}{name} {kind}");
}

/// A label value: `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_status_are_exposed() {
        let m = Metrics::default();
        m.count(Source::Ssf, Outcome::Accepted, 2);
        m.count(Source::Ssf, Outcome::Rejected("invalid_key"), 1);
        m.unmapped(Source::Okta);
        let status = Status {
            journal_open: true,
            token_ok: true,
            pending: 3,
            breaker: Some("20% of users".into()),
            settled: [("reset".to_owned(), 4), ("odd\"name".to_owned(), 1)]
                .into_iter()
                .collect(),
            actions: 4,
            rate_limit_waits: 1,
        };
        let text = m.render(&status);
        for line in [
            "slack_sessions_listen_signals_received_total{source=\"ssf\",outcome=\"accepted\"} 2",
            "slack_sessions_listen_signals_received_total{source=\"ssf\",outcome=\"rejected\",reason=\"invalid_key\"} 1",
            "slack_sessions_listen_unmapped_subjects_total{source=\"okta\"} 1",
            "slack_sessions_listen_signals_settled_total{outcome=\"reset\"} 4",
            "slack_sessions_listen_signals_settled_total{outcome=\"odd\\\"name\"} 1",
            "slack_sessions_listen_actions_total 4",
            "slack_sessions_listen_queue_depth 3",
            "slack_sessions_listen_rate_limit_waits_total 1",
            "slack_sessions_listen_breaker_tripped 1",
            "# TYPE slack_sessions_listen_queue_depth gauge",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
    }
}
