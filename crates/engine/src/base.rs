//! What every journaled run holds while under way, whatever its kind: its context, the org the
//! token acts in, its journal and the state it replays to, the writer that sends its calls
//! through the journal, and the org's users.

use slack_sessions_client::api::TeamId;

use crate::Context;
use crate::calls::Writer;
use crate::journaled::{Journaled, Replay};
use crate::org::Org;
use crate::users::Directory;

/// A journaled run under way.
#[derive(Debug)]
pub struct Base<S: Replay> {
    /// The client, events and stop signal.
    pub ctx: Context,
    /// The org the token acts in.
    pub org: Org,
    /// The journal and the run's state.
    pub run: Journaled<S>,
    /// Sends the run's calls through the journal.
    pub writer: Writer,
    /// The users of `team`.
    pub directory: Directory,
}

impl<S: Replay> Base<S> {
    /// A run over `run`, whose users and sessions are those of `team` (the org id: all).
    pub fn new(ctx: &Context, org: Org, team: TeamId, run: Journaled<S>) -> Base<S> {
        Base {
            writer: Writer::new(ctx, team.clone()),
            directory: Directory::new(&ctx.client, team, ctx.events.clone(), ctx.stop.clone()),
            ctx: ctx.clone(),
            org,
            run,
        }
    }
}
