//! Session policies: the file ([`mod@file`]), judging sessions by its rules ([`rules`]), deciding
//! within its guardrails ([`plan`]), and enforcing it ([`enforce`], with its [`audit`] log).

pub mod audit;
pub mod enforce;
pub mod file;
pub mod plan;
pub mod rules;
