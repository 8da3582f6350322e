//! The store's query API: what the request path, the control plane and the job runner may ask
//! of one consistent state.
//!
//! A [`View`] lives only inside [`Store::read`](super::Store::read) or
//! [`Store::write`](super::Store::write), so everything read through it (an [`OrgView`], a user,
//! a page of sessions) comes from the one state the caller was authenticated against: the borrow
//! checker, not a convention, keeps a request from mixing two states.

use std::ops::Bound;

use serde::ser::{Serialize, Serializer};

use super::compact::{Session, SessionView};
use super::state::{Job, Org, OrgKey, State};
use crate::seed::{ClientKind, Seed, SessionSeed, SettingsSeed, TeamSeed, TokenSeed, UserSeed};

/// Whether a reset with these flags wipes a session on a client of `kind`: `mobile_only` only
/// mobile ones, `web_only` every other kind (web and desktop; `unknown` too, as Slack's
/// [`Platform::Web`](slack_sessions_api::methods::Platform::Web) covers it), both or neither flag
/// every kind.
pub(crate) fn reset_wipes(kind: ClientKind, mobile_only: bool, web_only: bool) -> bool {
    match (mobile_only, web_only) {
        (true, false) => kind == ClientKind::Mobile,
        (false, true) => kind != ClientKind::Mobile,
        _ => true,
    }
}

/// One consistent state, read-only.
#[derive(Clone, Copy, Debug)]
pub struct View<'s> {
    state: &'s State,
}

/// A token and its org.
#[derive(Clone, Copy, Debug)]
pub struct TokenView<'s> {
    /// The token's record.
    pub seed: &'s TokenSeed,
    /// The org that issued it.
    pub org: OrgView<'s>,
}

impl<'s> View<'s> {
    pub(super) fn new(state: &'s State) -> Self {
        View { state }
    }

    /// The token with this secret (compared in constant time).
    pub fn token(self, secret: &str) -> Option<TokenView<'s>> {
        let token = self.state.tokens.get(secret)?;
        Some(TokenView {
            seed: &token.seed,
            org: self.org(token.org),
        })
    }

    fn org(self, key: OrgKey) -> OrgView<'s> {
        OrgView {
            org: &self.state.orgs[key.0],
            key,
        }
    }

    /// The org with this id.
    pub fn org_by_id(self, id: &str) -> Option<OrgView<'s>> {
        self.state.org_key(id).map(|k| self.org(k))
    }

    /// Every org, in seed order.
    pub fn orgs(self) -> impl Iterator<Item = OrgView<'s>> {
        (0..self.state.orgs.len()).map(move |i| self.org(OrgKey(i)))
    }

    /// The org that has this user.
    pub fn org_of_user(self, user_id: &str) -> Option<OrgView<'s>> {
        self.orgs().find(|o| o.user(user_id).is_some())
    }

    /// A queued `resetBulk` job.
    pub fn job(self, id: u64) -> Option<&'s Job> {
        self.state.jobs.get(&id)
    }

    /// Every queued `resetBulk` job.
    pub fn jobs(self) -> impl Iterator<Item = &'s Job> {
        self.state.jobs.values()
    }

    /// The highest session id ever given out, sessions since ended included: an automatic id
    /// is above it, so none is given twice.
    pub fn last_session_id(self) -> u64 {
        self.state.last_session_id
    }

    /// Whether a session id is taken in any org.
    pub fn session_exists(self, id: u64) -> bool {
        self.state.session_exists(id)
    }

    /// The whole state in the seed's shape.
    pub fn to_seed(self) -> Seed {
        self.state.to_seed()
    }
}

/// One org of a [`View`].
#[derive(Clone, Copy, Debug)]
pub struct OrgView<'s> {
    org: &'s Org,
    key: OrgKey,
}

/// Which sessions a `list` call asks for.
#[derive(Clone, Copy, Debug)]
pub enum SessionFilter<'a> {
    /// Every session of the org (bots' excepted).
    All,
    /// One user's sessions: on one workspace, or anywhere in the org when `team` is the org id.
    User {
        /// The user.
        user: &'a str,
        /// The workspace, or the org id.
        team: &'a str,
    },
}

impl<'s> OrgView<'s> {
    /// The key that [`Change`](super::Change)s name this org by.
    pub fn key(self) -> OrgKey {
        self.key
    }

