//! The command line: every command, option and example (clap derive).

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use slack_sessions_client::Token;
use slack_sessions_client::methods::ClientKind;
use slack_sessions_engine::journal::Devices;

use crate::output::Format;
use crate::serve::ServeArgs;
use slack_sessions_engine::duration;

const ABOUT: &str = "Manage Slack Enterprise Grid user sessions: who is signed in where, sign \
users out, session settings, offboarding in bulk; and a local emulator of the API.";

const MAIN_EXAMPLES: &str = "\
Examples:
  export SLACK_TOKEN=xoxp-…                       # an Org Owner's or Admin's user token
  slack-sessions whoami
  slack-sessions sessions list --user dennis.ritchie@acme.example
  slack-sessions sessions reset dennis.ritchie@acme.example --mobile-only
  slack-sessions sessions history dennis.ritchie@acme.example --since 7d
  slack-sessions offboard leavers.csv --report leavers-report.csv
  slack-sessions sessions list --ip 198.51.100.0/24 --client-version-below 4.36
  slack-sessions sessions invalidate --ip 192.0.2.0/24 --dry-run
  slack-sessions enforce policy.toml --dry-run
  slack-sessions serve --demo                      # a local emulator to try it all

Token: --token-file FILE (mode 600), SLACK_TOKEN_FILE, SLACK_TOKEN, or --token (visible in
the process list).
Output: a table on a terminal, JSON when piped; --output json|ndjson|csv|table.
Exit codes: 0 ok, 2 usage, 3 auth or permission, 4 Slack API error, 5 rate limit or retry
budget exhausted, 6 network, 7 bulk run: some users not signed out, 8 bulk run: every user
signed out but some lines named nobody, 130 interrupted. A --dry-run exits as its run would.";

/// `slack-sessions`.
#[derive(Debug, Parser)]
#[command(
    name = "slack-sessions",
    version,
    about = ABOUT,
    after_help = MAIN_EXAMPLES,
    propagate_version = true,
    args_override_self = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Options for every command.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes (shown under their own heading in each command's help).
// The field docs are `--help` text, where a URL is plain text, not a Markdown link.
#[allow(rustdoc::bare_urls)]
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// The token, a user token (xoxp-…) of an Org Owner or Admin. Prefer --token-file or
    /// SLACK_TOKEN: a flag shows in the process list.
    #[arg(
        long,
        global = true,
        value_name = "TOKEN",
        conflicts_with = "token_file"
    )]
    pub token: Option<Token>,

    /// Read the token from FILE (or SLACK_TOKEN_FILE), which must not be readable by the group
    /// or others (chmod 600).
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// The Web API's base URL (default https://slack.com/api/, or SLACK_API_URL), e.g. an
    /// emulator's http://127.0.0.1:8787/api/.
    #[arg(long, global = true, value_name = "URL", conflicts_with = "gov")]
    pub api_url: Option<String>,

    /// Talk to GovSlack (https://slack-gov.com/api/).
    #[arg(long, global = true)]
    pub gov: bool,

    /// Output format [default: table on a terminal, json otherwise].
    #[arg(short, long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,

    /// Say more on standard error (-v each call and retry, -vv the HTTP layer too, -vvv
    /// everything).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Say nothing on standard error but errors (no notes, no progress bar).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Pace calls to Slack's rate limits (slack), not at all (off), or to an emulator run with
    /// --rate-limits scale=N (scale=N).
    #[arg(long, global = true, value_name = "MODE", default_value = "slack", value_parser = parse_pacing)]
    pub pacing: PacingMode,

    /// Retries of a failed call (rate limits, server errors, network), 0 for none.
    #[arg(long, global = true, value_name = "N", default_value_t = 4)]
    pub retries: u32,

    /// The longest time to keep retrying one call (e.g. 2m, 30s).
    #[arg(long, global = true, value_name = "DURATION", default_value = "2m", value_parser = duration::parse_arg)]
    pub retry_budget: Duration,

    /// The longest wait for one answer (e.g. 30s).
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s", value_parser = duration::parse_positive)]
    pub timeout: Duration,
}

