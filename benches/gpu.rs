//! The gpu tab's costs (goals: 8 simulated GPUs sampled at 1 Hz and drawn cost
//! under 1% of a core; a 120x40 frame of 8 GPUs renders in under 1 ms; a fleet
//! of 500 hosts x 8 GPUs parsed from its seven query answers, folded and drawn
//! in under 50 ms per refresh).

#[path = "support/dcgm_bodies.rs"]
mod dcgm_bodies;

use criterion::{Criterion, criterion_group, criterion_main};
use firstwatch::engine::prometheus::Answer;
use firstwatch::gpu::sim::SimulatedSource;
use firstwatch::gpu::{GpuSource, GpuState, Thresholds};
use firstwatch::theme::Theme;
use firstwatch::tui::keymap::Keymap;
use firstwatch::tui::tab::TabId;
use firstwatch::tui::tabs::gpu::GpuTab;
use firstwatch::tui::{Model, view};
use firstwatch::util::zone::Zone;
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
        let mut model = Model::new(Keymap::defaults(), Theme::built_in("default-dark"), "bench-host".into(), Zone::UTC);
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
    let mut model = Model::new(Keymap::defaults(), Theme::built_in("default-dark"), "bench-host".into(), Zone::UTC);
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

const HOSTS: usize = 500;
const GPUS: usize = 8;

/// Parses the seven recorded answers and joins them per GPU, as the prometheus source does.
fn parse(answers: &[(firstwatch::gpu::dcgm::Metric, Answer)]) -> Vec<firstwatch::gpu::DeviceReading> {
    use firstwatch::gpu::dcgm::{DcgmLabels, Fleet};
    let mut fleet = Fleet::default();
    for (metric, answer) in answers {
        fleet.add(*metric, answer.vector::<DcgmLabels>(20_000).unwrap());
    }
    fleet.readings()
}

fn recorded(turn: usize) -> Vec<(firstwatch::gpu::dcgm::Metric, Answer)> {
    firstwatch::gpu::dcgm::Metric::ALL
        .iter()
        .map(|m| (*m, Answer::recorded(dcgm_bodies::body(m.name(), HOSTS, GPUS, turn).into_bytes())))
        .collect()
}

/// 500 hosts x 8 GPUs: the seven answers parsed, folded into a state with ten
/// minutes of history, handed to the tab and drawn.
fn fleet(c: &mut Criterion) {
    use firstwatch::tui::tabs::{TabMsg, gpu::Msg};
    let answers = [recorded(0), recorded(1)];
    let bytes: usize = answers[0].iter().map(|(_, answer)| answer.len()).sum();
    eprintln!("fleet answers: {} series each, {:.1} MB in all", HOSTS * GPUS, bytes as f64 / 1e6);
    let mut state = GpuState::new(
        "prometheus engine `prom`".into(),
        false,
        Duration::from_secs(5),
        Duration::from_secs(600),
        Thresholds::default(),
    )
    .with_fleet(Some("prom".into()));
    let start = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let mut at = 0;
    for turn in 0..120 {
        state.apply(Ok(parse(&answers[turn % 2])), start + chrono::Duration::seconds(at));
        at += 5;
    }
    c.bench_function("gpu fleet: parse and join 7 answers of 500 hosts x 8 GPUs", |b| {
        b.iter(|| black_box(parse(black_box(&answers[0]))))
    });
    let readings = parse(&answers[1]);
    c.bench_function("gpu fleet: fold 4,000 GPUs, view key, copy for the tab", |b| {
        b.iter(|| {
            at += 5;
            state.apply(Ok(readings.clone()), start + chrono::Duration::seconds(at));
            black_box((state.view_key(), Arc::new(state.clone())));
        })
    });
    let mut model = Model::new(Keymap::defaults(), Theme::built_in("default-dark"), "bench-host".into(), Zone::UTC);
    model.tab = TabId::Gpu;
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    c.bench_function("gpu fleet: group 500 hosts and draw 120x40", |b| {
        b.iter(|| {
            let message = TabMsg::Gpu(Msg::State(Arc::new(state.clone())));
            firstwatch::tui::update(&mut model, firstwatch::tui::Action::Msg(message), std::time::Instant::now());
            terminal.draw(|frame| view::render(black_box(&model), frame)).unwrap();
        })
    });
    let mut turn = 0;
    c.bench_function("gpu fleet: one refresh of 500 hosts x 8 GPUs (parse, fold, group, draw 120x40)", |b| {
        b.iter(|| {
            turn += 1;
            at += 5;
            state.apply(Ok(parse(&answers[turn % 2])), start + chrono::Duration::seconds(at));
            let _key = state.view_key();
            let message = TabMsg::Gpu(Msg::State(Arc::new(state.clone())));
            firstwatch::tui::update(&mut model, firstwatch::tui::Action::Msg(message), std::time::Instant::now());
            terminal.draw(|frame| view::render(black_box(&model), frame)).unwrap();
        })
    });
}

criterion_group!(benches, sampling, rendering, fleet);
criterion_main!(benches);
