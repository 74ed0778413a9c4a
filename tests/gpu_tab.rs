//! The gpu tab drawn into a `TestBackend` at 80x24 and 120x40: 1, 2, 4 and 8
//! simulated GPUs, the no-GPU state, a lost GPU, unsupported fields, the
//! process table, threshold colours, and the keys that move around it.

mod support;

use chrono::{DateTime, Utc};
use firstwatch::gpu::sim::SimulatedSource;
use firstwatch::gpu::{DeviceReading, GpuSample, GpuSource, GpuState, Memory, Reading, SourceError, Thresholds};
use firstwatch::theme::Theme;
use firstwatch::tui::tab::TabId;
use firstwatch::tui::tabs::TabCommand;
use firstwatch::tui::tabs::gpu::{Command, GpuTab, Msg, Pane, ProcessSort};
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn at(second: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + second, 0).unwrap()
}

fn empty_state(simulated: bool) -> GpuState {
    let source = if simulated { "simulated" } else { "NVML, driver 550.54.15" };
    GpuState::new(source.into(), simulated, Duration::from_secs(1), Duration::from_secs(600), Thresholds::default())
}

/// `count` simulated GPUs after `samples` samples, so sparklines have a history.
fn simulated(count: u32, samples: i64) -> GpuState {
    let mut source = SimulatedSource::new(count, 1);
    let mut state = empty_state(true);
    state.source = source.describe();
    for second in 0..samples {
        state.apply(source.sample(), at(second));
    }
    state
}

fn model_with(tab: GpuTab, theme: &str) -> Model {
    let mut model = support::model(theme);
    model.tab = TabId::Gpu;
    model.tabs.gpu = tab;
    model
}

fn draw(model: &Model, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::render(model, frame)).unwrap();
    terminal
}

fn text(terminal: &Terminal<TestBackend>) -> String {
    format!("{}", terminal.backend())
}

#[test]
fn one_two_four_and_eight_gpus_at_both_sizes() {
    for count in [1, 2, 4, 8] {
        for (width, height) in [(80, 24), (120, 40)] {
            let model = model_with(GpuTab::with_state(simulated(count, 90)), "default-dark");
            let terminal = draw(&model, width, height);
            let screen = text(&terminal);
            assert!(screen.contains("SIMULATED"), "simulated numbers are labelled: {screen}");
            for index in 0..count {
                assert!(
                    screen.contains(&format!("GPU {index} "))
                        || screen.contains(&format!("│▶{index} "))
                        || screen.contains(&format!(" {index}   ")),
                    "GPU {index} missing at {width}x{height}:\n{screen}"
                );
            }
            insta::assert_snapshot!(format!("gpu_{count}_{width}x{height}"), terminal.backend());
        }
    }
}

#[test]
fn eight_gpus_at_80x24_are_one_line_each_and_blocks_at_120x40() {
    let model = model_with(GpuTab::with_state(simulated(8, 30)), "default-dark");
    let small = text(&draw(&model, 80, 24));
    assert!(small.contains("UTIL") && small.contains("MEMORY") && small.contains("STATE"), "{small}");
    for name in ["A100-SXM4-80GB", "L40S", "H100 80GB HBM3"] {
        assert!(small.contains(name), "{small}");
    }
    let large = text(&draw(&model, 120, 40));
    assert_eq!(large.matches("power ").count(), 8, "a gauge block per GPU:\n{large}");
    assert!(large.contains("GPU 7 "), "{large}");
}

#[test]
fn no_gpu_fills_the_tab_with_what_was_looked_for() {
    let mut state = empty_state(false);
    state.apply(
        Err(SourceError::NoGpu(
            "no NVIDIA driver found: libnvidia-ml.so.1 could not be loaded (cannot open shared object file)".into(),
        )),
        at(0),
    );
    let model = model_with(GpuTab::with_state(state), "default-dark");
    for (width, height) in [(80, 24), (120, 40)] {
        let terminal = draw(&model, width, height);
        let screen = text(&terminal);
        assert!(screen.contains("No NVIDIA GPU found"), "{screen}");
        assert!(screen.contains("no NVIDIA driver found"), "{screen}");
        assert!(screen.contains("libnvidia-ml.so.1"), "{screen}");
        assert!(screen.contains("simulate = 4"), "says how to try the tab anyway: {screen}");
        insta::assert_snapshot!(format!("gpu_none_{width}x{height}"), terminal.backend());
    }
}

