//! Walking `admin.users.session.list`: a [`Stream`] of pages and one of sessions; and
//! `users.list`: a [`Stream`] of users ([`Users`]).
//!
//! - Each page is one call with the client's pacing and retries, so a 429 or a retried error
//!   mid-walk is waited out and retried **with the same cursor**: the walk keeps its place and
//!   returns every session once.
//! - The walk ends when `next_cursor` is empty, null or absent, never because a page is empty
//!   or short (Slack may return fewer than `limit` sessions, even none, with more to come).
//! - `no_active_sessions`, which Slack documents as an error of `list` without saying when
//!   (presumably a filtered list of a user who has none), ends the walk without an error: it
//!   means there are no (more) sessions, not that the walk failed.
//! - A cursor seen before (including the one the walk started from) ends the walk with
//!   [`Error::RepeatedCursor`] instead of looping; the page that carried it is not returned.
//! - After an error the stream ends. [`Pages::cursor`] is the cursor of the page that failed,
//!   so a new walk can resume there with [`ListArgs::cursor`].
//! - A page is asked for when the stream is polled for it, as AWS paginators do: taking one
//!   session and dropping the stream costs one call of the method's budget (tier 2: 20 a
//!   minute). With [`Pages::prefetch`]`(true)` the next page is asked for as soon as a page's
//!   cursor is read, in a task of its own, so the server works on page N+1 while page N is
//!   decoded and consumed: faster for a long walk, at the price of one call too many for a
//!   walk dropped early (its request is aborted, but it may have been sent). The walk yields
//!   once before it decodes a page, so that on a current-thread runtime too the request goes
//!   out first. A page that ends as Slack's do, `"response_metadata":{"next_cursor":"…"}}`,
//!   has its cursor read from there, before the rest of the page is read at all; any other
//!   page is read in full first.

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::Stream;
use futures::future::BoxFuture;
use slack_sessions_api::methods::{
    ActiveSession, List, ListArgs, ListResponse, User, UsersList, UsersListArgs,
};
use slack_sessions_api::{ErrorCode, Method, UserId};
use tokio::task::JoinHandle;

use crate::answer::{Raw, decode_body};
use crate::error::{CallInfo, RepeatedCursor};
use crate::{Client, Error, RequestId, Response};

/// A page whose envelope said `ok`, its body not yet decoded.
type RawPage = Result<Response<Raw>, Error>;
type Fetch = Box<dyn FnMut(ListArgs) -> BoxFuture<'static, RawPage> + Send>;

/// A page request running in its own task; aborted when dropped.
struct InFlight(JoinHandle<RawPage>);

impl InFlight {
    fn spawn(fut: BoxFuture<'static, RawPage>) -> Self {
        InFlight(tokio::spawn(fut))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Future for InFlight {
    type Output = RawPage;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RawPage> {
        match ready!(Pin::new(&mut self.0).poll(cx)) {
            Ok(page) => Poll::Ready(page),
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            // Only `Drop` aborts the task, and then nothing polls it any more.
            Err(_) => unreachable!("a page request is aborted only when dropped"),
        }
    }
}

/// The pages of a `list` walk; made by [`Client::list_pages`].
#[must_use = "streams do nothing unless polled"]
pub struct Pages {
    fetch: Fetch,
    args: ListArgs,
    seen: HashSet<String>,
    pages: u64,
    done: bool,
    prefetch: bool,
    in_flight: Option<InFlight>,
    /// A page to return before fetching: the rest of one a [`Sessions`] walk had begun.
    pending: Option<Response<ListResponse>>,
    /// A page whose next page was just asked for, and that page's cursor: decoded once the
    /// request task has run.
    undecoded: Option<(Response<Raw>, String)>,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("args", &self.args)
            .field("pages", &self.pages)
            .field("done", &self.done)
            .field("prefetch", &self.prefetch)
            .finish_non_exhaustive()
    }
}

impl Pages {
    pub(crate) fn new(client: Client, args: ListArgs) -> Self {
        Self::with_fetch(
            Box::new(move |args| {
                let client = client.clone();
                Box::pin(async move { client.call_raw::<List>(&args).await })
            }),
            args,
        )
    }

