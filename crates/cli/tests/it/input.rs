//! The input file of `offboard`: which column is used, encodings, and the forms an address
//! takes in real exports. Every case is a dry run against the demo org.

use serde_json::Value;

use crate::harness::Env;

/// An HR export: the first email column is the manager's, the leavers are in the second. The
/// managers include the token's owner (grace.hopper).
const HR_EXPORT: &str = "\
Name,Manager Email,Work Email
Dennis Ritchie,grace.hopper@acme.example,dennis.ritchie@acme.example
Hedy Lamarr,alan.turing@acme.example,hedy.lamarr8@acme.example
";

fn dry_run(env: &Env, args: &[&str]) -> Value {
    let out = env
        .run(&[&["offboard"][..], args, &["--dry-run", "-o", "json"]].concat())
        .expect(0);
    serde_json::from_str(&out.stdout).unwrap()
}

fn users(doc: &Value) -> Vec<String> {
    doc["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["user_id"].as_str().unwrap_or("-").to_owned())
        .collect()
}

#[test]
fn two_columns_of_addresses_are_refused_until_column_picks_one() {
    let env = Env::demo();
    env.write("hr.csv", HR_EXPORT);
    for args in [&["hr.csv", "--yes"][..], &["hr.csv", "--dry-run"]] {
        let out = env.run(&[&["offboard"][..], args].concat()).expect(2);
        let err = out
            .stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap();
        assert!(err.contains("\"Manager Email\""), "{err}");
        assert!(err.contains("\"Work Email\""), "{err}");
        assert!(out.stderr.contains("--column"), "{}", out.stderr);
    }
    assert!(
        env.all_requests().is_empty(),
        "nothing was looked up or changed"
    );
    assert!(!env.path("hr.report.csv.journal").exists());
    // By name (any case) or by 1-based index: the leavers, never the managers.
    for pick in ["Work Email", "work email", "3"] {
        let doc = dry_run(&env, &["hr.csv", "--column", pick]);
        assert_eq!(users(&doc), ["W0DEMO0005", "W0DEMO0008"], "{pick}");
    }
    // The dry run names the column and shows two of its values.
    let out = env
        .run(&[
            "offboard",
            "hr.csv",
            "--column",
            "Work Email",
            "--dry-run",
            "-o",
            "table",
        ])
        .expect(0);
    let column = out
        .stdout
        .lines()
        .find(|l| l.starts_with("column"))
        .unwrap();
    assert!(column.contains("\"Work Email\" (3)"), "{column}");
    assert!(
        column.contains("dennis.ritchie@acme.example, hedy.lamarr8@acme.example"),
        "{column}"
    );
    // An unknown column is refused with the ones there are.
    let out = env
        .run(&["offboard", "hr.csv", "--column", "Mail", "--dry-run"])
        .expect(2);
    assert!(out.stderr.contains("\"Work Email\""), "{}", out.stderr);
    env.run(&["offboard", "hr.csv", "--column", "4", "--dry-run"])
        .expect(2);
}

#[test]
fn a_column_named_email_is_the_automatic_pick() {
    let env = Env::demo();
    env.write(
        "hr.csv",
        "Name,Manager Email,EMAIL\nDennis,grace.hopper@acme.example,dennis.ritchie@acme.example\n",
    );
    assert_eq!(users(&dry_run(&env, &["hr.csv"])), ["W0DEMO0005"]);
    // Without a header, two columns of addresses are as ambiguous.
    env.write(
        "plain.csv",
        "grace.hopper@acme.example,dennis.ritchie@acme.example\n",
    );
    env.run(&["offboard", "plain.csv", "--dry-run"]).expect(2);
    assert_eq!(
        users(&dry_run(&env, &["plain.csv", "--column", "2"])),
        ["W0DEMO0005"]
    );
}

#[test]
fn utf16_files_are_read() {
    let env = Env::demo();
    let text = "email\r\ndennis.ritchie@acme.example\r\nW0DEMO0006\r\n";
    let mut le = vec![0xff, 0xfe];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(env.path("le.csv"), le).unwrap();
    let mut be = vec![0xfe, 0xff];
    be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    std::fs::write(env.path("be.csv"), be).unwrap();
    for f in ["le.csv", "be.csv"] {
        let doc = dry_run(&env, &[f]);
        assert_eq!(users(&doc), ["W0DEMO0005", "W0DEMO0006"], "{f}");
        assert_eq!(doc["lines"][0]["line"], 2);
    }
}

#[test]
fn binary_and_non_utf8_files_are_refused_naming_the_line() {
    let env = Env::demo();
    std::fs::write(
        env.path("latin1.txt"),
        b"dennis.ritchie@acme.example\nren\xe9@acme.example\n",
    )
    .unwrap();
    let out = env.run(&["offboard", "latin1.txt", "--dry-run"]).expect(2);
    assert!(out.stderr.contains("line 2"), "{}", out.stderr);
    assert!(out.stderr.contains("UTF-8"), "{}", out.stderr);
    std::fs::write(env.path("blob.bin"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let out = env.run(&["offboard", "blob.bin", "--dry-run"]).expect(2);
    assert!(out.stderr.contains("binary"), "{}", out.stderr);
    assert!(out.stderr.contains("line 3"), "{}", out.stderr);
    assert!(env.all_requests().is_empty());
}

#[test]
fn display_names_mailto_semicolons_and_tabs() {
    let env = Env::demo();
    env.write(
        "names.txt",
        "Dennis Ritchie <dennis.ritchie@acme.example>\nmailto:hedy.lamarr8@acme.example\n\"Frances Allen\" <frances.allen6@acme.example>\n",
    );
    assert_eq!(
        users(&dry_run(&env, &["names.txt"])),
        ["W0DEMO0005", "W0DEMO0008", "W0DEMO0006"]
    );
    env.write(
        "semi.csv",
        "Name;Email\nRitchie, Dennis;dennis.ritchie@acme.example\nLamarr, Hedy;hedy.lamarr8@acme.example\n",
    );
    assert_eq!(
        users(&dry_run(&env, &["semi.csv"])),
        ["W0DEMO0005", "W0DEMO0008"]
    );
    env.write(
        "tabs.tsv",
        "Name\tEmail\nDennis\tdennis.ritchie@acme.example\n",
    );
    assert_eq!(users(&dry_run(&env, &["tabs.tsv"])), ["W0DEMO0005"]);
}
