//! Session history from Slack's Audit Logs API
//! (<https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference>): a user's
//! sign-ins, sign-outs, resets and invalidations, or the org's, newest first.
//!
//! Slack combines the filters of `/audit/v1/logs` with AND, so a user's history takes three
//! walks, merged newest first and without an entry twice (by its id):
//!
//! - the user as actor: what they did ([`BY_THE_USER`]: sign-ins, sign-outs, failed sign-ins,
//!   anomalies);
//! - the user as entity: what was done to them ([`ON_THE_USER`]: resets, invalidations,
//!   settings changes);
//! - the bulk resets (`bulk_session_reset_by_admin`), whose entity is the org: kept when
//!   `details.succeeded_users` names the user. One walk serves every user asked for.
//!
//! An action of neither list (any other name Slack's `/actions` knows) is asked for both as
//! actor and as entity. Without users, the org's entries of the actions are one walk. The IP
//! filter is the entry's `context.ip_address`, checked as entries arrive.
//!
//! The Audit Logs API takes only an Org Owner's user token with `auditlogs:read`; any other is
//! answered `invalid_authentication`, which [`audit_error`] turns into an error that says so.

use std::collections::{HashMap, HashSet};

use futures::TryStreamExt;
use serde::Serialize;
use slack_sessions_client::api::audit_logs::{
    AuditLogsArgs, Details, EARLIEST, Entry, MAX_ACTIONS, action, is_known_action, known_actions,
};
use slack_sessions_client::api::{Network, SessionId, UserId};
use slack_sessions_client::methods::ClientKind;
use slack_sessions_client::{Client, Error as ClientError};

use crate::Context;
use crate::error::{Error, Result};
use crate::org::Org;
use crate::users::Directory;
use crate::when::When;

/// Entries asked for per page: a page is one call of a tier-3 budget (50 a minute for the
/// whole org), so pages are large; Slack allows up to 9,999.
pub const PAGE: u32 = 1_000;

/// What a user does themself: their entries name them as actor.
pub const BY_THE_USER: [&str; 6] = [
    action::USER_LOGIN,
    action::USER_LOGIN_FAILED,
    action::USER_LOGOUT,
    action::USER_LOGOUT_COMPROMISED,
    action::USER_LOGOUT_NON_COMPLIANT_MOBILE_APP_VERSION,
    action::ANOMALY,
];

/// What is done to a user's sessions: their entries name the user as entity.
pub const ON_THE_USER: [&str; 5] = [
    action::USER_SESSION_INVALIDATED,
    action::USER_SESSION_RESET_BY_ADMIN,
    action::USER_SESSIONS_RESET_BY_ANOMALY_EVENT_RESPONSE,
    action::USER_SESSIONS_RESET_BY_CIRCUIT_BREAKER,
    action::USER_SESSION_SETTINGS_CHANGED,
];

/// What a history asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Users as written (IDs or email addresses); none: the org's history.
    pub users: Vec<String>,
    /// Only entries whose context IP is in one of these networks (none: any).
    pub networks: Vec<Network>,
    /// Not before, Unix seconds (`oldest`).
    pub oldest: Option<u64>,
    /// Not after, Unix seconds (`latest`).
    pub latest: Option<u64>,
    /// Action names, checked ([`check_actions`]); none: the session actions
    /// ([`action::SESSION_ACTIONS`]).
    pub actions: Vec<String>,
}

impl Plan {
    /// The `oldest` and `latest` of `since` and `until`, now being `now` (Unix seconds):
    /// refused when the range is empty or starts in the future. A start before March 2018
    /// starts then (Slack keeps nothing older, and refuses an earlier `oldest`); an end from
    /// now on is no bound (Slack refuses a `latest` in the future).
    pub fn window(
        since: Option<When>,
        until: Option<When>,
        now: u64,
    ) -> Result<(Option<u64>, Option<u64>)> {
        let oldest = since.map(|s| s.start(now));
        let latest = until.map(|u| u.end(now));
        if oldest.is_some_and(|o| o > now) {
            return Err(Error::refused(
                "--since is in the future: nothing is logged yet",
            ));
        }
        if let (Some(o), Some(l)) = (oldest, latest)
            && o > l
        {
            return Err(Error::refused(
                "--since is after --until: no entry can match",
            ));
        }
        if latest.is_some_and(|l| l < EARLIEST) {
            return Err(Error::refused(
                "--until is before March 2018: Slack's audit logs start then",
            ));
        }
        Ok((oldest.map(|o| o.max(EARLIEST)), latest.filter(|l| *l < now)))
    }
}

