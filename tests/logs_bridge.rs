//! The logs tab's engine as the console starts it: real files, a bounded
//! console channel that is not drained during a flood, and an exact account
//! of every line (shown or counted as dropped), never a stall.

use firstwatch::config;
use firstwatch::tui::Action;
use firstwatch::tui::tabs::logs::{self as tab, Item, Msg};
use firstwatch::tui::tabs::{Services, TabMsg};
use firstwatch::util::identity::Identity;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_delivered_in_order_or_counted_as_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("flood.log");
    std::fs::write(&log, "").unwrap();
    let config_path = dir.path().join("firstwatch.toml");
    let config = config::load_str("[[log]]\nname = \"flood\"\npath = \"flood.log\"\n", &config_path).unwrap();
    // Room for a single batch: the console is "busy" until the test reads.
    let (sources, mut console) = tokio::sync::mpsc::channel(1);
    let services = Services {
        config: Arc::new(config),
        store: None,
        sources,
        read_only: false,
        identity: Identity::current(),
        budget: Default::default(),
    };
    let logs_tab = tab::start(&services);
    assert!(logs_tab.view().is_some());

    // Lines written before the first open would count as history before the tail.
    loop {
        let action = tokio::time::timeout(Duration::from_secs(60), console.recv()).await.unwrap().unwrap();
        if let Action::Msg(TabMsg::Logs(Msg::Batch(batch))) = action
            && batch.items.contains(&Item::CaughtUp)
        {
            break;
        }
    }
    const TOTAL: u64 = 200_000;
    let text: String = (1..=TOTAL).map(|n| format!("INFO line {n} with some ordinary padding text\n")).collect();
    std::fs::OpenOptions::new().append(true).open(&log).unwrap().write_all(text.as_bytes()).unwrap();

    let (mut shown, mut dropped, mut last) = (0u64, 0u64, 0u64);
    while shown + dropped < TOTAL {
        let action = tokio::time::timeout(Duration::from_secs(60), console.recv())
            .await
            .expect("the bridge went quiet")
            .expect("the bridge hung up");
        let Action::Msg(TabMsg::Logs(Msg::Batch(batch))) = action else { panic!("unexpected {action:?}") };
        dropped += batch.dropped;
        for item in &batch.items {
            if let Item::Line { text, .. } = item {
                let n: u64 = text.split_whitespace().nth(2).unwrap().parse().unwrap();
                assert!(n > last, "lines stay in order: {n} after {last}");
                last = n;
                shown += 1;
            }
        }
    }
    assert_eq!(shown + dropped, TOTAL);
    assert_eq!(last, TOTAL, "the newest line is never the one dropped");
    eprintln!("flood of {TOTAL}: {shown} delivered, {dropped} dropped while the console was busy");
}
