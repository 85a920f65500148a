//! The live line of a long phase: connections per second, errors and the corrected p99 so far.
//! Each client thread copies its figures into its own slot a few times a second; a display
//! thread merges the slots, so the hot loop never waits on another thread.
use super::stats::{histogram, quantile_us, Stats};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Slot {
    ok: u64,
    errors: u64,
    latency: Histogram<u64>,
}

pub struct Progress {
    slots: Vec<Mutex<Slot>>,
}

impl Progress {
    pub fn new(threads: usize) -> Self {
        Progress {
            slots: (0..threads)
                .map(|_| {
                    Mutex::new(Slot {
                        ok: 0,
                        errors: 0,
                        latency: histogram(),
                    })
                })
                .collect(),
        }
    }

    /// Thread `thread`'s figures so far.
    pub fn publish(&self, thread: usize, s: &Stats) {
        if let Some(Ok(mut slot)) = self.slots.get(thread).map(Mutex::lock) {
            slot.ok = s.ok;
            slot.errors = s.errors_total();
            slot.latency.set_to(&s.latency).ok();
        }
    }

    /// Every thread's figures merged: (ok, errors, p99 in µs).
    fn totals(&self) -> (u64, u64, Option<f64>) {
        let mut h = histogram();
        let (mut ok, mut errors) = (0, 0);
        for slot in &self.slots {
            if let Ok(s) = slot.lock() {
                ok += s.ok;
                errors += s.errors;
                let _ = h.add(&s.latency);
            }
        }
        (ok, errors, quantile_us(&h, 0.99))
    }

    /// Show the line until `done` is raised (call from a thread of its own).
    pub fn display(&self, label: &str, done: &AtomicBool) {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {prefix} {elapsed} {msg}") {
            bar.set_style(style);
        }
        bar.set_prefix(label.to_string());
        let start = Instant::now();
        while !done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            let (ok, errors, p99) = self.totals();
            let secs = start.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{:.0} req/s, {ok} ok, {errors} errors, p99 {} us",
                ok as f64 / secs,
                p99.map_or_else(|| "n/a".into(), |p| format!("{p:.0}"))
            ));
            bar.tick();
        }
        bar.finish_and_clear();
    }
}
