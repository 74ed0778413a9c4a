//! Backup names with a date in them: `app_db_%Y%m%d_%H%M%S.db.gz`, `%Y%m%d/`.
//!
//! The pattern becomes an anchored regex; the date fields it captures give the
//! backup's time, so an old file copied yesterday still sorts by its name.

use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;

/// A parsed `pattern` of a backup set.
#[derive(Debug, Clone)]
pub struct NamePattern {
    regex: Regex,
    fields: Vec<Field>,
    /// The pattern names folders (it ends in `/`).
    pub is_dir: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

impl NamePattern {
    pub fn parse(pattern: &str) -> Result<NamePattern, String> {
        let is_dir = pattern.ends_with('/');
        let body = pattern.strip_suffix('/').unwrap_or(pattern);
        if body.is_empty() {
            return Err("the pattern is empty".into());
        }
        if body.contains('/') {
            return Err(format!("the pattern `{pattern}` names a sub-folder; put the folder in `dir`"));
        }
        let mut regex = String::from("^");
        let mut fields = Vec::new();
        let mut chars = body.chars();
        while let Some(ch) = chars.next() {
            match ch {
                '%' => {
                    let (field, digits) = match chars.next() {
                        Some('Y') => (Field::Year, 4),
                        Some('m') => (Field::Month, 2),
                        Some('d') => (Field::Day, 2),
                        Some('H') => (Field::Hour, 2),
                        Some('M') => (Field::Minute, 2),
                        Some('S') => (Field::Second, 2),
                        Some('%') => {
                            regex.push('%');
                            continue;
                        }
                        Some(other) => return Err(format!("`%{other}` is not a supported date field")),
                        None => return Err("the pattern ends with a lone `%`".into()),
                    };
                    if fields.contains(&field) {
                        return Err(format!("the date field `{}` appears twice", field.token()));
                    }
                    fields.push(field);
                    regex.push_str(&format!("([0-9]{{{digits}}})"));
                }
                '*' => regex.push_str(".*?"),
                '?' => regex.push('.'),
                other => regex.push_str(&regex::escape(other.encode_utf8(&mut [0; 4]))),
            }
        }
        regex.push('$');
        let has_date = fields.contains(&Field::Year) && fields.contains(&Field::Month) && fields.contains(&Field::Day);
        if !fields.is_empty() && !has_date {
            return Err("a date in the name needs at least %Y, %m and %d".into());
        }
        let regex = Regex::new(&regex).map_err(|err| format!("the pattern cannot be matched: {err}"))?;
        Ok(NamePattern { regex, fields, is_dir })
    }

    /// Whether `name` belongs to the set; with its date when the pattern carries one.
    pub fn matches(&self, name: &str) -> Option<Option<DateTime<Utc>>> {
        let captures = self.regex.captures(name)?;
        if self.fields.is_empty() {
            return Some(None);
        }
        let mut parts = [0u32, 1, 1, 0, 0, 0];
        for (index, field) in self.fields.iter().enumerate() {
            let value: u32 = captures.get(index + 1)?.as_str().parse().ok()?;
            parts[*field as usize] = value;
        }
        // A name whose digits are not a real date (20261332) is not one of ours.
        let date = NaiveDate::from_ymd_opt(parts[0] as i32, parts[1], parts[2])?;
        let time = date.and_hms_opt(parts[3], parts[4], parts[5])?;
        Some(Some(time.and_utc()))
    }

    /// The name a backup taken at `at` would have (for creating and for tests).
    pub fn render(pattern: &str, at: DateTime<Utc>) -> String {
        let body = pattern.strip_suffix('/').unwrap_or(pattern);
        let mut out = String::new();
        let mut chars = body.chars();
        while let Some(ch) = chars.next() {
            if ch != '%' {
                out.push(ch);
                continue;
            }
            match chars.next() {
                Some(token @ ('Y' | 'm' | 'd' | 'H' | 'M' | 'S')) => {
                    out.push_str(&at.format(&format!("%{token}")).to_string());
                }
                Some(other) => out.push(other),
                None => {}
            }
        }
        out
    }
}

impl Field {
    fn token(self) -> &'static str {
        match self {
            Field::Year => "%Y",
            Field::Month => "%m",
            Field::Day => "%d",
            Field::Hour => "%H",
            Field::Minute => "%M",
            Field::Second => "%S",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_with_dates_match_and_carry_their_time() {
        let pattern = NamePattern::parse("app_db_%Y%m%d_%H%M%S.db.gz").unwrap();
        let at = pattern.matches("app_db_20261128_030000.db.gz").unwrap().unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 11, 28, 3, 0, 0).unwrap());
        assert!(pattern.matches("app_db_20261128_030000.db").is_none());
        assert!(pattern.matches("app_db_20261328_030000.db.gz").is_none(), "month 13 is not a date");
        assert!(pattern.matches("xapp_db_20261128_030000.db.gz").is_none(), "anchored at the start");
    }

    #[test]
    fn folders_globs_and_dateless_patterns() {
        let weekly = NamePattern::parse("%Y%m%d/").unwrap();
        assert!(weekly.is_dir);
        assert!(weekly.matches("20261123").unwrap().is_some());
        let glob = NamePattern::parse("config_backup_*").unwrap();
        assert_eq!(glob.matches("config_backup_before-upgrade"), Some(None));
        assert!(glob.matches("other").is_none());
    }

    #[test]
    fn bad_patterns_say_why() {
        assert!(NamePattern::parse("db_%Q.gz").unwrap_err().contains("`%Q`"));
        assert!(NamePattern::parse("db_%Y.gz").unwrap_err().contains("%m"));
        assert!(NamePattern::parse("a/%Y%m%d").unwrap_err().contains("sub-folder"));
        assert!(NamePattern::parse("").is_err());
        assert!(NamePattern::parse("%Y%m%d%Y").unwrap_err().contains("twice"));
    }

    #[test]
    fn rendering_a_name_round_trips() {
        let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let name = NamePattern::render("app_db_%Y%m%d_%H%M%S.db.gz", at);
        assert_eq!(name, "app_db_20260102_030405.db.gz");
        let pattern = NamePattern::parse("app_db_%Y%m%d_%H%M%S.db.gz").unwrap();
        assert_eq!(pattern.matches(&name), Some(Some(at)));
    }
}
