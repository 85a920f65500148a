//! The worker side: compute a term, send it as a frame, and (in a pool) wait for the next
//! index. Runs in a forked child holding only its own pipe ends (see `sys::fds::isolate`);
//! returns the process exit status. Fault injection (`--fault KIND:TERM`, hidden) lets the
//! tests make the worker for one term misbehave in each way the master must catch.
use super::frame::{decode_task, encode_result, RESULT_LEN, TASK_LEN};
use super::term::term;
use nix::errno::Errno;
use nix::sys::signal::{raise, Signal};
use std::os::fd::OwnedFd;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// SIGKILL itself before answering.
    Kill,
    /// Write 24 bytes that are not a frame, then exit 0.
    Garbage,
    /// Write the first 10 bytes of the frame, then exit 0.
    Short,
    /// Answer with the frame of the next term.
    WrongIndex,
    /// Answer correctly, then exit with status 3.
    Exit,
    /// Never answer (sleep until killed).
    Hang,
}

/// Make the worker that computes `term` misbehave as `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub term: u32,
}

impl FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, t) = s.split_once(':').ok_or("expected KIND:TERM, e.g. kill:3")?;
        let kind = match k {
            "kill" => FaultKind::Kill,
            "garbage" => FaultKind::Garbage,
            "short" => FaultKind::Short,
            "wrong-index" => FaultKind::WrongIndex,
            "exit" => FaultKind::Exit,
            "hang" => FaultKind::Hang,
            _ => {
                return Err(format!(
                    "unknown fault {k:?} (kill, garbage, short, wrong-index, exit, hang)"
                ))
            }
        };
        let term = t
            .parse()
            .map_err(|_| format!("term {t:?} is not a number"))?;
        Ok(Fault { kind, term })
    }
}

/// What every worker is told at fork.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    pub abs_x: f64,
    /// CPU time to burn per term (a stand-in for a costlier sub-task).
    pub work: Duration,
    /// Mean time to sleep per term (an I/O-bound sub-task): term i sleeps a fixed
    /// pseudo-random duration in [0, 2 * sleep), so results arrive spread out.
    pub sleep: Duration,
    pub fault: Option<Fault>,
}

/// The sleep of term `i`: `2 * mean * h(i)`, h a hash of i scaled to [0, 1).
pub fn sleep_of(mean: Duration, i: u32) -> Duration {
    let h = u64::from(i)
        .wrapping_add(1)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        >> 11;
    mean.mul_f64(2.0 * (h as f64 / (1u64 << 53) as f64))
}

fn write_all(fd: &OwnedFd, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match nix::unistd::write(fd, buf) {
            Ok(n) => buf = &buf[n..],
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Compute term `i` and send it; `Err(status)` ends the worker with that status.
fn answer(out: &OwnedFd, job: &Job, i: u32) -> Result<(), i32> {
    if !job.work.is_zero() {
        crate::sys::clock::burn_cpu(job.work);
    }
    if !job.sleep.is_zero() {
        std::thread::sleep(sleep_of(job.sleep, i));
    }
    let value = term(job.abs_x, i);
    let fault = job.fault.filter(|f| f.term == i).map(|f| f.kind);
    let frame = match fault {
        Some(FaultKind::Kill) => {
            let _ = raise(Signal::SIGKILL);
            return Err(1);
        }
        Some(FaultKind::Hang) => loop {
            nix::unistd::pause();
        },
        Some(FaultKind::Garbage) => *b"this is not a frame, no!",
        Some(FaultKind::WrongIndex) => encode_result(i + 1, value),
        _ => encode_result(i, value),
    };
    let len = if fault == Some(FaultKind::Short) {
        10
    } else {
        RESULT_LEN
    };
    write_all(out, &frame[..len]).map_err(|_| 1)?;
    match fault {
        Some(FaultKind::Exit) => Err(3),
        Some(FaultKind::Garbage | FaultKind::Short) => Err(0),
        _ => Ok(()),
    }
}

/// One process per term: answer term `i` and exit.
pub fn per_term(fds: Vec<OwnedFd>, job: Job, i: u32) -> i32 {
    match fds.first().map(|out| answer(out, &job, i)) {
        Some(Ok(())) => 0,
        Some(Err(code)) => code,
        None => 1,
    }
}

/// A pool worker: read a task, answer it, repeat until the task pipe reaches EOF.
pub fn pool(fds: Vec<OwnedFd>, job: Job) -> i32 {
    let [out, tasks] = fds.as_slice() else {
        return 1;
    };
    loop {
        let mut buf = [0u8; TASK_LEN];
        let mut have = 0;
        while have < TASK_LEN {
            match nix::unistd::read(tasks, &mut buf[have..]) {
                Ok(0) if have == 0 => return 0, // no more work
                Ok(0) => return 1,              // a torn task frame
                Ok(n) => have += n,
                Err(Errno::EINTR) => continue,
                Err(_) => return 1,
            }
        }
        let Some(i) = decode_task(&buf) else {
            return 1;
        };
        if let Err(code) = answer(out, &job, i) {
            return code;
        }
    }
}
