//! What each method does, once its caller is authenticated and its arguments decoded and
//! validated.
//!
//! A handler reads through the store's query API ([`View`], [`OrgView`]) and answers with
//! [`Changes`]: what it asks the store to write (nothing, for a read) and, as their value, the
//! encoded answer, sent once they are committed. Users and sessions are looked up in the
//! caller's org only, so another org's user is indistinguishable from one that does not exist.

use std::collections::HashSet;

use serde::Serialize;
use slack_sessions_api::methods::*;
use slack_sessions_api::validate::{MAX_LIST_LIMIT, MAX_USERS_LIST_LIMIT};
use slack_sessions_api::{
    ErrorCode, Method, SessionId, Status, TeamId, UserId, WarningCode, envelope,
};

use super::auth::Caller;
use super::error_answer::ErrorAnswer;
use super::user_object::{SLACKBOT, bot_id, user_object};
use crate::App;
use crate::audit_logs::{Peer, events};
use crate::cursor::{self, Kind};
use crate::seed::{Role, SettingsSeed, UserSeed};
use crate::store::{AuditEntry, Change, Changes, Job, LogRecord, OrgView, SessionFilter};
use slack_sessions_api::audit_logs::{ContextSessionId, Details, Entity, action};

/// Everything a handler sees: the caller, borrowed from the view it was authenticated against
/// (every read goes through `caller.org`), and the request's warnings.
#[derive(Debug)]
pub struct Call<'s> {
    /// The emulator (settings, job ids).
    pub app: &'s App,
    /// Who is calling.
    pub caller: Caller<'s>,
    /// Warnings the request earned (they go on the answer).
    pub warnings: &'s [WarningCode],
    /// Where the call came from (the context of its audit-log entries).
    pub peer: &'s Peer,
}

/// A call's answer, and a `resetBulk` job to schedule once the answer's changes are committed.
#[derive(Debug)]
pub struct Done {
    /// The JSON body.
    pub body: Vec<u8>,
    /// A job queued by the call.
    pub job: Option<Job>,
}

impl Call<'_> {
    fn status(&self) -> Status {
        Status::success(self.warnings)
    }

    /// `ok:true` with `body`.
    fn ok<T: Serialize>(&self, body: &T) -> Done {
        Done {
            body: envelope::encode(&self.status(), Some(body)),
            job: None,
        }
    }

    /// `ok:true` with `body` and `response_metadata.next_cursor` (`""` on the last page).
    fn ok_page<T: Serialize>(&self, body: &T, next_cursor: String) -> Done {
        let mut status = self.status();
        status.metadata_mut().next_cursor = Some(next_cursor);
        Done {
            body: envelope::encode(&status, Some(body)),
            job: None,
        }
    }

    /// An entry of the org's audit log (Slack's Audit Logs API) for the caller's `action` on
    /// `entity`: an action its token's app took, in the context of this call.
    fn log(&self, action: &str, entity: Entity, details: Option<Details>) -> LogRecord {
        let org = self.caller.org.into();
        let context = events::call_context(org, self.peer, self.caller.token);
        let mut record = events::record(org, action, self.caller.user, entity, context);
        record.entry.details = details;
        record
    }

    /// [`log`](Self::log) with a user as the entity.
    fn log_user(&self, action: &str, user: &UserSeed, details: Option<Details>) -> LogRecord {
        let entity = Entity::user(events::user(self.caller.org.into(), user));
        self.log(action, entity, details)
    }

    /// An audit entry for a change made by the caller.
    fn audit(&self, method: &str, users: Vec<String>, sessions: Vec<u64>) -> AuditEntry {
        AuditEntry::now(
            self.caller.org.id(),
            &self.caller.user.id,
            method,
            users,
            sessions,
        )
    }
}

