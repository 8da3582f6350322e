//! `slack-sessions-listen`: the receiver side of `slack-sessions listen`. It verifies what an
//! identity provider sends (RFC 8935 Security Event Tokens, Okta Event Hooks, Global Token
//! Revocation requests), turns each into an engine [`Signal`](slack_sessions_engine::listen::Signal)
//! and answers only once the engine's listener has journaled it.
//!
//! INTERFACE for the CLI (to be written): `Config::load(path)`, `serve(config, listener, ...)`,
//! `router(...)` for tests, and `transmit` (a test transmitter: keys, JWKS, signed SETs, Okta
//! hook bodies, GTR requests).
