//! `promql` and `targets` checks against a real Prometheus and node exporter
//! (the harness in support/engines.rs): per-series rows with their labels,
//! NaN and infinities, empty results, engines that are down, slow, refuse the
//! credentials or answer HTML, and scrape targets that are down.

#[path = "support/echo.rs"]
mod echo;
mod support;

use firstwatch::config::load_str;
use firstwatch::health::engine::Collector;
use firstwatch::health::{CheckSpec, Level, Prober};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::engines::{self, NodeExporter, Prometheus, PrometheusOptions};

/// A node exporter serving 2 hosts x 2 GPUs (and the NaN/Inf series), scraped by a Prometheus.
struct Fleet {
    prometheus: Prometheus,
    _exporter: NodeExporter,
}

fn fleet(down_target: bool) -> Option<Fleet> {
    if !engines::installed() {
        return None;
    }
    let exporter = NodeExporter::start(&engines::dcgm_metrics(2, 2));
    let prometheus =
        Prometheus::start(PrometheusOptions { node_exporter: Some(&exporter), down_target, ..Default::default() });
    prometheus.wait_for_up(engines::NODE_JOB);
    prometheus.wait_for_series("fw_test_value");
    Some(Fleet { prometheus, _exporter: exporter })
}

/// `firstwatch check --json` with `config`: the exit code, the rows and how long it took.
fn check_json(dir: &Path, config: &str, names: &[&str]) -> (i32, Vec<Value>, Duration) {
    let path = dir.join("firstwatch.toml");
    std::fs::write(&path, config).unwrap();
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .args(["check", "--json", "--config"])
        .arg(&path)
        .args(names)
        .env("HOME", dir)
        .env_remove("FIRSTWATCH_CONFIG")
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let rows: Vec<Value> = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap_or(-1), rows, elapsed)
}

fn check_table(dir: &Path, names: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .args(["check", "--config"])
        .arg(dir.join("firstwatch.toml"))
        .args(names)
        .env("HOME", dir)
        .env_remove("FIRSTWATCH_CONFIG")
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn row<'a>(rows: &'a [Value], name: &str) -> &'a Value {
    rows.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("no row {name} in {rows:#?}"))
}

fn engine_block(name: &str, url: &str) -> String {
    format!("[[engine]]\nname = \"{name}\"\nkind = \"prometheus\"\nurl = \"{url}\"\n\n")
}

#[test]
fn each_series_is_a_row_named_by_the_labels_that_tell_it_apart() {
    let Some(fleet) = fleet(false) else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "{}[[check]]\nname = \"gpu memory\"\n\
         promql = 'DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)'\n\
         expect = ['value < 0.06']\n",
        engine_block("prom", &fleet.prometheus.url())
    );
    let (code, rows, _) = check_json(dir.path(), &config, &[]);
    assert_eq!(rows.len(), 4, "one row per GPU: {rows:#?}");
    for gpu in engines::dcgm_fleet(2, 2) {
        let name = format!("gpu memory{{Hostname=\"{}\",gpu=\"{}\"}}", gpu.hostname, gpu.gpu);
        let row = row(&rows, &name);
        let share = gpu.fb_used / engines::DCGM_FB_TOTAL;
        let expected = if share < 0.06 { "ok" } else { "critical" };
        assert_eq!(row["status"], expected, "{share}: {row:#}");
        assert_eq!(row["labels"]["UUID"], gpu.uuid.as_str(), "every label is in --json: {row:#}");
        assert_eq!(row["labels"]["job"], engines::NODE_JOB);
        assert_eq!(row["engine"], "prom");
        assert_eq!(row["check"], "gpu memory");
        assert_eq!(row["kind"], "promql");
        let value: f64 = row["value"].as_str().unwrap().parse().unwrap();
        assert!((value - share).abs() < 1e-9, "{value} vs {share}");
        if expected == "critical" {
            assert_eq!(row["failed_conditions"][0], "value < 0.06");
            assert!(row["message"].as_str().unwrap().starts_with("value was 0."), "{row:#}");
        } else {
            assert!(row["message"].as_str().unwrap().starts_with("value 0."), "{row:#}");
        }
    }
    assert_eq!(code, 2, "the check counts as its worst series");
    let table = check_table(dir.path(), &[]);
    assert!(table.contains("CRITICAL   gpu memory{Hostname=\"gpu-node-01\",gpu=\"1\"} promql"), "{table}");
    assert!(table.ends_with("2 ok, 0 warning, 2 critical, 0 unknown\n"), "{table}");
}

