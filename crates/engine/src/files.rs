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
//!   others may only read is tightened to 0600. A dry run reads them the same way
//!   ([`open_existing`]), so it refuses what the run would.
//! - **Archived files** (a finished run's journal) are renamed to a name that is free, never
//!   over an existing file or link ([`archive`]).
//!
//! The umask does not loosen any of this: modes are set explicitly.
//!
//! **Inputs** (a policy, an HR file, a token file) are read through [`read_capped`]: at most a
//! documented size, so that `/dev/zero`, a FIFO that never ends or a wrong file is refused with
//! a clear error instead of taking all memory.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
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

/// Opens an appended file for reading only (a dry run's look at a journal or an audit log),
/// refusing a symbolic link as [`open_append`] does; `None` if there is none.
pub fn open_existing(path: &Path, noun: &str) -> Result<Option<File>> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    match opts.open(path) {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(_) if is_link(path) => Err(link_refused(path, noun)),
        Err(e) => Err(Error::file("read", noun, path, e)),
    }
}

/// Reads an input file whole, refusing one larger than `cap` bytes before reading more than
/// `cap + 1` of it (a regular file by its size, before reading anything). `noun` names it in
/// errors (`policy`).
pub fn read_capped(path: &Path, cap: u64, noun: &str) -> Result<Vec<u8>> {
    let cannot =
        |e: io::Error| Error::refused(format!("cannot read the {noun} {}: {e}", path.display()));
    let too_big = || {
        Error::refused(format!(
            "the {noun} {} is over the {} limit",
            path.display(),
            size(cap)
        ))
        .hint("is it the right file?")
    };
    let file = File::open(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if meta.is_file() && meta.len() > cap {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > cap {
        return Err(too_big());
    }
    Ok(bytes)
}

/// A size in bytes as people read it: `1 MiB`, `64 KiB`, `300 bytes`.
pub fn size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{} {name}", bytes / unit);
        }
    }
    format!("{bytes} bytes")
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

/// Renames `path` to the first of `names(1)`, `names(2)`, … (same directory) that is free,
/// never replacing a file or a link of that name; keeps the name durable. Returns it.
pub fn archive(path: &Path, names: impl Fn(usize) -> PathBuf, noun: &str) -> Result<PathBuf> {
    for n in 1.. {
        let to = names(n);
        match rename_new(path, &to) {
            Ok(()) => {
                sync_dir(&to);
                return Ok(to);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::file("archive", noun, path, e)),
        }
    }
    unreachable!("the names run out")
}

/// Renames `from` to `to`, failing with `AlreadyExists` if `to` is there (even a dangling
/// link): atomically where the system can (`RENAME_NOREPLACE`), else by looking first.
fn rename_new(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            // A file system without RENAME_NOREPLACE: look first, below.
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(io::ErrorKind::AlreadyExists.into());
    }
    std::fs::rename(from, to)
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
    fn archives_never_replace_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j");
        std::fs::write(&journal, "old run").unwrap();
        std::fs::write(dir.path().join("j.1"), "kept").unwrap();
        std::os::unix::fs::symlink(dir.path().join("nowhere"), dir.path().join("j.2")).unwrap();
        let to = archive(&journal, |n| dir.path().join(format!("j.{n}")), "journal").unwrap();
        assert_eq!(to, dir.path().join("j.3"));
        assert_eq!(std::fs::read_to_string(&to).unwrap(), "old run");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("j.1")).unwrap(),
            "kept"
        );
        assert!(is_link(&dir.path().join("j.2")));
        assert!(!journal.exists());
    }

    #[test]
    fn inputs_are_read_up_to_their_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "x".repeat(10)).unwrap();
        assert_eq!(read_capped(&path, 10, "policy").unwrap().len(), 10);
        let err = read_capped(&path, 9, "policy").unwrap_err().to_string();
        assert!(err.contains("p.toml is over the 9 bytes limit"), "{err}");
        let err = read_capped(Path::new("/dev/zero"), 1 << 20, "policy").unwrap_err();
        assert!(
            err.to_string()
                .contains("/dev/zero is over the 1 MiB limit"),
            "{err}"
        );
        assert_eq!(size(64 << 20), "64 MiB");
        assert_eq!(size(1500), "1500 bytes");
    }

    #[test]
    fn a_dry_run_reads_appended_files_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j");
        assert!(open_existing(&journal, "journal").unwrap().is_none());
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &journal).unwrap();
        let err = open_existing(&journal, "journal").unwrap_err().to_string();
        assert!(err.contains("symbolic link") && err.contains("j"), "{err}");
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
