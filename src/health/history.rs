//! Recent results of one check in memory: the last runs for sparklines and
//! percentiles, and per-minute buckets for uptime over 1 h and 24 h.

use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::time::Duration;

/// Runs kept for the sparkline and latency percentiles.
pub const SAMPLES: usize = 720;
/// Minutes kept for uptime (24 h).
pub const MINUTES: usize = 1440;

/// One run in 8 bytes: 720 of them for each of a thousand checks stay under
/// 6 MB. Whether it was good is counted in its minute's bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sample {
    /// Seconds since the Unix epoch (a u32 lasts until 2106).
    at_s: u32,
    /// Microseconds: loopback answers take well under a millisecond, and a
    /// trend kept in whole milliseconds would draw them as nothing.
    latency_us: u32,
}

/// Seconds since the epoch as samples keep them, for comparing with their `at_s`.
fn seconds_of(at: DateTime<Utc>) -> u32 {
    u32::try_from(at.timestamp().max(0)).unwrap_or(u32::MAX)
}

/// The runs of one minute, the unit the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bucket {
    /// Minutes since the Unix epoch.
    pub minute: i64,
    pub ok: u32,
    pub total: u32,
    pub latency_sum_ms: u64,
    pub latency_max_ms: u32,
    /// Runs the slow rule flagged as slower than normal: such minutes never count towards "normal".
    pub slow: u32,
}

/// A [`Bucket`] as the window keeps it, in 20 bytes instead of 32: counts
/// saturate at 65,535 runs a minute and 49 days of summed latency.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Minute {
    /// Minutes since the Unix epoch (a u32 lasts for 8,000 years).
    minute: u32,
    latency_sum_ms: u32,
    latency_max_ms: u32,
    ok: u16,
    total: u16,
    slow: u16,
}

impl Minute {
    fn at(minute: i64) -> Minute {
        Minute { minute: u32::try_from(minute.max(0)).unwrap_or(u32::MAX), ..Minute::default() }
    }

    fn of(bucket: Bucket) -> Minute {
        let small = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
        Minute {
            latency_sum_ms: u32::try_from(bucket.latency_sum_ms).unwrap_or(u32::MAX),
            latency_max_ms: bucket.latency_max_ms,
            ok: small(bucket.ok),
            total: small(bucket.total),
            slow: small(bucket.slow),
            ..Minute::at(bucket.minute)
        }
    }

    fn bucket(self) -> Bucket {
        Bucket {
            minute: i64::from(self.minute),
            ok: u32::from(self.ok),
            total: u32::from(self.total),
            latency_sum_ms: u64::from(self.latency_sum_ms),
            latency_max_ms: self.latency_max_ms,
            slow: u32::from(self.slow),
        }
    }

    fn minute(self) -> i64 {
        i64::from(self.minute)
    }
}

/// Fewer good minutes than this in the window make a poor "normal"; the slow rule waits.
pub const BASELINE_MIN_MINUTES: usize = 10;

/// The runs and minutes of one check, each window allocated once at its full
/// size (memory is only touched as it fills) so it never grows past
/// [`History::MAX_BYTES`] nor leaves the smaller copies of a doubling behind.
#[derive(Debug, Clone, Default)]
pub struct History {
    samples: VecDeque<Sample>,
    minutes: VecDeque<Minute>,
}

pub fn minute_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(60)
}

impl History {
    /// The most one check's history takes: what `settings.memory_budget` reserves for it.
    pub const MAX_BYTES: usize = SAMPLES * size_of::<Sample>() + MINUTES * size_of::<Minute>();

    pub fn record(&mut self, at: DateTime<Utc>, ok: bool, latency: Option<Duration>) {
        self.record_run(at, ok, latency, false);
    }

