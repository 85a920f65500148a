//! Node.js cluster: with the operating system choosing (SCHED_NONE: every worker's event loop
//! watches the shared socket) over 70% of the connections went to two of eight processes; the
//! primary's round-robin hand-off (SCHED_RR) spreads them.
use super::model::{
    pct, ranked_shares, run_step, timing, top_share, ChartKind, Experiment, Finding, Observed, Step,
};

pub const EXPERIMENT: Experiment = Experiment {
    name: "node-cluster",
    title: "Node.js cluster: the OS's choice loads two of eight workers; round-robin spreads",
    source: "Node.js documentation, cluster module, \"How it works\", \
             https://nodejs.org/api/cluster.html#how-it-works",
    setup: "A Node.js cluster of eight worker processes. With SCHED_NONE each worker's libuv \
            loop accepts from the shared listening socket and the kernel chooses who wakes; the \
            documentation reports loads where over 70% of all connections ended up in just two \
            of eight processes. With SCHED_RR (the default except on Windows) the primary \
            accepts and passes each connection to the workers in turn.",
    expected: "8 event workers, an open loop of 2,000 short connections/s: with epoll-shared \
               (SCHED_NONE) the two busiest workers take at least 70% of the connections; with \
               handoff-rr (SCHED_RR) the busiest takes at most 1.5/N = 18.75%.",
    missing: || None,
    steps,
    judge,
    chart: ChartKind::Shares,
};

const N: f64 = 8.0;

fn steps(quick: bool) -> Vec<Step> {
    let [d, w] = timing(quick, "--duration=5s");
    [
        ("epoll-shared", "--strategy=epoll-shared"),
        ("handoff-rr", "--strategy=handoff-rr"),
    ]
    .into_iter()
    .map(|(label, s)| {
        run_step(
            label,
            &[
                s,
                "--workers=8",
                "--worker-model=event",
                "--rate=2000",
                d,
                w,
            ],
        )
    })
    .collect()
}

fn spread(workers: &[crate::report::row::WorkerRow]) -> String {
    let all: Vec<String> = ranked_shares(workers).iter().map(|&s| pct(s)).collect();
    all.join(" ")
}

pub fn judge(obs: &Observed) -> Vec<Finding> {
    let mut out = Vec::new();
    let (q, e) = ("epoll-shared (SCHED_NONE): two busiest together", "≥ 70%");
    out.push(match obs.run("epoll-shared") {
        Some((_, w)) => {
            let top2 = top_share(w, 2);
            Finding::new(
                q,
                e,
                format!("{} (all: {})", pct(top2), spread(w)),
                top2 >= 0.7,
            )
            .unless(
                "the scheduler spread the wake-ups over more workers than Node's \
                     (a busier or larger machine may differ)",
            )
        }
        None => Finding::missing(q, e, "epoll-shared"),
    });
    let (q, e) = ("handoff-rr (SCHED_RR): busiest worker", "≤ 18.75% (1.5/N)");
    out.push(match obs.run("handoff-rr") {
        Some((_, w)) => {
            let top = top_share(w, 1);
            Finding::new(
                q,
                e,
                format!("{} (all: {})", pct(top), spread(w)),
                top <= 1.5 / N,
            )
            .unless("the hand-off did not take the workers in turn")
        }
        None => Finding::missing(q, e, "handoff-rr"),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::reproduce::model::{workers_with, Measured, Verdict};

    fn obs(shared: &[u64], rr: &[u64]) -> Observed {
        let mut o = Observed::default();
        for (l, a) in [("epoll-shared", shared), ("handoff-rr", rr)] {
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

    const EVEN: [u64; 8] = [125; 8];

    #[test]
    fn two_busy_of_eight_against_round_robin_reproduces() {
        let f = judge(&obs(&[400, 350, 50, 50, 50, 40, 30, 30], &EVEN));
        assert!(f.iter().all(|f| f.verdict == Verdict::Reproduced), "{f:?}");
    }

    #[test]
    fn an_even_os_choice_or_a_skewed_round_robin_does_not() {
        let f = judge(&obs(&EVEN, &[400, 350, 50, 50, 50, 40, 30, 30]));
        assert!(
            f.iter().all(|f| f.verdict == Verdict::NotReproduced),
            "{f:?}"
        );
    }
}
