//! Users as people name them (an ID, an email address) and the one way the engine finds them:
//! a [`Directory`] of the org's users that resolves by single calls (`users.lookupByEmail`,
//! `users.info`), by walking `users.list` (1,000 users a call), or by walking while the walk
//! costs less than the calls it saves; and that tells a user's name and email for reports, read
//! as far down the walk as needed and kept.

use std::collections::{HashMap, HashSet};

use slack_sessions_client::api::Method;
use slack_sessions_client::api::validate::MAX_USERS_LIST_LIMIT;
use slack_sessions_client::api::{ErrorCode, TeamId, UserId};
use slack_sessions_client::methods::{
    LookupByEmail, LookupByEmailArgs, User, UsersInfo, UsersInfoArgs, UsersList, UsersListArgs,
};
use slack_sessions_client::{Client, Error as ClientError};

use crate::error::{Error, Result};
use crate::events::{Events, Pace, Task};
use crate::stop::Stop;

/// A user as written: an ID or an email address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    /// A user ID (`W…` or `U…`).
    Id(UserId),
    /// An email address.
    Email(String),
}

/// True for a Slack user ID: `U` or `W`, then upper-case letters and digits.
pub fn looks_like_id(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some('U' | 'W'))
        && text.len() >= 3
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// True for something shaped like an email address: `local@domain`, no spaces.
pub fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c == ';')
}

/// Reads a user as written, or says why it is neither an ID nor an email.
pub fn parse(text: &str) -> std::result::Result<UserRef, String> {
    let text = text.trim();
    // `Ada Lovelace <ada@example.com>` and `"Lovelace, Ada" <ada@…>`: the part in brackets.
    let bracketed = match (text.rfind('<'), text.strip_suffix('>')) {
        (Some(open), Some(inner)) => inner[open + 1..].trim(),
        _ => text,
    };
    let unquoted = strip_prefix_ignore_case(bracketed, "mailto:").unwrap_or(bracketed);
    if looks_like_id(unquoted) {
        Ok(UserRef::Id(UserId::new(unquoted)))
    } else if looks_like_email(unquoted) {
        Ok(UserRef::Email(unquoted.to_owned()))
    } else if unquoted.is_empty() {
        Err("empty".to_owned())
    } else {
        Err(format!(
            "{unquoted:?} is neither a user ID (W…, U…) nor an email address"
        ))
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(prefix))
        .map(|_| &text[prefix.len()..])
}

/// What the engine keeps of a user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Person {
    /// The ID.
    pub id: UserId,
    /// The full name (or the handle, when there is none).
    pub name: String,
    /// The email address, if the token may read it.
    pub email: Option<String>,
    /// A bot (Slack signs no bot out).
    pub bot: bool,
    /// The org's primary owner (only their own token may sign them out).
    pub primary_owner: bool,
    /// Deactivated (Slack ended their sessions then).
    pub deleted: bool,
}

/// What the directory keeps of a user it read: a [`Person`] without the id, its key.
#[derive(Clone, Debug)]
struct Known {
    name: String,
    email: Option<String>,
    bot: bool,
    primary_owner: bool,
    deleted: bool,
}

impl Known {
    fn person(&self, id: &UserId) -> Person {
        Person {
            id: id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            bot: self.bot,
            primary_owner: self.primary_owner,
            deleted: self.deleted,
        }
    }
}

impl From<&User> for Person {
    /// The name people know a user by: the full name (the user's `real_name`, else the
    /// profile's), else the display name, else the handle (`name`). A blank one counts as
    /// none.
    fn from(u: &User) -> Person {
        let name = [&u.real_name, &u.profile.real_name, &u.profile.display_name]
            .into_iter()
            .flatten()
            .map(|n| n.trim())
            .find(|n| !n.is_empty())
            .unwrap_or(&u.name)
            .to_owned();
        Person {
            id: u.id.clone(),
            name,
            email: u.profile.email.clone(),
            bot: u.is_bot,
            primary_owner: u.is_primary_owner,
            deleted: u.deleted,
        }
    }
}

/// How a [`Directory`] resolves users.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResolveBy {
    /// Walk `users.list` while its pages find more than their cost in single calls, until what
    /// is left fits one burst of single calls; then call for the rest (few users: calls only).
    #[default]
    Auto,
    /// One `users.lookupByEmail` (tier 3) or `users.info` (tier 4) call per user.
    Lookup,
    /// Walk the org's users with `users.list` (tier 2, up to 1,000 users a call).
    List,
}

