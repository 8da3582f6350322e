//! The server's request id on answers and errors alike, as aws-sdk-rust's `RequestId` trait
//! gives it: a failed admin write is what goes to Slack support, and support asks for it.

use crate::Response;
use crate::error::{
    CallInfo, DecodeFailure, Error, HttpError, NoAnswer, NotSent, RateLimited, RepeatedCursor,
    SlackError,
};

/// The server's request id (`x-slack-req-id`, or `x-request-id`) of an answer, or of the last
/// answer of a call that failed: `None` when no answer came (or it carried no id).
///
/// ```no_run
/// # async fn run(client: slack_sessions_client::Client) {
/// use slack_sessions_client::{RequestId, methods::ResetArgs};
///
/// match client.reset(ResetArgs::new("W0123ABC")).await {
///     Ok(answer) => println!("reset (request {:?})", answer.request_id()),
///     Err(e) => eprintln!("{e} (request {})", e.request_id().unwrap_or("-")),
/// }
/// # }
/// ```
pub trait RequestId {
    /// The request id, if the server sent one.
    fn request_id(&self) -> Option<&str>;
}

impl<T> RequestId for Response<T> {
    fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

impl RequestId for CallInfo {
    fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

impl RequestId for Error {
    fn request_id(&self) -> Option<&str> {
        self.call().request_id.as_deref()
    }
}

macro_rules! via_call {
    ($($ty:ty),*) => {$(
        impl RequestId for $ty {
            fn request_id(&self) -> Option<&str> {
                self.call.request_id.as_deref()
            }
        }
    )*};
}
via_call!(
    NotSent,
    NoAnswer,
    HttpError,
    SlackError,
    RateLimited,
    DecodeFailure,
    RepeatedCursor
);
