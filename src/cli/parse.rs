//! Value parsers shared by several subcommands: durations, rates, and strategy choices.
use crate::strategy::{split_supported, StrategyKind, WorkerModel};
use crate::Error;
use clap::ValueEnum;
use std::time::Duration;

/// A number with an optional SI suffix, as wrk and oha take them: `10k` (10^3), `1.5M` (10^6),
/// `2G` (10^9), either case; a bare number as it is.
fn si(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 1e3),
        Some((i, 'm' | 'M')) => (&t[..i], 1e6),
        Some((i, 'g' | 'G')) => (&t[..i], 1e9),
        _ => (t, 1.0),
    };
    match num.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v * scale),
        _ => Err(format!("`{s}` is not a number (e.g. 500, 10k, 1.5M)")),
    }
}

/// A connection rate with an optional SI suffix (`10k`): above 0 and at most 10 million per
/// second (far beyond what one client host can start; the bound keeps a schedule's bookkeeping
/// finite).
pub fn parse_rate(s: &str) -> Result<f64, String> {
    match si(s)? {
        r if r > 0.0 && r <= 1e7 => Ok(r),
        _ => Err("must be above 0 and at most 10M connections per second".into()),
    }
}

/// A whole count with an optional SI suffix (`10k`, `1.5M`), from `min` to `max`: the value
/// parser of every count flag (`-c`, `-n`, `--burst`, ...).
pub fn count(min: u64, max: u64) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync {
    move |s: &str| {
        let v = si(s)?;
        if v.fract() != 0.0 || v < 0.0 {
            return Err(format!("`{s}` is not a whole number"));
        }
        if v < min as f64 || v > max as f64 {
            return Err(format!("must be from {min} to {max}"));
        }
        Ok(v as u64)
    }
}

/// [`count`] for a `u32` flag.
pub fn count32(min: u32, max: u32) -> impl Fn(&str) -> Result<u32, String> + Clone + Send + Sync {
    let c = count(u64::from(min), u64::from(max));
    move |s: &str| c(s).map(|v| v as u32)
}

/// A listening address: `IP:PORT`, or `HOST:PORT` with the host resolved as `--url`'s is (IPv4
/// preferred), so that `localhost:0` works where `--url http://localhost/` does.
pub fn parse_addr(s: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(a) = s.parse() {
        return Ok(a);
    }
    let addrs: Vec<std::net::SocketAddr> = s
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {s}: {e} (expected HOST:PORT, e.g. 127.0.0.1:0)"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("{s} has no address"))
}

/// `5s`, `250ms`, `1m`, `1500us`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(Duration::from_secs_f64(secs));
        }
    }
    humantime::parse_duration(s).map_err(|e| format!("{e} (expected e.g. 5s, 250ms, 1m)"))
}

/// One strategy, or all of them (`--strategy all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyChoice {
    All,
    One(StrategyKind),
}

impl StrategyChoice {
    /// The strategies to run in worker model `model`: one the kernel lacks, or that has no
    /// form in the model, is a usage error when asked for by name, and skipped with a message
    /// on stderr (prefixed with `cmd`) when part of `all`.
    pub fn supported_kinds(
        self,
        cmd: &str,
        model: WorkerModel,
    ) -> Result<Vec<StrategyKind>, Error> {
        match self {
            StrategyChoice::One(k) => {
                supported(k)?;
                in_model(k, model)?;
                Ok(vec![k])
            }
            StrategyChoice::All => Ok(skip_other_models(
                &skip_unsupported(StrategyKind::ALL, cmd),
                model,
                cmd,
            )),
        }
    }
}

/// `--strategy all` or one strategy's name.
pub fn parse_strategy_choice(s: &str) -> Result<StrategyChoice, String> {
    if s.eq_ignore_ascii_case("all") {
        return Ok(StrategyChoice::All);
    }
    StrategyKind::from_str(s, true)
        .map(StrategyChoice::One)
        .map_err(|_| format!("expected `all` or one of {}", known()))
}

