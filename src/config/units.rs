//! Human units in the config file: durations such as `15s` or `1h30m`,
//! percentages such as `80%`, and byte sizes such as `64KiB`.

use serde::{Deserialize, Deserializer, de};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A duration written the way people say it: `500ms`, `15s`, `2m`, `1h30m`, `7d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub fn get(self) -> Duration {
        self.0
    }
}

impl FromStr for HumanDuration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty duration; write e.g. \"15s\", \"2m\" or \"1h30m\"".into());
        }
        let mut total = Duration::ZERO;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            if digits == 0 {
                return Err(format!("`{text}` is not a duration; write e.g. \"15s\", \"2m\" or \"1h30m\""));
            }
            let number: u64 = rest[..digits].parse().map_err(|_| format!("`{text}`: number too large"))?;
            rest = &rest[digits..];
            let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let millis_per_unit: u64 = match unit {
                "ms" => 1,
                "s" | "sec" => 1_000,
                "m" | "min" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                "w" => 7 * 86_400_000,
                "" => return Err(format!("`{text}` needs a unit: ms, s, m, h, d or w")),
                other => return Err(format!("`{other}` is not a duration unit (use ms, s, m, h, d or w)")),
            };
            let millis =
                number.checked_mul(millis_per_unit).ok_or_else(|| format!("`{text}` is too long a duration"))?;
            total = total
                .checked_add(Duration::from_millis(millis))
                .ok_or_else(|| format!("`{text}` is too long a duration"))?;
        }
        Ok(HumanDuration(total))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

/// Formats a duration compactly for people: `850ms`, `12s`, `4m05s`, `3h12m`, `2d04h`.
pub fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs == 0 {
        return format!("{}ms", duration.as_millis());
    }
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        3600..86400 => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{:02}h", secs / 86400, secs % 86400 / 3600),
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

/// A percentage, written `80%` (or a bare number such as `80`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Percent(pub f64);

impl FromStr for Percent {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let number = text.trim().trim_end_matches('%').trim();
        let value: f64 = number.parse().map_err(|_| format!("`{text}` is not a percentage; write e.g. \"80%\""))?;
        if !(0.0..=100.0).contains(&value) {
            return Err(format!("`{text}` is outside 0%..100%"));
        }
        Ok(Percent(value))
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(value) => format!("{value}").parse().map_err(de::Error::custom),
            Raw::Text(text) => text.parse().map_err(de::Error::custom),
        }
    }
}

/// A size in bytes, written `64KiB`, `10MiB`, `1GiB` or a bare number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let split = trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len());
        let number: u64 =
            trimmed[..split].parse().map_err(|_| format!("`{text}` is not a size; write e.g. \"64KiB\""))?;
        let multiplier: u64 = match trimmed[split..].trim() {
            "" | "B" => 1,
            "K" | "KB" | "KiB" => 1 << 10,
            "M" | "MB" | "MiB" => 1 << 20,
            "G" | "GB" | "GiB" => 1 << 30,
            other => return Err(format!("`{other}` is not a size unit (use B, KiB, MiB or GiB)")),
        };
        number.checked_mul(multiplier).map(ByteSize).ok_or_else(|| format!("`{text}` is too large"))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(value) => Ok(ByteSize(value)),
            Raw::Text(text) => text.parse().map_err(de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_compound_forms() {
        let parse = |s: &str| s.parse::<HumanDuration>().map(|d| d.0);
        assert_eq!(parse("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("7d"), Ok(Duration::from_secs(7 * 86400)));
        assert!(parse("15").unwrap_err().contains("needs a unit"));
        assert!(parse("5 parsecs").is_err());
        assert!(parse("").is_err());
        assert!(parse("99999999999999999999d").is_err());
    }

    #[test]
    fn durations_format_compactly() {
        assert_eq!(format_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(format_duration(Duration::from_secs(245)), "4m05s");
        assert_eq!(format_duration(Duration::from_secs(3 * 3600 + 720)), "3h12m");
    }

    #[test]
    fn percents_and_sizes() {
        assert_eq!("80%".parse::<Percent>(), Ok(Percent(80.0)));
        assert!("180%".parse::<Percent>().is_err());
        assert_eq!("64KiB".parse::<ByteSize>(), Ok(ByteSize(65536)));
        assert!("12 parsecs".parse::<ByteSize>().is_err());
    }
}
