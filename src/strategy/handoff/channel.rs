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

/// What a receive got.
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

    /// The worker's receive. `wait`: block until a connection comes (a signal ends the wait
    /// with `Interrupted`); else take one if one is there.
    pub fn recv(&self, wait: bool) -> io::Result<Received> {
        match self {
            Channel::Unix(_, w) => Ok(Received {
                conn: recv_fd(w.as_fd(), wait)?.map(TcpStream::from),
                woke: wait,
            }),
            Channel::Queue { queue, wake } => {
                if let Some(c) = lock(queue).pop_front() {
                    return Ok(Received {
                        conn: Some(c),
                        woke: false,
                    });
                }
                if !wait {
                    return Ok(Received {
                        conn: None,
                        woke: false,
                    });
                }
                wake.take()?;
                Ok(Received {
                    conn: lock(queue).pop_front(),
                    woke: true,
                })
            }
        }
    }

    /// The event loop found the queue empty after it was told the eventfd is readable: reset
    /// the eventfd (it does not block then: the count is above 0 and the loop is its only
    /// reader).
    pub fn reset_wake(&self) -> io::Result<()> {
        if let Channel::Queue { wake, .. } = self {
            wake.take()?;
        }
        Ok(())
    }

    /// What the worker's event loop watches for readability.
    pub fn wait_fd(&self) -> RawFd {
        match self {
            Channel::Unix(_, w) => w.as_raw_fd(),
            Channel::Queue { wake, .. } => wake.fd().as_raw_fd(),
        }
    }
}

fn lock(q: &Mutex<VecDeque<TcpStream>>) -> std::sync::MutexGuard<'_, VecDeque<TcpStream>> {
    // A worker that panicked holding the lock left the queue itself intact.
    q.lock().unwrap_or_else(|p| p.into_inner())
}
