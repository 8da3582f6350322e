//! The benchmark harness. `cargo run --release -p slack-sessions-bench` runs every section and
//! writes `docs/BENCHMARKS.md`; `-- --smoke` runs them all at toy sizes in seconds and only
//! prints (CI runs it so the harness cannot rot); `-- --only 2,3` runs and prints some sections.
//!
//! Every load is on loopback, bounded in time and count. Headline figures are ratios measured
//! side by side in the same run.

mod bulk;
mod listen;
mod load;
mod sections;
mod soak;

use std::fmt::Write as _;
use std::time::Duration;

/// Sizes and durations of a run.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub smoke: bool,
    pub load_secs: f64,
    pub load_max: u64,
    pub connections: usize,
    pub scale_users: usize,
    pub scale_sessions: usize,
    pub sdk_secs: f64,
    pub sdk_users: usize,
    /// Sessions of section 3's org: a million, the walk an admin's export makes, and long
    /// enough (a second or more) that a walk is not measured mostly while caches warm up.
    pub sdk_sessions: usize,
    /// Rounds of walks in section 3 (each figure their median).
    pub sdk_walk_rounds: usize,
    pub pacing_resets: usize,
    pub pacing_scale: u32,
    pub offboard_users: usize,
    pub offboard_sessions: usize,
    pub offboard_scale: u32,
    pub offboard_leavers: [usize; 2],
    pub soak_actions: [u64; 2],
    pub bulk_users: usize,
    pub bulk_scale: u32,
    pub bulk_bad: [usize; 3],
    pub audit_entries: usize,
    pub audit_users: usize,
    pub listen_signals: usize,
    pub listen_paced: usize,
    pub listen_scale: u32,
}

impl Sizes {
    fn full() -> Self {
        Sizes {
            smoke: false,
            load_secs: 5.0,
            load_max: 2_000_000,
            connections: 32,
            scale_users: 100_000,
            scale_sessions: 1_000_000,
            sdk_secs: 5.0,
            sdk_users: 10_000,
            sdk_sessions: 1_000_000,
            sdk_walk_rounds: 7,
            pacing_resets: 600,
            pacing_scale: 300,
            offboard_users: 100_000,
            offboard_sessions: 200_000,
            offboard_scale: 60,
            offboard_leavers: [300, 3_000],
            soak_actions: [2_000, 20_000],
            bulk_users: 2_500,
            bulk_scale: 20,
            bulk_bad: [0, 3, 30],
            audit_entries: 1_000_000,
            audit_users: 10_000,
            listen_signals: 2_000,
            listen_paced: 100,
            listen_scale: 20,
        }
    }

    fn smoke() -> Self {
        Sizes {
            smoke: true,
            load_secs: 0.3,
            load_max: 20_000,
            connections: 8,
            scale_users: 1_000,
            scale_sessions: 10_000,
            sdk_secs: 0.5,
            sdk_users: 100,
            sdk_sessions: 3_000,
            sdk_walk_rounds: 1,
            pacing_resets: 60,
            pacing_scale: 300,
            offboard_users: 3_000,
            offboard_sessions: 6_000,
            offboard_scale: 600,
            offboard_leavers: [30, 300],
            soak_actions: [50, 500],
            bulk_users: 250,
            bulk_scale: 600,
            bulk_bad: [0, 3, 30],
            audit_entries: 10_000,
            audit_users: 100,
            listen_signals: 64,
            listen_paced: 30,
            listen_scale: 600,
        }
    }

    pub fn load_duration(&self) -> Duration {
        Duration::from_secs_f64(self.load_secs)
    }
}

/// A line of a report table: what, the figure, the target, and whether it is met.
#[derive(Debug)]
pub struct Row {
    pub what: String,
    pub figure: String,
    pub target: String,
    pub met: Option<bool>,
}

impl Row {
    pub fn new(
        what: impl Into<String>,
        figure: impl Into<String>,
        target: impl Into<String>,
        met: Option<bool>,
    ) -> Self {
        Row {
            what: what.into(),
            figure: figure.into(),
            target: target.into(),
            met,
        }
    }
}