#[test]
fn before_the_first_sample_and_without_an_engine() {
    let looking = text(&draw(&model_with(GpuTab::with_state(empty_state(false)), "default-dark"), 80, 24));
    assert!(looking.contains("Looking for GPUs through NVML"), "{looking}");
    let idle = text(&draw(&model_with(GpuTab::default(), "default-dark"), 80, 24));
    assert!(idle.contains("GPU sampling is not running."), "{idle}");
}

#[test]
fn hung_driver_before_any_sample_says_not_answering() {
    let mut state = empty_state(false);
    state.not_answering(at(0), Duration::from_secs(5));
    let screen = text(&draw(&model_with(GpuTab::with_state(state), "default-dark"), 80, 24));
    assert!(screen.contains("NVML NOT ANSWERING since 08:00:00"), "{screen}");
    assert!(screen.contains("longer than 5s"), "{screen}");
}

/// A card that reports almost nothing, next to one that was lost.
fn sparse_and_lost() -> GpuState {
    let mut state = empty_state(false);
    let mut sparse = GpuSample::bare(0, "NVIDIA Tesla K80");
    sparse.memory = Reading::Value(Memory { used: 3 << 30, total: 12 << 30 });
    sparse.clock_sm = Reading::Failed("Unknown error".into());
    let healthy = |index| {
        let mut sample = GpuSample::bare(index, "NVIDIA Tesla K80");
        sample.utilization_gpu = Reading::Value(33);
        sample.memory = Reading::Value(Memory { used: 6 << 30, total: 12 << 30 });
        sample.temperature = Reading::Value(55);
        DeviceReading::Sampled(Box::new(sample))
    };
    state.apply(Ok(vec![DeviceReading::Sampled(Box::new(sparse.clone())), healthy(1)]), at(0));
    state.apply(
        Ok(vec![
            DeviceReading::Sampled(Box::new(sparse)),
            DeviceReading::Lost { index: 1, reason: "GPU has fallen off the bus".into() },
        ]),
        at(5),
    );
    state
}

#[test]
fn unsupported_fields_read_n_a_and_a_lost_gpu_says_lost() {
    let model = model_with(GpuTab::with_state(sparse_and_lost()), "default-dark");
    for (width, height) in [(80, 24), (120, 40)] {
        let terminal = draw(&model, width, height);
        let screen = text(&terminal);
        assert!(screen.contains("n/a"), "{screen}");
        assert!(screen.contains("LOST since 08:00:05: GPU has fallen off the bus"), "{screen}");
        assert!(screen.contains("clocks n/a") && screen.contains("error reading clocks"), "{screen}");
        assert!(screen.contains(" 25% 3.0/12.0G"), "{screen}");
        insta::assert_snapshot!(format!("gpu_sparse_lost_{width}x{height}"), terminal.backend());
    }
}

fn cell_style_of(buffer: &Buffer, needle: &str) -> Option<ratatui::style::Style> {
    let area = buffer.area;
    for y in 0..area.height {
        let line: String = (0..area.width).map(|x| buffer[(x, y)].symbol().to_string()).collect();
        if let Some(byte) = line.find(needle) {
            let x = line[..byte].chars().count() as u16;
            return Some(buffer[(x, y)].style());
        }
    }
    None
}

