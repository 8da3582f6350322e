//! What each method does, once the request is authenticated and its arguments decoded.
//!
//! Checks follow the contract's order (§3): arguments first, then the entities they name.
//! Users and sessions are looked up in the caller's org only, so another org's user is
//! indistinguishable from one that does not exist.

use std::collections::HashSet;

use slack_sessions_api::methods::*;
use slack_sessions_api::{ErrorCode, Method, SessionId, Status, TeamId, UserId, envelope};

use super::auth::Caller;
use super::failure::{Failure, check_user_count};
use crate::App;
use crate::cursor;
use std::ops::Bound;

use parking_lot::RwLockReadGuard;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::seed::{Role, SettingsSeed, UserSeed};
use crate::store::{AuditEntry, Change, Job, Org, Plan, SessionView, State};

/// A successful answer's body and, for `list`, the next cursor (`""` on the last page).
#[derive(Debug)]
pub struct Reply<T> {
    /// The method's body.
    pub body: T,
    /// `response_metadata.next_cursor`.
    pub next_cursor: Option<String>,
}

impl<T> From<T> for Reply<T> {
    fn from(body: T) -> Self {
        Reply {
            body,
            next_cursor: None,
        }
    }
}

/// A method the emulator answers.
pub trait Handler: Method {
    /// What the answer's body is serialized from: the method's [`Method::Response`], or for
    /// `list` a view of the store that serializes to exactly the same JSON.
    type Body<'a>: Serialize;

    /// Encodes a successful answer (the envelope and the body).
    fn encode(status: &Status, body: &Self::Body<'_>) -> Vec<u8> {
        envelope::encode(status, Some(body))
    }

    /// Executes the call.
    fn handle<'a>(
        app: &'a App,
        caller: &Caller,
        args: Self::Args,
    ) -> Result<Reply<Self::Body<'a>>, Failure>;
}

/// Shortest duration `setSettings` accepts: the schema's 180 s, not the prose's 28,800 s, so
/// that no value a real client sends is refused (contract §4.3).
pub const MIN_DURATION: u64 = 180;
/// Longest duration: ten years.
pub const MAX_DURATION: u64 = 315_569_520;

fn user<'a>(org: &'a Org, id: &UserId) -> Result<&'a UserSeed, Failure> {
    org.users
        .get(id.as_str())
        .ok_or_else(|| Failure::new(ErrorCode::UserNotFound))
}

/// Users named in a list, each once, in the order given.
fn unique(ids: &[UserId]) -> Vec<&UserId> {
    let mut seen = HashSet::new();
    ids.iter().filter(|id| seen.insert(id.as_str())).collect()
}

fn audit(
    org: &Org,
    caller: &Caller,
    method: &str,
    users: Vec<String>,
    sessions: Vec<u64>,
) -> AuditEntry {
    AuditEntry::now(&org.id, &caller.user_id, method, users, sessions)
}

/// The primary owner's sessions may only be ended by the primary owner.
fn protects_primary_owner(caller: &Caller, target: &UserSeed) -> bool {
    target.role == Role::PrimaryOwner && caller.role != Role::PrimaryOwner
}

impl Handler for Invalidate {
    type Body<'a> = Empty;

    fn handle(app: &App, caller: &Caller, args: InvalidateArgs) -> Result<Reply<Empty>, Failure> {
        if args.user_id.is_none() && args.team_id.is_none() {
            return Err(Failure::invalid_arg(
                "user_id",
                "one of user_id or team_id is required",
            ));
        }
        let SessionId(id) = args.session_id;
        app.store.write(|state| {
            let org = &state.orgs[caller.org];
            if let Some(user_id) = &args.user_id {
                user(org, user_id)?;
            }
            let session = org
                .sessions
                .get(&id)
                .filter(|s| {
                    args.user_id
                        .as_ref()
                        .is_none_or(|u| u.as_str() == org.user_of(s))
                })
                .filter(|_| {
                    args.team_id
                        .as_ref()
                        .is_none_or(|t| org.has_team(t.as_str()))
                })
                .ok_or_else(|| Failure::new(ErrorCode::SessionNotFound))?;
            let owner = &org.users[org.user_of(session)];
            if protects_primary_owner(caller, owner) {
                return Err(Failure::new(ErrorCode::CannotInvalidatePrimaryOwner));
            }
            Ok(Plan {
                value: Empty {}.into(),
                changes: vec![Change::RemoveSessions {
                    org: caller.org,
                    ids: vec![id],
                }],
                audit: Some(audit(
                    org,
                    caller,
                    Self::NAME,
                    vec![owner.id.clone()],
                    vec![id],
                )),
            })
        })
    }
}