/// One entry of a history: when, what, from where (IP and client), which session, who acted
/// and on whom.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Row {
    /// Slack's id of the entry.
    pub id: String,
    /// When, Unix seconds.
    pub date_create: u64,
    /// When, in UTC (`2026-11-01T09:30:00Z`).
    pub time: String,
    /// The action (`user_login`, …).
    pub action: String,
    /// The context's IP address.
    pub ip: Option<String>,
    /// The client its user agent names.
    pub client: ClientKind,
    /// The context's session.
    pub session_id: Option<u64>,
    /// Who acted.
    pub actor: Option<UserId>,
    /// What was acted on: a user, or the org for a bulk reset.
    pub entity: Option<String>,
    /// The action's details (a bulk reset's `succeeded_users`, a reset's `mobile_only`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Details>,
}

impl From<Entry> for Row {
    fn from(e: Entry) -> Row {
        Row {
            time: crate::journal::utc(e.date_create.saturating_mul(1_000)),
            ip: e.context.ip_address.clone(),
            client: e.context.client_kind(),
            session_id: e.session_id().map(|s| s.0),
            actor: e.actor.user_id().cloned(),
            entity: e.entity.id().map(str::to_owned),
            id: e.id,
            date_create: e.date_create,
            action: e.action,
            details: e.details,
        }
    }
}

/// The error of a failed audit-log call: for a token the API refuses, one that says which it
/// takes.
pub fn audit_error(err: ClientError) -> Error {
    if err.is_auth() {
        Error::slack(
            "the audit logs need an Org Owner's user token with the auditlogs:read scope",
            err,
        )
    } else {
        Error::slack("cannot read the audit logs", err)
    }
}

/// Checks action names against Slack's `/actions` (each argument may hold several, comma
/// separated); returns them each once, in order. An unknown name is refused, with the known
/// names closest to it.
pub fn check_actions(names: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for name in names.iter().flat_map(|n| n.split(',')).map(str::trim) {
        if name.is_empty() || out.iter().any(|n| n == name) {
            continue;
        }
        if !is_known_action(name) {
            let close = close_names(name);
            let message = if close.is_empty() {
                format!("--action {name:?}: Slack's audit logs have no such action")
            } else {
                format!(
                    "--action {name:?}: Slack's audit logs have no such action; close names: {}",
                    close.join(", ")
                )
            };
            return Err(Error::refused(message).hint(format!(
                "the session actions: {}",
                action::SESSION_ACTIONS.join(", ")
            )));
        }
        out.push(name.to_owned());
    }
    Ok(out)
}

/// The known action names closest to `name`, closest first (at most five): those that hold
/// it, and those a few edits away.
pub fn close_names(name: &str) -> Vec<&'static str> {
    let name = name.to_ascii_lowercase();
    let mut scored: Vec<(f64, &'static str)> = known_actions()
        .filter_map(|known| {
            let score = strsim::jaro_winkler(&name, known);
            let holds = name.len() >= 3 && known.contains(name.as_str());
            (holds || score >= 0.88).then_some((if holds { score + 1.0 } else { score }, known))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(5).map(|(_, n)| n).collect()
}

/// Which entries of a walk a history keeps.
enum Keep {
    /// Every one.
    All,
    /// Bulk resets that name one of these users among `succeeded_users`.
    Naming(HashSet<UserId>),
}

impl Keep {
    fn keeps(&self, e: &Entry) -> bool {
        match self {
            Keep::All => true,
            Keep::Naming(users) => e
                .details
                .as_ref()
                .and_then(|d| d.succeeded_users.as_ref())
                .is_some_and(|named| named.iter().any(|u| users.contains(u))),
        }
    }
}

/// The walks of a history: a filter each (at most [`MAX_ACTIONS`] names), and what to keep.
fn walks(plan: &Plan, users: &[UserId]) -> Vec<(AuditLogsArgs, Keep)> {
    let wanted: Vec<&str> = if plan.actions.is_empty() {
        action::SESSION_ACTIONS.to_vec()
    } else {
        plan.actions.iter().map(String::as_str).collect()
    };
    let mut base = AuditLogsArgs::new().limit(PAGE);
    base.oldest = plan.oldest;
    base.latest = plan.latest;
    let mut out = Vec::new();
    let mut every = |args: &AuditLogsArgs, names: &[&str]| {
        for chunk in names.chunks(MAX_ACTIONS) {
            out.push((args.clone().actions(chunk), Keep::All));
        }
    };
    if users.is_empty() {
        every(&base, &wanted);
        return out;
    }
    let bulk = action::BULK_SESSION_RESET_BY_ADMIN;
    let as_actor: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|a| *a != bulk && !ON_THE_USER.contains(a))
        .collect();
    let as_entity: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|a| *a != bulk && !BY_THE_USER.contains(a))
        .collect();
    for user in users {
        every(&base.clone().actor(user.clone()), &as_actor);
        every(&base.clone().entity(user.as_str()), &as_entity);
    }
    if wanted.contains(&bulk) {
        out.push((
            base.action(bulk),
            Keep::Naming(users.iter().cloned().collect()),
        ));
    }
    out
}

