//! `[gpu]`: where GPUs are read from (NVML on this host, a simulation, or
//! every host's DCGM exporter metrics through a Prometheus engine), how often,
//! and the thresholds that colour them.

use super::Config;
use super::units::{HumanDuration, Percent};
use super::validate::Problems;
use serde::Deserialize;
use std::time::Duration;
use toml::Spanned;

/// The most GPUs the simulated source will pretend to have.
pub const MAX_SIMULATED_GPUS: u32 = 16;
/// GPUs of `source = "simulated"` when `simulate` does not say how many.
pub const DEFAULT_SIMULATED_GPUS: u32 = 4;
/// Time between two looks at a local GPU (what `nvidia-smi -l` uses).
pub const LOCAL_EVERY: Duration = Duration::from_secs(1);
/// Time between two fleet refreshes. The DCGM exporter collects every 30s by
/// default and Prometheus scrapes every 15-60s, so asking every second would
/// mostly re-read the same values; 5s shows a new scrape within 5s of it
/// landing, at 7 instant queries per refresh whatever the fleet's size.
pub const FLEET_EVERY: Duration = Duration::from_secs(5);

/// `[gpu] source`: where the GPU tab and `firstwatch gpu` read GPUs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GpuSourceKind {
    /// This host's NVIDIA GPUs through NVML.
    #[default]
    Nvml,
    /// Made-up GPUs (`simulate` says how many), labelled as such.
    Simulated,
    /// Every host's GPUs from the DCGM exporter's metrics in a Prometheus engine.
    Prometheus,
}

impl GpuSourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GpuSourceKind::Nvml => "nvml",
            GpuSourceKind::Simulated => "simulated",
            GpuSourceKind::Prometheus => "prometheus",
        }
    }
}

/// `[gpu]`: GPU sampling and thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GpuConfig {
    /// nvml (default), simulated, or prometheus. `simulate = N` alone means simulated.
    pub source: Option<Spanned<GpuSourceKind>>,
    /// The `[[engine]]` a prometheus source reads; may be left out when there is one prometheus engine.
    pub engine: Option<Spanned<String>>,
    /// Time between two samples (default 1s; 5s for a prometheus source).
    pub every: Option<Spanned<HumanDuration>>,
    /// How long one NVML sample may take before the tab says the driver is not answering.
    pub timeout: Spanned<HumanDuration>,
    /// How much history the sparklines keep (default 10m; at most `SPARK_POINTS` samples).
    pub history: Spanned<HumanDuration>,
    /// Use the simulated source with this many GPUs instead of NVML.
    pub simulate: Option<Spanned<u32>>,
    /// Seed of the simulated source, so two runs show the same numbers.
    pub seed: u64,
    /// Memory use at which a GPU is shown as a warning (default 90%, the users' rule).
    pub memory_warn: Spanned<Percent>,
    pub memory_critical: Spanned<Percent>,
    /// Temperatures in °C.
    pub temperature_warn: Spanned<u32>,
    pub temperature_critical: Spanned<u32>,
    /// Power draw as a share of the power limit.
    pub power_warn: Spanned<Percent>,
    pub power_critical: Spanned<Percent>,
    /// Where `gpu = "xid"` checks read the driver's Xid reports (default the kernel log, /dev/kmsg).
    pub kernel_log: std::path::PathBuf,
    /// How long an Xid report keeps an xid check critical (default 24h).
    pub xid_window: Spanned<HumanDuration>,
}

fn spanned<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}

impl Default for GpuConfig {
    fn default() -> Self {
        GpuConfig {
            source: None,
            engine: None,
            every: None,
            timeout: spanned(HumanDuration(Duration::from_secs(5))),
            history: spanned(HumanDuration(Duration::from_secs(600))),
            simulate: None,
            seed: 1,
            memory_warn: spanned(Percent(90.0)),
            memory_critical: spanned(Percent(95.0)),
            temperature_warn: spanned(80),
            temperature_critical: spanned(90),
            power_warn: spanned(Percent(90.0)),
            power_critical: spanned(Percent(100.0)),
            kernel_log: "/dev/kmsg".into(),
            xid_window: spanned(HumanDuration(Duration::from_secs(24 * 3600))),
        }
    }
}

impl GpuConfig {
    /// Where GPUs are read from: as written, else simulated when `simulate` is set, else NVML.
    pub fn source(&self) -> GpuSourceKind {
        match (&self.source, &self.simulate) {
            (Some(kind), _) => *kind.get_ref(),
            (None, Some(_)) => GpuSourceKind::Simulated,
            (None, None) => GpuSourceKind::Nvml,
        }
    }

