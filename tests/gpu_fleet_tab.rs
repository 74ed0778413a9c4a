//! The gpu tab on a fleet (64 hosts x 8 GPUs) drawn into a `TestBackend` at
//! 80x24 and 120x40: hosts with summary lines, worst first, one line per GPU,
//! scrolling, folding, sorting, the engine named when it is down, and what
//! `n` and `y` take from a fleet's selection.

#[path = "support/fleet.rs"]
mod fleet;
mod support;

use firstwatch::gpu::SourceError;
use firstwatch::tui::tab::TabId;
use firstwatch::tui::tabs::TabCommand;
use firstwatch::tui::tabs::gpu::{Command, GpuTab, Msg};
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::Instant;

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

fn lines(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| (0..buffer.area.width).map(|x| buffer[(x, y)].symbol().to_string()).collect())
        .collect()
}

fn act(model: &mut Model, action: Action) -> Vec<firstwatch::tui::Effect> {
    update(model, action, Instant::now())
}

fn command(model: &mut Model, command: Command) -> Vec<firstwatch::tui::Effect> {
    act(model, Action::Tab(TabCommand::Gpu(command)))
}

#[test]
fn sixty_four_hosts_of_eight_gpus_read_at_80x24_and_120x40() {
    let model = model_with(GpuTab::with_state(fleet::state(64, 8, true)), "default-dark");
    for (width, height) in [(80, 24), (120, 40)] {
        let terminal = draw(&model, width, height);
        let rows = lines(&terminal);
        let screen = rows.join("\n");
        assert!(rows[1].contains("engine `prom` · 64 hosts · 512 GPUs · every 5s · live"), "{screen}");
        assert!(rows[2].contains("HOST / GPU") && rows[2].contains("STATE"), "{screen}");
        // Worst first: the host with the critical GPU, then the host that stopped reporting (8 GPUs
        // stale), then the one with a memory warning.
        assert!(rows[3].contains("▶") && rows[3].contains("gpu-node-07 · 8 GPUs"), "{screen}");
        assert!(rows[3].contains("CRIT 1/8") && rows[3].contains("93°C"), "{screen}");
        let hot = rows.iter().find(|r| r.contains("   1 H100 80GB HBM3")).expect("GPU 1 of the first host");
        assert!(hot.contains("93°C") && hot.contains("CRIT temp"), "{hot}");
        assert!(rows[12].contains("gpu-node-63 · 8 GPUs") && rows[12].contains("STALE"), "{screen}");
        if height == 40 {
            assert!(rows[21].contains("gpu-node-12 · 8 GPUs") && rows[21].contains("WARN 1/8"), "{screen}");
        }
        // Every line fits: nothing spills past the right edge mid-word into the next column.
        assert!(rows.iter().all(|r| r.chars().count() == width as usize));
        let xid_column = width >= 110;
        assert_eq!(screen.contains("LAST XID"), xid_column, "{screen}");
        assert!(rows[rows.len() - 2].contains("sort: worst first"), "{screen}");
        insta::assert_snapshot!(format!("gpu_fleet_{width}x{height}"), terminal.backend());
    }
}

#[test]
fn the_list_scrolls_folds_and_sorts_by_name() {
    let mut model = model_with(GpuTab::with_state(fleet::state(64, 8, true)), "no-color");
    // A page is what the last frame showed.
    draw(&model, 80, 24);
    act(&mut model, Action::PageDown);
    let screen = text(&draw(&model, 80, 24));
    assert!(!screen.contains("gpu-node-07 · 8 GPUs"), "a page down scrolls the first host away:\n{screen}");
    act(&mut model, Action::Bottom);
    let rows = lines(&draw(&model, 80, 24));
    let last = &rows[rows.len() - 4];
    assert!(last.contains("▶") && last.contains("   7 H100"), "the bottom row is the last host's last GPU: {rows:#?}");

    command(&mut model, Command::Fold);
    let bottom = lines(&draw(&model, 120, 40));
    assert!(bottom[36].contains("▶+ gpu-node-62 · 8 GPUs"), "the cursor moved up to its host's line: {bottom:#?}");
    act(&mut model, Action::Top);
    let folded = lines(&draw(&model, 120, 40));
    let hosts = folded.iter().filter(|r| r.contains(" · 8 GPUs")).count();
    assert_eq!(hosts, 34, "every one of the 34 rows on screen is a host's summary line");
    assert!(folded.iter().any(|r| r.contains("+ gpu-node-63 · 8 GPUs") && r.contains("STALE")), "{folded:#?}");
    insta::assert_snapshot!("gpu_fleet_folded_120x40", draw(&model, 120, 40).backend());

    command(&mut model, Command::Sort);
    assert_eq!(model.tabs.gpu.host_order(), firstwatch::gpu::fleet::HostOrder::Name);
    let by_name = lines(&draw(&model, 80, 24));
    assert!(by_name.iter().any(|r| r.starts_with("▶+ gpu-node-07")), "the cursor stays on its host: {by_name:#?}");
    act(&mut model, Action::Top);
    let by_name = lines(&draw(&model, 80, 24));
    assert!(by_name[3].contains("+ gpu-node-00") && by_name[4].contains("+ gpu-node-01"), "{by_name:#?}");
    assert!(by_name[22].contains("sort: by name"), "{by_name:#?}");
    act(&mut model, Action::Select);
    let open = lines(&draw(&model, 80, 24));
    assert!(open[3].contains("- gpu-node-00") && open[4].contains("   0 H100"), "enter unfolds one host: {open:#?}");
    act(&mut model, Action::Right);
    let rows = lines(&draw(&model, 80, 24));
    assert!(rows.iter().any(|r| r.contains("▶") && r.contains("gpu-node-01")), "→ goes to the next host: {rows:#?}");
}