    /// `E…`, or `T…` for a standalone workspace.
    pub fn id(self) -> &'s str {
        &self.org.id
    }

    /// The display name.
    pub fn name(self) -> &'s str {
        &self.org.name
    }

    /// An Enterprise Grid org.
    pub fn grid(self) -> bool {
        self.org.grid
    }

    /// The workspaces, in seed order.
    pub fn teams(self) -> &'s [TeamSeed] {
        &self.org.teams
    }

    /// Whether `id` names this org or one of its workspaces.
    pub fn has_team(self, id: &str) -> bool {
        self.org.has_team(id)
    }

    /// A user of this org.
    pub fn user(self, id: &str) -> Option<&'s UserSeed> {
        self.org.users.get(id)
    }

    /// Whether `user_id` authorized app `app_id` (holds an active user token of it).
    pub fn authorized(self, app_id: &str, user_id: &str) -> bool {
        self.org
            .app_users
            .get(app_id)
            .is_some_and(|users| users.contains(user_id))
    }

    /// The app of a bot user's bot token, if it has one.
    pub fn bot_app(self, user_id: &str) -> Option<&'s str> {
        self.org.bot_apps.get(user_id).map(String::as_str)
    }

    /// How many users the org has (bots included).
    pub fn user_count(self) -> usize {
        self.org.users.len()
    }

    /// How many active sessions the org has.
    pub fn session_count(self) -> usize {
        self.org.sessions.len()
    }

    /// The user with this email address (case-insensitive).
    pub fn user_by_email(self, email: &str) -> Option<&'s UserSeed> {
        self.org
            .emails
            .get(&email.trim().to_ascii_lowercase())
            .and_then(|id| self.org.users.get(id))
    }

    /// Users after id `after` in id order, members of `team` (every user when `team` is the
    /// org id), at most `limit` plus one (the extra tells whether another page follows).
    pub fn users_after(self, after: Option<&str>, team: &str, limit: usize) -> Vec<&'s UserSeed> {
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let whole_org = team == self.org.id;
        self.org
            .users
            .range::<str, _>((start, Bound::Unbounded))
            .map(|(_, u)| u)
            .filter(|u| whole_org || u.teams.iter().any(|t| t == team))
            .take(limit.saturating_add(1))
            .collect()
    }

    /// A session's owner and workspace ids.
    pub fn session(self, id: u64) -> Option<SessionInfo<'s>> {
        let s = self.org.sessions.get(&id)?;
        Some(SessionInfo {
            user_id: self.org.strings.get(s.user),
            team_id: self.org.strings.get(s.team),
        })
    }

    /// A session in the seed's shape (its devices, for the audit log).
    pub fn session_seed(self, id: u64) -> Option<SessionSeed> {
        let s = self.org.sessions.get(&id)?;
        Some(s.seed(id, &self.org.strings))
    }

    /// The settings of a user, if any are applied.
    pub fn settings(self, user_id: &str) -> Option<&'s SettingsSeed> {
        self.org.settings.get(user_id)
    }

    /// The sessions of `users` that a reset with these flags ends.
    pub fn sessions_to_reset(
        self,
        users: &[String],
        mobile_only: bool,
        web_only: bool,
    ) -> Vec<u64> {
        users
            .iter()
            .flat_map(|u| self.org.sessions_of(u))
            .filter(|id| reset_wipes(self.org.sessions[id].client, mobile_only, web_only))
            .collect()
    }

    /// The ids of one page of `list`: sessions after `after` in id order, at most `limit` plus
    /// one (the extra tells whether another page follows). The caller has checked the filter's
    /// user and team.
    pub fn list_page(
        self,
        after: Option<u64>,
        limit: usize,
        filter: SessionFilter<'_>,
    ) -> ListPage<'s> {
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let org = self.org;
        let take = limit.saturating_add(1);
        let sessions = match filter {
            SessionFilter::User { user, team } => {
                let whole_org = team == org.id;
                let team_sym = org.strings.lookup(team);
                org.strings
                    .lookup(user)
                    .and_then(|u| org.by_user.get(&u))
                    .into_iter()
                    .flat_map(|set| set.range((start, Bound::Unbounded)))
                    .map(|id| (*id, &org.sessions[id]))
                    .filter(|(_, s)| whole_org || Some(s.team) == team_sym)
                    .take(take)
                    .collect()
            }
            SessionFilter::All => org
                .sessions
                .range((start, Bound::Unbounded))
                .filter(|(_, s)| !org.bots.contains(&s.user))
                .take(take)
                .map(|(id, s)| (*id, s))
                .collect(),
        };
        ListPage { org, sessions }
    }
}

/// A session as the request path sees it.
#[derive(Clone, Copy, Debug)]
pub struct SessionInfo<'s> {
    /// The owner's id.
    pub user_id: &'s str,
    /// The workspace (or org) id.
    pub team_id: &'s str,
}

/// The sessions of one `list` page, serialized straight from the compact records (the same
/// JSON as [`slack_sessions_api::methods::ActiveSession`], tested in `compact`).
#[derive(Debug)]
pub struct ListPage<'s> {
    org: &'s Org,
    /// Each session with its id, found once by the walk of the id-ordered map (looking each
    /// one up again to write it cost a tree search per session).
    sessions: Vec<(u64, &'s Session)>,
}

impl<'s> ListPage<'s> {
    /// Whether the page is empty.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Drops the look-ahead session past `limit`, returning the last id kept when one was
    /// dropped (the next page's position).
    pub fn truncate(&mut self, limit: usize) -> Option<u64> {
        if self.sessions.len() <= limit {
            return None;
        }
        self.sessions.truncate(limit);
        self.sessions.last().map(|(id, _)| *id)
    }

    fn view(&self, (id, session): (u64, &'s Session)) -> SessionView<'s> {
        SessionView {
            id,
            session,
            strings: &self.org.strings,
        }
    }

    /// Appends the sessions as a JSON array: each session's pre-escaped JSON, into one buffer
    /// sized up front. The bytes are those of the serde path (tested).
    pub fn write_json_array(&self, out: &mut Vec<u8>) {
        out.reserve(2 + self.sessions.len() * 320);
        out.push(b'[');
        for (i, session) in self.sessions.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            self.view(*session).write_json(out);
        }
        out.push(b']');
    }
}

impl Serialize for ListPage<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.sessions.iter().map(|session| self.view(*session)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_flags() {
        use ClientKind::*;
        let wipes = reset_wipes;
        assert!(wipes(Mobile, true, false) && !wipes(Web, true, false));
        assert!(!wipes(Desktop, true, false) && !wipes(Unknown, true, false));
        assert!(wipes(Web, false, true) && wipes(Desktop, false, true));
        assert!(wipes(Unknown, false, true) && !wipes(Mobile, false, true));
        assert!(wipes(Mobile, true, true) && wipes(Web, false, false));
    }
}