/// How the client paces its calls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PacingMode {
    /// Slack's documented budgets.
    Slack,
    /// No pacing.
    Off,
    /// An emulator with windows N times shorter.
    Scale(f64),
}

fn parse_pacing(text: &str) -> Result<PacingMode, String> {
    match text {
        "slack" => Ok(PacingMode::Slack),
        "off" => Ok(PacingMode::Off),
        other => other
            .strip_prefix("scale=")
            .and_then(|n| n.parse::<f64>().ok())
            .filter(|n| n.is_finite() && *n > 0.0)
            .map(PacingMode::Scale)
            .ok_or_else(|| format!("{other:?}: use slack, off or scale=N (N > 0)")),
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Who the token belongs to: user, org, scopes, and what it can do.
    #[command(after_help = "Examples:
  slack-sessions whoami
  slack-sessions whoami --token-file ~/.config/slack/admin-token -o json")]
    Whoami,

    /// List sessions, end one, or sign users out.
    #[command(subcommand)]
    Sessions(SessionsCommand),

    /// Session settings: how long sessions last, and whether closing the desktop app signs out.
    #[command(subcommand)]
    Settings(SettingsCommand),

    /// Sign a list of users out everywhere, in bulk: resolve emails, reset, verify, report.
    /// Resumable after any interruption.
    Offboard(OffboardFlags),

    /// Enforce a session policy: end the sessions that break its rules (networks, client
    /// versions, OSes), once or on an interval, within guardrails.
    Enforce(EnforceFlags),

    /// Run the emulator: a local server that answers the admin.users.session.* methods like Slack.
    Serve(ServeArgs),

    /// Sign users out on the identity provider's word: a receiver of OpenID Shared Signals
    /// (CAEP/RISC), Okta Event Hooks and Global Token Revocation requests, journaled and
    /// guarded.
    Listen(ListenFlags),

    /// Send test signals to a listener: a key pair and its JWKS, a signed Security Event
    /// Token, an Okta Event Hook, a Global Token Revocation request.
    #[command(subcommand)]
    Signal(SignalCommand),

    /// Print a shell completion script.
    #[command(after_help = "Examples:
  slack-sessions completions bash > ~/.local/share/bash-completion/completions/slack-sessions
  slack-sessions completions zsh > ~/.zfunc/_slack-sessions
  slack-sessions completions fish > ~/.config/fish/completions/slack-sessions.fish")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `sessions …`.
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List active sessions: the whole org, one user, or one workspace; every page followed.
    #[command(after_help = "Examples:
  slack-sessions sessions list
  slack-sessions sessions list --user dennis.ritchie@acme.example
  slack-sessions sessions list --user W0DEMO0005 --team T0DEMOENG1 --client mobile
  slack-sessions sessions list --team T0DEMOENG1 --limit 100 -o csv > sessions.csv
  slack-sessions sessions list --ip 198.51.100.0/24 --ip 2001:db8::/32
  slack-sessions sessions list --os windows --client-version-below 4.40
  slack-sessions sessions list --client mobile --os android --no-names -o csv")]
    List(ListFlags),

    /// End one session, or every session the filters find (resumably, with a report).
    #[command(after_help = "Examples:
  slack-sessions sessions invalidate 1112275551244 --user W0DEMO0005
  slack-sessions sessions invalidate 1112275551244 --user dennis.ritchie@acme.example --team E0DEMO0001
  slack-sessions sessions invalidate --ip 198.51.100.0/24 --dry-run
  slack-sessions sessions invalidate --client-version-below 4.36 --yes --report old-clients.csv

Without SESSION_ID, at least one filter is needed (or --all for every session of the org).
The sessions are found first and shown (the dry run stops there); on a terminal the run asks
(--yes to skip). It keeps a journal beside the report: stopped for any reason, the same
command resumes it, and no session is ended twice or skipped. Once it has finished, the same
command is a new run over the sessions that match then.")]
    Invalidate(InvalidateFlags),

    /// Count sessions: by client kind, OS, Slack version, workspace, network, and the users
    /// with the most; optionally an HTML page with charts.
    #[command(after_help = "Examples:
  slack-sessions sessions summary
  slack-sessions sessions summary --client-version-below 4.40 -o json
  slack-sessions sessions summary --ip 10.0.0.0/8 --html sessions.html")]
    Summary(SummaryFlags),

    /// Session history from Slack's audit logs: users' sign-ins, sign-outs, resets and
    /// invalidations (or the org's), newest first.
    #[command(after_help = "Examples:
  slack-sessions sessions history dennis.ritchie@acme.example
  slack-sessions sessions history W0DEMO0005 --since 7d --action user_login
  slack-sessions sessions history --ip 185.220.101.0/24 --since 2026-11-01 -o csv
  slack-sessions sessions history --action bulk_session_reset_by_admin --until 1d

A user's history is three reads of the audit logs (Slack ANDs their filters): the user as
actor (sign-ins, sign-outs, failed sign-ins, anomalies), as entity (resets, invalidations,
settings changes), and the bulk resets that name them. Without USER, the org's entries of the
session actions. WHEN is a duration back from now (7d, 12h) or an RFC 3339 date (2026-11-01,
the whole day in UTC) or date-time (2026-11-01T09:30:00Z). Needs an Org Owner's user token
with the auditlogs:read scope.")]
    History(HistoryFlags),

    /// Sign users out of every session (or only mobile, or only web and desktop).
    #[command(after_help = "Examples:
  slack-sessions sessions reset W0DEMO0005
  slack-sessions sessions reset dennis.ritchie@acme.example hedy.lamarr8@acme.example --yes
  slack-sessions sessions reset dennis.ritchie@acme.example --mobile-only   # a lost phone
  slack-sessions sessions reset W0DEMO0005 W0DEMO0006 --dry-run

Several users: asks for confirmation first (--yes to skip it).")]
    Reset(ResetFlags),
}

/// Which clients a list shows (see `ClientKind` in the api crate for how a session is judged).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ClientFilter {
    /// Phones and tablets (iOS, iPadOS, Android).
    Mobile,
    /// Slack's desktop app (a Slack client version 1.x to 9.x).
    Desktop,
    /// Browsers (a browser's version, 10 and up, in the Slack client version).
    Web,
}

