//! Where the token comes from: `--token`, `--token-file`, `SLACK_TOKEN_FILE` or `SLACK_TOKEN`,
//! in that order.
//!
//! A token file must not be readable by the group or by others (mode `0600` or stricter): a
//! token readable by every account on the machine is as good as published. The token itself is
//! never echoed: errors name the file, never its content.

use std::path::Path;

use slack_sessions_client::Token;

use crate::exit::{AUTH, Failure, Result, USAGE};

/// The environment variable read when neither `--token` nor `--token-file` is given.
pub const TOKEN_ENV: &str = "SLACK_TOKEN";

/// The environment variable naming a token file, read like `--token-file`.
pub const TOKEN_FILE_ENV: &str = "SLACK_TOKEN_FILE";

/// Picks the token: `--token`, then `--token-file`, then `SLACK_TOKEN_FILE`, then `SLACK_TOKEN`.
pub fn resolve(flag: Option<&Token>, file: Option<&Path>) -> Result<Token> {
    if let Some(token) = flag.filter(|t| !t.is_empty()) {
        return Ok(token.clone());
    }
    if let Some(path) = file {
        return read_file(path);
    }
    if let Some(path) = std::env::var_os(TOKEN_FILE_ENV).filter(|p| !p.is_empty()) {
        return read_file(Path::new(&path));
    }
    match std::env::var(TOKEN_ENV) {
        Ok(value) if !value.trim().is_empty() => Ok(Token::new(value)),
        _ => Err(Failure::usage("no Slack token given").hint(format!(
            "pass --token-file FILE (mode 600), set {TOKEN_FILE_ENV} or {TOKEN_ENV}, or pass --token"
        ))),
    }
}

/// The largest token file read: a token is under 100 bytes.
const MAX_BYTES: u64 = 64 << 10;

/// Reads a token file, refusing one that the group or others may read.
pub fn read_file(path: &Path) -> Result<Token> {
    let shown = path.display();
    let meta = std::fs::metadata(path)
        .map_err(|e| Failure::new(USAGE, format!("cannot read the token file {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(Failure::new(
            USAGE,
            format!("the token file {shown} is not a regular file"),
        ));
    }
    check_mode(path, &meta)?;
    let bytes = slack_sessions_engine::files::read_capped(path, MAX_BYTES, "token file")?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::new(USAGE, format!("the token file {shown} is not UTF-8 text")))?;
    let token = Token::new(text);
    if token.is_empty() {
        return Err(Failure::new(
            USAGE,
            format!("the token file {shown} is empty"),
        ));
    }
    if token.expose_secret().contains(char::is_whitespace) {
        return Err(Failure::new(
            USAGE,
            format!("the token file {shown} must hold the token alone, on one line"),
        ));
    }
    Ok(token)
}

#[cfg(unix)]
fn check_mode(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        let shown = path.display();
        return Err(Failure::new(
            AUTH,
            format!(
                "refusing the token file {shown}: it is readable or writable by the group or \
                 others (mode {mode:03o})"
            ),
        )
        .hint(format!("run: chmod 600 {shown}")));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_: &Path, _: &std::fs::Metadata) -> Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn file(mode: u32, content: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, content).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        (dir, path)
    }

    #[test]
    fn private_files_are_read_and_trimmed() {
        let (_d, path) = file(0o600, "xoxp-1-secret\n");
        assert_eq!(read_file(&path).unwrap().expose_secret(), "xoxp-1-secret");
        let (_d, path) = file(0o400, "xoxp-2-secret");
        assert_eq!(read_file(&path).unwrap().expose_secret(), "xoxp-2-secret");
    }

    #[test]
    fn open_files_are_refused_without_showing_the_token() {
        for mode in [0o644, 0o640, 0o604, 0o660, 0o606] {
            let (_d, path) = file(mode, "xoxp-1-secret");
            let err = read_file(&path).unwrap_err();
            assert_eq!(err.code, AUTH, "{mode:o}");
            assert!(
                err.message.contains(&format!("{mode:03o}")),
                "{}",
                err.message
            );
            assert!(!err.message.contains("secret"));
            assert!(err.hint.unwrap().contains("chmod 600"));
        }
    }

    #[test]
    fn empty_or_odd_files_are_refused() {
        let (_d, path) = file(0o600, " \n");
        assert_eq!(read_file(&path).unwrap_err().code, USAGE);
        let (_d, path) = file(0o600, "xoxp-1\nxoxp-2\n");
        let err = read_file(&path).unwrap_err();
        assert!(!err.message.contains("xoxp-2"));
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_file(&dir.path().join("nope")).unwrap_err().code, USAGE);
        assert_eq!(read_file(dir.path()).unwrap_err().code, USAGE);
    }

    #[test]
    fn the_flag_comes_first() {
        let flag = Token::new("xoxp-flag");
        let (_d, path) = file(0o644, "xoxp-file");
        // The flag wins, so the open file is never looked at.
        assert_eq!(
            resolve(Some(&flag), Some(&path)).unwrap().expose_secret(),
            "xoxp-flag"
        );
        assert_eq!(resolve(None, Some(&path)).unwrap_err().code, AUTH);
    }
}
