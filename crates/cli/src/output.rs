//! Output formats: a readable table for people, JSON, NDJSON and CSV for programs.
//!
//! The default is a table when standard output is a terminal and JSON when it is not (piped to
//! `jq`, redirected to a file). Lists stream: JSON, NDJSON and CSV rows are written as pages
//! arrive; a table waits for the last row to size its columns. A closed pipe (`| head`) ends
//! the program quietly.

use std::io::{self, IsTerminal, Write};

use serde_json::Value;

use crate::exit::{FAILURE, Failure, OK};

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people (the default on a terminal), with a summary line.
    Table,
    /// Pretty JSON: an array for lists, an object otherwise (the default when piped).
    Json,
    /// One compact JSON object per line.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
}

impl Format {
    /// The format asked for, or the default for where standard output goes.
    pub fn pick(asked: Option<Format>) -> Format {
        asked.unwrap_or_else(|| {
            if io::stdout().is_terminal() {
                Format::Table
            } else {
                Format::Json
            }
        })
    }
}

pub use slack_sessions_engine::report::{Column, cell as csv_cell, cells, col, csv_line};
pub use slack_sessions_engine::text::{plural, thousands, visible};

/// Turns a write error on standard output into a failure; a closed pipe is a quiet success.
pub fn write_failed(err: io::Error) -> Failure {
    if err.kind() == io::ErrorKind::BrokenPipe {
        Failure::new(OK, "")
    } else {
        Failure::new(FAILURE, format!("cannot write the output: {err}"))
    }
}

/// Prints a list item by item in any format.
pub struct ListPrinter<W: Write> {
    format: Format,
    columns: Vec<Column>,
    out: W,
    rows: Vec<Vec<String>>,
    count: usize,
}

impl<W: Write> std::fmt::Debug for ListPrinter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListPrinter")
            .field("format", &self.format)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl ListPrinter<io::BufWriter<io::Stdout>> {
    /// A printer to standard output.
    pub fn stdout(format: Format, columns: &[Column]) -> Self {
        ListPrinter::new(format, columns, io::BufWriter::new(io::stdout()))
    }
}

impl<W: Write> ListPrinter<W> {
    /// A printer to `out`.
    pub fn new(format: Format, columns: &[Column], out: W) -> Self {
        ListPrinter {
            format,
            columns: columns.to_vec(),
            out,
            rows: Vec::new(),
            count: 0,
        }
    }

    /// Items printed so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Adds an item: its JSON form and its cells (one per column).
    pub fn push(&mut self, json: &Value, cells: Vec<String>) -> io::Result<()> {
        self.push_split(json, cells.clone(), cells)
    }

    /// Adds an item whose table cells (for people) differ from its CSV cells (for programs).
    pub fn push_split(
        &mut self,
        json: &Value,
        cells: Vec<String>,
        csv_cells: Vec<String>,
    ) -> io::Result<()> {
        debug_assert_eq!(cells.len(), self.columns.len());
        debug_assert_eq!(csv_cells.len(), self.columns.len());
        let first = self.count == 0;
        self.count += 1;
        match self.format {
            Format::Table => self.rows.push(cells),
            Format::Json => {
                let pretty = serde_json::to_string_pretty(json).map_err(io::Error::other)?;
                self.out.write_all(if first { b"[\n" } else { b",\n" })?;
                let indented = pretty
                    .lines()
                    .map(|l| format!("  {l}"))
                    .collect::<Vec<_>>()
                    .join("\n");
                self.out.write_all(indented.as_bytes())?;
            }
            Format::Ndjson => {
                serde_json::to_writer(&mut self.out, json).map_err(io::Error::from)?;
                self.out.write_all(b"\n")?;
            }
            Format::Csv => {
                if first {
                    let names: Vec<&str> = self.columns.iter().map(|c| c.name).collect();
                    write_csv_row(&mut self.out, &names)?;
                }
                write_csv_row(&mut self.out, &csv_cells)?;
            }
        }
        Ok(())
    }

