//! Passing descriptors between processes (SCM_RIGHTS over a SOCK_SEQPACKET Unix socket pair) and
//! eventfd(2) counters: what the hand-off strategies' acceptor and workers talk through.
//!
//! One message carries one descriptor and a one-byte payload (a Unix stream socket may merge
//! the control messages of two sends; a seqpacket socket keeps every message whole, so each
//! receive gets exactly one descriptor). The descriptor in a message in flight belongs to the
//! socket until it is received: closing the sender's copy after the send is safe, and a
//! message still queued when every holder of the receiving end is gone is closed by the kernel.
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// A connected pair of SOCK_SEQPACKET Unix sockets (close-on-exec): `.0` sends, `.1` receives
/// (either could do both).
pub fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(io::Error::from)
}

/// Send `fd` over `sock` without blocking: `WouldBlock` when the socket's send buffer is full.
pub fn send_fd(sock: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> io::Result<()> {
    let fds = [fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [IoSlice::new(&[1u8])];
    let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
    sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsg, flags, None)
        .map(drop)
        .map_err(io::Error::from)
}

/// Receive one descriptor from `sock`: blocking when `wait` (a signal ends the wait with
/// `Interrupted`), else `Ok(None)` when nothing is queued. The descriptor is close-on-exec.
pub fn recv_fd(sock: BorrowedFd<'_>, wait: bool) -> io::Result<Option<OwnedFd>> {
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let mut flags = MsgFlags::MSG_CMSG_CLOEXEC;
    if !wait {
        flags |= MsgFlags::MSG_DONTWAIT;
    }
    let msg = match recvmsg::<()>(sock.as_raw_fd(), &mut iov, Some(&mut space), flags) {
        Ok(m) => m,
        Err(nix::errno::Errno::EAGAIN) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut got = None;
    for c in msg.cmsgs().map_err(io::Error::from)? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            for fd in fds {
                // SAFETY: the kernel just installed `fd` in this process for this message;
                // nothing else owns it. Any beyond the first (never sent by herd) is closed.
                let owned = unsafe { OwnedFd::from_raw_fd(fd) };
                if got.is_none() {
                    got = Some(owned);
                }
            }
        }
    }
    if msg.flags.contains(MsgFlags::MSG_CTRUNC) {
        return Err(io::Error::other(
            "a hand-off message's descriptors were truncated",
        ));
    }
    match got {
        Some(fd) => Ok(Some(fd)),
        // A zero-length read: the peer closed; herd's master never closes its ends.
        None if msg.bytes == 0 => Err(io::ErrorKind::UnexpectedEof.into()),
        None => Err(io::Error::other("a hand-off message without a descriptor")),
    }
}

/// An eventfd(2) counter (close-on-exec, blocking reads): a wakeup one thread or process
/// gives another, shared across fork.
pub struct Counter(EventFd);

impl Counter {
    pub fn new() -> io::Result<Self> {
        EventFd::from_flags(EfdFlags::EFD_CLOEXEC)
            .map(Counter)
            .map_err(io::Error::from)
    }

    /// Add one: wakes a reader.
    pub fn signal(&self) -> io::Result<()> {
        self.0.write(1).map(drop).map_err(io::Error::from)
    }

    /// Wait until the counter is above 0, then take it back to 0; returns what it was. A
    /// signal ends the wait with `Interrupted`.
    pub fn take(&self) -> io::Result<u64> {
        self.0.read().map_err(io::Error::from)
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn a_descriptor_crosses_the_pair_and_stays_open() {
        let (a, b) = seqpacket_pair().unwrap();
        assert_eq!(recv_fd(b.as_fd(), false).unwrap().map(drop), None);
        let (mut x, y) = std::os::unix::net::UnixStream::pair().unwrap();
        send_fd(a.as_fd(), y.as_fd()).unwrap();
        drop(y);
        let got = recv_fd(b.as_fd(), true).unwrap().expect("a descriptor");
        let mut y = std::os::unix::net::UnixStream::from(got);
        x.write_all(b"hi").unwrap();
        let mut buf = [0u8; 2];
        y.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hi");
    }

    #[test]
    fn a_counter_wakes_and_resets() {
        let c = Counter::new().unwrap();
        c.signal().unwrap();
        c.signal().unwrap();
        assert_eq!(c.take().unwrap(), 2);
    }
}
