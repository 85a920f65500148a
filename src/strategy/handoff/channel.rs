//! The way from the acceptor to one seat's worker. Between processes: a SOCK_SEQPACKET Unix
//! socket pair per seat, one connection per message (SCM_RIGHTS); the master keeps both ends
//! for the server's life, so a message in flight survives the death of the acceptor or of the
//! worker, and a restarted one finds it. Between threads: a queue per seat and an eventfd the
//! worker waits on.
use crate::sys::fdpass::{recv_fd, send_fd, seqpacket_pair, Counter};
use std::collections::VecDeque;
use std::io;
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::Mutex;

/// One seat's way in.
pub enum Channel {
    /// `.0` the acceptor's end (sends), `.1` the worker's (receives).
    Unix(OwnedFd, OwnedFd),
    Queue {
        queue: Mutex<VecDeque<TcpStream>>,
        wake: Counter,
    },
}

/// What a sync worker's wait got.
pub struct Received {
    pub conn: Option<TcpStream>,
    /// The call waited (a blocking receive returned): a wakeup.
    pub woke: bool,
}

impl Channel {
    pub fn unix() -> io::Result<Self> {
        let (a, w) = seqpacket_pair()?;
        Ok(Channel::Unix(a, w))
    }

    pub fn queue() -> io::Result<Self> {
        Ok(Channel::Queue {
            queue: Mutex::new(VecDeque::new()),
            wake: Counter::new()?,
        })
    }

    /// Pass `conn` to the seat without blocking; on failure (the socket's buffer is full) the
    /// connection comes back with the error, unless a worker has taken it meanwhile.
    pub fn send(&self, conn: TcpStream) -> Result<(), (io::Error, Option<TcpStream>)> {
        match self {
            Channel::Unix(a, _) => match send_fd(a.as_fd(), conn.as_fd()) {
                // The message holds its own reference: our descriptor closes here.
                Ok(()) => Ok(()),
                Err(e) => Err((e, Some(conn))),
            },
            Channel::Queue { queue, wake } => {
                lock(queue).push_back(conn);
                wake.signal().map_err(|e| (e, lock(queue).pop_back()))
            }
        }
    }

    /// What the worker's event loop watches for readability.
    pub fn wait_fd(&self) -> RawFd {
        match self {
            Channel::Unix(_, w) => w.as_raw_fd(),
            Channel::Queue { wake, .. } => wake.fd().as_raw_fd(),
        }
    }

    /// Take a connection already there, not waiting and not counting a wakeup (a worker
    /// that stops serves what was sent to it; the master moves a removed seat's).
    pub fn take_now(&self) -> io::Result<Option<TcpStream>> {
        match self {
            Channel::Unix(_, w) => Ok(recv_fd(w.as_fd(), false)?.map(TcpStream::from)),
            Channel::Queue { queue, .. } => Ok(lock(queue).pop_front()),
        }
    }
}

/// One worker's receiving side of its seat's channel. In thread mode the queue's eventfd
/// counts the connections pushed; a read takes the whole count, which the receiver keeps as
/// credits and spends one per connection it pops, so that every connection costs exactly one
/// eventfd read among the worker's, as every connection costs one recvmsg(2) between
/// processes.
pub struct Receiver<'a> {
    ch: &'a Channel,
    credits: u64,
    /// The event loop was told the eventfd is readable (a read does not block).
    armed: bool,
}

impl<'a> Receiver<'a> {
    pub fn new(ch: &'a Channel) -> Self {
        Receiver {
            ch,
            credits: 0,
            armed: false,
        }
    }

    /// A sync worker's wait: block until a connection comes (a signal ends the wait with
    /// `Interrupted`). `woke`: the call waited in the kernel (recvmsg, or an eventfd read).
    pub fn wait(&mut self) -> io::Result<Received> {
        match self.ch {
            Channel::Unix(_, w) => Ok(Received {
                conn: recv_fd(w.as_fd(), true)?.map(TcpStream::from),
                woke: true,
            }),
            Channel::Queue { queue, wake } => {
                let woke = self.credits == 0;
                if woke {
                    self.credits = wake.take()?;
                }
                self.credits = self.credits.saturating_sub(1);
                Ok(Received {
                    conn: lock(queue).pop_front(),
                    woke,
                })
            }
        }
    }

    /// The event loop was told the channel is readable.
    pub fn arm(&mut self) {
        self.armed = true;
    }

    /// Thread mode: connections counted and not taken yet (the loop stopped at its limit):
    /// the loop takes them without waiting for the eventfd, which has been read.
    pub fn has_credits(&self) -> bool {
        self.credits > 0
    }

    /// An event loop's take, after the channel was reported readable: `None` when nothing
    /// is left.
    pub fn ready(&mut self) -> io::Result<Option<TcpStream>> {
        match self.ch {
            Channel::Unix(_, w) => Ok(recv_fd(w.as_fd(), false)?.map(TcpStream::from)),
            Channel::Queue { queue, wake } => {
                if self.credits == 0 {
                    if !std::mem::take(&mut self.armed) {
                        return Ok(None);
                    }
                    self.credits = wake.take()?;
                }
                self.credits -= 1;
                Ok(lock(queue).pop_front())
            }
        }
    }
}

fn lock(q: &Mutex<VecDeque<TcpStream>>) -> std::sync::MutexGuard<'_, VecDeque<TcpStream>> {
    // A worker that panicked holding the lock left the queue itself intact.
    q.lock().unwrap_or_else(|p| p.into_inner())
}
