//! `reuseport-cbpf`: `reuseport` (one SO_REUSEPORT socket per worker) with a classic BPF program
//! attached to the group (SO_ATTACH_REUSEPORT_CBPF) that picks the socket by the CPU the
//! connection arrived on, instead of the kernel's 4-tuple hash.
//!
//! Mechanism: the program loads the ancillary value `SKF_AD_OFF + SKF_AD_CPU` (the CPU running
//! the receive path), takes it modulo the number of sockets and returns it; the kernel queues
//! the connection on the socket at that index of the group, and falls back to the hash if the
//! index is out of range. The index is the socket's position in the group, which is the order in
//! which the sockets were bound and put in listening state (herd does both together, in worker
//! order, and the master keeps every socket open so the order never changes: a closed socket's
//! place would be taken by the last one). SO_ATTACH_REUSEPORT_CBPF needs Linux 4.5.
//!
//! Expected behaviour: no herd (one waiter per queue, about one wakeup per connection) and, on
//! a NIC with one receive queue per CPU and worker i pinned to CPU i, every connection handled
//! on the CPU that received it (the point of the scheme: no cross-CPU traffic). On loopback the
//! receive path runs on the *client's* CPU, so the choice follows wherever the client thread
//! ran. With W workers and C CPUs only min(W, C) sockets are ever chosen: on a 2-core machine,
//! workers 2 and up of a 4-worker run get nothing, and the spread is the client threads'
//! spread over the 2 CPUs. A 2-core machine can show that it works, the absence of a herd and
//! the imbalance when workers outnumber CPUs; it cannot show the locality gain. No common
//! HTTP server ships this program; it is the technique of the kernel's own selftest
//! (tools/testing/selftests/net/reuseport_bpf_cpu.c) and of servers that steer their
//! SO_REUSEPORT groups with BPF for CPU locality.
//!
//! See socket(7) (SO_ATTACH_REUSEPORT_CBPF, SO_INCOMING_CPU), bpf(4)/filter.txt (SKF_AD_CPU).
use super::listen::ListenConfig;
use super::reuseport::Shared;
use super::{Strategy, StrategyOptions};
use crate::sys::net::attach_reuseport_cpu_cbpf;
use std::io;

pub struct ReuseportCbpf;

impl Strategy for ReuseportCbpf {
    const SUMMARY: &'static str =
        "reuseport with a cBPF program choosing the socket by receiving CPU (SO_ATTACH_REUSEPORT_CBPF)";
    const EVENT_FORM: Result<&'static str, &'static str> =
        Ok("as reuseport, each connection queued on the socket of the CPU that received it");
    type Shared = Shared;

    /// Whether the kernel takes the program (Linux 4.5): try it on a throwaway group.
    fn supported() -> Result<(), String> {
        let cfg = ListenConfig {
            addr: "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
            backlog: 1,
            io_timeout: std::time::Duration::from_secs(1),
            defer_accept: None,
            mode: super::Mode::Process,
        };
        Self::prepare(&cfg, 1, &StrategyOptions::default())
            .map(drop)
            .map_err(|e| format!("SO_ATTACH_REUSEPORT_CBPF needs Linux 4.5 or later: {e}"))
    }

    fn prepare(cfg: &ListenConfig, workers: usize, _: &StrategyOptions) -> io::Result<Shared> {
        let s = Shared::new(cfg, workers)?;
        let n = u32::try_from(s.listeners.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "too many sockets"))?;
        attach_reuseport_cpu_cbpf(&s.listeners[0], n)?;
        Ok(s)
    }
}