/// One section of the report.
#[derive(Debug, Default)]
pub struct Section {
    pub title: String,
    pub how: String,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Section {
    fn markdown(&self, out: &mut String) {
        let _ = writeln!(out, "## {}\n\n{}\n", self.title, self.how);
        let _ = writeln!(
            out,
            "| figure | measured | target | met |\n|---|---|---|---|"
        );
        for r in &self.rows {
            let met = match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                r.what, r.figure, r.target, met
            );
        }
        for n in &self.notes {
            let _ = writeln!(out, "\n{n}");
        }
        out.push('\n');
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{cores} cores ({cpu}), {:.0} GiB of memory, Linux",
        mem as f64 / 1024.0 / 1024.0
    )
}

/// Runs the sections numbered in `only` (every section when it is empty).
async fn all(sizes: &Sizes, only: &[usize]) -> anyhow::Result<Vec<Section>> {
    let wanted = |n: usize| only.is_empty() || only.contains(&n);
    let mut sections = Vec::new();
    if wanted(1) {
        sections.push(sections::emulator_load(sizes).await?);
    }
    if wanted(2) {
        sections.push(sections::scale(sizes).await?);
    }
    if wanted(3) {
        sections.push(sections::sdks(sizes).await?);
    }
    if wanted(4) {
        sections.push(sections::pacing(sizes).await?);
    }
    if wanted(5) {
        sections.push(sections::offboarding(sizes).await?);
    }
    if wanted(6) {
        sections.push(sections::filtered_list(sizes)?);
    }
    if wanted(7) {
        sections.push(bulk::refused_users(sizes).await?);
    }
    if wanted(8) {
        sections.push(soak::enforce_soak(sizes).await?);
    }
    if wanted(9) {
        sections.push(sections::audit_logs(sizes).await?);
    }
    if wanted(10) {
        sections.push(listen::listener(sizes).await?);
    }
    Ok(sections)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Anything else (`--help` included) is refused: a full run takes minutes and rewrites the
    // report.
    let only_value = args.iter().position(|a| a == "--only").map(|i| i + 1);
    if let Some((_, arg)) = args
        .iter()
        .enumerate()
        .find(|&(i, a)| a != "--smoke" && a != "--only" && Some(i) != only_value)
    {
        anyhow::bail!(
            "unknown argument {arg:?}; usage: slack-sessions-bench [--smoke] [--only 2,3] \
             (no argument: the full run, which rewrites docs/BENCHMARKS.md)"
        );
    }
    let smoke = args.iter().any(|a| a == "--smoke");
    // `--only 2,3` runs some sections and prints them without writing the report.
    let only: Vec<usize> = match args.iter().position(|a| a == "--only") {
        Some(i) => args
            .get(i + 1)
            .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
            .filter(|v: &Vec<usize>| !v.is_empty())
            .ok_or_else(|| anyhow::anyhow!("--only takes section numbers, e.g. --only 2,3"))?,
        None => Vec::new(),
    };
    let sizes = if smoke { Sizes::smoke() } else { Sizes::full() };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let started = std::time::Instant::now();
    let sections = rt.block_on(all(&sizes, &only))?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Benchmarks\n\nMeasured by `cargo run --release -p slack-sessions-bench` (the command to rerun them) \
         on {}, {}. The whole run took {:.0} s. The load generator, the official SDKs and the emulator \
         share the machine's cores, as they would on a developer's laptop or a CI runner: absolute \
         numbers drift with the machine, so the headline figures are ratios measured side by side \
         in the same run.\n",
        machine(),
        sections::now(),
        started.elapsed().as_secs_f64()
    );
    for s in &sections {
        s.markdown(&mut out);
    }
    if smoke || !only.is_empty() {
        println!("{out}");
        println!(
            "benchmark smoke run: {} sections in {:.1} s",
            sections.len(),
            started.elapsed().as_secs_f64()
        );
    } else {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/BENCHMARKS.md");
        std::fs::write(&path, &out)?;
        println!("{out}\nwritten: {}", path.display());
    }
    Ok(())
}
