//! How worried to be about a GPU: memory (the users' 90% rule), temperature
//! and power against the `[gpu]` thresholds.

use super::sample::GpuSample;
use crate::config::GpuConfig;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Ok,
    Warn,
    Crit,
}

impl Level {
    /// The word shown next to a value, so the level reads without colour.
    pub fn word(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "WARN",
            Level::Crit => "CRIT",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub memory_warn: f64,
    pub memory_critical: f64,
    pub temperature_warn: u32,
    pub temperature_critical: u32,
    pub power_warn: f64,
    pub power_critical: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds::from_config(&GpuConfig::default())
    }
}

/// The level of each gauge of one GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Levels {
    pub memory: Level,
    pub temperature: Level,
    pub power: Level,
}

impl Levels {
    pub fn worst(&self) -> Level {
        self.memory.max(self.temperature).max(self.power)
    }
}

fn level(value: f64, warn: f64, critical: f64) -> Level {
    if value >= critical {
        Level::Crit
    } else if value >= warn {
        Level::Warn
    } else {
        Level::Ok
    }
}

impl Thresholds {
    pub fn from_config(config: &GpuConfig) -> Thresholds {
        Thresholds {
            memory_warn: config.memory_warn.get_ref().0,
            memory_critical: config.memory_critical.get_ref().0,
            temperature_warn: *config.temperature_warn.get_ref(),
            temperature_critical: *config.temperature_critical.get_ref(),
            power_warn: config.power_warn.get_ref().0,
            power_critical: config.power_critical.get_ref().0,
        }
    }

    pub fn memory(&self, percent: f64) -> Level {
        level(percent, self.memory_warn, self.memory_critical)
    }

    /// Reaching the card's own slowdown temperature is critical even below the configured threshold.
    pub fn temperature(&self, celsius: u32, slowdown: Option<u32>) -> Level {
        let critical = slowdown.map_or(self.temperature_critical, |s| s.min(self.temperature_critical));
        let warn = self.temperature_warn.min(critical);
        level(f64::from(celsius), f64::from(warn), f64::from(critical))
    }

    pub fn power(&self, percent_of_limit: f64) -> Level {
        level(percent_of_limit, self.power_warn, self.power_critical)
    }

    /// Levels of one sample; a field that could not be read is not a reason to worry here.
    pub fn levels(&self, sample: &GpuSample) -> Levels {
        Levels {
            memory: sample.memory.get().map_or(Level::Ok, |m| self.memory(m.percent())),
            temperature: sample
                .temperature
                .get()
                .map_or(Level::Ok, |t| self.temperature(t, sample.temperature_slowdown.get())),
            power: sample.power_percent().map_or(Level::Ok, |p| self.power(p)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::sample::{Memory, Reading};

    #[test]
    fn ninety_percent_memory_is_a_warning_by_default() {
        let t = Thresholds::default();
        assert_eq!(t.memory(89.9), Level::Ok);
        assert_eq!(t.memory(90.0), Level::Warn);
        assert_eq!(t.memory(97.0), Level::Crit);
    }

    #[test]
    fn slowdown_temperature_caps_the_critical_threshold() {
        let t = Thresholds::default();
        assert_eq!(t.temperature(79, None), Level::Ok);
        assert_eq!(t.temperature(84, None), Level::Warn);
        assert_eq!(t.temperature(84, Some(83)), Level::Crit);
        assert_eq!(t.temperature(90, None), Level::Crit);
    }

    #[test]
    fn levels_of_a_sample_ignore_missing_fields() {
        let t = Thresholds::default();
        let mut sample = GpuSample::bare(0, "x");
        assert_eq!(t.levels(&sample).worst(), Level::Ok);
        sample.memory = Reading::Value(Memory { used: 95, total: 100 });
        sample.power_draw_mw = Reading::Value(300_000);
        sample.power_limit_mw = Reading::Value(310_000);
        let levels = t.levels(&sample);
        assert_eq!(levels.memory, Level::Crit);
        assert_eq!(levels.power, Level::Warn);
        assert_eq!(levels.worst(), Level::Crit);
    }
}
