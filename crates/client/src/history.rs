//! Slack's Audit Logs API: an org's history, read with the same retries and pacing as the Web
//! API's methods (Slack's reference:
//! <https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference>).
//!
//! - [`Client::audit_logs`] walks every entry of a filter, page after page, as a
//!   [`Stream`](futures::Stream); [`Client::audit_log_pages`] walks the pages,
//!   [`Client::audit_logs_page`] asks for one.
//! - The API is another host (`https://api.slack.com/audit/v1/`, or the emulator's
//!   `…/audit/v1/`): [`ClientBuilder::audit_url`](crate::ClientBuilder::audit_url).
//! - Its rate limit (tier 3, 50 calls a minute) is counted for the whole org, not per app or
//!   token: the client paces its `/logs` calls against one budget shared by every clone and
//!   every [`Client::with_token`] client, whatever their token.
//! - Its answers have no `ok` field; its errors are `{"ok":false,"error":"…"}` with an HTTP
//!   status of their own, read into the same [`Error`]s (`invalid_authentication` is
//!   [`Error::is_auth`]); an HTTP 401 without a body, which Slack answers for a bad token, is
//!   `invalid_authentication` too.
//! - A walk stops with [`Error::RepeatedCursor`] on a cursor it has seen before, like the
//!   session list's.

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use futures::future::BoxFuture;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap, RETRY_AFTER};
use serde::Deserialize;
use slack_sessions_api::audit_logs::{
    AuditActions, AuditActionsResponse, AuditLogs, AuditLogsArgs, AuditLogsResponse, AuditSchemas,
    AuditSchemasResponse, Entry, path_of,
};
use slack_sessions_api::{ErrorCode, Method, MethodInfo};
use tokio::time::Instant;
use tracing::Instrument;

use crate::answer::{
    Raw, decode_body, header_str, parse_retry_after, request_id, scope_list, transport_error,
};
use crate::error::{CallInfo, NoAnswerReason, NotSent, NotSentReason, RepeatedCursor, SlackError};
use crate::pacing::Refused;
use crate::retry::Decision;
use crate::{Client, Error, Response, Token};

/// The key of the org-wide budget in the pacer: no token is empty, so it is no token's.
fn org_wide() -> Token {
    Token::new("")
}