/// A method the emulator answers. Every method of the catalogue must have one: the router is
/// generated from `for_each_method!` and calls `handle` of each.
pub trait Handler: Method {
    /// Executes the call.
    fn handle(call: &Call<'_>, args: Self::Args) -> Result<Changes<Done>, ErrorAnswer>;
}

fn user<'s>(org: OrgView<'s>, id: &UserId) -> Result<&'s UserSeed, ErrorAnswer> {
    org.user(id.as_str())
        .ok_or_else(|| ErrorAnswer::new(ErrorCode::UserNotFound))
}

/// Users named in a list, each once, in the order given.
fn unique(ids: &[UserId]) -> Vec<&UserId> {
    let mut seen = HashSet::new();
    ids.iter().filter(|id| seen.insert(id.as_str())).collect()
}

/// The primary owner's sessions may only be ended by the primary owner.
fn protects_primary_owner(caller: &Caller<'_>, target: &UserSeed) -> bool {
    target.role == Role::PrimaryOwner && caller.role() != Role::PrimaryOwner
}

impl Handler for Invalidate {
    /// `team_id` (the legacy form) must name the session's workspace or the org: the docs
    /// describe it as "the workspace the session belongs to", so a session looked for in
    /// another workspace is not found there.
    fn handle(call: &Call<'_>, args: InvalidateArgs) -> Result<Changes<Done>, ErrorAnswer> {
        let org = call.caller.org;
        let SessionId(id) = args.session_id;
        if let Some(user_id) = &args.user_id {
            user(org, user_id)?;
        }
        let session = org
            .session(id)
            .filter(|s| {
                args.user_id
                    .as_ref()
                    .is_none_or(|u| u.as_str() == s.user_id)
            })
            .filter(|s| {
                args.team_id
                    .as_ref()
                    .is_none_or(|t| t.as_str() == s.team_id || t.as_str() == org.id())
            })
            .ok_or_else(|| ErrorAnswer::new(ErrorCode::SessionNotFound))?;
        let owner = org
            .user(session.user_id)
            .ok_or_else(|| ErrorAnswer::new(ErrorCode::SessionNotFound))?;
        if protects_primary_owner(&call.caller, owner) {
            return Err(ErrorAnswer::new(ErrorCode::CannotInvalidatePrimaryOwner));
        }
        // The session it ended is the entry's session.
        let mut log = call.log_user(action::USER_SESSION_INVALIDATED, owner, None);
        log.entry.context.session_id = Some(ContextSessionId::Number(id));
        Ok(Changes {
            value: call.ok(&Empty {}),
            changes: vec![Change::RemoveSessions {
                org: org.key(),
                ids: vec![id],
            }],
            audit: Some(call.audit(Self::NAME, vec![owner.id.clone()], vec![id])),
            audit_logs: vec![log],
        })
    }
}

/// Checks a user a reset may target.
fn resettable<'s>(
    org: OrgView<'s>,
    caller: &Caller<'_>,
    id: &UserId,
) -> Result<&'s UserSeed, ErrorAnswer> {
    let target = user(org, id)?;
    if target.is_bot {
        return Err(ErrorAnswer::new(ErrorCode::CannotResetBot));
    }
    if protects_primary_owner(caller, target) {
        return Err(ErrorAnswer::new(ErrorCode::CannotResetPrimaryOwner));
    }
    Ok(target)
}

impl Handler for Reset {
    fn handle(call: &Call<'_>, args: ResetArgs) -> Result<Changes<Done>, ErrorAnswer> {
        let org = call.caller.org;
        let target = resettable(org, &call.caller, &args.user_id)?;
        let users = vec![target.id.clone()];
        let (mobile_only, web_only) = (
            args.mobile_only.unwrap_or(false),
            args.web_only.unwrap_or(false),
        );
        let ids = org.sessions_to_reset(&users, mobile_only, web_only);
        let mut details = Details::default();
        details.mobile_only = Some(mobile_only);
        details.web_only = Some(web_only);
        Ok(Changes {
            value: call.ok(&Empty {}),
            changes: vec![Change::RemoveSessions {
                org: org.key(),
                ids: ids.clone(),
            }],
            audit: Some(call.audit(Self::NAME, users, ids)),
            audit_logs: vec![call.log_user(
                action::USER_SESSION_RESET_BY_ADMIN,
                target,
                Some(details),
            )],
        })
    }
}