/// Checks a user a reset may target.
fn resettable<'a>(org: &'a Org, caller: &Caller, id: &UserId) -> Result<&'a UserSeed, Failure> {
    let target = user(org, id)?;
    if target.is_bot {
        return Err(Failure::new(ErrorCode::CannotResetBot));
    }
    if protects_primary_owner(caller, target) {
        return Err(Failure::new(ErrorCode::CannotResetPrimaryOwner));
    }
    Ok(target)
}

/// The sessions of `users` that a reset with these flags ends.
pub fn sessions_to_reset(
    org: &Org,
    users: &[String],
    mobile_only: bool,
    web_only: bool,
) -> Vec<u64> {
    users
        .iter()
        .flat_map(|u| org.sessions_of(u))
        .filter(|id| org.sessions[id].client.matches(mobile_only, web_only))
        .collect()
}

impl Handler for Reset {
    type Body<'a> = Empty;

    fn handle(app: &App, caller: &Caller, args: ResetArgs) -> Result<Reply<Empty>, Failure> {
        let (mobile, web) = (
            args.mobile_only.unwrap_or(false),
            args.web_only.unwrap_or(false),
        );
        app.store.write(|state| {
            let org = &state.orgs[caller.org];
            let target = resettable(org, caller, &args.user_id)?;
            let users = vec![target.id.clone()];
            let ids = sessions_to_reset(org, &users, mobile, web);
            Ok(Plan {
                value: Empty {}.into(),
                changes: vec![Change::RemoveSessions {
                    org: caller.org,
                    ids: ids.clone(),
                }],
                audit: Some(audit(org, caller, Self::NAME, users, ids)),
            })
        })
    }
}

impl Handler for ResetBulk {
    type Body<'a> = Empty;

    fn handle(app: &App, caller: &Caller, args: ResetBulkArgs) -> Result<Reply<Empty>, Failure> {
        check_user_count(&args.user_ids, "user_ids")?;
        let job = app.store.write(|state| {
            let org = &state.orgs[caller.org];
            let mut users = Vec::new();
            for id in unique(&args.user_ids) {
                users.push(resettable(org, caller, id)?.id.clone());
            }
            let job = Job {
                id: app.store.next_job_id(),
                org_id: org.id.clone(),
                user_ids: users.clone(),
                mobile_only: args.mobile_only.unwrap_or(false),
                web_only: args.web_only.unwrap_or(false),
                due_ms: crate::clock::now_ms() + app.config.bulk_delay.as_millis() as u64,
            };
            Ok::<_, Failure>(Plan {
                value: job.clone(),
                changes: vec![Change::AddJob(job)],
                audit: Some(audit(org, caller, Self::NAME, users, vec![])),
            })
        })?;
        app.jobs.schedule(job);
        Ok(Empty {}.into())
    }
}

/// A page of `list`, serialized straight from the store under its read lock. It serializes to
/// exactly the JSON of [`ListResponse`] (tested in `store::compact`), without building owned
/// strings for every session.
pub struct ListPage<'a> {
    state: RwLockReadGuard<'a, State>,
    org: usize,
    ids: Vec<u64>,
}

impl std::fmt::Debug for ListPage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListPage")
            .field("org", &self.org)
            .field("ids", &self.ids)
            .finish()
    }
}

struct PageSessions<'a>(&'a Org, &'a [u64]);

impl Serialize for PageSessions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let org = self.0;
        s.collect_seq(self.1.iter().map(|id| SessionView {
            id: *id,
            session: &org.sessions[id],
            strings: &org.strings,
        }))
    }
}

impl Serialize for ListPage<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(
            "active_sessions",
            &PageSessions(&self.state.orgs[self.org], &self.ids),
        )?;
        map.end()
    }
}

/// Slack's default and maximum page size.
pub const MAX_LIMIT: u32 = 1000;

impl Handler for List {
    type Body<'a> = ListPage<'a>;