#[test]
fn nan_and_infinities_are_values_and_nan_fails_every_comparison() {
    let Some(fleet) = fleet(false) else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "{}[[check]]\nname = \"odd\"\npromql = 'fw_test_value'\nexpect = ['value < 2']\nseverity = \"warning\"\n",
        engine_block("prom", &fleet.prometheus.url())
    );
    let (code, rows, _) = check_json(dir.path(), &config, &[]);
    let case = |case: &str| row(&rows, &format!("odd{{case=\"{case}\"}}")).clone();
    assert_eq!(case("nan")["value"], "NaN");
    assert_eq!(case("nan")["status"], "warning");
    assert_eq!(case("nan")["message"], "value was NaN, expected < 2");
    assert_eq!(case("inf")["value"], "+Inf");
    assert_eq!(case("inf")["message"], "value was +Inf, expected < 2");
    assert_eq!(case("neg_inf")["value"], "-Inf");
    assert_eq!(case("neg_inf")["status"], "ok", "-Inf is below 2");
    assert_eq!(case("finite")["status"], "ok");
    assert_eq!(code, 1, "severity warning: the worst is a warning");
}

#[test]
fn an_empty_result_is_ok_unless_the_check_expects_series() {
    let Some(fleet) = fleet(false) else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "{}[[check]]\nname = \"none\"\npromql = 'fw_test_value{{case=\"missing\"}}'\n\n\
         [[check]]\nname = \"none expected\"\npromql = 'fw_test_value{{case=\"missing\"}}'\nexpect_series = true\n",
        engine_block("prom", &fleet.prometheus.url())
    );
    let (code, rows, _) = check_json(dir.path(), &config, &["none"]);
    assert_eq!((code, &rows[0]["status"], &rows[0]["message"]), (0, &"ok".into(), &"no series".into()));
    let (code, rows, _) = check_json(dir.path(), &config, &["none expected"]);
    assert_eq!(code, 2);
    assert_eq!(rows[0]["status"], "critical");
    assert_eq!(rows[0]["name"], "none expected", "no series: the check is its own row");
    assert_eq!(rows[0]["message"], "no series (expect_series = true)");
}

#[test]
fn the_targets_check_shows_each_down_target_with_its_last_error() {
    let Some(fleet) = fleet(true) else { return };
    let down = fleet.prometheus.wait_for_target_health(engines::DOWN_JOB, "down");
    let instance = down["labels"]["instance"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let config =
        format!("{}[[check]]\nname = \"targets\"\ntargets = \"prom\"\n", engine_block("prom", &fleet.prometheus.url()));
    let (code, rows, _) = check_json(dir.path(), &config, &[]);
    assert_eq!(rows.len(), 1, "only the down target is a row: {rows:#?}");
    let row = &rows[0];
    assert_eq!(row["name"], format!("targets{{job=\"down\",instance=\"{instance}\"}}"));
    assert_eq!(row["status"], "critical");
    assert_eq!(row["labels"]["job"], engines::DOWN_JOB);
    let message = row["message"].as_str().unwrap();
    assert!(message.starts_with("down: ") && message.contains("connection refused"), "{message}");
    assert_eq!(code, 2);
}

/// A port that refuses connections: bound, then closed.
fn closed_port() -> u16 {
    engines::free_port()
}

#[test]
fn a_down_or_silent_engine_is_unknown_within_its_timeout_and_other_checks_carry_on() {
    let Some(fleet) = fleet(false) else { return };
    // Accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in silent.incoming().take(4) {
            open.push(stream);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "{}{}[[engine]]\nname = \"silent\"\nkind = \"prometheus\"\nurl = \"{silent_url}\"\ntimeout = \"1s\"\n\n\
         [[check]]\nname = \"fine\"\npromql = 'vector(1)'\nengine = \"prom\"\nexpect = ['value == 1']\n\n\
         [[check]]\nname = \"refused\"\npromql = 'vector(1)'\nengine = \"closed\"\n\n\
         [[check]]\nname = \"hung\"\npromql = 'vector(1)'\nengine = \"silent\"\n\n\
         [[check]]\nname = \"hung, shorter\"\npromql = 'vector(1)'\nengine = \"silent\"\ntimeout = \"300ms\"\n",
        engine_block("prom", &fleet.prometheus.url()),
        engine_block("closed", &format!("http://127.0.0.1:{}", closed_port())),
    );
    let (code, rows, elapsed) = check_json(dir.path(), &config, &[]);
    assert_eq!(code, 3, "unknown, and nothing critical: {rows:#?}");
    assert!(elapsed < Duration::from_millis(1000 + 1500), "the engine's 1s timeout bounds the run: {elapsed:?}");
    assert_eq!(row(&rows, "fine")["status"], "ok");
    assert_eq!(row(&rows, "fine")["message"], "value 1");
    let refused = row(&rows, "refused");
    assert_eq!(refused["status"], "unknown");
    assert!(refused["message"].as_str().unwrap().starts_with("engine `closed`: unreachable"), "{refused:#}");
    let hung = row(&rows, "hung");
    assert_eq!(
        (&hung["status"], &hung["message"]),
        (&"unknown".into(), &"engine `silent`: no answer within 1.00s".into())
    );
    let shorter = row(&rows, "hung, shorter");
    assert_eq!(
        shorter["message"], "engine `silent`: no answer within 300ms",
        "the check's own timeout, naming the engine"
    );
    drop(held);
}

