//! The worker processes: forked by the single-threaded master, one pipe each for results and
//! (in a pool) one for task indices. [`Workers`] owns them: its `Drop` kills and reaps every
//! worker not yet reaped, so no error path leaves a zombie, and every pipe end is an
//! `OwnedFd`, so none leaks.
use super::frame::FrameBuf;
use super::worker::{self, Job};
use crate::sys::{fds, process};
use crate::Error;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{pipe2, Pid};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// One worker as the master sees it.
pub struct Slot {
    pub pid: Pid,
    /// The master's read end of the result pipe; None once closed.
    pub result: Option<OwnedFd>,
    /// The master's write end of the task pipe (pool mode); None once closed.
    pub task: Option<OwnedFd>,
    pub buf: FrameBuf,
    /// The term this worker is computing.
    pub due: Option<u32>,
    /// Terms this worker has answered.
    pub done: Vec<u32>,
    /// The exit status, once reaped.
    pub status: Option<WaitStatus>,
}

impl Slot {
    /// The terms to name when this worker fails.
    pub fn terms(&self) -> String {
        let list: Vec<String> = self
            .due
            .iter()
            .chain(&self.done)
            .map(u32::to_string)
            .collect();
        match list.len() {
            0 => "no term".to_string(),
            1 => format!("term {}", list[0]),
            _ => format!("terms {}", list.join(", ")),
        }
    }
}

pub struct Workers {
    pub slots: Vec<Slot>,
    /// waitpid(2) calls made.
    pub waitpids: u64,
}

/// `exit N` or `killed by signal N (NAME)`.
pub fn describe(status: &WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exit status {code}"),
        WaitStatus::Signaled(_, sig, _) => format!("killed by signal {} ({sig})", *sig as i32),
        other => format!("{other:?}"),
    }
}

fn ok(status: &WaitStatus) -> bool {
    matches!(status, WaitStatus::Exited(_, 0))
}

impl Workers {
    /// Fork `count` workers. In per-term mode (`pool == false`) worker i computes term i; in a
    /// pool each waits for indices on its task pipe. `nonblocking`: the master's read ends are
    /// set O_NONBLOCK (for readiness-based collection).
    pub fn spawn(count: u32, pool: bool, job: Job, nonblocking: bool) -> Result<Workers, Error> {
        let master = nix::unistd::getpid();
        let mut w = Workers {
            slots: Vec::with_capacity(count as usize),
            waitpids: 0,
        };
        for i in 0..count {
            let pipe = || pipe2(OFlag::O_CLOEXEC).map_err(|e| Error::io("pipe2", e.into()));
            let (res_rd, res_wr) = pipe()?;
            let task = if pool { Some(pipe()?) } else { None };
            let forked =
                process::fork().map_err(|e| Error::io(format!("fork for worker {i}"), e))?;
            match forked {
                process::Forked::Child => {
                    let mut keep = vec![res_wr.as_raw_fd()];
                    if let Some((rd, _)) = &task {
                        keep.push(rd.as_raw_fd());
                    }
                    fds::isolate(&keep, |fds| {
                        if process::die_with_parent(libc::SIGKILL, master.as_raw()).is_err() {
                            return 1;
                        }
                        if pool {
                            worker::pool(fds, job)
                        } else {
                            worker::per_term(fds, job, i)
                        }
                    })
                }
                process::Forked::Parent(pid) => {
                    drop(res_wr);
                    if nonblocking {
                        fcntl(&res_rd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))
                            .map_err(|e| Error::io("fcntl O_NONBLOCK", e.into()))?;
                    }
                    w.slots.push(Slot {
                        pid: Pid::from_raw(pid),
                        result: Some(res_rd),
                        task: task.map(|(_, wr)| wr),
                        buf: FrameBuf::default(),
                        due: (!pool).then_some(i),
                        done: Vec::new(),
                        status: None,
                    });
                }
            }
        }
        Ok(w)
    }

    /// Reap worker `s` if it has exited (no blocking).
    pub fn try_reap(&mut self, s: usize) -> Option<WaitStatus> {
        let slot = &mut self.slots[s];
        if slot.status.is_none() {
            self.waitpids += 1;
            match waitpid(slot.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => {}
                Ok(st) => slot.status = Some(st),
            }
        }
        slot.status
    }

    /// Wait up to `limit` for worker `s` to exit; its status if it did.
    pub fn reap_within(&mut self, s: usize, limit: Duration) -> Option<WaitStatus> {
        let end = Instant::now() + limit;
        let mut nap = Duration::from_micros(100);
        loop {
            if let Some(st) = self.try_reap(s) {
                return Some(st);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(5));
        }
    }

    /// Reap every worker by `deadline`; fails, naming the terms, if one exited with a status
    /// other than 0 or has not exited by then (it is then killed by `Drop`).
    pub fn reap_all(&mut self, deadline: Instant) -> Result<(), Error> {
        let mut nap = Duration::from_micros(50);
        loop {
            let mut pending = 0;
            for s in 0..self.slots.len() {
                match self.try_reap(s) {
                    Some(st) if !ok(&st) => {
                        let slot = &self.slots[s];
                        return Err(Error::Series(format!(
                            "{}: worker {s} (pid {}) failed after answering: {}",
                            slot.terms(),
                            slot.pid,
                            describe(&st)
                        )));
                    }
                    Some(_) => {}
                    None => pending += 1,
                }
            }
            if pending == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Error::Series(format!(
                    "{pending} worker(s) still running after the timeout although every term arrived"
                )));
            }
            std::thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(5));
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for s in self.slots.iter().filter(|s| s.status.is_none()) {
            let _ = kill(s.pid, Signal::SIGKILL);
        }
        for s in self.slots.iter_mut().filter(|s| s.status.is_none()) {
            // A SIGKILLed process exits without running any more user code, so this wait ends.
            if let Ok(st) = waitpid(s.pid, None) {
                s.status = Some(st);
            }
        }
    }
}
