//! Silences against a real Alertmanager fed by a real Prometheus: the CLI is
//! run as a user would run it, and what it did is read back from the server,
//! the audit log and the operations table.

#[path = "support/echo.rs"]
mod echo;
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
    let opened = fixture.run(&["incident", "open", "api on fire"]);
    assert!(opened.status.success(), "{}", stderr(&opened));
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

    // The open incident's timeline tells the story: the silence, its outcome, and its end.
    let timeline = fixture.json(&["incident", "status", "--json"]);
    let lines: Vec<(String, String)> = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_string(), e["text"].as_str().unwrap().to_string()))
        .collect();
    let has = |kind: &str, text: &str| lines.iter().any(|(k, t)| k == kind && t.contains(text));
    assert!(has("action", "silence on am: alertname=\"AlwaysFiring\""), "{lines:?}");
    assert!(has("action-outcome", &format!("silence {short} created on am")), "{lines:?}");
    assert!(has("action-outcome", &format!("silence {short} on am expired")), "{lines:?}");
    assert!(rows.iter().all(|row| row["incident_id"] == 1), "audit rows name the open incident: {rows:?}");

    let again = fixture.run(&["silence", "expire", &id, "--yes"]);
    assert_eq!(code(&again), 1, "an expired silence cannot be expired again: {}", stderr(&again));
    assert_eq!(events(&fixture.audit("expire silence")).last(), Some(&"refused"));
}

#[tokio::test]
async fn an_expiry_answered_by_a_login_page_is_a_failure_not_a_success() {
    let mut proxy = echo::serve_html().await;
    let toml = format!("[[engine]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"{}\"\n", proxy.url);
    let config = firstwatch::config::load_str(&toml, std::path::Path::new("/tmp/fw.toml")).unwrap();
    let engine = firstwatch::engine::Engine::new(&config.engines[0], std::path::Path::new("/tmp")).unwrap();
    let id = "0b7c4a4e-6f52-4a7e-9d9a-1c3e2f1a0b9d";
    let error = firstwatch::engine::alertmanager::expire_silence(&engine, id).await.unwrap_err().to_string();
    assert_eq!(
        error,
        format!("engine `am`: did not answer with its API's JSON (text/html: {}); is the url right?", echo::SIGN_IN)
    );
    let seen = proxy.next().await;
    assert!(seen.head.starts_with(&format!("DELETE /api/v2/silence/{id} HTTP/1.1")), "{}", seen.head);
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

/// Folds `action` into the model and carries out the silence effects it asks for, as the runtime would.
fn drive(
    model: &mut firstwatch::tui::Model,
    action: firstwatch::tui::Action,
    services: &firstwatch::tui::tabs::Services,
) {
    for effect in firstwatch::tui::update(model, action, std::time::Instant::now()) {
        if let firstwatch::tui::Effect::Silence(effect) = effect {
            firstwatch::tui::silence::execute(effect, services);
        }
    }
}

/// Waits for the next report of the overlays' background work and folds it in.
async fn answer(
    model: &mut firstwatch::tui::Model,
    reports: &mut tokio::sync::mpsc::Receiver<firstwatch::tui::Action>,
    services: &firstwatch::tui::tabs::Services,
) {
    let action = tokio::time::timeout(engines::DEADLINE, reports.recv()).await.expect("an answer in time").unwrap();
    drive(model, action, services);
}

fn keys(model: &mut firstwatch::tui::Model, services: &firstwatch::tui::tabs::Services, text: &str) {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    for c in text.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\t' => KeyCode::BackTab,
            c => KeyCode::Char(c),
        };
        drive(model, firstwatch::tui::Action::Key(KeyEvent::new(code, KeyModifiers::NONE)), services);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_silences_an_alert_and_expires_it_on_the_same_road() {
    use firstwatch::tui::model::Overlay;
    use firstwatch::tui::silence::dialog::Stage;
    use firstwatch::tui::{Action, silence};
    let Some((fixture, _prometheus)) = firing() else { return };
    firstwatch::ops::set_supervisor_program(env!("CARGO_BIN_EXE_firstwatch").into());
    let config = firstwatch::config::load(&fixture.config()).unwrap();
    let store = firstwatch::store::Store::for_config(&config).unwrap();
    let (sources, mut reports) = tokio::sync::mpsc::channel(64);
    let identity =
        firstwatch::util::identity::Identity { user: "ana".into(), host: "bastion".into(), ..Default::default() };
    let services = firstwatch::tui::tabs::Services {
        config: std::sync::Arc::new(config),
        store: Some(store),
        sources,
        read_only: false,
        identity,
        budget: Default::default(),
    };
    let mut model = support::model("default-dark");
    model.operator = "ana@bastion".into();
    model.wall = chrono::Utc::now();

    let alert = fixture.alert(engines::ALWAYS_FIRING);
    let labels: firstwatch::engine::Labels = serde_json::from_value(alert["labels"].clone()).unwrap();
    drive(&mut model, silence::silence_alert("am", &labels), &services);
    answer(&mut model, &mut reports, &services).await;
    let Overlay::Silence(dialog) = &model.overlay else { panic!("the dialog") };
    assert_eq!(dialog.preview(model.wall).unwrap().reach.unwrap().newly, 1, "AlwaysFiring, counted from the server");
    keys(&mut model, &services, "\tdisk swap\n");
    drive(&mut model, Action::FrameDrawn, &services);
    keys(&mut model, &services, "am\n");
    answer(&mut model, &mut reports, &services).await;
    let Overlay::Silence(dialog) = &model.overlay else { panic!("the dialog") };
    let Stage::Done(Ok(id)) = &dialog.stage else { panic!("created: {:?}", dialog.stage) };
    let id = id.clone();
    let suppressed = engines::wait_until(engines::DEADLINE, || {
        let alert = fixture.alert(engines::ALWAYS_FIRING);
        (alert["status"]["state"] == "suppressed").then_some(alert)
    })
    .expect("suppressed");
    assert_eq!(suppressed["status"]["silencedBy"], serde_json::json!([id]));
    let server = fixture.server_silences();
    assert_eq!(server[0]["createdBy"], "ana@bastion");
    assert_eq!(server[0]["comment"], "disk swap");
    let rows = fixture.audit("silence");
    assert_eq!(events(&rows), ["request", "confirmed", "start", "succeeded"], "{rows:?}");
    let operations = fixture.json(&["ops", "list", "--json"]);
    assert_eq!(operations[0]["kind"], "silence", "carried by a supervisor: {operations}");

    // The silences overlay: x on it, its id typed, and the alert is active again.
    keys(&mut model, &services, "\n");
    drive(&mut model, Action::OpenSilences, &services);
    answer(&mut model, &mut reports, &services).await;
    keys(&mut model, &services, "x");
    drive(&mut model, Action::FrameDrawn, &services);
    keys(&mut model, &services, &format!("{}\n", &id[..8]));
    answer(&mut model, &mut reports, &services).await;
    let Overlay::Silences(list) = &model.overlay else { panic!("the list") };
    assert_eq!(list.notice.as_deref(), Some(format!("✓ expired {}", &id[..8]).as_str()));
    engines::wait_until(engines::DEADLINE, || {
        (fixture.alert(engines::ALWAYS_FIRING)["status"]["state"] == "active").then_some(())
    })
    .expect("active again");
    assert_eq!(events(&fixture.audit("expire silence")), ["request", "confirmed", "start", "succeeded"]);
}