    /// Every session of `user` in the token's org: the org id is asked for (once per client)
    /// with the first page.
    pub(crate) fn in_org(client: Client, user: UserId) -> Self {
        Self::with_fetch(
            Box::new(move |mut args: ListArgs| {
                let client = client.clone();
                Box::pin(async move {
                    if args.team_id.is_none() {
                        args.team_id = Some(client.org_id().await?);
                    }
                    client.call_raw::<List>(&args).await
                })
            }),
            {
                let mut args = ListArgs::new();
                args.user_id = Some(user);
                args
            },
        )
    }

    fn with_fetch(fetch: Fetch, args: ListArgs) -> Self {
        let seen = args.cursor.iter().cloned().collect();
        Pages {
            fetch,
            args,
            seen,
            pages: 0,
            done: false,
            prefetch: false,
            in_flight: None,
            pending: None,
            undecoded: None,
        }
    }

    /// Ask for the next page as soon as a page's cursor is known (`true`), or only when the
    /// stream is polled for it (`false`, the default). See the [module docs](self).
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use futures::TryStreamExt;
    /// use slack_sessions_client::methods::ListArgs;
    ///
    /// // A long export: overlap the server's work on the next page with this one's.
    /// let mut pages = client.list_pages(ListArgs::new()).prefetch(true);
    /// while let Some(page) = pages.try_next().await? {
    ///     println!("{} sessions", page.active_sessions.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn prefetch(mut self, prefetch: bool) -> Self {
        self.prefetch = prefetch;
        self
    }

    /// The cursor of the next page to fetch: `None` before the first page and after the last.
    /// After an error it is the cursor of the page that failed, where a new walk can resume.
    pub fn cursor(&self) -> Option<&str> {
        self.args.cursor.as_deref()
    }

    /// True once the stream has ended (after the last page or an error).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Pages returned so far.
    pub fn pages_fetched(&self) -> u64 {
        self.pages
    }

    /// Decodes a page; once it has decoded, the walk moves on to `next`.
    fn decode(
        &mut self,
        raw: Response<Raw>,
        next: Option<String>,
    ) -> Poll<Option<Result<Response<ListResponse>, Error>>> {
        let page = match decode_body::<ListResponse>(List::NAME, raw) {
            Ok(page) => page,
            Err(err) => return self.fail(err),
        };
        self.done = next.is_none();
        self.args.cursor = next;
        self.pages += 1;
        Poll::Ready(Some(Ok(page)))
    }

    fn fail(&mut self, err: Error) -> Poll<Option<Result<Response<ListResponse>, Error>>> {
        self.done = true;
        self.in_flight = None;
        Poll::Ready(Some(Err(err)))
    }
}

impl Stream for Pages {
    type Item = Result<Response<ListResponse>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(page) = this.pending.take() {
            return Poll::Ready(Some(Ok(page)));
        }
        if let Some((raw, next)) = this.undecoded.take() {
            return this.decode(raw, Some(next));
        }
        if this.done {
            return Poll::Ready(None);
        }
        let fut = match &mut this.in_flight {
            Some(fut) => fut,
            None => this
                .in_flight
                .insert(InFlight::spawn((this.fetch)(this.args.clone()))),
        };
        let result = ready!(Pin::new(fut).poll(cx));
        this.in_flight = None;
        let raw = match result {
            Ok(raw) => raw,
            Err(err) if err.code() == Some(&ErrorCode::NoActiveSessions) => {
                // Documented as an error of `list`, unexplained: read as "no (more) sessions".
                this.done = true;
                this.args.cursor = None;
                return Poll::Ready(None);
            }
            Err(err) => return this.fail(err),
        };
        let next = raw.next_cursor().map(str::to_owned);
        if let Some(next) = &next {
            if !this.seen.insert(next.clone()) {
                tracing::warn!(cursor = %next, page = this.pages + 1, "repeated list cursor");
                return this.fail(Error::RepeatedCursor(Box::new(RepeatedCursor {
                    call: CallInfo::new(List::NAME),
                    cursor: next.clone(),
                    page: this.pages + 1,
                })));
            }
            if this.prefetch {
                let mut args = this.args.clone();
                args.cursor = Some(next.clone());
                this.in_flight = Some(InFlight::spawn((this.fetch)(args)));
                // Yield once before decoding, so that the request task runs and its request
                // goes out: on a current-thread runtime nothing else runs while this task
                // decodes, and the server would see the request only after the decode.
                this.undecoded = Some((raw, next.clone()));
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        this.decode(raw, next)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done && self.pending.is_none() {
            (0, Some(0))
        } else {
            (usize::from(self.pending.is_some()), None)
        }
    }
}

/// The sessions of a `list` walk, one by one; made by [`Client::list_sessions`]. Each page's
/// request id stays at hand: [`request_id`](RequestId::request_id) is that of the page the last
/// session came from, and [`pages`](Self::pages) turns the walk into its pages.
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct Sessions {
    pages: Pages,
    /// The current page's sessions not returned yet (taken from the page as it came: no copy).
    buffered: std::vec::IntoIter<ActiveSession>,
    /// The current page's answer, its sessions taken out.
    page: Option<Response<()>>,
}

impl Sessions {
    pub(crate) fn new(pages: Pages) -> Self {
        Sessions {
            pages,
            buffered: Vec::new().into_iter(),
            page: None,
        }
    }