    /// Ends the list. `summary` is printed under a table (the only format with one); `empty` is
    /// what a table shows when there is no row.
    pub fn finish(mut self, summary: Option<&str>, empty: &str) -> io::Result<()> {
        match self.format {
            Format::Table => {
                if self.rows.is_empty() {
                    writeln!(self.out, "{}", visible(empty))?;
                } else {
                    let headers: Vec<String> =
                        self.columns.iter().map(|c| c.header.to_owned()).collect();
                    self.out
                        .write_all(render_table(&headers, &self.rows).as_bytes())?;
                }
                if let Some(summary) = summary {
                    writeln!(self.out, "{}", visible(summary))?;
                }
            }
            Format::Json => {
                if self.count == 0 {
                    self.out.write_all(b"[]\n")?;
                } else {
                    self.out.write_all(b"\n]\n")?;
                }
            }
            Format::Ndjson => {}
            Format::Csv => {
                if self.count == 0 {
                    let names: Vec<&str> = self.columns.iter().map(|c| c.name).collect();
                    write_csv_row(&mut self.out, &names)?;
                }
            }
        }
        self.out.flush()
    }
}

/// Writes one CSV record through the engine's one CSV writer, which keeps every cell from
/// being read as a formula ([`csv_line`]).
fn write_csv_row<W: Write, S: AsRef<str>>(out: &mut W, cells: &[S]) -> io::Result<()> {
    out.write_all(&csv_line(cells).map_err(io::Error::other)?)
}

/// Renders rows under headers, columns separated by two spaces, the last one not padded.
/// Every cell is shown [`visible`]: a control character from Slack is printed as its escape,
/// never sent to the terminal, and the widths are those of what is printed.
pub fn render_table(headers: &[String], rows: &[Vec<String>]) -> String {
    let shown =
        |row: &[String]| -> Vec<String> { row.iter().map(|c| visible(c).into_owned()).collect() };
    let headers = shown(headers);
    let rows: Vec<Vec<String>> = rows.iter().map(|r| shown(r)).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    for row in std::iter::once(headers.as_slice()).chain(rows.iter().map(Vec::as_slice)) {
        let last = row.len().saturating_sub(1);
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i < last {
                let pad = widths[i] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Prints one record: as `label  value` lines in a table, an object in JSON, one line in
/// NDJSON; in CSV, a header of the object's keys and one row of its values (lists joined by
/// spaces, null as empty). `fields` are the table's (label, value) lines.
pub fn print_record(
    format: Format,
    json: &Value,
    fields: &[(&str, String)],
) -> Result<(), Failure> {
    let mut out = io::BufWriter::new(io::stdout());
    write_record(&mut out, format, json, fields)
        .and_then(|()| out.flush())
        .map_err(write_failed)
}

/// Prints a run's outcome on standard output: in JSON its report's document, in NDJSON or CSV
/// its rows (one item each, in `columns`), in a table what `table` writes (each
/// run has its own summary and picks the rows worth a look).
pub fn print_outcome<D: serde::Serialize, R: serde::Serialize>(
    format: Format,
    doc: &D,
    rows: &[R],
    columns: &[Column],
    table: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Failure> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = (|| -> io::Result<()> {
        match format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut out, doc).map_err(io::Error::from)?;
                writeln!(out)?;
            }
            Format::Ndjson | Format::Csv => {
                let mut printer = ListPrinter::new(format, columns, &mut out);
                for r in rows {
                    let json = serde_json::to_value(r).map_err(io::Error::other)?;
                    printer.push(&json, cells(r, columns))?;
                }
                printer.finish(None, "")?;
            }
            Format::Table => table(&mut out)?,
        }
        out.flush()
    })();
    result.map_err(write_failed)
}

