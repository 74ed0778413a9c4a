//! `[gpu]`: how often GPUs are sampled, the thresholds that colour them, and
//! the simulated source for hosts without one.

use super::Config;
use super::units::{HumanDuration, Percent};
use super::validate::Problems;
use serde::Deserialize;
use std::time::Duration;
use toml::Spanned;

/// The most GPUs the simulated source will pretend to have.
pub const MAX_SIMULATED_GPUS: u32 = 16;

/// `[gpu]`: GPU sampling and thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GpuConfig {
    /// Time between two samples (default 1s).
    pub every: Spanned<HumanDuration>,
    /// How long one NVML sample may take before the tab says the driver is not answering.
    pub timeout: Spanned<HumanDuration>,
    /// How much history the sparklines keep (default 10m).
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
            every: spanned(HumanDuration(Duration::from_secs(1))),
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
    pub fn every(&self) -> Duration {
        self.every.get_ref().get()
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

    pub fn simulated_gpus(&self) -> Option<u32> {
        self.simulate.as_ref().map(|n| *n.get_ref())
    }
}

pub(super) fn validate(config: &Config, problems: &mut Problems) {
    let gpu = &config.gpu;
    let every = gpu.every();
    if every < Duration::from_millis(100) || every > Duration::from_secs(3600) {
        problems.push(
            gpu.every.span(),
            format!("gpu sampling interval `{}` is outside 100ms..1h", gpu.every.get_ref()),
            Some("NVML needs a few milliseconds per GPU; \"1s\" is what nvidia-smi -l uses"),
        );
    }
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
}