impl ClientFilter {
    /// The kind of session it keeps.
    pub fn kind(self) -> ClientKind {
        match self {
            ClientFilter::Mobile => ClientKind::Mobile,
            ClientFilter::Desktop => ClientKind::Desktop,
            ClientFilter::Web => ClientKind::Web,
        }
    }
}

/// Which sessions a command looks at; every filter given must hold (they AND together).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Filters")]
pub struct FilterFlags {
    /// Only sessions on this workspace (T…), or org-level ones (the org id, E…). An id that is
    /// not one of the org's is an error.
    #[arg(long, value_name = "TEAM")]
    pub team: Option<String>,
    /// Only mobile (iOS, iPadOS, Android), desktop-app or browser sessions. Slack names no
    /// client: the desktop app's version is below 10 (4.41.105), a browser's is its own
    /// (131.0.6778.86); a session with no version is of no kind.
    #[arg(long, value_enum, value_name = "KIND")]
    pub client: Option<ClientFilter>,
    /// Only sessions whose created or recent IP is in this network (CIDR, IPv4 or IPv6, or one
    /// address). Repeat for several networks: any of them.
    #[arg(long = "ip", value_name = "CIDR", value_parser = slack_sessions_engine::filter::parse_network)]
    pub ip: Vec<slack_sessions_engine::filter::Network>,
    /// Only sessions whose OS (as last seen) is NAME, any case: "OS X", Windows, Linux, iOS,
    /// iPadOS, Android. Repeat for several.
    #[arg(long = "os", value_name = "NAME")]
    pub os: Vec<String>,
    /// Only sessions whose Slack client version (as last seen) is below VERSION, compared
    /// number by number (4.9 < 4.10). A session without a version does not match.
    #[arg(long, value_name = "VERSION", value_parser = slack_sessions_engine::filter::Version::parse)]
    pub client_version_below: Option<slack_sessions_engine::filter::Version>,
}

