//! What the load generator measures: outcomes by kind and HDR latency histograms, kept per
//! client thread and merged at the end (nothing is kept per request).
use hdrhistogram::Histogram;
use serde::Serialize;

/// Why a connection failed, from the client's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// connect() was refused (nothing listening, or the accept queue overflowed with
    /// tcp_abort_on_overflow).
    Refused,
    /// The connection was reset or aborted.
    Reset,
    /// Not completed within `--timeout`.
    Timeout,
    /// The server closed before a complete response.
    ShortResponse,
    /// A response that is not `200` or does not parse.
    BadResponse,
    /// No local address or port was available for the connection.
    AddrNotAvail,
    /// Anything else.
    Other,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Refused,
        ErrorKind::Reset,
        ErrorKind::Timeout,
        ErrorKind::ShortResponse,
        ErrorKind::BadResponse,
        ErrorKind::AddrNotAvail,
        ErrorKind::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Refused => "refused",
            ErrorKind::Reset => "reset",
            ErrorKind::Timeout => "timeout",
            ErrorKind::ShortResponse => "short_response",
            ErrorKind::BadResponse => "bad_response",
            ErrorKind::AddrNotAvail => "addr_not_avail",
            ErrorKind::Other => "other",
        }
    }

    pub fn from_io(e: &std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::ConnectionRefused => ErrorKind::Refused,
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => ErrorKind::Reset,
            K::TimedOut => ErrorKind::Timeout,
            K::AddrNotAvailable => ErrorKind::AddrNotAvail,
            K::UnexpectedEof => ErrorKind::ShortResponse,
            _ => ErrorKind::Other,
        }
    }
}

/// The range a histogram covers when it is made: 10 minutes. A larger value grows it (auto
/// resize), so no value is dropped or clamped; values below 1 ns are recorded as 1 ns.
const INITIAL_MAX_NS: u64 = 600_000_000_000;

/// A latency histogram in nanoseconds, 3 significant digits, growing as values need.
pub fn histogram() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, INITIAL_MAX_NS, 3).expect("valid histogram bounds");
    h.auto(true);
    h
}

/// Record `v` ns (at least 1) in `h`; false if it could not be recorded (no memory to grow).
fn put(h: &mut Histogram<u64>, v: u64) -> bool {
    h.record(v.max(1)).is_ok()
}

/// One client thread's (or, merged, the whole run's) measurements.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Connections that completed with a good response.
    pub ok: u64,
    pub errors: [u64; ErrorKind::ALL.len()],
    /// Intended start to response complete (for a closed loop the intended start is the
    /// actual one).
    pub latency: Histogram<u64>,
    /// Actual start to response complete: differs from `latency` only in an open loop.
    pub raw_latency: Histogram<u64>,
    /// connect() call to connection established, as the client saw it.
    pub connect: Histogram<u64>,
    /// connect() call to the worker's accept() return (from the X-Herd-Accept-Ns header):
    /// handshake plus time in the accept queue. Only against `herd serve`.
    pub accept_delay: Histogram<u64>,
    /// Completed connections per server worker (from the X-Herd-Worker header).
    pub per_worker: Vec<u64>,
    /// Connections that completed every request with a good response (`ok` counts
    /// requests; the two differ with `--requests-per-conn` above 1).
    pub conns_ok: u64,
    /// Open loop: actual start minus intended start of every scheduled connection (for one
    /// never started, the phase's end minus its intended start).
    pub lateness: Histogram<u64>,
    /// Open loop: connections started more than [`LATE_NS`] after their intended time, or never.
    pub late_conns: u64,
    /// Open loop: scheduled connections the phase ended before the generator could start.
    pub unstarted_conns: u64,
    /// Accept delay per server worker (index = X-Herd-Worker), allocated for workers seen.
    pub per_worker_accept: Vec<Option<Histogram<u64>>>,
    /// CPU time (user + system) the client threads spent in the phase.
    pub cpu_ns: u64,
    /// Completed connections per value of the `--worker-header` response header (a PID or an
    /// index: any number a server names its workers by, so kept sparse).
    pub per_worker_id: std::collections::BTreeMap<u64, u64>,
    /// Values that no histogram could take (it could not grow): a run with any is refused
    /// rather than reported with its slowest values missing.
    pub unrecorded: u64,
    /// Complete responses by status class: 2xx, 3xx, 4xx, 5xx (they add up to `ok`).
    pub status: [u64; 4],
}

