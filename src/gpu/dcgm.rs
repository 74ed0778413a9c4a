//! The DCGM exporter's metrics as GPU samples: one instant query per metric
//! (never one per host), joined per GPU by host (`Hostname`, else `instance`)
//! and GPU (`gpu`, else `UUID`).
//!
//! Each query asks the server for the joining labels only
//! (`max by (Hostname, instance, gpu, UUID, modelName) (METRIC)`): the
//! exporter and the scrape add many more (driver version, PCI address, pod,
//! job, whatever relabelling adds), which would double the answer's size for
//! nothing. A GPU appears once per series set, so `max` changes no value; it
//! only merges the same GPU scraped twice.
//!
//! UI-free and I/O-free: `Fleet` takes each metric's answer as it comes and
//! `readings` turns them into one `DeviceReading` per GPU, host by host.

use super::sample::{DeviceReading, GpuSample, Memory, Reading};
use crate::engine::prometheus::TypedSample;
use crate::util::sanitize::sanitize_str;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;

/// The metrics read, one query each per refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Percent.
    Utilization,
    /// MiB.
    FbUsed,
    /// MiB.
    FbFree,
    /// °C.
    Temperature,
    /// W.
    Power,
    /// W; not in the exporter's default set of counters, so often absent.
    PowerLimit,
    /// The last Xid code, 0 for none.
    Xid,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Metric::Utilization,
        Metric::FbUsed,
        Metric::FbFree,
        Metric::Temperature,
        Metric::Power,
        Metric::PowerLimit,
        Metric::Xid,
    ];

    /// The instant query for this metric: its series, keeping only the labels a GPU is joined by.
    pub fn query(self) -> String {
        format!("max by (Hostname, instance, gpu, UUID, modelName) ({})", self.name())
    }

    /// The metric's name as the exporter writes it.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Utilization => "DCGM_FI_DEV_GPU_UTIL",
            Metric::FbUsed => "DCGM_FI_DEV_FB_USED",
            Metric::FbFree => "DCGM_FI_DEV_FB_FREE",
            Metric::Temperature => "DCGM_FI_DEV_GPU_TEMP",
            Metric::Power => "DCGM_FI_DEV_POWER_USAGE",
            Metric::PowerLimit => "DCGM_FI_DEV_POWER_MGMT_LIMIT",
            Metric::Xid => "DCGM_FI_DEV_XID_ERRORS",
        }
    }
}

/// The labels a DCGM series is joined by, borrowed from the answer; every
/// other label is skipped unparsed.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DcgmLabels<'a> {
    #[serde(rename = "Hostname", default, borrow)]
    pub hostname: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub instance: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub gpu: Option<Cow<'a, str>>,
    #[serde(rename = "UUID", default, borrow)]
    pub uuid: Option<Cow<'a, str>>,
    #[serde(rename = "modelName", default, borrow)]
    pub model: Option<Cow<'a, str>>,
}

impl DcgmLabels<'_> {
    /// The host: the exporter's `Hostname`, else the scrape's `instance`.
    fn host(&self) -> Option<&str> {
        self.hostname.as_deref().filter(|h| !h.is_empty()).or(self.instance.as_deref().filter(|i| !i.is_empty()))
    }

    /// The GPU within its host: its index, else its UUID.
    fn gpu_key(&self) -> Option<&str> {
        self.gpu.as_deref().filter(|g| !g.is_empty()).or(self.uuid.as_deref().filter(|u| !u.is_empty()))
    }
}

/// What is known of one GPU so far.
#[derive(Debug, Default)]
struct Partial {
    index: Option<u32>,
    uuid: Option<String>,
    model: Option<String>,
    values: [Option<f64>; Metric::ALL.len()],
}

/// The fleet being assembled from one refresh's answers.
#[derive(Debug, Default)]
pub struct Fleet {
    /// host -> GPU key -> what its series said.
    hosts: HashMap<String, HashMap<String, Partial>>,
    /// Series without a host or a GPU label, which cannot be placed.
    pub unplaced: usize,
}

impl Fleet {
    /// Folds one metric's answer in; a value that is not a finite number counts as missing.
    pub fn add(&mut self, metric: Metric, answer: Vec<TypedSample<DcgmLabels<'_>>>) {
        let slot = Metric::ALL.iter().position(|m| *m == metric).unwrap_or(0);
        for sample in answer {
            let labels = sample.labels;
            let (Some(host), Some(key)) = (labels.host(), labels.gpu_key()) else {
                self.unplaced += 1;
                continue;
            };
            let gpus = match self.hosts.get_mut(host) {
                Some(gpus) => gpus,
                None => self.hosts.entry(host.to_string()).or_default(),
            };
            let partial = match gpus.get_mut(key) {
                Some(partial) => partial,
                None => gpus.entry(key.to_string()).or_default(),
            };
            if partial.index.is_none() {
                partial.index = labels.gpu.as_deref().and_then(|g| g.parse().ok());
            }
            if partial.uuid.is_none() {
                partial.uuid = labels.uuid.map(Cow::into_owned);
            }
            if partial.model.is_none() {
                partial.model = labels.model.map(Cow::into_owned);
            }
            if sample.value.is_finite() {
                partial.values[slot] = Some(sample.value);
            }
        }
    }

