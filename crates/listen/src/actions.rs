//! What a signal does: the config's `[actions]` table over the defaults.

use std::collections::BTreeMap;

use serde_json::Value;
use slack_sessions_engine::listen::Action;

use crate::events;

/// The events that sign their user out unless `[actions]` says otherwise: CAEP
/// `session-revoked`, RISC `account-disabled`, `account-purged` and `credential-compromise`,
/// Okta's `user.session.clear`, `user.lifecycle.suspend`, `user.lifecycle.deactivate` and
/// `user.account.lock`, and a Global Token Revocation request. Every other event is recorded
/// only (CAEP `credential-change`, `risk-level-change`, `device-compliance-change`, …).
pub const DEFAULT_RESETS: &[&str] = &[
    "session-revoked",
    "account-disabled",
    "account-purged",
    "credential-compromise",
    "user.session.clear",
    "user.lifecycle.suspend",
    "user.lifecycle.deactivate",
    "user.account.lock",
    events::GTR,
];

/// What each event does: the `[actions]` table over [`DEFAULT_RESETS`].
///
/// A key is an event's name: a CAEP, RISC or SSF event's short name (`session-revoked`), an
/// event-type URI outside those namespaces, an Okta event type (`user.session.clear`; TOML
/// reads an unquoted dotted key as nested tables, which come to the same), or `gtr`. Its value
/// is one of:
///
/// ```toml
/// [actions]
/// credential-change = "reset"                                  # always sign the user out
/// session-revoked   = "record"                                 # only record it
/// risk-level-change = { reset_when = { current_level = "HIGH" } }
/// device-compliance-change = { reset_when = { current_status = "not-compliant" } }
/// "user.account.lock" = "record"                             # an Okta event type
/// assurance-level-change = { reset_when = { change_direction = "decrease", namespace = ["NIST-AAL", "RFC8176"] } }
/// ```
///
/// `reset_when` resets when every member it names has one of the values given (a list is any
/// of them), and records otherwise. A member is looked up in the event: a SET's event object
/// (CAEP's `current_level`, `current_status`, `change_type`, `credential_type`), or an Okta
/// System Log event, where a dotted name walks into objects (`outcome.result`,
/// `debugContext.debugData.…`). Values are compared as text, ignoring ASCII case; a member
/// that is missing matches nothing.
///
/// The SSF `verification` event is always recorded, and so is an Okta event whose
/// `outcome.result` is not `SUCCESS` (a suspension that failed), whatever the table says. A short name a letter or two from a known
/// CAEP/RISC/SSF name is refused as a typo.
#[derive(Clone, Debug, PartialEq)]
pub struct Actions {
    rules: BTreeMap<String, Rule>,
}

/// What one event does.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// Always this.
    Always(Action),
    /// Reset when every condition holds, else record.
    ResetWhen(Vec<Condition>),
}

/// One member's accepted values.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// The member (a dotted path into objects).
    pub member: String,
    /// The values that match (ASCII case ignored).
    pub values: Vec<String>,
}

impl Default for Actions {
    fn default() -> Actions {
        Actions {
            rules: DEFAULT_RESETS
                .iter()
                .map(|e| ((*e).to_owned(), Rule::Always(Action::Reset)))
                .collect(),
        }
    }
}

impl Actions {
    /// The defaults with `table` (the config's `[actions]`) over them; errors name the key.
    pub fn from_table(table: &toml::Table) -> Result<Actions, String> {
        let mut actions = Actions::default();
        let mut rules = Vec::new();
        flatten("", table, &mut rules)?;
        for (event, value) in rules {
            check_name(&event)?;
            actions.rules.insert(event.clone(), rule(&event, value)?);
        }
        Ok(actions)
    }

    /// What `event` does, given the event's members.
    pub fn decide(&self, event: &str, members: &Value) -> Action {
        if event == events::VERIFICATION {
            return Action::Record;
        }
        match self.rules.get(event) {
            Some(Rule::Always(action)) => *action,
            Some(Rule::ResetWhen(conditions)) if conditions.iter().all(|c| c.holds(members)) => {
                Action::Reset
            }
            Some(Rule::ResetWhen(_)) | None => Action::Record,
        }
    }

    /// The rule of `event`, if it has one (no rule: recorded).
    pub fn rule(&self, event: &str) -> Option<&Rule> {
        self.rules.get(event)
    }
}

impl Condition {
    fn holds(&self, members: &Value) -> bool {
        let found = self
            .member
            .split('.')
            .try_fold(members, |v, name| v.get(name));
        let text = match found {
            Some(Value::String(s)) => s.clone(),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
            _ => return false,
        };
        self.values.iter().any(|v| v.eq_ignore_ascii_case(&text))
    }
}

/// The table's rules with their dotted names: a table holding `reset_when` is a rule, any
/// other table a level of a dotted key (`user.session.clear = "reset"` unquoted).
fn flatten<'a>(
    prefix: &str,
    table: &'a toml::Table,
    out: &mut Vec<(String, &'a toml::Value)>,
) -> Result<(), String> {
    for (key, value) in table {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(t) if !t.contains_key("reset_when") => {
                if let Some(close) = t.keys().find(|k| strsim::levenshtein(k, "reset_when") <= 2) {
                    return Err(format!(
                        "[actions] {name}: unknown key `{close}`; did you mean `reset_when`?"
                    ));
                }
                flatten(&name, t, out)?;
            }
            _ => out.push((name, value)),
        }
    }
    Ok(())
}

