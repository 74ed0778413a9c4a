//! Numbers as both faces print them.

const GIB: f64 = (1u64 << 30) as f64;

/// Bytes as GiB with one decimal: `57.6`.
pub fn gib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / GIB)
}

/// Milliwatts as whole watts: `310`.
pub fn watts(milliwatts: u32) -> String {
    format!("{}", (milliwatts + 500) / 1000)
}

/// KB/s as a short rate: `850K`, `12.3M`, `1.1G` (bytes per second).
pub fn rate(kilobytes: u32) -> String {
    let kb = f64::from(kilobytes);
    if kb < 1000.0 {
        format!("{kilobytes}K")
    } else if kb < 1_000_000.0 {
        format!("{:.1}M", kb / 1024.0)
    } else {
        format!("{:.1}G", kb / 1024.0 / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_like_nvidia_smi() {
        assert_eq!(gib(80 << 30), "80.0");
        assert_eq!(gib(3 << 29), "1.5");
        assert_eq!(watts(310_499), "310");
        assert_eq!(watts(310_500), "311");
        assert_eq!(rate(850), "850K");
        assert_eq!(rate(12_595), "12.3M");
    }
}
