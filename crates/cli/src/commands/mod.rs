//! The commands: those that make one or a few calls (`whoami`, `sessions …`, `settings …`),
//! and the shells around the engine's journaled runs (`offboard`, bulk `sessions invalidate`,
//! `enforce`): each turns its flags into the run's plan, asks, prints, and picks the exit code.

pub(crate) mod enforce;
pub(crate) mod history;
pub(crate) mod invalidate;
pub(crate) mod listen;
pub(crate) mod offboard;
pub(crate) mod sessions;
pub(crate) mod settings;
pub(crate) mod signal;
pub(crate) mod whoami;

/// Asks `question` on the terminal (a second Ctrl-C while it waits exits at once): `Ok` for
/// yes; for no, the usage failure every writing command gives ("not confirmed; nothing was
/// changed"); the prompt's own failure (no terminal) as it is.
pub(crate) fn confirm(
    ctx: &slack_sessions_engine::Context,
    question: &str,
) -> crate::exit::Result<()> {
    if ctx.stop.at_once(|| crate::ui::confirm(question))? {
        Ok(())
    } else {
        Err(crate::exit::Failure::usage(
            "not confirmed; nothing was changed",
        ))
    }
}

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

/// Each user named on the command line once, in the order given. Inputs that name a user
/// named before (`W0DEMO0005 dennis.ritchie@acme.example`) are said in one line per user on
/// standard error, not merged silently into one row.
pub(crate) fn once_each(
    resolved: Vec<slack_sessions_engine::users::Named>,
) -> Vec<slack_sessions_engine::users::Named> {
    use std::collections::HashMap;
    let mut inputs: HashMap<_, Vec<String>> = HashMap::new();
    let mut order = Vec::new();
    for r in resolved {
        let given = inputs.entry(r.user_id.clone()).or_default();
        if given.is_empty() {
            order.push(r.clone());
        }
        given.push(r.input);
    }
    for r in &order {
        let given = &inputs[&r.user_id];
        if given.len() < 2 {
            continue;
        }
        let mut distinct: Vec<&str> = Vec::new();
        for g in given {
            if !distinct.contains(&g.as_str()) {
                distinct.push(g);
            }
        }
        crate::ui::note(match distinct.as_slice() {
            [one] => format!("{one} is given {} times: taken once", given.len()),
            several => format!(
                "{} name the same user ({}): taken once",
                several.join(", "),
                r.user_id
            ),
        });
    }
    order
}
