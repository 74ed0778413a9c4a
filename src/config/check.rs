//! `[[check]]`: one live health check. The key that names the target also
//! names the kind (`http = "..."`, `tcp = "..."`, `disk = "/data"` ...).

use super::Config;
use super::units::{ByteSize, HumanDuration, Percent};
use super::validate::Problems;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use toml::Spanned;

/// How bad it is when a check fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    #[default]
    Critical,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    pub name: Spanned<String>,

    // The target; exactly one of these is set (validation says so otherwise).
    #[serde(default)]
    pub http: Option<String>,
    #[serde(default)]
    pub tcp: Option<String>,
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub sqlite: Option<PathBuf>,
    #[serde(default)]
    pub system: Option<Spanned<String>>,
    #[serde(default)]
    pub disk: Option<PathBuf>,
    #[serde(default)]
    pub tls: Option<String>,
    /// The name of a `[[backup]]` set whose newest good backup is judged.
    #[serde(default)]
    pub backup: Option<Spanned<String>>,
    /// A GPU gauge: memory, temperature, power, utilization, or xid (Xid reports in the kernel log).
    #[serde(default)]
    pub gpu: Option<Spanned<String>>,
    /// Which GPU a `gpu` check watches (default: the worst of them).
    #[serde(default)]
    pub gpu_index: Option<u32>,
    /// A PromQL expression evaluated by a prometheus `[[engine]]`: one result per returned series.
    #[serde(default)]
    pub promql: Option<Spanned<String>>,
    /// The engine a `promql` check asks (may be left out when exactly one prometheus engine exists).
    #[serde(default)]
    pub engine: Option<Spanned<String>>,
    /// A `promql` check whose query returns no series fails (default: an empty result is ok).
    #[serde(default)]
    pub expect_series: Option<bool>,
    /// A prometheus engine whose scrape targets are checked: one result per target that is down.
    #[serde(default)]
    pub targets: Option<Spanned<String>>,

    // HTTP details.
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub max_redirects: Option<u32>,
    #[serde(default)]
    pub body_limit: Option<ByteSize>,

    /// SQL for a `sqlite` check; the first column of the first row is its value.
    #[serde(default)]
    pub query: Option<String>,

    #[serde(default)]
    pub every: Option<HumanDuration>,
    #[serde(default)]
    pub timeout: Option<HumanDuration>,
    #[serde(default)]
    pub expect: Vec<Spanned<String>>,

    /// Thresholds for system and disk checks.
    #[serde(default)]
    pub warn: Option<Percent>,
    #[serde(default)]
    pub critical: Option<Percent>,
    /// Certificate expiry thresholds for tls checks, in days (default 30 and 7).
    #[serde(default)]
    pub warn_days: Option<u32>,
    #[serde(default)]
    pub critical_days: Option<u32>,
    /// Backup checks: the age of the newest good backup that warns / turns critical
    /// (default: the set's `every` plus a little grace, and twice `every`).
    #[serde(default)]
    pub warn_after: Option<HumanDuration>,
    #[serde(default)]
    pub critical_after: Option<HumanDuration>,

    #[serde(default)]
    pub severity: Severity,
    #[serde(default)]
    pub fail_after: Option<u32>,
    #[serde(default)]
    pub recover_after: Option<u32>,
    #[serde(default)]
    pub depends_on: Option<Spanned<String>>,
    /// Alert only once failures have lasted this long (the users' "down for more than 1 minute").
    #[serde(default)]
    pub fail_for: Option<HumanDuration>,
    /// Warn when latency stays above this many times its median of the last hour ...
    #[serde(default)]
    pub slow_factor: Option<f64>,
    /// ... for this long (default 5m).
    #[serde(default)]
    pub slow_for: Option<HumanDuration>,
    /// A fixed "normal" latency for the slow rule, instead of the measured median.
    #[serde(default)]
    pub baseline: Option<HumanDuration>,
    /// How far back the measured median reaches (default 24h, at most 24h).
    #[serde(default)]
    pub baseline_window: Option<HumanDuration>,
    /// The severity `i` suggests for an incident about this check ("P0".."P3"; P2 when unset).
    /// Not `severity`, which already says how bad a failure of the check is.
    #[serde(default)]
    pub incident_severity: Option<Spanned<String>>,
    /// The runbook `i` suggests for an incident about this check (its name or title).
    #[serde(default)]
    pub runbook: Option<String>,
}