/// A connection that starts later than this after its intended time counts as late.
pub const LATE_NS: u64 = 1_000_000;

/// Per-worker accept-delay histograms: 2 significant digits (1%) keeps one per worker per
/// thread at about 30 KB, so 1024 workers stay affordable.
pub fn worker_histogram() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, INITIAL_MAX_NS, 2).expect("valid histogram bounds");
    h.auto(true);
    h
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            ok: 0,
            errors: [0; ErrorKind::ALL.len()],
            latency: histogram(),
            raw_latency: histogram(),
            connect: histogram(),
            accept_delay: histogram(),
            per_worker: Vec::new(),
            conns_ok: 0,
            lateness: histogram(),
            late_conns: 0,
            unstarted_conns: 0,
            per_worker_accept: Vec::new(),
            cpu_ns: 0,
            per_worker_id: Default::default(),
            unrecorded: 0,
            status: [0; 4],
        }
    }
}

impl Stats {
    /// The histograms a run writes, by the name used in latency.csv and as the .hlog tag.
    pub fn histograms(&self) -> [(&'static str, &Histogram<u64>); 5] {
        [
            ("latency", &self.latency),
            ("raw_latency", &self.raw_latency),
            ("connect", &self.connect),
            ("accept_delay", &self.accept_delay),
            ("lateness", &self.lateness),
        ]
    }

    pub fn error(&mut self, kind: ErrorKind) {
        self.errors[kind as usize] += 1;
    }

    pub fn errors_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors[kind as usize]
    }

    /// Errors outside the four kinds reported in their own CSV columns (refused, reset,
    /// timeout, short): bad responses, no local address, anything else (`err_other`).
    pub fn errors_other(&self) -> u64 {
        self.errors_of(ErrorKind::BadResponse)
            + self.errors_of(ErrorKind::AddrNotAvail)
            + self.errors_of(ErrorKind::Other)
    }

    /// A complete response with status `code` (200 to 599).
    pub fn count_status(&mut self, code: u16) {
        if let Some(n) = (code / 100)
            .checked_sub(2)
            .and_then(|c| self.status.get_mut(usize::from(c)))
        {
            *n += 1;
        }
    }

    pub fn count_worker(&mut self, worker: usize) {
        if worker >= self.per_worker.len() {
            self.per_worker.resize(worker + 1, 0);
        }
        self.per_worker[worker] += 1;
    }

    fn count_unrecorded(&mut self, recorded: bool) {
        self.unrecorded += u64::from(!recorded);
    }

    /// One connection's start, `late_ns` after its intended time.
    pub fn record_lateness(&mut self, late_ns: u64) {
        let ok = put(&mut self.lateness, late_ns);
        self.count_unrecorded(ok);
        if late_ns > LATE_NS {
            self.late_conns += 1;
        }
    }

    /// connect() to established.
    pub fn record_connect(&mut self, ns: u64) {
        let ok = put(&mut self.connect, ns);
        self.count_unrecorded(ok);
    }

    /// One response: its latency from the intended start and from the actual one.
    pub fn record_latency(&mut self, corrected_ns: u64, raw_ns: u64) {
        let ok = put(&mut self.latency, corrected_ns) & put(&mut self.raw_latency, raw_ns);
        self.count_unrecorded(ok);
    }

    /// A connection's accept delay, overall and for its worker.
    pub fn record_accept(&mut self, worker: Option<usize>, delay_ns: u64) {
        let mut ok = put(&mut self.accept_delay, delay_ns);
        if let Some(w) = worker {
            if w >= self.per_worker_accept.len() {
                self.per_worker_accept.resize_with(w + 1, || None);
            }
            ok &= put(
                self.per_worker_accept[w].get_or_insert_with(worker_histogram),
                delay_ns,
            );
        }
        self.count_unrecorded(ok);
    }