#[test]
fn a_stale_host_and_an_xid_are_said_in_words() {
    let mut model = model_with(GpuTab::with_state(fleet::state(64, 8, true)), "no-color");
    // The stale host sorts third (a warning), after the critical and the memory warning hosts.
    act(&mut model, Action::Down);
    let rows = lines(&draw(&model, 120, 40));
    let detail = &rows[rows.len() - 3];
    assert!(detail.contains("gpu-node-07 GPU 0") && detail.contains("no Xid"), "{detail}");
    // Past host 07's eight GPUs to the stale host's first GPU.
    for _ in 0..9 {
        act(&mut model, Action::Down);
    }
    let rows = lines(&draw(&model, 120, 40));
    let stale = rows.iter().find(|r| r.contains("gpu-node-63 · 8 GPUs")).expect("the stale host is listed");
    assert!(stale.contains("STALE"), "{stale}");
    let detail = &rows[rows.len() - 3];
    assert!(
        detail.contains("gpu-node-63 GPU 0") && detail.contains("no longer in engine `prom`'s metrics"),
        "{detail}"
    );
    // Host 40's GPU 0 shows its Xid with its meaning in the wide layout.
    command(&mut model, Command::Sort);
    act(&mut model, Action::Top);
    let host_40 = 40 * 9;
    for _ in 0..host_40 + 1 {
        act(&mut model, Action::Down);
    }
    let rows = lines(&draw(&model, 120, 40));
    let xid = rows.iter().find(|r| r.contains("▶")).unwrap();
    assert!(xid.contains("79 GPU has fallen off the bus"), "{xid}");
    assert!(rows[rows.len() - 3].contains("last Xid 79: GPU has fallen off the bus"), "{}", rows[rows.len() - 3]);
}

#[test]
fn an_engine_that_is_down_is_named_with_or_without_numbers() {
    let mut state = fleet::state(4, 2, false);
    state.apply(
        Err(SourceError::Failed("engine `prom`: unreachable: 127.0.0.1:9: Connection refused".into())),
        fleet::at(10),
    );
    let screen = text(&draw(&model_with(GpuTab::with_state(state), "no-color"), 120, 40));
    assert!(screen.contains("ENGINE DOWN since 08:00:10, last numbers shown: engine `prom`: unreachable"), "{screen}");
    assert!(screen.contains("gpu-node-00 · 2 GPUs"), "the last numbers stay: {screen}");

    let mut empty = firstwatch::gpu::GpuState::new(
        "prometheus engine `prom`".into(),
        false,
        std::time::Duration::from_secs(5),
        std::time::Duration::from_secs(600),
        firstwatch::gpu::Thresholds::default(),
    )
    .with_fleet(Some("prom".into()));
    let waiting = text(&draw(&model_with(GpuTab::with_state(empty.clone()), "no-color"), 80, 24));
    assert!(waiting.contains("Asking engine `prom` for the fleet's GPUs"), "{waiting}");
    empty.apply(Err(SourceError::Failed("engine `prom`: no answer within 10s".into())), fleet::at(0));
    let down = text(&draw(&model_with(GpuTab::with_state(empty.clone()), "no-color"), 80, 24));
    assert!(down.contains("Engine `prom` cannot be read (since 08:00:00)"), "{down}");
    assert!(down.contains("no answer within 10s"), "{down}");
    empty.apply(Err(SourceError::NoGpu("engine `prom` has no DCGM GPU series".into())), fleet::at(1));
    let none = text(&draw(&model_with(GpuTab::with_state(empty), "no-color"), 80, 24));
    assert!(none.contains("No GPU in engine `prom`'s metrics"), "{none}");
}

#[test]
fn the_status_line_names_the_host_and_notes_carry_it() {
    use firstwatch::tui::tabs::TabEffect;
    use firstwatch::tui::tabs::gpu::Effect;
    let mut model = support::model("no-color");
    act(&mut model, Action::Msg(firstwatch::tui::tabs::TabMsg::Gpu(Msg::State(Arc::new(fleet::state(64, 8, false))))));
    let alert = model.status.gpu.clone().expect("the hot GPU is reported on every tab");
    assert_eq!(alert.text, "gpu-node-07 GPU 1 CRIT temp");
    assert!(alert.critical);
    model.tab = TabId::Gpu;
    let effects = command(&mut model, Command::Note);
    let [firstwatch::tui::Effect::Tab(TabEffect::Gpu(Effect::Note(note)))] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert!(note.starts_with("gpu: gpu-node-07 (prom): 8 GPUs CRIT 1/8, util"), "{note}");
    act(&mut model, Action::Down);
    act(&mut model, Action::Down);
    let effects = command(&mut model, Command::Note);
    let [firstwatch::tui::Effect::Tab(TabEffect::Gpu(Effect::Note(note)))] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(
        note,
        "gpu: gpu-node-07 GPU 1 NVIDIA H100 80GB HBM3 (prom): CRIT (memory ok, temperature CRIT, power ok)"
    );
    let copied = model.tabs.gpu.copy().unwrap();
    assert_eq!(copied.text, "gpu-node-07 GPU 1 NVIDIA H100 80GB HBM3");
    // p has nothing to open on a fleet and says why.
    command(&mut model, Command::Processes);
    assert!(model.status.notice.as_ref().is_some_and(|(text, _)| text.contains("no process list")));
}