    /// The hot path: the envelope through serde, then each session's pre-escaped JSON appended
    /// into one buffer sized up front. The bytes are those of the serde path (tested).
    fn encode(status: &Status, page: &ListPage<'_>) -> Vec<u8> {
        let mut out = envelope::encode::<()>(status, None);
        out.reserve(32 + page.ids.len() * 320);
        out.pop(); // the envelope's closing brace
        out.extend_from_slice(b",\"active_sessions\":[");
        let org = &page.state.orgs[page.org];
        for (i, id) in page.ids.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let view = SessionView {
                id: *id,
                session: &org.sessions[id],
                strings: &org.strings,
            };
            view.write_json(&mut out);
        }
        out.extend_from_slice(b"]}");
        out
    }

    fn handle<'a>(
        app: &'a App,
        caller: &Caller,
        args: ListArgs,
    ) -> Result<Reply<ListPage<'a>>, Failure> {
        let filter = match (&args.team_id, &args.user_id) {
            (Some(_), None) => return Err(Failure::new(ErrorCode::MissingUser)),
            (None, Some(_)) => return Err(Failure::new(ErrorCode::MissingTeam)),
            (Some(team), Some(user)) => Some((team, user)),
            (None, None) => None,
        };
        let limit = args.limit.unwrap_or(MAX_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Failure::invalid_arg(
                "limit",
                "must be between 1 - 1000 both inclusive",
            ));
        }
        let after = match args.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                Some(cursor::decode(c).ok_or_else(|| Failure::new(ErrorCode::InvalidCursor))?)
            }
        };
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let state = app.store.read();
        let org = &state.orgs[caller.org];
        let limit = limit as usize;
        // One more than asked for tells whether another page follows.
        let mut ids: Vec<u64> = match filter {
            Some((team, user_id)) => {
                if !org.has_team(team.as_str()) {
                    return Err(Failure::new(ErrorCode::TeamNotFound));
                }
                if user(org, user_id)?.is_bot {
                    return Err(Failure::new(ErrorCode::BotsNotAllowed));
                }
                let whole_org = team.as_str() == org.id;
                let team_sym = org.strings.lookup(team.as_str());
                org.strings
                    .lookup(user_id.as_str())
                    .and_then(|u| org.by_user.get(&u))
                    .into_iter()
                    .flat_map(|set| set.range((start, Bound::Unbounded)))
                    .filter(|id| whole_org || Some(org.sessions[id].team) == team_sym)
                    .take(limit + 1)
                    .copied()
                    .collect()
            }
            None => org
                .sessions
                .range((start, Bound::Unbounded))
                .filter(|(_, s)| !org.bots.contains(&s.user))
                .take(limit + 1)
                .map(|(id, _)| *id)
                .collect(),
        };
        let next_cursor = if ids.len() > limit {
            ids.truncate(limit);
            cursor::encode(*ids.last().expect("limit is at least 1"))
        } else {
            String::new()
        };
        let org = caller.org;
        Ok(Reply {
            body: ListPage { state, org, ids },
            next_cursor: Some(next_cursor),
        })
    }
}

/// The users of a settings call, each checked: known in the caller's org and not a bot.
fn settings_users<'a>(org: &'a Org, ids: &[UserId]) -> Result<Vec<&'a UserSeed>, Failure> {
    check_user_count(ids, "user_ids")?;
    let mut out = Vec::with_capacity(ids.len());
    for id in unique(ids) {
        let u = user(org, id)?;
        if u.is_bot {
            return Err(Failure::new(ErrorCode::BotsNotAllowed));
        }
        out.push(u);
    }
    Ok(out)
}

impl Handler for GetSettings {
    type Body<'a> = GetSettingsResponse;

    fn handle(
        app: &App,
        caller: &Caller,
        args: GetSettingsArgs,
    ) -> Result<Reply<GetSettingsResponse>, Failure> {
        let state = app.store.read();
        let org = &state.orgs[caller.org];
        let mut with = Vec::new();
        let mut without = Vec::new();
        for u in settings_users(org, &args.user_ids)? {
            match org.settings.get(&u.id) {
                Some(s) => with.push(SessionSetting::new(
                    UserId::new(u.id.as_str()),
                    s.desktop_app_browser_quit,
                    s.duration,
                )),
                None => without.push(UserId::new(u.id.as_str())),
            }
        }
        Ok(GetSettingsResponse::new(with, without).into())
    }
}

impl Handler for SetSettings {
    type Body<'a> = Empty;

