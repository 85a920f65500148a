//! File locks as accept locks: fcntl(2) record locks (F_SETLKW, Apache's default AcceptMutex on
//! Linux) and flock(2). The kernel drops either when its holder dies.
//!
//! The two differ in ownership: an fcntl lock belongs to the process (so threads of one process
//! cannot exclude each other with it), a flock lock to the open file description (so each
//! worker must open the file itself, after fork, or all would share one lock).
//!
//! Thread mode: an fcntl record lock cannot exclude threads of one process, so the thread form
//! of an fcntl lock is an open-file-description lock ([`ofd_lock`], F_OFD_SETLKW, Linux 3.15):
//! fcntl's byte-range semantics, owned by the open file description like flock. Either needs
//! one open file description per worker thread: [`LockFile::with_own`] gives each calling
//! thread its own, opened on first use (so, in process mode, after fork in the worker).
//!
//! The lock file is created in a directory every user can write to (`$TMPDIR`, else /tmp), so
//! it is created exclusively (`O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600, [`super::files`]): a file
//! or symlink planted at its name is refused, never followed or truncated. After that its path
//! is never looked up again: every further open file description is opened through
//! `/proc/self/fd/N` of the creator's descriptor (inherited by forked workers), which names
//! the inode itself, so a file swapped in at the path later is never opened either.
use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A lock file created by the master, removed when the creator drops it.
pub struct LockFile {
    path: PathBuf,
    /// The creator's open file description (inherited by forked workers).
    file: File,
    /// The file's (device, inode): only this file is removed at the end.
    id: (u64, u64),
    creator: u32,
}

impl LockFile {
    /// Create a fresh lock file in `dir` (its name carries the pid). Anything already at that
    /// name is refused with an error that says so.
    pub fn create(dir: &Path) -> io::Result<Self> {
        let path = dir.join(format!("herd-accept-{}.lock", std::process::id()));
        let file = super::files::create_exclusive(&path)?;
        let meta = file.metadata()?;
        Ok(LockFile {
            path,
            file,
            id: (meta.dev(), meta.ino()),
            creator: std::process::id(),
        })
    }

    /// The creator's open file description (fcntl record locks belong to the process, so one
    /// shared description is enough for them).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new open file description of the same file: each opener gets its own. Opened through
    /// `/proc/self/fd`, not the path, so it is this inode whatever the path holds now.
    pub fn open(&self) -> io::Result<File> {
        let fd = format!("/proc/self/fd/{}", self.file.as_raw_fd());
        let f = OpenOptions::new().read(true).write(true).open(fd)?;
        let meta = f.metadata()?;
        if (meta.dev(), meta.ino()) != self.id {
            return Err(io::Error::other(format!(
                "{}: reopening the lock file found another file",
                self.path.display()
            )));
        }
        Ok(f)
    }

    /// Run `f` on the calling thread's own open file description of this file, opened on the
    /// thread's first call and kept for the thread's life. Two threads (or two processes)
    /// never share it, so OFD locks and flock exclude them from each other.
    pub fn with_own<R>(&self, f: impl FnOnce(&File) -> io::Result<R>) -> io::Result<R> {
        OWN_FILES.with(|own| {
            let mut own = own.borrow_mut();
            let i = match own.iter().position(|(p, _)| p == &self.path) {
                Some(i) => i,
                None => {
                    own.push((self.path.clone(), self.open()?));
                    own.len() - 1
                }
            };
            f(&own[i].1)
        })
    }
}

thread_local! {
    /// The calling thread's own open file descriptions, by lock file path.
    static OWN_FILES: RefCell<Vec<(PathBuf, File)>> = const { RefCell::new(Vec::new()) };
}