/// The kind of a check, taken from whichever target key is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckTarget {
    Http(String),
    Tcp(String),
    Command(Vec<String>),
    Sqlite(PathBuf),
    System(String),
    Disk(PathBuf),
    Tls(String),
    /// A backup set, by name.
    Backup(String),
    Gpu(String),
    /// A PromQL expression, evaluated by the check's engine.
    Promql(String),
    /// The scrape targets of a prometheus engine, by the engine's name.
    Targets(String),
}

impl CheckConfig {
    /// Every target key that is set, so validation can demand exactly one.
    pub fn targets(&self) -> Vec<CheckTarget> {
        let mut targets = Vec::new();
        if let Some(url) = &self.http {
            targets.push(CheckTarget::Http(url.clone()));
        }
        if let Some(addr) = &self.tcp {
            targets.push(CheckTarget::Tcp(addr.clone()));
        }
        if let Some(argv) = &self.command {
            targets.push(CheckTarget::Command(argv.clone()));
        }
        if let Some(path) = &self.sqlite {
            targets.push(CheckTarget::Sqlite(path.clone()));
        }
        if let Some(what) = &self.system {
            targets.push(CheckTarget::System(what.get_ref().clone()));
        }
        if let Some(mount) = &self.disk {
            targets.push(CheckTarget::Disk(mount.clone()));
        }
        if let Some(addr) = &self.tls {
            targets.push(CheckTarget::Tls(addr.clone()));
        }
        if let Some(set) = &self.backup {
            targets.push(CheckTarget::Backup(set.get_ref().clone()));
        }
        if let Some(gauge) = &self.gpu {
            targets.push(CheckTarget::Gpu(gauge.get_ref().clone()));
        }
        if let Some(query) = &self.promql {
            targets.push(CheckTarget::Promql(query.get_ref().clone()));
        }
        if let Some(engine) = &self.targets {
            targets.push(CheckTarget::Targets(engine.get_ref().clone()));
        }
        targets
    }

    pub fn target(&self) -> Option<CheckTarget> {
        self.targets().into_iter().next()
    }
}

impl CheckTarget {
    pub fn kind(&self) -> &'static str {
        match self {
            CheckTarget::Http(_) => "http",
            CheckTarget::Tcp(_) => "tcp",
            CheckTarget::Command(_) => "command",
            CheckTarget::Sqlite(_) => "sqlite",
            CheckTarget::System(_) => "system",
            CheckTarget::Disk(_) => "disk",
            CheckTarget::Tls(_) => "tls",
            CheckTarget::Backup(_) => "backup",
            CheckTarget::Gpu(_) => "gpu",
            CheckTarget::Promql(_) => "promql",
            CheckTarget::Targets(_) => "targets",
        }
    }
}