    fn handle(app: &App, caller: &Caller, args: SetSettingsArgs) -> Result<Reply<Empty>, Failure> {
        check_user_count(&args.user_ids, "user_ids")?;
        if args.duration.is_none() && args.desktop_app_browser_quit.is_none() {
            return Err(Failure::new(ErrorCode::AtLeastOneSessionSettingRequired));
        }
        if let Some(d) = args.duration
            && !(MIN_DURATION..=MAX_DURATION).contains(&d)
        {
            return Err(Failure::invalid_arg(
                "duration",
                &format!("must be between {MIN_DURATION} and {MAX_DURATION} seconds"),
            ));
        }
        app.store.write(|state| {
            let org = &state.orgs[caller.org];
            let users = settings_users(org, &args.user_ids)?;
            let settings: Vec<SettingsSeed> = users
                .iter()
                .map(|u| {
                    let old = org.settings.get(&u.id);
                    SettingsSeed {
                        user_id: u.id.clone(),
                        duration: args.duration.or(old.and_then(|o| o.duration)),
                        desktop_app_browser_quit: args
                            .desktop_app_browser_quit
                            .or(old.and_then(|o| o.desktop_app_browser_quit)),
                    }
                })
                .collect();
            let ids = users.iter().map(|u| u.id.clone()).collect();
            Ok(Plan {
                value: Empty {}.into(),
                changes: vec![Change::PutSettings {
                    org: caller.org,
                    settings,
                }],
                audit: Some(audit(org, caller, Self::NAME, ids, vec![])),
            })
        })
    }
}

impl Handler for ClearSettings {
    type Body<'a> = Empty;

    fn handle(
        app: &App,
        caller: &Caller,
        args: ClearSettingsArgs,
    ) -> Result<Reply<Empty>, Failure> {
        app.store.write(|state| {
            let org = &state.orgs[caller.org];
            let users: Vec<String> = settings_users(org, &args.user_ids)?
                .iter()
                .map(|u| u.id.clone())
                .collect();
            Ok(Plan {
                value: Empty {}.into(),
                changes: vec![Change::DeleteSettings {
                    org: caller.org,
                    users: users.clone(),
                }],
                audit: Some(audit(org, caller, Self::NAME, users, vec![])),
            })
        })
    }
}

fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if s.is_empty() { "org".into() } else { s }
}

impl Handler for AuthTest {
    type Body<'a> = AuthTestResponse;

    fn handle(
        app: &App,
        caller: &Caller,
        _: AuthTestArgs,
    ) -> Result<Reply<AuthTestResponse>, Failure> {
        let state = app.store.read();
        let org = &state.orgs[caller.org];
        let me = &org.users[&caller.user_id];
        let mut who =
            AuthTestResponse::new(TeamId::new(org.id.as_str()), UserId::new(me.id.as_str()));
        who.url = if org.grid {
            format!("https://{}.enterprise.slack.com/", slug(&org.name))
        } else {
            format!("https://{}.slack.com/", slug(&org.name))
        };
        who.team = org.name.clone();
        who.user = me.name.clone();
        if org.grid {
            who.enterprise_id = Some(TeamId::new(org.id.as_str()));
            who.is_enterprise_install = true;
        }
        if me.is_bot {
            who.bot_id = Some(format!("B{}", me.id.trim_start_matches(['U', 'W'])));
        }
        Ok(who.into())
    }
}

impl Handler for LookupByEmail {
    type Body<'a> = LookupByEmailResponse;

    fn handle(
        app: &App,
        caller: &Caller,
        args: LookupByEmailArgs,
    ) -> Result<Reply<LookupByEmailResponse>, Failure> {
        if args.email.trim().is_empty() {
            return Err(Failure::invalid_arg("email", "must not be empty"));
        }
        let state = app.store.read();
        let org = &state.orgs[caller.org];
        let u = org
            .emails
            .get(&args.email.trim().to_ascii_lowercase())
            .and_then(|id| org.users.get(id))
            .ok_or_else(|| Failure::new(ErrorCode::UsersNotFound))?;
        let mut found = User::new(UserId::new(u.id.as_str()), u.name.as_str());
        found.team_id = Some(TeamId::new(
            u.teams.first().map_or(org.id.as_str(), String::as_str),
        ));
        found.deleted = u.deleted;
        found.is_bot = u.is_bot;
        found.is_primary_owner = u.role == Role::PrimaryOwner;
        found.is_owner = matches!(u.role, Role::PrimaryOwner | Role::Owner);
        found.is_admin = u.role.is_admin();
        found.profile.email = u.email.clone();
        Ok(LookupByEmailResponse::new(found).into())
    }
}
