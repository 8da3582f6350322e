//! The client: one call per method, retries, pacing.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use slack_sessions_api::methods::{
    AuthTest, AuthTestArgs, AuthTestResponse, ClearSettings, ClearSettingsArgs, Empty, GetSettings,
    GetSettingsArgs, GetSettingsResponse, Invalidate, InvalidateArgs, List, ListArgs, ListResponse,
    LookupByEmail, LookupByEmailArgs, LookupByEmailResponse, Reset, ResetArgs, ResetBulk,
    ResetBulkArgs, SetSettings, SetSettingsArgs, UsersInfo, UsersInfoArgs, UsersInfoResponse,
    UsersList, UsersListArgs, UsersListResponse,
};
use slack_sessions_api::{Method, MethodInfo, wire};
use slack_sessions_api::{TeamId, UserId};
use tokio::sync::OnceCell;
use tokio::time::Instant;
use tracing::Instrument;

use crate::answer::{Raw, classify, decode_body, header_str, request_id, transport_error};
use crate::builder::{BuildError, ClientBuilder, Encoding, auth_header};
use crate::error::{CallInfo, Error, NotSent, NotSentReason};
use crate::pacing::{Pacer, Pacing, PacingState, Refused, UnknownMethod};
use crate::pagination::{Pages, Sessions};
use crate::retry::{Decision, GiveUp, RetryPolicy};
use crate::{Response, Token};

/// A typed, async client for the `admin.users.session.*` methods (and `auth.test`,
/// `users.lookupByEmail`).
///
/// Cheap to clone; clones share the connection pool and the pacing state, so calls made from
/// many tasks through clones of one client are paced together.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use slack_sessions_client::{Client, methods::ResetArgs};
///
/// let client = Client::from_env()?; // SLACK_TOKEN
/// client.reset(ResetArgs::new("W0123ABC")).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base: Url,
    /// The Audit Logs API's base URL.
    pub(crate) audit: Url,
    pub(crate) token: Token,
    pub(crate) auth: HeaderValue,
    pub(crate) retry: RetryPolicy,
    pub(crate) encoding: Encoding,
    pub(crate) pacer: Arc<Pacer>,
    /// The token's org and user, from `auth.test`, once asked for.
    pub(crate) me: Arc<OnceCell<Me>>,
    /// No call leaves after this instant (a bulk run's deadline): one whose rate-limit slot or
    /// retry would come later fails at once, not sent.
    pub(crate) deadline: Option<Instant>,
}

/// Who the token is, from `auth.test`.
#[derive(Clone, Debug)]
pub(crate) struct Me {
    /// The Enterprise Grid org (or the workspace outside a Grid org).
    pub(crate) org: TeamId,
    /// The token's user.
    pub(crate) user: UserId,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("base_url", &inner.base.as_str())
            .field("audit_url", &inner.audit.as_str())
            .field("token", &inner.token)
            .field("encoding", &inner.encoding)
            .field("retry", &inner.retry)
            .field("pacing", inner.pacer.pacing())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder with the defaults (slack.com, no token yet).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client for slack.com with the default settings and `token`.
    pub fn new(token: impl Into<Token>) -> Result<Client, BuildError> {
        ClientBuilder::new().token(token).build()
    }

    /// A client with the token from `SLACK_TOKEN` (and the base URL from `SLACK_API_URL`, if
    /// set); see [`ClientBuilder::from_env`].
    pub fn from_env() -> Result<Client, BuildError> {
        ClientBuilder::from_env().build()
    }

    pub(crate) fn from_inner(inner: Arc<Inner>) -> Self {
        Client { inner }
    }

    fn derive(&self, change: impl FnOnce(&mut Inner)) -> Client {
        let old = &self.inner;
        let mut inner = Inner {
            http: old.http.clone(),
            base: old.base.clone(),
            audit: old.audit.clone(),
            token: old.token.clone(),
            auth: old.auth.clone(),
            retry: old.retry.clone(),
            encoding: old.encoding,
            pacer: Arc::clone(&old.pacer),
            me: Arc::clone(&old.me),
            deadline: old.deadline,
        };
        change(&mut inner);
        Client {
            inner: Arc::new(inner),
        }
    }