/// Whether an entry's context IP is in one of `networks` (none: any entry).
fn in_networks(networks: &[Network], e: &Entry) -> bool {
    networks.is_empty()
        || e.context
            .ip_address
            .as_deref()
            .is_some_and(|ip| networks.iter().any(|n| n.contains_str(ip)))
}

/// The history `plan` asks for, newest first: users resolved (IDs or email addresses, all or
/// nothing), every walk followed to its end, entries filtered as they arrive.
pub async fn run(ctx: &Context, plan: &Plan) -> Result<Vec<Row>> {
    let client = &ctx.client;
    let mut users: Vec<UserId> = Vec::new();
    if !plan.users.is_empty() {
        let org = Org::of(client).await?;
        let mut directory =
            Directory::new(client, org.id, ctx.events.clone(), ctx.stop.clone()).without_names();
        for named in directory.resolve_all(&plan.users, false).await? {
            if !users.contains(&named.user_id) {
                users.push(named.user_id);
            }
        }
    }
    let mut seen = HashSet::new();
    let mut entries: Vec<Entry> = Vec::new();
    for (args, keep) in walks(plan, &users) {
        let mut walk = client.audit_logs(args);
        while let Some(e) = walk.try_next().await.map_err(audit_error)? {
            ctx.stop.check()?;
            // An entry without an id (Slack always gives one) cannot be told twice: kept.
            if keep.keeps(&e)
                && in_networks(&plan.networks, &e)
                && (e.id.is_empty() || seen.insert(e.id.clone()))
            {
                entries.push(e);
            }
        }
    }
    // Stable: entries of the same second keep the order of their walks.
    entries.sort_by_key(|e| std::cmp::Reverse(e.date_create));
    Ok(entries.into_iter().map(Row::from).collect())
}