impl FilterFlags {
    /// Whether any filter is given.
    pub fn any(&self) -> bool {
        self.team.is_some()
            || self.client.is_some()
            || !self.ip.is_empty()
            || !self.os.is_empty()
            || self.client_version_below.is_some()
    }
}

/// `sessions list`.
#[derive(Debug, Args)]
pub struct ListFlags {
    /// Only this user (an ID, or an email address).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Show at most N sessions.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Sessions asked for per call (1 to 1000).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: u32,
    /// Leave out the users' names and emails (read once per user with users.list otherwise).
    #[arg(long)]
    pub no_names: bool,
    /// Add each session's last sign-in, from the audit logs (with --user; needs an Org
    /// Owner's token with auditlogs:read).
    #[arg(long, requires = "user")]
    pub last_login: bool,
    /// Which sessions.
    #[command(flatten)]
    pub filter: FilterFlags,
}

/// `sessions history`.
#[derive(Debug, Args)]
pub struct HistoryFlags {
    /// Users: IDs (W…, U…) or email addresses. None: the org's history.
    #[arg(value_name = "USER")]
    pub users: Vec<String>,
    /// Only entries whose IP is in this network (CIDR, IPv4 or IPv6, or one address). Repeat
    /// for several networks: any of them.
    #[arg(long = "ip", value_name = "CIDR", value_parser = slack_sessions_engine::filter::parse_network)]
    pub ip: Vec<slack_sessions_engine::filter::Network>,
    /// Only entries from WHEN on: a duration back from now (7d) or an RFC 3339 date or
    /// date-time.
    #[arg(long, value_name = "WHEN", value_parser = slack_sessions_engine::when::parse)]
    pub since: Option<slack_sessions_engine::when::When>,
    /// Only entries up to WHEN (a date: to its end).
    #[arg(long, value_name = "WHEN", value_parser = slack_sessions_engine::when::parse)]
    pub until: Option<slack_sessions_engine::when::When>,
    /// Only these actions (names of Slack's audit logs, e.g. user_login). Repeat, or separate
    /// with commas [default: the session actions].
    #[arg(long = "action", value_name = "NAME")]
    pub actions: Vec<String>,
}

/// `sessions invalidate`.
#[derive(Debug, Args)]
pub struct InvalidateFlags {
    /// The session's id. Without it, the sessions the filters find are ended.
    #[arg(value_name = "SESSION_ID")]
    pub session_id: Option<u64>,
    /// The session's user (an ID or an email address), with SESSION_ID.
    #[arg(long, value_name = "USER", requires = "session_id")]
    pub user: Option<String>,
    /// Which sessions (without SESSION_ID; with it, --team is sent along, Slack's older form).
    #[command(flatten)]
    pub filter: FilterFlags,
    /// End every session of the org (no filter).
    #[arg(long, conflicts_with = "session_id")]
    pub all: bool,
    /// List the sessions that would be ended (with SESSION_ID: check that it is the user's),
    /// and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,
    /// Where to write the report: .csv or .json [default:
    /// sessions-invalidate-<filters' fingerprint>.report.csv]. The journal sits beside it.
    #[arg(long, value_name = "PATH", conflicts_with = "session_id")]
    pub report: Option<PathBuf>,
    /// How long to wait for the sessions to be gone before calling them failed.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration::parse_arg, conflicts_with = "session_id")]
    pub verify_timeout: Duration,
    /// Leave out the users' names and emails in the plan and the report.
    #[arg(long)]
    pub no_names: bool,
    /// Archive an unfinished run kept in the journal (of this command or another) and start
    /// over. Without it, an unfinished run of the same command resumes, and one of another
    /// command is refused.
    #[arg(long, conflicts_with = "session_id")]
    pub fresh: bool,
}

/// `sessions summary`.
#[derive(Debug, Args)]
pub struct SummaryFlags {
    /// Which sessions.
    #[command(flatten)]
    pub filter: FilterFlags,
    /// Also write one self-contained HTML page (bar charts and the sessions table) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// How many users with the most sessions to show.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Leave out the users' names and emails.
    #[arg(long)]
    pub no_names: bool,
}

