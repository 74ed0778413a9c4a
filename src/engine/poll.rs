//! Reads every Alertmanager's alert groups in the background, for the console.
//!
//! One task per engine, so a slow or dead engine never holds up the others:
//! each asks for its groups (bounded by the engine's timeout and body cap), hands
//! the answer to `report`, then waits `every` or until [`AlertPoller::refresh`].
//! One request per engine is in flight at most; refreshes asked for meanwhile
//! fold into one. UI-free: the console's `report` turns answers into messages.

use super::Engine;
use super::alerts::{self, EngineAlerts};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often each Alertmanager is read when nobody asks sooner.
pub const EVERY: Duration = Duration::from_secs(15);
/// How soon an answer the receiver could not take is offered again.
const RETRY: Duration = Duration::from_millis(200);

/// Takes one engine's answer; returns false when it could not take it now.
pub type Report = Arc<dyn Fn(Arc<EngineAlerts>) -> bool + Send + Sync>;

/// Asks the pollers to read again now; dropping every clone stops them.
#[derive(Debug, Clone)]
pub struct AlertPoller {
    refresh: Arc<watch::Sender<u64>>,
}

impl PartialEq for AlertPoller {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.refresh, &other.refresh)
    }
}

impl AlertPoller {
    /// Every engine is read again as soon as its current request (if any) ends; never blocks.
    pub fn refresh(&self) {
        self.refresh.send_modify(|count| *count = count.wrapping_add(1));
    }
}

/// Starts one polling task per engine on the current tokio runtime; each reads at once.
pub fn start(engines: Vec<Arc<Engine>>, every: Duration, report: Report) -> AlertPoller {
    let (refresh, _) = watch::channel(0u64);
    let refresh = Arc::new(refresh);
    for engine in engines {
        tokio::spawn(poll(engine, every, report.clone(), refresh.subscribe()));
    }
    AlertPoller { refresh }
}

async fn poll(engine: Arc<Engine>, every: Duration, report: Report, mut refresh: watch::Receiver<u64>) {
    use tokio::time::{Instant, sleep_until};
    loop {
        // A refresh asked for before this read is answered by it; one asked for while
        // it runs, by another read right after (the answer may predate the ask).
        refresh.mark_unchanged();
        let mut unsent = Some(Arc::new(alerts::read(&engine).await));
        let next = Instant::now() + every;
        loop {
            if let Some(answer) = unsent.take()
                && !report(answer.clone())
            {
                unsent = Some(answer);
            }
            // Until the next read, or a moment if the answer must be offered again.
            let until = if unsent.is_some() { (Instant::now() + RETRY).min(next) } else { next };
            tokio::select! {
                _ = sleep_until(until) => {
                    if Instant::now() >= next {
                        break;
                    }
                }
                changed = refresh.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::time::Instant;

    /// An engine on a port nothing listens on: every read is an answer naming it.
    fn engine() -> Arc<Engine> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let text = format!(
            "[[engine]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"http://127.0.0.1:{port}\"\ntimeout = \"1s\"\n"
        );
        let config = crate::config::load_str(&text, std::path::Path::new("/tmp/firstwatch.toml")).unwrap();
        Arc::new(Engine::new(&config.engines[0], std::path::Path::new("/tmp")).unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn an_engine_is_read_at_once_then_every_interval_and_again_on_refresh() {
        let (answers, mut received) = tokio::sync::mpsc::channel(8);
        // The first answer is refused, as by a full channel: it is offered again shortly.
        let offers = Arc::new(AtomicUsize::new(0));
        let counted = offers.clone();
        let report: Report =
            Arc::new(move |answer| counted.fetch_add(1, Ordering::SeqCst) > 0 && answers.try_send(answer).is_ok());
        let poller = start(vec![engine()], EVERY, report);

        let first = received.recv().await.expect("the first answer");
        assert!(first.read.as_ref().is_err_and(|e| e.starts_with("engine `am`")), "{first:?}");
        assert_eq!(offers.load(Ordering::SeqCst), 2, "refused once, then taken");

        let since = Instant::now();
        received.recv().await.expect("the next read");
        assert!(since.elapsed() >= EVERY - RETRY, "not before the interval: {:?}", since.elapsed());

        let asked = Instant::now();
        poller.refresh();
        poller.refresh();
        received.recv().await.expect("a read on refresh");
        assert!(asked.elapsed() < EVERY / 2, "at once: {:?}", asked.elapsed());

        // Dropping the poller stops its tasks, which closes the channel.
        drop(poller);
        assert!(received.recv().await.is_none());
    }
}
