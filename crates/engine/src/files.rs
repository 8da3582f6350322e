//! Every file a run writes holds users' emails, IPs and devices, and its journal decides what
//! a resumed run does, so each is written the same careful way:
//!
//! - **Whole files** (reports, pages) go to a temporary file with a random name beside them,
//!   created exclusively (`O_EXCL`: a link planted under that name is never followed), mode
//!   0600, synced, then renamed into place (a link at the final name is replaced, not
//!   written through), and the directory synced.
//! - **Appended files** (journals, audit logs) are opened without following a symbolic link
//!   (`O_NOFOLLOW`), created 0600 and exclusively when absent; one owned by another account,
//!   or that others may write, is refused (someone could have added records to it); one that
//!   others may only read is tightened to 0600.
//!
//! The umask does not loosen any of this: modes are set explicitly.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The mode of every file the engine creates.
#[cfg(unix)]
const PRIVATE: u32 = 0o600;

/// The directory a path is in (`.` for a bare name).
pub fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Makes a new or renamed file's name durable.
pub fn sync_dir(path: &Path) {
    if let Ok(d) = File::open(dir_of(path)) {
        let _ = d.sync_all();
    }
}

/// A new private file beside `path` with a random name, created exclusively.
pub fn temp_beside(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(PRIVATE));
    }
    builder.tempfile_in(dir_of(path))
}

/// Writes `bytes` to `path` whole or not at all, readable by its owner only.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(path);
    Ok(())
}

/// Opens an append-only private file for reading and appending, creating it if absent.
/// Returns the file and whether it was created. `noun` names it in errors (`journal`).
pub fn open_append(path: &Path, noun: &str) -> Result<(File, bool)> {
    let mut opts = OpenOptions::new();
    opts.read(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    match opts.open(path) {
        Ok(file) => {
            check_owned(path, noun, &file)?;
            Ok((file, false))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut create = opts.clone();
            create.create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                create.mode(PRIVATE);
            }
            match create.open(path) {
                Ok(file) => {
                    // The mode given at creation is cut by the umask only towards privacy;
                    // set it anyway, so the file is exactly 0600.
                    set_private(&file).map_err(|e| Error::file("create", noun, path, e))?;
                    sync_dir(path);
                    Ok((file, true))
                }
                Err(_) if is_link(path) => Err(link_refused(path, noun)),
                Err(e) => Err(Error::file("create", noun, path, e)),
            }
        }
        Err(_) if is_link(path) => Err(link_refused(path, noun)),
        Err(e) => Err(Error::file("open", noun, path, e)),
    }
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

fn link_refused(path: &Path, noun: &str) -> Error {
    Error::refused(format!(
        "the {noun} {} is a symbolic link: refusing to follow it",
        path.display()
    ))
    .hint("give the real path, or move the link away")
}

#[cfg(unix)]
fn set_private(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(PRIVATE))
}

#[cfg(not(unix))]
fn set_private(_: &File) -> io::Result<()> {
    Ok(())
}

/// An existing appended file must be a regular file of ours that nobody else may write.
#[cfg(unix)]
fn check_owned(path: &Path, noun: &str, file: &File) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = file
        .metadata()
        .map_err(|e| Error::file("read", noun, path, e))?;
    if !meta.is_file() {
        return Err(Error::refused(format!(
            "the {noun} {} is not a regular file",
            path.display()
        )));
    }
    if meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(Error::refused(format!(
            "the {noun} {} belongs to another account (uid {}): refusing to use it",
            path.display(),
            meta.uid()
        ))
        .hint("check what it holds, then move it away or give another path"));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(Error::refused(format!(
            "the {noun} {} may be written by others (mode {:o}): refusing to trust it",
            path.display(),
            meta.mode() & 0o777
        ))
        .hint(format!(
            "check what it holds, then `chmod 600 {}`",
            path.display()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        set_private(file).map_err(|e| Error::file("protect", noun, path, e))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owned(_: &Path, _: &str, _: &File) -> Result<()> {
    Ok(())
}

/// Renames `path` to `to` (same directory), keeping the name durable. Returns `to`.
pub fn rename(path: &Path, to: PathBuf, noun: &str) -> Result<PathBuf> {
    std::fs::rename(path, &to).map_err(|e| Error::file("archive", noun, path, e))?;
    sync_dir(&to);
    Ok(to)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn whole_files_replace_a_planted_link_and_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let report = dir.path().join("r.csv");
        std::os::unix::fs::symlink(&victim, &report).unwrap();
        write_atomic(&report, b"rows").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&report).unwrap(), "rows");
        assert_eq!(mode(&report), 0o600);
        assert!(!is_link(&report));
    }

    #[test]
    fn appended_files_refuse_links_and_others_writes() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &journal).unwrap();
        let err = open_append(&journal, "journal").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(
            !dir.path().join("nowhere").exists(),
            "a dangling link is not filled"
        );
        std::fs::remove_file(&journal).unwrap();
        let (_, created) = open_append(&journal, "journal").unwrap();
        assert!(created);
        assert_eq!(mode(&journal), 0o600);
        std::fs::set_permissions(&journal, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (_, created) = open_append(&journal, "journal").unwrap();
        assert!(!created);
        assert_eq!(mode(&journal), 0o600, "tightened");
        std::fs::set_permissions(&journal, std::fs::Permissions::from_mode(0o666)).unwrap();
        let err = open_append(&journal, "journal").unwrap_err();
        assert!(err.to_string().contains("written by others"), "{err}");
    }
}
