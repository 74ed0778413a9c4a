//! Real Prometheus, Alertmanager and node_exporter on 127.0.0.1, each in its
//! own temporary directory, for tests that talk to the engines over HTTP.
//!
//! Start order matters: an Alertmanager first, then the node exporter, then a
//! Prometheus that names both (alerts sent before Alertmanager listens are
//! dropped, not retried). Every process is killed and reaped when its value is
//! dropped, and dies with the test binary if that is killed outright.
//!
//! Everything here blocks; it may be called from inside a tokio test, since the
//! HTTP requests run on a runtime of their own.

use reqwest::Url;
use serde_json::Value;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs::File;
use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// Debian's names for the three binaries (upstream's are tried after them).
pub const PROMETHEUS: &str = "prometheus";
pub const ALERTMANAGER: &str = "prometheus-alertmanager";
pub const NODE_EXPORTER: &str = "prometheus-node-exporter";

/// How long a process gets to become ready, and a condition to come true.
pub const DEADLINE: Duration = Duration::from_secs(20);
/// Pause between two polls of a condition.
pub const POLL: Duration = Duration::from_millis(50);

/// The alert every Prometheus started here fires from its first evaluation.
pub const ALWAYS_FIRING: &str = "AlwaysFiring";
/// The optional second alert, with severity "warning".
pub const ALWAYS_WARNING: &str = "AlwaysWarning";
/// Scrape job of the node exporter, and of the target that never answers.
pub const NODE_JOB: &str = "node";
pub const DOWN_JOB: &str = "down";
/// Basic-auth user and password of a Prometheus started with `tls_basic_auth`.
pub const USERNAME: &str = "fleet";
pub const PASSWORD: &str = "correct horse battery staple";

/// Upstream's name for a binary that Debian renames.
fn upstream_name(binary: &str) -> Option<&'static str> {
    match binary {
        ALERTMANAGER => Some("alertmanager"),
        NODE_EXPORTER => Some("node_exporter"),
        _ => None,
    }
}

/// The binary's path, searched in PATH (a name with a slash is taken as a path).
fn locate(binary: &str) -> Option<PathBuf> {
    let executable = |path: &Path| {
        use std::os::unix::fs::PermissionsExt;
        path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if binary.contains('/') {
        let path = PathBuf::from(binary);
        return executable(&path).then_some(path);
    }
    let dirs: Vec<PathBuf> = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    let names = std::iter::once(binary).chain(upstream_name(binary));
    names.flat_map(|name| dirs.iter().map(move |dir| dir.join(name))).find(|path| executable(path))
}

/// The binary's path, or None after printing "skipped: ..." so the test can
/// return early. Under CI (the `CI` variable set) a missing binary panics
/// instead: there these tests must run, never skip.
pub fn require(binary: &str) -> Option<PathBuf> {
    let found = locate(binary);
    if found.is_none() {
        let reason = format!("{binary} is not installed (Debian package {})", debian_package(binary));
        assert!(std::env::var_os("CI").is_none(), "{reason}; .ci/run installs it and CI must run the engine tests");
        eprintln!("skipped: {reason}");
    }
    found
}

fn debian_package(binary: &str) -> &str {
    match binary {
        ALERTMANAGER => "prometheus-alertmanager",
        NODE_EXPORTER => "prometheus-node-exporter",
        _ => "prometheus",
    }
}

/// All three engines are installed (see [`require`] for what happens if not).
pub fn installed() -> bool {
    [PROMETHEUS, ALERTMANAGER, NODE_EXPORTER].iter().all(|binary| require(binary).is_some())
}

/// A port on 127.0.0.1 that was free a moment ago. Another process can take
/// it before ours binds it: the start functions retry on "address already in use".
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("binding 127.0.0.1:0").port()
}

