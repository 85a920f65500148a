//! herd's own headline: in the sync model the herd costs about one context switch per idle
//! worker per accepted connection for the strategies where every idle worker watches the
//! socket, and stays flat for the wake-one strategies.
use super::model::{run_step, timing, ChartKind, Experiment, Finding, Observed, Step};

pub const EXPERIMENT: Experiment = Experiment {
    name: "herd-headline",
    title:
        "herd's headline: a context switch per idle worker for shared readiness, flat for wake-one",
    source: "herd, results/reference/README.md and results/strategies-herd/README.md (this \
             repository)",
    setup: "Prefork sync workers (one connection at a time), most of them idle: 2 connections \
            in flight. When every idle worker waits for readiness on the shared socket \
            (epoll without EPOLLEXCLUSIVE, poll, select), each connection wakes them all and \
            all but one go back to sleep: the cost grows by about one context switch per idle \
            worker. When the kernel wakes one waiter (a blocking accept, EPOLLEXCLUSIVE) the \
            cost does not depend on how many are idle.",
    expected: "Context switches per accepted connection, from 4 to 16 workers (12 more idle \
               ones): epoll-shared and poll grow by at least 0.5 per added worker; blocking and \
               epoll-exclusive by at most 0.15 per added worker (flat).",
    missing: || None,
    steps,
    judge,
    chart: ChartKind::None,
};

const STRATEGIES: [(&str, &str, &str, bool); 4] = [
    ("epoll-shared@4", "epoll-shared@16", "epoll-shared", true),
    ("poll@4", "poll@16", "poll", true),
    ("blocking@4", "blocking@16", "blocking", false),
    (
        "epoll-exclusive@4",
        "epoll-exclusive@16",
        "epoll-exclusive",
        false,
    ),
];

fn steps(quick: bool) -> Vec<Step> {
    let [d, w] = timing(quick, "--duration=3s");
    let mut out = Vec::new();
    for (at4, at16, s, _) in STRATEGIES {
        let strategy = format!("--strategy={s}");
        for (label, workers) in [(at4, "--workers=4"), (at16, "--workers=16")] {
            out.push(run_step(
                label,
                &[&strategy, workers, "--concurrency=2", d, w],
            ));
        }
    }
    out
}

pub fn judge(obs: &Observed) -> Vec<Finding> {
    let mut out = Vec::new();
    for (at4, at16, s, shared) in STRATEGIES {
        let q = format!("{s}: context switches per accept, added per idle worker");
        let e = if shared { "≥ 0.5" } else { "≤ 0.15 (flat)" };
        let ctx = |label: &str| obs.run(label).and_then(|(r, _)| r.ctx_switches_per_accept);
        out.push(match (ctx(at4), ctx(at16)) {
            (Some(a), Some(b)) => {
                let slope = (b - a) / 12.0;
                let ok = if shared { slope >= 0.5 } else { slope <= 0.15 };
                let f = Finding::new(
                    &q,
                    e,
                    format!("{slope:.2} ({a:.2} at 4 workers, {b:.2} at 16)"),
                    ok,
                );
                if shared {
                    f.unless("fewer idle workers were woken per connection than the herd wakes")
                } else {
                    f.unless("more than one waiter was woken per connection")
                }
            }
            _ => Finding::missing(&q, e, at16),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::reproduce::model::{Measured, Verdict};
    use crate::report::row::RunRow;

    fn obs(shared: (f64, f64), wake_one: (f64, f64)) -> Observed {
        let mut o = Observed::default();
        for (at4, at16, _, is_shared) in STRATEGIES {
            let (a, b) = if is_shared { shared } else { wake_one };
            for (l, v) in [(at4, a), (at16, b)] {
                let row = RunRow {
                    ctx_switches_per_accept: Some(v),
                    ..RunRow::default()
                };
                o.insert(
                    l,
                    Measured::Run {
                        row: Box::new(row),
                        workers: Vec::new(),
                    },
                );
            }
        }
        o
    }

    #[test]
    fn a_growing_herd_and_flat_wake_one_reproduce() {
        let f = judge(&obs((3.0, 12.5), (1.3, 1.9)));
        assert!(f.iter().all(|f| f.verdict == Verdict::Reproduced), "{f:?}");
    }

    #[test]
    fn flat_shared_or_growing_wake_one_does_not() {
        let f = judge(&obs((1.3, 1.9), (3.0, 12.5)));
        assert!(
            f.iter().all(|f| f.verdict == Verdict::NotReproduced),
            "{f:?}"
        );
        let f = judge(&Observed::default());
        assert_eq!(f.len(), 4);
        assert!(f.iter().all(|f| f.verdict == Verdict::NotReproduced));
    }
}