impl Client {
    /// One page of `GET /audit/v1/logs`: the org's entries matching `args`, newest first.
    /// The next page's cursor is [`Response::next_cursor`].
    ///
    /// Needs an org owner's user token with `auditlogs:read` (else `invalid_authentication`).
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use slack_sessions_client::api::audit_logs::{AuditLogsArgs, action};
    ///
    /// let page = client.audit_logs_page(AuditLogsArgs::new().action(action::ANOMALY).limit(10)).await?;
    /// for entry in &page.entries {
    ///     println!("{} {} {:?}", entry.date_create, entry.action, entry.context.ip_address);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn audit_logs_page(
        &self,
        args: AuditLogsArgs,
    ) -> Result<Response<AuditLogsResponse>, Error> {
        let raw = self.audit_call::<AuditLogs>(args.to_query()).await?;
        let mut page = decode_body::<AuditLogsResponse>(AuditLogs::NAME, raw)?;
        page.metadata = page.body.response_metadata.clone().unwrap_or_default();
        Ok(page)
    }

    /// Every entry of the org's audit log that matches `args`, newest first, as a
    /// [`Stream`](futures::Stream): follows `next_cursor` page after page (each page paced at
    /// tier 3 for the whole org, and retried like any call), and stops with
    /// [`Error::RepeatedCursor`] on a cursor seen before.
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use futures::TryStreamExt;
    /// use slack_sessions_client::api::audit_logs::{AuditLogsArgs, action};
    ///
    /// // Where W0123ABC signed in from this week.
    /// let week_ago = 1_764_547_200;
    /// let filter = AuditLogsArgs::new()
    ///     .actor("W0123ABC")
    ///     .actions([action::USER_LOGIN, action::USER_LOGIN_FAILED])
    ///     .oldest(week_ago);
    /// let mut entries = client.audit_logs(filter);
    /// while let Some(e) = entries.try_next().await? {
    ///     println!("{} {} {:?} {:?}", e.date_create, e.action, e.context.ip_address, e.session_id());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn audit_logs(&self, args: AuditLogsArgs) -> AuditLogEntries {
        AuditLogEntries {
            pages: self.audit_log_pages(args),
            buffered: VecDeque::new(),
        }
    }

    /// The pages of [`audit_logs`](Self::audit_logs); [`AuditLogPages::cursor`] tells where a
    /// walk that failed can resume.
    pub fn audit_log_pages(&self, args: AuditLogsArgs) -> AuditLogPages {
        let client = self.clone();
        AuditLogPages::with_fetch(
            Box::new(move |args| {
                let client = client.clone();
                Box::pin(async move { client.audit_logs_page(args).await })
            }),
            args,
        )
    }

    /// `GET /audit/v1/actions`: the action names, by category. No token needed.
    pub async fn audit_actions(&self) -> Result<Response<AuditActionsResponse>, Error> {
        let raw = self.audit_call::<AuditActions>(Vec::new()).await?;
        decode_body(AuditActions::NAME, raw)
    }

    /// `GET /audit/v1/schemas`: the kinds of objects entries describe. No token needed.
    pub async fn audit_schemas(&self) -> Result<Response<AuditSchemasResponse>, Error> {
        let raw = self.audit_call::<AuditSchemas>(Vec::new()).await?;
        decode_body(AuditSchemas::NAME, raw)
    }

    /// A `GET` of an Audit Logs endpoint, paced (org-wide) and retried, up to a successful
    /// answer whose body is left undecoded.
    async fn audit_call<M: Method>(
        &self,
        query: Vec<(String, String)>,
    ) -> Result<Response<Raw>, Error> {
        let info = MethodInfo::of::<M>();
        async move {
            let inner = &self.inner;
            let not_sent = |source: Option<crate::BoxError>, reason| {
                Error::NotSent(Box::new(NotSent {
                    call: CallInfo::new(M::NAME),
                    reason,
                    source,
                }))
            };
            let mut url = inner
                .audit
                .join(path_of::<M>())
                .map_err(|e| not_sent(Some(Box::new(e)), NotSentReason::Build))?;
            if !query.is_empty() {
                url.query_pairs_mut().extend_pairs(&query);
            }
            let key = org_wide();
            let mut attempt = 0u32;
            let mut earlier_ambiguous = false;
            let mut first_sent: Option<Instant> = None;
            let (mut paced, mut paced_since_first_send) = (Duration::ZERO, Duration::ZERO);
            loop {
                attempt += 1;
                let waited = match inner.pacer.acquire(&key, M::NAME, M::TIER, None).await {
                    Ok(waited) => waited,
                    Err(refused) => {
                        let reason = match refused {
                            Refused::MaxWait(wait) => NotSentReason::PacingWait { wait },
                            Refused::Deadline(wait) => NotSentReason::Deadline { wait },
                        };
                        let mut e = not_sent(None, reason);
                        let call = e.call_mut();
                        call.attempts = attempt;
                        call.paced = paced;
                        return Err(e);
                    }
                };
                paced += waited;
                if first_sent.is_some() {
                    paced_since_first_send += waited;
                }
                let started = *first_sent.get_or_insert_with(Instant::now);
                let mut err = match self.audit_send(M::NAME, &url).await {
                    Ok(mut response) => {
                        response.attempts = attempt;
                        response.paced = paced;
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
                    let wait = limited.retry_after.unwrap_or(inner.retry.default_retry_after);
                    inner.pacer.pause(&key, M::NAME, M::TIER, wait);
                }
                let elapsed = started.elapsed().saturating_sub(paced_since_first_send);
                match inner.retry.decide(
                    &info,
                    attempt,
                    &err.outcome(),
                    elapsed,
                    rand::random::<f64>(),
                ) {
                    Decision::RetryAfter(delay) => {
                        tracing::info!(attempt, retry_in_ms = delay.as_millis() as u64, error = %err, "retrying");
                        earlier_ambiguous |= err.this_attempt_may_have_applied();
                        tokio::time::sleep(delay).await;
                    }
                    Decision::GiveUp(why) => {
                        tracing::debug!(attempt, ?why, error = %err, "giving up");
                        return Err(err);
                    }
                }
            }
        }
        .instrument(tracing::debug_span!("slack_call", method = M::NAME))
        .await
    }

    async fn audit_send(
        &self,
        method: &'static str,
        url: &reqwest::Url,
    ) -> Result<Response<Raw>, Error> {
        let inner = &self.inner;
        let answer = inner
            .http
            .get(url.clone())
            .header(AUTHORIZATION, inner.auth.clone())
            .send()
            .await
            .map_err(|e| transport_error(CallInfo::new(method), e, None))?;
        let status = answer.status();
        let headers = answer.headers().clone();
        let bytes = answer.bytes().await.map_err(|e| {
            let mut call = CallInfo::new(method);
            call.request_id = request_id(&headers);
            transport_error(call, e, Some(status.as_u16()))
        })?;
        if let Some(limits) = header_str(&headers, "x-slack-sessions-rate-limits") {
            inner.pacer.observe_server_limits(limits);
        }
        classify(CallInfo::new(method), status, &headers, bytes)
    }
}