/// Polls `check` every [`POLL`] until it gives a value or `deadline` has
/// passed (then None: the caller panics with what it was waiting for).
pub fn wait_until<T>(deadline: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + deadline;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

// ---------------------------------------------------------------- HTTP

/// How to reach a server: a CA to trust for HTTPS, basic-auth credentials,
/// and a client certificate for mutual TLS.
#[derive(Clone, Debug, Default)]
pub struct Access {
    pub ca_pem: Option<PathBuf>,
    pub basic_auth: Option<(String, String)>,
    /// A PEM file holding the client's certificate and then its key.
    pub identity_pem: Option<PathBuf>,
}

/// A runtime of its own for the harness's requests, so that blocking on one
/// works from plain tests and from inside another runtime alike.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("engines-http")
            .enable_all()
            .build()
            .expect("the harness's HTTP runtime")
    })
}

/// GET `url`: the status and body, or the transport error as text.
pub fn get(url: &str, access: &Access) -> Result<(u16, String), String> {
    let url = url.to_string();
    let access = access.clone();
    let (reply, answer) = mpsc::channel();
    runtime().spawn(async move {
        let result = async {
            let mut builder =
                reqwest::Client::builder().no_proxy().tls_built_in_root_certs(false).timeout(Duration::from_secs(5));
            if let Some(ca) = &access.ca_pem {
                let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
                builder =
                    builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).map_err(|e| e.to_string())?);
            }
            if let Some(identity) = &access.identity_pem {
                let pem = std::fs::read(identity).map_err(|e| format!("{}: {e}", identity.display()))?;
                builder = builder.identity(reqwest::Identity::from_pem(&pem).map_err(|e| e.to_string())?);
            }
            let client = builder.build().map_err(|e| e.to_string())?;
            let mut request = client.get(&url);
            if let Some((user, password)) = &access.basic_auth {
                request = request.basic_auth(user, Some(password));
            }
            let response = request.send().await.map_err(|e| format!("GET {url}: {e:?}"))?;
            let status = response.status().as_u16();
            let body = response.text().await.map_err(|e| format!("GET {url}: reading the body: {e}"))?;
            Ok((status, body))
        }
        .await;
        let _ = reply.send(result);
    });
    answer.recv().map_err(|_| "the HTTP task ended without an answer".to_string())?
}

