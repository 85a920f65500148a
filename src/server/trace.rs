//! `--trace FILE`: one CSV row per accepted connection, so that order effects can be seen
//! (FIFO or LIFO wakeups, which worker takes a burst, how long connections queued).
//!
//! Columns:
//!
//! | column | meaning |
//! |---|---|
//! | `seq` | global accept order: a counter in shared memory, taken (fetch_add) right after accept() returns, so it is unique across processes and threads |
//! | `worker` | worker index |
//! | `tid` | kernel thread id of the worker (its pid in process mode) |
//! | `accept_ns` | CLOCK_MONOTONIC when accept() returned |
//! | `connect_ns` | CLOCK_MONOTONIC when the client called connect(), from the optional request header `X-Herd-Connect-Ns` (herd's own client sends it when `herd run --trace` is on); empty when not sent |
//! | `queue_delay_ns` | `accept_ns - connect_ns`: handshake plus time in the accept queue; empty when unknown |
//! | `wakeups` | the worker's wakeups since its previous accept, including the one that brought this connection (1 for a clean wake-one; more when it woke for nothing in between) |
//!
//! The row is made when the worker has finished with the connection (then the connect time is
//! known) and kept in the worker's own buffer; a full buffer ([`FLUSH_AT`] bytes of whole rows)
//! goes out in one write(2) on a descriptor opened with O_APPEND. Every worker (process or
//! thread) shares that open file description, and Linux appends each write whole, under the
//! inode lock, so rows never interleave. The buffer is also written when the worker's loop ends
//! (a stop, an error, a panic: the writer's `Drop`), and a graceful stop lets every worker
//! finish its connection first, so the file has exactly one row per accepted connection once
//! the server has exited. (A worker killed outright loses its buffered rows; while the server
//! runs, the file lags by up to a buffer per worker.) Rows are grouped by worker; sort by `seq`
//! for accept order.
//!
//! Buffering keeps the cost per connection to formatting one row, not a system call that takes
//! the inode lock all workers share (`scripts/trace-overhead.sh` measures what is left). When
//! tracing is off the worker loop pays one `Option` check per connection.
use crate::metrics::Slot;
use crate::sys::atomic_lock::LockWord;
use crate::sys::shm::SharedArray;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::Ordering;

/// The CSV header of a trace file.
pub const HEADER: &str = "seq,worker,tid,accept_ns,connect_ns,queue_delay_ns,wakeups\n";

/// A worker writes its buffered rows once they reach this many bytes (about 500 rows).
pub const FLUSH_AT: usize = 32 * 1024;

/// An open trace: the file and the shared sequence counter. Made before any worker starts.
pub struct Tracer {
    file: File,
    /// One word in shared memory (a `LockWord` used as a plain counter): the next `seq`.
    seq: SharedArray<LockWord>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer").field("file", &self.file).finish()
    }
}

impl Tracer {
    /// Create (truncate) `path`, write the header, and map the sequence counter. Call before
    /// fork, so that every worker shares both. The path is the user's: a symlink there, or a
    /// file of another user, is refused ([`crate::sys::files::open_user_output`]).
    pub fn create(path: &Path) -> io::Result<Self> {
        let mut file = crate::sys::files::open_user_output(path, true)?;
        file.write_all(HEADER.as_bytes())?;
        Ok(Tracer {
            file,
            seq: SharedArray::new(1)?,
        })
    }

    /// Worker `worker`'s side of the trace, for the worker thread that calls it.
    pub fn writer<'a>(&'a self, worker: usize, slot: &Slot) -> TraceWriter<'a> {
        TraceWriter {
            tracer: self,
            worker,
            tid: crate::sys::process::gettid(),
            last_wakeups: Slot::read(&slot.wakeups),
            buf: Vec::with_capacity(FLUSH_AT + 256),
        }
    }
}

/// One worker's writer: its last wakeup count and its buffer of whole rows.
pub struct TraceWriter<'a> {
    tracer: &'a Tracer,
    worker: usize,
    tid: i32,
    last_wakeups: u64,
    buf: Vec<u8>,
}

/// What is known of a connection when it is accepted.
#[derive(Debug, Clone, Copy)]
pub struct Accepted {
    seq: u64,
    wakeups: u64,
}

impl TraceWriter<'_> {
    /// Call right after accept() returned a connection: takes its sequence number and the
    /// wakeups since the previous accept.
    #[inline]
    pub fn on_accept(&mut self, slot: &Slot) -> Accepted {
        let seq = self.tracer.seq[0].0.fetch_add(1, Ordering::Relaxed);
        let now = Slot::read(&slot.wakeups);
        let wakeups = now.wrapping_sub(self.last_wakeups);
        self.last_wakeups = now;
        Accepted { seq, wakeups }
    }

    /// Add the connection's row, once the worker is done with it; write the buffer out when
    /// it is full.
    pub fn row(&mut self, a: Accepted, accept_ns: u64, connect_ns: Option<u64>) -> io::Result<()> {
        let (seq, w, tid, wk) = (a.seq, self.worker, self.tid, a.wakeups);
        match connect_ns {
            Some(c) => {
                let delay = accept_ns.saturating_sub(c);
                writeln!(self.buf, "{seq},{w},{tid},{accept_ns},{c},{delay},{wk}")?
            }
            None => writeln!(self.buf, "{seq},{w},{tid},{accept_ns},,,{wk}")?,
        }
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    /// Write every buffered row, in one write(2) on the O_APPEND file: they land whole at the
    /// end.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let res = (&self.tracer.file).write_all(&self.buf);
        self.buf.clear();
        res
    }
}

impl Drop for TraceWriter<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            eprintln!("herd serve: worker {}: writing the trace: {e}", self.worker);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Scoreboard;

    #[test]
    fn rows_have_sequence_wakeups_and_delay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let t = Tracer::create(&path).unwrap();
        let board = Scoreboard::new(2).unwrap();
        let (s0, s1) = (board.slot(0), board.slot(1));
        let mut w0 = t.writer(0, s0);
        let mut w1 = t.writer(1, s1);
        Slot::bump(&s0.wakeups, 3);
        let a = w0.on_accept(s0);
        Slot::bump(&s1.wakeups, 1);
        let b = w1.on_accept(s1);
        w1.row(b, 500, None).unwrap();
        w0.row(a, 1000, Some(400)).unwrap();
        let before = std::fs::read_to_string(&path).unwrap();
        assert_eq!(before, HEADER, "rows are buffered until a flush");
        drop(w1);
        w0.flush().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER.trim_end());
        let tid = crate::sys::process::gettid();
        assert_eq!(lines[1], format!("1,1,{tid},500,,,1"));
        assert_eq!(lines[2], format!("0,0,{tid},1000,400,600,3"));
        assert_eq!(lines.len(), 3);
    }
}
