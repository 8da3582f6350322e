//! Typed async client for Slack's `admin.users.session.*` methods (see its own issue).

pub use slack_sessions_api as api;