/// What a resolution found for one user as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// An email address, and its user (`None`: no user of the org has it).
    Email {
        /// As written.
        email: String,
        /// The user.
        user: Option<Person>,
        /// The answer was checked against the org's user list (`users.list`, which lists
        /// deactivated users too). `false` for a `None` only Slack's lookup gave (the token
        /// cannot read the list): `users.lookupByEmail` answers `users_not_found` for a
        /// deactivated account as for an address nobody has.
        listed: bool,
    },
    /// A user ID, and its user (`None`: the org has no such user).
    Id {
        /// The ID.
        id: UserId,
        /// The user.
        user: Option<Person>,
    },
}

/// Up to what single calls cost in this many minutes, [`ResolveBy::Auto`] makes them: one burst
/// of their tiers, which a walk's first page cannot beat.
const BURST_MINUTES: f64 = 1.0;

/// Minutes of rate-limit budget that single calls take for `emails` lookups (tier 3) and `ids`
/// user reads (tier 4).
fn call_minutes(emails: usize, ids: usize) -> f64 {
    emails as f64 / f64::from(LookupByEmail::TIER.per_minute())
        + ids as f64 / f64::from(UsersInfo::TIER.per_minute())
}

/// How a walk of `users.list` goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Walking {
    /// To the end (`--resolve-by list`); a token that cannot read users is an error.
    Whole,
    /// While it costs less than the single calls it saves (`--resolve-by auto`): it leaves the
    /// rest to them as soon as they fit in one burst of their tiers, when its pages (past their
    /// own free burst) find less than a page's worth of them, or when its first page is
    /// refused.
    GiveWay,
    /// To the end, for addresses lookups answered `users_not_found` (deactivated accounts get
    /// that answer); a refused first page leaves them unchecked.
    Deactivated,
}

/// Where the walk of `users.list` stands.
#[derive(Debug, Default)]
struct Walk {
    cursor: Option<String>,
    seen: HashSet<String>,
    pages: u64,
    /// The last page was read: every user is known.
    done: bool,
    /// The token cannot read users (said once).
    refused: bool,
}

/// The org's users, found as needed.
#[derive(Debug)]
pub struct Directory {
    client: Client,
    team: TeamId,
    events: Events,
    stop: Stop,
    names: bool,
    known: HashMap<UserId, Known>,
    walk: Walk,
}

impl Directory {
    /// The users of `team` (the org id: every user of the org).
    pub fn new(client: &Client, team: TeamId, events: Events, stop: Stop) -> Directory {
        Directory {
            client: client.clone(),
            team,
            events,
            stop,
            names: true,
            known: HashMap::new(),
            walk: Walk::default(),
        }
    }

    /// A directory that tells no names (`--no-names`): [`person`](Self::person) reads nothing.
    pub fn without_names(mut self) -> Directory {
        self.names = false;
        self
    }

