//! The sampling loop. NVML calls block and a wedged driver can block for
//! ever, so each sample runs on a blocking thread under a timeout: past it the
//! state says "not answering" and the loop waits for that one call to return
//! before asking again (never piling up stuck threads). Transient errors back
//! off; a host without a GPU is looked at again only every `NO_GPU_RETRY`.

use super::sample::{DeviceReading, SourceError};
use super::source::GpuSource;
use super::state::{GpuState, SourceHealth};
use super::thresholds::Thresholds;
use crate::config::Config;
use std::sync::Arc;
use std::time::Duration;

/// How often a host without a GPU is looked at again.
pub const NO_GPU_RETRY: Duration = Duration::from_secs(30);
/// The longest wait between retries after transient errors.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    pub every: Duration,
    pub timeout: Duration,
    pub history: Duration,
    pub thresholds: Thresholds,
}

impl EngineOptions {
    pub fn from_config(config: &Config) -> EngineOptions {
        let gpu = &config.gpu;
        EngineOptions {
            every: gpu.every(),
            timeout: super::sample_timeout(config),
            history: gpu.history(),
            thresholds: Thresholds::from_config(gpu),
        }
    }
}

/// What became of handing a state to the tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// The channel is full: try again with the next state.
    Busy,
    /// Nobody listens any more: stop sampling.
    Closed,
}

type Outcome = (Box<dyn GpuSource>, Result<Vec<DeviceReading>, SourceError>);

/// What `sample_once` gives back: the source, unless its call is still stuck, and the sample.
pub type CliSample = (Option<Box<dyn GpuSource>>, Result<Vec<DeviceReading>, SampleError>);

/// Runs the sampling loop until `deliver` says nobody listens. `deliver` is
/// called only when something a view shows has changed.
pub async fn run(
    source: Box<dyn GpuSource>,
    options: EngineOptions,
    mut deliver: impl FnMut(Arc<GpuState>) -> Delivery,
) {
    let mut state =
        GpuState::new(source.describe(), source.simulated(), options.every, options.history, options.thresholds)
            .with_fleet(source.fleet());
    let mut delivered_key = None;
    let mut publish = |state: &GpuState| -> bool {
        let key = state.view_key();
        if delivered_key == Some(key) {
            return true;
        }
        match deliver(Arc::new(state.clone())) {
            Delivery::Sent => {
                delivered_key = Some(key);
                true
            }
            Delivery::Busy => true,
            Delivery::Closed => false,
        }
    };
    if !publish(&state) {
        return;
    }
    let mut source = source;
    let mut failures: u32 = 0;
    loop {
        let mut call = tokio::task::spawn_blocking(move || {
            let result = source.sample();
            (source, result)
        });
        let joined = match tokio::time::timeout(options.timeout, &mut call).await {
            Ok(joined) => joined,
            Err(_) => {
                state.not_answering(chrono::Utc::now(), options.timeout);
                if !publish(&state) {
                    return;
                }
                call.await
            }
        };
        let (returned, result): Outcome = match joined {
            Ok(outcome) => outcome,
            Err(err) => {
                state.stopped(format!("the GPU sampling thread failed: {err}"));
                publish(&state);
                return;
            }
        };
        source = returned;
        state.source = source.describe();
        state.apply(result, chrono::Utc::now());
        if !publish(&state) {
            return;
        }
        let pause = match &state.health {
            SourceHealth::NoGpu(_) => NO_GPU_RETRY.max(options.every),
            SourceHealth::Stale { .. } => {
                failures = failures.saturating_add(1);
                backoff(options.every, failures)
            }
            _ => {
                failures = 0;
                options.every
            }
        };
        tokio::time::sleep(pause).await;
    }
}

/// every, 2x, 4x ... up to `MAX_BACKOFF` (never shorter than `every`).
pub fn backoff(every: Duration, failures: u32) -> Duration {
    let factor = 1u32 << failures.min(6);
    every.saturating_mul(factor).min(MAX_BACKOFF).max(every)
}

/// One sample for the command line, with the same timeout: a plain thread, no runtime needed.
/// Returns the source back when the call finished, so `--watch` can reuse it.
pub fn sample_once(source: Box<dyn GpuSource>, timeout: Duration) -> CliSample {
    let (sender, receiver) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new().name("gpu-sample".into()).spawn(move || {
        let mut source = source;
        let result = source.sample();
        let _ = sender.send((source, result));
    });
    if let Err(err) = spawned {
        return (None, Err(SampleError::Thread(err.to_string())));
    }
    match receiver.recv_timeout(timeout) {
        Ok((source, result)) => (Some(source), result.map_err(SampleError::Source)),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => (None, Err(SampleError::NotAnswering(timeout))),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            (None, Err(SampleError::Thread("the sampling thread panicked".into())))
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SampleError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("NVML did not answer within {}", crate::config::units::format_duration(*.0))]
    NotAnswering(Duration),
    #[error("{0}")]
    Thread(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        let second = Duration::from_secs(1);
        assert_eq!(backoff(second, 1), Duration::from_secs(2));
        assert_eq!(backoff(second, 3), Duration::from_secs(8));
        assert_eq!(backoff(second, 30), MAX_BACKOFF);
        assert_eq!(backoff(Duration::from_secs(120), 2), Duration::from_secs(120));
    }
}