    pub fn gpu_count(&self) -> usize {
        self.hosts.values().map(HashMap::len).sum()
    }

    /// One reading per GPU, hosts and GPUs in a stable order. Host, model and
    /// UUID come from labels, so they are sanitised here, once per GPU.
    pub fn readings(self) -> Vec<DeviceReading> {
        let mut hosts: Vec<(String, HashMap<String, Partial>)> = self.hosts.into_iter().collect();
        hosts.sort_by(|a, b| natural_cmp(&a.0, &b.0));
        let mut out = Vec::with_capacity(hosts.iter().map(|(_, gpus)| gpus.len()).sum());
        for (host, gpus) in hosts {
            let host = clean(&host);
            let mut gpus: Vec<(String, Partial)> = gpus.into_iter().collect();
            gpus.sort_by(|a, b| a.1.index.cmp(&b.1.index).then_with(|| natural_cmp(&a.0, &b.0)));
            // A GPU without an index label takes the next free number on its host.
            let mut next = gpus.iter().filter_map(|(_, p)| p.index).max().map_or(0, |i| i + 1);
            for (_, partial) in gpus {
                let index = partial.index.unwrap_or_else(|| {
                    next += 1;
                    next - 1
                });
                out.push(DeviceReading::Sampled(Box::new(sample(&host, index, partial))));
            }
        }
        out
    }
}

/// Label text made safe for the terminal; plain printable ASCII (nearly always) is taken as it is.
fn clean(text: &str) -> String {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) { text.to_string() } else { sanitize_str(text) }
}

fn sample(host: &str, index: u32, partial: Partial) -> GpuSample {
    let value = |metric: Metric| partial.values[Metric::ALL.iter().position(|m| *m == metric).unwrap_or(0)];
    let whole = |metric: Metric| value(metric).filter(|v| *v >= 0.0).map(|v| v.round().min(f64::from(u32::MAX)) as u32);
    let reading = |v: Option<u32>| v.map_or(Reading::NotSupported, Reading::Value);
    let model = partial.model.as_deref().map_or_else(|| "GPU".to_string(), clean);
    let mut gpu = GpuSample::bare(index, model);
    gpu.host = Some(host.to_string());
    gpu.uuid = partial.uuid.as_deref().map_or(Reading::NotSupported, |u| Reading::Value(clean(u)));
    gpu.utilization_gpu = reading(whole(Metric::Utilization).map(|u| u.min(100)));
    const MIB: f64 = (1u64 << 20) as f64;
    gpu.memory = match (value(Metric::FbUsed), value(Metric::FbFree)) {
        (Some(used), Some(free)) if used >= 0.0 && free >= 0.0 => {
            Reading::Value(Memory { used: (used * MIB) as u64, total: ((used + free) * MIB) as u64 })
        }
        _ => Reading::NotSupported,
    };
    gpu.temperature = reading(whole(Metric::Temperature));
    let milliwatts = |metric: Metric| {
        value(metric).filter(|w| *w >= 0.0).map(|w| (w * 1000.0).round().min(f64::from(u32::MAX)) as u32)
    };
    gpu.power_draw_mw = reading(milliwatts(Metric::Power));
    gpu.power_limit_mw = reading(milliwatts(Metric::PowerLimit).filter(|l| *l > 0));
    gpu.xid = reading(whole(Metric::Xid));
    gpu
}

