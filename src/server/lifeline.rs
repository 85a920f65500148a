//! `herd serve --stop-on-stdin-eof`: the server's standard input is a pipe whose other end its
//! driver (`herd run`, `sweep`, `chaos`, `order`) holds. However the driver ends (an error, a
//! signal, SIGKILL), the kernel closes that end, the master reads end of file, and the server
//! stops gracefully, as on SIGTERM: no `herd serve` outlives the command that started it.
//!
//! Why not PR_SET_PDEATHSIG alone: it fires when the *thread* that forked the child exits, not
//! the process, and the drivers are multi-threaded (a sweep's server may be spawned from a
//! thread that ends before the process does), so it would stop servers too early or, set on
//! the wrong thread, never. A pipe belongs to the process: it closes only when every holder
//! of its write end is gone (the driver's end is close-on-exec, so no other child keeps it).
use nix::poll::{PollFd, PollFlags};
use std::io::Read;
use std::os::fd::AsFd;

/// The master's watch on its standard input, when asked for.
pub(crate) struct Lifeline {
    on: bool,
    stdin: std::io::Stdin,
}

impl Lifeline {
    pub fn new(on: bool) -> Self {
        Lifeline {
            on,
            stdin: std::io::stdin(),
        }
    }

    /// The descriptor to add to the master's poll, while watched.
    pub fn poll_fd(&self) -> Option<PollFd<'_>> {
        self.on
            .then(|| PollFd::new(self.stdin.as_fd(), PollFlags::POLLIN))
    }

    /// After a poll that reported `revents` on the descriptor: whether the driver is gone
    /// (end of file or an error). Bytes the driver sent are read and ignored.
    pub fn driver_gone(&mut self, revents: Option<PollFlags>) -> bool {
        let Some(ev) = revents.filter(|_| self.on) else {
            return false;
        };
        if ev.is_empty() {
            return false;
        }
        let mut buf = [0u8; 64];
        let gone = match self.stdin.lock().read(&mut buf) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() != std::io::ErrorKind::Interrupted,
        };
        if gone {
            self.on = false;
            eprintln!("herd serve: standard input closed (the driver is gone): stopping");
        }
        gone
    }
}
