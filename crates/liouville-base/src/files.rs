//! The one atomic writer: a file appears complete or not at all, and an interrupted or failed
//! write leaves no orphan behind.
//!
//! The bytes go to a uniquely named temporary sibling (`tempfile`, same directory so the rename is
//! atomic on POSIX, same extension so writers that pick a format from it still can), are synced,
//! then the sibling is renamed over the target. On any error the sibling is deleted (a
//! `tempfile::NamedTempFile` removes itself when dropped un-persisted).

use std::io::Write;
use std::path::Path;

/// Why an atomic write failed.
#[derive(Debug)]
pub enum AtomicWriteError<E> {
    /// Creating, syncing or renaming the file.
    Io(std::io::Error),
    /// The caller's writer failed.
    Write(E),
}

impl<E: std::fmt::Display> std::fmt::Display for AtomicWriteError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Write(e) => write!(f, "{e}"),
        }
    }
}

impl<E: std::fmt::Debug + std::fmt::Display> std::error::Error for AtomicWriteError<E> {}

/// Writes `bytes` to `path` atomically, creating missing parent directories.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |tmp| std::fs::File::create(tmp)?.write_all(bytes)).map_err(|e| match e {
        AtomicWriteError::Io(e) | AtomicWriteError::Write(e) => e,
    })
}

/// Lets `write` fill a temporary sibling of `path` (given its path, with `path`'s extension),
/// then syncs it and renames it over `path`. For writers that open files themselves (plotters).
pub fn write_atomic_with<E>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), AtomicWriteError<E>> {
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(AtomicWriteError::Io)?;
            dir
        }
        None => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let suffix = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .suffix(&suffix)
        .tempfile_in(dir)
        .map_err(AtomicWriteError::Io)?;
    write(tmp.path()).map_err(AtomicWriteError::Write)?;
    // tempfile creates its files private (0600); the result should read like any other file the
    // user writes: the replaced file's permissions, else rw-r--r--.
    let permissions = match std::fs::metadata(path) {
        Ok(m) => m.permissions(),
        Err(_) => default_permissions(tmp.path()).map_err(AtomicWriteError::Io)?,
    };
    std::fs::set_permissions(tmp.path(), permissions).map_err(AtomicWriteError::Io)?;
    std::fs::OpenOptions::new()
        .write(true)
        .open(tmp.path())
        .and_then(|f| f.sync_all())
        .map_err(AtomicWriteError::Io)?;
    tmp.persist(path).map_err(|e| AtomicWriteError::Io(e.error))?;
    Ok(())
}

#[cfg(unix)]
fn default_permissions(_: &Path) -> std::io::Result<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions(tmp: &Path) -> std::io::Result<std::fs::Permissions> {
    Ok(std::fs::metadata(tmp)?.permissions())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect()
    }

    #[test]
    fn writes_replace_whole_files_and_leave_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.bin");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert!(leftovers(path.parent().unwrap()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_world_readable_and_replaced_ones_keep_their_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        write_atomic(&path, b"x").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&path, b"y").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_failed_writer_keeps_the_old_file_and_removes_its_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plot.svg");
        write_atomic(&path, b"good").unwrap();
        let mut seen_ext = None;
        let err = write_atomic_with(&path, |tmp| {
            seen_ext = tmp.extension().map(|e| e.to_string_lossy().into_owned());
            std::fs::write(tmp, b"half")?;
            Err::<(), std::io::Error>(std::io::Error::other("renderer failed"))
        })
        .unwrap_err();
        assert!(matches!(err, AtomicWriteError::Write(_)), "{err}");
        assert_eq!(seen_ext.as_deref(), Some("svg"));
        assert_eq!(std::fs::read(&path).unwrap(), b"good");
        assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
    }

    #[test]
    fn a_path_that_is_a_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_atomic(dir.path(), b"x").is_err());
        assert!(
            leftovers(dir.path().parent().unwrap())
                .iter()
                .all(|n| !n.contains(&*dir.path().file_name().unwrap().to_string_lossy()))
        );
    }
}
