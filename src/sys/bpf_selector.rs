//! The selector: maps, program and attachment for one SO_REUSEPORT group, and the counts the
//! workers keep for `least`.
//!
//! Order of use (master, before fork): [`Selector::new`] creates the maps and loads the
//! program; [`Selector::set_socket`] puts listening socket i at index i of the sockarray;
//! [`Selector::attach`] on any one socket of the group makes the program its selector. Workers
//! (after fork) update their own slot of [`Selector::counts`], a shared mapping they inherit.
use super::bpf::{self, MapMemory};
use super::bpf_error::BpfError;
use super::bpf_prog::{self as program, Maps, Ticket, MAX_SOCKETS, SLOT_STRIDE};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};

/// How the program picks a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Socket `ticket % n`: a strict rotation over the group.
    RoundRobin,
    /// The socket whose worker reports the fewest open connections; ties rotate.
    Least,
}

impl Policy {
    /// The kernel this policy needs.
    pub fn requires(self) -> &'static str {
        match self {
            // SK_REUSEPORT programs, REUSEPORT_SOCKARRAY, bpf_sk_select_reuseport: 4.19.
            Policy::RoundRobin => "Linux 4.19 (5.12 for an exact rotation under concurrency)",
            // BPF_F_MMAPABLE array maps: 5.5.
            Policy::Least => "Linux 5.5",
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Policy::RoundRobin => "rr",
            Policy::Least => "least",
        })
    }
}

/// The workers' open-connection counts: one u32 per socket index, in a BPF_F_MMAPABLE array
/// the master maps before fork, so a worker's update is a store to shared memory, no syscall.
pub struct Counts {
    mem: MapMemory,
    map: OwnedFd,
    slots: u32,
}

impl Counts {
    fn new(slots: u32) -> io::Result<Self> {
        let size = slots as usize * SLOT_STRIDE;
        let what = "ARRAY with BPF_F_MMAPABLE (Linux 5.5)";
        let map = bpf::map_create(
            what,
            bpf::MAP_TYPE_ARRAY,
            size as u32,
            1,
            bpf::F_MMAPABLE,
            "herd_counts",
        )?;
        let mem = MapMemory::new(map.as_fd(), size)?;
        Ok(Counts { mem, map, slots })
    }

    /// Worker `i`'s count (`fetch_add(1)` on accept, `fetch_sub(1)` on close; Relaxed is
    /// enough: the program reads a hint, not a lock).
    pub fn slot(&self, i: u32) -> Option<&AtomicU32> {
        if i >= self.slots {
            return None;
        }
        self.mem.u32_at(i as usize * SLOT_STRIDE)
    }

    /// Keep the program off socket `i` (its worker is gone or its socket is closing): its count
    /// becomes u32::MAX. Otherwise an idle dead slot attracts every connection, each of which
    /// then fails to select and falls back to the kernel's hash.
    pub fn retire(&self, i: u32) {
        if let Some(s) = self.slot(i) {
            s.store(u32::MAX, Ordering::Relaxed);
        }
    }

    pub fn len(&self) -> u32 {
        self.slots
    }

    pub fn is_empty(&self) -> bool {
        self.slots == 0
    }
}

/// A loaded selector program and its maps for a group of up to `capacity` sockets, of which
/// the program currently selects among the first `active`.
pub struct Selector {
    policy: Policy,
    capacity: u32,
    active: u32,
    migrate: bool,
    ticket: Ticket,
    prog: OwnedFd,
    maps: OwnedMaps,
}

/// The maps a selector program refers to (it holds references of its own once loaded).
struct OwnedMaps {
    socks: OwnedFd,
    counter: OwnedFd,
    counts: Option<Counts>,
}

impl OwnedMaps {
    /// Load the program for the first `active` sockets.
    fn load(
        &self,
        policy: Policy,
        active: u32,
        ticket: Ticket,
        migrate: bool,
    ) -> io::Result<OwnedFd> {
        let maps = Maps {
            socks: self.socks.as_raw_fd(),
            counter: self.counter.as_raw_fd(),
            counts: self.counts.as_ref().map(|c| c.map.as_raw_fd()),
        };
        let (attach, kind) = match migrate {
            true => (
                bpf::ATTACH_SELECT_OR_MIGRATE,
                "SELECT_OR_MIGRATE (Linux 5.14)",
            ),
            false => (0, "SELECT"),
        };
        let insns = program::build(active, &maps, ticket, migrate);
        let name = format!("herd_{policy}");
        let what = format!("SK_REUSEPORT {kind} {name}");
        bpf::prog_load(bpf::PROG_TYPE_SK_REUSEPORT, attach, &insns, &what, &name)
    }
}

impl Selector {
    /// Create the maps for `capacity` sockets and load the program for all of them. `migrate`
    /// loads it with expected_attach_type BPF_SK_REUSEPORT_SELECT_OR_MIGRATE (Linux 5.14):
    /// connections queued on a listener that closes are then moved to another socket of the
    /// group (the program chooses, see [`Selector::migrations`]) instead of being reset.
    pub fn new(policy: Policy, capacity: u32, migrate: bool) -> io::Result<Self> {
        // Atomic fetch-add needs 5.12; an older verifier refuses it with EINVAL.
        match Self::with_ticket(policy, capacity, migrate, Ticket::FetchAdd) {
            Err(e) if BpfError::of(&e).map(|b| b.errno) == Some(libc::EINVAL) => {
                Self::with_ticket(policy, capacity, migrate, Ticket::AddThenLoad)
            }
            r => r,
        }
    }