    /// The same client with another token; it shares the connection pool and the pacing state
    /// (each token has its own budgets).
    pub fn with_token(&self, token: impl Into<Token>) -> Result<Client, BuildError> {
        let token = token.into();
        let auth = auth_header(&token)?;
        Ok(self.derive(|inner| {
            inner.token = token;
            inner.auth = auth;
            // Another token may belong to another org.
            inner.me = Arc::default();
        }))
    }

    /// The same client with another retry policy (for example [`RetryPolicy::never`] for one
    /// interactive call); it shares the pacing state.
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Client {
        self.derive(|inner| inner.retry = policy)
    }

    /// The same client, whose calls do not leave after `deadline` (see [`Inner::deadline`]).
    pub(crate) fn with_deadline(&self, deadline: Option<Instant>) -> Client {
        self.derive(|inner| inner.deadline = deadline)
    }

    /// The same client with another encoding.
    pub fn with_encoding(&self, encoding: Encoding) -> Client {
        self.derive(|inner| inner.encoding = encoding)
    }

    /// The Web API's base URL.
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// The Audit Logs API's base URL (see [`ClientBuilder::audit_url`]).
    pub fn audit_url(&self) -> &str {
        self.inner.audit.as_str()
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The pacing.
    pub fn pacing(&self) -> &Pacing {
        self.inner.pacer.pacing()
    }

    /// Where the pacing budget of method `M` stands for this client's token: the calls that
    /// may leave now, how long the next one would wait, a `Retry-After` pause, the 429s met.
    ///
    /// ```no_run
    /// # fn run(client: slack_sessions_client::Client) {
    /// use slack_sessions_client::methods::List;
    ///
    /// let state = client.pacing_state::<List>();
    /// if state.available == 0 {
    ///     println!("the next list call waits {:?}", state.next_call_wait);
    /// }
    /// # }
    /// ```
    pub fn pacing_state<M: Method>(&self) -> PacingState {
        let info = MethodInfo::of::<M>();
        self.inner
            .pacer
            .state(&self.inner.token, M::NAME, info.tier)
    }

    /// [`pacing_state`](Self::pacing_state) of a method given by its Slack name
    /// (`"admin.users.session.list"`); a name outside the catalogue is an error, not a state.
    ///
    /// ```
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = slack_sessions_client::Client::new("xoxp-1")?;
    /// assert!(client.pacing_state_by_name("admin.users.session.list").is_ok());
    /// let err = client.pacing_state_by_name("admin.users.session.lst").unwrap_err();
    /// assert!(err.to_string().contains("admin.users.session.lst"));
    /// # Ok(()) }
    /// # run().unwrap();
    /// ```
    pub fn pacing_state_by_name(&self, method: &str) -> Result<PacingState, UnknownMethod> {
        let info = MethodInfo::find(method).ok_or_else(|| UnknownMethod(method.to_owned()))?;
        Ok(self
            .inner
            .pacer
            .state(&self.inner.token, info.name, info.tier))
    }

    /// The id of the token's org: `auth.test`'s `enterprise_id` (the Enterprise Grid org), or its
    /// `team_id` for a workspace outside a Grid org. Asked once per client (and its clones, not
    /// those made with [`with_token`](Self::with_token)), then cached.
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// let org = client.org_id().await?;
    /// println!("org {org}");
    /// # Ok(()) }
    /// ```
    pub async fn org_id(&self) -> Result<TeamId, Error> {
        Ok(self.me().await?.org)
    }

    /// The token's org and user, from `auth.test` (asked once, see [`org_id`](Self::org_id)).
    pub(crate) async fn me(&self) -> Result<Me, Error> {
        self.inner
            .me
            .get_or_try_init(|| async {
                let me = self.auth_test().await?.into_body();
                Ok::<_, Error>(Me {
                    org: me.enterprise_id.unwrap_or(me.team_id),
                    user: me.user_id,
                })
            })
            .await
            .cloned()
    }

    /// Every active session of `user`, wherever in the org it was opened: on each workspace
    /// and at the org level. It lists with the org id ([`org_id`](Self::org_id)), not a
    /// workspace id: [`ListArgs::for_user`] with the `team_id` of `users.lookupByEmail` (the
    /// user's home workspace) lists only that workspace's sessions.
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use futures::TryStreamExt;
    /// use slack_sessions_client::methods::LookupByEmailArgs;
    ///
    /// let user = client.lookup_by_email(LookupByEmailArgs::new("ada@example.com")).await?.into_body().user;
    /// let sessions: Vec<_> = client.user_sessions(&user.id).try_collect().await?;
    /// for s in &sessions {
    ///     println!("{} on {} ({})", s.session_id, s.team_id, s.platform());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn user_sessions(&self, user: impl Into<UserId>) -> Sessions {
        Sessions::new(Pages::in_org(self.clone(), user.into()))
    }

