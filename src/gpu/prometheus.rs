//! Every host's GPUs from a Prometheus engine that scrapes NVIDIA's DCGM
//! exporter: one instant query per metric per refresh, whatever the number of
//! hosts, joined per GPU (see `dcgm`). The queries go one after another, each
//! answer folded in before the next is asked for: a 4,000-GPU answer is about
//! 2 MB of JSON, and seven of them in flight at once would triple the
//! console's peak memory to save a few round trips every five seconds.
//!
//! `GpuSource::sample` is blocking by contract (the engine calls it on a
//! blocking thread with a timeout), so the source owns a small current-thread
//! runtime and blocks on its queries there; each query is bounded by the
//! engine's own timeout, body cap and series cap.

use super::dcgm::{DcgmLabels, Fleet, Metric};
use super::sample::{DeviceReading, SourceError};
use super::source::GpuSource;
use crate::engine::prometheus::query_answer;
use crate::engine::{Engine, EngineError};
use std::sync::Arc;

pub struct PrometheusSource {
    engine: Arc<Engine>,
    runtime: Option<tokio::runtime::Runtime>,
    /// GPUs and hosts in the last answer, for the description.
    seen: Option<(usize, usize)>,
}

impl PrometheusSource {
    pub fn new(engine: Arc<Engine>) -> Result<PrometheusSource, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| format!("cannot start the query runtime: {err}"))?;
        Ok(PrometheusSource { engine, runtime: Some(runtime), seen: None })
    }

    pub fn engine_name(&self) -> &str {
        self.engine.name()
    }
}

impl Drop for PrometheusSource {
    /// The source may be dropped on an async thread, where a runtime must not block to shut down.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Asks `engine` for every DCGM metric, one query each, and joins the answers.
pub async fn fetch(engine: &Engine) -> Result<Fleet, EngineError> {
    let mut fleet = Fleet::default();
    for metric in Metric::ALL {
        let answer = query_answer(engine, &metric.query()).await?;
        let series = answer.vector::<DcgmLabels>(engine.max_series()).map_err(|problem| engine.error(problem))?;
        fleet.add(metric, series);
    }
    Ok(fleet)
}

impl GpuSource for PrometheusSource {
    fn describe(&self) -> String {
        let base = format!("prometheus engine `{}`, DCGM metrics", self.engine.name());
        match self.seen {
            Some((gpus, hosts)) => format!("{base}: {gpus} GPUs on {hosts} hosts"),
            None => base,
        }
    }

    fn fleet(&self) -> Option<String> {
        Some(self.engine.name().to_string())
    }

    fn sample(&mut self) -> Result<Vec<DeviceReading>, SourceError> {
        let Some(runtime) = &self.runtime else { return Err(SourceError::Failed("the source was shut down".into())) };
        let fleet = runtime.block_on(fetch(&self.engine)).map_err(|err| SourceError::Failed(err.to_string()))?;
        if fleet.gpu_count() == 0 {
            self.seen = None;
            let unplaced = if fleet.unplaced > 0 {
                format!(" ({} series lacked a Hostname or instance and a gpu or UUID label)", fleet.unplaced)
            } else {
                String::new()
            };
            return Err(SourceError::NoGpu(format!(
                "engine `{}` has no DCGM GPU series ({}, ...){unplaced}: is the DCGM exporter scraped by it?",
                self.engine.name(),
                Metric::Utilization.name()
            )));
        }
        let readings = fleet.readings();
        let hosts = {
            let mut hosts: Vec<&str> = readings.iter().filter_map(DeviceReading::host).collect();
            hosts.dedup();
            hosts.len()
        };
        self.seen = Some((readings.len(), hosts));
        Ok(readings)
    }
}

/// A source that cannot be used (its engine could not be built), saying why on every sample.
pub struct Unusable {
    pub engine: String,
    pub reason: String,
}

impl GpuSource for Unusable {
    fn describe(&self) -> String {
        format!("prometheus engine `{}`", self.engine)
    }

    fn fleet(&self) -> Option<String> {
        Some(self.engine.clone())
    }

    fn sample(&mut self) -> Result<Vec<DeviceReading>, SourceError> {
        Err(SourceError::Failed(format!("engine `{}` cannot be used: {}", self.engine, self.reason)))
    }
}
