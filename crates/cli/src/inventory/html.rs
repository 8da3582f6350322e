//! The summary as one self-contained HTML page: a bar chart (inline SVG, drawn by the browser
//! with no script and no network fetch) per dimension, the top users, and the sessions table.

use std::collections::HashMap;
use std::fmt::Write;

use slack_sessions_client::api::UserId;
use slack_sessions_client::methods::ActiveSession;

use super::row;
use super::summary::{Count, DIMENSIONS, Summary, for_people, headline, share, total};
use crate::output::{thousands, visible};
use slack_sessions_engine::users::Person;

/// The most sessions the page's table lists (the counts cover them all).
pub const HTML_ROWS: usize = 5_000;

/// The colour of the bars (the browser test looks for it).
pub const BAR_COLOUR: &str = "#1f6feb";

const BAR_HEIGHT: usize = 22;
const LABEL_WIDTH: usize = 260;
const CHART_WIDTH: usize = 420;

/// Escapes text for HTML (and SVG); its control characters are shown as on a terminal
/// ([`visible`]).
pub fn escape(text: &str) -> String {
    let text = visible(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The bars of a chart: what the table shows ([`for_people`]), labelled alike.
fn bars(counts: &[Count]) -> Vec<(String, u64)> {
    for_people(counts)
        .iter()
        .map(|c| (c.label(), c.sessions))
        .collect()
}

/// One horizontal bar chart as inline SVG.
pub fn chart(id: &str, title: &str, data: &[(String, u64)], total: u64) -> String {
    let max = data.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let height = data.len().max(1) * BAR_HEIGHT + 8;
    let width = LABEL_WIDTH + CHART_WIDTH + 120;
    let mut svg = format!(
        r#"<svg id="chart-{id}" class="chart" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#,
        title = escape(title)
    );
    for (i, (label, n)) in data.iter().enumerate() {
        let y = 4 + i * BAR_HEIGHT;
        let w = ((*n as f64 / max as f64) * CHART_WIDTH as f64)
            .round()
            .max(1.0) as usize;
        let _ = write!(
            svg,
            r#"<text x="{lx}" y="{ty}" text-anchor="end" class="label">{label}</text><rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{w}" height="{bh}" fill="{BAR_COLOUR}"><title>{label}: {n}</title></rect><text x="{vx}" y="{ty}" class="value">{count} ({pct})</text>"#,
            lx = LABEL_WIDTH - 8,
            ty = y + 15,
            label = escape(label),
            bh = BAR_HEIGHT - 6,
            vx = LABEL_WIDTH + w + 6,
            count = thousands(*n as usize),
            pct = share(*n, total),
        );
    }
    svg.push_str("</svg>");
    svg
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1b1f24;background:#fff}\
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}\
.chart text{font:12px system-ui,sans-serif;fill:#1b1f24}\
table{border-collapse:collapse;font-size:12px}th,td{border-bottom:1px solid #d0d7de;padding:3px 8px;text-align:left}\
th{background:#f6f8fa}.note{color:#57606a}";

/// The page: `sessions` are the ones listed (at most a cap), `more` those left out of the list.
pub fn page(
    summary: &Summary,
    sessions: &[ActiveSession],
    more: u64,
    people: &HashMap<UserId, Person>,
    org_name: &str,
) -> String {
    let mut html = String::new();
    let title = format!("Slack sessions of {org_name}");
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n<p>{counted} in {org} ({id}){f}.</p>\n",
        t = escape(&title),
        counted = escape(&headline(summary)),
        org = escape(org_name),
        id = escape(&summary.org_id),
        f = if summary.filters.is_empty() {
            String::new()
        } else {
            format!(", filters: <code>{}</code>", escape(&summary.filters))
        },
    );
    for ((name, title), (_, counts)) in DIMENSIONS.iter().zip(&summary.by) {
        if counts.is_empty() {
            continue;
        }
        let _ = write!(
            html,
            "<section><h2>{}</h2>\n{}\n</section>\n",
            escape(title),
            chart(name, title, &bars(counts), total(counts))
        );
    }
    if !summary.top_users.is_empty() {
        let data: Vec<(String, u64)> = summary
            .top_users
            .iter()
            .map(|u| {
                let who = if u.name.is_empty() {
                    u.user_id.clone()
                } else {
                    format!("{} ({})", u.name, u.user_id)
                };
                (who, u.sessions)
            })
            .collect();
        let _ = write!(
            html,
            "<section><h2>Users with the most sessions</h2>\n{}\n</section>\n",
            chart(
                "users",
                "Users with the most sessions",
                &data,
                summary.sessions
            )
        );
    }
    let names = !people.is_empty();
    let columns = row::columns(names);
    let _ = write!(
        html,
        "<section><h2>Sessions</h2>\n<table id=\"sessions\"><thead><tr>"
    );
    for c in &columns {
        let _ = write!(html, "<th>{}</th>", escape(c.header));
    }
    html.push_str("</tr></thead><tbody>\n");
    let none = Person::default();
    for s in sessions {
        let person = names.then(|| people.get(&s.user_id).unwrap_or(&none));
        html.push_str("<tr>");
        for cell in row::cells(s, person) {
            let _ = write!(html, "<td>{}</td>", escape(&cell));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table>\n");
    if more > 0 {
        let _ = writeln!(
            html,
            "<p class=\"note\">… and {} more sessions, counted in the charts but not listed (`sessions list` with the same filters lists them all).</p>",
            thousands(more as usize)
        );
    }
    html.push_str("</section>\n</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::summary::SHOWN;

    #[test]
    fn text_is_escaped_and_long_tails_are_grouped() {
        assert_eq!(
            escape("<a href=\"x\">&'\u{1b}[2J"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;\\u{1b}[2J"
        );
        let counts: Vec<Count> = (0..20)
            .map(|i| Count {
                key: format!("k{i}"),
                name: None,
                sessions: 20 - i,
            })
            .collect();
        let b = bars(&counts);
        assert_eq!(b.len(), SHOWN + 1);
        assert_eq!(b[SHOWN].0, "other (5 values)");
        assert_eq!(b[SHOWN].1, 5 + 4 + 3 + 2 + 1);
        let svg = chart("x", "X", &b, 210);
        assert_eq!(svg.matches("class=\"bar\"").count(), SHOWN + 1);
        assert!(
            svg.contains(&format!("width=\"{CHART_WIDTH}\"")),
            "the largest bar is full width"
        );
    }
}