/// An Audit Logs API error body.
#[derive(Deserialize)]
struct ErrorBody {
    ok: Option<bool>,
    error: Option<ErrorCode>,
    needed: Option<String>,
    provided: Option<String>,
}

/// Turns an Audit Logs API answer into a success with its body still to decode, or the error
/// of the stage that failed.
fn classify(
    mut call: CallInfo,
    status: StatusCode,
    headers: &HeaderMap,
    bytes: Bytes,
) -> Result<Response<Raw>, Error> {
    call.request_id = request_id(headers);
    let retry_after = parse_retry_after(header_str(headers, RETRY_AFTER.as_str()));
    let code = status.as_u16();
    let raw = || String::from_utf8_lossy(&bytes).into_owned();
    let error = serde_json::from_slice::<ErrorBody>(&bytes)
        .ok()
        .filter(|e| e.ok == Some(false));
    if status == StatusCode::TOO_MANY_REQUESTS
        || error.as_ref().is_some_and(|e| {
            matches!(
                e.error,
                Some(ErrorCode::RateLimited | ErrorCode::Ratelimited)
            )
        })
    {
        return Err(Error::rate_limited(call, retry_after, code, &bytes));
    }
    // Slack answers a bad token with a bare 401.
    let error = error
        .and_then(|e| Some((e.error?, e.needed, e.provided)))
        .or_else(|| {
            (status == StatusCode::UNAUTHORIZED).then_some((
                ErrorCode::InvalidAuthentication,
                None,
                None,
            ))
        });
    if let Some((error, needed, provided)) = error {
        return Err(Error::Slack(Box::new(SlackError {
            call,
            code: error,
            needed,
            provided,
            messages: Vec::new(),
            warnings: Vec::new(),
            status: code,
            raw_body: raw(),
        })));
    }
    if !status.is_success() {
        return Err(Error::http(call, code, retry_after, &bytes));
    }
    let no_answer = |reason| Err(Error::no_answer(call.clone(), reason, code, &bytes));
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return no_answer(NoAnswerReason::EmptyBody);
    }
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
        return no_answer(if e.is_eof() {
            NoAnswerReason::TruncatedBody
        } else {
            NoAnswerReason::NotJson
        });
    }
    Ok(Response {
        body: Raw::read(bytes),
        warnings: Vec::new(),
        metadata: Default::default(),
        scopes: scope_list(header_str(headers, "x-oauth-scopes")),
        accepted_scopes: scope_list(header_str(headers, "x-accepted-oauth-scopes")),
        request_id: call.request_id,
        attempts: 1,
        paced: Duration::ZERO,
    })
}

