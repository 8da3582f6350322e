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

/// The README's section on `listen`, up to the next `###` heading.
fn listener_section() -> &'static str {
    let readme = include_str!("../../../../README.md");
    let start = readme
        .find("\n### Signing out on the identity provider's word")
        .expect("the listener's section")
        + 1;
    let rest = &readme[start..];
    let end = rest[4..].find("\n### ").map_or(rest.len(), |e| e + 4);
    &rest[..end]
}

/// The first fenced block of `lang` in `text` after `after`.
fn block<'a>(text: &'a str, after: &str, lang: &str) -> &'a str {
    let from = text.find(after).unwrap_or_else(|| panic!("{after:?}"));
    text[from..]
        .split(&format!("```{lang}\n"))
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap_or_else(|| panic!("a {lang} block after {after:?}"))
}

/// The secrets' variables of the README's config, as a service's environment would hold them.
fn listener_env(name: &str) -> Option<String> {
    matches!(name, "OKTA_HOOK_SECRET" | "SSF_PUSH_AUTH").then(|| format!("{name}-value"))
}

#[test]
fn the_readme_listener_config_loads_and_says_the_defaults() {
    use slack_sessions_engine::listen::{Action, Guardrails};
    use slack_sessions_listen::actions::{Actions, DEFAULT_RESETS};
    use slack_sessions_listen::config::{Config, Tls};

    let section = listener_section();
    let config = block(section, "", "toml");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("listen.toml");
    let c = Config::parse(&path, config, listener_env).unwrap_or_else(|e| panic!("{e}\n{config}"));
    assert_eq!(c.addr.to_string(), "127.0.0.1:8788");
    assert_eq!(
        c.journal,
        dir.path().join("listen.journal"),
        "the default journal"
    );
    assert!(c.ssf.is_some() && c.okta.is_some() && c.gtr.is_some());
    assert_eq!(
        c.guardrails,
        Guardrails::default(),
        "the README shows the defaults"
    );
    let level = |l: &str| serde_json::json!({ "current_level": l });
    assert_eq!(
        c.actions.decide("risk-level-change", &level("HIGH")),
        Action::Reset
    );
    assert_eq!(
        c.actions.decide("risk-level-change", &level("LOW")),
        Action::Record
    );

    // Every key shown commented out is a real one: uncommented, the config still loads.
    std::fs::write(
        dir.path().join("subjects.csv"),
        "iss,sub,email\nhttps://idp.example.com/,00u1,ada@x.example\n",
    )
    .unwrap();
    let uncommented: String = config
        .lines()
        .map(|line| {
            let key = line.strip_prefix("# ").filter(|rest| {
                rest.split_once('=').is_some_and(|(k, _)| {
                    let k = k.trim();
                    !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                })
            });
            format!("{}\n", key.unwrap_or(line))
        })
        .collect();
    let all = Config::parse(&path, &uncommented, listener_env)
        .unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
    assert_eq!(
        all.tls,
        Some(Tls {
            cert: "/etc/slack-sessions/tls/fullchain.pem".into(),
            key: "/etc/slack-sessions/tls/privkey.pem".into(),
        })
    );
    assert_eq!(
        all.journal,
        std::path::Path::new("/var/lib/slack-sessions/listen.journal")
    );
    let ssf = all.ssf.as_ref().unwrap();
    assert!(ssf.authorization.is_some() && ssf.subject_map.is_some());
    assert_eq!(all.guardrails.exempt_users.len(), 1);

    // The table of defaults names exactly the events that reset.
    let table = &section[section.find("| event (its name in `[actions]`)").unwrap()..];
    let mut resets: Vec<&str> = table
        .lines()
        .take_while(|l| l.starts_with('|'))
        .filter(|l| l.trim_end().ends_with("| reset |"))
        .flat_map(|l| l.split('`').skip(1).step_by(2))
        .collect();
    resets.sort_unstable();
    let mut defaults = DEFAULT_RESETS.to_vec();
    defaults.sort_unstable();
    assert_eq!(resets, defaults);

    // The second example of `[actions]` loads too.
    let example = block(section, "**What a signal does**", "toml");
    let table: toml::Table = toml::from_str(example).unwrap();
    let actions = Actions::from_table(table["actions"].as_table().unwrap()).unwrap();
    assert_eq!(
        actions.decide("credential-change", &serde_json::json!({})),
        Action::Reset
    );
}

/// The commands of an `sh` block: one a line, a heredoc with its lines.
fn commands(block: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut heredoc: Option<String> = None;
    for line in block.lines() {
        if let Some(mut text) = heredoc.take() {
            text.push('\n');
            text.push_str(line);
            if line == "EOF" {
                out.push(text);
            } else {
                heredoc = Some(text);
            }
        } else if line.contains("<<'EOF'") {
            heredoc = Some(line.to_owned());
        } else if !line.trim().is_empty() {
            // A comment after the command is the README's, not the shell's business here.
            out.push(line.split(" #").next().unwrap().trim_end().to_owned());
        }
    }
    assert!(heredoc.is_none(), "an unfinished heredoc");
    out
}