/// GET a plain-HTTP `url`, panicking if no answer comes.
pub fn blocking_get(url: &str) -> (u16, String) {
    get(url, &Access::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// `base` + `path` with the query parameters encoded.
pub fn url_with(base: &str, path: &str, params: &[(&str, &str)]) -> String {
    Url::parse_with_params(&format!("{base}{path}"), params).expect("a valid URL").to_string()
}

fn json(what: &str, status: u16, body: &str) -> Value {
    assert_eq!(status, 200, "{what}: HTTP {status}: {body}");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"))
}

// ---------------------------------------------------------------- processes

/// A child whose stdout and stderr go to a log file; killed and reaped on drop
/// (nothing else reaps it: PID 1 of a container may not).
struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    fn spawn(name: &'static str, binary: &Path, args: &[OsString], dir: &Path) -> Process {
        let log = dir.join(format!("{name}.log"));
        let out = File::create(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let err = out.try_clone().expect("a second handle on the log");
        let mut command = Command::new(binary);
        command.args(args).current_dir(dir).stdin(Stdio::null()).stdout(out).stderr(err);
        let child = spawn_tied(command).unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        Process { name, child, log }
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn fail(&self, why: &str) -> ! {
        panic!("{}: {why}; last lines of {}:\n{}", self.name, self.log.display(), self.log_tail())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns on one long-lived thread, with the child asked to be killed when its
/// parent thread dies: that thread lives as long as the test binary, so a test
/// binary killed without unwinding takes its engines with it.
fn spawn_tied(command: Command) -> io::Result<Child> {
    type Job = (Command, mpsc::Sender<io::Result<Child>>);
    static SPAWNER: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (jobs, incoming) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("engines-spawner".into())
            .spawn(move || {
                for (mut command, reply) in incoming {
                    tie_to_parent(&mut command);
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("the spawner thread");
        jobs
    });
    let (reply, answer) = mpsc::channel();
    spawner.send((command, reply)).map_err(|_| io::Error::other("the spawner thread is gone"))?;
    answer.recv().map_err(|_| io::Error::other("the spawner thread is gone"))?
}

#[cfg(target_os = "linux")]
fn tie_to_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: between fork and exec the closure only makes two system calls
    // and allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before the request was made.
            if libc::getppid() as u32 != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn tie_to_parent(_command: &mut Command) {}

/// Starts `binary` with the arguments for a fresh port until `ready` holds for
/// that port, trying another port when the one picked was taken meanwhile.
fn launch(
    name: &'static str,
    binary: &str,
    dir: &Path,
    args: impl Fn(u16) -> Vec<OsString>,
    ready: impl Fn(u16) -> bool,
) -> (Process, u16) {
    let binary = locate(binary).unwrap_or_else(|| panic!("{binary} is not installed; call engines::installed() first"));
    for attempt in 1..=3 {
        let port = free_port();
        let mut process = Process::spawn(name, &binary, &args(port), dir);
        let outcome = wait_until(DEADLINE, || {
            if let Some(status) = process.exited() {
                return Some(Err(status));
            }
            ready(port).then_some(Ok(()))
        });
        match outcome {
            Some(Ok(())) => return (process, port),
            Some(Err(_)) if attempt < 3 && process.log_tail().contains("address already in use") => continue,
            Some(Err(status)) => process.fail(&format!("exited with {status} before it was ready")),
            None => process.fail(&format!("not ready on port {port} within {DEADLINE:?}")),
        }
    }
    unreachable!("the last attempt returns or panics")
}

fn arg(text: impl Into<OsString>) -> OsString {
    text.into()
}

fn path_arg(flag: &str, path: &Path) -> OsString {
    let mut text = OsString::from(flag);
    text.push(path);
    text
}

/// A path as a double-quoted YAML scalar.
fn yaml_path(path: &Path) -> String {
    serde_json::to_string(path.to_str().expect("a UTF-8 temporary path")).unwrap()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

// ---------------------------------------------------------------- Alertmanager

#[derive(Clone, Debug, Default)]
pub struct AlertmanagerOptions {
    /// How long a new group waits before its first notification (0s by default).
    pub group_wait: Duration,
}

/// An Alertmanager with one receiver that notifies no one, gossip off.
pub struct Alertmanager {
    process: Process,
    port: u16,
    dir: TempDir,
}

impl Alertmanager {
    pub fn start(options: AlertmanagerOptions) -> Alertmanager {
        let dir = TempDir::with_prefix("fw-alertmanager-").expect("a temporary directory");
        let config = dir.path().join("alertmanager.yml");
        write(
            &config,
            &format!(
                "route:\n  receiver: \"null\"\n  group_by: [alertname]\n  group_wait: {}ms\n  group_interval: 1s\n  \
                 repeat_interval: 24h\nreceivers:\n  - name: \"null\"\n",
                options.group_wait.as_millis()
            ),
        );
        let storage = dir.path().join("data");
        let (process, port) = launch(
            "alertmanager",
            ALERTMANAGER,
            dir.path(),
            |port| {
                vec![
                    path_arg("--config.file=", &config),
                    path_arg("--storage.path=", &storage),
                    arg(format!("--web.listen-address=127.0.0.1:{port}")),
                    // Empty: no cluster listener, no gossip, no peers to wait for.
                    arg("--cluster.listen-address="),
                ]
            },
            |port| get(&format!("http://127.0.0.1:{port}/-/ready"), &Access::default()).is_ok_and(|(s, _)| s == 200),
        );
        Alertmanager { process, port, dir }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// host:port, as Prometheus's alerting section names it.
    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn log_tail(&self) -> String {
        self.process.log_tail()
    }

    /// The alerts it holds now (`GET /api/v2/alerts`).
    pub fn alerts(&self) -> Vec<Value> {
        let (status, body) = blocking_get(&format!("{}/api/v2/alerts", self.url()));
        match json("Alertmanager alerts", status, &body) {
            Value::Array(alerts) => alerts,
            other => panic!("Alertmanager alerts: not an array: {other}"),
        }
    }

    /// Waits for an alert with this `alertname` to arrive, and returns it.
    pub fn wait_for_alert(&self, alertname: &str) -> Value {
        let found =
            wait_until(DEADLINE, || self.alerts().into_iter().find(|alert| alert["labels"]["alertname"] == alertname));
        found.unwrap_or_else(|| self.process.fail(&format!("no alert {alertname} within {DEADLINE:?}")))
    }
}

// ---------------------------------------------------------------- node_exporter

/// A node exporter serving only its textfile collector: whatever the test put
/// in the metrics file (plus node_textfile_* and the scrape's own series).
pub struct NodeExporter {
    process: Process,
    port: u16,
    textfile_dir: PathBuf,
    dir: TempDir,
}

impl NodeExporter {
    pub fn start(textfile_metrics: &str) -> NodeExporter {
        let dir = TempDir::with_prefix("fw-node-exporter-").expect("a temporary directory");
        let textfile_dir = dir.path().join("textfile");
        std::fs::create_dir(&textfile_dir).expect("the textfile directory");
        NodeExporter::write_metrics(&textfile_dir, textfile_metrics);
        let (process, port) = launch(
            "node-exporter",
            NODE_EXPORTER,
            dir.path(),
            |port| {
                vec![
                    arg("--collector.disable-defaults"),
                    arg("--collector.textfile"),
                    path_arg("--collector.textfile.directory=", &textfile_dir),
                    arg("--web.disable-exporter-metrics"),
                    arg(format!("--web.listen-address=127.0.0.1:{port}")),
                ]
            },
            |port| blocking_ok(&format!("http://127.0.0.1:{port}/metrics")),
        );
        NodeExporter { process, port, textfile_dir, dir }
    }

    fn write_metrics(textfile_dir: &Path, text: &str) {
        // Written beside and renamed over, so a scrape reads the old file or
        // the new one, never half of one (the collector reads *.prom only).
        let partial = textfile_dir.join("metrics.prom.partial");
        write(&partial, text);
        std::fs::rename(&partial, textfile_dir.join("metrics.prom")).expect("renaming the metrics file");
    }

    /// Replaces the metrics file atomically; the next scrape serves `text`.
    pub fn set_metrics(&self, text: &str) {
        NodeExporter::write_metrics(&self.textfile_dir, text);
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// host:port, as a scrape config names it.
    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn log_tail(&self) -> String {
        self.process.log_tail()
    }

    /// Its `/metrics` page as Prometheus would scrape it.
    pub fn scrape(&self) -> String {
        let (status, body) = blocking_get(&format!("{}/metrics", self.url()));
        assert_eq!(status, 200, "node exporter /metrics: {body}");
        body
    }
}

fn blocking_ok(url: &str) -> bool {
    get(url, &Access::default()).is_ok_and(|(status, _)| status == 200)
}

// ---------------------------------------------------------------- DCGM metrics

/// One GPU as NVIDIA's DCGM exporter reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct DcgmGpu {
    pub hostname: String,
    pub gpu: u32,
    pub uuid: String,
    pub model: String,
    /// Utilisation, percent.
    pub util: f64,
    /// Frame buffer used and free, MiB.
    pub fb_used: f64,
    pub fb_free: f64,
    /// Degrees Celsius.
    pub temp: f64,
    /// Watts.
    pub power: f64,
    /// The last XID error's code, 0 for none.
    pub xid: f64,
}

pub const DCGM_MODEL: &str = "NVIDIA H100 80GB HBM3";
/// Frame buffer of one GPU of that model, MiB.
pub const DCGM_FB_TOTAL: f64 = 81559.0;

/// The host name of host number `host` of a generated fleet.
pub fn dcgm_hostname(host: usize) -> String {
    format!("gpu-node-{host:02}")
}

/// `hosts` hosts of `gpus` GPUs each, with values that differ from GPU to
/// GPU and are the same on every call.
pub fn dcgm_fleet(hosts: usize, gpus: usize) -> Vec<DcgmGpu> {
    let mut fleet = Vec::with_capacity(hosts * gpus);
    for host in 0..hosts {
        for gpu in 0..gpus {
            let util = ((host * 37 + gpu * 11) % 100) as f64;
            let fb_used = (((host * 5 + gpu * 3) % 80 + 1) * 1000) as f64;
            fleet.push(DcgmGpu {
                hostname: dcgm_hostname(host),
                gpu: gpu as u32,
                uuid: format!("GPU-{host:08x}-{gpu:04x}-4f57-8a3c-{:012x}", host * 1000 + gpu),
                model: DCGM_MODEL.to_string(),
                util,
                fb_used,
                fb_free: DCGM_FB_TOTAL - fb_used,
                temp: (30 + (host * 7 + gpu * 5) % 50) as f64,
                power: 70.0 + util * 6.0,
                xid: 0.0,
            });
        }
    }
    fleet
}

fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Exposition text for these GPUs with DCGM's metric names and labels, then
/// `fw_test_value` series whose values JSON numbers cannot carry: NaN, +Inf
/// and -Inf (label `case`), beside a finite 1.5.
pub fn dcgm_text(gpus: &[DcgmGpu]) -> String {
    type Field = fn(&DcgmGpu) -> f64;
    let metrics: [(&str, &str, Field); 6] = [
        ("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", |g| g.util),
        ("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", |g| g.fb_used),
        ("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", |g| g.fb_free),
        ("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", |g| g.temp),
        ("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", |g| g.power),
        ("DCGM_FI_DEV_XID_ERRORS", "Value of the last XID error encountered.", |g| g.xid),
    ];
    let mut text = String::new();
    for (name, help, field) in metrics {
        let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} gauge");
        for g in gpus {
            let _ = writeln!(
                text,
                "{name}{{gpu=\"{}\",UUID=\"{}\",device=\"nvidia{}\",modelName=\"{}\",Hostname=\"{}\"}} {}",
                g.gpu,
                escape_label(&g.uuid),
                g.gpu,
                escape_label(&g.model),
                escape_label(&g.hostname),
                exposition_value(field(g)),
            );
        }
    }
    text.push_str(
        "# HELP fw_test_value Values that are not JSON numbers, for the clients' parsers.\n\
         # TYPE fw_test_value gauge\n\
         fw_test_value{case=\"nan\"} NaN\n\
         fw_test_value{case=\"inf\"} +Inf\n\
         fw_test_value{case=\"neg_inf\"} -Inf\n\
         fw_test_value{case=\"finite\"} 1.5\n",
    );
    text
}

/// [`dcgm_text`] of [`dcgm_fleet`]`(hosts, gpus)`.
pub fn dcgm_metrics(hosts: usize, gpus: usize) -> String {
    dcgm_text(&dcgm_fleet(hosts, gpus))
}

fn exposition_value(value: f64) -> String {
    match value {
        v if v.is_nan() => "NaN".into(),
        v if v == f64::INFINITY => "+Inf".into(),
        v if v == f64::NEG_INFINITY => "-Inf".into(),
        v => v.to_string(),
    }
}

// ---------------------------------------------------------------- Prometheus

#[derive(Default)]
pub struct PrometheusOptions<'a> {
    /// Scraped every second as job [`NODE_JOB`].
    pub node_exporter: Option<&'a NodeExporter>,
    /// Where the alerts go (start it before Prometheus).
    pub alertmanager: Option<&'a Alertmanager>,
    /// Adds job [`DOWN_JOB`]: a target on a port nothing listens on.
    pub down_target: bool,
    /// Adds [`ALWAYS_WARNING`] (severity "warning") beside [`ALWAYS_FIRING`].
    pub warning_alert: bool,
    /// Serves HTTPS with a certificate from a CA made here, and asks for basic
    /// auth ([`USERNAME`], [`PASSWORD`]) on every path.
    pub tls_basic_auth: bool,
    /// Serves HTTPS and wants a client certificate signed by the same CA
    /// (`client_auth_type: RequireAndVerifyClientCert`); [`TlsFiles`] holds one.
    pub mutual_tls: bool,
}

/// Paths of the PEM files of a Prometheus serving HTTPS.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// A client certificate the CA signs, and its key, for mutual TLS.
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// Both of them in one file.
    pub client_identity: PathBuf,
}

pub struct Prometheus {
    process: Process,
    port: u16,
    access: Access,
    tls: Option<TlsFiles>,
    dir: TempDir,
}

impl Prometheus {
    pub fn start(options: PrometheusOptions<'_>) -> Prometheus {
        let dir = TempDir::with_prefix("fw-prometheus-").expect("a temporary directory");
        let rules = dir.path().join("rules.yml");
        write(&rules, &rules_yaml(options.warning_alert));
        let config = dir.path().join("prometheus.yml");
        write(&config, &config_yaml(&options, &rules));
        let storage = dir.path().join("data");
        let (tls, access, web_config) = if options.tls_basic_auth || options.mutual_tls {
            let tls = write_certificates(dir.path());
            let web_config = dir.path().join("web.yml");
            let mut yaml = format!(
                "tls_server_config:\n  cert_file: {}\n  key_file: {}\n",
                yaml_path(&tls.cert),
                yaml_path(&tls.key)
            );
            let mut access = Access { ca_pem: Some(tls.ca.clone()), ..Default::default() };
            if options.mutual_tls {
                let _ = write!(
                    yaml,
                    "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}\n",
                    yaml_path(&tls.ca)
                );
                access.identity_pem = Some(tls.client_identity.clone());
            }
            if options.tls_basic_auth {
                let hash = bcrypt::hash(PASSWORD, 4).expect("a bcrypt hash");
                let _ = write!(yaml, "basic_auth_users:\n  {USERNAME}: \"{hash}\"\n");
                access.basic_auth = Some((USERNAME.into(), PASSWORD.into()));
            }
            write(&web_config, &yaml);
            (Some(tls), access, Some(web_config))
        } else {
            (None, Access::default(), None)
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let (process, port) = launch(
            "prometheus",
            PROMETHEUS,
            dir.path(),
            |port| {
                let mut args = vec![
                    path_arg("--config.file=", &config),
                    path_arg("--storage.tsdb.path=", &storage),
                    arg(format!("--web.listen-address=127.0.0.1:{port}")),
                    arg("--rules.alert.resend-delay=1s"),
                ];
                if let Some(web_config) = &web_config {
                    args.push(path_arg("--web.config.file=", web_config));
                }
                args
            },
            |port| get(&format!("{scheme}://127.0.0.1:{port}/-/ready"), &access).is_ok_and(|(s, _)| s == 200),
        );
        Prometheus { process, port, access, tls, dir }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The CA and credentials it wants (empty for plain HTTP without auth).
    pub fn access(&self) -> &Access {
        &self.access
    }

    pub fn tls(&self) -> Option<&TlsFiles> {
        self.tls.as_ref()
    }

    /// The CA certificate to trust, when it serves HTTPS.
    pub fn ca_path(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.ca.as_path())
    }

    /// User and password, when it asks for basic auth.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.access.basic_auth.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn log_tail(&self) -> String {
        self.process.log_tail()
    }

    /// GET a path (with its query) with the CA and credentials it wants.
    pub fn get(&self, path_and_query: &str) -> (u16, String) {
        get(&format!("{}{path_and_query}", self.url()), &self.access).unwrap_or_else(|e| self.process.fail(&e))
    }

    /// The `data.result` of an instant query.
    pub fn query(&self, expr: &str) -> Vec<Value> {
        let url = url_with(&self.url(), "/api/v1/query", &[("query", expr)]);
        let (status, body) = get(&url, &self.access).unwrap_or_else(|e| self.process.fail(&e));
        let mut answer = json(&format!("query {expr}"), status, &body);
        assert_eq!(answer["status"], "success", "query {expr}: {body}");
        match answer["data"]["result"].take() {
            Value::Array(result) => result,
            other => panic!("query {expr}: the result is not a vector: {other}"),
        }
    }

    /// `data.activeTargets` of `/api/v1/targets`.
    pub fn targets(&self) -> Vec<Value> {
        let (status, body) = self.get("/api/v1/targets");
        match json("targets", status, &body)["data"]["activeTargets"].take() {
            Value::Array(targets) => targets,
            other => panic!("targets: not an array: {other}"),
        }
    }

    /// Waits until `expr` returns at least one series, and returns them.
    pub fn wait_for_series(&self, expr: &str) -> Vec<Value> {
        let found = wait_until(DEADLINE, || Some(self.query(expr)).filter(|result| !result.is_empty()));
        found.unwrap_or_else(|| self.process.fail(&format!("no series for {expr} within {DEADLINE:?}")))
    }

    /// Waits until job `job`'s target has been scraped successfully.
    pub fn wait_for_up(&self, job: &str) {
        self.wait_for_series(&format!("up{{job=\"{job}\"}} == 1"));
    }

    /// Waits until job `job`'s target has this health ("up" or "down") and
    /// returns the target.
    pub fn wait_for_target_health(&self, job: &str, health: &str) -> Value {
        let found = wait_until(DEADLINE, || {
            self.targets().into_iter().find(|t| t["labels"]["job"] == job && t["health"] == health)
        });
        found.unwrap_or_else(|| self.process.fail(&format!("job {job} not {health} within {DEADLINE:?}")))
    }
}

fn rules_yaml(warning_alert: bool) -> String {
    let mut rules = format!(
        "groups:\n  - name: firstwatch-test\n    interval: 1s\n    rules:\n      - alert: {ALWAYS_FIRING}\n        \
         expr: vector(1)\n        labels:\n          severity: critical\n          job: api\n        annotations:\n          \
         summary: The API is on fire (test alert)\n          runbook: https://runbooks.example.test/always-firing\n"
    );
    if warning_alert {
        let _ = write!(
            rules,
            "      - alert: {ALWAYS_WARNING}\n        expr: vector(1)\n        labels:\n          severity: warning\n          \
             job: api\n        annotations:\n          summary: The API is warm (test alert)\n          \
             runbook: https://runbooks.example.test/always-warning\n"
        );
    }
    rules
}

fn config_yaml(options: &PrometheusOptions<'_>, rules: &Path) -> String {
    let mut config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\n",
        yaml_path(rules)
    );
    if let Some(alertmanager) = options.alertmanager {
        let _ = write!(
            config,
            "alerting:\n  alertmanagers:\n    - api_version: v2\n      static_configs:\n        - targets: [\"{}\"]\n",
            alertmanager.target()
        );
    }
    config.push_str("scrape_configs:\n");
    if let Some(exporter) = options.node_exporter {
        let _ = write!(
            config,
            "  - job_name: {NODE_JOB}\n    static_configs:\n      - targets: [\"{}\"]\n",
            exporter.target()
        );
    }
    if options.down_target {
        let _ = write!(
            config,
            "  - job_name: {DOWN_JOB}\n    static_configs:\n      - targets: [\"127.0.0.1:{}\"]\n",
            free_port()
        );
    }
    if options.node_exporter.is_none() && !options.down_target {
        config.truncate(config.len() - "scrape_configs:\n".len());
    }
    config
}

/// A CA, a server certificate it signs for 127.0.0.1 and localhost, and a
/// client certificate it signs, as PEM files in `dir`.
fn write_certificates(dir: &Path) -> TlsFiles {
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "firstwatch engines test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("the CA certificate");
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let key = rcgen::KeyPair::generate().expect("a server key");
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("server parameters");
    let cert = params.signed_by(&key, &issuer).expect("the server certificate");
    let client_key = rcgen::KeyPair::generate().expect("a client key");
    let mut client_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("client parameters");
    client_params.distinguished_name.push(rcgen::DnType::CommonName, "firstwatch");
    client_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client_params.signed_by(&client_key, &issuer).expect("the client certificate");
    let files = TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
        client_cert: dir.join("client.pem"),
        client_key: dir.join("client-key.pem"),
        client_identity: dir.join("client-identity.pem"),
    };
    write(&files.ca, &ca_cert.pem());
    write(&files.cert, &cert.pem());
    write(&files.key, &key.serialize_pem());
    write(&files.client_cert, &client_cert.pem());
    write(&files.client_key, &client_key.serialize_pem());
    write(&files.client_identity, &format!("{}\n{}", client_cert.pem(), client_key.serialize_pem()));
    files
}
