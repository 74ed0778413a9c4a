//! The console's silence dialog and silences overlay, driven through `update()`
//! with actions and asserted on the model and the effects; screens at 80x24 and 120x40.

mod support;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use firstwatch::engine::alertmanager::{Alert, AlertStatus, Silence, SilenceStatus};
use firstwatch::engine::matcher::Matcher;
use firstwatch::silence::list::{Listed, Listing};
use firstwatch::tui::keymap::{KeyChord, Keymap, Mode};
use firstwatch::tui::model::Overlay;
use firstwatch::tui::silence::dialog::Stage;
use firstwatch::tui::silence::{self, Effect as SilenceEffect, Msg};
use firstwatch::tui::tab::TabId;
use firstwatch::tui::{Action, Effect, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::Instant;

fn wall() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z").unwrap().to_utc()
}

fn model() -> Model {
    let mut model = support::model("default-dark");
    model.wall = wall();
    model.operator = "ana@bastion".into();
    model
}

fn labels(pairs: &[(&str, &str)]) -> firstwatch::engine::Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn alert(name: &str, state: &str) -> Alert {
    Alert {
        fingerprint: name.into(),
        labels: labels(&[("alertname", name), ("job", "api"), ("severity", "critical")]),
        annotations: Default::default(),
        starts_at: wall(),
        ends_at: None,
        generator_url: None,
        status: AlertStatus { state: state.into(), silenced_by: vec![], inhibited_by: vec![] },
        receivers: vec![],
    }
}

fn act(model: &mut Model, action: Action) -> Vec<SilenceEffect> {
    update(model, action, Instant::now())
        .into_iter()
        .filter_map(|effect| match effect {
            Effect::Silence(effect) => Some(effect),
            _ => None,
        })
        .collect()
}

fn key(model: &mut Model, code: KeyCode) -> Vec<SilenceEffect> {
    act(model, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ctrl(model: &mut Model, c: char) -> Vec<SilenceEffect> {
    act(model, Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)))
}

fn type_text(model: &mut Model, text: &str) {
    for c in text.chars() {
        key(model, KeyCode::Char(c));
    }
}

fn dialog(model: &Model) -> &silence::SilenceDialog {
    match &model.overlay {
        Overlay::Silence(dialog) => dialog,
        other => panic!("no silence dialog: {other:?}"),
    }
}

/// The dialog for ApiDown{job="api", severity="critical"} with two alerts firing (ApiDown and DiskFull, both job="api").
fn opened() -> (Model, u64) {
    let mut model = model();
    let effects = act(&mut model, silence::silence_alert("am", &alert("ApiDown", "active").labels));
    let [SilenceEffect::FetchAlerts { nonce, engine }] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(engine, "am");
    let nonce = *nonce;
    let alerts = Arc::new(vec![alert("ApiDown", "active"), alert("DiskFull", "active")]);
    act(&mut model, Action::Silence(Msg::Alerts { nonce, result: Ok(alerts) }));
    (model, nonce)
}

fn screen(model: &Model, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::render(model, frame)).unwrap();
    format!("{}", terminal.backend())
}

#[test]
fn the_dialog_opens_prefilled_from_the_alert_and_counts_what_it_would_silence() {
    let (mut model, _) = opened();
    let shown = dialog(&model);
    assert_eq!(shown.matchers, ["alertname=\"ApiDown\"", "job=\"api\"", "severity=\"critical\""]);
    assert_eq!(shown.duration, "2h");
    assert_eq!(shown.created_by, "ana@bastion");
    let text = screen(&model, 80, 24);
    assert!(text.contains("would silence 1 active alert now (of 2 firing)"), "{text}");
    assert!(text.contains("(Mon 10:00 → Mon 12:00 UTC)"), "{text}");

    // Editing the matchers changes the count at once: with only job="api" it reaches both.
    ctrl(&mut model, 'd');
    key(&mut model, KeyCode::Down);
    ctrl(&mut model, 'd');
    assert_eq!(dialog(&model).matchers, ["job=\"api\""]);
    let text = screen(&model, 80, 24);
    assert!(text.contains("would silence 2 active alerts now (of 2 firing)"), "{text}");
    assert!(text.contains("⚠ it would silence all 2 active alerts; ctrl-f forces"), "{text}");
}

