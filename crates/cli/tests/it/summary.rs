//! `sessions summary` in every format, and its HTML page rendered by headless Chromium: the
//! bars must be drawn (pixels of the bars' colour on the screenshot), not just written, and
//! hostile names and device strings must stay text (no element, no script of theirs).

use std::process::Command;

use serde_json::Value;

use crate::harness::csv_rows;
use crate::inventory::env;

#[test]
fn summary_in_every_format() {
    let env = env();
    let table = env
        .run(&["sessions", "summary", "-o", "table"])
        .expect(0)
        .stdout;
    insta::assert_snapshot!("summary_table", table);
    let json: Value = serde_json::from_str(
        &env.run(&["sessions", "summary", "-o", "json"])
            .expect(0)
            .stdout,
    )
    .unwrap();
    assert_eq!(json["sessions"], 8);
    assert_eq!(json["users"], 5);
    assert_eq!(
        json["by_client"],
        serde_json::json!([
            {"key": "desktop", "sessions": 4},
            {"key": "mobile", "sessions": 2},
            {"key": "unknown", "sessions": 1},
            {"key": "web", "sessions": 1},
        ])
    );
    let nets: Vec<&str> = json["by_network"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert!(
        nets.contains(&"198.51.100.0/24") && nets.contains(&"2001:db8:ac3e::/48"),
        "{nets:?}"
    );
    assert_eq!(json["top_users"][0]["email"], "ada@inv.example");
    // Filters apply: the office's sessions only.
    let csv = env
        .run(&[
            "sessions",
            "summary",
            "--ip",
            "198.51.100.0/24",
            "-o",
            "csv",
        ])
        .expect(0)
        .stdout;
    insta::assert_snapshot!("summary_office_csv", csv);
    let rows = csv_rows(&csv);
    assert_eq!(rows[0]["key"], "sessions");
    assert_eq!(rows[0]["sessions"], "4");
    let ndjson = env
        .run(&["sessions", "summary", "-o", "ndjson"])
        .expect(0)
        .stdout;
    assert!(
        ndjson
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok())
    );
    env.run(&["sessions", "summary", "--team", "T0NOPE0001"])
        .expect(4);
}

/// The pixels of `rgb` in a PNG.
fn pixels_of(png: &[u8], rgb: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    buf[..info.buffer_size()]
        .chunks(step)
        .filter(|p| p[..3] == rgb)
        .count()
}

/// Chromium, which renders the page.
fn chromium() -> &'static str {
    ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect(
            "Chromium is needed to render the summary's HTML page: install Debian's `chromium` \
             package (.ci/run does)",
        )
}

#[test]
fn the_html_page_draws_its_charts_in_a_browser() {
    let chromium = chromium();
    let env = env();
    env.run(&[
        "sessions",
        "summary",
        "--html",
        "sessions.html",
        "-o",
        "json",
    ])
    .expect(0);
    let html = env.read("sessions.html");
    // No fetch: the only URL is the SVG namespace.
    assert_eq!(
        html.matches("http").count(),
        html.matches("http://www.w3.org/2000/svg").count()
    );
    assert!(
        !html.contains("<script src") && !html.contains("<link"),
        "self-contained"
    );
    assert_eq!(
        html.matches("<svg").count(),
        8,
        "seven dimensions (three of them versions) and the top users"
    );
    assert!(
        html.contains("<p>8 sessions of 5 users in "),
        "the headline"
    );
    assert!(html.contains("ada@inv.example"), "the sessions table");
    let shot = env.path("shot.png");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,3000",
            &format!("--screenshot={}", shot.display()),
        ])
        .arg(format!("file://{}", env.path("sessions.html").display()))
        .output()
        .unwrap();
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    // The bars' colour, #1f6feb: 6 charts of up to 8 bars, each at least a few pixels wide
    // and 16 high.
    let bars = pixels_of(&png, [0x1f, 0x6f, 0xeb]);
    assert!(
        bars > 20_000,
        "only {bars} pixels of the bars' colour: the charts were not drawn"
    );
    // And the page without its SVG draws none: the test sees the difference.
    let bare = html
        .split("<svg")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_owned()
            } else {
                part.split_once("</svg>")
                    .map_or(String::new(), |(_, rest)| rest.to_owned())
            }
        })
        .collect::<String>();
    env.write("bare.html", &bare);
    let bare_shot = env.path("bare.png");
    Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1200,3000",
        ])
        .arg(format!("--screenshot={}", bare_shot.display()))
        .arg(format!("file://{}", env.path("bare.html").display()))
        .output()
        .unwrap();
    assert_eq!(
        pixels_of(&std::fs::read(&bare_shot).unwrap(), [0x1f, 0x6f, 0xeb]),
        0
    );
}

