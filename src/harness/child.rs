//! A `herd serve` child process, as `herd run` drives it: spawned from the herd binary itself
//! (the multi-threaded `herd run` never forks), read through its stdout protocol
//! ([`crate::protocol`]), stopped and reaped on drop whatever happened.
use crate::metrics::Snapshot;
use crate::protocol::{Line, WorkerExit};
use crate::Error;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct ServerChild {
    child: Child,
    lines: Receiver<Line>,
    /// Raised when the server's stdout closes: it has exited or is about to.
    gone: Arc<AtomicBool>,
    /// Workers that died while the server was running.
    exits: Arc<Mutex<Vec<WorkerExit>>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    pub addr: SocketAddr,
}

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(10);

impl ServerChild {
    /// Start `exe serve ARGS` and wait until it is listening. A server that exits first is an
    /// error carrying its stderr; exit status 2 (bad input) stays a usage error.
    /// Once it is listening, what it says on stderr is passed on to ours when `forward_stderr`.
    ///
    /// The server's standard input is a pipe this process holds (`--stop-on-stdin-eof`):
    /// however this process ends, even by SIGKILL, the pipe closes and the server stops.
    pub fn start(exe: &Path, args: &[String], forward_stderr: bool) -> Result<Self, Error> {
        let mut child = Command::new(exe)
            .arg("serve")
            .args(args)
            .arg("--stop-on-stdin-eof")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::file(exe, e))?;
        let (tx, lines) = mpsc::channel();
        let gone = Arc::new(AtomicBool::new(false));
        let exits = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let forward = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            let (gone, exits) = (gone.clone(), exits.clone());
            readers.push(std::thread::spawn(move || {
                read_stdout(out, tx, gone, exits)
            }));
        }
        if let Some(err) = child.stderr.take() {
            let (buf, forward) = (stderr.clone(), forward.clone());
            readers.push(std::thread::spawn(move || read_stderr(err, buf, forward)));
        }
        let mut server = ServerChild {
            child,
            lines,
            gone,
            exits,
            stderr,
            readers,
            addr: "0.0.0.0:0".parse().expect("literal"),
        };
        match server.lines.recv_timeout(STARTUP_TIMEOUT) {
            Ok(Line::Listening(addr)) => {
                server.addr = addr;
                forward.store(forward_stderr, Ordering::SeqCst);
                Ok(server)
            }
            Ok(other) => Err(Error::Server(format!(
                "{} before listening",
                other.render().unwrap_or_default()
            ))),
            Err(RecvTimeoutError::Timeout) => {
                Err(Error::Server("no `listening` line within 60 s".into()))
            }
            Err(RecvTimeoutError::Disconnected) => Err(server.exit_error("before listening")),
        }
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Whether the server's stdout has closed (it exited or is exiting).
    pub fn gone(&self) -> &Arc<AtomicBool> {
        &self.gone
    }

    /// Workers that died unexpectedly so far.
    pub fn worker_exits(&self) -> Vec<WorkerExit> {
        self.exits.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Ask for the scoreboard (SIGUSR1) and wait for it.
    pub fn snapshot(&mut self) -> Result<Snapshot, Error> {
        // Drop any stale line first.
        while self.lines.try_recv().is_ok() {}
        kill(self.pid(), Signal::SIGUSR1).map_err(|e| Error::Server(format!("SIGUSR1: {e}")))?;
        let deadline = Instant::now() + SNAPSHOT_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(Line::Scoreboard(s)) => return Ok(*s),
                Ok(_) => continue,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(Error::Server("no scoreboard within 10 s of SIGUSR1".into()))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(self.exit_error("while asked for its scoreboard"))
                }
            }
        }
    }

    /// Graceful stop: SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status.
    pub fn stop(&mut self, grace: Duration) -> Result<ExitStatus, Error> {
        let _ = kill(self.pid(), Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.join_readers();
                    return Ok(status);
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    let status = self
                        .child
                        .wait()
                        .map_err(|e| Error::io("waiting for herd serve", e))?;
                    self.join_readers();
                    return Err(Error::Server(format!(
                        "did not stop within {grace:?} of SIGTERM ({status})"
                    )));
                }
                Err(e) => return Err(Error::io("waiting for herd serve", e)),
            }
        }
    }

    fn join_readers(&mut self) {
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }

    /// The error for a server that exited on its own: its status and what it said on stderr.
    pub fn exit_error(&mut self, when: &str) -> Error {
        let status = self.wait_briefly();
        self.join_readers();
        let said = self
            .stderr
            .lock()
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let said = said
            .lines()
            .rev()
            .find(|l| l.starts_with("Error:"))
            .map(str::to_string)
            .unwrap_or(said);
        let said = said.strip_prefix("Error: ").unwrap_or(&said).to_string();
        match status {
            Some(s) if s.code() == Some(2) => Error::Usage(said),
            Some(s) => Error::Server(format!(
                "herd serve exited {when} ({s}){}{said}",
                if said.is_empty() { "" } else { ": " }
            )),
            None => Error::Server(format!("herd serve stopped talking {when}")),
        }
    }

    fn wait_briefly(&mut self) -> Option<ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = kill(self.pid(), Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        self.join_readers();
    }
}

fn read_stdout(
    out: impl Read,
    tx: mpsc::Sender<Line>,
    gone: Arc<AtomicBool>,
    exits: Arc<Mutex<Vec<WorkerExit>>>,
) {
    for line in BufReader::new(out).lines() {
        let Ok(line) = line else { break };
        let sent = match Line::parse(&line) {
            Some(Line::WorkerExit(x)) => {
                if let Ok(mut v) = exits.lock() {
                    v.push(x);
                }
                Ok(())
            }
            Some(l) => tx.send(l),
            None => Ok(()),
        };
        if sent.is_err() {
            break;
        }
    }
    gone.store(true, Ordering::SeqCst);
}

fn read_stderr(err: impl Read, buf: Arc<Mutex<String>>, forward: Arc<AtomicBool>) {
    for line in BufReader::new(err).lines() {
        let Ok(line) = line else { break };
        if forward.load(Ordering::SeqCst) {
            eprintln!("[serve] {line}");
        }
        if let Ok(mut b) = buf.lock() {
            if b.len() < 64 * 1024 {
                b.push_str(&line);
                b.push('\n');
            }
        }
    }
}