type Page = Result<Response<AuditLogsResponse>, Error>;
type Fetch = Box<dyn FnMut(AuditLogsArgs) -> BoxFuture<'static, Page> + Send>;

/// The pages of an audit-log walk; made by [`Client::audit_log_pages`].
#[must_use = "streams do nothing unless polled"]
pub struct AuditLogPages {
    fetch: Fetch,
    args: AuditLogsArgs,
    seen: HashSet<String>,
    pages: u64,
    done: bool,
    in_flight: Option<BoxFuture<'static, Page>>,
}

impl std::fmt::Debug for AuditLogPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLogPages")
            .field("args", &self.args)
            .field("pages", &self.pages)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl AuditLogPages {
    fn with_fetch(fetch: Fetch, args: AuditLogsArgs) -> Self {
        AuditLogPages {
            fetch,
            seen: args.cursor.iter().cloned().collect(),
            args,
            pages: 0,
            done: false,
            in_flight: None,
        }
    }

    /// The cursor of the next page to fetch: `None` before the first page and after the last.
    /// After an error it is the cursor of the page that failed, where a new walk can resume
    /// ([`AuditLogsArgs::cursor`]).
    pub fn cursor(&self) -> Option<&str> {
        self.args.cursor.as_deref()
    }

    /// Pages returned so far.
    pub fn pages_fetched(&self) -> u64 {
        self.pages
    }

    /// True once the stream has ended (after the last page or an error).
    pub fn is_done(&self) -> bool {
        self.done
    }
}

impl Stream for AuditLogPages {
    type Item = Page;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Page>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let fut = match &mut this.in_flight {
            Some(fut) => fut,
            None => this.in_flight.insert((this.fetch)(this.args.clone())),
        };
        let result = ready!(fut.as_mut().poll(cx));
        this.in_flight = None;
        let page = match result {
            Ok(page) => page,
            Err(err) => {
                this.done = true;
                return Poll::Ready(Some(Err(err)));
            }
        };
        let next = page.next_cursor().map(str::to_owned);
        if let Some(next) = &next
            && !this.seen.insert(next.clone())
        {
            tracing::warn!(cursor = %next, page = this.pages + 1, "repeated audit-log cursor");
            this.done = true;
            return Poll::Ready(Some(Err(Error::RepeatedCursor(Box::new(RepeatedCursor {
                call: CallInfo::new(AuditLogs::NAME),
                cursor: next.clone(),
                page: this.pages + 1,
            })))));
        }
        this.done = next.is_none();
        this.args.cursor = next;
        this.pages += 1;
        Poll::Ready(Some(Ok(page)))
    }
}

/// The entries of an audit-log walk, one by one, newest first; made by [`Client::audit_logs`].
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct AuditLogEntries {
    pages: AuditLogPages,
    buffered: VecDeque<Entry>,
}

impl AuditLogEntries {
    /// Pages fetched so far.
    pub fn pages_fetched(&self) -> u64 {
        self.pages.pages_fetched()
    }

    /// The walk by pages, with the entries not yet returned from the current page dropped.
    pub fn into_pages(self) -> AuditLogPages {
        self.pages
    }
}