#[test]
fn basic_auth_and_tls_are_spoken_and_a_wrong_password_is_refused() {
    if !engines::installed() {
        return;
    }
    let prometheus = Prometheus::start(PrometheusOptions { tls_basic_auth: true, ..Default::default() });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("right"), format!("{}\n", engines::PASSWORD)).unwrap();
    std::fs::write(dir.path().join("wrong"), "hunter2\n").unwrap();
    let ca = prometheus.ca_path().unwrap().display().to_string();
    let engine = |name: &str, password: &str, ca: Option<&str>| {
        let ca = ca.map(|ca| format!("ca_file = \"{ca}\"\n")).unwrap_or_default();
        format!(
            "[[engine]]\nname = \"{name}\"\nkind = \"prometheus\"\nurl = \"{}\"\n{ca}\
             basic_auth = {{ username = \"{}\", password_file = \"{password}\" }}\n\n",
            prometheus.url(),
            engines::USERNAME
        )
    };
    let config = format!(
        "{}{}{}\
         [[check]]\nname = \"secure\"\npromql = 'vector(1)'\nengine = \"good\"\n\n\
         [[check]]\nname = \"wrong password\"\npromql = 'vector(1)'\nengine = \"bad\"\n\n\
         [[check]]\nname = \"untrusted\"\npromql = 'vector(1)'\nengine = \"no-ca\"\n\n\
         [[check]]\nname = \"targets\"\ntargets = \"good\"\n",
        engine("good", "right", Some(&ca)),
        engine("bad", "wrong", Some(&ca)),
        engine("no-ca", "right", None),
    );
    let (code, rows, _) = check_json(dir.path(), &config, &[]);
    assert_eq!(row(&rows, "secure")["status"], "ok", "{rows:#?}");
    let refused = row(&rows, "wrong password");
    assert_eq!(refused["status"], "unknown");
    assert!(refused["message"].as_str().unwrap().starts_with("engine `bad`: refused (401)"), "{refused:#}");
    let untrusted = row(&rows, "untrusted");
    assert_eq!(untrusted["status"], "unknown");
    let message = untrusted["message"].as_str().unwrap();
    assert!(message.starts_with("engine `no-ca`: unreachable") && message.contains("certificate"), "{message}");
    assert_eq!(row(&rows, "targets")["message"], "0 targets up", "nothing is scraped, nothing is down");
    assert_eq!(code, 3);
}

