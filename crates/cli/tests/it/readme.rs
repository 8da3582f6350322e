//! The README's CLI examples run as written against the demo org (`serve --demo`): each line of
//! its first `sh` block under "## CLI", through bash, with the environment the README says to set.

use std::process::Command;

use crate::harness::{BIN, Env};

/// The example lines of the README's CLI section.
fn examples() -> Vec<String> {
    let readme = include_str!("../../../../README.md");
    let cli = &readme[readme.find("\n## CLI").expect("a CLI section")..];
    let block = cli
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block");
    block
        .lines()
        .filter(|l| l.starts_with("slack-sessions "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_examples_run_on_the_demo_org() {
    let env = Env::demo();
    // The offboarding examples read `leavers.csv`: two of the demo org's people.
    env.write(
        "leavers.csv",
        "email\ndennis.ritchie@acme.example\nhedy.lamarr8@acme.example\n",
    );
    // The enforcement examples read `policy.toml`: the README's own policy.
    let readme = include_str!("../../../../README.md");
    let policy = readme
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a toml block");
    env.write("policy.toml", policy);
    let home = env.dir().join("home");
    std::fs::create_dir_all(home.join(".local/share/bash-completion/completions")).unwrap();
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let lines = examples();
    assert!(lines.len() >= 10, "{lines:?}");
    for line in lines {
        // Without a terminal a run that asks first refuses (exit 2): answer for the admin.
        let line = if line.starts_with("slack-sessions offboard leavers.csv  ") {
            line.replacen("leavers.csv", "leavers.csv --yes", 1)
        } else {
            line
        };
        let out = Command::new("bash")
            .args(["-c", &line])
            .current_dir(env.dir())
            .env("PATH", &path)
            .env("HOME", &home)
            .env("SLACK_API_URL", env.api_url())
            .env("SLACK_TOKEN", &env.token)
            .env_remove("SLACK_TOKEN_FILE")
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{line}\n--- exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(!env.requests("admin.users.session.invalidate").is_empty());
    assert!(!env.requests("admin.users.session.resetBulk").is_empty());
    assert!(env.path("sessions.html").exists());
    assert!(env.path("policy.audit.jsonl").exists());
}