    /// Pages fetched so far.
    pub fn pages_fetched(&self) -> u64 {
        self.pages.pages_fetched()
    }

    /// See [`Pages::prefetch`] (off by default).
    pub fn prefetch(mut self, prefetch: bool) -> Self {
        self.pages = self.pages.prefetch(prefetch);
        self
    }

    /// The walk by pages, each an answer with its request id, warnings and cursor. The
    /// sessions of the current page not returned yet come first, as a page of their own with
    /// that page's answer; then the walk goes on where it was.
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
    /// use futures::TryStreamExt;
    /// use slack_sessions_client::{RequestId, methods::ListArgs};
    ///
    /// let mut pages = client.list_sessions(ListArgs::new()).pages();
    /// while let Some(page) = pages.try_next().await? {
    ///     println!("{} sessions (request {:?})", page.active_sessions.len(), page.request_id());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn pages(self) -> Pages {
        let mut pages = self.pages;
        if let Some(page) = self.page
            && self.buffered.len() > 0
        {
            let sessions: Vec<ActiveSession> = self.buffered.collect();
            pages.pending = Some(page.map(|()| ListResponse::new(sessions)));
        }
        pages
    }
}

impl RequestId for Sessions {
    /// The request id of the page the last session returned came from.
    fn request_id(&self) -> Option<&str> {
        self.page.as_ref().and_then(|p| p.request_id.as_deref())
    }
}

impl Stream for Sessions {
    type Item = Result<ActiveSession, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(session) = this.buffered.next() {
                return Poll::Ready(Some(Ok(session)));
            }
            match ready!(Pin::new(&mut this.pages).poll_next(cx)) {
                Some(Ok(page)) => {
                    let mut sessions = Vec::new();
                    let page = page.map(|body| sessions = body.active_sessions);
                    this.buffered = sessions.into_iter();
                    this.page = Some(page);
                }
                Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                None => return Poll::Ready(None),
            }
        }
    }
}

/// The users of a `users.list` walk; made by [`Client::list_users`].
#[must_use = "streams do nothing unless polled"]
pub struct Users {
    inner: futures::stream::BoxStream<'static, Result<User, Error>>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users").finish_non_exhaustive()
    }
}

/// Where a `users.list` walk is.
struct UserWalk {
    client: Client,
    args: UsersListArgs,
    seen: HashSet<String>,
    pages: u64,
    buffered: VecDeque<User>,
    done: bool,
}