/// A list of strategy names (`all` for every one), without repeats: an unknown name is a usage
/// error naming `flag`; those this kernel lacks are skipped with a message on stderr.
pub fn strategy_list(flag: &str, names: &[String], cmd: &str) -> Result<Vec<StrategyKind>, Error> {
    let mut picked: Vec<StrategyKind> = Vec::new();
    for name in names.iter().map(|n| n.trim()) {
        let kinds = if name.eq_ignore_ascii_case("all") {
            StrategyKind::ALL.to_vec()
        } else {
            vec![StrategyKind::from_str(name, true).map_err(|_| {
                Error::Usage(format!(
                    "{flag}: unknown strategy `{name}` (known: all, {})",
                    known()
                ))
            })?]
        };
        for k in kinds {
            if !picked.contains(&k) {
                picked.push(k);
            }
        }
    }
    Ok(skip_unsupported(&picked, cmd))
}

/// `--strategy S` for one run: S must be supported here.
pub fn supported(k: StrategyKind) -> Result<(), Error> {
    k.supported()
        .map_err(|why| Error::Usage(format!("--strategy {k}: {why}")))
}

/// `--strategy S` with `--worker-model M`: S must have a form in M.
pub fn in_model(k: StrategyKind, model: WorkerModel) -> Result<(), Error> {
    k.supports_model(model).map_err(|why| {
        Error::Usage(format!(
            "--strategy {k}: no --worker-model {model} form: {why}"
        ))
    })
}

/// Of `kinds`, those with a form in `model`; the others are named on stderr and skipped.
pub fn skip_other_models(
    kinds: &[StrategyKind],
    model: WorkerModel,
    cmd: &str,
) -> Vec<StrategyKind> {
    kinds
        .iter()
        .copied()
        .filter(|k| match k.supports_model(model) {
            Ok(()) => true,
            Err(why) => {
                eprintln!("{cmd}: skipping {k} (no --worker-model {model} form): {why}");
                false
            }
        })
        .collect()
}

fn skip_unsupported(kinds: &[StrategyKind], cmd: &str) -> Vec<StrategyKind> {
    let (ok, skipped) = split_supported(kinds);
    for (k, why) in skipped {
        eprintln!("{cmd}: skipping {k}: {why}");
    }
    ok
}

fn known() -> String {
    let names: Vec<_> = StrategyKind::ALL.iter().map(|k| k.name()).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_resolve_names_like_urls() {
        assert_eq!(
            parse_addr("127.0.0.1:0").unwrap().to_string(),
            "127.0.0.1:0"
        );
        let a = parse_addr("localhost:0").unwrap();
        assert!(a.ip().is_loopback() && a.port() == 0, "{a}");
        assert!(parse_addr("localhost").is_err(), "no port");
        assert!(parse_addr("no-such-host.invalid:80").is_err());
    }

    #[test]
    fn si_suffixes_for_rates_and_counts() {
        assert_eq!(parse_rate("10k"), Ok(10_000.0));
        assert_eq!(parse_rate("1.5M"), Ok(1_500_000.0));
        assert_eq!(parse_rate("250.5"), Ok(250.5));
        assert!(parse_rate("20M").is_err() && parse_rate("0").is_err());
        assert!(parse_rate("k").is_err() && parse_rate("10x").is_err());
        let n = count(1, u64::MAX);
        assert_eq!(n("10k"), Ok(10_000));
        assert_eq!(n("1.5M"), Ok(1_500_000));
        assert_eq!(n("2G"), Ok(2_000_000_000));
        assert_eq!(n("64"), Ok(64));
        assert!(n("1.0005k").unwrap_err().contains("whole"));
        assert!(n("0").is_err() && n("-3").is_err());
        assert!(count32(1, 100_000)("200k")
            .unwrap_err()
            .contains("1 to 100000"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn strategy_lists_dedupe_and_name_the_flag() {
        let l = strategy_list(
            "--strategies",
            &["blocking".into(), "sysv-sem".into(), "blocking".into()],
            "test",
        )
        .unwrap();
        assert_eq!(l, [StrategyKind::Blocking, StrategyKind::SysvSem]);
        let e = strategy_list("--strategies", &["nope".into()], "test").unwrap_err();
        assert!(e
            .to_string()
            .starts_with("--strategies: unknown strategy `nope`"));
        assert_eq!(parse_strategy_choice("ALL"), Ok(StrategyChoice::All));
        assert!(parse_strategy_choice("nope").is_err());
    }
}
