//! The gpu tab's costs (goals: 8 simulated GPUs sampled at 1 Hz and drawn cost
//! under 1% of a core; a 120x40 frame of 8 GPUs renders in under 1 ms).

use criterion::{Criterion, criterion_group, criterion_main};
use firstwatch::gpu::sim::SimulatedSource;
use firstwatch::gpu::{GpuSource, GpuState, Thresholds};
use firstwatch::theme::Theme;
use firstwatch::tui::keymap::Keymap;
use firstwatch::tui::tab::TabId;
use firstwatch::tui::tabs::gpu::GpuTab;
use firstwatch::tui::{Model, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

fn state_with_full_history(source: &mut SimulatedSource) -> GpuState {
    let mut state =
        GpuState::new(source.describe(), true, Duration::from_secs(1), Duration::from_secs(600), Thresholds::default());
    let start = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    for second in 0..600 {
        state.apply(source.sample(), start + chrono::Duration::seconds(second));
    }
    state
}

/// What the engine does once per interval: sample, fold, digest, and copy the state for the tab.
fn sampling(c: &mut Criterion) {
    let mut source = SimulatedSource::new(8, 1);
    let mut state = state_with_full_history(&mut source);
    let now = chrono::Utc::now();
    c.bench_function("gpu: sample 8 simulated GPUs, fold, view key, copy for the tab", |b| {
        b.iter(|| {
            state.apply(source.sample(), now);
            let key = state.view_key();
            black_box((key, Arc::new(state.clone())));
        })
    });
}

fn rendering(c: &mut Criterion) {
    let mut source = SimulatedSource::new(8, 1);
    let state = state_with_full_history(&mut source);
    for (width, height) in [(120, 40), (80, 24)] {
        let mut model =
            Model::new(Keymap::defaults(), Theme::built_in("default-dark"), "bench-host".into(), chrono_tz::UTC);
        model.tab = TabId::Gpu;
        model.tabs.gpu = GpuTab::with_state(state.clone());
        c.bench_function(&format!("gpu: render 8 GPUs at {width}x{height}"), |b| {
            let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
            b.iter(|| {
                // A fresh back buffer each time, so the whole frame is diffed and written.
                terminal.clear().unwrap();
                terminal.draw(|frame| view::render(black_box(&model), frame)).unwrap();
            })
        });
    }
    // The usual case: a new sample after a drawn frame, so only changed cells are written.
    let mut model =
        Model::new(Keymap::defaults(), Theme::built_in("default-dark"), "bench-host".into(), chrono_tz::UTC);
    model.tab = TabId::Gpu;
    let mut next = state.clone();
    next.apply(source.sample(), chrono::Utc::now());
    let states = [state, next];
    c.bench_function("gpu: redraw 8 GPUs at 120x40 after a new sample", |b| {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        let mut turn = 0;
        b.iter(|| {
            turn ^= 1;
            model.tabs.gpu = GpuTab::with_state(states[turn].clone());
            terminal.draw(|frame| view::render(black_box(&model), frame)).unwrap();
        })
    });
}

criterion_group!(benches, sampling, rendering);
criterion_main!(benches);