    pub fn every(&self) -> Duration {
        match &self.every {
            Some(every) => every.get_ref().get(),
            None if self.source() == GpuSourceKind::Prometheus => FLEET_EVERY,
            None => LOCAL_EVERY,
        }
    }

    /// The engine named by `engine`, or the only prometheus engine.
    pub fn engine_name(&self) -> Option<&str> {
        self.engine.as_ref().map(|e| e.get_ref().as_str())
    }

    pub fn timeout(&self) -> Duration {
        self.timeout.get_ref().get()
    }

    pub fn history(&self) -> Duration {
        self.history.get_ref().get()
    }

    pub fn xid_window(&self) -> Duration {
        self.xid_window.get_ref().get()
    }

    /// How many GPUs to simulate, when the source is the simulation.
    pub fn simulated_gpus(&self) -> Option<u32> {
        (self.source() == GpuSourceKind::Simulated)
            .then(|| self.simulate.as_ref().map_or(DEFAULT_SIMULATED_GPUS, |n| *n.get_ref()))
    }
}

pub(super) fn validate(config: &Config, problems: &mut Problems) {
    let gpu = &config.gpu;
    let every = gpu.every();
    if let Some(written) = &gpu.every {
        if every < Duration::from_millis(100) || every > Duration::from_secs(3600) {
            problems.push(
                written.span(),
                format!("gpu sampling interval `{}` is outside 100ms..1h", written.get_ref()),
                Some("NVML needs a few milliseconds per GPU; \"1s\" is what nvidia-smi -l uses"),
            );
        } else if gpu.source() == GpuSourceKind::Prometheus && every < Duration::from_secs(1) {
            problems.push(
                written.span(),
                format!("a prometheus gpu source refreshes at most once a second, not every `{}`", written.get_ref()),
                Some("the exporter's numbers change once per scrape; the default is \"5s\""),
            );
        }
    }
    validate_source(config, problems);
    let timeout = gpu.timeout();
    if timeout < Duration::from_millis(100) || timeout > Duration::from_secs(60) {
        problems.push(
            gpu.timeout.span(),
            format!("gpu timeout `{}` is outside 100ms..60s", gpu.timeout.get_ref()),
            Some("a healthy driver answers in milliseconds; the default is \"5s\""),
        );
    }
    let history = gpu.history();
    if history < every || history > Duration::from_secs(24 * 3600) {
        problems.push(
            gpu.history.span(),
            format!("gpu history `{}` must be at least one sampling interval and at most 24h", gpu.history.get_ref()),
            None,
        );
    }
    if let Some(count) = &gpu.simulate
        && !(1..=MAX_SIMULATED_GPUS).contains(count.get_ref())
    {
        problems.push(
            count.span(),
            format!("simulate = {} is outside 1..={MAX_SIMULATED_GPUS}", count.get_ref()),
            Some("remove `simulate` to read real GPUs through NVML"),
        );
    }
    if gpu.xid_window().is_zero() {
        problems.push(gpu.xid_window.span(), "xid_window must be longer than 0s".to_string(), Some("e.g. \"24h\""));
    }
    warn_below_critical(problems, "memory", &gpu.memory_warn, &gpu.memory_critical);
    warn_below_critical(problems, "power", &gpu.power_warn, &gpu.power_critical);
    for temperature in [&gpu.temperature_warn, &gpu.temperature_critical] {
        if !(1..=150).contains(temperature.get_ref()) {
            problems.push(
                temperature.span(),
                format!("temperature {}°C is outside 1..=150", temperature.get_ref()),
                Some("GPU temperatures are written in °C, e.g. 85"),
            );
        }
    }
    if gpu.temperature_warn.get_ref() >= gpu.temperature_critical.get_ref() {
        problems.push(
            gpu.temperature_warn.span(),
            format!(
                "temperature_warn ({}°C) must be below temperature_critical ({}°C)",
                gpu.temperature_warn.get_ref(),
                gpu.temperature_critical.get_ref()
            ),
            None,
        );
    }
}

