//! Silences against a real Alertmanager fed by a real Prometheus: the CLI is
//! run as a user would run it, and what it did is read back from the server,
//! the audit log and the operations table.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use support::engines::{self, Alertmanager, Prometheus, PrometheusOptions};
use tempfile::TempDir;

struct Fixture {
    dir: TempDir,
    alertmanager: Alertmanager,
}

impl Fixture {
    /// A config naming the Alertmanager (as `am`), with `extra` appended.
    fn new(alertmanager: Alertmanager, extra: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "[settings]\ndata_dir = \"{}\"\n\n[[engine]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"{}\"\n\n{extra}",
            dir.path().join("data").display(),
            alertmanager.url()
        );
        std::fs::write(dir.path().join("fw.toml"), config).unwrap();
        Fixture { dir, alertmanager }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("fw.toml")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_firstwatch"))
            .arg("--config")
            .arg(self.config())
            .args(args)
            .env("USER", "ana")
            .env_remove("SUDO_USER")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let output = self.run(args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// The silences the server holds (`GET /api/v2/silences`).
    fn server_silences(&self) -> Vec<Value> {
        let (status, body) = engines::blocking_get(&format!("{}/api/v2/silences", self.alertmanager.url()));
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Vec<Value>>(&body).unwrap()
    }

    fn alert(&self, name: &str) -> Value {
        self.alertmanager
            .alerts()
            .into_iter()
            .find(|a| a["labels"]["alertname"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    /// Audit rows of one operation (`silence`, `expire silence`, `schedule silences`), oldest first.
    fn audit(&self, what: &str) -> Vec<Value> {
        match self.json(&["audit", "--json", "--action", what]) {
            Value::Array(rows) => rows,
            other => panic!("not an array: {other}"),
        }
    }
}

fn events(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|row| row["event"].as_str().unwrap()).collect()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An Alertmanager with AlwaysFiring and AlwaysWarning (both job="api") firing into it.
fn firing() -> Option<(Fixture, Prometheus)> {
    engines::require(engines::ALERTMANAGER)?;
    engines::require(engines::PROMETHEUS)?;
    let alertmanager = Alertmanager::start(Default::default());
    let prometheus = Prometheus::start(PrometheusOptions {
        alertmanager: Some(&alertmanager),
        warning_alert: true,
        ..Default::default()
    });
    alertmanager.wait_for_alert(engines::ALWAYS_FIRING);
    alertmanager.wait_for_alert(engines::ALWAYS_WARNING);
    Some((Fixture::new(alertmanager, ""), prometheus))
}

#[test]
fn a_silence_suppresses_the_firing_alert_until_it_is_expired() {
    let Some((fixture, _prometheus)) = firing() else { return };
    let added = fixture.run(&[
        "silence",
        "add",
        "--matcher",
        "alertname=\"AlwaysFiring\"",
        "--duration",
        "1h",
        "--comment",
        "disk swap on api-1",
        "--confirm",
        "am",
    ]);
    assert_eq!(code(&added), 0, "{}", stderr(&added));
    let id = String::from_utf8(added.stdout.clone()).unwrap().trim().to_string();
    assert_eq!(id.len(), 36, "the silence id alone on stdout: {id:?}");
    let shown = stderr(&added);
    assert!(shown.contains("matcher   alertname=\"AlwaysFiring\""), "{shown}");
    assert!(shown.contains("duration  1h00m"), "{shown}");
    assert!(shown.contains("would silence 1 active alert now (of 2 firing)"), "{shown}");

    let suppressed = engines::wait_until(engines::DEADLINE, || {
        let alert = fixture.alert(engines::ALWAYS_FIRING);
        (alert["status"]["state"] == "suppressed").then_some(alert)
    })
    .expect("AlwaysFiring suppressed by the silence");
    assert_eq!(suppressed["status"]["silencedBy"], serde_json::json!([id]), "{suppressed}");
    assert_eq!(fixture.alert(engines::ALWAYS_WARNING)["status"]["state"], "active", "only what it matches");

    let listed = fixture.json(&["silence", "list", "--json"]);
    let row = &listed.as_array().unwrap()[0];
    assert_eq!(row["id"], id.as_str());
    assert_eq!(row["engine"], "am");
    assert_eq!(row["state"], "active");
    assert_eq!(row["matchers"], serde_json::json!(["alertname=\"AlwaysFiring\""]));
    assert_eq!(row["comment"], "disk swap on api-1");
    assert!(row["created_by"].as_str().unwrap().starts_with("ana@"), "{row}");
    let starts = chrono::DateTime::parse_from_rfc3339(row["starts_at"].as_str().unwrap()).unwrap();
    let ends = chrono::DateTime::parse_from_rfc3339(row["ends_at"].as_str().unwrap()).unwrap();
    assert!((ends - starts - chrono::Duration::hours(1)).num_seconds().abs() <= 1, "{row}");

    // The request went the operations' road: a row in ops list, and an outcome row in the audit log.
    let operations = fixture.json(&["ops", "list", "--json"]);
    let operation = &operations.as_array().unwrap()[0];
    assert_eq!((operation["kind"].as_str(), operation["state"].as_str()), (Some("silence"), Some("ok")), "{operation}");
    let rows = fixture.audit("silence");
    assert_eq!(events(&rows), ["request", "confirmed", "start", "succeeded"], "{rows:?}");
    assert!(rows.iter().all(|row| row["user"] == "ana" && row["target"] == "am"), "{rows:?}");
    assert!(rows[3]["detail"].as_str().unwrap().contains(&id), "{rows:?}");

    // Expired by its first 8 characters: the alert is active again.
    let short = &id[..8];
    let expired = fixture.run(&["silence", "expire", short, "--confirm", short]);
    assert_eq!(code(&expired), 0, "{}", stderr(&expired));
    engines::wait_until(engines::DEADLINE, || {
        let alert = fixture.alert(engines::ALWAYS_FIRING);
        (alert["status"]["state"] == "active" && alert["status"]["silencedBy"] == serde_json::json!([])).then_some(())
    })
    .expect("AlwaysFiring active again once the silence expired");
    assert_eq!(fixture.json(&["silence", "list", "--json"])[0]["state"], "expired");
    let rows = fixture.audit("expire silence");
    assert_eq!(events(&rows), ["request", "confirmed", "start", "succeeded"], "{rows:?}");
    assert!(rows[3]["detail"].as_str().unwrap().contains(&id), "{rows:?}");

    let again = fixture.run(&["silence", "expire", &id, "--yes"]);
    assert_eq!(code(&again), 1, "an expired silence cannot be expired again: {}", stderr(&again));
    assert_eq!(events(&fixture.audit("expire silence")).last(), Some(&"refused"));
}

#[test]
fn refused_silences_are_audited_and_never_reach_the_server() {
    let Some((fixture, _prometheus)) = firing() else { return };
    let add = |extra: &[&str]| {
        let mut args = vec!["silence", "add"];
        args.extend_from_slice(extra);
        fixture.run(&args)
    };
    let cases: [(&[&str], &str); 5] = [
        (&["-m", "job=\"api\"", "--comment", "deploy", "--yes"], "too broad: it would silence all 2 active alerts"),
        (&["-m", "alertname=~\".*\"", "--comment", "deploy", "--yes"], "has no equality matcher"),
        (&["-m", "alertname=\"AlwaysFiring\"", "--yes"], "a comment is required"),
        (&["-m", "alertname=\"AlwaysFiring\"", "--comment", "x"], "not confirmed: stdin is not a terminal"),
        (&["-m", "alertname=\"AlwaysFiring\"", "--comment", "x", "--confirm", "prod"], "typed `prod`, expected `am`"),
    ];
    for (args, why) in cases {
        let output = add(args);
        assert_eq!(code(&output), 3, "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(why), "{args:?}: {}", stderr(&output));
        let rows = fixture.audit("silence");
        let last = rows.last().unwrap();
        assert_eq!(last["event"], "refused", "{args:?}: {rows:?}");
        assert!(last["detail"].as_str().unwrap().contains(why), "{last}");
    }
    assert_eq!(fixture.server_silences(), Vec::<Value>::new(), "nothing was created");
    let read_only =
        fixture.run(&["--read-only", "silence", "add", "-m", "alertname=\"AlwaysFiring\"", "--comment", "x", "--yes"]);
    assert_eq!(code(&read_only), 3, "{}", stderr(&read_only));
    assert!(fixture.server_silences().is_empty());
    assert!(fixture.json(&["ops", "list", "--json"]).as_array().unwrap().is_empty(), "no operation was started");

    // Forced, the broad one is created, and the audit row says it was forced.
    let forced = add(&["-m", "job=\"api\"", "--comment", "all of api, on purpose", "--force", "--yes"]);
    assert_eq!(code(&forced), 0, "{}", stderr(&forced));
    assert_eq!(fixture.server_silences().len(), 1);
    let rows = fixture.audit("silence");
    let confirmed = rows.iter().rev().find(|r| r["event"] == "confirmed").unwrap();
    assert!(confirmed["detail"].as_str().unwrap().contains("FORCED although it would silence all 2"), "{confirmed}");
}

#[test]
fn schedule_silences_creates_each_window_silence_once() {
    if engines::require(engines::ALERTMANAGER).is_none() {
        return;
    }
    let window = "[[window]]\nname = \"nightly\"\ncron = \"0 3 * * *\"\nduration = \"1h\"\n\
                  silence = ['job=\"api\"', 'alertname=\"AlwaysFiring\"']\n";
    let fixture = Fixture::new(Alertmanager::start(Default::default()), window);
    let plan = fixture.json(&["schedule", "silences", "--json"]);
    let planned = plan.as_array().unwrap().len();
    assert!((7..=8).contains(&planned), "one per day in the next 7 days: {plan}");
    assert!(plan.as_array().unwrap().iter().all(|p| p["existing"].is_null() && p["window"] == "nightly"), "{plan}");
    assert!(fixture.server_silences().is_empty(), "without --apply nothing is created");

    let refused = fixture.run(&["schedule", "silences", "--apply"]);
    assert_eq!(code(&refused), 3, "not confirmed: {}", stderr(&refused));
    assert!(fixture.server_silences().is_empty());

    let applied = fixture.run(&["schedule", "silences", "--apply", "--yes"]);
    assert_eq!(code(&applied), 0, "{}", stderr(&applied));
    let created = fixture.server_silences();
    assert_eq!(created.len(), planned, "{created:?}");
    for silence in &created {
        assert!(["pending", "active"].contains(&silence["status"]["state"].as_str().unwrap()), "{silence}");
        assert!(silence["comment"].as_str().unwrap().contains("nightly"), "{silence}");
        assert!(silence["createdBy"].as_str().unwrap().starts_with("ana@"), "{silence}");
        assert_eq!(silence["matchers"].as_array().unwrap().len(), 2, "{silence}");
    }
    let after = fixture.json(&["schedule", "silences", "--json"]);
    assert!(after.as_array().unwrap().iter().all(|p| p["existing"].is_string()), "every occurrence covered: {after}");

    let second = fixture.run(&["schedule", "silences", "--apply", "--yes"]);
    assert_eq!(code(&second), 0, "{}", stderr(&second));
    assert!(String::from_utf8_lossy(&second.stdout).contains("has its silence"));
    assert_eq!(fixture.server_silences().len(), planned, "a second run creates none");

    let rows = fixture.audit("schedule silences");
    let succeeded = rows.iter().filter(|r| r["event"] == "succeeded").count();
    assert_eq!(succeeded, planned, "one outcome row per silence: {rows:?}");
    assert_eq!(rows.iter().filter(|r| r["event"] == "request").count(), 2, "the refused run and the applied one");
}