    /// The encoding of request bodies.
    pub fn encoding(&self) -> Encoding {
        self.inner.encoding
    }

    /// The token (shown redacted by `Debug` and `Display`).
    pub fn token(&self) -> &Token {
        &self.inner.token
    }

    /// Calls any method of the catalogue with its typed arguments: the generic form of the
    /// named calls below, with the same retries and pacing.
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use slack_sessions_client::methods::{GetSettings, GetSettingsArgs};
    ///
    /// let answer = client.call::<GetSettings>(GetSettingsArgs::new(["W0123ABC"])).await?;
    /// println!("{:?}", answer.session_settings);
    /// # Ok(()) }
    /// ```
    pub async fn call<M: Method>(&self, args: M::Args) -> Result<Response<M::Response>, Error> {
        let raw = self.call_raw::<M>(&args).await?;
        decode_body(M::NAME, raw)
    }

    /// A call up to a successful envelope, its body left undecoded (a `list` walk asks for
    /// the next page before it decodes this one; see [`Pages`]).
    pub(crate) async fn call_raw<M: Method>(&self, args: &M::Args) -> Result<Response<Raw>, Error> {
        async move {
            tracing::trace!(?args, encoding = ?self.inner.encoding, "arguments");
            let body = match self.inner.encoding {
                Encoding::Form => form_body(&wire::to_form(args)),
                Encoding::Json => wire::to_json(args),
            };
            self.execute(&MethodInfo::of::<M>(), body).await
        }
        .instrument(tracing::debug_span!("slack_call", method = M::NAME))
        .await
    }