#[test]
fn a_missing_comment_and_broad_matchers_are_refused_and_the_refusals_recorded() {
    let (mut model, _) = opened();
    let effects = key(&mut model, KeyCode::Enter);
    let [SilenceEffect::Refused { what, engine, why }] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!((what.as_str(), engine.as_str()), ("silence", "am"));
    assert!(why.contains("a comment is required"), "{why}");
    assert_eq!(dialog(&model).stage, Stage::Edit, "still editing");

    // Broad: only job="api" left, with a comment.
    ctrl(&mut model, 'd');
    key(&mut model, KeyCode::Down);
    ctrl(&mut model, 'd');
    key(&mut model, KeyCode::Tab);
    key(&mut model, KeyCode::Tab);
    type_text(&mut model, "deploy of api");
    assert_eq!(dialog(&model).comment, "deploy of api");
    let effects = key(&mut model, KeyCode::Enter);
    let [SilenceEffect::Refused { why, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    assert!(why.contains("too broad: it would silence all 2 active alerts"), "{why}");
    assert_eq!(dialog(&model).stage, Stage::Edit);

    // ctrl-f is the explicit force: then it goes on to the confirmation, which is recorded as the request.
    ctrl(&mut model, 'f');
    let effects = key(&mut model, KeyCode::Enter);
    let [SilenceEffect::Audit { event, detail, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(*event, "request");
    assert!(detail.contains("FORCED"), "{detail}");
    assert!(matches!(dialog(&model).stage, Stage::Confirm { .. }));
}

#[test]
fn the_confirmation_takes_the_engine_name_only_after_it_was_drawn() {
    let (mut model, nonce) = opened();
    key(&mut model, KeyCode::BackTab);
    type_text(&mut model, "disk swap");
    key(&mut model, KeyCode::Enter);
    // Typed ahead, before any frame showed the question: ignored.
    type_text(&mut model, "am");
    assert!(key(&mut model, KeyCode::Enter).is_empty());
    let Stage::Confirm { typed, .. } = &dialog(&model).stage else { panic!("confirming") };
    assert_eq!(typed, "");

    act(&mut model, Action::FrameDrawn);
    type_text(&mut model, "prod");
    let effects = key(&mut model, KeyCode::Enter);
    let [SilenceEffect::Refused { why, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    assert!(why.contains("typed `prod`, expected `am`"), "{why}");

    // A paste never answers it.
    act(&mut model, Action::Paste("am".into()));
    let Stage::Confirm { typed, .. } = &dialog(&model).stage else { panic!("confirming") };
    assert_eq!(typed, "");

    type_text(&mut model, "am");
    let effects = key(&mut model, KeyCode::Enter);
    let [SilenceEffect::Create { nonce: sent, confirmed }] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(*sent, nonce);
    let silence = &confirmed.batch().silences()[0];
    assert_eq!(silence.created_by, "ana@bastion");
    assert_eq!(silence.comment, "disk swap");
    assert_eq!(silence.ends_at - silence.starts_at, chrono::Duration::hours(2));
    assert_eq!(dialog(&model).stage, Stage::Sending);

    // A late answer for another dialog is dropped; this one's is shown.
    act(&mut model, Action::Silence(Msg::Created { nonce: nonce + 7, result: Ok("zzz".into()) }));
    assert_eq!(dialog(&model).stage, Stage::Sending);
    let id = "0f9e11aa-2b3c-4d5e-8f90-123456789abc".to_string();
    act(&mut model, Action::Silence(Msg::Created { nonce, result: Ok(id.clone()) }));
    assert_eq!(dialog(&model).stage, Stage::Done(Ok(id)));
    key(&mut model, KeyCode::Esc);
    assert_eq!(model.overlay, Overlay::None);
}

#[test]
fn esc_in_the_confirmation_goes_back_to_editing_and_read_only_refuses_to_open() {
    let (mut model, _) = opened();
    key(&mut model, KeyCode::BackTab);
    type_text(&mut model, "why");
    key(&mut model, KeyCode::Enter);
    act(&mut model, Action::FrameDrawn);
    let effects = key(&mut model, KeyCode::Esc);
    assert!(matches!(effects.as_slice(), [SilenceEffect::Audit { event: "cancelled", .. }]), "{effects:?}");
    assert_eq!(dialog(&model).stage, Stage::Edit);
    assert_eq!(dialog(&model).comment, "why", "what was typed is kept");
    key(&mut model, KeyCode::Esc);
    assert_eq!(model.overlay, Overlay::None);

    let mut read_only = self::model();
    read_only.read_only = true;
    let effects = act(&mut read_only, silence::silence_alert("am", &labels(&[("alertname", "X")])));
    assert!(matches!(effects.as_slice(), [SilenceEffect::Refused { .. }]), "{effects:?}");
    assert_eq!(read_only.overlay, Overlay::None);
}

fn listed(id: &str, state: &str, ends_in_hours: i64) -> Listed {
    Listed {
        engine: "am".into(),
        silence: Silence {
            id: id.into(),
            matchers: vec![Matcher::parse("alertname=\"ApiDown\"").unwrap().to_api()],
            starts_at: wall() - chrono::Duration::hours(1),
            ends_at: wall() + chrono::Duration::hours(ends_in_hours),
            created_by: "ana@bastion".into(),
            comment: "disk swap on api-1".into(),
            status: SilenceStatus { state: state.into() },
        },
    }
}

fn listing() -> Listing {
    let mut rows = vec![
        listed("0f9e11aa-2b3c-4d5e-8f90-123456789abc", "active", 2),
        listed("77aa0000-0000-4000-8000-000000000001", "pending", 30),
        listed("5e5e5e5e-0000-4000-8000-000000000002", "expired", -3),
    ];
    rows[1].silence.starts_at = wall() + chrono::Duration::hours(17);
    rows[1].silence.matchers = vec![Matcher::parse("job=\"batch\"").unwrap().to_api()];
    rows[1].silence.comment = "maintenance window `nightly` (firstwatch schedule silences)".into();
    Listing { rows, errors: vec!["engine `am-eu`: unreachable: connection refused".into()] }
}

#[test]
fn the_silences_overlay_lists_with_time_left_and_expires_after_the_id_is_typed() {
    let mut model = model();
    let z = KeyChord::parse("Z").unwrap();
    assert_eq!(model.keymap.lookup(Mode::Global, &z), Some(&Action::OpenSilences));
    for tab in TabId::ALL {
        assert_eq!(
            Keymap::defaults().lookup(Mode::Tab(tab), &z),
            Some(&Action::OpenSilences),
            "Z is not taken in {tab:?}"
        );
    }
    let effects = act(&mut model, Action::OpenSilences);
    let [SilenceEffect::List { nonce }] = effects.as_slice() else { panic!("{effects:?}") };
    let nonce = *nonce;
    act(&mut model, Action::Silence(Msg::Listed { nonce, listing: listing() }));
    let text = screen(&model, 120, 40);
    assert!(text.contains("2h00m left"), "{text}");
    assert!(text.contains("starts in 17h00m"), "{text}");
    assert!(text.contains("ended 3h00m ago"), "{text}");
    assert!(text.contains("am-eu"), "an engine that could not be read is said: {text}");

    // x on the expired one says so; on the active one asks for its id.
    key(&mut model, KeyCode::Char('G'));
    assert!(key(&mut model, KeyCode::Char('x')).is_empty());
    key(&mut model, KeyCode::Char('g'));
    let effects = key(&mut model, KeyCode::Char('x'));
    assert!(matches!(effects.as_slice(), [SilenceEffect::Audit { event: "request", .. }]), "{effects:?}");
    type_text(&mut model, "0f9e11aa");
    assert!(key(&mut model, KeyCode::Enter).is_empty(), "keys before the question was drawn are ignored");
    act(&mut model, Action::FrameDrawn);
    type_text(&mut model, "0f9e");
    let effects = key(&mut model, KeyCode::Enter);
    assert!(matches!(effects.as_slice(), [SilenceEffect::Refused { .. }]), "{effects:?}");
    type_text(&mut model, "0f9e11aa");
    let effects = key(&mut model, KeyCode::Enter);
    let [SilenceEffect::Expire { confirmed, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(confirmed.expiry().id, "0f9e11aa-2b3c-4d5e-8f90-123456789abc");
    let effects = act(&mut model, Action::Silence(Msg::Expired { nonce, result: Ok(confirmed.expiry().id.clone()) }));
    assert!(matches!(effects.as_slice(), [SilenceEffect::List { .. }]), "the list is read again: {effects:?}");
    assert!(screen(&model, 80, 24).contains("expired 0f9e11aa"));
}

#[test]
fn the_palette_offers_the_silences() {
    let mut model = model();
    for action in [Action::OpenPalette, Action::Input('s'), Action::Input('i'), Action::Input('l')] {
        act(&mut model, action);
    }
    let Overlay::Palette(palette) = &model.overlay else { panic!("palette") };
    let entry = palette.matches.iter().find(|e| e.action == Action::OpenSilences).expect("offered");
    assert_eq!(entry.key.as_deref(), Some("Z"));
}

#[test]
fn screens_at_80x24_and_120x40() {
    let (mut model, _) = opened();
    key(&mut model, KeyCode::BackTab);
    type_text(&mut model, "disk swap on api-1");
    for (width, height) in [(80, 24), (120, 40)] {
        model.size = (width, height);
        insta::assert_snapshot!(format!("silence_dialog_{width}x{height}"), screen(&model, width, height));
    }
    key(&mut model, KeyCode::Enter);
    act(&mut model, Action::FrameDrawn);
    type_text(&mut model, "a");
    insta::assert_snapshot!("silence_dialog_confirm_80x24", screen(&model, 80, 24));

    // An alert with many labels: the fields scroll, the question stays on screen.
    let mut model = self::model();
    let many: Vec<(String, String)> = (0..20).map(|i| (format!("label_{i:02}"), format!("value {i}"))).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    act(&mut model, silence::silence_alert("am", &labels(&many)));
    key(&mut model, KeyCode::BackTab);
    let text = screen(&model, 80, 24);
    assert!(text.contains("›comment") && text.contains("esc cancel"), "{text}");
    assert!(!text.contains("label_00"), "scrolled to the focused field: {text}");

    let mut model = self::model();
    let effects = act(&mut model, Action::OpenSilences);
    let [SilenceEffect::List { nonce }] = effects.as_slice() else { panic!("{effects:?}") };
    act(&mut model, Action::Silence(Msg::Listed { nonce: *nonce, listing: listing() }));
    for (width, height) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("silences_{width}x{height}"), screen(&model, width, height));
    }
    model.ascii = true;
    let ascii = screen(&model, 80, 24);
    assert!(ascii.is_ascii(), "{ascii}");
    assert!(ascii.contains("* active") && ascii.contains("o pending"), "{ascii}");
}