impl Drop for LockFile {
    fn drop(&mut self) {
        // Only the creator removes it, and only if the name still holds its file.
        let ours =
            std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.id);
        if std::process::id() == self.creator && ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn setlk(file: &File, cmd: libc::c_int, kind: libc::c_int) -> io::Result<()> {
    // SAFETY: an all-zero flock struct is valid; we then set the fields we need (l_pid stays
    // 0, as the OFD commands require).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = 0;
    fl.l_len = 0; // the whole file
                  // SAFETY: F_SETLK/F_SETLKW take a pointer to a valid flock struct.
    syscall!(fcntl(file.as_raw_fd(), cmd, &mut fl as *mut libc::flock))?;
    Ok(())
}

/// Block until the process holds the fcntl write lock; `Interrupted` on a signal.
pub fn fcntl_lock(file: &File) -> io::Result<()> {
    setlk(file, libc::F_SETLKW, libc::F_WRLCK)
}

/// Take the fcntl lock if free; `Ok(false)` when another process holds it.
#[cfg(test)]
fn fcntl_try_lock(file: &File) -> io::Result<bool> {
    match setlk(file, libc::F_SETLK, libc::F_WRLCK) {
        Ok(()) => Ok(true),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EACCES)) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn fcntl_unlock(file: &File) -> io::Result<()> {
    setlk(file, libc::F_SETLK, libc::F_UNLCK)
}

/// Block until this open file description holds the flock; `Interrupted` on a signal.
pub fn flock_lock(file: &File) -> io::Result<()> {
    syscall!(flock(file.as_raw_fd(), libc::LOCK_EX))?;
    Ok(())
}

pub fn flock_unlock(file: &File) -> io::Result<()> {
    syscall!(flock(file.as_raw_fd(), libc::LOCK_UN))?;
    Ok(())
}

/// Block until this open file description holds the OFD write lock (F_OFD_SETLKW, Linux
/// 3.15); `Interrupted` on a signal. The thread form of [`fcntl_lock`].
pub fn ofd_lock(file: &File) -> io::Result<()> {
    setlk(file, libc::F_OFD_SETLKW, libc::F_WRLCK)
}

/// Take the OFD lock if free; `Ok(false)` when another open file description holds it.
pub fn ofd_try_lock(file: &File) -> io::Result<bool> {
    match setlk(file, libc::F_OFD_SETLK, libc::F_WRLCK) {
        Ok(()) => Ok(true),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EACCES)) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn ofd_unlock(file: &File) -> io::Result<()> {
    setlk(file, libc::F_OFD_SETLK, libc::F_UNLCK)
}

/// Whether this kernel has OFD locks (Linux 3.15); the reason when it does not.
pub fn ofd_supported(file: &File) -> Result<(), String> {
    match ofd_try_lock(file).and_then(|_| ofd_unlock(file)) {
        Ok(()) => Ok(()),
        Err(e) => Err(format!("F_OFD_SETLK needs Linux 3.15 or later: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_link_is_refused_and_a_swapped_path_is_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let name = dir
            .path()
            .join(format!("herd-accept-{}.lock", std::process::id()));
        std::os::unix::fs::symlink(&victim, &name).unwrap();
        let e = LockFile::create(dir.path())
            .err()
            .expect("a planted link was used");
        assert!(e.to_string().contains("refusing"), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        std::fs::remove_file(&name).unwrap();
        let lf = LockFile::create(dir.path()).unwrap();
        // Swap another file in at the name: reopening still reaches the lock file, and the
        // swapped-in file is not removed at the end.
        std::fs::rename(&name, dir.path().join("moved")).unwrap();
        std::fs::write(&name, "not herd's").unwrap();
        let f = lf.open().unwrap();
        assert_eq!(f.metadata().unwrap().len(), 0);
        drop(lf);
        assert_eq!(std::fs::read_to_string(&name).unwrap(), "not herd's");
    }

    #[test]
    fn fcntl_locks_do_not_exclude_threads_but_ofd_locks_do() {
        let dir = tempfile::tempdir().unwrap();
        let lf = LockFile::create(dir.path()).unwrap();
        let (a, b) = (lf.open().unwrap(), lf.open().unwrap());
        // Process-owned: a second description in the same process gets it too.
        fcntl_lock(&a).unwrap();
        assert!(fcntl_try_lock(&b).unwrap());
        fcntl_unlock(&a).unwrap();
        // Description-owned: each thread's own description excludes the other's.
        lf.with_own(ofd_lock).unwrap();
        std::thread::scope(|s| {
            let other = s.spawn(|| lf.with_own(ofd_try_lock).unwrap());
            assert!(
                !other.join().unwrap(),
                "another thread took a held OFD lock"
            );
        });
        lf.with_own(ofd_unlock).unwrap();
        std::thread::scope(|s| {
            let other = s
                .spawn(|| lf.with_own(|f| ofd_try_lock(f).and_then(|t| ofd_unlock(f).map(|()| t))));
            assert!(
                other.join().unwrap().unwrap(),
                "a free OFD lock was refused"
            );
        });
    }
}
