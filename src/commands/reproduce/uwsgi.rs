//! uWSGI's "Serializing accept()": SysV semaphores hand the accept lock round-robin; futex-based
//! locks (pthread mutexes) favour the last holder. Measured with `herd order`, as
//! results/balancers did.
use super::model::{
    is_full_rotation, pct, repeat_share, show_seq, ChartKind, Experiment, Finding, Observed, Step,
};
use crate::strategy::StrategyKind;
use std::time::Duration;

pub const EXPERIMENT: Experiment = Experiment {
    name: "uwsgi-serialize",
    title: "uWSGI's serialized accept: SysV semaphores rotate, futexes favour the last holder",
    source:
        "uWSGI documentation, \"Serializing accept(), AKA Thundering Herd, AKA the Zeeg \
             Problem\", https://uwsgi-docs.readthedocs.io/en/latest/articles/SerializingAccept.html",
    setup: "uWSGI's prefork workers take a lock around accept() (--thunder-lock). The article \
            reports that with SysV semaphores the lock goes to the waiting workers round-robin, \
            while with a futex-based lock (a process-shared pthread mutex) the worker that just \
            released it usually takes it again.",
    expected: "sysv-sem: a FIFO rotation over all 8 idle workers; pthread-mutex: the same \
               worker takes two connections in a row in at least 2/N = 25% of the consecutive \
               pairs (a rotation gives 0%, a random pick 1/N).",
    missing: || None,
    steps,
    judge,
    chart: ChartKind::Strip,
};

const WORKERS: u32 = 8;

fn steps(quick: bool) -> Vec<Step> {
    let connections = if quick { 16 } else { 24 };
    [
        ("sysv-sem", StrategyKind::SysvSem),
        ("pthread-mutex", StrategyKind::PthreadMutex),
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
    let q = "sysv-sem: wake order";
    let e = "FIFO rotation over all 8 workers";
    out.push(match obs.order("sysv-sem") {
        Some(seq) => Finding::new(q, e, show_seq(seq), is_full_rotation(seq, WORKERS as usize))
            .unless("the semaphore's wait queue did not hand the lock round-robin"),
        None => Finding::missing(q, e, "sysv-sem"),
    });
    let q = "pthread-mutex: same worker twice in a row";
    let e = "≥ 25% of consecutive pairs";
    out.push(match obs.order("pthread-mutex") {
        Some(seq) => {
            let r = repeat_share(seq);
            Finding::new(q, e, format!("{} ({})", pct(r), show_seq(seq)), r >= 0.25)
                .unless("the futex unlock let another waiter win the lock")
        }
        None => Finding::missing(q, e, "pthread-mutex"),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::reproduce::model::{Measured, Verdict};

    fn obs(sysv: &[usize], mutex: &[usize]) -> Observed {
        let mut o = Observed::default();
        o.insert("sysv-sem", Measured::Order(sysv.to_vec()));
        o.insert("pthread-mutex", Measured::Order(mutex.to_vec()));
        o
    }

    const ROTATION: [usize; 10] = [0, 2, 3, 1, 5, 4, 7, 6, 0, 2];

    #[test]
    fn rotation_and_a_sticky_futex_reproduce() {
        let f = judge(&obs(&ROTATION, &[0, 1, 1, 3, 0, 0, 0, 0, 2, 1]));
        assert!(f.iter().all(|f| f.verdict == Verdict::Reproduced), "{f:?}");
    }

    #[test]
    fn a_rotating_futex_does_not() {
        let f = judge(&obs(&[0, 2, 3, 1, 5, 4, 7, 6, 2, 0], &ROTATION));
        assert!(
            f.iter().all(|f| f.verdict == Verdict::NotReproduced),
            "{f:?}"
        );
    }
}