    /// Records one run; `slow` when the slow rule found it above normal.
    pub fn record_run(&mut self, at: DateTime<Utc>, ok: bool, latency: Option<Duration>, slow: bool) {
        let latency_ms = latency.map_or(0, |l| u32::try_from(l.as_millis()).unwrap_or(u32::MAX));
        let latency_us = latency.map_or(0, |l| u32::try_from(l.as_micros()).unwrap_or(u32::MAX));
        if self.samples.len() == SAMPLES {
            self.samples.pop_front();
        }
        self.samples.reserve_exact(SAMPLES - self.samples.len());
        self.samples.push_back(Sample { at_s: seconds_of(at), latency_us });
        let minute = minute_of(at);
        if self.minutes.back().is_none_or(|b| b.minute() != minute) {
            self.push_minute(Minute::at(minute));
        }
        if let Some(bucket) = self.minutes.back_mut() {
            bucket.total = bucket.total.saturating_add(1);
            bucket.ok = bucket.ok.saturating_add(u16::from(ok));
            bucket.latency_sum_ms = bucket.latency_sum_ms.saturating_add(latency_ms);
            bucket.latency_max_ms = bucket.latency_max_ms.max(latency_ms);
            bucket.slow = bucket.slow.saturating_add(u16::from(slow));
        }
    }

    /// The usual latency: the median of the per-minute mean latencies within `window`
    /// before `now`, over minutes whose runs were all good and none flagged slow.
    /// `None` with fewer than [`BASELINE_MIN_MINUTES`] such minutes.
    pub fn baseline(&self, now: DateTime<Utc>, window: Duration) -> Option<u32> {
        let last = minute_of(now);
        let first = last - (window.as_secs() / 60) as i64;
        let mut means: Vec<u64> = self
            .minutes
            .iter()
            .rev()
            .skip_while(|b| b.minute() > last)
            .take_while(|b| b.minute() > first)
            .filter(|b| b.total > 0 && b.ok == b.total && b.slow == 0)
            .map(|b| u64::from(b.latency_sum_ms) / u64::from(b.total))
            .collect();
        if means.len() < BASELINE_MIN_MINUTES {
            return None;
        }
        let middle = means.len() / 2;
        let (_, median, _) = means.select_nth_unstable(middle);
        Some(u32::try_from(*median).unwrap_or(u32::MAX))
    }

    /// Adds buckets loaded from the store (oldest first), before any live run.
    pub fn preload(&mut self, buckets: impl IntoIterator<Item = Bucket>) {
        for bucket in buckets {
            if self.minutes.back().is_some_and(|b| b.minute() >= bucket.minute) {
                continue;
            }
            self.push_minute(Minute::of(bucket));
        }
    }

    fn push_minute(&mut self, bucket: Minute) {
        if self.minutes.len() == MINUTES {
            self.minutes.pop_front();
        }
        self.minutes.reserve_exact(MINUTES - self.minutes.len());
        self.minutes.push_back(bucket);
    }

    /// Bytes the windows hold allocated now, at most [`History::MAX_BYTES`].
    #[cfg(test)]
    fn allocated(&self) -> usize {
        self.samples.capacity() * size_of::<Sample>() + self.minutes.capacity() * size_of::<Minute>()
    }

    /// Share of good runs within `window` before `now`, or `None` without runs.
    pub fn uptime(&self, now: DateTime<Utc>, window: Duration) -> Option<f64> {
        let last = minute_of(now);
        let first = last - (window.as_secs() / 60) as i64;
        let (ok, total) = self
            .minutes
            .iter()
            .rev()
            .skip_while(|b| b.minute() > last)
            .take_while(|b| b.minute() > first)
            .fold((0u64, 0u64), |(ok, total), b| (ok + u64::from(b.ok), total + u64::from(b.total)));
        (total > 0).then(|| ok as f64 * 100.0 / total as f64)
    }

    /// Latency percentiles (0..=100) over the runs within `window`.
    pub fn percentile(&self, now: DateTime<Utc>, window: Duration, pct: f64) -> Option<u32> {
        let since = seconds_of(now - chrono::Duration::from_std(window).unwrap_or_default());
        let mut values: Vec<u32> =
            self.samples.iter().rev().take_while(|s| s.at_s >= since).map(|s| s.latency_us / 1000).collect();
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let rank = ((pct / 100.0) * (values.len() - 1) as f64).round() as usize;
        values.get(rank.min(values.len() - 1)).copied()
    }

    /// The last `count` latencies in microseconds, oldest first, for a sparkline.
    pub fn latencies(&self, count: usize) -> Vec<u64> {
        let skip = self.samples.len().saturating_sub(count);
        self.samples.iter().skip(skip).map(|s| u64::from(s.latency_us)).collect()
    }

