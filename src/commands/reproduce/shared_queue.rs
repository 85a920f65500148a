//! Cloudflare (2017): one shared accept queue against one queue per worker (SO_REUSEPORT) when
//! requests are slow: about the same mean latency, but reuseport's spread is far wider, as a
//! connection hashed to a busy worker waits while another worker is idle.
use super::model::{
    ratio, run_step, show_ratio, timing, ChartKind, Experiment, Finding, Observed, Step,
};

pub const EXPERIMENT: Experiment = Experiment {
    name: "shared-queue-latency",
    title: "Shared queue against reuseport under slow requests: same mean, wider spread",
    source: "Marek Majkowski, \"Why does one NGINX worker take all the load?\", Cloudflare blog, \
             2017-10-23, https://blog.cloudflare.com/the-sad-state-of-linux-socket-balancing/",
    setup: "12 nginx workers on 12 CPUs, a request handler burning a 1,000,000-iteration loop, \
            200 concurrent connections. One shared queue (EPOLLEXCLUSIVE) against one \
            SO_REUSEPORT queue per worker: mean latency about the same (30.39 against 31.37 \
            ms), but reuseport's standard deviation about 16 times larger (1.58 against 25.27 \
            ms) and its maximum about twice (72.65 against 144.55 ms). On 2 cores herd runs \
            the CPU-bound case at 2 event workers and 34 connections (the original's 200 per \
            12 workers, scaled), 1 ms of CPU per request; and a blocking case the cores do not \
            limit: 12 sync workers, 200 connections, each request sleeping 1 ms.",
    expected: "For each case, reuseport against the shared queue: mean latency ratio between \
               0.67 and 1.5 (about the same); standard deviation ratio at least 2; maximum \
               ratio at least 1.2.",
    missing: || None,
    steps,
    judge,
    chart: ChartKind::None,
};

/// Case, shared-queue label, reuseport label.
const CASES: [(&str, &str, &str); 2] = [
    ("CPU work", "cpu/shared", "cpu/reuseport"),
    ("blocking work", "sleep/shared", "sleep/reuseport"),
];

fn steps(quick: bool) -> Vec<Step> {
    let [d, w] = timing(quick, "--duration=5s");
    let cpu = [
        "--workers=2",
        "--worker-model=event",
        "--work-us=1000",
        "--concurrency=34",
        d,
        w,
    ];
    let sleep = ["--workers=12", "--sleep-us=1000", "--concurrency=200", d, w];
    let step = |label: &'static str, strategy: &'static str, rest: &[&'static str]| {
        let mut a = vec![strategy];
        a.extend_from_slice(rest);
        run_step(label, &a)
    };
    vec![
        step("cpu/shared", "--strategy=epoll-exclusive", &cpu),
        step("cpu/reuseport", "--strategy=reuseport", &cpu),
        step("sleep/shared", "--strategy=blocking", &sleep),
        step("sleep/reuseport", "--strategy=reuseport", &sleep),
    ]
}

/// What is compared, shared's value, reuseport's, the expectation and its test.
type Check = (
    &'static str,
    Option<f64>,
    Option<f64>,
    &'static str,
    fn(f64) -> bool,
);

pub fn judge(obs: &Observed) -> Vec<Finding> {
    let mut out = Vec::new();
    for (case, shared, rp) in CASES {
        let get = |l: &str| obs.run(l).map(|(r, _)| r);
        let (Some(s), Some(r)) = (get(shared), get(rp)) else {
            out.push(Finding::missing(
                &format!("{case}: latency"),
                "both runs",
                &format!("{shared}, {rp}"),
            ));
            continue;
        };
        let ms = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{:.2}", v / 1e3));
        let checks: [Check; 3] = [
            (
                "mean",
                s.latency_mean_us,
                r.latency_mean_us,
                "0.67–1.5",
                |x| (0.67..=1.5).contains(&x),
            ),
            (
                "standard deviation",
                s.latency_stdev_us,
                r.latency_stdev_us,
                "≥ 2",
                |x| x >= 2.0,
            ),
            ("max", s.latency_max_us, r.latency_max_us, "≥ 1.2", |x| {
                x >= 1.2
            }),
        ];
        for (what, a, b, e, ok) in checks {
            let x = ratio(b.unwrap_or(f64::NAN), a.unwrap_or(f64::NAN));
            out.push(
                Finding::new(
                    &format!("{case}: latency {what}, reuseport / shared"),
                    e,
                    format!("{} ({} / {} ms)", show_ratio(x), ms(b), ms(a)),
                    ok(x),
                )
                .unless(
                    "on 2 cores the client shares the CPUs and a queue per worker rarely waits \
                     behind a busy worker while another is idle",
                ),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::reproduce::model::{Measured, Verdict};
    use crate::report::row::RunRow;

    fn row(mean: f64, sd: f64, max: f64) -> Measured {
        Measured::Run {
            row: Box::new(RunRow {
                latency_mean_us: Some(mean),
                latency_stdev_us: Some(sd),
                latency_max_us: Some(max),
                ..RunRow::default()
            }),
            workers: Vec::new(),
        }
    }

    fn obs(shared: (f64, f64, f64), rp: (f64, f64, f64)) -> Observed {
        let mut o = Observed::default();
        for (_, s, r) in CASES {
            o.insert(s, row(shared.0, shared.1, shared.2));
            o.insert(r, row(rp.0, rp.1, rp.2));
        }
        o
    }

    #[test]
    fn the_published_shape_reproduces() {
        let f = judge(&obs(
            (30390.0, 1580.0, 72650.0),
            (31370.0, 25270.0, 144550.0),
        ));
        assert_eq!(f.len(), 6);
        assert!(f.iter().all(|f| f.verdict == Verdict::Reproduced), "{f:?}");
    }

    #[test]
    fn equal_spreads_or_a_doubled_mean_do_not() {
        let f = judge(&obs((30000.0, 1500.0, 70000.0), (60000.0, 1500.0, 70000.0)));
        assert!(
            f.iter().all(|f| f.verdict == Verdict::NotReproduced),
            "{f:?}"
        );
        assert!(judge(&Observed::default())
            .iter()
            .all(|f| f.verdict == Verdict::NotReproduced));
    }
}