    /// Users read so far.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// Whether no user was read.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    fn keep(&mut self, p: Person) {
        let known = Known {
            name: p.name,
            email: p.email,
            bot: p.bot,
            primary_owner: p.primary_owner,
            deleted: p.deleted,
        };
        self.known.insert(p.id, known);
    }

    fn known(&self, id: &UserId) -> Option<Person> {
        self.known.get(id).map(|k| k.person(id))
    }

    /// A user's name and email for a report: read from the walk as far as needed; `None` when
    /// the org has no such user, names are off, or the token cannot read users (said once).
    pub async fn person(&mut self, id: &UserId) -> Result<Option<Person>> {
        if !self.names {
            return Ok(None);
        }
        while !self.known.contains_key(id) && !self.walk.done && !self.walk.refused {
            self.next_page(false).await?;
        }
        Ok(self.known(id))
    }

    /// Reads the next page of the walk; returns the ids of its users. A token that cannot read
    /// users ends the walk with a note (names are then left out), or, with `strict`, with the
    /// error.
    async fn next_page(&mut self, strict: bool) -> Result<Vec<UserId>> {
        let mut args = UsersListArgs::new(self.team.clone()).limit(MAX_USERS_LIST_LIMIT);
        if let Some(c) = &self.walk.cursor {
            args = args.cursor(c.clone());
        }
        let page = match self.client.users_list(args).await {
            Ok(page) => page,
            Err(ClientError::Slack(e))
                if !strict
                    && matches!(
                        e.code,
                        ErrorCode::MissingScope | ErrorCode::NotAllowedTokenType
                    ) =>
            {
                self.events.note(format!(
                    "names and emails are left out: the token cannot read users ({}; users:read and users:read.email are needed)",
                    e.code
                ));
                self.walk.refused = true;
                return Ok(Vec::new());
            }
            Err(e) => return Err(Error::slack("cannot walk the users (users.list)", e)),
        };
        self.walk.pages += 1;
        let ids = page.body.members.iter().map(|u| u.id.clone()).collect();
        for u in &page.body.members {
            self.keep(Person::from(u));
        }
        match page.next_cursor().filter(|c| !c.is_empty()) {
            Some(c) if self.walk.seen.insert(c.to_owned()) => {
                self.walk.cursor = Some(c.to_owned());
            }
            Some(_) => {
                return Err(Error::Unexpected(
                    "users.list gave the same cursor twice; the walk stopped".to_owned(),
                ));
            }
            None => self.walk.done = true,
        }
        Ok(ids)
    }

    /// Resolves `emails` and `ids`, telling each answer to `found` as it comes (a run journals
    /// it there, so a stopped resolution loses nothing but the addresses lookups did not find,
    /// which are answered only after the walk that looks for them among deactivated users).
    /// Every one is answered: found, or found to name nobody in the org.
    pub async fn resolve(
        &mut self,
        emails: Vec<String>,
        ids: Vec<UserId>,
        by: ResolveBy,
        found: &mut dyn FnMut(Found) -> Result<()>,
    ) -> Result<()> {
        // Users a walk for names already read cost nothing.
        let (emails, ids) = self.answer_known(emails, ids, found)?;
        let (emails, ids) = match by {
            ResolveBy::Lookup => (emails, ids),
            _ if emails.is_empty() && ids.is_empty() => (emails, ids),
            ResolveBy::Auto if call_minutes(emails.len(), ids.len()) <= BURST_MINUTES => {
                (emails, ids)
            }
            by => {
                let how = if by == ResolveBy::Auto {
                    Walking::GiveWay
                } else {
                    Walking::Whole
                };
                self.walk_for(emails, ids, how, found).await?
            }
        };
        let missed = self.look_up(emails, found).await?;
        self.read_ids(ids, found).await?;
        self.find_deactivated(missed, found).await
    }

    /// Answers what the users read so far tell; returns the rest (each once).
    fn answer_known(
        &self,
        emails: Vec<String>,
        ids: Vec<UserId>,
        found: &mut dyn FnMut(Found) -> Result<()>,
    ) -> Result<(Vec<String>, Vec<UserId>)> {
        // Emails are indexed only here, for the resolution at hand: a walk for names keeps
        // none (a list of a million sessions names every user).
        let by_email: HashMap<String, &UserId> = if emails.is_empty() {
            HashMap::new()
        } else {
            self.known
                .iter()
                .filter_map(|(id, k)| k.email.as_ref().map(|e| (e.to_ascii_lowercase(), id)))
                .collect()
        };
        let mut seen = HashSet::new();
        let mut left_emails = Vec::new();
        for email in emails {
            let key = email.to_ascii_lowercase();
            if !seen.insert(key.clone()) {
                continue;
            }
            match by_email.get(&key) {
                Some(id) => found(Found::Email {
                    email,
                    user: self.known(id),
                    listed: self.walk.done,
                })?,
                None if self.walk.done => found(Found::Email {
                    email,
                    user: None,
                    listed: true,
                })?,
                None => left_emails.push(email),
            }
        }
        let mut seen = HashSet::new();
        let mut left_ids = Vec::new();
        for id in ids {
            if !seen.insert(id.clone()) {
                continue;
            }
            match self.known(&id) {
                Some(p) => found(Found::Id { id, user: Some(p) })?,
                None if self.walk.done => found(Found::Id { id, user: None })?,
                None => left_ids.push(id),
            }
        }
        Ok((left_emails, left_ids))
    }

    /// Walks `users.list` for `emails` and `ids` (from where an earlier walk stopped: the users
    /// of its pages were looked for already); returns those it did not find (none when the walk
    /// reached the end: the rest name nobody in the org). [`Walking`] says when it leaves the
    /// rest to single calls instead.
    async fn walk_for(
        &mut self,
        emails: Vec<String>,
        ids: Vec<UserId>,
        how: Walking,
        found: &mut dyn FnMut(Found) -> Result<()>,
    ) -> Result<(Vec<String>, Vec<UserId>)> {
        let give_way = how == Walking::GiveWay;
        let mut wanted: HashMap<String, String> = emails
            .into_iter()
            .map(|e| (e.to_ascii_lowercase(), e))
            .collect();
        let mut wanted_ids: HashSet<UserId> = ids.into_iter().collect();
        let total = wanted.len() + wanted_ids.len();
        self.events.note(if how == Walking::Deactivated {
            format!(
                "{} address(es) Slack's lookup did not find: checking the org's user list for \
                 deactivated accounts",
                crate::text::thousands(total)
            )
        } else {
            format!(
                "walking the users of {} (users.list, up to 1,000 a call) to find {} user(s)",
                self.team,
                crate::text::thousands(total)
            )
        });
        let progress = self.events.task(Task::Resolving, total as u64, None);
        let page_minutes = 1.0 / f64::from(UsersList::TIER.per_minute());
        let burst_pages = u64::from(UsersList::TIER.per_minute());
        let initial = call_minutes(wanted.len(), wanted_ids.len());
        let first_page = self.walk.pages;
        loop {
            self.stop.check()?;
            let left = call_minutes(wanted.len(), wanted_ids.len());
            let pages = self.walk.pages - first_page;
            let saved_per_page = (initial - left) / (pages.max(1) as f64);
            // Give way when what is left fits one burst of single calls (they cost nothing
            // then), or when, past the walk's own free burst, a page saves less than it costs.
            if give_way
                && (left <= BURST_MINUTES
                    || (pages >= burst_pages && saved_per_page < page_minutes))
            {
                self.events.note(format!(
                    "{} user(s) left after {pages} page(s): single calls are quicker for them",
                    crate::text::thousands(wanted.len() + wanted_ids.len())
                ));
                return Ok((
                    wanted.into_values().collect(),
                    wanted_ids.into_iter().collect(),
                ));
            }
            if self.walk.done {
                break;
            }
            let read = progress
                .waiting(
                    UsersList::NAME,
                    self.next_page(how == Walking::Whole || pages > 0),
                )
                .await;
            let page = match read {
                Ok(_) if self.walk.refused => {
                    // A token without users:read, or a server that wants a workspace: single
                    // calls still work (and their answers stand).
                    return Ok((
                        wanted.into_values().collect(),
                        wanted_ids.into_iter().collect(),
                    ));
                }
                Ok(page) => page,
                Err(Error::Slack { source, .. }) if how != Walking::Whole && pages == 0 => {
                    let code = source
                        .code()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| source.to_string());
                    self.events.note(if give_way {
                        format!("users.list answered {code}: reading the users one by one instead")
                    } else {
                        format!(
                            "users.list answered {code}: the addresses Slack's lookup did not \
                             find were not checked for deactivated accounts"
                        )
                    });
                    return Ok((
                        wanted.into_values().collect(),
                        wanted_ids.into_iter().collect(),
                    ));
                }
                Err(e) => return Err(e),
            };
            for id in page {
                let Some(p) = self.known(&id) else {
                    continue;
                };
                if wanted_ids.remove(&id) {
                    found(Found::Id {
                        user: Some(p.clone()),
                        id: id.clone(),
                    })?;
                    progress.advance(1);
                }
                let written = p
                    .email
                    .as_ref()
                    .and_then(|e| wanted.remove(&e.to_ascii_lowercase()));
                if let Some(email) = written {
                    found(Found::Email {
                        email,
                        user: Some(p.clone()),
                        listed: true,
                    })?;
                    progress.advance(1);
                }
            }
            if wanted.is_empty() && wanted_ids.is_empty() {
                return Ok((Vec::new(), Vec::new()));
            }
            if self.walk.done {
                break;
            }
        }
        // The whole org was read: what it does not hold, nobody in it has.
        for (_, email) in wanted.drain() {
            found(Found::Email {
                email,
                user: None,
                listed: true,
            })?;
            progress.advance(1);
        }
        for id in wanted_ids.drain() {
            found(Found::Id { id, user: None })?;
            progress.advance(1);
        }
        Ok((Vec::new(), Vec::new()))
    }

    /// Reads each user of `ids` with `users.info`.
    async fn read_ids(
        &mut self,
        ids: Vec<UserId>,
        found: &mut dyn FnMut(Found) -> Result<()>,
    ) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.events.note(format!(
            "reading {} user(s) given by ID",
            crate::text::thousands(ids.len())
        ));
        let pace = Pace {
            method: UsersInfo::NAME,
            per_call: 1,
        };
        let progress = self
            .events
            .task(Task::Resolving, ids.len() as u64, Some(pace));
        for id in ids {
            self.stop.check()?;
            let read = progress
                .waiting(
                    UsersInfo::NAME,
                    self.client.users_info(UsersInfoArgs::new(id.clone())),
                )
                .await;
            let user = match read {
                Ok(r) => Some(Person::from(&r.into_body().user)),
                Err(ClientError::Slack(e)) if e.code == ErrorCode::UserNotFound => None,
                // Without users:read the reset's answer will say what Slack refuses.
                Err(ClientError::Slack(e)) if e.code == ErrorCode::MissingScope => {
                    self.events.note(
                        "the token cannot read users (users:read): Slack's answers to the resets will tell",
                    );
                    return Ok(());
                }
                Err(e) => return Err(Error::slack(format!("cannot read user {id}"), e)),
            };
            if let Some(p) = &user {
                self.keep(p.clone());
            }
            found(Found::Id { id, user })?;
            progress.advance(1);
        }
        Ok(())
    }

    /// Looks each of `emails` up with `users.lookupByEmail`; returns those it answered
    /// `users_not_found`, unanswered: a deactivated account gets that answer too.
    async fn look_up(
        &mut self,
        emails: Vec<String>,
        found: &mut dyn FnMut(Found) -> Result<()>,
    ) -> Result<Vec<String>> {
        let mut missed = Vec::new();
        if emails.is_empty() {
            return Ok(missed);
        }
        self.events.note(format!(
            "looking up {} email address(es)",
            crate::text::thousands(emails.len())
        ));
        let pace = Pace {
            method: LookupByEmail::NAME,
            per_call: 1,
        };
        let progress = self
            .events
            .task(Task::Resolving, emails.len() as u64, Some(pace));
        for email in emails {
            self.stop.check()?;
            let user = progress
                .waiting(LookupByEmail::NAME, lookup(&self.client, &email))
                .await
                .map_err(|e| Error::slack(format!("cannot look up {email}"), e))?
                .map(|u| Person::from(&u));
            match user {
                Some(p) => {
                    self.keep(p.clone());
                    found(Found::Email {
                        email,
                        user: Some(p),
                        listed: false,
                    })?;
                }
                None => missed.push(email),
            }
            progress.advance(1);
        }
        Ok(missed)
    }

    /// Answers the addresses lookups did not find: Slack's lookup answers `users_not_found`
    /// for a deactivated account ("If the user has been deactivated, users_not_found will be
    /// returned instead"), and `users.list` lists them with `deleted: true`; so the walk is
    /// read to its end for them (a walk done answers at once), and only what it does not hold
    /// names nobody. A token that cannot read the list leaves the lookups' answer standing.
    async fn find_deactivated(
        &mut self,
        missed: Vec<String>,
        found: &mut dyn FnMut(Found) -> Result<()>,
    ) -> Result<()> {
        if missed.is_empty() {
            return Ok(());
        }
        // A walk refused already (and said so) is not asked again.
        let unchecked = if self.walk.refused {
            missed
        } else {
            self.walk_for(missed, Vec::new(), Walking::Deactivated, found)
                .await?
                .0
        };
        for email in unchecked {
            found(Found::Email {
                email,
                user: None,
                listed: false,
            })?;
        }
        Ok(())
    }

    /// Resolves users named on a command line, all or nothing: a typo in one email must not
    /// leave a half-done command. `changes`: the command would change something (the error
    /// then says that nothing was).
    pub async fn resolve_all(&mut self, inputs: &[String], changes: bool) -> Result<Vec<Named>> {
        let mut refs = Vec::with_capacity(inputs.len());
        for input in inputs {
            match parse(input) {
                Ok(r) => refs.push((input.clone(), r)),
                Err(why) => return Err(Error::refused(format!("user {why}"))),
            }
        }
        let emails: Vec<String> = refs
            .iter()
            .filter_map(|(_, r)| match r {
                UserRef::Email(e) => Some(e.clone()),
                UserRef::Id(_) => None,
            })
            .collect();
        let mut by_email: HashMap<String, Option<UserId>> = HashMap::new();
        self.resolve(emails, Vec::new(), ResolveBy::Lookup, &mut |f| {
            if let Found::Email { email, user, .. } = f {
                by_email.insert(email.to_ascii_lowercase(), user.map(|p| p.id));
            }
            Ok(())
        })
        .await?;
        let mut out = Vec::with_capacity(refs.len());
        let mut unknown = Vec::new();
        for (input, r) in refs {
            match r {
                UserRef::Id(id) => out.push(Named { input, user_id: id }),
                UserRef::Email(email) => {
                    match by_email.get(&email.to_ascii_lowercase()).cloned().flatten() {
                        Some(id) => out.push(Named { input, user_id: id }),
                        None => unknown.push(email),
                    }
                }
            }
        }
        if !unknown.is_empty() {
            return Err(Error::Unexpected(format!(
                "no Slack user has the email address {} (users_not_found){}",
                unknown.join(", "),
                if changes { "; nothing was changed" } else { "" }
            )));
        }
        Ok(out)
    }
}