#[test]
fn mutual_tls_is_spoken_with_cert_file_and_key_file_and_its_absence_is_named() {
    if !engines::installed() {
        return;
    }
    let prometheus = Prometheus::start(PrometheusOptions { mutual_tls: true, ..Default::default() });
    let tls = prometheus.tls().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A certificate signed by no CA the engine trusts.
    let stranger_key = rcgen::KeyPair::generate().unwrap();
    let stranger = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().self_signed(&stranger_key).unwrap();
    std::fs::write(dir.path().join("stranger.pem"), stranger.pem()).unwrap();
    std::fs::write(dir.path().join("stranger-key.pem"), stranger_key.serialize_pem()).unwrap();
    let engine = |name: &str, client: Option<(&Path, &Path)>| {
        let client = client
            .map(|(cert, key)| format!("cert_file = \"{}\"\nkey_file = \"{}\"\n", cert.display(), key.display()))
            .unwrap_or_default();
        format!(
            "[[engine]]\nname = \"{name}\"\nkind = \"prometheus\"\nurl = \"{}\"\nca_file = \"{}\"\n{client}\n",
            prometheus.url(),
            tls.ca.display()
        )
    };
    let config = format!(
        "{}{}{}\
         [[check]]\nname = \"with a certificate\"\npromql = 'vector(1)'\nengine = \"mtls\"\nexpect = ['value == 1']\n\n\
         [[check]]\nname = \"without one\"\npromql = 'vector(1)'\nengine = \"anonymous\"\n\n\
         [[check]]\nname = \"with a stranger's\"\npromql = 'vector(1)'\nengine = \"stranger\"\n",
        engine("mtls", Some((&tls.client_cert, &tls.client_key))),
        engine("anonymous", None),
        engine("stranger", Some((&dir.path().join("stranger.pem"), &dir.path().join("stranger-key.pem")))),
    );
    let (code, rows, _) = check_json(dir.path(), &config, &[]);
    let with = row(&rows, "with a certificate");
    assert_eq!(with["status"], "ok", "{with:#}");
    let without = row(&rows, "without one");
    assert_eq!(without["status"], "unknown", "{without:#}");
    let message = without["message"].as_str().unwrap();
    assert!(message.starts_with("engine `anonymous`: unreachable: 127.0.0.1:"), "{message}");
    assert!(message.contains("set cert_file and key_file"), "says what is missing: {message}");
    let refused = row(&rows, "with a stranger's");
    let message = refused["message"].as_str().unwrap();
    assert!(message.starts_with("engine `stranger`: unreachable: 127.0.0.1:"), "{message}");
    assert!(message.contains("refused the client certificate of cert_file"), "{message}");
    assert_eq!(code, 3);
}