/// Which sessions a reset ends.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct DevicesFlags {
    /// Only phone and tablet sessions.
    #[arg(long, conflicts_with = "web_only")]
    pub mobile_only: bool,
    /// Only browser and desktop-app sessions.
    #[arg(long)]
    pub web_only: bool,
}

impl DevicesFlags {
    /// Which sessions.
    pub fn devices(&self) -> Devices {
        match (self.mobile_only, self.web_only) {
            (true, false) => Devices::Mobile,
            (false, true) => Devices::Web,
            _ => Devices::All,
        }
    }
}

/// `sessions reset`.
#[derive(Debug, Args)]
pub struct ResetFlags {
    /// Users: IDs (W…, U…) or email addresses.
    #[arg(value_name = "USER", required = true)]
    pub users: Vec<String>,
    /// Which sessions.
    #[command(flatten)]
    pub devices: DevicesFlags,
    /// Do not ask for confirmation (asked when several users are named).
    #[arg(short, long)]
    pub yes: bool,
    /// Show what each user would get now and their sessions, reading only: nothing is changed.
    #[arg(long)]
    pub dry_run: bool,
}

/// `settings …`.
#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Show users' session settings.
    #[command(after_help = "Examples:
  slack-sessions settings get W0DEMO0005 dennis.ritchie@acme.example")]
    Get(UsersFlags),

    /// Set how long sessions last and/or whether closing the desktop app signs out.
    #[command(after_help = "Examples:
  slack-sessions settings set W0DEMO0005 --duration 8h
  slack-sessions settings set dennis.ritchie@acme.example hedy.lamarr8@acme.example --duration 30d --quit-on-close true
  slack-sessions settings set W0DEMO0005 --quit-on-close false

Durations: 8h, 30d, 90m, 1h30m, 2w, or plain seconds (28800).")]
    Set(SetFlags),

    /// Remove users' session settings (back to the org's defaults).
    #[command(after_help = "Examples:
  slack-sessions settings clear W0DEMO0005 dennis.ritchie@acme.example")]
    Clear(ClearFlags),
}

/// Users given as arguments.
#[derive(Debug, Args)]
pub struct UsersFlags {
    /// Users: IDs (W…, U…) or email addresses.
    #[arg(value_name = "USER", required = true)]
    pub users: Vec<String>,
}

/// `settings clear`.
#[derive(Debug, Args)]
pub struct ClearFlags {
    /// Users: IDs (W…, U…) or email addresses.
    #[arg(value_name = "USER", required = true)]
    pub users: Vec<String>,
    /// Show the users whose settings would be cleared, reading only: nothing is changed.
    #[arg(long)]
    pub dry_run: bool,
}

/// `settings set`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("setting").required(true).multiple(true).args(["duration", "quit_on_close"])))]
pub struct SetFlags {
    /// Users: IDs (W…, U…) or email addresses.
    #[arg(value_name = "USER", required = true)]
    pub users: Vec<String>,
    /// How long a session lasts before the user must sign in again (8h, 30d, 90m, seconds).
    #[arg(long, value_name = "DURATION", value_parser = duration::parse_arg)]
    pub duration: Option<Duration>,
    /// Whether closing the desktop app signs the user out of it.
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub quit_on_close: Option<bool>,
    /// Show the settings each user would get, reading only: nothing is changed.
    #[arg(long)]
    pub dry_run: bool,
}

/// How `offboard` finds the users its emails name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ResolveByFlag {
    /// Walk users.list while its pages find more than their cost in lookups, until what is
    /// left fits one burst of lookups; then look the rest up (few emails: lookups only).
    Auto,
    /// One users.lookupByEmail call per email (tier 3: about 50 a minute).
    Lookup,
    /// Walk the org's users with users.list (tier 2, up to 1,000 users a call).
    List,
}

/// How `offboard` checks that sessions are gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VerifyByFlag {
    /// One list call per user for a few users, the whole org's list for many.
    Auto,
    /// One list call (or more) per user.
    User,
    /// Walk the org's whole session list each round.
    Org,
}