/// When each of `user`'s sessions last signed in (Unix seconds): their `user_login` entries
/// by `context.session_id`, read in one walk.
pub async fn last_logins(client: &Client, user: &UserId) -> Result<HashMap<SessionId, u64>> {
    let args = AuditLogsArgs::new()
        .limit(PAGE)
        .actor(user.clone())
        .action(action::USER_LOGIN);
    let mut walk = client.audit_logs(args);
    let mut last: HashMap<SessionId, u64> = HashMap::new();
    while let Some(e) = walk.try_next().await.map_err(audit_error)? {
        if let Some(session) = e.session_id() {
            let at = last.entry(session).or_default();
            *at = (*at).max(e.date_create);
        }
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use slack_sessions_client::api::audit_logs::{
        Actor, Context as EntryContext, Entity, EntryUser,
    };

    use super::*;

    const NOW: u64 = 1_798_761_600;

    fn plan(actions: &[&str]) -> Plan {
        Plan {
            actions: actions.iter().map(|a| a.to_string()).collect(),
            ..Plan::default()
        }
    }

    fn described(walks: &[(AuditLogsArgs, Keep)]) -> Vec<String> {
        walks
            .iter()
            .map(|(a, keep)| {
                format!(
                    "actor={} entity={} action={} keep={}",
                    a.actor.as_ref().map_or("-", |u| u.as_str()),
                    a.entity.as_deref().unwrap_or("-"),
                    a.action.as_deref().unwrap_or("-"),
                    match keep {
                        Keep::All => "all",
                        Keep::Naming(_) => "naming",
                    }
                )
            })
            .collect()
    }

    #[test]
    fn a_users_history_is_three_walks_and_one_bulk_walk_serves_every_user() {
        let users = [UserId::new("W1"), UserId::new("W2")];
        let walks = walks(&Plan::default(), &users);
        let by = BY_THE_USER.join(",");
        let on = ON_THE_USER.join(",");
        assert_eq!(
            described(&walks),
            [
                format!("actor=W1 entity=- action={by} keep=all"),
                format!("actor=- entity=W1 action={on} keep=all"),
                format!("actor=W2 entity=- action={by} keep=all"),
                format!("actor=- entity=W2 action={on} keep=all"),
                "actor=- entity=- action=bulk_session_reset_by_admin keep=naming".to_owned(),
            ]
        );
        assert!(walks.iter().all(|(a, _)| a.limit == Some(PAGE)));
    }

    #[test]
    fn actions_go_to_the_walks_that_can_find_them() {
        let users = [UserId::new("W1")];
        let only_logins = walks(&plan(&["user_login"]), &users);
        assert_eq!(
            described(&only_logins),
            ["actor=W1 entity=- action=user_login keep=all"]
        );
        // Neither by nor on the user: asked both ways.
        let other = walks(
            &plan(&["file_downloaded", "bulk_session_reset_by_admin"]),
            &users,
        );
        assert_eq!(
            described(&other),
            [
                "actor=W1 entity=- action=file_downloaded keep=all",
                "actor=- entity=W1 action=file_downloaded keep=all",
                "actor=- entity=- action=bulk_session_reset_by_admin keep=naming",
            ]
        );
        // The org's: one walk of every action asked for.
        assert_eq!(
            described(&walks(&Plan::default(), &[])),
            [format!(
                "actor=- entity=- action={} keep=all",
                action::SESSION_ACTIONS.join(",")
            )]
        );
    }

    #[test]
    fn more_actions_than_one_call_takes_are_split() {
        let many: Vec<&str> = known_actions().take(MAX_ACTIONS + 5).collect();
        let walks = walks(&plan(&many), &[]);
        assert_eq!(walks.len(), 2);
        assert_eq!(walks[0].0.action_names().count(), MAX_ACTIONS);
        assert_eq!(walks[1].0.action_names().count(), 5);
    }

    #[test]
    fn a_bulk_reset_is_kept_for_the_users_it_names() {
        let entry = |users: &str| {
            let admin = EntryUser::new("W9");
            let mut e = Entry::new(
                "b",
                NOW,
                action::BULK_SESSION_RESET_BY_ADMIN,
                Actor::user(admin.clone()),
                Entity::user(admin),
                EntryContext::default(),
            );
            e.details = Some(
                serde_json::from_value(serde_json::json!({"succeeded_users": users})).unwrap(),
            );
            e
        };
        let keep = Keep::Naming([UserId::new("W1")].into_iter().collect());
        assert!(keep.keeps(&entry("W2,W1")));
        assert!(!keep.keeps(&entry("W2,W3")));
        assert!(Keep::All.keeps(&entry("W2")));
    }

    #[test]
    fn the_ip_filter_reads_the_context() {
        let mut e = Entry::default();
        let office = [crate::filter::parse_network("198.51.100.0/24").unwrap()];
        assert!(in_networks(&[], &e));
        assert!(!in_networks(&office, &e), "no IP: outside every network");
        e.context.ip_address = Some("198.51.100.7".into());
        assert!(in_networks(&office, &e));
        e.context.ip_address = Some("203.0.113.7".into());
        assert!(!in_networks(&office, &e));
    }

    #[test]
    fn actions_are_checked_with_close_names() {
        let ok = check_actions(&["user_login,user_logout".into(), "user_login".into()]).unwrap();
        assert_eq!(ok, ["user_login", "user_logout"]);
        let err = check_actions(&["user_logn".into()]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("\"user_logn\"") && text.contains("user_login"),
            "{text}"
        );
        assert!(
            err.hint_text()
                .unwrap()
                .contains("user_session_invalidated")
        );
        assert!(close_names("session_reset").contains(&"user_session_reset_by_admin"));
        assert!(close_names("zzzzzzzz").is_empty());
    }

    #[test]
    fn the_window_is_checked_and_kept_to_what_slack_takes() {
        let ago = |s: &str| Some(crate::when::parse(s).unwrap());
        assert_eq!(Plan::window(None, None, NOW).unwrap(), (None, None));
        assert_eq!(
            Plan::window(ago("7d"), ago("1d"), NOW).unwrap(),
            (Some(NOW - 7 * 86_400), Some(NOW - 86_400))
        );
        // Before March 2018: from then; up to now or later: no bound.
        assert_eq!(
            Plan::window(ago("2010-01-01"), ago("2030-01-01"), NOW).unwrap(),
            (Some(EARLIEST), None)
        );
        assert!(Plan::window(ago("2030-01-01"), None, NOW).is_err());
        assert!(Plan::window(ago("1d"), ago("7d"), NOW).is_err());
        assert!(Plan::window(None, ago("2017-01-01"), NOW).is_err());
    }

    #[test]
    fn a_row_tells_the_client_and_the_session() {
        let user = EntryUser::new("W1");
        let mut ctx = EntryContext::default();
        ctx.ua = Some("com.tinyspeck.chatlyio/24.11.10 (iPhone; iOS 18.1; Scale/3.00)".into());
        ctx.session_id = Some(SessionId(42).into());
        let row = Row::from(Entry::new(
            "x",
            1_793_525_400,
            "user_login",
            Actor::user(user.clone()),
            Entity::user(user),
            ctx,
        ));
        assert_eq!(row.time, "2026-11-01T09:30:00Z");
        assert_eq!(row.client, ClientKind::Mobile);
        assert_eq!(row.session_id, Some(42));
        assert_eq!(row.actor, Some(UserId::new("W1")));
        assert_eq!(row.entity.as_deref(), Some("W1"));
    }
}
