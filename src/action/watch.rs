//! Watching a service after a risky change: every check, every interval, for
//! the whole window. One passing round proves nothing; the change holds only
//! if every round of the window passed.
//!
//! The watcher knows nothing about checks, processes or screens: it is given
//! a `probe` to run one check, a `superseded` question asked before each
//! round, a cancel signal and a `progress` callback, and it keeps time with
//! `tokio::time`, so a test drives a five-minute window with paused time.
//!
//! ```text
//! T+0        T+10s      T+20s   ...  T+4m50s    T+5m (window end)
//! round 1    round 2    round 3      round 30   round 31  -> Held { rounds: 31 }
//!                       api 503                           -> Failed at T+20s
//! ```

use super::runner::CancelSignal;
use crate::config::units::format_duration;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// The shortest time between rounds, so a zero interval cannot spin.
pub const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// What to watch and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchPlan {
    /// Check names, probed in this order each round.
    pub checks: Vec<String>,
    /// How long the service must stay healthy.
    pub window: Duration,
    /// Time between the starts of two rounds; the last round runs at the window's end.
    pub interval: Duration,
}

/// One check's answer in one round, as it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchRound {
    /// 1 for the round that runs at once.
    pub round: u32,
    /// Time since the watch began when the answer came.
    pub at: Duration,
    pub check: String,
    /// `None` when the check could not be run at all.
    pub healthy: Option<bool>,
    pub summary: String,
}

/// How a watch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEnd {
    /// Every round of the whole window passed.
    Held { rounds: u32, window: Duration },
    /// A check failed inside the window; the watch stopped there.
    Failed { check: String, summary: String, after: Duration },
    /// A check could not be run (the probe's error, which names the check), so
    /// nothing can be said about the service.
    CouldNotVerify(String),
    /// Something newer acted on the target (why, in words); this watch no longer means anything.
    Superseded(String),
    /// Stopped by the operator before the window ended.
    Cancelled,
}

impl WatchEnd {
    /// One line for the audit log and the incident timeline.
    pub fn describe(&self) -> String {
        match self {
            WatchEnd::Held { rounds, window } => {
                let rounds = if *rounds == 1 { "1 round".to_string() } else { format!("{rounds} rounds") };
                format!("verified: healthy for the whole {} window ({rounds})", span(*window))
            }
            WatchEnd::Failed { check, summary, after } => {
                format!("verification failed at T+{}: {check}: {summary}", format_duration(*after))
            }
            WatchEnd::CouldNotVerify(why) => format!("could not verify: {why}"),
            WatchEnd::Superseded(why) => format!("watch superseded: {why}"),
            WatchEnd::Cancelled => "watch cancelled before its window ended: not verified".into(),
        }
    }
}

/// A window for people: `5 min` for whole minutes, else `90s`, `1m30s`, `500ms`.
pub fn span(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs >= 60 && secs.is_multiple_of(60) && duration.subsec_nanos() == 0 {
        format!("{} min", secs / 60)
    } else {
        format_duration(duration)
    }
}

/// Probes every check of `plan` each `interval` until the window is over.
///
/// Before each round `superseded` is asked; `Some(reason)` ends the watch. A
/// failing answer ends it at once as [`WatchEnd::Failed`]; a probe error (the
/// check could not run) as [`WatchEnd::CouldNotVerify`]; the cancel signal,
/// during a probe or between rounds, as [`WatchEnd::Cancelled`]. Rounds keep
/// to a fixed grid (a slow probe does not push the next round back; missed
/// slots are skipped) and one more round runs at the window's end, so a 5 min
/// window probed every 10 s is 31 rounds. A zero window is one round.
pub async fn watch<P, Fut, S>(
    plan: &WatchPlan,
    mut probe: P,
    mut superseded: S,
    mut cancel: CancelSignal,
    mut progress: impl FnMut(WatchRound),
) -> WatchEnd
where
    P: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(bool, String), String>>,
    S: FnMut() -> Option<String>,
{
    if plan.checks.is_empty() {
        return WatchEnd::CouldNotVerify("no checks to watch".into());
    }
    let start = Instant::now();
    let interval = plan.interval.max(MIN_INTERVAL);
    let mut round = 0u32;
    loop {
        if let Some(reason) = superseded() {
            return WatchEnd::Superseded(reason);
        }
        round = round.saturating_add(1);
        for check in &plan.checks {
            let answer = tokio::select! {
                biased;
                () = cancel.fired() => return WatchEnd::Cancelled,
                answer = probe(check.clone()) => answer,
            };
            let at = start.elapsed();
            let (healthy, summary) = match &answer {
                Ok((healthy, summary)) => (Some(*healthy), summary.clone()),
                Err(why) => (None, why.clone()),
            };
            progress(WatchRound { round, at, check: check.clone(), healthy, summary: summary.clone() });
            match healthy {
                Some(true) => {}
                Some(false) => return WatchEnd::Failed { check: check.clone(), summary, after: at },
                None => return WatchEnd::CouldNotVerify(summary),
            }
        }
        let elapsed = start.elapsed();
        if elapsed >= plan.window {
            return WatchEnd::Held { rounds: round, window: plan.window };
        }
        let next = next_slot(elapsed, interval).min(plan.window);
        tokio::select! {
            biased;
            () = cancel.fired() => return WatchEnd::Cancelled,
            () = tokio::time::sleep_until(start + next) => {}
        }
    }
}