/// `offboard`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  slack-sessions offboard leavers.txt --dry-run
  slack-sessions offboard leavers.txt                    # asks before it starts
  slack-sessions offboard leavers.csv --report out/leavers.json --yes
  slack-sessions offboard lost-phones.txt --mobile-only --one-by-one

FILE holds one user a line, an email address or an ID (W…, U…): UTF-8 or UTF-16 text, or
CSV separated by commas, semicolons or tabs. When several columns hold emails or IDs (a
manager's and the user's), the run is refused unless one is named exactly email, user_id,
user or id, or --column picks it. Empty lines and lines starting with # are skipped.

The token's own user is left out unless --include-self; the primary owner and bots are
reported failed (Slack refuses to sign them out).

The run keeps a journal next to the report (REPORT.journal). Stopped for any reason (Ctrl-C,
SIGTERM, kill, network loss, rate limit), it resumes when started again with the same arguments
and file: no user is reset twice, none is skipped. Once a run has finished, the same command
starts a new run (the finished journal is kept beside, named with its finish time). An
unfinished run and another file or other options: refused; finish it, or --fresh.")]
pub struct OffboardFlags {
    /// The list of users (text or CSV).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to write the report: .csv or .json [default: FILE's name with .report.csv].
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Which sessions.
    #[command(flatten)]
    pub devices: DevicesFlags,
    /// One admin.users.session.reset call per user instead of resetBulk.
    #[arg(long)]
    pub one_by_one: bool,
    /// Users per resetBulk call (at most 1000).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub batch_size: u32,
    /// How long to wait for a user's sessions to be gone before calling the reset failed.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = duration::parse_arg)]
    pub verify_timeout: Duration,
    /// Do not check that sessions are gone (the report then shows no sessions left count).
    #[arg(long)]
    pub no_verify: bool,
    /// How to check that sessions are gone.
    #[arg(long, value_enum, value_name = "HOW", default_value = "auto")]
    pub verify_by: VerifyByFlag,
    /// How to find the users that emails name.
    #[arg(long, value_enum, value_name = "HOW", default_value = "auto")]
    pub resolve_by: ResolveByFlag,
    /// The team (or org) id used to list a user's sessions [default: the org of the token].
    #[arg(long, value_name = "TEAM")]
    pub team: Option<String>,
    /// The column of a CSV file that names the users: its header (any case) or its number
    /// (1 is the first). Needed when several columns hold email addresses or IDs.
    #[arg(long, value_name = "NAME|N")]
    pub column: Option<String>,
    /// Sign out the token's own user too, if the file names them (left out otherwise).
    #[arg(long)]
    pub include_self: bool,
    /// Show what each line would get now, reading only: nothing is changed or written.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,
    /// Archive an unfinished run kept in the journal (of this command or another) and start
    /// over. Without it, an unfinished run of the same command resumes, and one of another
    /// command is refused.
    #[arg(long)]
    pub fresh: bool,
}

/// `enforce`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  slack-sessions enforce policy.toml --dry-run
  slack-sessions enforce policy.toml --yes
  slack-sessions enforce policy.toml --yes --watch 15m --audit-log /var/log/slack-policy.jsonl

POLICY.toml holds rules (allowed networks, a minimum Slack client version per OS or client
kind, denied OSes or OS versions) with their exemptions, and the guardrails: a per-user
cooldown, caps on actions per run and per hour, and a circuit breaker that stops a run which
would end more than a set share of all sessions. The token's own user is exempt unless the
policy says otherwise. The README section 'Policy enforcement' shows a full file.

