//! The continuous engine: one task per check runs it on its interval (with
//! jitter, so checks do not fire in lock-step), and one collector task folds
//! every result into debounced state, history and the store, and reports
//! views of the checks that changed.
//!
//! A hung endpoint only holds up its own task; the collector never awaits a
//! probe, and reports are handed over with a non-blocking callback, so a
//! busy screen cannot stall the checks either.

use super::history::History;
use super::outcome::{Level, Outcome, SeriesResult};
use super::probe::Prober;
use super::spec::{Baseline, CheckSpec, SlowRule};
use super::store::{self as persist, Persist};
use super::tracker::Tracker;
use super::view::{BaselineView, CheckView, Status, TransitionView};
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

/// Lets the UI (or anything else) ask the engine to run checks now.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    commands: mpsc::Sender<EngineCommand>,
}

impl PartialEq for EngineHandle {
    fn eq(&self, other: &Self) -> bool {
        self.commands.same_channel(&other.commands)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum EngineCommand {
    /// Runs one check (by index) now, or every check.
    RunNow(Option<usize>),
}

impl EngineHandle {
    /// Asks for check `index` (or all with `None`) to run now; never blocks.
    pub fn run_now(&self, index: Option<usize>) -> bool {
        self.commands.try_send(EngineCommand::RunNow(index)).is_ok()
    }
}

/// Receives batches of changed views; returns false if it could not take them now (they are re-sent).
pub type Report = Box<dyn FnMut(Vec<Arc<CheckView>>) -> bool + Send>;

/// Capacity of the results queue from check tasks to the collector.
const RESULTS_QUEUE: usize = 1024;
/// How soon unsent reports are retried when the receiver was full.
const RETRY: Duration = Duration::from_millis(200);
/// Reports go out at most this often: a thousand checks a second then reach the
/// screen as ten batches of a hundred, so the tab sorts and the status line is
/// worded ten times a second rather than once per result.
pub const REPORT_GAP: Duration = Duration::from_millis(100);
/// Check runs fall on this grid: checks due within the same slot wake together,
/// so the runtime wakes once for a handful of probes instead of once for each.
const WAKE_GRID: Duration = Duration::from_millis(25);
/// How often history is written to the store. The first write is one period
/// after the start: loading history writes nothing, and the first results go in
/// one transaction rather than trickling in as each check first answers.
pub const FLUSH_EVERY: Duration = Duration::from_secs(15);
/// How often a write also sweeps the rows of checks no longer configured.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Runs one check once. The real one is [`Prober`]; tests give a scripted one.
pub trait Probe: Send + Sync + 'static {
    fn run<'a>(&'a self, spec: &'a CheckSpec) -> futures::future::BoxFuture<'a, Outcome>;
}

impl Probe for Prober {
    fn run<'a>(&'a self, spec: &'a CheckSpec) -> futures::future::BoxFuture<'a, Outcome> {
        Box::pin(Prober::run(self, spec))
    }
}

/// The wall-clock time that stamps each result (and so drives `fail_for` and the slow rule).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// Wall time at creation plus tokio's elapsed time: follows paused time in tests.
pub fn tokio_clock() -> Clock {
    let (wall, started) = (Utc::now(), Instant::now());
    Arc::new(move || wall + chrono::Duration::from_std(started.elapsed()).unwrap_or_default())
}

/// Starts the engine on the current tokio runtime.
pub fn start(specs: Vec<CheckSpec>, store: Option<Store>, report: Report) -> EngineHandle {
    start_with(specs, store, report, Arc::new(Prober::new()), system_clock())
}

/// Starts the engine with a given probe and clock.
pub fn start_with(
    specs: Vec<CheckSpec>,
    store: Option<Store>,
    report: Report,
    prober: Arc<dyn Probe>,
    clock: Clock,
) -> EngineHandle {
    let specs: Vec<Arc<CheckSpec>> = specs.into_iter().map(Arc::new).collect();
    let (commands, command_rx) = mpsc::channel(64);
    let (results, result_rx) = mpsc::channel(RESULTS_QUEUE);
    let triggers: Vec<Arc<Notify>> = specs.iter().map(|_| Arc::new(Notify::new())).collect();
    let origin = Instant::now();
    for (index, spec) in specs.iter().enumerate() {
        let stamp = clock.clone();
        // A check that runs more often than a few slots keeps its own time.
        let step = if spec.every >= WAKE_GRID * 4 { WAKE_GRID } else { Duration::from_nanos(1) };
        let grid = Grid { origin, step };
        let task = schedule(index, spec.clone(), prober.clone(), stamp, triggers[index].clone(), results.clone(), grid);
        tokio::spawn(task);
    }
    let mut collector = Collector::new(specs, store, report);
    collector.clock = clock;
    tokio::spawn(collector.run(result_rx, command_rx, triggers));
    EngineHandle { commands }
}

/// Runs one check forever on its interval, or at once when triggered.
async fn schedule(
    index: usize,
    spec: Arc<CheckSpec>,
    prober: Arc<dyn Probe>,
    clock: Clock,
    trigger: Arc<Notify>,
    results: mpsc::Sender<(usize, Outcome)>,
    grid: Grid,
) {
    let mut jitter = Jitter::new(&spec.name);
    // Spread the first runs over up to two seconds so a large config does not fire all at once.
    let mut next = grid.nearest(Instant::now() + jitter.up_to(spec.every.min(Duration::from_secs(2))), Instant::now());
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            () = trigger.notified() => {}
        }
        let started = Instant::now();
        let mut outcome = prober.run(&spec).await;
        outcome.at = clock();
        if results.send((index, outcome)).await.is_err() {
            return;
        }
        // ±10 % of the interval, so checks with the same interval drift apart.
        let spread = spec.every / 10;
        next = (started + spec.every + jitter.up_to(spread * 2)).checked_sub(spread).unwrap_or(started);
        next = grid.nearest(next, Instant::now());
    }
}

