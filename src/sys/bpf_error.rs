//! The error a refused bpf(2) call becomes: which operation, the errno by name, and for a
//! program load the verifier's log. It travels inside an `io::Error` (kind from the errno), so
//! callers keep `io::Result`; [`BpfError::of`] gets it back out.
use std::fmt;
use std::io;

/// A bpf(2) (or related) call the kernel refused.
#[derive(Debug, Clone)]
pub struct BpfError {
    /// What was asked, e.g. `BPF_MAP_CREATE REUSEPORT_SOCKARRAY (Linux 4.19)`.
    pub op: String,
    /// The errno the kernel returned.
    pub errno: i32,
    /// The verifier log of a failed BPF_PROG_LOAD (empty if the kernel wrote none).
    pub log: Option<String>,
}

impl BpfError {
    pub(crate) fn new(op: impl Into<String>, err: &io::Error) -> Self {
        BpfError {
            op: op.into(),
            errno: err.raw_os_error().unwrap_or(0),
            log: None,
        }
    }

    /// The `BpfError` inside an `io::Error` made by [`super::bpf`], if it is one.
    pub fn of(err: &io::Error) -> Option<&BpfError> {
        err.get_ref().and_then(|e| e.downcast_ref::<BpfError>())
    }
}

impl From<BpfError> for io::Error {
    fn from(e: BpfError) -> io::Error {
        io::Error::new(io::Error::from_raw_os_error(e.errno).kind(), e)
    }
}

impl fmt::Display for BpfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.op, errno_name(self.errno))?;
        match &self.log {
            Some(log) if !log.trim().is_empty() => write!(f, "\nverifier log:\n{}", log.trim_end()),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for BpfError {}

/// `EPERM (Operation not permitted)`. 524 is the kernel-internal ENOTSUPP, which bpf(2) leaks
/// for some unsupported map and program combinations; libc has no name for it.
pub fn errno_name(errno: i32) -> String {
    if errno == 524 {
        return "ENOTSUPP (524: operation not supported by this kernel)".to_string();
    }
    let e = nix::errno::Errno::from_raw(errno);
    format!("{e:?} ({})", e.desc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_errno_and_keeps_the_log() {
        let e = BpfError {
            op: "BPF_PROG_LOAD".into(),
            errno: libc::EACCES,
            log: Some("0: (b7) r0 = 1\nR0 !read_ok\n".into()),
        };
        let io: io::Error = e.into();
        assert_eq!(io.kind(), io::ErrorKind::PermissionDenied);
        let s = io.to_string();
        assert!(
            s.starts_with("BPF_PROG_LOAD: EACCES (Permission denied)\nverifier log:\n0:"),
            "{s}"
        );
        assert_eq!(BpfError::of(&io).map(|b| b.errno), Some(libc::EACCES));
        assert!(errno_name(524).starts_with("ENOTSUPP"));
    }
}