Each action is written to a journal (AUDIT_LOG.journal) before it is sent, and every action
and round to the JSON-lines audit log (reopened on SIGHUP, for logrotate). Killed,
enforcement resumes from the journal when started again: an action whose answer was lost is
checked, never sent twice. Cooldowns and the hourly cap are kept per org and policy in the
state directory ($SLACK_SESSIONS_STATE_DIR, else ~/.local/state/slack-sessions), whatever
audit log a run uses.")]
pub struct EnforceFlags {
    /// The policy file (TOML).
    #[arg(value_name = "POLICY")]
    pub policy: PathBuf,
    /// Print exactly the actions a run would take now, and take none.
    #[arg(long)]
    pub dry_run: bool,
    /// Run again every DURATION (e.g. 15m), until Ctrl-C or SIGTERM.
    #[arg(long, value_name = "DURATION", value_parser = duration::parse_positive)]
    pub watch: Option<Duration>,
    /// The JSON-lines audit log [default: POLICY's name with .audit.jsonl].
    #[arg(long, value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// Do not ask for confirmation (needed off a terminal, and with --watch).
    #[arg(short, long)]
    pub yes: bool,
    /// Archive an unfinished run kept in the journal (of this command or another) and start
    /// over. Without it, an unfinished run of the same command resumes, and one of another
    /// command is refused.
    #[arg(long)]
    pub fresh: bool,
}

/// `listen`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  slack-sessions listen listen.toml
  slack-sessions listen /etc/slack-sessions/listen.toml --addr 0.0.0.0:8788
  slack-sessions listen listen.toml --resume-breaker

CONFIG.toml names the endpoints to serve ([ssf]: POST /ssf/events; [okta]: GET and POST
/okta/events; [gtr]: POST /global-token-revocation; a section left out answers 404), what
each signal does ([actions]) and the guardrails: at most max_actions_per_hour sign-outs per
rolling hour (the rest wait), and a circuit breaker that stops signing out once max_share
of the org's users were signed out within the hour, until an admin resumes it (SIGUSR1, or
--resume-breaker at start). GET /healthz and GET /metrics (Prometheus) are always served.

Every signal is written to the journal (beside CONFIG, or `journal` in it) and synced before
it is acknowledged; a restart resumes what was pending. The README section 'Signing out on
the identity provider's word' shows a full config and the Okta and systemd setup.")]
pub struct ListenFlags {
    /// The config file (TOML).
    #[arg(value_name = "CONFIG")]
    pub config: PathBuf,
    /// Where to listen, overriding the config's `addr` (port 0: any free port).
    #[arg(long, value_name = "ADDR")]
    pub addr: Option<std::net::SocketAddr>,
    /// Resume a tripped circuit breaker at start (a running listener: send it SIGUSR1).
    #[arg(long)]
    pub resume_breaker: bool,
}

/// `signal …`.
#[derive(Debug, Subcommand)]
pub enum SignalCommand {
    /// Make an ES256 key pair for test signals: DIR/signer.pem (private, 0600) and
    /// DIR/jwks.json (for the config's jwks_file).
    #[command(after_help = "Examples:
  slack-sessions signal keys
  slack-sessions signal keys /tmp/idp")]
    Keys(SignalKeysFlags),
    /// Send a signed Security Event Token (RFC 8417) to the listener's POST /ssf/events.
    #[command(after_help = "Examples:
  slack-sessions signal ssf listen.toml dennis.ritchie@acme.example
  slack-sessions signal ssf listen.toml dennis.ritchie@acme.example --event account-disabled
  slack-sessions signal ssf listen.toml ken@acme.example --event risk-level-change --member current_level=HIGH
  slack-sessions signal ssf listen.toml --sub 00u1abcd --legacy-subject

The issuer and audience are the config's [ssf]; the Authorization header, if the config asks
for one, is read from its authorization_env variable.")]
    Ssf(SignalSsfFlags),
    /// Send an Okta Event Hook to the listener's POST /okta/events.
    #[command(after_help = "Examples:
  slack-sessions signal okta listen.toml dennis.ritchie@acme.example
  slack-sessions signal okta listen.toml ken@acme.example --event user.lifecycle.suspend

The Authorization header is read from the config's [okta] authorization_env variable.")]
    Okta(SignalOktaFlags),
    /// Send a Global Token Revocation request to the listener's POST /global-token-revocation.
    #[command(after_help = "Examples:
  slack-sessions signal gtr listen.toml dennis.ritchie@acme.example

The request is authenticated with a private-key JWT signed by --key, for the config's [gtr]
issuer and audience.")]
    Gtr(SignalGtrFlags),
}