#[test]
fn thresholds_colour_the_gauges_and_say_so_in_words() {
    // Simulated GPU 2 sits above the 90% memory rule.
    let model = model_with(GpuTab::with_state(simulated(4, 5)), "default-dark");
    let terminal = draw(&model, 120, 40);
    let theme = Theme::built_in("default-dark");
    let warn = cell_style_of(terminal.backend().buffer(), "WARN mem").expect("a WARN state word");
    assert_eq!(warn.fg, theme.warn().fg);
    let ok = cell_style_of(terminal.backend().buffer(), " ok ").expect("an ok state word");
    assert_eq!(ok.fg, theme.ok().fg);
    // The memory bar of the warning GPU is drawn in the warning colour, the others' in the ok colour.
    let buffer = terminal.backend().buffer();
    let rows: Vec<String> =
        (0..40).map(|y| (0..120).map(|x| buffer[(x, y)].symbol().to_string()).collect::<String>()).collect();
    let (y, line) = rows.iter().enumerate().find(|(_, l)| l.contains("G WARN")).expect("a warning gauge");
    // A cell inside the bar, a few columns after the "mem" label of the warning gauge.
    let bar_x = line[..line.find("G WARN").unwrap()].rfind('m').map(|i| line[..i].chars().count()).unwrap() + 6;
    assert_eq!(buffer[(bar_x as u16, y as u16)].symbol(), "█");
    assert_eq!(buffer[(bar_x as u16, y as u16)].fg, theme.warn().fg.unwrap());
    let (y, line) = rows.iter().enumerate().find(|(_, l)| l.starts_with("┃mem ")).expect("GPU 0's memory gauge");
    assert!(line.contains("61% 48.9/80.0G"), "{line}");
    assert_eq!(buffer[(7, y as u16)].fg, theme.ok().fg.unwrap());

    let plain = model_with(GpuTab::with_state(simulated(4, 5)), "no-color");
    let terminal = draw(&plain, 120, 40);
    let screen = text(&terminal);
    assert!(screen.contains("WARN mem"), "levels are words, not only colours:\n{screen}");
    let buffer = terminal.backend().buffer();
    assert!(buffer.content.iter().all(|c| c.fg == ratatui::style::Color::Reset), "no colours with NO_COLOR");
}

fn act(model: &mut Model, action: Action) {
    update(model, action, Instant::now());
}

#[test]
fn keys_select_gpus_open_sort_and_close_the_process_table() {
    let mut model = model_with(GpuTab::with_state(simulated(4, 5)), "default-dark");
    act(&mut model, Action::Down);
    act(&mut model, Action::Down);
    assert_eq!(model.tabs.gpu.selected(), 2);
    act(&mut model, Action::Bottom);
    assert_eq!(model.tabs.gpu.selected(), 3);
    act(&mut model, Action::Down);
    assert_eq!(model.tabs.gpu.selected(), 3, "stays on the last GPU");
    act(&mut model, Action::Top);
    act(&mut model, Action::Select);
    assert_eq!(model.tabs.gpu.pane(), Pane::Processes);
    let screen = text(&draw(&model, 80, 24));
    assert!(screen.contains("processes by memory"), "{screen}");
    let first_by_memory = screen.find("python3").unwrap();
    assert!(first_by_memory < screen.find("tritonserver").unwrap(), "largest first:\n{screen}");
    act(&mut model, Action::Tab(TabCommand::Gpu(Command::Sort)));
    act(&mut model, Action::Tab(TabCommand::Gpu(Command::Sort)));
    assert_eq!(model.tabs.gpu.sort(), ProcessSort::Name);
    let by_name = text(&draw(&model, 120, 40));
    assert!(by_name.contains("processes by name"), "{by_name}");
    insta::assert_snapshot!("gpu_processes_120x40", draw(&model, 120, 40).backend());
    act(&mut model, Action::Right);
    assert_eq!(model.tabs.gpu.selected(), 1, "left/right change GPU inside the table");
    act(&mut model, Action::Close);
    assert_eq!(model.tabs.gpu.pane(), Pane::Gpus);
    // Esc on the grid is not the tab's: it falls through to the global meaning.
    let (tabs, mut ctx) = model.tab_parts();
    assert!(tabs.gpu.on_nav(&Action::Close, &mut ctx).is_none());
}