/// Slots shared by every check of one engine.
#[derive(Debug, Clone, Copy)]
struct Grid {
    origin: Instant,
    step: Duration,
}

impl Grid {
    /// The slot boundary nearest to `at` (so intervals keep their length on
    /// average), or the first one after `not_before` if that is later.
    fn nearest(self, at: Instant, not_before: Instant) -> Instant {
        let step = self.step.as_nanos().max(1);
        let boundary =
            |nanos: u128| self.origin + Duration::from_nanos(u64::try_from(nanos * step).unwrap_or(u64::MAX));
        let since = |at: Instant| at.saturating_duration_since(self.origin).as_nanos();
        let nearest = boundary((since(at) + step / 2) / step);
        if nearest >= not_before { nearest } else { boundary(since(not_before).div_ceil(step)) }
    }
}

/// A small deterministic generator (splitmix64) seeded by the check's name.
struct Jitter(u64);

impl Jitter {
    fn new(name: &str) -> Jitter {
        Jitter(
            name.bytes()
                .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3)),
        )
    }

    fn up_to(&mut self, limit: Duration) -> Duration {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let nanos = limit.as_nanos() as u64;
        if nanos == 0 { Duration::ZERO } else { Duration::from_nanos(z % nanos) }
    }
}

/// Everything the engine knows about one check.
pub struct CheckState {
    pub spec: Arc<CheckSpec>,
    pub tracker: Tracker,
    pub history: History,
    pub last: Option<Arc<Outcome>>,
    pub transitions: Vec<TransitionView>,
    slow_since: Option<DateTime<Utc>>,
}

/// How many transitions each view carries for the detail pane.
const TRANSITIONS_SHOWN: usize = 20;

pub struct Collector {
    pub checks: Vec<CheckState>,
    store: Option<Store>,
    report: Report,
    unsent: std::collections::BTreeSet<usize>,
    persist: Persist,
    clock: Clock,
    /// Parents to run now, because a dependent failed since their last run.
    reruns: std::collections::BTreeSet<usize>,
    /// When the store was last swept of rows past retention (or the engine started).
    swept: Instant,
    /// For each check, the checks that depend on it.
    dependents: Vec<Vec<usize>>,
    /// The earliest the next report may go (none: at once).
    next_report: Option<Instant>,
}

