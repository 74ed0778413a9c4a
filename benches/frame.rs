//! Render time of a full console frame at 120x40 (goal: under 1 ms).

use criterion::{Criterion, criterion_group, criterion_main};
use firstwatch::theme::Theme;
use firstwatch::tui::keymap::Keymap;
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::time::Instant;

fn model() -> Model {
    let mut model =
        Model::new(Keymap::defaults(), Theme::built_in("default-dark"), "bench-host".into(), chrono_tz::UTC);
    model.status.clock = "Mon 03:07 UTC".into();
    model
}

fn full_frame(c: &mut Criterion) {
    let model = model();
    c.bench_function("render 120x40 frame", |b| {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        b.iter(|| {
            // A fresh back buffer each time, so the whole frame is diffed and written.
            terminal.clear().unwrap();
            terminal.draw(|frame| view::render(black_box(&model), frame)).unwrap();
        })
    });
    let mut with_help = self::model();
    update(&mut with_help, Action::ToggleHelp, Instant::now());
    c.bench_function("render 120x40 frame with help overlay", |b| {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        b.iter(|| {
            terminal.clear().unwrap();
            terminal.draw(|frame| view::render(black_box(&with_help), frame)).unwrap();
        })
    });
}

criterion_group!(benches, full_frame);
criterion_main!(benches);
