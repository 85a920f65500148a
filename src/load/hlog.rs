//! Histograms in HdrHistogram's interchange format, so that runs from several client processes
//! or hosts can be combined exactly (percentiles cannot be averaged; histograms can be added).
//! A run writes one interval log (`.hlog`, the format of Java's HistogramLogWriter: one line
//! per histogram, V2-deflate-compressed and base64-encoded), with one interval per metric,
//! told apart by its `Tag=`. Values are nanoseconds.
use crate::Error;
use base64::Engine as _;
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag,
};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Write `hists` (tag, histogram) as one interval each, covering `start` + `elapsed`.
pub fn write(
    path: &Path,
    comment: &str,
    start: SystemTime,
    elapsed: Duration,
    hists: &[(&str, &Histogram<u64>)],
) -> Result<(), Error> {
    let mut buf = Vec::new();
    let mut ser = V2DeflateSerializer::new();
    {
        let mut log = IntervalLogWriterBuilder::new()
            .add_comment(comment)
            .add_comment("values in nanoseconds; herd merge FILES... combines logs")
            .with_start_time(start)
            .with_base_time(start)
            .with_max_value_divisor(1e6)
            .begin_log_with(&mut buf, &mut ser)
            .map_err(|e| Error::file(path, e))?;
        for (tag, h) in hists {
            let tag = Tag::new(tag).ok_or_else(|| Error::Run(format!("bad hlog tag {tag}")))?;
            log.write_histogram(*h, Duration::ZERO, elapsed, Some(tag))
                .map_err(|e| Error::Run(format!("{}: {e:?}", path.display())))?;
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))?;
    }
    // A log that cannot be written whole (a full disk) is not left cut short.
    std::fs::write(path, buf).map_err(|e| {
        let _ = std::fs::remove_file(path);
        Error::file(path, e)
    })
}

/// Read every interval of a log: (tag, histogram); untagged intervals get the tag `""`.
pub fn read(path: &Path) -> Result<Vec<(String, Histogram<u64>)>, Error> {
    let text = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    let bad = |why: String| Error::Usage(format!("{}: not a histogram log: {why}", path.display()));
    let mut out = Vec::new();
    let mut de = Deserializer::new();
    for entry in IntervalLogIterator::new(&text) {
        let LogEntry::Interval(i) = entry.map_err(|e| bad(format!("{e:?}")))? else {
            continue;
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(i.encoded_histogram())
            .map_err(|e| bad(e.to_string()))?;
        let h: Histogram<u64> = de
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| bad(format!("{e:?}")))?;
        out.push((
            i.tag().map(|t| t.as_str().to_string()).unwrap_or_default(),
            h,
        ));
    }
    if out.is_empty() {
        return Err(bad("no histograms in it".into()));
    }
    Ok(out)
}

/// The `key=value` pairs of a log's `#herd ...` comment line (what run wrote it, and under
/// which load); empty for a log written by something else.
pub fn describe(path: &Path) -> Result<Vec<(String, String)>, Error> {
    let text = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    let text = String::from_utf8_lossy(&text);
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("#herd "))
        .map(|rest| {
            rest.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default())
}

/// Add up histograms by tag, in order of first appearance.
pub fn merge(
    parts: impl IntoIterator<Item = (String, Histogram<u64>)>,
) -> Result<Vec<(String, Histogram<u64>)>, Error> {
    let mut merged: Vec<(String, Histogram<u64>)> = Vec::new();
    for (tag, h) in parts {
        let slot = match merged.iter().position(|(t, _)| *t == tag) {
            Some(i) => &mut merged[i].1,
            None => {
                let mut fresh = Histogram::<u64>::new(h.sigfig())
                    .map_err(|e| Error::Run(format!("histogram: {e:?}")))?;
                fresh.auto(true);
                merged.push((tag, fresh));
                &mut merged.last_mut().expect("just pushed").1
            }
        };
        slot.add(&h)
            .map_err(|e| Error::Run(format!("adding histograms: {e:?}")))?;
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::stats::histogram;

    #[test]
    fn merging_two_logs_equals_the_histogram_of_all_values() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = fastrand::Rng::with_seed(7);
        let (mut a, mut b, mut all) = (histogram(), histogram(), histogram());
        let mut conn = histogram();
        for i in 0..20_000u64 {
            // Spread over six decades, so many buckets are involved.
            let v = 1_000 + (rng.f64().powi(4) * 1e9) as u64;
            all.record(v).unwrap();
            if i % 3 == 0 { a.record(v) } else { b.record(v) }.unwrap();
        }
        conn.record(42).unwrap();
        let t = SystemTime::now();
        let (pa, pb) = (dir.path().join("a.hlog"), dir.path().join("b.hlog"));
        write(
            &pa,
            "a",
            t,
            Duration::from_secs(1),
            &[("latency", &a), ("connect", &conn)],
        )
        .unwrap();
        write(&pb, "b", t, Duration::from_secs(1), &[("latency", &b)]).unwrap();
        let parts = read(&pa).unwrap().into_iter().chain(read(&pb).unwrap());
        let merged = merge(parts).unwrap();
        assert_eq!(merged.len(), 2);
        let (tag, m) = &merged[0];
        assert_eq!(tag, "latency");
        assert_eq!(m.len(), all.len());
        // Same counts in every bucket: same values at every quantile.
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0] {
            assert_eq!(m.value_at_quantile(q), all.value_at_quantile(q), "q={q}");
        }
        let buckets = |h: &Histogram<u64>| -> Vec<(u64, u64)> {
            h.iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect()
        };
        assert_eq!(buckets(m), buckets(&all));
        assert_eq!(merged[1].1.len(), 1);
    }

    #[test]
    fn the_herd_comment_describes_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.hlog");
        let h = histogram();
        write(
            &p,
            "herd run_id=1-2 arrivals=closed concurrency=8",
            SystemTime::now(),
            Duration::from_secs(1),
            &[("latency", &h)],
        )
        .unwrap();
        let d = describe(&p).unwrap();
        assert_eq!(d[0], ("run_id".into(), "1-2".into()));
        assert_eq!(d[2], ("concurrency".into(), "8".into()));
    }

    #[test]
    fn garbage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.hlog");
        std::fs::write(&p, "hello\n").unwrap();
        assert!(matches!(read(&p), Err(Error::Usage(_))));
    }
}