impl Stream for AuditLogEntries {
    type Item = Result<Entry, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(entry) = this.buffered.pop_front() {
                return Poll::Ready(Some(Ok(entry)));
            }
            match ready!(Pin::new(&mut this.pages).poll_next(cx)) {
                Some(Ok(page)) => this.buffered.extend(page.body.entries),
                Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                None => return Poll::Ready(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use futures::{StreamExt, TryStreamExt};
    use reqwest::header::HeaderValue;
    use slack_sessions_api::audit_logs::{Actor, Context, Entity, EntryUser};

    use super::*;

    fn answer(
        status: u16,
        headers: &[(&'static str, &'static str)],
        body: &str,
    ) -> Result<Response<Raw>, Error> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_static(value));
        }
        classify(
            CallInfo::new(AuditLogs::NAME),
            StatusCode::from_u16(status).unwrap(),
            &map,
            Bytes::copy_from_slice(body.as_bytes()),
        )
    }

    #[test]
    fn errors_come_with_their_own_statuses() {
        let err = answer(401, &[], r#"{"ok":false,"error":"invalid_authentication"}"#).unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::InvalidAuthentication));
        assert!(err.is_auth());
        let bare = answer(401, &[], "").unwrap_err();
        assert_eq!(
            bare.code(),
            Some(&ErrorCode::InvalidAuthentication),
            "Slack's bare 401"
        );
        let err = answer(403, &[], r#"{"ok":false,"error":"feature_not_enabled"}"#).unwrap_err();
        assert!(err.is_permission());
        let err = answer(400, &[], r#"{"ok":false,"error":"invalid_cursor"}"#).unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::InvalidCursor));
        let err = answer(
            429,
            &[("retry-after", "3")],
            r#"{"ok":false,"error":"rate_limited"}"#,
        )
        .unwrap_err();
        assert!(err.is_rate_limited());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
        let err = answer(503, &[], "down").unwrap_err();
        assert!(matches!(err, Error::Http(_)) && err.is_transient());
        let err = answer(200, &[], r#"{"entries":["#).unwrap_err();
        assert!(matches!(&err, Error::NoAnswer(e) if e.reason == NoAnswerReason::TruncatedBody));
        let err = answer(200, &[], "<html>").unwrap_err();
        assert!(matches!(&err, Error::NoAnswer(e) if e.reason == NoAnswerReason::NotJson));
        // A success has no `ok`.
        let ok = answer(200, &[("x-slack-req-id", "r1")], r#"{"entries":[]}"#).unwrap();
        assert_eq!(ok.request_id.as_deref(), Some("r1"));
    }

    fn entry(id: &str) -> Entry {
        let user = EntryUser::new("W1");
        Entry::new(
            id,
            1,
            "user_login",
            Actor::user(user.clone()),
            Entity::user(user),
            Context::default(),
        )
    }

    fn page(ids: &[&str], next: Option<&str>) -> Page {
        let body =
            AuditLogsResponse::new(ids.iter().map(|i| entry(i)).collect(), next.unwrap_or(""));
        let metadata = body.response_metadata.clone().unwrap_or_default();
        Ok(Response {
            body,
            warnings: vec![],
            metadata,
            scopes: None,
            accepted_scopes: None,
            request_id: None,
            attempts: 1,
            paced: Duration::ZERO,
        })
    }

    fn scripted(answers: Vec<Page>) -> (AuditLogPages, Arc<Mutex<Vec<Option<String>>>>) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&asked);
        let mut answers = answers.into_iter();
        let fetch: Fetch = Box::new(move |args: AuditLogsArgs| {
            log.lock().unwrap().push(args.cursor.clone());
            let answer = answers.next().expect("no more scripted answers");
            Box::pin(async move { answer })
        });
        (
            AuditLogPages::with_fetch(fetch, AuditLogsArgs::new()),
            asked,
        )
    }

    #[tokio::test]
    async fn a_walk_follows_cursors_to_the_end() {
        let (pages, asked) = scripted(vec![
            page(&["a", "b"], Some("c1")),
            page(&[], Some("c2")),
            page(&["c"], None),
        ]);
        let entries = AuditLogEntries {
            pages,
            buffered: VecDeque::new(),
        };
        let ids: Vec<String> = entries.map_ok(|e| e.id).try_collect().await.unwrap();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(
            *asked.lock().unwrap(),
            [None, Some("c1".into()), Some("c2".into())]
        );
    }

    #[tokio::test]
    async fn a_repeated_cursor_ends_the_walk() {
        let (mut pages, _) = scripted(vec![page(&["a"], Some("c1")), page(&["b"], Some("c1"))]);
        assert!(pages.next().await.unwrap().is_ok());
        let err = pages.next().await.unwrap().unwrap_err();
        assert!(matches!(&err, Error::RepeatedCursor(e) if e.cursor == "c1" && e.page == 2));
        assert!(pages.next().await.is_none());
        assert_eq!(pages.cursor(), Some("c1"), "where to resume");
    }
}