/// The first multiple of `interval` strictly after `elapsed`.
fn next_slot(elapsed: Duration, interval: Duration) -> Duration {
    let slots = elapsed.as_nanos() / interval.as_nanos() + 1;
    u32::try_from(slots).ok().and_then(|n| interval.checked_mul(n)).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::runner::cancel_pair;
    use std::cell::RefCell;
    use std::rc::Rc;

    const MIN: Duration = Duration::from_secs(60);

    fn plan(checks: &[&str], window: Duration) -> WatchPlan {
        WatchPlan { checks: checks.iter().map(|c| c.to_string()).collect(), window, interval: Duration::from_secs(10) }
    }

    /// A probe that answers healthy until `fail_from` has passed (if set), recording when it was asked.
    fn probe_failing_from(
        fail_from: Option<Duration>,
        asked: Rc<RefCell<Vec<(Duration, String)>>>,
    ) -> impl FnMut(String) -> std::future::Ready<Result<(bool, String), String>> {
        let start = Instant::now();
        move |check| {
            let at = start.elapsed();
            asked.borrow_mut().push((at, check.clone()));
            let failing = fail_from.is_some_and(|from| at >= from);
            std::future::ready(Ok(if failing {
                (false, "503 Service Unavailable".into())
            } else {
                (true, "200".into())
            }))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_service_healthy_for_the_whole_window_holds_after_31_rounds() {
        let asked = Rc::new(RefCell::new(Vec::new()));
        let mut rounds = Vec::new();
        let started = Instant::now();
        let end = watch(
            &plan(&["api", "db"], 5 * MIN),
            probe_failing_from(None, asked.clone()),
            || None,
            CancelSignal::never(),
            |r| rounds.push(r),
        )
        .await;
        assert_eq!(end, WatchEnd::Held { rounds: 31, window: 5 * MIN });
        assert_eq!(end.describe(), "verified: healthy for the whole 5 min window (31 rounds)");
        assert_eq!(started.elapsed(), 5 * MIN, "it watched the whole window, no more");
        assert_eq!(asked.borrow().len(), 62, "both checks in every round");
        assert_eq!(rounds.last().map(|r| (r.round, r.at, r.check.as_str())), Some((31, 5 * MIN, "db")));
        assert!(rounds.iter().all(|r| r.healthy == Some(true)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_service_that_falls_over_at_minute_two_fails_there_not_earlier() {
        let asked = Rc::new(RefCell::new(Vec::new()));
        let fall = 2 * MIN + Duration::from_secs(5);
        let mut seen = Vec::new();
        let end = watch(
            &plan(&["api"], 5 * MIN),
            probe_failing_from(Some(fall), asked.clone()),
            || None,
            CancelSignal::never(),
            |r| seen.push(r.healthy),
        )
        .await;
        // It fell over at 2m05s; the next round is at 2m10s.
        let after = 2 * MIN + Duration::from_secs(10);
        assert_eq!(end, WatchEnd::Failed { check: "api".into(), summary: "503 Service Unavailable".into(), after });
        assert_eq!(end.describe(), "verification failed at T+2m10s: api: 503 Service Unavailable");
        assert_eq!(seen.len(), 14, "13 passing rounds, then the failing one");
        assert!(seen[..13].iter().all(|h| *h == Some(true)));
        assert_eq!(seen[13], Some(false));
        assert_eq!(asked.borrow().last().map(|(at, _)| *at), Some(after), "no round after the failure");
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_that_is_not_a_multiple_of_the_interval_still_ends_with_a_round_at_its_end() {
        let asked = Rc::new(RefCell::new(Vec::new()));
        let end = watch(
            &plan(&["api"], Duration::from_secs(25)),
            probe_failing_from(Some(Duration::from_secs(21)), asked.clone()),
            || None,
            CancelSignal::never(),
            |_| {},
        )
        .await;
        assert!(
            matches!(&end, WatchEnd::Failed { after, .. } if *after == Duration::from_secs(25)),
            "the failure at 21s is caught by the round at the window's end: {end:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_that_cannot_run_ends_it_as_could_not_verify() {
        let mut seen = Vec::new();
        let end = watch(
            &plan(&["api", "ghost"], 5 * MIN),
            |check: String| async move {
                if check == "ghost" { Err("no check named `ghost`".to_string()) } else { Ok((true, "200".into())) }
            },
            || None,
            CancelSignal::never(),
            |r| seen.push((r.check, r.healthy)),
        )
        .await;
        assert_eq!(end, WatchEnd::CouldNotVerify("no check named `ghost`".into()));
        assert_eq!(end.describe(), "could not verify: no check named `ghost`");
        assert_eq!(seen, [("api".to_string(), Some(true)), ("ghost".to_string(), None)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_newer_operation_on_the_target_supersedes_the_watch_before_its_next_round() {
        let started = Instant::now();
        let mut asked = 0;
        let mut rounds = 0;
        let end = watch(
            &plan(&["api"], 5 * MIN),
            |_| std::future::ready(Ok((true, "200".to_string()))),
            || {
                asked += 1;
                (started.elapsed() >= MIN).then(|| "rollback orders started".to_string())
            },
            CancelSignal::never(),
            |_| rounds += 1,
        )
        .await;
        assert_eq!(end, WatchEnd::Superseded("rollback orders started".into()));
        assert_eq!(end.describe(), "watch superseded: rollback orders started");
        assert_eq!(rounds, 6, "rounds at 0..50 s ran, the one at 1 min did not");
        assert_eq!(asked, 7);
        assert_eq!(started.elapsed(), MIN);
    }

    #[tokio::test(start_paused = true)]
    async fn cancelling_between_rounds_or_during_a_probe_ends_it_at_once() {
        // Between rounds.
        let (canceller, signal) = cancel_pair();
        let started = Instant::now();
        let waiter = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(95)).await;
            canceller.cancel();
        });
        let end = watch(
            &plan(&["api"], 5 * MIN),
            |_| std::future::ready(Ok((true, "200".to_string()))),
            || None,
            signal,
            |_| {},
        )
        .await;
        waiter.await.unwrap();
        assert_eq!(end, WatchEnd::Cancelled);
        assert_eq!(started.elapsed(), Duration::from_secs(95), "not at the next round, at once");
        assert!(end.describe().contains("not verified"));

        // During a probe that never answers.
        let (canceller, signal) = cancel_pair();
        let end = watch(
            &plan(&["hang"], 5 * MIN),
            |_| {
                let canceller = canceller.clone();
                async move {
                    canceller.cancel();
                    std::future::pending::<Result<(bool, String), String>>().await
                }
            },
            || None,
            signal,
            |_| {},
        )
        .await;
        assert_eq!(end, WatchEnd::Cancelled);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_probe_skips_missed_slots_instead_of_bunching_rounds() {
        let started = Instant::now();
        let times = Rc::new(RefCell::new(Vec::new()));
        let seen = times.clone();
        let end = watch(
            &plan(&["slow"], MIN),
            move |_| {
                seen.borrow_mut().push(started.elapsed());
                async {
                    tokio::time::sleep(Duration::from_secs(25)).await;
                    Ok((true, "200".to_string()))
                }
            },
            || None,
            CancelSignal::never(),
            |_| {},
        )
        .await;
        let secs: Vec<u64> = times.borrow().iter().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [0, 30, 60], "rounds start on the 10 s grid after each slow answer");
        assert_eq!(end, WatchEnd::Held { rounds: 3, window: MIN });
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_window_is_one_round_and_no_checks_cannot_verify() {
        let end = watch(
            &plan(&["api"], Duration::ZERO),
            |_| std::future::ready(Ok((true, "200".to_string()))),
            || None,
            CancelSignal::never(),
            |_| {},
        )
        .await;
        assert_eq!(end, WatchEnd::Held { rounds: 1, window: Duration::ZERO });
        assert_eq!(end.describe(), "verified: healthy for the whole 0ms window (1 round)");
        let none = watch(
            &plan(&[], MIN),
            |_| std::future::ready(Ok((true, String::new()))),
            || None,
            CancelSignal::never(),
            |_| {},
        )
        .await;
        assert!(matches!(none, WatchEnd::CouldNotVerify(_)));
    }
}