/// A user named on a command line, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    /// As written.
    pub input: String,
    /// The user's ID.
    pub user_id: UserId,
}

/// Looks an email up: `Ok(None)` when Slack knows no such user (`users_not_found`).
pub async fn lookup(
    client: &Client,
    email: &str,
) -> std::result::Result<Option<User>, ClientError> {
    match client.lookup_by_email(LookupByEmailArgs::new(email)).await {
        Ok(answer) => Ok(Some(answer.into_body().user)),
        Err(ClientError::Slack(e)) if e.code == ErrorCode::UsersNotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_named_by_full_name_then_display_name_then_handle() {
        let user = |real: Option<&str>, profile_real: Option<&str>, display: Option<&str>| {
            let mut u = User::new(UserId::new("W1"), "ada.l");
            u.real_name = real.map(str::to_owned);
            u.profile.real_name = profile_real.map(str::to_owned);
            u.profile.display_name = display.map(str::to_owned);
            Person::from(&u).name
        };
        assert_eq!(
            user(Some("Ada Lovelace"), Some("x"), Some("ada")),
            "Ada Lovelace"
        );
        assert_eq!(
            user(None, Some("Ada Lovelace"), Some("ada")),
            "Ada Lovelace"
        );
        assert_eq!(user(Some(""), Some(" "), Some("Ada")), "Ada");
        assert_eq!(user(None, None, Some("")), "ada.l");
    }

    #[test]
    fn ids_and_emails() {
        assert_eq!(
            parse("W012A3CDE"),
            Ok(UserRef::Id(UserId::new("W012A3CDE")))
        );
        assert_eq!(
            parse(" U0G9QF9C6 "),
            Ok(UserRef::Id(UserId::new("U0G9QF9C6")))
        );
        assert_eq!(
            parse("ada@example.com"),
            Ok(UserRef::Email("ada@example.com".into()))
        );
        assert_eq!(
            parse("<Ada.Lovelace@Example.com>"),
            Ok(UserRef::Email("Ada.Lovelace@Example.com".into()))
        );
        for (written, address) in [
            ("Ada Lovelace <ada@example.com>", "ada@example.com"),
            ("\"Lovelace, Ada\" <ada@example.com>", "ada@example.com"),
            ("mailto:ada@example.com", "ada@example.com"),
            ("<MAILTO:ada@example.com>", "ada@example.com"),
        ] {
            assert_eq!(
                parse(written),
                Ok(UserRef::Email(address.into())),
                "{written}"
            );
        }
        for bad in [
            "",
            "ada",
            "w012a3cde",
            "T012AB3CD",
            "a@",
            "@b",
            "a b@c.d",
            "a@b@c",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("bob").unwrap_err().contains("neither a user ID"));
    }
}
