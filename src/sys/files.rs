//! Opening files in directories other users can write to (`/tmp`, `$TMPDIR`) without being
//! turned against the caller: herd is often run as root, and a file or symlink planted at the
//! name it will use could make it truncate, or write into, a file it never meant to touch.
//!
//! - A name herd chooses itself (the accept lock file) is created with
//!   `O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600: the open fails if anything at all is there, link
//!   or file, and herd refuses with [`planted`]'s message instead of using it.
//! - A name the user gives (`--trace FILE`) is theirs, like the target of a shell's `>`: an
//!   existing file of theirs is truncated. But a symlink there is refused (`O_NOFOLLOW`), and
//!   so is an existing file owned by another user (what `fs.protected_regular` refuses in
//!   sticky directories, checked everywhere), since writing into it would hand them the data.
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Create `path`, which must not exist in any form, for reading and writing with mode 0600.
/// A file or symlink already there is an `AlreadyExists` error whose message says so.
pub fn create_exclusive(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => planted(path),
            _ => e,
        })
}

/// The error for a name herd meant to create that something else already holds.
pub fn planted(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "{} already exists (planted by another user, or left by a herd that was killed): \
             refusing to open it; remove it if it is yours, or point TMPDIR at a private \
             directory",
            path.display()
        ),
    )
}

/// Open `path`, a file the user named, for appending (O_APPEND): created if missing, first
/// truncated if `truncate`. A symlink at `path`, or a file owned by another user, is refused.
pub fn open_user_output(path: &Path, truncate: bool) -> io::Result<File> {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is a symlink: refusing to follow it", path.display()),
            ),
            _ => e,
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        // A device or a pipe the user may write (`--trace /dev/null`): nothing to truncate,
        // and nobody's data to expose.
        return Ok(file);
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} belongs to uid {}, not to this user (uid {me}): refusing to write into it",
                path.display(),
                meta.uid()
            ),
        ));
    }
    if truncate {
        file.set_len(0)?;
    }
    Ok(file)
}

/// Whether [`open_user_output`] could write `path`, without creating or changing anything: an
/// existing path is opened (not truncated), a missing one needs a writable parent directory.
pub fn check_user_output(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => open_user_output(path, false).map(drop),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            nix::unistd::access(parent, nix::unistd::AccessFlags::W_OK).map_err(|e| {
                io::Error::new(
                    io::Error::from(e).kind(),
                    format!("{}: {e}", parent.display()),
                )
            })
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn exclusive_creation_refuses_planted_links_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let link = dir.path().join("name.lock");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let e = create_exclusive(&link).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert!(e.to_string().contains("refusing"), "{e}");
        let dangling = dir.path().join("dangling.lock");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(create_exclusive(&dangling).is_err());
        assert!(
            !dir.path().join("nowhere").exists(),
            "a dangling link was followed"
        );
        assert!(create_exclusive(&victim).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        let fresh = dir.path().join("fresh.lock");
        create_exclusive(&fresh).unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn user_outputs_refuse_symlinks_and_are_not_created_by_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let link = dir.path().join("trace.csv");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let e = open_user_output(&link, true).unwrap_err();
        assert!(e.to_string().contains("symlink"), "{e}");
        assert!(check_user_output(&link).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        let new = dir.path().join("new.csv");
        check_user_output(&new).unwrap();
        assert!(!new.exists(), "the check created the file");
        assert!(check_user_output(&dir.path().join("no/such/dir/x.csv")).is_err());
        std::fs::write(&new, "old").unwrap();
        open_user_output(&new, true).unwrap();
        assert_eq!(std::fs::read_to_string(&new).unwrap(), "");
    }
}
