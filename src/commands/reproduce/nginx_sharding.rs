//! nginx 1.9.1's socket sharding (nginx blog, 2015): with `listen ... reuseport` nginx served
//! 2–3 times the requests per second of a shared socket, with lower latency. Run with real
//! nginx, loaded by herd's client; cannot run where nginx is missing.
use super::model::{ratio, show_ratio, ChartKind, Experiment, Finding, Observed, Step};
use super::nginx::{find_nginx, NginxConf};

pub const EXPERIMENT: Experiment = Experiment {
    name: "nginx-sharding",
    title: "nginx socket sharding: reuseport against a shared socket",
    source: "Andrew Hutchings, \"Socket Sharding in NGINX Release 1.9.1\", NGINX blog, \
             2015-05-26, https://www.nginx.com/blog/socket-sharding-nginx-release-1-9-1/",
    setup: "nginx 1.9.1 with 4 worker processes on a 36-core AWS instance, loaded with wrk, \
            serving a tiny response: with one SO_REUSEPORT socket per worker (`listen ... \
            reuseport`) against the shared socket with accept_mutex on (1.9.1's default) or \
            off, the post reports 2 to 3 times the requests per second and a lower, steadier \
            latency. Here nginx runs with 2 workers (this machine's cores, which herd's client \
            shares), loaded by herd's client with 64 connections of 100 requests each: what \
            2 cores can show is whether reuseport removes a bottleneck when client and \
            server compete for the same CPUs, not the many-core contention on one accept \
            queue that the original measured.",
    expected: "reuseport serves at least 2 times the requests per second of the shared socket, \
               with accept_mutex on and with it off, and its mean latency is lower than both.",
    missing: || find_nginx().err(),
    steps,
    judge,
    chart: ChartKind::None,
};

const CONFS: [(&str, bool, bool); 3] = [
    ("accept_mutex on", false, true),
    ("accept_mutex off", false, false),
    ("reuseport", true, false),
];

fn steps(quick: bool) -> Vec<Step> {
    let [d, w] = super::model::timing(quick, "--duration=5s");
    CONFS
        .iter()
        .map(|&(label, reuseport, accept_mutex)| Step::Nginx {
            label,
            conf: NginxConf {
                workers: 2,
                reuseport,
                accept_mutex,
            },
            args: [
                "--concurrency=64",
                "--requests-per-conn=100",
                "--worker-header=X-Worker",
                d,
                w,
            ]
            .iter()
            .map(|a| a.to_string())
            .chain([format!("--label=nginx {label}")])
            .collect(),
        })
        .collect()
}

pub fn judge(obs: &Observed) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some((rp, _)) = obs.run("reuseport") else {
        out.push(Finding::missing("reuseport", "a run", "reuseport"));
        return out;
    };
    for shared in ["accept_mutex on", "accept_mutex off"] {
        let Some((s, _)) = obs.run(shared) else {
            out.push(Finding::missing(shared, "a run", shared));
            continue;
        };
        let r = ratio(rp.requests_per_s, s.requests_per_s);
        out.push(
            Finding::new(
                &format!("requests/s, reuseport / {shared}"),
                "≥ 2",
                format!(
                    "{} ({:.0} / {:.0})",
                    show_ratio(r),
                    rp.requests_per_s,
                    s.requests_per_s
                ),
                r >= 2.0,
            )
            .unless(
                "2 cores shared with the client: the CPUs, not contention on one accept \
                 queue, bound the rate",
            ),
        );
        let (a, b) = (rp.latency_mean_us, s.latency_mean_us);
        let ms = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{:.2} ms", v / 1e3));
        out.push(
            Finding::new(
                &format!("mean latency, reuseport against {shared}"),
                "lower",
                format!("{} against {}", ms(a), ms(b)),
                matches!((a, b), (Some(a), Some(b)) if a < b),
            )
            .unless("with the rate bound by the CPUs, the latency is too"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::reproduce::model::{Measured, Verdict};
    use crate::report::row::RunRow;

    fn obs(shared_rps: f64, rp_rps: f64, shared_ms: f64, rp_ms: f64) -> Observed {
        let mut o = Observed::default();
        for (l, rps, ms) in [
            ("accept_mutex on", shared_rps, shared_ms),
            ("accept_mutex off", shared_rps, shared_ms),
            ("reuseport", rp_rps, rp_ms),
        ] {
            let row = RunRow {
                requests_per_s: rps,
                latency_mean_us: Some(ms * 1e3),
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
        o
    }

    #[test]
    fn two_and_a_half_times_the_rate_at_lower_latency_reproduces() {
        let f = judge(&obs(10_000.0, 25_000.0, 15.6, 12.3));
        assert_eq!(f.len(), 4);
        assert!(f.iter().all(|f| f.verdict == Verdict::Reproduced), "{f:?}");
    }

    #[test]
    fn the_same_rate_and_latency_do_not() {
        let f = judge(&obs(10_000.0, 10_500.0, 6.0, 6.1));
        assert!(
            f.iter().all(|f| f.verdict == Verdict::NotReproduced),
            "{f:?}"
        );
        assert!(judge(&Observed::default())
            .iter()
            .all(|f| f.verdict == Verdict::NotReproduced));
    }
}
