//! `sessions summary` in every format, and its HTML page rendered by headless Chromium: the
//! bars must be drawn (pixels of the bars' colour on the screenshot), not just written.

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

#[test]
fn the_html_page_draws_its_charts_in_a_browser() {
    let chromium = ["chromium", "chromium-browser"]
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
        );
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
        6,
        "five dimensions and the top users"
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