#[tokio::test]
async fn a_proxy_answering_html_is_unknown_naming_the_engine() {
    let url = echo::serve_html().await.url;
    let config = format!(
        "{}[[check]]\nname = \"behind a proxy\"\npromql = 'up'\n\n[[check]]\nname = \"its targets\"\ntargets = \"proxied\"\n",
        engine_block("proxied", &url)
    );
    let config = load_str(&config, Path::new("/tmp/firstwatch.toml")).unwrap();
    let (specs, problems) = CheckSpec::build_all(&config);
    assert!(problems.is_empty(), "{problems:?}");
    let prober = Prober::new();
    for spec in &specs {
        let outcome = prober.run(spec).await;
        assert_eq!(outcome.level, Level::Unknown, "{outcome:?}");
        assert!(
            outcome
                .message
                .starts_with("engine `proxied`: did not answer with its API's JSON (text/html: <!DOCTYPE html>"),
            "{}",
            outcome.message
        );
        assert!(outcome.series.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_that_goes_away_leaves_its_rows_unknown_under_their_names() {
    let Some(fleet) = tokio::task::spawn_blocking(|| fleet(false)).await.unwrap() else { return };
    let check = "[[check]]\nname = \"temp\"\npromql = 'DCGM_FI_DEV_GPU_TEMP'\nexpect = ['value < 90']\n";
    let up = format!("{}{check}", engine_block("prom", &fleet.prometheus.url()));
    let gone = format!("{}{check}", engine_block("prom", &format!("http://127.0.0.1:{}", closed_port())));
    let spec = |text: &str| CheckSpec::build_all(&load_str(text, Path::new("/tmp/fw.toml")).unwrap()).0.remove(0);
    let (live, dead) = (spec(&up), spec(&gone));
    let mut collector = Collector::new(vec![Arc::new(live.clone())], None, Box::new(|_| true));
    let prober = Prober::new();
    collector.apply(0, prober.run(&live).await);
    let now = chrono::Utc::now();
    let before: Vec<String> = collector.view(0, now).series().iter().map(|s| s.name.clone()).collect();
    assert_eq!(before.len(), 4, "{before:?}");
    assert!(collector.view(0, now).series().iter().all(|s| s.level == Level::Ok));

    collector.apply(0, prober.run(&dead).await);
    let view = collector.view(0, chrono::Utc::now());
    let after: Vec<String> = view.series().iter().map(|s| s.name.clone()).collect();
    assert_eq!(after, before, "the rows stay put");
    for series in view.series() {
        assert_eq!(series.level, Level::Unknown);
        assert!(series.message.starts_with("engine `prom`: unreachable"), "{}", series.message);
        assert!(series.value.is_some(), "the last value is kept for the detail pane");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sparkline_asks_for_the_one_series_over_its_window() {
    let Some(fleet) = tokio::task::spawn_blocking(|| fleet(false)).await.unwrap() else { return };
    let gpus = engines::dcgm_fleet(2, 2);
    let config = format!(
        "{}[[check]]\nname = \"temp\"\npromql = 'DCGM_FI_DEV_GPU_TEMP'\n",
        engine_block("prom", &fleet.prometheus.url())
    );
    let (specs, _) = CheckSpec::build_all(&load_str(&config, Path::new("/tmp/fw.toml")).unwrap());
    let outcome = Prober::new().run(&specs[0]).await;
    let engine = specs[0].engine.as_ref().unwrap().engine.clone();
    let wanted = &gpus[3];
    let series = outcome
        .series
        .iter()
        .find(|s| s.labels.get("UUID") == Some(&wanted.uuid))
        .unwrap_or_else(|| panic!("{outcome:?}"));
    // A few scrapes' worth of history.
    tokio::task::block_in_place(|| fleet.prometheus.wait_for_series("count_over_time(DCGM_FI_DEV_GPU_TEMP[1m]) >= 3"));
    let end = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    let window = firstwatch::health::series::window(specs[0].every);
    let points =
        firstwatch::health::series::range(&engine, "DCGM_FI_DEV_GPU_TEMP", &series.labels, end, window).await.unwrap();
    assert!(!points.is_empty(), "scraped every second for a few seconds");
    assert!(points.iter().all(|(_, v)| *v == wanted.temp), "only this GPU's temperature: {points:?}");
    assert!(gpus.iter().filter(|g| g.temp == wanted.temp).count() == 1, "the fleet's temperatures differ");
}

#[test]
fn a_query_over_max_series_is_unknown_and_says_how_to_narrow_it() {
    let Some(fleet) = fleet(false) else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[[engine]]\nname = \"capped\"\nkind = \"prometheus\"\nurl = \"{}\"\nmax_series = 3\n\n\
         [[check]]\nname = \"temps\"\npromql = 'DCGM_FI_DEV_GPU_TEMP'\n\n\
         [[check]]\nname = \"some temps\"\npromql = 'DCGM_FI_DEV_GPU_TEMP{{Hostname=\"gpu-node-00\"}}'\n",
        fleet.prometheus.url()
    );
    let (code, rows, _) = check_json(dir.path(), &config, &[]);
    assert_eq!(code, 3);
    let temps = row(&rows, "temps");
    assert_eq!(temps["status"], "unknown");
    assert_eq!(
        temps["message"],
        "engine `capped`: query returned 4 series, more than max_series 3; narrow it (by labels) or raise max_series"
    );
    assert_eq!(rows.iter().filter(|r| r["check"] == "some temps").count(), 2, "a narrower query fits: {rows:#?}");
}

#[test]
fn a_promql_check_under_a_failing_parent_is_suppressed_series_by_series() {
    let Some(fleet) = fleet(false) else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "{}[[check]]\nname = \"exporter\"\ntcp = \"127.0.0.1:{}\"\ntimeout = \"1s\"\n\n\
         [[check]]\nname = \"temp\"\npromql = 'DCGM_FI_DEV_GPU_TEMP'\nexpect = ['value < 40']\ndepends_on = \"exporter\"\nseverity = \"warning\"\n",
        engine_block("prom", &fleet.prometheus.url()),
        closed_port()
    );
    let (code, rows, _) = check_json(dir.path(), &config, &["temp"]);
    let failing: Vec<&Value> = rows.iter().filter(|r| r["status"] == "warning").collect();
    assert!(!failing.is_empty(), "{rows:#?}");
    for row in &failing {
        assert_eq!(row["suppressed_by"], "exporter", "{row:#}");
    }
    for row in rows.iter().filter(|r| r["status"] == "ok") {
        assert_eq!(row["suppressed_by"], Value::Null, "an ok series is not suppressed: {row:#}");
    }
    assert_eq!(code, 1, "a warning under a critical parent counts as the warning it is");
    let table = check_table(dir.path(), &["temp"]);
    assert!(table.contains("↳ WARNING  temp{Hostname="), "{table}");
    assert!(table.contains("(suppressed: exporter is down)"), "{table}");
}
