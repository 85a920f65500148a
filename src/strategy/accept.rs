//! What every acceptor does with one accept() call: count its outcome in the worker's slot the
//! same way for all strategies, and back off when the process is out of descriptors.
use crate::metrics::Slot;
use crate::sys::net::accept;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// Count the outcome of one accept() call in `slot` and return the connection, if any.
/// Shared by every acceptor so that all strategies classify errors the same way.
pub fn record_accept(slot: &Slot, res: io::Result<TcpStream>) -> Option<TcpStream> {
    match res {
        Ok(s) => Some(s),
        Err(e) => {
            if count_accept_error(slot, &e) {
                // Out of descriptors: the connection stays queued and accept() would fail
                // again at once. Back off instead of spinning (nginx waits 500 ms).
                std::thread::sleep(NO_FDS_BACKOFF);
            }
            None
        }
    }
}

/// Count a failed accept() in `slot`; true when it failed for lack of descriptors (the caller
/// must back off: the connection stays queued). An event loop backs off without sleeping.
pub(crate) fn count_accept_error(slot: &Slot, e: &io::Error) -> bool {
    match e.raw_os_error() {
        Some(libc::EAGAIN) => Slot::bump(&slot.eagain, 1),
        Some(libc::EINTR) => {}
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
            Slot::bump(&slot.err_no_fds, 1);
            return true;
        }
        Some(libc::ECONNABORTED) => Slot::bump(&slot.err_connaborted, 1),
        _ => Slot::bump(&slot.err_other, 1),
    }
    false
}

/// How long a worker waits after accept() failed for lack of descriptors.
pub const NO_FDS_BACKOFF: Duration = Duration::from_millis(10);

/// One accept() after a wakeup that has already been counted: the connection, or `None` with
/// the wakeup counted as spurious.
pub(crate) fn accept_after_wakeup(listener: &TcpListener, slot: &Slot) -> Option<TcpStream> {
    let got = record_accept(slot, accept(listener));
    if got.is_none() {
        Slot::bump(&slot.spurious, 1);
    }
    got
}

/// A blocking accept() that is itself the wait: counts the return as a wakeup unless a signal
/// caused it.
pub(crate) fn blocking_accept(listener: &TcpListener, slot: &Slot) -> Option<TcpStream> {
    match accept(listener) {
        Err(e) if e.kind() == io::ErrorKind::Interrupted => None,
        res => {
            Slot::bump(&slot.wakeups, 1);
            let got = record_accept(slot, res);
            if got.is_none() {
                Slot::bump(&slot.spurious, 1);
            }
            got
        }
    }
}