impl Users {
    pub(crate) fn new(client: Client, mut args: UsersListArgs) -> Self {
        if args.limit.is_none() {
            args.limit = Some(slack_sessions_api::validate::MAX_USERS_LIST_LIMIT);
        }
        let walk = UserWalk {
            client,
            seen: args.cursor.iter().cloned().collect(),
            args,
            pages: 0,
            buffered: VecDeque::new(),
            done: false,
        };
        let inner = futures::stream::try_unfold(walk, |mut walk| async move {
            loop {
                if let Some(user) = walk.buffered.pop_front() {
                    return Ok(Some((user, walk)));
                }
                if walk.done {
                    return Ok(None);
                }
                let page = walk.client.call::<UsersList>(walk.args.clone()).await?;
                walk.pages += 1;
                let next = page.metadata.next_cursor.clone().filter(|c| !c.is_empty());
                walk.buffered.extend(page.body.members);
                match next {
                    None => walk.done = true,
                    Some(cursor) if !walk.seen.insert(cursor.clone()) => {
                        return Err(Error::RepeatedCursor(Box::new(RepeatedCursor {
                            call: CallInfo::new(UsersList::NAME),
                            cursor,
                            page: walk.pages,
                        })));
                    }
                    Some(cursor) => walk.args.cursor = Some(cursor),
                }
            }
        });
        Users {
            inner: Box::pin(inner),
        }
    }
}

impl Stream for Users {
    type Item = Result<User, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use futures::{StreamExt, TryStreamExt};
    use slack_sessions_api::methods::DeviceRecord;
    use slack_sessions_api::{ErrorCode, ResponseMetadata, SessionId};

    use super::*;
    use crate::SlackError;

    fn session(id: u64) -> ActiveSession {
        ActiveSession::new(
            "W1".into(),
            "T1".into(),
            SessionId(id),
            DeviceRecord::default(),
            None,
        )
    }

    fn page(ids: &[u64], next: Option<&str>) -> RawPage {
        let mut metadata = ResponseMetadata::default();
        metadata.next_cursor = next.map(str::to_owned);
        let body = ListResponse::new(ids.iter().copied().map(session).collect());
        Ok(Response {
            body: Raw::read(serde_json::to_vec(&body).unwrap().into()),
            warnings: vec![],
            metadata,
            scopes: None,
            accepted_scopes: None,
            request_id: None,
            attempts: 1,
            paced: std::time::Duration::ZERO,
        })
    }

    fn failure() -> RawPage {
        Err(Error::Slack(Box::new(SlackError {
            call: CallInfo::new(List::NAME),
            code: ErrorCode::InternalError,
            needed: None,
            provided: None,
            messages: vec![],
            warnings: vec![],
            status: 200,
            raw_body: String::new(),
        })))
    }