impl Collector {
    pub fn new(specs: Vec<Arc<CheckSpec>>, store: Option<Store>, report: Report) -> Collector {
        let checks = specs
            .into_iter()
            .map(|spec| CheckState {
                tracker: Tracker::new(spec.fail_after, spec.recover_after, spec.fail_for),
                history: History::default(),
                last: None,
                transitions: Vec::new(),
                slow_since: None,
                spec,
            })
            .collect::<Vec<CheckState>>();
        let mut dependents = vec![Vec::new(); checks.len()];
        for (index, check) in checks.iter().enumerate() {
            if let Some(parent) = check.spec.depends_on.filter(|&p| p < dependents.len()) {
                dependents[parent].push(index);
            }
        }
        Collector {
            checks,
            store,
            report,
            unsent: Default::default(),
            persist: Persist::default(),
            clock: system_clock(),
            reruns: Default::default(),
            swept: Instant::now(),
            dependents,
            next_report: None,
        }
    }

    async fn run(
        mut self,
        mut results: mpsc::Receiver<(usize, Outcome)>,
        mut commands: mpsc::Receiver<EngineCommand>,
        triggers: Vec<Arc<Notify>>,
    ) {
        self.load_history().await;
        self.unsent.extend(0..self.checks.len());
        self.send();
        let mut batch = Vec::with_capacity(256);
        let mut flush = tokio::time::interval_at(Instant::now() + FLUSH_EVERY, FLUSH_EVERY);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let due = self.report_due();
            tokio::select! {
                received = results.recv_many(&mut batch, 256) => {
                    if received == 0 {
                        break;
                    }
                    for (index, outcome) in batch.drain(..) {
                        self.apply(index, outcome);
                    }
                    for parent in std::mem::take(&mut self.reruns) {
                        if let Some(trigger) = triggers.get(parent) {
                            trigger.notify_one();
                        }
                    }
                }
                Some(command) = commands.recv() => match command {
                    EngineCommand::RunNow(Some(index)) => {
                        if let Some(trigger) = triggers.get(index) {
                            trigger.notify_one();
                        }
                    }
                    EngineCommand::RunNow(None) => triggers.iter().for_each(|t| t.notify_one()),
                },
                () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {}
                _ = flush.tick() => self.flush(),
            }
            if self.report_due().is_some_and(|at| at <= Instant::now()) {
                self.send();
            }
        }
        self.flush();
    }

    /// Folds one run into the check's state; marks what must be re-sent.
    pub fn apply(&mut self, index: usize, mut outcome: Outcome) {
        let Some(check) = self.checks.get_mut(index) else { return };
        carry_series(check, &mut outcome);
        let slow = apply_slow_rule(check, &mut outcome);
        let at = outcome.at;
        check.history.record_run(at, outcome.is_ok(), outcome.latency, slow);
        self.persist.record_run(&check.spec.name, at, outcome.is_ok(), outcome.latency, slow);
        let change = check.tracker.observe(outcome.level, at);
        check.last = Some(Arc::new(outcome));
        if let Some(change) = change {
            let message = check.last.as_ref().map(|o| o.message.clone()).unwrap_or_default();
            let transition = TransitionView { at: change.at, from: change.from, to: change.to, message };
            self.persist.transition(&check.spec.name, &transition);
            check.transitions.insert(0, transition);
            check.transitions.truncate(TRANSITIONS_SHOWN);
        }
        self.unsent.insert(index);
        if let Some(parent) = self.waiting_for_parent(index) {
            self.reruns.insert(parent);
        }
        // Children's suppression follows their parent's latest run, not only its confirmed state.
        self.unsent.extend(self.dependents[index].iter().copied());
    }

    /// The state shown: debounced, "failing" while a failure is not yet confirmed, and
    /// suppressed while the latest run of the check it depends on fails too, so the
    /// root cause is what alerts and what the status line names.
    pub fn status_of(&self, index: usize) -> Status {
        let own = self.own_status(index);
        let parent = self.checks[index].spec.depends_on.filter(|&p| p != index);
        match parent {
            Some(parent) if own.is_failing() && self.parent_failing(parent) => Status::Suppressed,
            // The parent has not run since this one began failing: hold the alert until it has.
            Some(_) if own.is_failing() && self.waiting_for_parent(index).is_some() => Status::Failing,
            _ => own,
        }
    }

    /// The parent to ask first: this check is failing and its parent has not run since
    /// the failure began (it is run at once, so a dependent never alerts before its cause).
    pub fn waiting_for_parent(&self, index: usize) -> Option<usize> {
        let check = &self.checks[index];
        let parent = check.spec.depends_on.filter(|&p| p != index)?;
        let failing_since = check.tracker.failing_since()?;
        let parent_ran = self.checks[parent].last.as_ref().map(|o| o.at);
        (parent_ran.is_none_or(|at| at < failing_since) && !self.parent_failing(parent)).then_some(parent)
    }

    fn own_status(&self, index: usize) -> Status {
        let check = &self.checks[index];
        let last_failed = check.last.as_ref().is_some_and(|o| !o.is_ok());
        match status_from(&check.tracker) {
            Status::Pending | Status::Ok if last_failed => Status::Failing,
            status => status,
        }
    }

    /// The parent's latest run failed, or it is still confirmed failing while it recovers.
    fn parent_failing(&self, parent: usize) -> bool {
        let check = &self.checks[parent];
        check.last.as_ref().is_some_and(|o| !o.is_ok()) || status_from(&check.tracker).is_failing()
    }

    pub fn view(&self, index: usize, now: DateTime<Utc>) -> CheckView {
        let check = &self.checks[index];
        let hour = Duration::from_secs(3600);
        CheckView {
            index,
            status: self.status_of(index),
            since: check.tracker.since,
            failures: check.tracker.failures,
            failing_since: check.tracker.failing_since(),
            last: check.last.clone(),
            latencies: check.history.latencies(120),
            p50_ms: check.history.percentile(now, hour, 50.0),
            p95_ms: check.history.percentile(now, hour, 95.0),
            uptime_hour: check.history.uptime(now, hour),
            uptime_day: check.history.uptime(now, Duration::from_secs(86_400)),
            baseline: check.spec.slow.map(|rule| BaselineView {
                usual_ms: usual_latency(&check.history, rule, now),
                source: match rule.baseline {
                    Baseline::Fixed(_) => "fixed".into(),
                    Baseline::Median(window) => format!("median of {}", window_text(window)),
                },
                factor: rule.factor,
                sustained: rule.sustained,
            }),
            transitions: check.transitions.clone(),
            parent: check.spec.depends_on.map(|p| self.checks[p].spec.name.clone()),
            waiting_for_parent: self.waiting_for_parent(index).is_some(),
            ..CheckView::pending(&check.spec, index)
        }
    }

    /// When the views not yet reported may go: at once after a quiet spell, else
    /// one gap after the last report (or a retry's wait after a refused one).
    fn report_due(&self) -> Option<Instant> {
        if self.unsent.is_empty() {
            return None;
        }
        Some(self.next_report.unwrap_or_else(Instant::now))
    }

    fn send(&mut self) {
        if self.unsent.is_empty() {
            return;
        }
        let now = (self.clock)();
        let views: Vec<Arc<CheckView>> = self.unsent.iter().map(|&i| Arc::new(self.view(i, now))).collect();
        if (self.report)(views) {
            self.unsent.clear();
            self.next_report = Some(Instant::now() + REPORT_GAP);
        } else {
            self.next_report = Some(Instant::now() + RETRY);
        }
    }

    async fn load_history(&mut self) {
        let Some(store) = &self.store else { return };
        let names: Vec<String> = self.checks.iter().map(|c| c.spec.name.clone()).collect();
        let Ok(loaded) = persist::load(store, names).await else { return };
        for (check, (buckets, transitions)) in self.checks.iter_mut().zip(loaded) {
            check.history.preload(buckets);
            check.transitions = transitions;
        }
    }

    /// Writes what is new since the last flush; with nothing new, nothing at all
    /// (not even pruning, which waits for the next write).
    fn flush(&mut self) {
        if self.persist.is_empty() {
            return;
        }
        let mut batch = std::mem::take(&mut self.persist);
        if self.swept.elapsed() >= SWEEP_EVERY {
            batch.sweep();
            self.swept = Instant::now();
        }
        if let Some(store) = self.store.clone() {
            tokio::spawn(async move {
                let _ = persist::write(&store, batch).await;
            });
        }
    }
}