/// Compares names so that `gpu-2` comes before `gpu-10`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
                let (da, db) = (digits(a), digits(b));
                let (na, nb) = (&a[..da], &b[..db]);
                let trim = |s: &'_ [u8]| -> usize { s.iter().take_while(|c| **c == b'0').count() };
                let (ta, tb) = (&na[trim(na)..], &nb[trim(nb)..]);
                let order = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb)).then_with(|| da.cmp(&db));
                if order != std::cmp::Ordering::Equal {
                    return order;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(host: &str, gpu: &str, value: f64) -> TypedSample<DcgmLabels<'static>> {
        TypedSample {
            labels: DcgmLabels {
                hostname: Some(host.to_string().into()),
                instance: Some("10.0.0.9:9400".into()),
                gpu: Some(gpu.to_string().into()),
                uuid: Some(format!("GPU-{host}-{gpu}").into()),
                model: Some("NVIDIA H100 80GB HBM3".into()),
            },
            value,
        }
    }

    fn samples(readings: Vec<DeviceReading>) -> Vec<GpuSample> {
        readings
            .into_iter()
            .map(|r| match r {
                DeviceReading::Sampled(s) => *s,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn answers_join_per_host_and_gpu_with_units_converted() {
        let mut fleet = Fleet::default();
        fleet.add(Metric::Utilization, vec![series("gpu-10", "0", 55.0), series("gpu-2", "1", 7.0)]);
        fleet.add(Metric::FbUsed, vec![series("gpu-10", "0", 1024.0)]);
        fleet.add(Metric::FbFree, vec![series("gpu-10", "0", 3072.0)]);
        fleet.add(Metric::Power, vec![series("gpu-10", "0", 251.46)]);
        fleet.add(Metric::Xid, vec![series("gpu-10", "0", 79.0), series("gpu-2", "1", f64::NAN)]);
        let gpus = samples(fleet.readings());
        assert_eq!(gpus.len(), 2);
        assert_eq!(gpus[0].host.as_deref(), Some("gpu-2"), "natural order: gpu-2 before gpu-10");
        assert_eq!((gpus[0].index, gpus[0].utilization_gpu.get()), (1, Some(7)));
        assert_eq!(gpus[0].memory, Reading::NotSupported, "no framebuffer series: unknown, not zero");
        assert_eq!(gpus[0].xid, Reading::NotSupported, "NaN is missing");
        let a = &gpus[1];
        assert_eq!(a.memory.get(), Some(Memory { used: 1 << 30, total: 4 << 30 }));
        assert_eq!(a.power_draw_mw.get(), Some(251_460));
        assert_eq!(a.power_limit_mw, Reading::NotSupported, "no limit series: unknown");
        assert_eq!(a.xid.get(), Some(79));
        assert_eq!(a.name, "NVIDIA H100 80GB HBM3");
        assert_eq!(a.uuid.value().map(String::as_str), Some("GPU-gpu-10-0"));
    }

    #[test]
    fn instance_stands_in_for_a_missing_hostname_and_unplaceable_series_are_counted() {
        let mut fleet = Fleet::default();
        let mut no_hostname = series("x", "3", 10.0);
        no_hostname.labels.hostname = None;
        let mut nothing = series("x", "0", 1.0);
        nothing.labels = DcgmLabels::default();
        fleet.add(Metric::Utilization, vec![no_hostname, nothing]);
        assert_eq!(fleet.unplaced, 1);
        let gpus = samples(fleet.readings());
        assert_eq!(gpus[0].host.as_deref(), Some("10.0.0.9:9400"));
        assert_eq!(gpus[0].index, 3);
    }

    #[test]
    fn hostile_label_values_are_sanitised() {
        let mut fleet = Fleet::default();
        let mut evil = series("gpu-a\u{1b}[2J", "0", 10.0);
        evil.labels.model = Some("H100\u{7}\r\n".into());
        fleet.add(Metric::Utilization, vec![evil]);
        let gpu = &samples(fleet.readings())[0];
        assert!(!gpu.host.as_deref().unwrap().contains('\u{1b}'), "{:?}", gpu.host);
        assert!(!gpu.name.contains('\u{7}') && !gpu.name.contains('\n'), "{:?}", gpu.name);
    }

    #[test]
    fn a_recorded_answer_decodes_with_escaped_labels_and_odd_values() {
        use crate::engine::prometheus::Answer;
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"__name__":"DCGM_FI_DEV_GPU_TEMP","Hostname":"gpu-\"a\"","gpu":"0","job":"dcgm"},"value":[1.5,"71"]},
            {"metric":{"Hostname":"gpu-b","gpu":"1","UUID":"GPU-1"},"value":[1.5,"NaN"]},
            {"metric":{"Hostname":"gpu-b","gpu":"2"},"histogram":[1.5,{}]}]}}"#;
        let answer = Answer::recorded(body.as_bytes().to_vec());
        let series = answer.vector::<DcgmLabels>(100).unwrap();
        assert_eq!(series.len(), 2, "a sample without a value is left out");
        assert_eq!(series[0].labels.hostname.as_deref(), Some("gpu-\"a\""), "escapes decoded");
        let mut fleet = Fleet::default();
        fleet.add(Metric::Temperature, series);
        let gpus = samples(fleet.readings());
        assert_eq!(gpus[0].temperature.get(), Some(71));
        assert_eq!(gpus[1].temperature, Reading::NotSupported, "NaN is no temperature");
        let too_many = answer.vector::<DcgmLabels>(1).unwrap_err();
        assert_eq!(too_many, crate::engine::Problem::TooManySeries { found: 3, limit: 1 });
        let html = Answer::recorded(b"<html>login</html>".to_vec()).vector::<DcgmLabels>(100).unwrap_err();
        assert!(matches!(html, crate::engine::Problem::NotJson(ref text) if text.contains("<html>login")), "{html:?}");
    }

    #[test]
    fn natural_order_reads_numbers_as_numbers() {
        let mut names = vec!["gpu-10", "gpu-2", "gpu-02b", "gpu-1", "a"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, vec!["a", "gpu-1", "gpu-2", "gpu-02b", "gpu-10"]);
    }
}
