//! Slack's `admin.users.session.*` Web API as Rust types.
//!
//! This crate is the single description of the API that both sides of slack-sessions use: the
//! client encodes [`Method::Args`] and decodes [`Method::Response`]; the emulator decodes the
//! same arguments and encodes the same answers. It does no I/O.
//!
//! - [`methods`]: the seven session methods and the helpers tooling needs (`auth.test`,
//!   `users.lookupByEmail`, `users.list`, `users.info`) with their argument builders and answer
//!   types;
//! - [`for_each_method!`]: the list of those methods that everything else is generated from;
//! - [`validate`]: the argument limits, and the checks Slack makes before any lookup;
//! - [`CATALOGUE`]: each method's name, scope, rate tier and error codes as data;
//! - [`RateLimits`]: how a server applies the rate limits (the emulator enforces it, the
//!   client paces to match it);
//! - [`ErrorCode`], [`WarningCode`]: every documented code, plus a fallback for new ones;
//! - [`envelope`]: the `ok`/`error`/`warning`/`response_metadata` envelope;
//! - [`wire`]: argument encoding and Slack's tolerant request decoding;
//! - [`Network`] and [`Version`]: matching a session's IP address to a CIDR network, and its
//!   client version to a dotted version (`4.9` < `4.10`).
//! - [`audit_logs`]: Slack's Audit Logs API (`/audit/v1/logs`, `schemas`, `actions`), the
//!   history of an org: its filter, entries and catalogue of actions.
//!
//! ```
//! use slack_sessions_api::{Method, methods::{Reset, ResetArgs}, wire};
//!
//! let args = ResetArgs::new("W012A3CDE").mobile_only(true);
//! assert_eq!(Reset::NAME, "admin.users.session.reset");
//! assert_eq!(
//!     wire::to_form(&args),
//!     vec![("user_id".into(), "W012A3CDE".into()), ("mobile_only".into(), "true".into())]
//! );
//! ```

#![deny(missing_docs)]

pub mod audit_logs;
pub mod envelope;
mod error_code;
mod ids;
pub mod lenient;
mod method;
pub mod methods;
mod network;
mod rate_limits;
pub mod validate;
mod version;
pub mod wire;

/// The string type of the fields a session list carries many of: ids and device fields up to
/// 24 bytes are kept inline, without an allocation (a page of 1,000 sessions has about 9,000
/// such strings). It derefs to `str`; build one from a `&str` or a `String` with `.into()`.
pub use compact_str::CompactString;
pub use envelope::{DecodeError, DecodeErrorKind, ResponseMetadata, Status};
pub use error_code::{ErrorCode, WarningCode};
pub use ids::{SessionId, TeamId, UserId};
pub use method::{CATALOGUE, Method, MethodInfo, Scope, Tier};
pub use network::{Network, ParseNetworkError, parse_network};
pub use rate_limits::{BadRateLimits, RateLimits};
pub use validate::{InvalidArgs, Validate};
pub use version::{ParseVersionError, Version};
