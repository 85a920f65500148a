//! The selector programs, assembled instruction by instruction for a group of `n` sockets.
//!
//! Both policies share one frame (the C equivalent, with `n` and the map fds baked in):
//!
//! ```c
//! int select(struct sk_reuseport_md *ctx) {
//!     u32 key = 0;
//!     u64 *tickets = bpf_map_lookup_elem(&counter, &key);
//!     if (!tickets) return SK_PASS;
//!     u64 start = __sync_fetch_and_add(tickets, 1) % n;       // rr: the index itself
//!     if (MIGRATE && ctx->migrating_sk) counter[1] += 1;      // count migrations
//!     u32 index = LEAST ? least_loaded(start) : start;
//!     if (bpf_sk_select_reuseport(ctx, &socks, &index, 0) == 0 && LEAST) // fails: kernel hash
//!         __sync_fetch_and_add(&count[index], 1);              // the worker counts it down
//!     return SK_PASS;
//! }
//! ```
//!
//! `least_loaded` is unrolled over the `n` slots of the counts map (no loop, so any kernel's
//! verifier takes it): slot k holds the connections socket k was given and its worker has not
//! closed yet, queued or open (u32, SLOT_STRIDE bytes apart): the program counts each one up
//! when it selects the socket, the worker down when it closes the connection. Counting at
//! accept instead would let a burst of SYNs pile onto a worker that has not woken up yet: its
//! count stays 0 while its queue fills.
//! Each slot becomes the 64-bit key `count << 32 | rank`, where `rank = (k - start) mod n` is
//! its distance after `start`; the smallest key is the least-loaded socket, and among equal
//! counts the first one at or after `start`: ties rotate round-robin, so equal counts (e.g. all
//! zero at startup) spread exactly like `rr`. The selection is branch-free except for one
//! compare per slot between two unknown values, which keeps the verifier's path count linear.
use super::bpf_insn::*;

/// bpf_map_lookup_elem(map, key) -> value pointer or NULL.
const HELPER_MAP_LOOKUP_ELEM: i32 = 1;
/// bpf_sk_select_reuseport(ctx, map, key, flags) (Linux 4.19).
const HELPER_SK_SELECT_REUSEPORT: i32 = 82;
/// Program verdict: go on with the selected socket (or the kernel's hash if none was).
const SK_PASS: i32 = 1;
/// offsetof(struct sk_reuseport_md, migrating_sk) (Linux 5.14).
const CTX_MIGRATING_SK: i16 = 48;
/// Byte distance between two workers' counts in the counts map: one cache line each, so a
/// worker's store does not invalidate its neighbours' counts.
pub const SLOT_STRIDE: usize = 64;
/// Most sockets a group may have: slot offsets must fit the 16-bit load offset
/// (256 * 64 = 16 KiB), and the unrolled scan and count (10 instructions a slot, ~2.6k) stay
/// under the 4096-instruction limit of kernels before 5.2.
pub const MAX_SOCKETS: u32 = 256;

/// The map file descriptors baked into the program.
pub struct Maps {
    /// REUSEPORT_SOCKARRAY, n entries: the group's listening sockets.
    pub socks: i32,
    /// ARRAY of 2 u64: [0] = tickets (one per selection), [1] = migrations seen.
    pub counter: i32,
    /// `least` only: ARRAY of 1 value of n * SLOT_STRIDE bytes, the workers' counts.
    pub counts: Option<i32>,
}

/// How to increment the ticket counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ticket {
    /// BPF_ATOMIC | BPF_FETCH add (Linux 5.12): every selection gets its own ticket.
    FetchAdd,
    /// BPF_XADD then a load (Linux 4.19): two selections running at the same moment on two
    /// CPUs may read the same value, so the rotation is exact only when they do not overlap.
    AddThenLoad,
}

/// A forward-jump assembler: labels are bound once, jumps to them are patched at the end.
struct Asm {
    insns: Vec<Insn>,
    labels: Vec<Option<usize>>,
    fixups: Vec<(usize, usize)>,
}

impl Asm {
    fn emit(&mut self, i: impl IntoIterator<Item = Insn>) {
        self.insns.extend(i);
    }
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    fn bind(&mut self, label: usize) {
        self.labels[label] = Some(self.insns.len());
    }
    /// `if reg op imm goto label`.
    fn jump(&mut self, op: Jmp, reg: Reg, imm: i32, label: usize) {
        self.fixups.push((self.insns.len(), label));
        self.emit([jmp_imm(op, reg, imm, 0)]);
    }
    fn finish(mut self) -> Vec<Insn> {
        for (at, label) in self.fixups {
            let target = self.labels[label].expect("jump to an unbound label");
            self.insns[at].off = (target - at - 1) as i16;
        }
        self.insns
    }
    /// `r0 = bpf_map_lookup_elem(map, &(u32){key})`, using the stack word at r10-4.
    fn lookup(&mut self, map: i32, key: i32) {
        self.emit([st_w(R10, -4, key)]);
        self.emit(ld_map_fd(R1, map));
        self.emit([alu64_reg(Alu::Mov, R2, R10), alu64_imm(Alu::Add, R2, -4)]);
        self.emit([call(HELPER_MAP_LOOKUP_ELEM)]);
    }
}