#[test]
fn a_new_state_keeps_the_selection_in_range_and_ticks_draw_nothing() {
    let mut model = model_with(GpuTab::with_state(simulated(4, 5)), "default-dark");
    act(&mut model, Action::Bottom);
    let smaller = Arc::new(simulated(2, 5));
    act(&mut model, Action::Msg(firstwatch::tui::tabs::TabMsg::Gpu(Msg::State(smaller))));
    assert_eq!(model.tabs.gpu.selected(), 1);
    let wall = model.wall;
    act(&mut model, Action::Tick(wall));
    model.dirty = false;
    act(&mut model, Action::Tick(wall));
    assert!(!model.dirty, "nothing on the gpu tab moves with the clock");
}

#[test]
fn hostile_process_names_reach_the_screen_sanitised() {
    let mut state = empty_state(false);
    let mut sample = GpuSample::bare(0, "NVIDIA A10");
    sample.processes = Reading::Value(vec![firstwatch::gpu::GpuProcess {
        pid: 77,
        name: firstwatch::gpu::procinfo::clean_name("x\u{1b}]0;pwned\u{7}y"),
        user: "eve".into(),
        memory: Some(1 << 30),
        gpu_percent: None,
        kind: firstwatch::gpu::ProcessKind::Compute,
    }]);
    state.apply(Ok(vec![DeviceReading::Sampled(Box::new(sample))]), at(0));
    let mut model = model_with(GpuTab::with_state(state), "default-dark");
    act(&mut model, Action::Select);
    let screen = text(&draw(&model, 80, 24));
    assert!(screen.contains("xy"), "{screen}");
    assert!(!screen.contains('\u{1b}') && !screen.contains("pwned\u{7}"));
}

#[test]
fn a_threshold_crossing_reaches_the_status_line_of_every_tab() {
    let mut model = support::model("no-color");
    model.tab = TabId::Logs;
    // Simulated GPU 2 sits above the 90% memory rule; two GPUs stay below every threshold.
    act(&mut model, Action::Msg(firstwatch::tui::tabs::TabMsg::Gpu(Msg::State(Arc::new(simulated(4, 5))))));
    let alert = model.status.gpu.clone().expect("a GPU over a threshold is reported");
    assert_eq!(alert.text, "GPU 2 WARN mem");
    assert!(!alert.critical);
    let screen = text(&draw(&model, 120, 40));
    assert!(screen.lines().last().unwrap_or_default().contains("GPU 2 WARN mem"), "{screen}");
    act(&mut model, Action::Msg(firstwatch::tui::tabs::TabMsg::Gpu(Msg::State(Arc::new(simulated(2, 5))))));
    assert_eq!(model.status.gpu, None, "back under the thresholds, the status line is clear");
}

#[test]
fn n_notes_the_selected_process_on_the_open_incident() {
    use firstwatch::incident::record::{self, Severity};
    use firstwatch::tui::tabs::gpu::Effect;
    use firstwatch::tui::tabs::{Services, TabEffect};
    let mut model = model_with(GpuTab::with_state(simulated(4, 5)), "no-color");
    act(&mut model, Action::Select);
    let effects = update(&mut model, Action::Tab(TabCommand::Gpu(Command::Note)), Instant::now());
    let [firstwatch::tui::Effect::Tab(TabEffect::Gpu(effect @ Effect::Note(text)))] = effects.as_slice() else {
        panic!("one note effect expected, got {effects:?}")
    };
    assert!(text.starts_with("gpu: GPU 0 ") && text.contains(": pid ") && text.contains("GiB"), "{text}");

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = firstwatch::store::Store::open_in(dir.path()).unwrap();
    let (mut services, mut replies) = Services::detached();
    services.store = Some(store.clone());
    let mut run = |services: &Services| {
        runtime.block_on(async {
            firstwatch::tui::tabs::execute(TabEffect::Gpu(effect.clone()), services);
            replies.recv().await
        })
    };
    // Without an open incident there is nothing to note it on, and the user is told so.
    assert!(matches!(run(&services), Some(Action::Error(message)) if message.contains("no open incident")));
    let incident = record::open(&store, "GPU memory", Severity::P3, None, &services.identity).unwrap();
    assert_eq!(run(&services), Some(Action::SelectTab(TabId::Incident)));
    let events = record::get(&store, incident.id).unwrap().events;
    assert!(events.iter().any(|e| e.text == *text), "{events:?}");
}
