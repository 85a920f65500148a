//! The master's collection loop, the same for every method: hand out term indices (pool),
//! wait with the [`Collector`], read whatever is ready into per-worker frame buffers, check
//! each frame, and store its value at its term's index. The sum is taken afterwards, in index
//! order, so arrival order cannot change the result.
use super::collect::{Collector, Counters};
use super::frame::{decode_result, encode_task};
use super::pool::{describe, Workers};
use crate::sys::alarm::Deadline;
use crate::Error;
use nix::errno::Errno;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// How long the master waits for a dead worker's status when reporting its failure.
const REAP_FOR_REPORT: Duration = Duration::from_secs(2);

pub struct Master<'a> {
    pub workers: &'a mut Workers,
    pub collector: &'a mut dyn Collector,
    pub counters: Counters,
    pub terms: u32,
    pub pool: bool,
    pub deadline: Instant,
    values: Vec<Option<f64>>,
    next: u32,
    received: u32,
}

fn io_err(what: &str, e: Errno) -> Error {
    Error::io(what, e.into())
}

impl<'a> Master<'a> {
    pub fn new(
        workers: &'a mut Workers,
        collector: &'a mut dyn Collector,
        terms: u32,
        pool: bool,
        deadline: Instant,
    ) -> Self {
        Master {
            workers,
            collector,
            counters: Counters::default(),
            terms,
            pool,
            deadline,
            values: vec![None; terms as usize],
            next: if pool { 0 } else { terms },
            received: 0,
        }
    }

    /// Collect every term; returns them in index order.
    pub fn run(mut self) -> Result<(Vec<f64>, Counters), Error> {
        for s in 0..self.workers.slots.len() {
            if self.pool {
                self.hand_out(s)?;
            }
            if let Some(fd) = &self.workers.slots[s].result {
                let fd = fd.as_raw_fd();
                self.collector
                    .add(s, fd, &mut self.counters)
                    .map_err(|e| Error::io("registering a result pipe", e))?;
            }
        }
        let blocking = self.collector.blocking_reads();
        let alarm = match blocking {
            true => Some(
                Deadline::arm(self.deadline.saturating_duration_since(Instant::now()))
                    .map_err(|e| Error::io("arming the deadline timer", e))?,
            ),
            false => None,
        };
        let mut ready = Vec::new();
        while self.received < self.terms {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || alarm.as_ref().is_some_and(Deadline::expired) {
                return Err(self.timed_out());
            }
            ready.clear();
            match self.collector.wait(&mut ready, left, &mut self.counters) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("waiting for results", e)),
            }
            for &s in &ready {
                self.on_readable(s, alarm.as_ref())?;
            }
        }
        let values = self.values.iter().map(|v| v.unwrap_or(0.0)).collect();
        Ok((values, self.counters))
    }

    /// Send worker `s` the next term index, or close its task pipe if none is left.
    fn hand_out(&mut self, s: usize) -> Result<(), Error> {
        let slot = &mut self.workers.slots[s];
        if self.next >= self.terms {
            if slot.task.take().is_some() {
                self.counters.closes += 1; // EOF: the worker exits
            }
            return Ok(());
        }
        let i = self.next;
        let Some(task) = &slot.task else {
            return Ok(());
        };
        let frame = encode_task(i);
        self.counters.writes += 1;
        // 8 bytes into an empty pipe: complete or failed, never partial or blocking.
        match nix::unistd::write(task, &frame) {
            Ok(n) if n == frame.len() => {}
            Ok(n) => {
                return Err(Error::Series(format!(
                    "term {i}: short task write ({n} bytes)"
                )))
            }
            Err(e) => {
                slot.due = Some(i);
                let why = format!("could not send the task ({e})");
                return Err(self.worker_died(s, &why));
            }
        }
        slot.due = Some(i);
        self.next += 1;
        Ok(())
    }

    fn on_readable(&mut self, s: usize, alarm: Option<&Deadline>) -> Result<(), Error> {
        let blocking = alarm.is_some();
        loop {
            let slot = &mut self.workers.slots[s];
            let Some(fd) = slot.result.as_ref() else {
                return Ok(()); // already finished (a stale readiness report)
            };
            self.counters.reads += 1;
            match nix::unistd::read(fd, slot.buf.space()) {
                Ok(0) => {
                    let why = format!(
                        "pipe closed after {} of 24 bytes of its result",
                        slot.buf.partial()
                    );
                    return Err(self.worker_died(s, &why));
                }
                Ok(n) => {
                    if blocking {
                        self.counters.wakeups += 1;
                    }
                    if let Some(frame) = slot.buf.filled(n) {
                        return self.on_frame(s, &frame);
                    }
                    if !blocking {
                        return Ok(()); // the rest of the frame comes with a later wakeup
                    }
                }
                Err(Errno::EAGAIN) => {
                    self.counters.empty_reads += 1;
                    return Ok(());
                }
                Err(Errno::EINTR) => {
                    if alarm.is_some_and(Deadline::expired) {
                        return Err(self.timed_out());
                    }
                }
                Err(e) => return Err(io_err("reading a result pipe", e)),
            }
        }
    }

    fn on_frame(&mut self, s: usize, frame: &[u8; 24]) -> Result<(), Error> {
        let slot = &mut self.workers.slots[s];
        let Some(due) = slot.due.take() else {
            return Err(Error::Series(format!(
                "worker {s} (pid {}) sent a result with no term due (after {})",
                slot.pid,
                slot.terms()
            )));
        };
        let value = decode_result(frame, due).map_err(|e| {
            Error::Series(format!("term {due}: worker {s} (pid {}): {e}", slot.pid))
        })?;
        self.values[due as usize] = Some(value);
        slot.done.push(due);
        self.received += 1;
        if self.pool && self.next < self.terms {
            return self.hand_out(s);
        }
        // This worker is done: stop watching and close its pipes.
        self.hand_out(s)?;
        if let Some(fd) = self.workers.slots[s].result.take() {
            self.collector
                .remove(s, fd.as_raw_fd(), &mut self.counters)
                .map_err(|e| Error::io("unregistering a result pipe", e))?;
            self.counters.closes += 1;
        }
        Ok(())
    }

    /// The error for a worker that stopped answering: names its term and, if it has exited,
    /// how.
    fn worker_died(&mut self, s: usize, why: &str) -> Error {
        let status = self.workers.reap_within(s, REAP_FOR_REPORT);
        let slot = &self.workers.slots[s];
        let term = slot
            .due
            .map_or_else(|| slot.terms(), |t| format!("term {t}"));
        let how = status.map_or_else(|| "still running".to_string(), |st| describe(&st));
        let earlier = match slot.done.as_slice() {
            [] => String::new(),
            done => format!(" (it had answered term(s) {done:?})"),
        };
        Error::Series(format!(
            "{term}: worker {s} (pid {}) died without answering: {why}; {how}{earlier}",
            slot.pid
        ))
    }

    fn timed_out(&self) -> Error {
        let missing: Vec<String> = self
            .values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_none())
            .map(|(i, _)| i.to_string())
            .take(10)
            .collect();
        let more = self.values.iter().filter(|v| v.is_none()).count();
        let waiting: Vec<String> = self
            .workers
            .slots
            .iter()
            .filter_map(|s| s.due.map(|t| format!("{t} (pid {})", s.pid)))
            .take(10)
            .collect();
        Error::Series(format!(
            "timed out (--timeout): no result for {} term(s): {}{}; waiting on: {}",
            more,
            missing.join(", "),
            if more > missing.len() { ", ..." } else { "" },
            waiting.join(", ")
        ))
    }
}
