//! The command line turned into the engine's typed plans, once (ripgrep's low-level flags →
//! high-level arguments): past this module no clap type travels.

use std::path::Path;

use slack_sessions_client::api::TeamId;
use slack_sessions_engine::count::CountBy;
use slack_sessions_engine::enforce::{self, audit, policy};
use slack_sessions_engine::filter::Filter;
use slack_sessions_engine::guardrails;
use slack_sessions_engine::history;
use slack_sessions_engine::invalidate;
use slack_sessions_engine::offboard::{self, input};
use slack_sessions_engine::report::{ReportPath, beside};
use slack_sessions_engine::users::ResolveBy;

use crate::cli::{
    EnforceFlags, FilterFlags, HistoryFlags, InvalidateFlags, OffboardFlags, ResolveByFlag,
    VerifyByFlag,
};
use crate::exit::Result;

/// The sessions the filter flags ask for.
pub(crate) fn filter(flags: &FilterFlags) -> Filter {
    Filter {
        networks: flags.ip.clone(),
        os: flags.os.iter().map(|o| o.trim().to_lowercase()).collect(),
        client_version_below: flags.client_version_below.clone(),
        client: flags.client.map(crate::cli::ClientFilter::kind),
        team: flags.team.as_deref().map(TeamId::new),
    }
}

/// `offboard FILE …`.
pub(crate) fn offboard(flags: &OffboardFlags) -> Result<offboard::Plan> {
    let input = input::read(&flags.file, flags.column.as_deref())?;
    let report = flags
        .report
        .clone()
        .unwrap_or_else(|| beside(&flags.file, "offboard", "report.csv"));
    Ok(offboard::Plan {
        input,
        input_path: flags.file.clone(),
        report: ReportPath::new(report)?,
        one_by_one: flags.one_by_one,
        batch_size: flags.batch_size as usize,
        devices: flags.devices.devices(),
        team: flags.team.as_deref().map(TeamId::new),
        verify_timeout: flags.verify_timeout,
        verify: !flags.no_verify,
        count_by: match flags.verify_by {
            VerifyByFlag::Auto => CountBy::Auto,
            VerifyByFlag::User => CountBy::User,
            VerifyByFlag::Org => CountBy::Org,
        },
        resolve_by: match flags.resolve_by {
            ResolveByFlag::Auto => ResolveBy::Auto,
            ResolveByFlag::Lookup => ResolveBy::Lookup,
            ResolveByFlag::List => ResolveBy::List,
        },
        include_self: flags.include_self,
        fresh: flags.fresh,
    })
}

/// `sessions invalidate` with filters (or `--all`).
pub(crate) fn invalidate(flags: &InvalidateFlags) -> Result<invalidate::Plan> {
    let filter = filter(&flags.filter);
    let report = flags
        .report
        .clone()
        .unwrap_or_else(|| invalidate::Plan::default_report(&filter, flags.all));
    Ok(invalidate::Plan {
        filter,
        all: flags.all,
        report: ReportPath::new(report)?,
        verify_timeout: flags.verify_timeout,
        names: !flags.no_names,
        fresh: flags.fresh,
    })
}

/// `enforce POLICY …`.
pub(crate) fn enforce(flags: &EnforceFlags) -> Result<enforce::Plan> {
    let (policy, text) = policy::read(&flags.policy)?;
    let audit_log = flags
        .audit_log
        .clone()
        .unwrap_or_else(|| audit::default_path(&flags.policy));
    Ok(enforce::Plan {
        policy,
        policy_path: flags.policy.clone(),
        policy_text: text,
        policy_key: canonical(&flags.policy),
        audit_log,
        state_dir: guardrails::state_dir()?,
        watch: flags.watch,
        fresh: flags.fresh,
    })
}

/// `sessions history …`: the window from now, the actions checked.
pub(crate) fn history(flags: &HistoryFlags) -> Result<history::Plan> {
    let now = slack_sessions_engine::journal::now_ms() / 1_000;
    let (oldest, latest) = history::Plan::window(flags.since, flags.until, now)?;
    Ok(history::Plan {
        users: flags.users.clone(),
        networks: flags.ip.clone(),
        oldest,
        latest,
        actions: history::check_actions(&flags.actions)?,
    })
}

/// A file's canonical path as text (the path as given, if it cannot be resolved).
fn canonical(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_owned())
        .display()
        .to_string()
}
