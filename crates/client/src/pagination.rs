//! Walking `admin.users.session.list`: a [`Stream`] of pages and one of sessions.
//!
//! - Each page is one [`Client::call`], so a 429 or a retried error mid-walk is waited out and
//!   retried **with the same cursor**: the walk keeps its place and returns every session once.
//! - The walk ends when `next_cursor` is empty, null or absent, never because a page is empty
//!   or short (Slack may return fewer than `limit` sessions, even none, with more to come).
//! - A cursor seen before (including the one the walk started from) ends the walk with
//!   [`Error::RepeatedCursor`] instead of looping; the page that carried it is not returned.
//! - After an error the stream ends. [`Pages::cursor`] is the cursor of the page that failed,
//!   so a new walk can resume there with [`ListArgs::cursor`].

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::Stream;
use futures::future::BoxFuture;
use slack_sessions_api::Method;
use slack_sessions_api::methods::{ActiveSession, List, ListArgs, ListResponse};

use crate::error::{CallInfo, RepeatedCursor};
use crate::{Client, Error, Response};

type PageFuture = BoxFuture<'static, Result<Response<ListResponse>, Error>>;

/// The pages of a `list` walk; made by [`Client::list_pages`].
#[must_use = "streams do nothing unless polled"]
pub struct Pages {
    client: Client,
    args: ListArgs,
    seen: HashSet<String>,
    pages: u64,
    done: bool,
    in_flight: Option<PageFuture>,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("args", &self.args)
            .field("pages", &self.pages)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Pages {
    pub(crate) fn new(client: Client, args: ListArgs) -> Self {
        let seen = args.cursor.iter().cloned().collect();
        Pages {
            client,
            args,
            seen,
            pages: 0,
            done: false,
            in_flight: None,
        }
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
}

impl Stream for Pages {
    type Item = Result<Response<ListResponse>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let fut = this.in_flight.get_or_insert_with(|| {
            let client = this.client.clone();
            let args = this.args.clone();
            Box::pin(async move { client.call::<List>(args).await })
        });
        let result = ready!(fut.as_mut().poll(cx));
        this.in_flight = None;
        let page = match result {
            Ok(page) => page,
            Err(err) => {
                this.done = true;
                return Poll::Ready(Some(Err(err)));
            }
        };
        match page.next_cursor() {
            None => {
                this.done = true;
                this.args.cursor = None;
            }
            Some(next) => {
                if !this.seen.insert(next.to_owned()) {
                    this.done = true;
                    tracing::warn!(cursor = next, page = this.pages + 1, "repeated list cursor");
                    return Poll::Ready(Some(Err(Error::RepeatedCursor(Box::new(
                        RepeatedCursor {
                            call: CallInfo::new(List::NAME),
                            cursor: next.to_owned(),
                            page: this.pages + 1,
                        },
                    )))));
                }
                this.args.cursor = Some(next.to_owned());
            }
        }
        this.pages += 1;
        Poll::Ready(Some(Ok(page)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done { (0, Some(0)) } else { (0, None) }
    }
}

/// The sessions of a `list` walk, one by one; made by [`Client::list_sessions`].
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct Sessions {
    pages: Pages,
    buffered: VecDeque<ActiveSession>,
}

impl Sessions {
    pub(crate) fn new(pages: Pages) -> Self {
        Sessions {
            pages,
            buffered: VecDeque::new(),
        }
    }

    /// Pages fetched so far.
    pub fn pages_fetched(&self) -> u64 {
        self.pages.pages_fetched()
    }

    /// The walk by pages, with the sessions not yet returned from the current page dropped.
    pub fn into_pages(self) -> Pages {
        self.pages
    }
}

impl Stream for Sessions {
    type Item = Result<ActiveSession, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(session) = this.buffered.pop_front() {
                return Poll::Ready(Some(Ok(session)));
            }
            match ready!(Pin::new(&mut this.pages).poll_next(cx)) {
                Some(Ok(page)) => this.buffered.extend(page.body.active_sessions),
                Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                None => return Poll::Ready(None),
            }
        }
    }
}
