//! Cloudflare (2017): a blocking accept() serves idle workers in FIFO rotation; epoll serves
//! the same worker. Measured with `herd order` (idle workers, one connection at a time).
use super::model::{
    is_full_rotation, most_frequent_share, pct, show_seq, ChartKind, Experiment, Finding, Observed,
    Step,
};
use crate::strategy::StrategyKind;
use std::time::Duration;

pub const EXPERIMENT: Experiment = Experiment {
    name: "wake-order",
    title: "Wake order: blocking accept rotates, epoll picks the same worker",
    source: "Marek Majkowski, \"Why does one NGINX worker take all the load?\", Cloudflare blog, \
             2017-10-23, https://blog.cloudflare.com/the-sad-state-of-linux-socket-balancing/",
    setup: "Several processes wait on one listening socket, each either in a blocking accept() \
            or in epoll_wait() on it; connections arrive one at a time while all are idle. \
            The blocking accept wait queue is FIFO, so the workers take turns (2 1 0 2 1 0); \
            with epoll the most recently idle worker, the same one each time, is woken \
            (0 0 0 0 0 0).",
    expected: "blocking: a FIFO rotation over all N workers (the first N connections go to N \
               different workers, and each later one to the worker N places back); \
               epoll-exclusive: one worker takes at least 90% of the connections.",
    missing: || None,
    steps,
    judge,
    chart: ChartKind::Strip,
};

const WORKERS: u32 = 4;

fn steps(quick: bool) -> Vec<Step> {
    let connections = if quick { 8 } else { 24 };
    [
        ("blocking", StrategyKind::Blocking),
        ("epoll-exclusive", StrategyKind::EpollExclusive),
    ]
    .into_iter()
    .map(|(label, strategy)| Step::Order {
        label,
        strategy,
        workers: WORKERS,
        connections,
        gap: Duration::from_millis(20),
    })
    .collect()
}

pub fn judge(obs: &Observed) -> Vec<Finding> {
    let mut out = Vec::new();
    let q = "blocking accept: wake order";
    let e = "FIFO rotation over all 4 workers";
    out.push(match obs.order("blocking") {
        Some(seq) => Finding::new(q, e, show_seq(seq), is_full_rotation(seq, WORKERS as usize))
            .unless("the kernel's accept wait queue did not rotate over the idle workers"),
        None => Finding::missing(q, e, "blocking"),
    });
    let q = "epoll (EPOLLEXCLUSIVE): wake order";
    let e = "one worker takes ≥ 90%";
    out.push(match obs.order("epoll-exclusive") {
        Some(seq) => {
            let top = most_frequent_share(seq);
            Finding::new(
                q,
                e,
                format!("{} (top worker {})", show_seq(seq), pct(top)),
                top >= 0.9,
            )
            .unless("the idle epoll instances were not woken in a fixed order")
        }
        None => Finding::missing(q, e, "epoll-exclusive"),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::reproduce::model::{Measured, Verdict};

    fn obs(blocking: &[usize], epoll: &[usize]) -> Observed {
        let mut o = Observed::default();
        o.insert("blocking", Measured::Order(blocking.to_vec()));
        o.insert("epoll-exclusive", Measured::Order(epoll.to_vec()));
        o
    }

    #[test]
    fn rotation_and_same_worker_reproduce() {
        let f = judge(&obs(&[2, 1, 0, 3, 2, 1, 0, 3], &[0; 8]));
        assert!(f.iter().all(|f| f.verdict == Verdict::Reproduced), "{f:?}");
    }

    #[test]
    fn a_shuffle_or_a_spread_does_not() {
        let f = judge(&obs(&[2, 1, 0, 3, 1, 2, 0, 3], &[0, 1, 2, 3, 0, 1, 2, 3]));
        assert!(
            f.iter().all(|f| f.verdict == Verdict::NotReproduced),
            "{f:?}"
        );
        assert!(f.iter().all(|f| !f.note.is_empty()));
        let f = judge(&Observed::default());
        assert!(f.iter().all(|f| f.verdict == Verdict::NotReproduced));
    }
}