impl Handler for ResetBulk {
    fn handle(call: &Call<'_>, args: ResetBulkArgs) -> Result<Changes<Done>, ErrorAnswer> {
        let org = call.caller.org;
        let mut users = Vec::new();
        for id in unique(&args.user_ids) {
            users.push(resettable(org, &call.caller, id)?.id.clone());
        }
        let job = Job {
            id: call.app.store.next_job_id(),
            org_id: org.id().to_owned(),
            user_ids: users.clone(),
            mobile_only: args.mobile_only.unwrap_or(false),
            web_only: args.web_only.unwrap_or(false),
            due_ms: crate::clock::now_ms() + call.app.config.bulk_delay.as_millis() as u64,
        };
        let mut done = call.ok(&Empty {});
        done.job = Some(job.clone());
        // One entry for the call, about the org. The emulator refuses a call with a user it
        // cannot reset, so nobody is left for `failed_users`.
        let mut details = Details::default();
        details.succeeded_users = Some(users.iter().map(UserId::new).collect());
        details.failed_users = Some(Vec::new());
        let entity = events::org_entity(org.into());
        Ok(Changes {
            value: done,
            changes: vec![Change::AddJob(job)],
            audit: Some(call.audit(Self::NAME, users, vec![])),
            audit_logs: vec![call.log(action::BULK_SESSION_RESET_BY_ADMIN, entity, Some(details))],
        })
    }
}

impl Handler for List {
    fn handle(call: &Call<'_>, args: ListArgs) -> Result<Changes<Done>, ErrorAnswer> {
        let org = call.caller.org;
        let filter = match (&args.team_id, &args.user_id) {
            (Some(team), Some(user_id)) => {
                if !org.has_team(team.as_str()) {
                    return Err(ErrorAnswer::new(ErrorCode::TeamNotFound));
                }
                if user(org, user_id)?.is_bot {
                    return Err(ErrorAnswer::new(ErrorCode::BotsNotAllowed));
                }
                SessionFilter::User {
                    user: user_id.as_str(),
                    team: team.as_str(),
                }
            }
            _ => SessionFilter::All,
        };
        // The cursor is bound to the org and the filter it was issued for.
        let scope = match filter {
            SessionFilter::All => format!("{}|", org.id()),
            SessionFilter::User { user, team } => format!("{}|{team}|{user}", org.id()),
        };
        let after = match args.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                cursor::decode_session(c, &scope)
                    .ok_or_else(|| ErrorAnswer::new(ErrorCode::InvalidCursor))?,
            ),
        };
        let limit = args.limit.unwrap_or(MAX_LIST_LIMIT) as usize;
        let mut page = org.list_page(after, limit, filter);
        let next_cursor = page
            .truncate(limit)
            .map(|last| cursor::encode_session(last, &scope))
            .unwrap_or_default();
        if page.is_empty()
            && matches!(filter, SessionFilter::User { .. })
            && call.app.config.no_active_sessions
        {
            return Err(ErrorAnswer::new(ErrorCode::NoActiveSessions));
        }
        // The hot path: the sessions' pre-escaped JSON inside the envelope.
        let mut status = call.status();
        status.metadata_mut().next_cursor = Some(next_cursor);
        let body = envelope::encode_members(&status, |out| {
            out.extend_from_slice(b"\"active_sessions\":");
            page.write_json_array(out);
        });
        Ok(Changes::nothing(Done { body, job: None }))
    }
}

/// The users of a settings call, each checked: known in the caller's org and not a bot.
fn settings_users<'s>(org: OrgView<'s>, ids: &[UserId]) -> Result<Vec<&'s UserSeed>, ErrorAnswer> {
    let mut out = Vec::with_capacity(ids.len());
    for id in unique(ids) {
        let u = user(org, id)?;
        if u.is_bot {
            return Err(ErrorAnswer::new(ErrorCode::BotsNotAllowed));
        }
        out.push(u);
    }
    Ok(out)
}