    /// [`Selector::new`] with the ticket instruction chosen by the caller.
    pub fn with_ticket(
        policy: Policy,
        capacity: u32,
        migrate: bool,
        ticket: Ticket,
    ) -> io::Result<Self> {
        if !(1..=MAX_SOCKETS).contains(&capacity) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a reuseport-ebpf group has 1 to {MAX_SOCKETS} sockets, not {capacity}"),
            ));
        }
        let what = "REUSEPORT_SOCKARRAY (Linux 4.19)";
        let sockarray = bpf::MAP_TYPE_REUSEPORT_SOCKARRAY;
        let socks = bpf::map_create(what, sockarray, 8, capacity, 0, "herd_socks")?;
        let counter = bpf::map_create("ARRAY", bpf::MAP_TYPE_ARRAY, 8, 2, 0, "herd_tickets")?;
        let counts = match policy {
            Policy::Least => Some(Counts::new(capacity)?),
            Policy::RoundRobin => None,
        };
        let maps = OwnedMaps {
            socks,
            counter,
            counts,
        };
        let prog = maps.load(policy, capacity, ticket, migrate)?;
        Ok(Selector {
            policy,
            capacity,
            active: capacity,
            migrate,
            ticket,
            prog,
            maps,
        })
    }

    /// Select among the first `active` sockets from now on (herd's SIGTTIN/SIGTTOU): load a
    /// program for them and attach it through `sock`, which replaces the old one atomically.
    /// The maps, and so the workers' counts mapping, stay the same.
    pub fn resize(&mut self, active: u32, sock: &impl AsFd) -> io::Result<()> {
        if !(1..=self.capacity).contains(&active) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("1 to {} active sockets, not {active}", self.capacity),
            ));
        }
        let prog = self
            .maps
            .load(self.policy, active, self.ticket, self.migrate)?;
        bpf::attach_reuseport(sock.as_fd(), prog.as_fd())?;
        (self.prog, self.active) = (prog, active);
        Ok(())
    }

    /// Put `sock` at `index` of the group as the program sees it. It must already be
    /// listening (bound with SO_REUSEPORT, then listen(2)); the map holds a reference to it
    /// until it closes, which empties the slot.
    pub fn set_socket(&self, index: u32, sock: &impl AsFd) -> io::Result<()> {
        let fd = sock.as_fd().as_raw_fd() as u64;
        bpf::map_update(self.maps.socks.as_fd(), index, fd)
    }

    /// The socket cookie (SO_COOKIE) of the socket at `index`; an error (ENOENT) when the
    /// index is empty.
    pub fn socket_cookie(&self, index: u32) -> io::Result<u64> {
        bpf::map_lookup(self.maps.socks.as_fd(), index)
    }

    /// Make the program the selector of `sock`'s reuseport group (any one member will do).
    pub fn attach(&self, sock: &impl AsFd) -> io::Result<()> {
        bpf::attach_reuseport(sock.as_fd(), self.prog.as_fd())
    }

    /// The counts of `least` (None for `rr`).
    pub fn counts(&self) -> Option<&Counts> {
        self.maps.counts.as_ref()
    }

    /// Selections the program has made (one per new connection, plus one per migration).
    pub fn tickets(&self) -> io::Result<u64> {
        bpf::map_lookup(self.maps.counter.as_fd(), 0)
    }

    /// Runs that moved a queued connection off a closing listener (ctx->migrating_sk set);
    /// always 0 unless loaded with `migrate`.
    pub fn migrations(&self) -> io::Result<u64> {
        bpf::map_lookup(self.maps.counter.as_fd(), 1)
    }

    /// Whether tickets come from an atomic fetch-add (exact rotation) or add-then-load.
    pub fn ticket(&self) -> Ticket {
        self.ticket
    }

    /// The loaded program (for /proc/self/fdinfo: prog_id, verified_insns).
    pub fn program(&self) -> std::os::fd::BorrowedFd<'_> {
        self.prog.as_fd()
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    pub fn active(&self) -> u32 {
        self.active
    }
}

/// Whether this kernel, with this process's privileges, takes the `policy` selector: builds one
/// on a throwaway group of one socket on 127.0.0.1:0. The reason names the failing step, its
/// errno and the environment (kernel, euid, kernel.unprivileged_bpf_disabled).
pub fn supported(policy: Policy, migrate: bool) -> Result<(), String> {
    let attempt = || -> io::Result<()> {
        use socket2::{Domain, Socket, Type};
        let sock = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        sock.set_reuse_port(true)?;
        sock.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
        sock.listen(1)?;
        let sel = Selector::new(policy, 1, migrate)?;
        sel.set_socket(0, &sock)?;
        sel.attach(&sock)
    };
    attempt().map_err(|e| {
        let why = match BpfError::of(&e).map(|b| b.errno) {
            Some(libc::EPERM) => {
                format!("bpf(2) refused: it needs root, or CAP_BPF and CAP_NET_ADMIN ({e})")
            }
            _ if migrate => format!("SELECT_OR_MIGRATE needs Linux 5.14: {e}"),
            _ => format!("{policy} needs {}: {e}", policy.requires()),
        };
        format!("{why} [{}]", environment())
    })
}

/// `kernel 6.1.0, euid 1000, kernel.unprivileged_bpf_disabled=2`.
pub fn environment() -> String {
    let read = |p: &str| std::fs::read_to_string(p).map_or("?".into(), |s| s.trim().to_string());
    format!(
        "kernel {}, euid {}, kernel.unprivileged_bpf_disabled={}",
        read("/proc/sys/kernel/osrelease"),
        super::process::euid(),
        read("/proc/sys/kernel/unprivileged_bpf_disabled"),
    )
}
