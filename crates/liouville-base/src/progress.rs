//! Progress of long work, visible wherever it runs: an indicatif bar on a terminal, and periodic
//! log lines (`label: 400/2000 steps (20 %), loss 1.2e-3, 85.1 steps/s, eta 19 s`) on stderr
//! when it is not one, so a run under a scheduler or `| tee` is not minutes of silence.
//!
//! One type for every long loop of the workspace (training, dataset generation, the integrator
//! showcase); it is `Sync`, so rayon workers can advance it.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often a log line is written when stderr is not a terminal.
pub const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// A progress reporter over `total` units of work (see the module docs).
pub struct Progress {
    label: String,
    unit: &'static str,
    total: u64,
    done: AtomicU64,
    start: Instant,
    sink: Sink,
}

enum Sink {
    Hidden,
    Bar(ProgressBar),
    Log(Mutex<LogState>),
}

struct LogState {
    out: Box<dyn Write + Send>,
    interval: Duration,
    last: Instant,
    message: String,
}

impl Progress {
    /// A bar on a terminal, log lines on stderr otherwise, nothing when `enabled` is false.
    pub fn new(label: &str, unit: &'static str, total: u64, enabled: bool) -> Self {
        let sink = if !enabled {
            Sink::Hidden
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            let template =
                format!("{{spinner}} {label} [{{bar:30}}] {{pos}}/{{len}} {unit} {{msg}} {{elapsed}} eta {{eta}}");
            bar.set_style(
                ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            Sink::Bar(bar)
        } else {
            return Self::logging(label, unit, total, LOG_INTERVAL, Box::new(std::io::stderr()));
        };
        Self::with_sink(label, unit, total, sink)
    }

    /// Log lines to `out` every `interval` (and one when the work ends), whatever stderr is.
    pub fn logging(
        label: &str,
        unit: &'static str,
        total: u64,
        interval: Duration,
        out: Box<dyn Write + Send>,
    ) -> Self {
        let state = LogState {
            out,
            interval,
            last: Instant::now(),
            message: String::new(),
        };
        Self::with_sink(label, unit, total, Sink::Log(Mutex::new(state)))
    }

    fn with_sink(label: &str, unit: &'static str, total: u64, sink: Sink) -> Self {
        Self {
            label: label.to_string(),
            unit,
            total,
            done: AtomicU64::new(0),
            start: Instant::now(),
            sink,
        }
    }

    /// Advances by `n` units.
    pub fn inc(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        match &self.sink {
            Sink::Hidden => {}
            Sink::Bar(bar) => bar.inc(n),
            Sink::Log(state) => {
                let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
                if s.last.elapsed() >= s.interval {
                    s.last = Instant::now();
                    self.write_line(&mut s, done);
                }
            }
        }
    }

    /// A short status shown beside the count (e.g. the current loss).
    pub fn set_message(&self, message: String) {
        match &self.sink {
            Sink::Hidden => {}
            Sink::Bar(bar) => bar.set_message(message),
            Sink::Log(state) => state.lock().unwrap_or_else(|e| e.into_inner()).message = message,
        }
    }

    /// The work ended (completed or stopped early): clears the bar, or writes a final log line.
    pub fn finish(&self) {
        match &self.sink {
            Sink::Hidden => {}
            Sink::Bar(bar) => bar.finish_and_clear(),
            Sink::Log(state) => {
                let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
                self.write_line(&mut s, self.done.load(Ordering::Relaxed));
            }
        }
    }

    /// The work failed: leaves the bar where it stopped.
    pub fn abandon(&self) {
        match &self.sink {
            Sink::Bar(bar) => bar.abandon(),
            _ => self.finish(),
        }
    }

    fn write_line(&self, s: &mut LogState, done: u64) {
        let seconds = self.start.elapsed().as_secs_f64();
        let rate = done as f64 / seconds.max(1e-9);
        let percent = 100.0 * done as f64 / self.total.max(1) as f64;
        let eta = if rate > 0.0 && done < self.total {
            format!(", eta {:.0} s", (self.total - done) as f64 / rate)
        } else {
            String::new()
        };
        let message = if s.message.is_empty() {
            String::new()
        } else {
            format!(", {}", s.message)
        };
        // A failed write to the log must not stop the work it reports on.
        let _ = writeln!(
            s.out,
            "{}: {done}/{} {} ({percent:.0} %){message}, {rate:.1} {}/s{eta}",
            self.label, self.total, self.unit, self.unit
        );
        let _ = s.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn off_a_terminal_progress_is_logged_periodically_and_at_the_end() {
        let sink = Shared::default();
        let p = Progress::logging("training", "steps", 100, Duration::ZERO, Box::new(sink.clone()));
        p.set_message("loss 1.0e-3".into());
        for _ in 0..3 {
            p.inc(10);
        }
        p.finish();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[0].starts_with("training: 10/100 steps (10 %), loss 1.0e-3, "),
            "{text}"
        );
        assert!(lines[3].starts_with("training: 30/100 steps (30 %)"), "{text}");
        assert!(lines[0].contains("steps/s") && lines[0].contains("eta"), "{text}");

        // With a long interval only the final line appears.
        let sink = Shared::default();
        let p = Progress::logging(
            "gen",
            "trajectories",
            5,
            Duration::from_secs(3600),
            Box::new(sink.clone()),
        );
        (0..5).for_each(|_| p.inc(1));
        p.finish();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with("gen: 5/5 trajectories (100 %)"), "{text}");
    }

    #[test]
    fn disabled_progress_writes_nothing_and_is_shareable() {
        fn sync<T: Sync>(_: &T) {}
        let p = Progress::new("x", "steps", 10, false);
        sync(&p);
        p.inc(3);
        p.finish();
    }
}