impl Handler for GetSettings {
    fn handle(call: &Call<'_>, args: GetSettingsArgs) -> Result<Changes<Done>, ErrorAnswer> {
        let org = call.caller.org;
        let mut with = Vec::new();
        let mut without = Vec::new();
        for u in settings_users(org, &args.user_ids)? {
            match org.settings(&u.id) {
                Some(s) => with.push(SessionSetting::new(
                    UserId::new(u.id.as_str()),
                    s.desktop_app_browser_quit,
                    s.duration,
                )),
                None => without.push(UserId::new(u.id.as_str())),
            }
        }
        Ok(Changes::nothing(
            call.ok(&GetSettingsResponse::new(with, without)),
        ))
    }
}

impl Handler for SetSettings {
    fn handle(call: &Call<'_>, args: SetSettingsArgs) -> Result<Changes<Done>, ErrorAnswer> {
        let org = call.caller.org;
        let users = settings_users(org, &args.user_ids)?;
        let settings: Vec<SettingsSeed> = users
            .iter()
            .map(|u| {
                let old = org.settings(&u.id);
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
        // One entry per user, with the settings it now has.
        let logs = users
            .iter()
            .zip(&settings)
            .map(|(u, s)| {
                let mut details = Details::default();
                details.duration = s.duration;
                details.desktop_app_browser_quit = s.desktop_app_browser_quit;
                call.log_user(action::USER_SESSION_SETTINGS_CHANGED, u, Some(details))
            })
            .collect();
        Ok(Changes {
            value: call.ok(&Empty {}),
            changes: vec![Change::PutSettings {
                org: org.key(),
                settings,
            }],
            audit: Some(call.audit(Self::NAME, ids, vec![])),
            audit_logs: logs,
        })
    }
}

impl Handler for ClearSettings {
    fn handle(call: &Call<'_>, args: ClearSettingsArgs) -> Result<Changes<Done>, ErrorAnswer> {
        let org = call.caller.org;
        let targets = settings_users(org, &args.user_ids)?;
        let users: Vec<String> = targets.iter().map(|u| u.id.clone()).collect();
        // One entry per user, without details: the org's defaults apply again.
        let logs = targets
            .iter()
            .map(|u| call.log_user(action::USER_SESSION_SETTINGS_CHANGED, u, None))
            .collect();
        Ok(Changes {
            value: call.ok(&Empty {}),
            changes: vec![Change::DeleteSettings {
                org: org.key(),
                users: users.clone(),
            }],
            audit: Some(call.audit(Self::NAME, users, vec![])),
            audit_logs: logs,
        })
    }
}

impl Handler for AuthTest {
    fn handle(call: &Call<'_>, _: AuthTestArgs) -> Result<Changes<Done>, ErrorAnswer> {
        let org = call.caller.org;
        let me = call.caller.user;
        let mut who = AuthTestResponse::new(TeamId::new(org.id()), UserId::new(me.id.as_str()));
        who.url = if org.grid() {
            format!(
                "https://{}.enterprise.slack.com/",
                events::domain(org.name())
            )
        } else {
            format!("https://{}.slack.com/", events::domain(org.name()))
        };
        who.team = org.name().to_owned();
        who.user = me.name.clone();
        if org.grid() {
            who.enterprise_id = Some(TeamId::new(org.id()));
            who.is_enterprise_install = true;
        }
        if me.is_bot {
            who.bot_id = Some(bot_id(&me.id));
        }
        Ok(Changes::nothing(call.ok(&who)))
    }
}

impl Handler for LookupByEmail {
    fn handle(call: &Call<'_>, args: LookupByEmailArgs) -> Result<Changes<Done>, ErrorAnswer> {
        let org = call.caller.org;
        // Slack's method page: "If the user has been deactivated, users_not_found will be
        // returned instead."
        let u = org
            .user_by_email(&args.email)
            .filter(|u| !u.deleted)
            .ok_or_else(|| ErrorAnswer::new(ErrorCode::UsersNotFound))?;
        let found = user_object(&call.caller, u, false);
        Ok(Changes::nothing(
            call.ok(&LookupByEmailResponse::new(found)),
        ))
    }
}

impl Handler for UsersInfo {
    fn handle(call: &Call<'_>, args: UsersInfoArgs) -> Result<Changes<Done>, ErrorAnswer> {
        let u = match user(call.caller.org, &args.user) {
            Err(_) if args.user.as_str() == UserId::SLACKBOT => &*SLACKBOT,
            found => found?,
        };
        let found = user_object(&call.caller, u, args.include_locale.unwrap_or(false));
        Ok(Changes::nothing(call.ok(&UsersInfoResponse::new(found))))
    }
}

impl Handler for UsersList {
    /// Slack's docs require `team_id` with an org-wide token ("required if org token is
    /// used"); the emulator also takes the org id there (every user of the org), which no
    /// source rules out. A workspace's token lists its workspace, whatever `team_id` says (Slack
    /// ignores it there). Without `limit` Slack tries to send every user, and answers
    /// `limit_required` for a large team: here, more than one page's worth. Slackbot is listed
    /// in every workspace, in id order like everyone.
    fn handle(call: &Call<'_>, args: UsersListArgs) -> Result<Changes<Done>, ErrorAnswer> {
        let org = call.caller.org;
        let team = match args.team_id.as_ref().map(TeamId::as_str) {
            _ if !org.grid() => org.id(),
            Some(team) if org.has_team(team) => team,
            Some(_) => {
                return Err(ErrorAnswer::new(ErrorCode::InvalidArguments)
                    .message("team_id is not a workspace of this org [json-pointer:/team_id]"));
            }
            None => {
                return Err(ErrorAnswer::new(ErrorCode::MissingArgument)
                    .message("team_id is required with an org-wide token"));
            }
        };
        let scope = format!("{}|{team}", org.id());
        let after = match args.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                cursor::decode(c, Kind::User, &scope)
                    .ok_or_else(|| ErrorAnswer::new(ErrorCode::InvalidCursor))?,
            ),
        };
        let limit = match args.limit.filter(|l| *l > 0) {
            Some(l) => l.min(MAX_USERS_LIST_LIMIT) as usize,
            None => {
                let whole = org.users_after(None, team, MAX_USERS_LIST_LIMIT as usize);
                if whole.len() > MAX_USERS_LIST_LIMIT as usize {
                    return Err(ErrorAnswer::new(ErrorCode::LimitRequired));
                }
                MAX_USERS_LIST_LIMIT as usize
            }
        };
        let mut users = org.users_after(after.as_deref(), team, limit);
        with_slackbot(&mut users, after.as_deref(), limit);
        let next_cursor = if users.len() > limit {
            users.truncate(limit);
            let last = users.last().map_or("", |u| u.id.as_str());
            cursor::encode(Kind::User, last, &scope)
        } else {
            String::new()
        };
        let locale = args.include_locale.unwrap_or(false);
        let members = users
            .into_iter()
            .map(|u| user_object(&call.caller, u, locale))
            .collect();
        let body = UsersListResponse::new(members, crate::clock::now_ms() / 1000);
        Ok(Changes::nothing(call.ok_page(&body, next_cursor)))
    }
}

/// Adds Slackbot to a page of `users.list` (users after `after` in id order, at most `limit`
/// plus the one that tells whether another page follows) where its id falls.
fn with_slackbot(users: &mut Vec<&UserSeed>, after: Option<&str>, limit: usize) {
    if after.is_some_and(|after| after >= UserId::SLACKBOT)
        || users.iter().any(|u| u.id == UserId::SLACKBOT)
    {
        return;
    }
    let at = users.partition_point(|u| u.id.as_str() < UserId::SLACKBOT);
    if at <= limit {
        users.insert(at, &SLACKBOT);
        users.truncate(limit.saturating_add(1));
    }
}
