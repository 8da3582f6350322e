//! The commands: those that make one or a few calls (`whoami`, `sessions …`, `settings …`),
//! and the shells around the engine's journaled runs (`offboard`, bulk `sessions invalidate`,
//! `enforce`): each turns its flags into the run's plan, asks, prints, and picks the exit code.

pub(crate) mod enforce;
pub(crate) mod invalidate;
pub(crate) mod offboard;
pub(crate) mod sessions;
pub(crate) mod settings;
pub(crate) mod whoami;