    /// A walk over scripted answers; records the cursor each fetch was asked for.
    fn scripted(
        start: ListArgs,
        answers: Vec<RawPage>,
    ) -> (Pages, Arc<Mutex<Vec<Option<String>>>>) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let mut answers = answers.into_iter();
        let log = Arc::clone(&asked);
        let fetch: Fetch = Box::new(move |args: ListArgs| {
            let answer = answers.next().expect("no more scripted answers");
            let log = Arc::clone(&log);
            // Logged when the request runs (a task may be spawned and not yet run).
            Box::pin(async move {
                log.lock().unwrap().push(args.cursor.clone());
                answer
            })
        });
        (Pages::with_fetch(fetch, start), asked)
    }

    #[tokio::test]
    async fn follows_cursors_past_empty_pages_to_the_end() {
        let (pages, asked) = scripted(
            ListArgs::new(),
            vec![
                page(&[1, 2], Some("a")),
                page(&[], Some("b")),
                page(&[3], Some("")),
            ],
        );
        let sessions: Vec<_> = Sessions::new(pages).try_collect().await.unwrap();
        let ids: Vec<u64> = sessions.iter().map(|s| s.session_id.0).collect();
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(
            *asked.lock().unwrap(),
            [None, Some("a".to_owned()), Some("b".to_owned())]
        );
    }

    fn with_id(mut page: RawPage, id: &str) -> RawPage {
        if let Ok(p) = &mut page {
            p.request_id = Some(id.to_owned());
        }
        page
    }

    #[tokio::test]
    async fn each_page_keeps_its_request_id_on_the_session_walk() {
        let (pages, _) = scripted(
            ListArgs::new(),
            vec![
                with_id(page(&[1, 2, 3], Some("a")), "req-1"),
                with_id(page(&[4], None), "req-2"),
            ],
        );
        let mut sessions = Sessions::new(pages);
        assert_eq!(sessions.request_id(), None);
        assert_eq!(sessions.next().await.unwrap().unwrap().session_id.0, 1);
        assert_eq!(sessions.request_id(), Some("req-1"));
        // As pages: the rest of the first page, with its id, then the next one.
        let pages: Vec<_> = sessions.pages().try_collect().await.unwrap();
        let seen: Vec<(Vec<u64>, Option<&str>)> = pages
            .iter()
            .map(|p| {
                let ids = p.active_sessions.iter().map(|s| s.session_id.0).collect();
                (ids, p.request_id())
            })
            .collect();
        assert_eq!(
            seen,
            [(vec![2, 3], Some("req-1")), (vec![4], Some("req-2"))]
        );
    }

    #[tokio::test]
    async fn no_active_sessions_ends_the_walk_without_an_error() {
        let none = || {
            let Err(Error::Slack(mut e)) = failure() else {
                unreachable!()
            };
            e.code = ErrorCode::NoActiveSessions;
            Err(Error::Slack(e))
        };
        let (pages, _) = scripted(ListArgs::new(), vec![none()]);
        let sessions: Vec<_> = Sessions::new(pages).try_collect().await.unwrap();
        assert!(sessions.is_empty());
        let (pages, _) = scripted(ListArgs::new(), vec![page(&[1], Some("a")), none()]);
        let sessions: Vec<_> = Sessions::new(pages).try_collect().await.unwrap();
        assert_eq!(sessions.len(), 1);
    }

    #[tokio::test]
    async fn an_absent_cursor_ends_the_walk() {
        let (mut pages, _) = scripted(ListArgs::new().limit(2), vec![page(&[1], None)]);
        assert!(pages.next().await.unwrap().is_ok());
        assert!(pages.next().await.is_none());
        assert!(pages.is_done());
        assert_eq!(pages.cursor(), None);
        assert_eq!(pages.pages_fetched(), 1);
    }

    #[tokio::test]
    async fn a_repeated_cursor_ends_the_walk_with_an_error() {
        let (mut pages, _) = scripted(
            ListArgs::new(),
            vec![
                page(&[1], Some("a")),
                page(&[2], Some("b")),
                page(&[1], Some("a")),
            ],
        );
        assert!(pages.next().await.unwrap().is_ok());
        assert!(pages.next().await.unwrap().is_ok());
        let err = pages.next().await.unwrap().unwrap_err();
        let Error::RepeatedCursor(e) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(e.cursor, "a");
        assert_eq!(e.page, 3);
        assert!(err.to_string().contains("came back a second time"), "{err}");
        assert!(pages.next().await.is_none());
    }

    #[tokio::test]
    async fn the_starting_cursor_counts_as_seen() {
        let (mut pages, _) = scripted(ListArgs::new().cursor("x"), vec![page(&[1], Some("x"))]);
        assert!(matches!(
            pages.next().await.unwrap(),
            Err(Error::RepeatedCursor(_))
        ));
    }

    #[tokio::test]
    async fn an_error_ends_the_walk_and_names_where_to_resume() {
        let (mut pages, _) = scripted(ListArgs::new(), vec![page(&[1], Some("a")), failure()]);
        assert!(pages.next().await.unwrap().is_ok());
        assert!(pages.next().await.unwrap().is_err());
        assert!(pages.next().await.is_none());
        assert_eq!(pages.cursor(), Some("a"));
        assert_eq!(pages.pages_fetched(), 1);
    }

    #[tokio::test]
    async fn without_prefetch_a_page_is_asked_for_only_when_polled_for() {
        let (mut pages, asked) = scripted(
            ListArgs::new(),
            vec![page(&[1], Some("a")), page(&[2], None)],
        );
        assert!(pages.next().await.unwrap().is_ok());
        assert_eq!(*asked.lock().unwrap(), [None]);
        assert!(pages.next().await.unwrap().is_ok());
        assert!(pages.next().await.is_none());
        assert_eq!(asked.lock().unwrap().len(), 2);
    }

    /// On the current-thread runtime of `#[tokio::test]`, the page request task runs only when
    /// the walk's task yields: the first page came back before the second was asked for, and
    /// the server saw each request only after the page before it was decoded.
    #[tokio::test]
    async fn the_next_page_is_asked_for_before_the_current_one_is_consumed() {
        let (pages, asked) = scripted(
            ListArgs::new(),
            vec![page(&[1], Some("a")), page(&[2], None)],
        );
        let mut pages = pages.prefetch(true);
        let first = pages.next().await.unwrap().unwrap();
        assert_eq!(first.active_sessions.len(), 1);
        assert_eq!(*asked.lock().unwrap(), [None, Some("a".to_owned())]);
        assert_eq!(pages.cursor(), Some("a"));
        assert!(pages.next().await.unwrap().is_ok());
        assert!(pages.next().await.is_none());
        assert_eq!(
            asked.lock().unwrap().len(),
            2,
            "nothing asked after the last page"
        );
    }

    #[tokio::test]
    async fn with_prefetch_failures_end_the_walk_where_it_can_resume() {
        // A page that does not decode.
        let mut bad = page(&[], Some("b")).unwrap();
        bad.body = Raw::read(bytes::Bytes::from_static(
            br#"{"ok":true,"active_sessions":[{"session_id":"x"}]}"#,
        ));
        let (pages, _) = scripted(
            ListArgs::new(),
            vec![page(&[1], Some("a")), Ok(bad), page(&[2], None)],
        );
        let mut pages = pages.prefetch(true);
        assert!(pages.next().await.unwrap().is_ok());
        assert!(matches!(pages.next().await.unwrap(), Err(Error::Decode(_))));
        assert!(pages.next().await.is_none());
        assert_eq!(pages.cursor(), Some("a"), "the page that failed");
        assert_eq!(pages.pages_fetched(), 1);
        // A call that fails, and a repeated cursor.
        let (pages, _) = scripted(ListArgs::new(), vec![page(&[1], Some("a")), failure()]);
        let mut pages = pages.prefetch(true);
        assert!(pages.next().await.unwrap().is_ok());
        assert!(pages.next().await.unwrap().is_err());
        assert_eq!(pages.cursor(), Some("a"));
        let (pages, _) = scripted(
            ListArgs::new(),
            vec![page(&[1], Some("a")), page(&[2], Some("a"))],
        );
        let mut pages = pages.prefetch(true);
        assert!(pages.next().await.unwrap().is_ok());
        let err = pages.next().await.unwrap().unwrap_err();
        assert!(
            matches!(&err, Error::RepeatedCursor(e) if e.page == 2),
            "{err:?}"
        );
        assert!(pages.next().await.is_none());
        // Every session once, in order, across many pages decoded in parallel.
        let answers = (0..20u64)
            .map(|i| {
                let next = (i < 19).then(|| format!("c{i}"));
                page(&[2 * i, 2 * i + 1], next.as_deref())
            })
            .collect();
        let (pages, _) = scripted(ListArgs::new(), answers);
        let ids: Vec<u64> = Sessions::new(pages.prefetch(true))
            .map_ok(|s| s.session_id.0)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(ids, (0..40).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_page_that_does_not_decode_ends_the_walk_where_it_can_resume() {
        let mut bad = page(&[], Some("b")).unwrap();
        bad.body = Raw::read(bytes::Bytes::from_static(
            br#"{"ok":true,"active_sessions":[{"session_id":"x"}]}"#,
        ));
        let (mut pages, _) = scripted(
            ListArgs::new(),
            vec![page(&[1], Some("a")), Ok(bad), page(&[2], None)],
        );
        assert!(pages.next().await.unwrap().is_ok());
        let err = pages.next().await.unwrap().unwrap_err();
        let Error::Decode(e) = &err else {
            panic!("{err:?}")
        };
        assert!(e.path.starts_with("active_sessions[0]"), "{}", e.path);
        assert!(pages.next().await.is_none());
        assert_eq!(pages.cursor(), Some("a"), "the page that failed");
    }
}
