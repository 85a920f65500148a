//! What `herd serve` says on stdout, and the HTTP headers herd's server and client share: the
//! one definition of both. The server writes each stdout line with [`say`]; the driver of a
//! `herd serve` child ([`crate::harness::ServerChild`]) and the tests read them with
//! [`Line::parse`].
//!
//! | line | when |
//! |---|---|
//! | `listening ADDR` | once, when every worker is ready |
//! | `scoreboard {json}` | on SIGUSR1: a [`Snapshot`] of every serving worker |
//! | `worker-exit {json}` | a worker (or a hand-off acceptor, `"role":"acceptor"`) died while the server was not stopping: a [`WorkerExit`] |
//!
//! Anything else on stdout is not part of the protocol, and [`Line::parse`] ignores it.
use crate::metrics::Snapshot;
use serde::{Deserialize, Serialize};
use std::io::{self, Write};
use std::net::SocketAddr;

/// Response header naming the worker (its index) that served the connection.
pub const WORKER_HEADER: &str = "X-Herd-Worker";
/// Response header: CLOCK_MONOTONIC ns when the worker's accept() returned.
pub const ACCEPT_NS_HEADER: &str = "X-Herd-Accept-Ns";
/// Optional request header: CLOCK_MONOTONIC ns when the client called connect().
pub const CONNECT_NS_HEADER: &str = "X-Herd-Connect-Ns";

/// The name (/proc/PID/comm) of a hand-off strategy's acceptor process or thread: `herd chaos`
/// finds it by this name.
pub const ACCEPTOR_NAME: &str = "herd-acceptor";

/// Why a worker's process (or thread) ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerExit {
    pub worker: usize,
    /// The process id; in thread mode, the thread's tid.
    pub pid: i32,
    /// `exit N` or `signal N (NAME)`; in thread mode `exit 0`, `error: ...` or `panic: ...`.
    pub status: String,
    /// `acceptor` for a hand-off strategy's acceptor (then `worker` means nothing); absent for
    /// a worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// One line of `herd serve`'s stdout.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Listening(SocketAddr),
    Scoreboard(Box<Snapshot>),
    WorkerExit(WorkerExit),
}

const LISTENING: &str = "listening ";
const SCOREBOARD: &str = "scoreboard ";
const WORKER_EXIT: &str = "worker-exit ";

impl Line {
    /// The line as the server prints it (without the newline).
    pub fn render(&self) -> io::Result<String> {
        Ok(match self {
            Line::Listening(addr) => format!("{LISTENING}{addr}"),
            Line::Scoreboard(s) => format!("{SCOREBOARD}{}", json(s.as_ref())?),
            Line::WorkerExit(x) => format!("{WORKER_EXIT}{}", json(x)?),
        })
    }

    /// A line of the protocol, or `None` for anything else (including a malformed line).
    pub fn parse(line: &str) -> Option<Line> {
        let line = line.trim_end();
        if let Some(a) = line.strip_prefix(LISTENING) {
            a.trim().parse().ok().map(Line::Listening)
        } else if let Some(j) = line.strip_prefix(SCOREBOARD) {
            serde_json::from_str(j)
                .ok()
                .map(|s| Line::Scoreboard(Box::new(s)))
        } else if let Some(j) = line.strip_prefix(WORKER_EXIT) {
            serde_json::from_str(j).ok().map(Line::WorkerExit)
        } else {
            None
        }
    }
}

/// Print `line` on stdout and flush at once (the driver reads it through a pipe).
pub fn say(line: &Line) -> io::Result<()> {
    let text = line.render()?;
    let mut out = io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()
}

/// One line of JSON.
fn json<T: Serialize>(v: &T) -> io::Result<String> {
    serde_json::to_string(v).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::WorkerSample;

    #[test]
    fn every_line_parses_back_to_itself() {
        let lines = [
            Line::Listening("127.0.0.1:8080".parse().unwrap()),
            Line::Scoreboard(Box::new(Snapshot {
                t_ns: 5,
                workers: vec![WorkerSample {
                    worker: 1,
                    accepted: 9,
                    ..Default::default()
                }],
                lock_holder: Some(0),
                ..Default::default()
            })),
            Line::WorkerExit(WorkerExit {
                worker: 2,
                pid: 77,
                status: "signal 9 (SIGKILL)".into(),
                role: None,
            }),
            Line::WorkerExit(WorkerExit {
                worker: 0,
                pid: 78,
                status: "signal 9 (SIGKILL)".into(),
                role: Some("acceptor".into()),
            }),
        ];
        for l in lines {
            let text = l.render().unwrap();
            assert!(!text.contains('\n'), "{text}");
            assert_eq!(Line::parse(&text), Some(l));
        }
    }

    #[test]
    fn anything_else_is_not_a_line() {
        for other in [
            "",
            "listening",
            "listening nowhere",
            "scoreboard {",
            "worker-exit {}",
            "herd serve: reload 1",
        ] {
            assert_eq!(Line::parse(other), None, "{other}");
        }
    }
}