    pub fn merge(&mut self, other: &Stats) {
        self.ok += other.ok;
        for (a, b) in self.errors.iter_mut().zip(other.errors) {
            *a += b;
        }
        // The histograms grow to take any value of the other's, so adding fails only for lack
        // of memory; what could not be added is counted, not dropped silently.
        let mut lost = 0;
        for (a, b) in [
            (&mut self.latency, &other.latency),
            (&mut self.raw_latency, &other.raw_latency),
            (&mut self.connect, &other.connect),
            (&mut self.accept_delay, &other.accept_delay),
            (&mut self.lateness, &other.lateness),
        ] {
            if a.add(b).is_err() {
                lost += b.len();
            }
        }
        if other.per_worker.len() > self.per_worker.len() {
            self.per_worker.resize(other.per_worker.len(), 0);
        }
        for (a, b) in self.per_worker.iter_mut().zip(&other.per_worker) {
            *a += b;
        }
        self.conns_ok += other.conns_ok;
        self.late_conns += other.late_conns;
        self.unstarted_conns += other.unstarted_conns;
        self.cpu_ns += other.cpu_ns;
        for (&id, &n) in &other.per_worker_id {
            *self.per_worker_id.entry(id).or_insert(0) += n;
        }
        self.unrecorded += other.unrecorded;
        for (a, b) in self.status.iter_mut().zip(other.status) {
            *a += b;
        }
        if other.per_worker_accept.len() > self.per_worker_accept.len() {
            self.per_worker_accept
                .resize_with(other.per_worker_accept.len(), || None);
        }
        for (a, b) in self
            .per_worker_accept
            .iter_mut()
            .zip(&other.per_worker_accept)
        {
            if let Some(b) = b {
                if a.get_or_insert_with(worker_histogram).add(b).is_err() {
                    lost += b.len();
                }
            }
        }
        self.unrecorded += lost;
    }
}

/// A value at `q` (0..=1) of a nanosecond histogram, in microseconds; `None` when the histogram
/// is empty (nothing was measured, which is not a latency of 0).
pub fn quantile_us(h: &Histogram<u64>, q: f64) -> Option<f64> {
    (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_counts_and_histograms() {
        let mut a = Stats::default();
        let mut b = Stats::default();
        a.ok = 2;
        a.latency.record(1_000).unwrap();
        a.count_worker(1);
        b.ok = 3;
        b.latency.record(9_000_000).unwrap();
        b.error(ErrorKind::Reset);
        b.count_worker(3);
        a.count_status(200);
        b.count_status(404);
        b.count_status(503);
        b.count_status(299);
        a.merge(&b);
        assert_eq!(a.status, [2, 0, 1, 1]);
        assert_eq!(a.ok, 5);
        assert_eq!(a.errors_of(ErrorKind::Reset), 1);
        assert_eq!(a.latency.len(), 2);
        assert_eq!(a.per_worker, vec![0, 1, 0, 1]);
        assert!((quantile_us(&a.latency, 1.0).unwrap() - 9000.0).abs() < 9.0);
    }

    #[test]
    fn an_empty_histogram_has_no_percentiles() {
        let s = Stats::default();
        assert_eq!(quantile_us(&s.accept_delay, 0.5), None);
        assert_eq!(quantile_us(&s.lateness, 1.0), None);
    }

    #[test]
    fn a_value_beyond_ten_minutes_is_kept_not_dropped() {
        let mut a = Stats::default();
        let hour = 3_600_000_000_000;
        a.record_latency(hour, hour);
        a.record_accept(Some(1), hour);
        a.record_lateness(2 * hour);
        let mut b = Stats::default();
        b.record_latency(1_000, 1_000);
        b.merge(&a);
        assert_eq!(b.unrecorded, 0);
        assert_eq!(b.latency.len(), 2);
        let max = quantile_us(&b.latency, 1.0).unwrap();
        assert!((max / 3.6e9 - 1.0).abs() < 1e-3, "max {max} us");
        let w1 = b.per_worker_accept[1].as_ref().unwrap();
        assert!((w1.max() as f64 / hour as f64 - 1.0).abs() < 1e-2);
        assert!(quantile_us(&b.lateness, 1.0).unwrap() >= 7.19e9);
    }

    #[test]
    fn per_worker_accept_and_lateness_merge() {
        let mut a = Stats::default();
        let mut b = Stats::default();
        a.record_accept(Some(0), 10_000);
        b.record_accept(Some(2), 20_000);
        b.record_accept(Some(0), 30_000);
        a.record_lateness(10);
        b.record_lateness(2 * LATE_NS);
        a.merge(&b);
        assert_eq!(a.accept_delay.len(), 3);
        let w0 = a.per_worker_accept[0].as_ref().unwrap();
        assert_eq!(w0.len(), 2);
        assert!(a.per_worker_accept[1].is_none());
        assert_eq!(a.per_worker_accept[2].as_ref().unwrap().len(), 1);
        assert_eq!(a.lateness.len(), 2);
        assert_eq!(a.late_conns, 1);
    }
}