#[test]
fn trying_the_listener_locally_runs_as_written() {
    use std::io::BufRead;
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let env = Env::demo();
    let home = env.dir().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let mut vars: Vec<(String, String)> = Vec::new();
    // A program run as a reader of the README runs it: in the test's directory, with the
    // emulator's URL and token in the environment and the variables exported so far.
    let as_typed = |program: &str, vars: &[(String, String)]| {
        let mut cmd = Command::new(program);
        cmd.current_dir(env.dir())
            .env("HOME", &home)
            .env("SLACK_API_URL", env.api_url())
            .env("SLACK_TOKEN", &env.token)
            .env("SLACK_SESSIONS_STATE_DIR", env.dir().join(".state"))
            .env_remove("SLACK_TOKEN_FILE")
            .env_remove("RUST_LOG")
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        cmd
    };
    let shell = |script: &str, vars: &[(String, String)]| {
        let mut cmd = as_typed("bash", vars);
        cmd.args(["-c", script])
            .env("PATH", &path)
            .stderr(Stdio::piped());
        env.run_cmd(cmd)
    };
    let before = env.sessions_by_user();
    let users = env.export().orgs[0].users.clone();
    let id_of = |email: &str| {
        users
            .iter()
            .find(|u| u.email.as_deref() == Some(email))
            .map(|u| u.id.clone())
            .unwrap_or_else(|| panic!("{email} is no demo user"))
    };
    let mut listener: Option<(std::process::Child, String)> = None;
    let mut signalled: Vec<String> = Vec::new();
    let block = block(listener_section(), "#### Trying it locally", "sh");
    for command in commands(block) {
        let words: Vec<&str> = command.split_whitespace().collect();
        match words.as_slice() {
            // The emulator is the test's own; every command is pointed at it.
            ["slack-sessions", "serve", "--demo"] => {}
            ["export", vars @ ..] if vars.iter().any(|v| v.starts_with("SLACK_API_URL=")) => {
                assert!(vars.contains(&"SLACK_TOKEN=xoxp-demo-admin"), "{command}");
                assert_eq!(env.token, "xoxp-demo-admin");
            }
            ["export", assignment, ..] => {
                let name = assignment.split('=').next().unwrap();
                let got = shell(&format!("{command}; printf %s \"${name}\""), &vars).expect(0);
                assert!(!got.stdout.is_empty(), "{command}");
                vars.push((name.to_owned(), got.stdout));
            }
            ["slack-sessions", "listen", args @ .., "&"] => {
                // As written, but on a free port.
                let log = std::fs::File::create(env.path("listen.log")).unwrap();
                let mut child = as_typed(BIN, &vars)
                    .arg("listen")
                    .args(args)
                    .args(["--addr", "127.0.0.1:0"])
                    .stderr(log)
                    .spawn()
                    .unwrap();
                let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
                let Some(Ok(banner)) = lines.next() else {
                    let _ = child.kill();
                    panic!("the listener did not start:\n{}", env.read("listen.log"));
                };
                std::thread::spawn(move || for _ in lines {});
                let url = banner
                    .split_whitespace()
                    .find(|w| w.starts_with("http://"))
                    .unwrap_or_else(|| panic!("{banner}"))
                    .to_owned();
                listener = Some((child, url));
            }
            ["slack-sessions", "signal", kind, ..] if *kind != "keys" => {
                let (_, url) = listener.as_ref().expect("a listener runs");
                let sent = shell(&format!("{command} --url {url}"), &vars).expect(0);
                assert!(
                    sent.stdout.contains(": 202") || sent.stdout.contains(": 204"),
                    "{command}: {}",
                    sent.stdout
                );
                signalled.push(words[4].to_owned());
            }
            ["slack-sessions", "sessions", "list", "--user", email] => {
                // The listener acts once it has answered: give it the moment the README does.
                let ids: Vec<String> = signalled.iter().map(|e| id_of(e)).collect();
                crate::harness::wait_for(Duration::from_secs(30), "the sign-outs", || {
                    let now = env.sessions_by_user();
                    ids.iter().all(|id| !now.contains_key(id))
                });
                let listed = shell(&command, &vars).expect(0);
                assert!(!listed.stdout.contains(email), "{}", listed.stdout);
            }
            ["kill", "%1"] => {
                let (mut child, _) = listener.take().expect("a listener runs");
                let sent = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status()
                    .unwrap();
                assert!(sent.success());
                let started = Instant::now();
                let status = loop {
                    if let Some(status) = child.try_wait().unwrap() {
                        break status;
                    }
                    assert!(
                        started.elapsed() < Duration::from_secs(30),
                        "the listener did not stop on SIGTERM"
                    );
                    std::thread::sleep(Duration::from_millis(10));
                };
                let log = env.read("listen.log");
                assert_eq!(status.code(), Some(0), "{log}");
                assert!(!log.contains(&env.token), "the token was logged");
            }
            _ if command.starts_with("slack-sessions ") || command.starts_with("cat ") => {
                shell(&command, &vars).expect(0);
            }
            _ => panic!("a line this test does not know how to run: {command}"),
        }
    }
    if let Some((mut child, _)) = listener {
        let _ = child.kill();
        panic!("the walkthrough leaves its listener running");
    }
    assert_eq!(signalled.len(), 3, "{signalled:?}");
    let after = env.sessions_by_user();
    for (user, n) in &before {
        let signalled_user = signalled.iter().any(|e| &id_of(e) == user);
        if signalled_user {
            assert_eq!(after.get(user), None, "{user} signed out");
        } else {
            assert_eq!(after.get(user), Some(n), "{user} untouched");
        }
    }
    for email in &signalled {
        assert!(
            before.contains_key(&id_of(email)),
            "{email} had sessions to end"
        );
    }
    assert_eq!(env.requests("admin.users.session.reset").len(), 3);
}