    /// Sends a call, with pacing and retries, up to a successful envelope (`ok: true`); the
    /// body is left undecoded, so that a `list` walk can ask for the next page first.
    async fn execute(&self, info: &MethodInfo, body: Vec<u8>) -> Result<Response<Raw>, Error> {
        let inner = &self.inner;
        let url = inner.base.join(info.name).map_err(|e| {
            Error::NotSent(Box::new(NotSent {
                call: CallInfo::new(info.name),
                reason: NotSentReason::Build,
                source: Some(Box::new(e)),
            }))
        })?;
        let mut attempt = 0u32;
        let mut earlier_ambiguous = false;
        let mut first_sent: Option<Instant> = None;
        // Pacer waits in all, and those after the first send (kept out of the retry budget).
        let mut paced = Duration::ZERO;
        let mut paced_since_first_send = Duration::ZERO;
        loop {
            attempt += 1;
            let waited = match inner
                .pacer
                .acquire(&inner.token, info.name, info.tier, inner.deadline)
                .await
            {
                Ok(waited) => waited,
                Err(refused) => {
                    tracing::debug!(?refused, "not sent: pacing wait");
                    let mut call = CallInfo::new(info.name);
                    call.attempts = attempt;
                    call.earlier_attempt_may_have_applied = earlier_ambiguous;
                    call.paced = paced;
                    let reason = match refused {
                        Refused::MaxWait(wait) => NotSentReason::PacingWait { wait },
                        Refused::Deadline(wait) => NotSentReason::Deadline { wait },
                    };
                    return Err(Error::NotSent(Box::new(NotSent {
                        call,
                        reason,
                        source: None,
                    })));
                }
            };
            paced += waited;
            if first_sent.is_some() {
                paced_since_first_send += waited;
            }
            if !waited.is_zero() {
                tracing::debug!(waited_ms = waited.as_millis() as u64, "paced");
            }
            let started = *first_sent.get_or_insert_with(Instant::now);
            let sent_at = Instant::now();
            let result = self.send_once(info, &url, &body).await;
            let took_ms = sent_at.elapsed().as_millis() as u64;
            let mut err = match result {
                Ok(mut response) => {
                    response.attempts = attempt;
                    response.paced = paced;
                    tracing::debug!(attempt, took_ms, "ok");
                    return Ok(response);
                }
                Err(err) => err,
            };
            {
                let call = err.call_mut();
                call.attempts = attempt;
                call.earlier_attempt_may_have_applied = earlier_ambiguous;
                call.paced = paced;
            }
            if let Error::RateLimited(limited) = &err {
                let wait = limited
                    .retry_after
                    .unwrap_or(inner.retry.default_retry_after);
                inner.pacer.pause(&inner.token, info.name, info.tier, wait);
            }
            let outcome = err.outcome();
            // The retry budget counts attempts and retry delays, not queueing for the pacer.
            let elapsed = started.elapsed().saturating_sub(paced_since_first_send);
            let mut decision =
                inner
                    .retry
                    .decide(info, attempt, &outcome, elapsed, rand::random::<f64>());
            if let (Decision::RetryAfter(delay), Some(deadline)) = (&decision, inner.deadline)
                && Instant::now() + *delay > deadline
            {
                decision = Decision::GiveUp(GiveUp::Deadline);
            }
            match decision {
                Decision::RetryAfter(delay) => {
                    tracing::info!(
                        attempt,
                        took_ms,
                        retry_in_ms = delay.as_millis() as u64,
                        request_id = err.request_id().unwrap_or("-"),
                        error = %err,
                        "retrying"
                    );
                    earlier_ambiguous |= err.this_attempt_may_have_applied();
                    tokio::time::sleep(delay).await;
                }
                Decision::GiveUp(why) => {
                    tracing::debug!(
                        attempt,
                        took_ms,
                        ?why,
                        request_id = err.request_id().unwrap_or("-"),
                        error = %err,
                        "giving up"
                    );
                    return Err(err);
                }
            }
        }
    }

    async fn send_once(
        &self,
        info: &MethodInfo,
        url: &Url,
        body: &[u8],
    ) -> Result<Response<Raw>, Error> {
        let inner = &self.inner;
        let call = || CallInfo::new(info.name);
        let request = inner
            .http
            .post(url.clone())
            .header(AUTHORIZATION, inner.auth.clone())
            .header(CONTENT_TYPE, inner.encoding.content_type())
            .body(body.to_vec());
        let answer = request
            .send()
            .await
            .map_err(|e| transport_error(call(), e, None))?;
        let status = answer.status();
        let headers = answer.headers().clone();
        let bytes = answer.bytes().await.map_err(|e| {
            let mut call = call();
            call.request_id = request_id(&headers);
            transport_error(call, e, Some(status.as_u16()))
        })?;
        tracing::trace!(status = status.as_u16(), bytes = bytes.len(), "answer");
        if let Some(limits) = header_str(&headers, "x-slack-sessions-rate-limits") {
            inner.pacer.observe_server_limits(limits);
        }
        classify(call(), status, &headers, bytes)
    }

