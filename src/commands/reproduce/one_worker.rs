//! Cloudflare (2017): event-loop workers waiting with EPOLLEXCLUSIVE under a moderate load give
//! one worker most connections; SO_REUSEPORT spreads them evenly.
use super::model::{
    pct, ranked_shares, run_step, timing, ChartKind, Experiment, Finding, Observed, Step,
};

pub const EXPERIMENT: Experiment = Experiment {
    name: "one-worker",
    title: "One worker takes the load: EPOLLEXCLUSIVE event workers against SO_REUSEPORT",
    source: "Marek Majkowski, \"Why does one NGINX worker take all the load?\", Cloudflare blog, \
             2017-10-23, https://blog.cloudflare.com/the-sad-state-of-linux-socket-balancing/",
    setup: "nginx event-loop workers share one listening socket through epoll (EPOLLEXCLUSIVE \
            from Linux 4.5). Under a moderate load the worker that went back to epoll_wait \
            last is woken first, so it keeps taking the new connections while the others stay \
            idle; with one SO_REUSEPORT socket per worker the kernel hashes connections over \
            the workers and the load is even.",
    expected: "4 event workers, an open loop of 2,000 short connections/s: with \
               epoll-exclusive the busiest worker takes at least 2/N = 50% of the connections; \
               with reuseport the busiest takes at most 1.5/N = 37.5%.",
    missing: || None,
    steps,
    judge,
    chart: ChartKind::Shares,
};

const N: f64 = 4.0;

fn steps(quick: bool) -> Vec<Step> {
    let [d, w] = timing(quick, "--duration=5s");
    [
        ("epoll-exclusive", "--strategy=epoll-exclusive"),
        ("reuseport", "--strategy=reuseport"),
    ]
    .into_iter()
    .map(|(label, s)| {
        run_step(
            label,
            &[
                s,
                "--workers=4",
                "--worker-model=event",
                "--rate=2000",
                d,
                w,
            ],
        )
    })
    .collect()
}

pub fn judge(obs: &Observed) -> Vec<Finding> {
    let mut out = Vec::new();
    for (label, q, e, ok, note) in [
        (
            "epoll-exclusive",
            "epoll-exclusive: busiest worker's share",
            "≥ 50% (2/N)",
            (|s: f64| s >= 2.0 / N) as fn(f64) -> bool,
            "the wake-ups went round the workers rather than to the last one idle",
        ),
        (
            "reuseport",
            "reuseport: busiest worker's share",
            "≤ 37.5% (1.5/N)",
            |s: f64| s <= 1.5 / N,
            "the 4-tuple hash put more connections on one socket than chance should",
        ),
    ] {
        out.push(match obs.run(label) {
            Some((_, workers)) => {
                let shares = ranked_shares(workers);
                let top = shares.first().copied().unwrap_or(0.0);
                let all: Vec<String> = shares.iter().map(|&s| pct(s)).collect();
                Finding::new(
                    q,
                    e,
                    format!("{} (all: {})", pct(top), all.join(" ")),
                    ok(top),
                )
                .unless(note)
            }
            None => Finding::missing(q, e, label),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::reproduce::model::{workers_with, Measured, Verdict};

    fn obs(excl: &[u64], rp: &[u64]) -> Observed {
        let mut o = Observed::default();
        for (l, a) in [("epoll-exclusive", excl), ("reuseport", rp)] {
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
    fn one_busy_worker_against_an_even_spread_reproduces() {
        let f = judge(&obs(&[1000, 2, 0, 0], &[260, 240, 255, 245]));
        assert!(f.iter().all(|f| f.verdict == Verdict::Reproduced), "{f:?}");
    }

    #[test]
    fn even_exclusive_or_skewed_reuseport_does_not() {
        let f = judge(&obs(&[250, 250, 250, 250], &[600, 200, 100, 100]));
        assert!(
            f.iter().all(|f| f.verdict == Verdict::NotReproduced),
            "{f:?}"
        );
    }
}