/// The selector for `n` sockets (1..=MAX_SOCKETS): `rr` if `maps.counts` is None, else `least`.
pub fn build(n: u32, maps: &Maps, ticket: Ticket, migrate: bool) -> Vec<Insn> {
    assert!((1..=MAX_SOCKETS).contains(&n), "1..={MAX_SOCKETS} sockets");
    let n = n as i32;
    let mut a = Asm {
        insns: Vec::new(),
        labels: Vec::new(),
        fixups: Vec::new(),
    };
    let pass = a.label();

    // r6 = ctx: r1-r5 do not survive helper calls.
    a.emit([alu64_reg(Alu::Mov, R6, R1)]);
    // r0 = &counter[0]; the verifier insists on the NULL check.
    a.lookup(maps.counter, 0);
    a.jump(Jmp::Eq, R0, 0, pass);
    // r1 = (*r0)++ (the ticket), then r8 = start = ticket % n.
    a.emit([alu64_imm(Alu::Mov, R1, 1)]);
    match ticket {
        Ticket::FetchAdd => a.emit([atomic_fetch_add_dw(R0, 0, R1)]),
        Ticket::AddThenLoad => a.emit([atomic_add_dw(R0, 0, R1), ldx_dw(R1, R0, 0)]),
    }
    a.emit([alu64_imm(Alu::Mod, R1, n), alu64_reg(Alu::Mov, R8, R1)]);

    if migrate {
        // if (ctx->migrating_sk) counter[1] += 1: this run moves a queued connection off a
        // closing listener rather than placing a new one.
        let skip = a.label();
        a.emit([ldx_dw(R2, R6, CTX_MIGRATING_SK)]);
        a.jump(Jmp::Eq, R2, 0, skip);
        a.lookup(maps.counter, 1);
        a.jump(Jmp::Eq, R0, 0, skip);
        a.emit([alu64_imm(Alu::Mov, R1, 1), atomic_add_dw(R0, 0, R1)]);
        a.bind(skip);
    }

    if let Some(counts) = maps.counts {
        // r7 = the counts block; r9 = best key so far = u64::MAX (mov of -1 sign-extends).
        a.lookup(counts, 0);
        a.jump(Jmp::Eq, R0, 0, pass);
        a.emit([alu64_reg(Alu::Mov, R7, R0), alu64_imm(Alu::Mov, R9, -1)]);
        for k in 0..n {
            a.emit([
                // r1 = count[k] << 32
                ldx_w(R1, R7, (k as usize * SLOT_STRIDE) as i16),
                alu64_imm(Alu::Lsh, R1, 32),
                // r2 = rank = (n + k - start) % n, in 0..n
                alu64_imm(Alu::Mov, R2, n + k),
                alu64_reg(Alu::Sub, R2, R8),
                alu64_imm(Alu::Mod, R2, n),
                // r1 = count << 32 | rank; if r1 < r9 then r9 = r1
                alu64_reg(Alu::Or, R1, R2),
                jmp_reg(Jmp::Ge, R1, R9, 1),
                alu64_reg(Alu::Mov, R9, R1),
            ]);
        }
        // r8 = index = (rank of the best + start) % n
        a.emit([
            mov32_reg(R1, R9),
            alu64_reg(Alu::Add, R1, R8),
            alu64_imm(Alu::Mod, R1, n),
            alu64_reg(Alu::Mov, R8, R1),
        ]);
    }

    // bpf_sk_select_reuseport(ctx, &socks, &(u32){r8}, 0); its result is not checked: on
    // failure (empty slot: the socket closed) nothing is selected and the kernel hashes.
    a.emit([stx_w(R10, -8, R8), alu64_reg(Alu::Mov, R1, R6)]);
    a.emit(ld_map_fd(R2, maps.socks));
    a.emit([
        alu64_reg(Alu::Mov, R3, R10),
        alu64_imm(Alu::Add, R3, -8),
        alu64_imm(Alu::Mov, R4, 0),
        call(HELPER_SK_SELECT_REUSEPORT),
    ]);
    if maps.counts.is_some() {
        // The selection took: count the connection on its socket now (count[r8] += 1), so
        // that the counts include what is queued and not yet accepted, as Envoy's exact
        // balance counts a connection when it assigns it; the worker counts it down when it
        // closes it. Unrolled (`if r8 == k`), so that every access has a constant offset.
        a.jump(Jmp::Ne, R0, 0, pass);
        a.emit([alu64_imm(Alu::Mov, R1, 1)]);
        for k in 0..n {
            a.emit([
                jmp_imm(Jmp::Ne, R8, k, 1),
                atomic_add_w(R7, (k as usize * SLOT_STRIDE) as i16, R1),
            ]);
        }
    }
    // pass: return SK_PASS
    a.bind(pass);
    a.emit([alu64_imm(Alu::Mov, R0, SK_PASS), exit()]);
    a.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumps_land_on_the_return() {
        let maps = Maps {
            socks: 3,
            counter: 4,
            counts: Some(5),
        };
        let p = build(4, &maps, Ticket::FetchAdd, false);
        let ret = p.len() - 2;
        for (i, insn) in p.iter().enumerate() {
            let is_cond_jump = insn.code & 0x07 == 0x05 && matches!(insn.code & 0xf0, 0x10 | 0x50);
            if is_cond_jump && insn.imm == 0 && insn.regs & 0x0f == 0 {
                // every NULL check of r0 goes to `return SK_PASS`
                assert_eq!(i + 1 + insn.off as usize, ret, "jump at {i}");
            }
        }
        assert_eq!(p[ret], alu64_imm(Alu::Mov, R0, SK_PASS));
    }
}