/// Refuses a short name a letter or two from a known one (a typo would silently leave the
/// default in force).
fn check_name(event: &str) -> Result<(), String> {
    if event.contains('.') || event.contains(':') || events::known().any(|k| k == event) {
        return Ok(());
    }
    match events::known().find(|k| strsim::levenshtein(k, event) <= 2) {
        Some(close) => Err(format!(
            "[actions] {event}: no such event; did you mean `{close}`?"
        )),
        None => Ok(()),
    }
}

fn rule(event: &str, value: &toml::Value) -> Result<Rule, String> {
    let bad = || {
        format!(
            "[actions] {event}: \"reset\", \"record\" or {{ reset_when = {{ member = \"value\" }} }}"
        )
    };
    if event == events::VERIFICATION {
        return Err(format!(
            "[actions] {event}: the SSF verification event is always recorded"
        ));
    }
    match value {
        toml::Value::String(s) => match s.as_str() {
            "reset" => Ok(Rule::Always(Action::Reset)),
            "record" => Ok(Rule::Always(Action::Record)),
            _ => Err(bad()),
        },
        toml::Value::Table(t) => {
            if let Some(other) = t.keys().find(|k| *k != "reset_when") {
                return Err(format!(
                    "[actions] {event}: unknown key `{other}` (only `reset_when`)"
                ));
            }
            let Some(toml::Value::Table(when)) = t.get("reset_when") else {
                return Err(bad());
            };
            if when.is_empty() {
                return Err(format!(
                    "[actions] {event}: `reset_when` names no member (use \"reset\" to always reset)"
                ));
            }
            when.iter()
                .map(|(member, v)| {
                    let values = match v {
                        toml::Value::Array(items) => items.iter().map(text).collect(),
                        one => text(one).map(|t| vec![t]),
                    };
                    match values {
                        Some(values) if !values.is_empty() => Ok(Condition {
                            member: member.clone(),
                            values,
                        }),
                        _ => Err(format!(
                            "[actions] {event}: reset_when.{member} must be a value or a list of values"
                        )),
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Rule::ResetWhen)
        }
        _ => Err(bad()),
    }
}

fn text(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(text: &str) -> Result<Actions, String> {
        Actions::from_table(&toml::from_str::<toml::Table>(text).unwrap())
    }

    #[test]
    fn the_defaults_reset_what_the_issue_lists_and_record_the_rest() {
        let a = Actions::default();
        let none = json!({});
        for e in DEFAULT_RESETS {
            assert_eq!(a.decide(e, &none), Action::Reset, "{e}");
        }
        for e in [
            "credential-change",
            "risk-level-change",
            "device-compliance-change",
            "verification",
            "user.session.start",
            "https://example.com/custom",
        ] {
            assert_eq!(a.decide(e, &none), Action::Record, "{e}");
        }
    }

    #[test]
    fn the_table_overrides_with_conditions() {
        let a = table(
            r#"
credential-change = "reset"
session-revoked = "record"
risk-level-change = { reset_when = { current_level = "HIGH" } }
user.account.lock = { reset_when = { "outcome.result" = ["SUCCESS", "ALLOW"] } }
"#,
        )
        .unwrap();
        let none = json!({});
        assert_eq!(a.decide("credential-change", &none), Action::Reset);
        assert_eq!(a.decide("session-revoked", &none), Action::Record);
        assert_eq!(
            a.decide("risk-level-change", &json!({"current_level": "high"})),
            Action::Reset
        );
        assert_eq!(
            a.decide("risk-level-change", &json!({"current_level": "MEDIUM"})),
            Action::Record
        );
        assert_eq!(a.decide("risk-level-change", &none), Action::Record);
        assert_eq!(
            a.decide(
                "user.account.lock",
                &json!({"outcome": {"result": "SUCCESS"}})
            ),
            Action::Reset
        );
        assert_eq!(
            a.decide(
                "user.account.lock",
                &json!({"outcome": {"result": "FAILURE"}})
            ),
            Action::Record
        );
        // A default left alone stays.
        assert_eq!(a.decide("account-disabled", &none), Action::Reset);
    }

    #[test]
    fn mistakes_are_refused_by_name() {
        let e = table("session-revokd = \"reset\"").unwrap_err();
        assert!(e.contains("did you mean `session-revoked`"), "{e}");
        let e =
            table("risk-level-change = { reset_wen = { current_level = \"HIGH\" } }").unwrap_err();
        assert!(e.contains("did you mean `reset_when`"), "{e}");
        let e = table("session-revoked = \"restart\"").unwrap_err();
        assert!(e.contains("\"reset\", \"record\""), "{e}");
        let e = table("verification = \"reset\"").unwrap_err();
        assert!(e.contains("always recorded"), "{e}");
        let e = table("risk-level-change = { reset_when = {} }").unwrap_err();
        assert!(e.contains("names no member"), "{e}");
        // Okta's event types are not checked against a list.
        assert!(table("\"user.account.unlock\" = \"record\"").is_ok());
    }
}