    pub fn samples_in(&self, now: DateTime<Utc>, window: Duration) -> usize {
        let since = seconds_of(now - chrono::Duration::from_std(window).unwrap_or_default());
        self.samples.iter().rev().take_while(|s| s.at_s >= since).count()
    }

    pub fn last_bucket(&self) -> Option<Bucket> {
        self.minutes.back().map(|b| b.bucket())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + chrono::Duration::seconds(1_000_000 + seconds)
    }

    #[test]
    fn uptime_counts_good_runs_in_the_window() {
        let mut history = History::default();
        for i in 0..120 {
            // One run every 30 s for an hour; every fourth fails.
            history.record(at(i * 30), i % 4 != 0, Some(Duration::from_millis(10 + i as u64)));
        }
        let now = at(119 * 30);
        let hour = history.uptime(now, Duration::from_secs(3600)).unwrap();
        assert!((hour - 75.0).abs() < 1.0, "{hour}");
        assert_eq!(history.uptime(at(-10_000), Duration::from_secs(60)), None);
        assert!(history.uptime(now, Duration::from_secs(86_400)).unwrap() > 74.0);
    }

    #[test]
    fn percentiles_and_sparkline() {
        let mut history = History::default();
        for i in 1..=100 {
            history.record(at(i), true, Some(Duration::from_millis(i as u64)));
        }
        let now = at(100);
        assert_eq!(history.percentile(now, Duration::from_secs(3600), 50.0), Some(51));
        assert_eq!(history.percentile(now, Duration::from_secs(3600), 95.0), Some(95));
        assert_eq!(history.latencies(3), vec![98_000, 99_000, 100_000]);
        assert_eq!(history.samples_in(now, Duration::from_secs(9)), 10);
    }

    #[test]
    fn sub_millisecond_latencies_are_kept_for_the_sparkline() {
        let mut history = History::default();
        history.record(at(1), true, Some(Duration::from_micros(700)));
        history.record(at(2), true, Some(Duration::from_micros(350)));
        assert_eq!(history.latencies(2), vec![700, 350], "not rounded down to nothing");
    }

    #[test]
    fn the_baseline_leaves_out_slow_and_failed_minutes() {
        let mut history = History::default();
        // Twelve normal minutes at 20 ms, then twenty slow ones at 500 ms and five failed ones.
        for minute in 0..12 {
            history.record_run(at(minute * 60), true, Some(Duration::from_millis(20)), false);
        }
        for minute in 12..32 {
            history.record_run(at(minute * 60), true, Some(Duration::from_millis(500)), true);
        }
        for minute in 32..37 {
            history.record_run(at(minute * 60), false, Some(Duration::from_millis(900)), false);
        }
        let now = at(37 * 60);
        assert_eq!(history.baseline(now, Duration::from_secs(86_400)), Some(20));
        // A window that holds only the slow spell has no normal to offer.
        assert_eq!(history.baseline(now, Duration::from_secs(25 * 60)), None);
    }

    #[test]
    fn memory_is_bounded() {
        let mut history = History::default();
        for i in 0..(MINUTES as i64 * 3) {
            history.record(at(i * 61), true, None);
            assert!(history.allocated() <= History::MAX_BYTES, "run {i}: {} bytes", history.allocated());
        }
        assert_eq!(history.latencies(usize::MAX).len(), SAMPLES);
        assert_eq!(history.minutes.len(), MINUTES);
        assert_eq!(history.allocated(), History::MAX_BYTES, "allocated once at full size, never doubled past it");
        assert_eq!(History::MAX_BYTES, 720 * 8 + 1440 * 20, "8 bytes a run, 20 a minute");
    }

    #[test]
    fn buckets_come_back_as_the_store_wrote_them() {
        let bucket =
            Bucket { minute: 29_000_000, ok: 58, total: 60, latency_sum_ms: 1_234, latency_max_ms: 90, slow: 2 };
        let mut history = History::default();
        history.preload([bucket]);
        assert_eq!(history.last_bucket(), Some(bucket));
        // Counts saturate rather than wrap.
        let crowded = Bucket { total: 100_000, ok: 100_000, latency_sum_ms: u64::MAX, ..bucket };
        let kept = Minute::of(crowded).bucket();
        assert_eq!((kept.total, kept.ok, kept.latency_sum_ms), (65_535, 65_535, u64::from(u32::MAX)));
    }
}
