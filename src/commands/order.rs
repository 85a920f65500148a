//! `herd order`: which idle worker takes each connection. For each strategy, start `herd serve`,
//! let every worker settle in its wait, then make K connections one after another, each waiting
//! for its response and then an idle gap so that the worker that served it is back in its wait
//! before the next one. The worker comes from the `X-Herd-Worker` response header.
//!
//! The sequence shows the kernel's (or the lock's) wake order: a FIFO wait queue rotates over
//! the workers; a LIFO queue, or one that always wakes the same waiter first (EPOLLEXCLUSIVE
//! wakes the first-registered idle epoll), hands every connection to one worker; SO_REUSEPORT
//! hashes the 4-tuple; and a herd lets the scheduler pick.
use super::output::Output;
use crate::harness::ServerChild;
use crate::strategy::{Mode, StrategyKind, WorkerModel};
use crate::Error;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

/// A validated `herd order`.
#[derive(Debug, Clone)]
pub struct OrderConfig {
    /// The strategies to run, each supported here.
    pub strategies: Vec<StrategyKind>,
    pub workers: u32,
    /// Connections to make, one after another.
    pub connections: u32,
    pub mode: Mode,
    pub worker_model: WorkerModel,
    /// Idle time after each response.
    pub gap: Duration,
    pub addr: SocketAddr,
    /// `--json`: one object per strategy on stdout, the table on stderr.
    pub json: bool,
}

/// One strategy's accept order (`herd order --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRow {
    pub strategy: String,
    pub workers: u32,
    pub connections: u32,
    pub mode: String,
    pub worker_model: String,
    pub gap_ms: f64,
    pub verdict: String,
    /// The worker that took each connection, in order.
    pub order: Vec<usize>,
}

/// How long the workers get to settle in their wait before the first connection.
const SETTLE: Duration = Duration::from_millis(200);
const IO_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(args: &OrderConfig) -> Result<(), Error> {
    let exe = std::env::current_exe().map_err(|e| Error::io("locating the herd binary", e))?;
    let workers = args.workers as usize;
    let out = Output::new(args.json);
    out.text(&format!(
        "{} connections, {} {} workers ({} model), {:?} idle between connections\n",
        args.connections, workers, args.mode, args.worker_model, args.gap
    ));
    out.text(&format!(
        "{:<24} {:<44} order (worker per connection)\n",
        "strategy", "verdict"
    ));
    for &k in &args.strategies {
        let seq = sequence(&exe, k, args)?;
        let order: Vec<String> = seq.iter().map(|w| w.to_string()).collect();
        let verdict = verdict(&seq, workers);
        out.text(&format!(
            "{:<24} {:<44} {}\n",
            k.name(),
            verdict,
            order.join(" ")
        ));
        out.object(&OrderRow {
            strategy: k.name().to_string(),
            workers: args.workers,
            connections: args.connections,
            mode: args.mode.to_string(),
            worker_model: args.worker_model.to_string(),
            gap_ms: args.gap.as_secs_f64() * 1e3,
            verdict,
            order: seq,
        })?;
    }
    Ok(())
}

/// Start a server with strategy `kind` and return the worker that took each connection (also
/// `herd reproduce`'s wake-order experiments).
pub fn sequence(exe: &Path, kind: StrategyKind, args: &OrderConfig) -> Result<Vec<usize>, Error> {
    let serve_args = vec![
        format!("--strategy={kind}"),
        format!("--workers={}", args.workers),
        format!("--mode={}", args.mode),
        format!("--worker-model={}", args.worker_model),
        format!("--addr={}", args.addr),
    ];
    let mut server = ServerChild::start(exe, &serve_args, false)?;
    std::thread::sleep(SETTLE.max(args.gap));
    let mut seq = Vec::with_capacity(args.connections as usize);
    for i in 0..args.connections {
        let w = one_connection(server.addr)
            .map_err(|e| Error::Server(format!("{kind}: connection {i}: {e}")))?;
        if w >= args.workers as usize {
            return Err(Error::Server(format!(
                "{kind}: connection {i} names worker {w} of {}",
                args.workers
            )));
        }
        seq.push(w);
        std::thread::sleep(args.gap);
    }
    let status = server.stop(Duration::from_secs(10))?;
    if !status.success() {
        return Err(Error::Server(format!(
            "herd serve ({kind}) exited with {status} when stopped"
        )));
    }
    Ok(seq)
}

/// One `Connection: close` request; the worker named in the response.
fn one_connection(addr: SocketAddr) -> Result<usize, String> {
    let mut s = TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    s.write_all(&crate::load::request::request(
        &addr.to_string(),
        "/",
        false,
    ))
    .map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(512);
    s.read_to_end(&mut buf).map_err(|e| e.to_string())?;
    match crate::load::http::parse_closed(&buf) {
        Ok(r) if r.status == 200 => r
            .worker
            .ok_or_else(|| "no X-Herd-Worker header in the response".into()),
        _ => Err(format!(
            "bad response: {:?}",
            String::from_utf8_lossy(&buf[..buf.len().min(80)])
        )),
    }
}

/// A one-line reading of a sequence of worker indices out of `workers`.
pub fn verdict(seq: &[usize], workers: usize) -> String {
    let n = seq.len();
    if n == 0 {
        return "no connections".into();
    }
    let mut counts = vec![0usize; workers.max(seq.iter().max().map_or(0, |m| m + 1))];
    for &w in seq {
        counts[w] += 1;
    }
    let distinct = counts.iter().filter(|&&c| c > 0).count();
    let top = counts.iter().copied().max().unwrap_or(0);
    let top_pct = 100 * top / n;
    if n == 1 || workers == 1 {
        return "too few connections or workers to tell".into();
    }
    if distinct == 1 {
        return "same worker every time (LIFO or fixed priority)".into();
    }
    // A rotation: the first `distinct` entries are all different and the rest repeat them.
    let first_distinct = seq[..distinct]
        .iter()
        .enumerate()
        .all(|(i, w)| !seq[..i].contains(w));
    let periodic = (distinct..n).all(|i| seq[i] == seq[i - distinct]);
    if first_distinct && periodic {
        return if n <= distinct {
            format!("all different ({n} of {workers} workers; FIFO-like)")
        } else if distinct == workers {
            format!("FIFO rotation over all {workers} workers")
        } else {
            format!("rotation over {distinct} of {workers} workers")
        };
    }
    let repeats = seq.windows(2).filter(|w| w[0] == w[1]).count();
    let repeat_pct = 100 * repeats / (n - 1);
    if repeat_pct >= 75 {
        return format!("sticky: same worker as last {repeat_pct}%");
    }
    format!("irregular: {distinct}/{workers} workers, top one {top_pct}%")
}

#[cfg(test)]
mod tests {
    use super::verdict;

    #[test]
    fn verdicts() {
        assert_eq!(
            verdict(&[2, 2, 2, 2], 4),
            "same worker every time (LIFO or fixed priority)"
        );
        assert_eq!(
            verdict(&[0, 1, 2, 3, 0, 1, 2, 3, 0], 4),
            "FIFO rotation over all 4 workers"
        );
        assert_eq!(verdict(&[3, 1, 3, 1, 3], 4), "rotation over 2 of 4 workers");
        assert!(verdict(&[0, 1, 2], 4).starts_with("all different"));
        assert!(verdict(&[0, 1, 1, 1, 1, 1, 1, 1, 1], 4).starts_with("sticky"));
        assert!(verdict(&[0, 2, 1, 3, 3, 0, 2, 1, 0, 0], 4).starts_with("irregular"));
        assert!(verdict(&[1], 4).starts_with("too few"));
    }
}
