//! Finding the users Slack refuses from their user records: `users.info` is tier 4 (100 calls a
//! minute) where the bulk writes are tier 2 (20), and the record shows what a write refuses: an
//! id the token's org does not have, a bot, the primary owner.

use std::collections::HashSet;

use futures::stream::{self, StreamExt};
use slack_sessions_api::methods::{User, UsersInfoArgs};
use slack_sessions_api::{ErrorCode, UserId};

use crate::{Client, Error};

/// `users.info` calls of one screening in flight at once (the pacer spaces them further).
const IN_FLIGHT: usize = 16;

/// The kind of bulk write, for the code Slack refuses a user with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Write {
    /// `resetBulk` (and `reset`): bots and the primary owner (unless the token is theirs) are
    /// refused.
    Reset,
    /// `setSettings` and `clearSettings`: bots are refused.
    Settings,
}

impl Write {
    /// The code Slack refuses `user` with for this write, judged from the record `users.info`
    /// returned; `None` when the record shows no reason. `me` is the token's user and `org` its
    /// org (from `auth.test`).
    ///
    /// ```
    /// use slack_sessions_client::batch::Write;
    /// use slack_sessions_client::methods::User;
    /// use slack_sessions_client::ErrorCode;
    ///
    /// let mut bot = User::new("W0BOT".into(), "deploy-bot");
    /// bot.is_bot = true;
    /// let me = "W0ADMIN".into();
    /// let org = "E0ORG".into();
    /// assert_eq!(Write::Reset.refusal(&bot, &me, &org), Some(ErrorCode::CannotResetBot));
    /// assert_eq!(Write::Settings.refusal(&bot, &me, &org), Some(ErrorCode::BotsNotAllowed));
    /// ```
    pub fn refusal(
        self,
        user: &User,
        me: &UserId,
        org: &slack_sessions_api::TeamId,
    ) -> Option<ErrorCode> {
        // A user of another Enterprise Grid org (shared through Slack Connect) is not the
        // token's org's to sign out: Slack answers as for an unknown id.
        if user
            .enterprise_user
            .as_ref()
            .is_some_and(|e| e.enterprise_id != *org)
        {
            return Some(ErrorCode::UserNotFound);
        }
        match self {
            Write::Reset if user.is_bot => Some(ErrorCode::CannotResetBot),
            Write::Reset if user.is_primary_owner && user.id != *me => {
                Some(ErrorCode::CannotResetPrimaryOwner)
            }
            Write::Settings if user.is_bot => Some(ErrorCode::BotsNotAllowed),
            _ => None,
        }
    }
}

/// What `users.info` said of a group of users; see [`Client::screen`].
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Screening {
    /// The users the write would be refused for, with the code, and the error of their
    /// `users.info` call when that call itself said so (`user_not_found`).
    pub refused: Vec<(UserId, ErrorCode, Option<Error>)>,
    /// The users whose record shows no reason to refuse them.
    pub cleared: Vec<UserId>,
    /// The users not screened, because a call failed for another reason (a missing
    /// `users:read` scope, the retries ran out, the deadline passed).
    pub unscreened: Vec<UserId>,
    /// That failure, if one happened.
    pub error: Option<Error>,
    /// `users.info` calls made.
    pub calls: u32,
}

impl Client {
    /// Reads each of `users` with `users.info` and sorts them by whether `write` would be
    /// refused for them: the cheap way to find who in a batch Slack refused is at fault
    /// (`users.info` is tier 4, 100 calls a minute; a `resetBulk` is tier 2, 20). A caller
    /// that sends its own batches ([`Batches`](super::Batches)) resends the batch without the
    /// refused users. Needs `users:read`, and `auth.test` once per client (for the token's own
    /// user and org).
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client, batch: Vec<slack_sessions_client::UserId>) {
    /// use slack_sessions_client::batch::Write;
    ///
    /// let screening = client.screen(&batch, Write::Reset).await;
    /// for (user, code, _) in &screening.refused {
    ///     println!("{user}: Slack refuses them ({code})");
    /// }
    /// # }
    /// ```
    pub async fn screen(&self, users: &[UserId], write: Write) -> Screening {
        let mut out = Screening::default();
        let me = match self.me().await {
            Ok(me) => me,
            Err(e) => {
                out.unscreened = users.to_vec();
                out.error = Some(e);
                return out;
            }
        };
        let mut answers = stream::iter(users.iter().cloned())
            .map(|user| {
                let client = self.clone();
                async move {
                    let answer = client.users_info(UsersInfoArgs::new(user.clone())).await;
                    (user, answer)
                }
            })
            .buffered(IN_FLIGHT);
        while let Some((user, answer)) = answers.next().await {
            match answer {
                Ok(found) => {
                    out.calls += 1;
                    match write.refusal(&found.user, &me.user, &me.org) {
                        Some(code) => out.refused.push((user, code, None)),
                        None => out.cleared.push(user),
                    }
                }
                Err(e) if e.is_user_refusal() => {
                    out.calls += 1;
                    let code = e.code().cloned().unwrap_or(ErrorCode::UserNotFound);
                    out.refused.push((user, code, Some(e)));
                }
                Err(e) => {
                    // Reads only: the calls still in flight are dropped.
                    out.calls += u32::from(!matches!(e, Error::NotSent(_)));
                    out.error = Some(e);
                    break;
                }
            }
        }
        drop(answers);
        let settled: HashSet<&UserId> = out
            .cleared
            .iter()
            .chain(out.refused.iter().map(|(u, _, _)| u))
            .collect();
        out.unscreened = users
            .iter()
            .filter(|u| !settled.contains(u))
            .cloned()
            .collect();
        out
    }
}