/// An engine that could not be read leaves the check's series as they were last seen,
/// each unknown with the engine's error, so its rows stay put and say why.
fn carry_series(check: &CheckState, outcome: &mut Outcome) {
    if check.spec.engine.is_none() || outcome.level != Level::Unknown || !outcome.series.is_empty() {
        return;
    }
    let Some(previous) = &check.last else { return };
    outcome.series = previous
        .series
        .iter()
        .map(|series| SeriesResult {
            level: Level::Unknown,
            message: outcome.message.clone(),
            failed: Vec::new(),
            ..series.clone()
        })
        .collect();
}

fn status_from(tracker: &Tracker) -> Status {
    match tracker.state {
        None => Status::Pending,
        Some(Level::Ok) => Status::Ok,
        Some(Level::Warning) => Status::Warning,
        Some(Level::Unknown) => Status::Unknown,
        Some(Level::Critical) => Status::Critical,
    }
}

/// A window as written in a config: "24h", "90m".
fn window_text(window: Duration) -> String {
    match window.as_secs() {
        secs if secs % 3600 == 0 => format!("{}h", secs / 3600),
        secs if secs % 60 == 0 => format!("{}m", secs / 60),
        _ => crate::config::units::format_duration(window),
    }
}

/// What "normal" latency is right now: the fixed baseline, or the median of good,
/// not-slow minutes over the baseline window.
fn usual_latency(history: &History, rule: SlowRule, now: DateTime<Utc>) -> Option<u32> {
    match rule.baseline {
        Baseline::Fixed(usual) => Some(u32::try_from(usual.as_millis()).unwrap_or(u32::MAX)),
        Baseline::Median(window) => history.baseline(now, window),
    }
}