/// Conditions parse, apply to the check's kind, and methods and thresholds make sense.
pub(super) fn validate(config: &Config, problems: &mut Problems) {
    for check in &config.checks {
        if let Some(level) = &check.incident_severity
            && crate::incident::record::Severity::parse(level.get_ref()).is_none()
        {
            problems.push(
                level.span(),
                format!("unknown incident severity `{}`", level.get_ref()),
                Some("use \"P0\", \"P1\", \"P2\" or \"P3\""),
            );
        }
        let kind = check.target().map(|t| t.kind()).unwrap_or("http");
        for text in &check.expect {
            // The span covers the quotes; offsets inside a plain string map one to one.
            let start = text.span().start + 1;
            match crate::health::condition::parse(text.get_ref()) {
                Ok(condition) => {
                    if let Err(message) = condition.applies_to(kind) {
                        problems.push(text.span(), message, None);
                    }
                }
                Err(err) => problems.push(
                    start + err.offset..start + err.offset,
                    format!("bad condition `{}`: {}", text.get_ref(), err.message),
                    Some("conditions read `subject operator value`, e.g. 'status == 200', 'json.status == \"healthy\"', 'latency < 200ms'"),
                ),
            }
        }
        if let Some(method) = &check.method
            && !["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
                .contains(&method.to_ascii_uppercase().as_str())
        {
            problems.push(
                check.name.span(),
                format!("check `{}`: unknown HTTP method `{method}`", check.name.get_ref()),
                None,
            );
        }
        if let (Some(warn), Some(critical)) = (check.warn, check.critical)
            && warn.0 > critical.0
        {
            problems.push(
                check.name.span(),
                format!("check `{}`: warn ({warn}) is above critical ({critical})", check.name.get_ref()),
                Some("warn is the lower threshold"),
            );
        }
        if let Some(factor) = check.slow_factor
            && !(factor.is_finite() && factor > 1.0)
        {
            problems.push(
                check.name.span(),
                format!(
                    "check `{}`: slow_factor {factor} must be above 1 (e.g. 2 for twice the usual latency)",
                    check.name.get_ref()
                ),
                None,
            );
        }
        validate_baseline(check, problems);
        validate_gpu(check, problems);
        if let (Some(warn), Some(critical)) = (check.warn_days, check.critical_days)
            && warn < critical
        {
            problems.push(
                check.name.span(),
                format!("check `{}`: warn_days ({warn}) is below critical_days ({critical})", check.name.get_ref()),
                Some("a certificate gets a warning first, then turns critical closer to expiry"),
            );
        }
        if check.every.is_some_and(|every| every.get().is_zero()) {
            problems.push(
                check.name.span(),
                format!("check `{}`: every must be longer than 0s", check.name.get_ref()),
                None,
            );
        }
        if check.timeout.is_some_and(|timeout| timeout.get().is_zero()) {
            problems.push(
                check.name.span(),
                format!("check `{}`: timeout must be longer than 0s", check.name.get_ref()),
                None,
            );
        }
        if check.command.as_ref().is_some_and(|argv| argv.is_empty() || argv[0].is_empty()) {
            problems.push(
                check.name.span(),
                format!("check `{}`: command needs a program", check.name.get_ref()),
                Some("command = [\"pg_isready\", \"-h\", \"db\"]"),
            );
        }
        validate_backup_check(config, check, problems);
        validate_engine_check(config, check, problems);
        if check.sqlite.is_some() && check.query.is_none() {
            problems.push(
                check.name.span(),
                format!("check `{}`: a sqlite check needs a query", check.name.get_ref()),
                Some("query = \"SELECT COUNT(*) FROM users\""),
            );
        }
    }
}

/// A backup check names a configured set, and its warning comes before its critical.
fn validate_backup_check(config: &Config, check: &CheckConfig, problems: &mut Problems) {
    let name = check.name.get_ref();
    if let Some(set) = &check.backup
        && !config.backups.iter().any(|b| b.name.get_ref() == set.get_ref())
    {
        let known: Vec<&str> = config.backups.iter().map(|b| b.name.get_ref().as_str()).collect();
        let hint = if known.is_empty() {
            "no [[backup]] set is configured".to_string()
        } else {
            format!("known sets: {}", known.join(", "))
        };
        problems.push(set.span(), format!("check `{name}`: no backup set named `{}`", set.get_ref()), Some(&hint));
    }
    if (check.warn_after.is_some() || check.critical_after.is_some()) && check.backup.is_none() {
        problems.push(
            check.name.span(),
            format!("check `{name}`: warn_after and critical_after are for backup checks"),
            Some("backup = \"SET\" judges the age of the set's newest good backup"),
        );
    }
    if let (Some(warn), Some(critical)) = (check.warn_after, check.critical_after)
        && warn.get() >= critical.get()
    {
        problems.push(
            check.name.span(),
            format!(
                "check `{name}`: warn_after ({}) must be shorter than critical_after ({})",
                crate::backup::human_age(warn.get()),
                crate::backup::human_age(critical.get())
            ),
            None,
        );
    }
}

impl Config {
    /// The prometheus engine a `promql` or `targets` check asks: the one it names, or the only
    /// one there is. `Err` says why there is none, naming the prometheus engines there are.
    pub fn prometheus_engine(&self, named: Option<&str>) -> Result<&super::EngineConfig, String> {
        prometheus_engine(self, named)
    }
}

fn prometheus_engine<'c>(config: &'c Config, named: Option<&str>) -> Result<&'c super::EngineConfig, String> {
    let prometheus: Vec<&super::EngineConfig> =
        config.engines.iter().filter(|e| e.kind == super::EngineKind::Prometheus).collect();
    let names = || {
        if prometheus.is_empty() {
            "no prometheus engine is configured ([[engine]] kind = \"prometheus\")".to_string()
        } else {
            let names: Vec<&str> = prometheus.iter().map(|e| e.name.get_ref().as_str()).collect();
            format!("prometheus engines: {}", names.join(", "))
        }
    };
    match named {
        Some(name) => match config.engines.iter().find(|e| e.name.get_ref() == name) {
            Some(engine) if engine.kind == super::EngineKind::Prometheus => Ok(engine),
            Some(engine) => Err(format!("engine `{name}` is {}, not prometheus ({})", engine.kind.as_str(), names())),
            None => Err(format!("no engine named `{name}` ({})", names())),
        },
        None => match prometheus.as_slice() {
            [only] => Ok(only),
            [] => Err(names()),
            _ => Err(format!("several prometheus engines; name one with engine = \"NAME\" ({})", names())),
        },
    }
}