/// The hostile org's page, loaded by Chromium: the DOM it builds (after any script would have
/// run) holds no element and no title from the data, and shows the data as text.
#[test]
fn the_html_page_keeps_hostile_data_as_text_in_a_browser() {
    use crate::hostile::{CLIPBOARD, HYPERLINK, IMG, SCRIPT};
    let chromium = chromium();
    let env = crate::hostile::env();
    env.run(&["sessions", "summary", "--html", "page.html", "-o", "json"])
        .expect(0);
    let html = env.read("page.html");
    assert!(!html.contains(SCRIPT) && !html.contains("<img"), "{html}");
    assert!(
        !html.chars().any(|c| c != '\n' && c.is_control()),
        "control characters are shown, not written"
    );
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=2000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", env.path("page.html").display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<table id=\"sessions\">"),
        "Chromium dumped the page: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No element came from the data, and no script ran (it would have retitled the page).
    for element in ["<script", "<img"] {
        assert!(!dom.contains(element), "{element} in the DOM:\n{dom}");
    }
    assert!(!dom.contains("<title>pwned"), "{dom}");
    // The data is there, as text.
    for text in [HYPERLINK, SCRIPT, IMG] {
        let escaped = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(dom.contains(&escaped), "{text} shown as text:\n{dom}");
    }
    assert!(dom.contains("\\u{1b}]52;c;"), "{CLIPBOARD:?} shown escaped");
}

/// What people read: the words of the headline, the versions of each kind of client apart, the
/// workspaces named, and the same long tails grouped in the table and on the page.
#[test]
fn the_summary_says_what_it_counts_alike_on_the_terminal_and_the_page() {
    use crate::hostile::{BRANCH_NETWORKS, ORG, ORG_NAME};
    let env = crate::hostile::env();
    let table = env
        .run(&["sessions", "summary", "-o", "table", "--html", "page.html"])
        .expect(0)
        .stdout;
    let html = env.read("page.html");
    let sessions = 7 + BRANCH_NETWORKS;
    assert!(
        table.starts_with(&format!("{sessions} sessions of 5 users\n")),
        "{table}"
    );
    assert!(
        html.contains(&format!("<p>{sessions} sessions of 5 users in ")),
        "{html}"
    );
    // Each kind of client has its versions apart: Chrome's 132.0 is not a Slack version.
    for title in [
        "SLACK DESKTOP APP VERSION",
        "SLACK MOBILE APP VERSION",
        "BROWSER VERSION (WEB SESSIONS)",
    ] {
        assert!(table.contains(title), "{title}: {table}");
    }
    let json: serde_json::Value = serde_json::from_str(
        &env.run(&["sessions", "summary", "-o", "json"])
            .expect(0)
            .stdout,
    )
    .unwrap();
    let keys = |dim: &str| -> Vec<String> {
        json[dim]
            .as_array()
            .unwrap_or_else(|| panic!("{dim}: {json}"))
            .iter()
            .map(|c| c["key"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(keys("by_browser_version"), ["131.0", "132.0"]);
    assert_eq!(
        keys("by_desktop_version"),
        ["4.41.105", "4.9.1\u{1b}]52;c;cm0gLXJmIH4=\u{7}"]
    );
    assert_eq!(keys("by_mobile_version"), ["\t24.11.10"]);
    // The org-level sessions are named after the org.
    let org = json["by_team"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == ORG)
        .unwrap()
        .clone();
    assert_eq!(org["name"], ORG_NAME);
    let shown_org = format!("Evil\\u{{1b}}]0;owned\\u{{7}} <b>Corp</b> ({ORG})");
    assert!(table.contains(&shown_org), "{table}");
    assert!(
        html.contains("Evil\\u{1b}]0;owned\\u{7} &lt;b&gt;Corp&lt;/b&gt; (E0HOST0001)"),
        "{html}"
    );
    // More networks than shown one by one: the same `other` line in the table and a bar.
    let networks = BRANCH_NETWORKS + 4;
    let other = format!("other ({} values)", networks - 15);
    let section = table
        .split("\n\n")
        .find(|s| s.starts_with("NETWORK"))
        .unwrap();
    assert_eq!(section.lines().count(), 1 + 15 + 1, "{section}");
    assert!(section.contains(&other), "{section}");
    assert!(html.contains(&format!(">{other}</text>")), "{html}");
    // Programs get every value.
    assert_eq!(json["by_network"].as_array().unwrap().len(), networks);
}
