//! The commands: those that make one or a few calls (`whoami`, `sessions …`, `settings …`),
//! and the shells around the engine's journaled runs (`offboard`, bulk `sessions invalidate`,
//! `enforce`): each turns its flags into the run's plan, asks, prints, and picks the exit code.

pub(crate) mod enforce;
pub(crate) mod history;
pub(crate) mod invalidate;
pub(crate) mod offboard;
pub(crate) mod sessions;
pub(crate) mod settings;
pub(crate) mod whoami;

/// The failure of a run that stopped, after a note that its journal keeps it for the same
/// command to resume. A usage failure (a journal of another run, no confirmation) gets no
/// note: the run was refused, not cut short.
pub(crate) fn stopped(
    journal: &std::path::Path,
    failure: crate::exit::Failure,
) -> crate::exit::Failure {
    if failure.code != crate::exit::USAGE {
        crate::ui::note(format!(
            "the journal {} keeps this run: start the same command again to resume it",
            journal.display()
        ));
    }
    failure
}