/// `promql` and `targets` checks name a prometheus engine (or there is exactly one),
/// and the keys that belong to them are not set on other checks.
fn validate_engine_check(config: &Config, check: &CheckConfig, problems: &mut Problems) {
    let name = check.name.get_ref();
    if let Some(query) = &check.promql {
        if query.get_ref().trim().is_empty() {
            problems.push(query.span(), format!("check `{name}`: promql is empty"), None);
        }
        let named = check.engine.as_ref().map(|e| e.get_ref().as_str());
        if let Err(why) = prometheus_engine(config, named) {
            let span = check.engine.as_ref().map_or(query.span(), |e| e.span());
            problems.push(span, format!("check `{name}`: {why}"), None);
        }
    } else {
        if let Some(engine) = &check.engine {
            let hint = if check.targets.is_some() {
                Some("a targets check names its engine: targets = \"ENGINE\"")
            } else {
                None
            };
            problems.push(engine.span(), format!("check `{name}`: engine belongs to a promql check"), hint);
        }
        if check.expect_series.is_some() {
            problems.push(check.name.span(), format!("check `{name}`: expect_series belongs to a promql check"), None);
        }
    }
    if let Some(engine) = &check.targets
        && let Err(why) = prometheus_engine(config, Some(engine.get_ref()))
    {
        problems.push(engine.span(), format!("check `{name}`: {why}"), None);
    }
}

/// The gauges a `gpu` check can watch.
pub const GPU_GAUGES: [&str; 5] = ["memory", "temperature", "power", "utilization", "xid"];