/// `source`, `simulate` and `engine` must agree, and the engine must be a prometheus one.
fn validate_source(config: &Config, problems: &mut Problems) {
    let gpu = &config.gpu;
    let kind = gpu.source();
    if let (Some(written), Some(count)) = (&gpu.source, &gpu.simulate)
        && kind != GpuSourceKind::Simulated
    {
        problems.push(
            count.span(),
            format!("simulate = {} goes with source = \"simulated\", not \"{}\"", count.get_ref(), kind.as_str()),
            Some(if written.get_ref() == &GpuSourceKind::Prometheus {
                "remove `simulate`: the prometheus source reads every host's real GPUs"
            } else {
                "remove `simulate` to read real GPUs through NVML, or set source = \"simulated\""
            }),
        );
    }
    match (&gpu.engine, kind) {
        (Some(engine), GpuSourceKind::Prometheus) => {
            let name = engine.get_ref();
            match config.engines.iter().find(|e| e.name.get_ref() == name) {
                Some(found) if found.kind == super::EngineKind::Prometheus => {}
                Some(found) => problems.push(
                    engine.span(),
                    format!("[gpu] engine `{name}` is {}, not prometheus", found.kind.as_str()),
                    Some("GPUs come from the DCGM exporter's metrics, which a prometheus engine holds"),
                ),
                None => {
                    let known: Vec<&str> = config
                        .engines
                        .iter()
                        .filter(|e| e.kind == super::EngineKind::Prometheus)
                        .map(|e| e.name.get_ref().as_str())
                        .collect();
                    let hint = if known.is_empty() {
                        "add an [[engine]] with kind = \"prometheus\"".to_string()
                    } else {
                        format!("prometheus engines: {}", known.join(", "))
                    };
                    problems.push(engine.span(), format!("[gpu] engine `{name}` is not an [[engine]]"), Some(&hint));
                }
            }
        }
        (Some(engine), other) => problems.push(
            engine.span(),
            format!("[gpu] engine is read only by source = \"prometheus\", not \"{}\"", other.as_str()),
            Some("set source = \"prometheus\" to read the fleet's GPUs, or remove `engine`"),
        ),
        (None, GpuSourceKind::Prometheus) => {
            let count = config.engines.iter().filter(|e| e.kind == super::EngineKind::Prometheus).count();
            if count != 1 {
                let span = gpu.source.as_ref().map_or(0..0, |s| s.span());
                let message = if count == 0 {
                    "source = \"prometheus\" needs an [[engine]] with kind = \"prometheus\"".to_string()
                } else {
                    format!("source = \"prometheus\" with {count} prometheus engines: name one with `engine`")
                };
                problems.push(span, message, Some("e.g. engine = \"prom\" under [gpu]"));
            }
        }
        (None, _) => {}
    }
}

