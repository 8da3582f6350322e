//! `slack-sessions-listen`: the receiver side of `slack-sessions listen`. It verifies what an
//! identity provider sends (RFC 8935 Security Event Tokens, Okta Event Hooks, Global Token
//! Revocation requests), turns each into an engine [`Signal`](slack_sessions_engine::listen::Signal)
//! and answers only once the engine's listener has journaled it.
//!
//! For the command line:
//! - [`Config::load`] reads and checks the config file ([`config`]);
//! - [`Server::bind`] then [`Server::run`] (or [`serve`]) serve its endpoints over an
//!   [`Inbox`] (the engine's [`Listener`](slack_sessions_engine::listen::Listener));
//!   [`router`] is the same routes for a test to drive;
//! - [`transmit`] is a test transmitter: keys, JWKS, signed SETs, Okta hook bodies, GTR
//!   requests.

pub mod actions;
mod app;
pub mod config;
pub mod events;
mod gtr;
mod health;
pub mod inbox;
mod jose;
mod metrics;
mod okta;
pub mod secret;
mod server;
mod shown;
mod ssf;
pub mod subjects;
pub mod transmit;

#[cfg(test)]
mod tests;

pub use actions::Actions;
pub use config::Config;
pub use inbox::Inbox;
pub use server::{Server, router, serve};
