//! `--query` with nvidia-smi's `--query-gpu` field names, so existing scripts
//! can switch over unchanged.

use super::sample::GpuSample;

/// Field names accepted by `--query`, as nvidia-smi spells them.
pub const FIELDS: &[&str] = &[
    "index",
    "name",
    "uuid",
    "memory.total",
    "memory.used",
    "memory.free",
    "temperature.gpu",
    "utilization.gpu",
    "utilization.memory",
    "power.draw",
    "power.limit",
    "fan.speed",
    "clocks.sm",
    "clocks.mem",
    "persistence_mode",
    // Not nvidia-smi's: the host of a fleet GPU ([N/A] for this host's own).
    "host",
];

/// Splits and checks a `--query` list; an unknown name is an error naming it.
pub fn parse_fields(list: &str) -> Result<Vec<String>, String> {
    let fields: Vec<String> = list.split(',').map(|f| f.trim().to_string()).filter(|f| !f.is_empty()).collect();
    if fields.is_empty() {
        return Err("--query needs at least one field, e.g. index,name,memory.used".into());
    }
    for field in &fields {
        if !FIELDS.contains(&field.as_str()) {
            return Err(format!("unknown --query field `{field}`; known: {}", FIELDS.join(", ")));
        }
    }
    Ok(fields)
}

/// `--format` as nvidia-smi takes it: `csv` with optional `noheader` and `nounits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CsvFormat {
    pub header: bool,
    pub units: bool,
}

pub fn parse_format(text: &str) -> Result<CsvFormat, String> {
    let mut format = CsvFormat { header: true, units: true };
    let mut csv = false;
    for part in text.split(',').map(str::trim) {
        match part {
            "csv" => csv = true,
            "noheader" => format.header = false,
            "nounits" => format.units = false,
            other => return Err(format!("unknown --format option `{other}`; use csv[,noheader][,nounits]")),
        }
    }
    if !csv {
        return Err("--format must include `csv`".into());
    }
    Ok(format)
}

fn unit(field: &str) -> Option<&'static str> {
    match field {
        "memory.total" | "memory.used" | "memory.free" => Some("MiB"),
        "utilization.gpu" | "utilization.memory" | "fan.speed" => Some("%"),
        "power.draw" | "power.limit" => Some("W"),
        "clocks.sm" | "clocks.mem" => Some("MHz"),
        _ => None,
    }
}

/// The header line: `index, name, memory.used [MiB]`.
pub fn header(fields: &[String], format: CsvFormat) -> String {
    fields
        .iter()
        .map(|f| match unit(f).filter(|_| format.units) {
            Some(unit) => format!("{f} [{unit}]"),
            None => f.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One GPU as one CSV line; unreadable fields are `[N/A]` as nvidia-smi writes them.
pub fn row(sample: &GpuSample, fields: &[String], format: CsvFormat) -> String {
    fields.iter().map(|field| cell(sample, field, format)).collect::<Vec<_>>().join(", ")
}

fn cell(sample: &GpuSample, field: &str, format: CsvFormat) -> String {
    const MIB: u64 = 1 << 20;
    let memory = sample.memory.get();
    let value: Option<String> = match field {
        "index" => Some(sample.index.to_string()),
        "host" => sample.host.as_deref().map(|h| h.replace(',', " ")),
        "name" => Some(sample.name.replace(',', " ")),
        "uuid" => sample.uuid.value().cloned(),
        "memory.total" => memory.map(|m| (m.total / MIB).to_string()),
        "memory.used" => memory.map(|m| (m.used / MIB).to_string()),
        "memory.free" => memory.map(|m| (m.free() / MIB).to_string()),
        "temperature.gpu" => sample.temperature.get().map(|t| t.to_string()),
        "utilization.gpu" => sample.utilization_gpu.get().map(|u| u.to_string()),
        "utilization.memory" => sample.utilization_memory.get().map(|u| u.to_string()),
        "power.draw" => sample.power_draw_mw.get().map(|mw| format!("{:.2}", f64::from(mw) / 1000.0)),
        "power.limit" => sample.power_limit_mw.get().map(|mw| format!("{:.2}", f64::from(mw) / 1000.0)),
        "fan.speed" => sample.fan.get().map(|f| f.to_string()),
        "clocks.sm" => sample.clock_sm.get().map(|c| c.to_string()),
        "clocks.mem" => sample.clock_memory.get().map(|c| c.to_string()),
        "persistence_mode" => sample.persistence_mode.get().map(|p| if p { "Enabled" } else { "Disabled" }.into()),
        _ => None,
    };
    match (value, unit(field).filter(|_| format.units)) {
        (Some(value), Some(unit)) => format!("{value} {unit}"),
        (Some(value), None) => value,
        (None, _) => "[N/A]".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::sample::{Memory, Reading};

    fn sample() -> GpuSample {
        let mut s = GpuSample::bare(0, "NVIDIA A100-SXM4-80GB");
        s.memory = Reading::Value(Memory { used: 1024 << 20, total: 81920 << 20 });
        s.temperature = Reading::Value(41);
        s.power_draw_mw = Reading::Value(61_234);
        s
    }

    #[test]
    fn the_users_query_reads_like_nvidia_smi() {
        let fields = parse_fields("index,name,memory.total,memory.used,memory.free,temperature.gpu").unwrap();
        let format = parse_format("csv,noheader").unwrap();
        assert_eq!(row(&sample(), &fields, format), "0, NVIDIA A100-SXM4-80GB, 81920 MiB, 1024 MiB, 80896 MiB, 41");
        let nounits = parse_format("csv,noheader,nounits").unwrap();
        assert_eq!(row(&sample(), &fields[3..4], nounits), "1024");
        assert_eq!(
            header(&fields[..4], parse_format("csv").unwrap()),
            "index, name, memory.total [MiB], memory.used [MiB]"
        );
    }

    #[test]
    fn unsupported_fields_are_na_and_bad_names_are_refused() {
        let fields = parse_fields("fan.speed,power.draw").unwrap();
        assert_eq!(row(&sample(), &fields, CsvFormat::default()), "[N/A], 61.23");
        assert!(parse_fields("index,memory.usd").unwrap_err().contains("unknown --query field `memory.usd`"));
        assert!(parse_format("json").is_err());
    }
}