fn warn_below_critical(problems: &mut Problems, what: &str, warn: &Spanned<Percent>, critical: &Spanned<Percent>) {
    if warn.get_ref().0 >= critical.get_ref().0 {
        problems.push(
            warn.span(),
            format!("{what}_warn ({}) must be below {what}_critical ({})", warn.get_ref(), critical.get_ref()),
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{ConfigError, load_str};
    use std::path::Path;
    use std::time::Duration;

    #[test]
    fn a_full_section_parses_with_bare_numbers_and_percentages() {
        let text = "[gpu]\nevery = \"2s\"\ntimeout = \"3s\"\nhistory = \"30m\"\nsimulate = 8\nseed = 42\n\
                    memory_warn = 85\nmemory_critical = \"97%\"\ntemperature_warn = 83\ntemperature_critical = 92\n\
                    power_warn = \"80%\"\npower_critical = \"99%\"\n";
        let config = load_str(text, Path::new("fw.toml")).unwrap();
        let gpu = &config.gpu;
        assert_eq!(gpu.every(), Duration::from_secs(2));
        assert_eq!(gpu.history(), Duration::from_secs(1800));
        assert_eq!(gpu.simulated_gpus(), Some(8));
        assert_eq!(gpu.memory_warn.get_ref().0, 85.0);
        assert_eq!(*gpu.temperature_critical.get_ref(), 92);
    }

    #[test]
    fn an_empty_config_reads_nvml_every_second_with_the_90_percent_rule() {
        let config = load_str("", Path::new("fw.toml")).unwrap();
        assert_eq!(config.gpu.simulated_gpus(), None);
        assert_eq!(config.gpu.every(), Duration::from_secs(1));
        assert_eq!(config.gpu.memory_warn.get_ref().0, 90.0);
    }

    #[test]
    fn history_shorter_than_one_sample_and_a_zero_timeout_are_refused() {
        let text = "[gpu]\nevery = \"10s\"\nhistory = \"5s\"\ntimeout = \"0s\"\n";
        let Err(ConfigError::Invalid(problems)) = load_str(text, Path::new("fw.toml")) else { panic!("accepted") };
        let all: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(all.iter().any(|p| p.contains("fw.toml:3:11") && p.contains("gpu history `5s`")), "{all:?}");
        assert!(all.iter().any(|p| p.contains("fw.toml:4:11") && p.contains("gpu timeout `0ms`")), "{all:?}");
    }

    const PROM: &str = "[[engine]]\nname = \"prom\"\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:9090\"\n\
                        [[engine]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"http://127.0.0.1:9093\"\n";

    fn problems(text: &str) -> Vec<String> {
        match load_str(text, Path::new("fw.toml")) {
            Err(ConfigError::Invalid(problems)) => problems.iter().map(|p| p.to_string()).collect(),
            Err(other) => vec![other.to_string()],
            Ok(_) => panic!("accepted:\n{text}"),
        }
    }

    #[test]
    fn a_prometheus_source_takes_the_only_prometheus_engine_and_refreshes_every_5s() {
        use super::GpuSourceKind;
        let config = load_str(&format!("{PROM}[gpu]\nsource = \"prometheus\"\n"), Path::new("fw.toml")).unwrap();
        assert_eq!(config.gpu.source(), GpuSourceKind::Prometheus);
        assert_eq!(config.gpu.every(), Duration::from_secs(5));
        assert_eq!(config.gpu.simulated_gpus(), None);
        let named = format!("{PROM}[gpu]\nsource = \"prometheus\"\nengine = \"prom\"\nevery = \"15s\"\n");
        assert_eq!(load_str(&named, Path::new("fw.toml")).unwrap().gpu.every(), Duration::from_secs(15));
    }

    #[test]
    fn simulate_alone_still_simulates_and_source_simulated_defaults_to_four() {
        use super::GpuSourceKind;
        let old = load_str("[gpu]\nsimulate = 2\n", Path::new("fw.toml")).unwrap();
        assert_eq!((old.gpu.source(), old.gpu.simulated_gpus()), (GpuSourceKind::Simulated, Some(2)));
        let new = load_str("[gpu]\nsource = \"simulated\"\n", Path::new("fw.toml")).unwrap();
        assert_eq!(new.gpu.simulated_gpus(), Some(4));
        assert_eq!(new.gpu.every(), Duration::from_secs(1));
    }

    #[test]
    fn conflicting_source_simulate_and_engine_are_refused_where_written() {
        let all = problems(&format!("{PROM}[gpu]\nsource = \"prometheus\"\nengine = \"prom\"\nsimulate = 4\n"));
        assert!(
            all.iter().any(|p| p.contains("fw.toml:12:12") && p.contains("goes with source = \"simulated\"")),
            "{all:?}"
        );
        let all = problems("[gpu]\nsource = \"nvml\"\nengine = \"prom\"\n");
        assert!(
            all.iter().any(|p| p.contains("fw.toml:3:10") && p.contains("only by source = \"prometheus\"")),
            "{all:?}"
        );
        let all = problems(&format!("{PROM}[gpu]\nsource = \"prometheus\"\nengine = \"am\"\n"));
        assert!(all.iter().any(|p| p.contains("fw.toml:11:10") && p.contains("`am` is alertmanager")), "{all:?}");
        let all = problems(&format!("{PROM}[gpu]\nsource = \"prometheus\"\nengine = \"nope\"\n"));
        assert!(all.iter().any(|p| p.contains("`nope` is not an [[engine]]") && p.contains("prom")), "{all:?}");
        let all = problems("[gpu]\nsource = \"prometheus\"\n");
        assert!(all.iter().any(|p| p.contains("fw.toml:2:10") && p.contains("needs an [[engine]]")), "{all:?}");
        let all = problems(&format!("{PROM}[gpu]\nsource = \"prometheus\"\nevery = \"200ms\"\n"));
        assert!(all.iter().any(|p| p.contains("fw.toml:11:9") && p.contains("at most once a second")), "{all:?}");
        let all = problems("[gpu]\nsource = \"nvidia\"\n");
        assert!(
            all.iter().any(|p| p.contains("fw.toml:2") && p.contains("nvml") && p.contains("prometheus")),
            "{all:?}"
        );
    }
}