fn validate_gpu(check: &CheckConfig, problems: &mut Problems) {
    let name = check.name.get_ref();
    if let Some(gauge) = &check.gpu {
        if !GPU_GAUGES.contains(&gauge.get_ref().as_str()) {
            problems.push(
                gauge.span(),
                format!("check `{name}`: unknown gpu gauge `{}`", gauge.get_ref()),
                Some("gpu = \"memory\", \"temperature\", \"power\", \"utilization\" or \"xid\""),
            );
        }
        if gauge.get_ref() == "utilization" && check.warn.is_none() && check.critical.is_none() {
            problems.push(
                gauge.span(),
                format!("check `{name}`: a gpu utilization check needs warn or critical"),
                Some("[gpu] has no utilization thresholds; e.g. warn = \"95%\""),
            );
        }
        if gauge.get_ref() == "xid" && check.gpu_index.is_some() {
            problems.push(
                gauge.span(),
                format!("check `{name}`: an xid check watches every GPU; leave out gpu_index"),
                Some("the kernel log names a GPU by its PCI address, which the message shows"),
            );
        }
    } else if check.gpu_index.is_some() {
        problems.push(check.name.span(), format!("check `{name}`: gpu_index belongs to a gpu check"), None);
    }
}

/// `baseline` and `baseline_window` belong to the slow rule and say one thing each.
fn validate_baseline(check: &CheckConfig, problems: &mut Problems) {
    let name = check.name.get_ref();
    let mut problem = |message: String, hint: Option<&str>| problems.push(check.name.span(), message, hint);
    if (check.baseline.is_some() || check.baseline_window.is_some()) && check.slow_factor.is_none() {
        problem(
            format!("check `{name}`: baseline and baseline_window need slow_factor"),
            Some("slow_factor = 2 warns when latency stays above twice the baseline"),
        );
    }
    if check.baseline.is_some() && check.baseline_window.is_some() {
        problem(format!("check `{name}`: set baseline (fixed) or baseline_window (measured), not both"), None);
    }
    if check.baseline.is_some_and(|b| b.get().is_zero()) {
        problem(format!("check `{name}`: baseline must be longer than 0ms"), None);
    }
    if let Some(window) = check.baseline_window
        && !(crate::health::spec::MIN_BASELINE_WINDOW..=crate::health::spec::MAX_BASELINE_WINDOW)
            .contains(&window.get())
    {
        problem(format!("check `{name}`: baseline_window `{window}` is outside 10m..24h"), None);
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;
    use std::path::Path;

    /// The first problem's "line:col: message".
    fn first_problem(text: &str) -> String {
        let err = load_str(text, Path::new("f.toml")).expect_err("must be rejected");
        let d = &err.diagnostics()[0];
        format!("{}:{}: {}", d.line, d.column, d.message)
    }

    #[test]
    fn each_check_problem_is_reported_where_it_is() {
        let head = "[[check]]\nname = \"x\"\n";
        let cases = [
            ("http = \"http://a\"\nexpect = ['status = 200']\n", "4:19: bad condition `status = 200`"),
            ("tcp = \"a:1\"\nexpect = ['json.a == 1']\n", "4:11: `json.a == 1` cannot apply to a tcp check"),
            ("http = \"http://a\"\nmethod = \"FETCH\"\n", "2:8: check `x`: unknown HTTP method `FETCH`"),
            (
                "system = \"cpu\"\nwarn = \"90%\"\ncritical = \"80%\"\n",
                "2:8: check `x`: warn (90%) is above critical (80%)",
            ),
            ("http = \"http://a\"\nslow_factor = 0.5\n", "2:8: check `x`: slow_factor 0.5 must be above 1"),
            ("http = \"http://a\"\nevery = \"0s\"\n", "2:8: check `x`: every must be longer than 0s"),
            ("http = \"http://a\"\ntimeout = \"0ms\"\n", "2:8: check `x`: timeout must be longer than 0s"),
            ("command = []\n", "2:8: check `x`: command needs a program"),
            ("sqlite = \"a.db\"\n", "2:8: check `x`: a sqlite check needs a query"),
            (
                "tls = \"a:443\"\nwarn_days = 3\ncritical_days = 7\n",
                "2:8: check `x`: warn_days (3) is below critical_days (7)",
            ),
            (
                "http = \"http://a\"\nbaseline = \"200ms\"\n",
                "2:8: check `x`: baseline and baseline_window need slow_factor",
            ),
            (
                "http = \"http://a\"\nslow_factor = 2\nbaseline_window = \"48h\"\n",
                "2:8: check `x`: baseline_window `2d00h` is outside 10m..24h",
            ),
            (
                "http = \"http://a\"\nslow_factor = 2\nbaseline = \"1s\"\nbaseline_window = \"1h\"\n",
                "2:8: check `x`: set baseline (fixed) or baseline_window (measured), not both",
            ),
        ];
        for (body, expected) in cases {
            let problem = first_problem(&format!("{head}{body}"));
            assert!(problem.starts_with(expected), "{body}: got {problem}");
        }
    }

    #[test]
    fn engine_checks_name_a_prometheus_engine_where_they_say_it() {
        let prom =
            |name: &str| format!("[[engine]]\nname = \"{name}\"\nkind = \"prometheus\"\nurl = \"http://p:9090\"\n");
        let am = "[[engine]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"http://a:9093\"\n";
        let check = "[[check]]\nname = \"x\"\n";
        let cases = [
            (
                format!("{check}promql = 'up'\n"),
                "3:10: check `x`: no prometheus engine is configured ([[engine]] kind = \"prometheus\")",
            ),
            (
                format!("{}{}{check}promql = 'up'\n", prom("a"), prom("b")),
                "11:10: check `x`: several prometheus engines; name one with engine = \"NAME\" (prometheus engines: a, b)",
            ),
            (
                format!("{}{am}{check}promql = 'up'\nengine = \"am\"\n", prom("a")),
                "12:10: check `x`: engine `am` is alertmanager, not prometheus (prometheus engines: a)",
            ),
            (
                format!("{}{check}promql = 'up'\nengine = \"nope\"\n", prom("a")),
                "8:10: check `x`: no engine named `nope` (prometheus engines: a)",
            ),
            (format!("{}{check}targets = \"nope\"\n", prom("a")), "7:11: check `x`: no engine named `nope`"),
            (
                format!("{}{check}http = \"http://a\"\nengine = \"a\"\n", prom("a")),
                "8:10: check `x`: engine belongs to a promql check",
            ),
            (
                format!("{check}http = \"http://a\"\nexpect_series = true\n"),
                "2:8: check `x`: expect_series belongs to a promql check",
            ),
            (
                format!("{}{check}targets = \"a\"\nexpect = ['value < 1']\n", prom("a")),
                "8:11: `value < 1` cannot apply to a targets check",
            ),
            (format!("{}{check}promql = ' '\n", prom("a")), "7:10: check `x`: promql is empty"),
        ];
        for (text, expected) in cases {
            let problem = first_problem(&text);
            assert!(problem.starts_with(expected), "{text}\ngot {problem}");
        }
        let good = format!(
            "{}{am}{check}promql = 'up'\nexpect = ['value == 1']\nexpect_series = true\n\n[[check]]\nname = \"t\"\ntargets = \"a\"\n",
            prom("a")
        );
        load_str(&good, Path::new("f.toml")).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn the_issue_example_is_valid() {
        let text = r#"
[[check]]
name = "api"
http = "https://api.example.com/health"
every = "15s"
timeout = "2s"
headers = { Authorization = "Bearer ${API_TOKEN}" }
expect = ['status == 200', 'json.status == "healthy"', 'latency < 200ms']
severity = "critical"
fail_after = 2
fail_for = "1m"
slow_factor = 2
slow_for = "5m"

[[check]]
name = "disk /data"
disk = "/data"
warn = "80%"
critical = "90%"
depends_on = "api"
"#;
        load_str(text, Path::new("f.toml")).unwrap_or_else(|e| panic!("{e}"));
    }
}