    /// `admin.users.session.invalidate`: revokes one session of a user.
    ///
    /// Retried after an unknown outcome: revoking a revoked session changes nothing (the repeat
    /// may answer `session_not_found`; see [`CallInfo::earlier_attempt_may_have_applied`]).
    ///
    /// Its error codes: [`Invalidate`](crate::methods::Invalidate#errors); their categories:
    /// [`Error::is_auth`], [`Error::is_not_found`], ….
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use slack_sessions_client::methods::InvalidateArgs;
    ///
    /// client.invalidate(InvalidateArgs::new(1112275520242_u64, "W0123ABC")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn invalidate(&self, args: InvalidateArgs) -> Result<Response<Empty>, Error> {
        self.call::<Invalidate>(args).await
    }

    /// `admin.users.session.reset`: wipes every session of a user (or only the mobile, or only
    /// the web ones).
    ///
    /// Retried after an unknown outcome: a second reset leaves the same state.
    ///
    /// Its error codes: [`Reset`](crate::methods::Reset#errors); their categories:
    /// [`Error::is_auth`], [`Error::is_not_found`], ….
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use slack_sessions_client::methods::ResetArgs;
    ///
    /// let answer = client.reset(ResetArgs::new("W0123ABC").mobile_only(true)).await?;
    /// for warning in &answer.warnings {
    ///     eprintln!("warning: {warning}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn reset(&self, args: ResetArgs) -> Result<Response<Empty>, Error> {
        self.call::<Reset>(args).await
    }

    /// `admin.users.session.resetBulk`: queues a job wiping the sessions of up to 1,000 users.
    /// `ok` means queued.
    ///
    /// Retried after an unknown outcome: a second job does what the first does.
    ///
    /// Its error codes: [`ResetBulk`](crate::methods::ResetBulk#errors); their categories:
    /// [`Error::is_auth`], [`Error::is_not_found`], ….
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use slack_sessions_client::methods::ResetBulkArgs;
    ///
    /// client.reset_bulk(ResetBulkArgs::new(["W0123ABC", "W0456DEF"]).web_only(true)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn reset_bulk(&self, args: ResetBulkArgs) -> Result<Response<Empty>, Error> {
        self.call::<ResetBulk>(args).await
    }

    /// `admin.users.session.list`: one page of active sessions. To walk every page, use
    /// [`Client::list_sessions`] or [`Client::list_pages`].
    ///
    /// Its error codes: [`List`](crate::methods::List#errors); their categories:
    /// [`Error::is_auth`], [`Error::is_not_found`], ….
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use slack_sessions_client::methods::ListArgs;
    ///
    /// let page = client.list(ListArgs::new().limit(100)).await?;
    /// println!("{} sessions, next cursor {:?}", page.active_sessions.len(), page.next_cursor());
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, args: ListArgs) -> Result<Response<ListResponse>, Error> {
        self.call::<List>(args).await
    }

    /// Every active session, page after page, as a [`Stream`](futures::Stream): follows
    /// `next_cursor`, keeps its place across a 429 or a retried error, goes on after an empty
    /// page that carries a cursor, and stops with [`Error::RepeatedCursor`] on a cursor seen
    /// before.
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use futures::TryStreamExt;
    /// use slack_sessions_client::methods::ListArgs;
    ///
    /// let mut sessions = client.list_sessions(ListArgs::new().limit(1000));
    /// while let Some(session) = sessions.try_next().await? {
    ///     println!("{} {} {:?}", session.user_id, session.session_id, session.platform());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_sessions(&self, args: ListArgs) -> Sessions {
        Sessions::new(self.list_pages(args))
    }

    /// Every page of `admin.users.session.list` as a [`Stream`](futures::Stream) of answers; see
    /// [`Client::list_sessions`]. [`Pages::cursor`] tells where a walk that failed can resume.
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use futures::TryStreamExt;
    /// use slack_sessions_client::methods::ListArgs;
    ///
    /// let mut pages = client.list_pages(ListArgs::for_user("T0123", "W0123ABC"));
    /// while let Some(page) = pages.try_next().await? {
    ///     println!("{} sessions", page.active_sessions.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_pages(&self, args: ListArgs) -> Pages {
        Pages::new(self.clone(), args)
    }

    /// `admin.users.session.getSettings`: the session settings of up to 1,000 users.
    ///
    /// Its error codes: [`GetSettings`](crate::methods::GetSettings#errors); their categories:
    /// [`Error::is_auth`], [`Error::is_not_found`], ….
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use slack_sessions_client::methods::GetSettingsArgs;
    ///
    /// let answer = client.get_settings(GetSettingsArgs::new(["W0123ABC", "W0456DEF"])).await?;
    /// for setting in &answer.session_settings {
    ///     println!("{}: {:?} s", setting.user_id, setting.duration);
    /// }
    /// println!("without settings: {:?}", answer.no_settings_applied);
    /// # Ok(()) }
    /// ```
    pub async fn get_settings(
        &self,
        args: GetSettingsArgs,
    ) -> Result<Response<GetSettingsResponse>, Error> {
        self.call::<GetSettings>(args).await
    }

    /// `admin.users.session.setSettings`: sets the session duration and/or quit-on-close of up
    /// to 1,000 users.
    ///
    /// Retried after an unknown outcome: writing the same absolute values again changes nothing.
    ///
    /// Its error codes: [`SetSettings`](crate::methods::SetSettings#errors); their categories:
    /// [`Error::is_auth`], [`Error::is_not_found`], ….
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use slack_sessions_client::methods::SetSettingsArgs;
    ///
    /// let args = SetSettingsArgs::new(["W0123ABC"]).duration(8 * 3600).desktop_app_browser_quit(true);
    /// client.set_settings(args).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_settings(&self, args: SetSettingsArgs) -> Result<Response<Empty>, Error> {
        self.call::<SetSettings>(args).await
    }

    /// `admin.users.session.clearSettings`: returns up to 1,000 users to the org's defaults.
    ///
    /// Retried after an unknown outcome: clearing twice leaves the same state.
    ///
    /// Its error codes: [`ClearSettings`](crate::methods::ClearSettings#errors); their categories:
    /// [`Error::is_auth`], [`Error::is_not_found`], ….
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use slack_sessions_client::methods::ClearSettingsArgs;
    ///
    /// client.clear_settings(ClearSettingsArgs::new(["W0123ABC"])).await?;
    /// # Ok(()) }
    /// ```
    pub async fn clear_settings(&self, args: ClearSettingsArgs) -> Result<Response<Empty>, Error> {
        self.call::<ClearSettings>(args).await
    }

    /// `auth.test`: who the token belongs to.
    ///
    /// Its error codes: [`AuthTest`](crate::methods::AuthTest#errors); their categories:
    /// [`Error::is_auth`], [`Error::is_not_found`], ….
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// let me = client.auth_test().await?;
    /// println!("{} on {} (scopes {:?})", me.user_id, me.team_id, me.scopes);
    /// # Ok(()) }
    /// ```
    pub async fn auth_test(&self) -> Result<Response<AuthTestResponse>, Error> {
        self.call::<AuthTest>(AuthTestArgs::default()).await
    }

    /// `users.lookupByEmail`: a user by email address (needs `users:read.email`).
    ///
    /// Its error codes: [`LookupByEmail`](crate::methods::LookupByEmail#errors); their categories:
    /// [`Error::is_auth`], [`Error::is_not_found`], ….
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use slack_sessions_client::methods::LookupByEmailArgs;
    ///
    /// let found = client.lookup_by_email(LookupByEmailArgs::new("ada@example.com")).await?;
    /// println!("{}", found.user.id);
    /// # Ok(()) }
    /// ```
    pub async fn lookup_by_email(
        &self,
        args: LookupByEmailArgs,
    ) -> Result<Response<LookupByEmailResponse>, Error> {
        self.call::<LookupByEmail>(args).await
    }

    /// `users.info`: one user by id (needs `users:read`; the email address only with
    /// `users:read.email`).
    ///
    /// Its error codes: [`UsersInfo`](crate::methods::UsersInfo#errors); their categories:
    /// [`Error::is_auth`], [`Error::is_not_found`], ….
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use slack_sessions_client::methods::UsersInfoArgs;
    ///
    /// let found = client.users_info(UsersInfoArgs::new("W012A3CDE")).await?;
    /// println!("{} is primary owner: {}", found.user.id, found.user.is_primary_owner);
    /// # Ok(()) }
    /// ```
    pub async fn users_info(
        &self,
        args: UsersInfoArgs,
    ) -> Result<Response<UsersInfoResponse>, Error> {
        self.call::<UsersInfo>(args).await
    }

    /// `users.list`: one page of a workspace's (or org's) users (needs `users:read`). Follow
    /// `response_metadata.next_cursor`, or use [`list_users`](Self::list_users).
    ///
    /// Its error codes: [`UsersList`](crate::methods::UsersList#errors); their categories:
    /// [`Error::is_auth`], [`Error::is_not_found`], ….
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use slack_sessions_client::methods::UsersListArgs;
    ///
    /// let page = client.users_list(UsersListArgs::new("T012AB3CD").limit(200)).await?;
    /// println!("{} users on the first page", page.members.len());
    /// # Ok(()) }
    /// ```
    pub async fn users_list(
        &self,
        args: UsersListArgs,
    ) -> Result<Response<UsersListResponse>, Error> {
        self.call::<UsersList>(args).await
    }

    /// Every user of `users.list`, page after page (each page paced and retried like any call;
    /// a repeated cursor ends the walk with [`Error::RepeatedCursor`]). Without a `limit` the
    /// walk asks for pages of 1,000 (Slack's documented maximum).
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use futures::TryStreamExt;
    /// use slack_sessions_client::methods::UsersListArgs;
    ///
    /// let users: Vec<_> = client.list_users(UsersListArgs::new("E012AB3CD")).try_collect().await?;
    /// println!("{} users", users.len());
    /// # Ok(()) }
    /// ```
    pub fn list_users(&self, args: UsersListArgs) -> crate::pagination::Users {
        crate::pagination::Users::new(self.clone(), args)
    }
}