/// `signal keys`.
#[derive(Debug, Args)]
pub struct SignalKeysFlags {
    /// Where to write signer.pem and jwks.json.
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// The key's id (`kid`).
    #[arg(long, default_value = SIGNAL_KID)]
    pub kid: String,
}

/// The key id `signal keys` names its key with, and the other `signal` commands sign with.
pub const SIGNAL_KID: &str = "slack-sessions-signal";

/// What every `signal` command that sends takes.
#[derive(Debug, Args)]
pub struct SignalTarget {
    /// The listener's config: its address, issuers, audiences and secrets.
    #[arg(value_name = "CONFIG")]
    pub config: PathBuf,
    /// The listener's base URL [default: from the config's `addr`].
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

/// What the signed `signal` commands take.
#[derive(Debug, Args)]
pub struct SignalKey {
    /// The private key (PEM: EC P-256 signs ES256, RSA signs RS256) [default: signer.pem
    /// beside the config].
    #[arg(long, value_name = "PEM")]
    pub key: Option<PathBuf>,
    /// The key's id (`kid`), as in the JWKS.
    #[arg(long, default_value = SIGNAL_KID)]
    pub kid: String,
}

/// `signal ssf`.
#[derive(Debug, Args)]
pub struct SignalSsfFlags {
    #[command(flatten)]
    pub target: SignalTarget,
    /// The user's email (an `email` subject).
    #[arg(value_name = "EMAIL", required_unless_present = "sub")]
    pub email: Option<String>,
    /// An `iss_sub` subject instead: the identity provider's user id, with the config's issuer.
    #[arg(long, value_name = "SUB", conflicts_with = "email")]
    pub sub: Option<String>,
    /// The event: a CAEP, RISC or SSF name (session-revoked, account-disabled,
    /// credential-change, risk-level-change…) or an event-type URI.
    #[arg(long, default_value = "session-revoked")]
    pub event: String,
    /// A member of the event, KEY=VALUE (a JSON value, else a string); repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    pub member: Vec<String>,
    /// Put the subject inside the event (`subject`, Okta's shape) instead of `sub_id`.
    #[arg(long)]
    pub legacy_subject: bool,
    #[command(flatten)]
    pub key: SignalKey,
}

/// `signal okta`.
#[derive(Debug, Args)]
pub struct SignalOktaFlags {
    #[command(flatten)]
    pub target: SignalTarget,
    /// The user's email (the event's target `alternateId`).
    #[arg(value_name = "EMAIL")]
    pub email: String,
    /// The Okta event type.
    #[arg(long, default_value = "user.session.clear")]
    pub event: String,
}

/// `signal gtr`.
#[derive(Debug, Args)]
pub struct SignalGtrFlags {
    #[command(flatten)]
    pub target: SignalTarget,
    /// The user's email.
    #[arg(value_name = "EMAIL")]
    pub email: String,
    #[command(flatten)]
    pub key: SignalKey,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_examples() {
        fn walk(cmd: &clap::Command, path: &str) {
            let path = format!("{path} {}", cmd.get_name());
            if cmd.get_subcommands().next().is_none() {
                let help = cmd
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                assert!(help.contains("Examples:"), "{path} has no examples");
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &path);
                }
            }
        }
        walk(&Cli::command(), "");
    }

    #[test]
    fn pacing_modes() {
        assert_eq!(parse_pacing("slack"), Ok(PacingMode::Slack));
        assert_eq!(parse_pacing("off"), Ok(PacingMode::Off));
        assert_eq!(parse_pacing("scale=60"), Ok(PacingMode::Scale(60.0)));
        assert!(parse_pacing("scale=0").is_err());
        assert!(parse_pacing("fast").is_err());
    }

    #[test]
    fn the_token_never_shows_in_debug() {
        let cli = Cli::try_parse_from(["slack-sessions", "--token", "xoxp-1-topsecret", "whoami"])
            .unwrap();
        assert!(!format!("{cli:?}").contains("topsecret"));
    }
}
