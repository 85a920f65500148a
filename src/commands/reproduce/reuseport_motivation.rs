//! SO_REUSEPORT's motivation (Tom Herbert's Linux 3.9 commit): threads in an accept loop on one
//! socket were loaded up to 3:1 busiest to idlest; one reuseport socket per thread, uniformly.
use super::model::{
    busiest_to_idlest, run_step, show_ratio, timing, ChartKind, Experiment, Finding, Observed, Step,
};

pub const EXPERIMENT: Experiment = Experiment {
    name: "reuseport-motivation",
    title: "SO_REUSEPORT's motivation: one shared accept socket loads threads up to 3:1",
    source: "Tom Herbert, \"net: Implement SO_REUSEPORT\", Linux commit c617f398edd4 (Linux 3.9, \
             2013), https://git.kernel.org/torvalds/c/c617f398edd4",
    setup: "A server's threads each run an accept loop on one shared listening socket. The \
            commit message reports that under load the connections accepted per thread were \
            unbalanced up to 3:1 (busiest to idlest), and that with one SO_REUSEPORT socket \
            per thread, the kernel hashing connections over them, the distribution was \
            uniform.",
    expected: "8 threads (--mode thread), 16 closed-loop connections: with the shared socket \
               (blocking accept) the busiest thread accepts at least 1.5 times as many \
               connections as the idlest (the commit saw up to 3); with reuseport at most \
               1.25 times.",
    missing: || None,
    steps,
    judge,
    chart: ChartKind::Shares,
};

fn steps(quick: bool) -> Vec<Step> {
    let [d, w] = timing(quick, "--duration=5s");
    [
        ("blocking", "--strategy=blocking"),
        ("reuseport", "--strategy=reuseport"),
    ]
    .into_iter()
    .map(|(label, s)| {
        run_step(
            label,
            &[s, "--workers=8", "--mode=thread", "--concurrency=16", d, w],
        )
    })
    .collect()
}

pub fn judge(obs: &Observed) -> Vec<Finding> {
    let mut out = Vec::new();
    let (q, e) = ("shared socket: busiest:idlest thread", "≥ 1.5 (up to 3)");
    out.push(match obs.run("blocking") {
        Some((_, w)) => {
            let r = busiest_to_idlest(w);
            Finding::new(q, e, show_ratio(r), r >= 1.5).unless(
                "this kernel's accept wait queue wakes the threads in FIFO order (exclusive \
                 wake-ups, added at the tail), which evens out who accepts",
            )
        }
        None => Finding::missing(q, e, "blocking"),
    });
    let (q, e) = ("reuseport: busiest:idlest thread", "≤ 1.25");
    out.push(match obs.run("reuseport") {
        Some((_, w)) => {
            let r = busiest_to_idlest(w);
            Finding::new(q, e, show_ratio(r), r <= 1.25)
                .unless("the 4-tuple hash was uneven over this run's connections")
        }
        None => Finding::missing(q, e, "reuseport"),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::reproduce::model::{workers_with, Measured, Verdict};

    fn obs(shared: &[u64], rp: &[u64]) -> Observed {
        let mut o = Observed::default();
        for (l, a) in [("blocking", shared), ("reuseport", rp)] {
            o.insert(
                l,
                Measured::Run {
                    row: Box::default(),
                    workers: workers_with(a),
                },
            );
        }
        o
    }

    #[test]
    fn three_to_one_against_uniform_reproduces() {
        let f = judge(&obs(&[300, 200, 150, 100], &[100, 105, 98, 110]));
        assert!(f.iter().all(|f| f.verdict == Verdict::Reproduced), "{f:?}");
    }

    #[test]
    fn a_uniform_shared_socket_or_a_skewed_reuseport_does_not() {
        let f = judge(&obs(&[100, 105, 98, 110], &[300, 200, 150, 100]));
        assert!(
            f.iter().all(|f| f.verdict == Verdict::NotReproduced),
            "{f:?}"
        );
    }
}