/// [`print_record`] to any writer.
pub fn write_record<W: Write>(
    out: &mut W,
    format: Format,
    json: &Value,
    fields: &[(&str, String)],
) -> io::Result<()> {
    match format {
        Format::Table => {
            let width = fields
                .iter()
                .map(|(label, _)| label.chars().count())
                .max()
                .unwrap_or(0);
            for (label, value) in fields {
                let pad = width - label.chars().count() + 2;
                let line = format!("{label}{}{}", " ".repeat(pad), visible(value));
                writeln!(out, "{}", line.trim_end())?;
            }
        }
        Format::Json => {
            let pretty = serde_json::to_string_pretty(json).map_err(io::Error::other)?;
            writeln!(out, "{pretty}")?;
        }
        Format::Ndjson => {
            serde_json::to_writer(&mut *out, json).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let empty = serde_json::Map::new();
            let object = json.as_object().unwrap_or(&empty);
            let names: Vec<&str> = object.keys().map(String::as_str).collect();
            let cells: Vec<String> = object.values().map(csv_cell).collect();
            write_csv_row(out, &names)?;
            write_csv_row(out, &cells)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const COLS: [Column; 2] = [col("ID", "id"), col("NAME", "name")];

    fn printed(format: Format, items: &[(Value, Vec<String>)]) -> String {
        let mut buf = Vec::new();
        let mut p = ListPrinter::new(format, &COLS, &mut buf);
        for (json, cells) in items {
            p.push(json, cells.clone()).unwrap();
        }
        p.finish(Some("2 things"), "nothing").unwrap();
        String::from_utf8(buf).unwrap()
    }

    fn items() -> Vec<(Value, Vec<String>)> {
        vec![
            (json!({"id": 1, "name": "a"}), vec!["1".into(), "a".into()]),
            (
                json!({"id": 22, "name": "b, \"c\""}),
                vec!["22".into(), "b, \"c\"".into()],
            ),
        ]
    }

    #[test]
    fn every_format() {
        assert_eq!(
            printed(Format::Table, &items()),
            "ID  NAME\n1   a\n22  b, \"c\"\n2 things\n"
        );
        assert_eq!(
            printed(Format::Csv, &items()),
            "id,name\n1,a\n22,\"b, \"\"c\"\"\"\n"
        );
        assert_eq!(
            printed(Format::Ndjson, &items()),
            "{\"id\":1,\"name\":\"a\"}\n{\"id\":22,\"name\":\"b, \\\"c\\\"\"}\n"
        );
        let json: Value = serde_json::from_str(&printed(Format::Json, &items())).unwrap();
        assert_eq!(
            json,
            json!([{"id": 1, "name": "a"}, {"id": 22, "name": "b, \"c\""}])
        );
    }

    #[test]
    fn tables_show_control_characters_and_csv_defuses_formulas() {
        let items = vec![(
            json!({"id": 1, "name": "=1+1\u{1b}[2J"}),
            vec!["1".into(), "=1+1\u{1b}[2J".into()],
        )];
        // The escape takes the columns it is printed in: the header is padded to it.
        assert_eq!(
            printed(Format::Table, &items),
            "ID  NAME\n1   =1+1\\u{1b}[2J\n2 things\n"
        );
        assert_eq!(
            render_table(
                &["A\u{7}".into(), "B".into()],
                &[vec!["x".into(), "y".into()]]
            ),
            "A\\u{7}  B\nx       y\n"
        );
        assert_eq!(printed(Format::Csv, &items), "id,name\n1,'=1+1\u{1b}[2J\n");
        let mut buf = Vec::new();
        let fields = [("os", "\r\u{1b}[1AiOS".to_owned())];
        write_record(&mut buf, Format::Table, &Value::Null, &fields).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "os  \\u{d}\\u{1b}[1AiOS\n");
    }

    #[test]
    fn empty_lists() {
        assert_eq!(printed(Format::Table, &[]), "nothing\n2 things\n");
        assert_eq!(printed(Format::Json, &[]), "[]\n");
        assert_eq!(printed(Format::Ndjson, &[]), "");
        assert_eq!(printed(Format::Csv, &[]), "id,name\n");
    }

    #[test]
    fn records() {
        let fields = [("user", "ada".to_owned()), ("org id", "E1".to_owned())];
        let json = json!({"user": "ada", "org_id": "E1", "scopes": ["a", "b"], "x": null});
        let mut buf = Vec::new();
        write_record(&mut buf, Format::Table, &json, &fields).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "user    ada\norg id  E1\n");
        let mut buf = Vec::new();
        write_record(&mut buf, Format::Csv, &json, &fields).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "user,org_id,scopes,x\nada,E1,a b,\n"
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(2500), "2,500");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(plural(1, "user", "users"), "1 user");
        assert_eq!(plural(2500, "user", "users"), "2,500 users");
    }
}
