//! How a hand-off acceptor picks the worker for the next connection, from what each seat
//! shows: whether its worker is alive, how many connections it has been sent and not yet
//! taken (`queued`), and how many it holds open.
use serde::{Deserialize, Serialize};

/// The hand-off policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Policy {
    /// Node's cluster round-robin (`lib/internal/cluster/round_robin_handle.js`): the next
    /// worker, in turn, among those that have taken every connection they were sent; a worker
    /// is offered the next one only after it took the previous one.
    Rr,
    /// Envoy's exact balance: the worker with the fewest open plus queued connections; among
    /// equals the first after the previous choice, so ties rotate.
    Least,
    /// HAProxy's `tune.listener.multi-queue on`: of two workers drawn at random, the one with
    /// fewer open plus queued connections (HAProxy draws its two by two rotating indexes;
    /// herd by two random choices, the textbook form).
    P2c,
}

/// A seat queues at most this many connections sent and not yet taken (`least`, `p2c`), so
/// that a stuck worker cannot swallow the accept queue: with every live seat full, the
/// acceptor stops accepting and the kernel queues (HAProxy's per-thread accept rings are
/// bounded the same way). `rr` allows one (Node's rule).
pub const QUEUE_CAP: u64 = 64;

/// One seat as the acceptor sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeatState {
    /// Its worker is alive (or about to start), and the send buffer took the last message.
    pub up: bool,
    pub queued: u64,
    pub open: u64,
}

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Policy::Rr => "rr",
            Policy::Least => "least",
            Policy::P2c => "p2c",
        }
    }

    /// How many connections a seat may have queued and still be offered one.
    pub fn cap(self) -> u64 {
        match self {
            Policy::Rr => 1,
            Policy::Least | Policy::P2c => QUEUE_CAP,
        }
    }
}

/// The acceptor's choice, with what it remembers between choices.
pub struct Picker {
    policy: Policy,
    /// The seat chosen last (rr and least start after it).
    cursor: usize,
    rng: fastrand::Rng,
}

impl Picker {
    pub fn new(policy: Policy) -> Self {
        Picker {
            policy,
            cursor: usize::MAX,
            rng: fastrand::Rng::new(),
        }
    }

    fn candidate(&self, s: SeatState) -> bool {
        s.up && s.queued < self.policy.cap()
    }

    /// Whether any of seats `0..n` may be offered a connection now.
    pub fn any(&self, n: usize, state: impl Fn(usize) -> SeatState) -> bool {
        (0..n).any(|i| self.candidate(state(i)))
    }

    /// The seat of `0..n` for the next connection, `None` when none may take one.
    pub fn pick(&mut self, n: usize, state: impl Fn(usize) -> SeatState) -> Option<usize> {
        if n == 0 {
            return None;
        }
        // Seats in turn, starting after the previous choice.
        let start = self.cursor.wrapping_add(1) % n;
        let order = (0..n).map(|k| (start + k) % n);
        let chosen = match self.policy {
            Policy::Rr => order.into_iter().find(|&i| self.candidate(state(i))),
            Policy::Least => order
                .filter_map(|i| {
                    let s = state(i);
                    self.candidate(s).then_some((s.open + s.queued, i))
                })
                // The first of the least loaded, in turn order (min_by_key keeps the first).
                .min_by_key(|&(load, _)| load)
                .map(|(_, i)| i),
            Policy::P2c => self.two_choices(n, &state),
        }?;
        self.cursor = chosen;
        Some(chosen)
    }

    fn two_choices(&mut self, n: usize, state: &impl Fn(usize) -> SeatState) -> Option<usize> {
        let cap = self.policy.cap();
        let ok = |i: usize| {
            let s = state(i);
            s.up && s.queued < cap
        };
        let count = (0..n).filter(|&i| ok(i)).count();
        let nth = |k: usize| (0..n).filter(|&i| ok(i)).nth(k);
        match count {
            0 => None,
            1 => nth(0),
            c => {
                let a = self.rng.usize(..c);
                let mut b = self.rng.usize(..c - 1);
                if b >= a {
                    b += 1;
                }
                let (a, b) = (nth(a)?, nth(b)?);
                let load = |i: usize| {
                    let s = state(i);
                    s.open + s.queued
                };
                Some(if load(b) < load(a) { b } else { a })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seats(v: &[(bool, u64, u64)]) -> Vec<SeatState> {
        v.iter()
            .map(|&(up, queued, open)| SeatState { up, queued, open })
            .collect()
    }

    #[test]
    fn rr_rotates_over_workers_that_took_their_last_connection() {
        let s = seats(&[(true, 0, 5), (true, 1, 0), (false, 0, 0), (true, 0, 9)]);
        let mut p = Picker::new(Policy::Rr);
        let picks: Vec<_> = (0..4).map(|_| p.pick(4, |i| s[i]).unwrap()).collect();
        // Seat 1 has one queued (not taken yet), seat 2 is down: 0 and 3 in turn.
        assert_eq!(picks, [0, 3, 0, 3]);
        let busy = seats(&[(true, 1, 0), (false, 0, 0)]);
        assert_eq!(p.pick(2, |i| busy[i]), None);
        assert!(!p.any(2, |i| busy[i]));
    }

    #[test]
    fn least_takes_the_fewest_open_plus_queued_and_rotates_ties() {
        let s = seats(&[(true, 0, 3), (true, 2, 0), (true, 0, 2), (true, 0, 7)]);
        let mut p = Picker::new(Policy::Least);
        assert_eq!(p.pick(4, |i| s[i]), Some(1));
        let even = seats(&[(true, 0, 1); 3]);
        let picks: Vec<_> = (0..6).map(|_| p.pick(3, |i| even[i]).unwrap()).collect();
        assert_eq!(picks, [2, 0, 1, 2, 0, 1]);
        let full = seats(&[(true, QUEUE_CAP, 0), (true, 0, 100)]);
        assert_eq!(p.pick(2, |i| full[i]), Some(1));
    }

    #[test]
    fn p2c_never_picks_the_more_loaded_of_two() {
        let s = seats(&[(true, 0, 10), (true, 0, 0)]);
        let mut p = Picker::new(Policy::P2c);
        // With two candidates both are drawn: the lighter one always wins.
        assert!((0..50).all(|_| p.pick(2, |i| s[i]) == Some(1)));
        let one = seats(&[(false, 0, 0), (true, 3, 3), (false, 0, 0)]);
        assert_eq!(p.pick(3, |i| one[i]), Some(1));
        // Many equal seats: the choice spreads.
        let even = seats(&[(true, 0, 0); 8]);
        let mut hit = [0u32; 8];
        for _ in 0..800 {
            hit[p.pick(8, |i| even[i]).unwrap()] += 1;
        }
        assert!(hit.iter().all(|&h| h > 40), "{hit:?}");
    }
}