/// Form-encodes `fields`.
fn form_body(fields: &[(String, String)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_sessions_api::methods::{ListResponse, SetSettingsArgs};

    #[test]
    fn form_encoding_follows_the_wire_rules() {
        let args = SetSettingsArgs::new(["W1", "W2"])
            .duration(28800)
            .desktop_app_browser_quit(false);
        let body = String::from_utf8(form_body(&wire::to_form(&args))).unwrap();
        assert_eq!(
            body,
            "user_ids=W1%2CW2&duration=28800&desktop_app_browser_quit=false"
        );
        let args = ListArgs::new().cursor("dXNlcjpVMEc5V0ZYTlo=").limit(5);
        let body = String::from_utf8(form_body(&wire::to_form(&args))).unwrap();
        assert_eq!(body, "limit=5&cursor=dXNlcjpVMEc5V0ZYTlo%3D");
        let args = ResetArgs::new("W1");
        let body = String::from_utf8(form_body(&wire::to_form(&args))).unwrap();
        assert_eq!(body, "user_id=W1");
        assert_eq!(form_body(&wire::to_form(&AuthTestArgs::default())), b"");
    }

    #[test]
    fn json_encoding_follows_the_wire_rules() {
        let args = ResetBulkArgs::new(["W1", "W2"]).mobile_only(true);
        let json: serde_json::Value = serde_json::from_slice(&wire::to_json(&args)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"user_ids": ["W1", "W2"], "mobile_only": true})
        );
        let args = InvalidateArgs::new(1112275520242_u64, "W1");
        let json: serde_json::Value = serde_json::from_slice(&wire::to_json(&args)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"session_id": 1112275520242_u64, "user_id": "W1"})
        );
        assert_eq!(
            Encoding::Json.content_type(),
            "application/json; charset=utf-8"
        );
        assert_eq!(
            Encoding::Form.content_type(),
            "application/x-www-form-urlencoded"
        );
    }

    #[test]
    fn types_cross_tasks() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>(_: &T) {}
        send_sync::<Client>();
        send_sync::<Error>();
        send_sync::<Response<ListResponse>>();
        send_sync::<crate::BuildError>();
        let client = Client::new("xoxp-1").unwrap();
        send(&client.reset(ResetArgs::new("W1")));
        send(&client.list_pages(ListArgs::new()));
        send(&client.list_sessions(ListArgs::new()));
    }

    #[test]
    fn client_debug_hides_the_token() {
        let client = Client::new("xoxp-1-2-topsecret").unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("topsecret"), "{shown}");
        assert!(shown.contains("xoxp-…"), "{shown}");
        let other = client.with_token("xoxp-9-othersecret").unwrap();
        assert!(!format!("{other:?}").contains("othersecret"));
        assert!(Arc::ptr_eq(&client.inner.pacer, &other.inner.pacer));
        assert!(Arc::ptr_eq(
            &client.inner.pacer,
            &client.with_retry_policy(RetryPolicy::never()).inner.pacer
        ));
    }
}