/// "Latency above N x its usual for T" turns an otherwise good run into a warning.
/// Returns whether this run was above the limit, so its minute is kept out of "normal".
fn apply_slow_rule(check: &mut CheckState, outcome: &mut Outcome) -> bool {
    let Some(rule) = check.spec.slow else { return false };
    let (Some(latency), true) = (outcome.latency, outcome.is_ok()) else {
        check.slow_since = None;
        return false;
    };
    let Some(usual) = usual_latency(&check.history, rule, outcome.at) else { return false };
    let limit = f64::from(usual.max(1)) * rule.factor;
    if (latency.as_millis() as f64) <= limit {
        check.slow_since = None;
        return false;
    }
    let since = *check.slow_since.get_or_insert(outcome.at);
    if (outcome.at - since).to_std().unwrap_or_default() >= rule.sustained {
        outcome.level = Level::Warning;
        outcome.message = format!(
            "latency {} above {}x its usual {}ms for {}",
            super::condition::format_latency(latency),
            super::condition::format_number(rule.factor),
            usual,
            crate::config::units::format_duration(rule.sustained)
        );
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn runs_fall_on_the_nearest_slot_and_never_in_the_past() {
        let origin = Instant::now();
        let grid = Grid { origin, step: Duration::from_millis(25) };
        let at = |ms: u64| origin + Duration::from_millis(ms);
        assert_eq!(grid.nearest(at(1_010), at(0)), at(1_000), "rounded down when nearer");
        assert_eq!(grid.nearest(at(1_013), at(0)), at(1_025), "rounded up when nearer");
        assert_eq!(grid.nearest(at(1_010), at(1_005)), at(1_025), "never before the earliest allowed");
        assert_eq!(grid.nearest(at(1_025), at(1_025)), at(1_025), "a boundary stays");
    }
}
