//! What buffered log lines really cost on the heap, counted by the allocator:
//! the bytes beyond their text, and the memory budget held against the heap
//! rather than against the view's own accounting.

use firstwatch::logs::view::{LogView, SourceView};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write;

/// The system allocator, counting the bytes each thread holds. Every test
/// builds and drops its view on its own thread, so tests running side by side
/// do not see each other's allocations.
struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn count(bytes: isize) {
    // During thread teardown the counter may be gone; nothing measured then.
    let _ = HELD.try_with(|held| held.set(held.get() + bytes));
}

// SAFETY: every call is passed straight to the system allocator; only counting is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees for `layout` are passed on unchanged.
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            count(layout.size() as isize);
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: `block` came from this allocator with `layout`.
        unsafe { System.dealloc(block, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `block` came from this allocator with `layout`; the caller checked `new_size`.
        let moved = unsafe { System.realloc(block, layout, new_size) };
        if !moved.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn held() -> isize {
    HELD.with(Cell::get)
}

/// Lines of 50 to 150 bytes; the loop's own strings are freed as it goes, so
/// what stays on the heap is the view's.
fn fill(
    view: &mut LogView,
    lines: u64,
    source_of: impl Fn(u64) -> usize,
    mut after: impl FnMut(&LogView, u64),
) -> usize {
    let mut text = String::with_capacity(256);
    let mut bytes = 0;
    for n in 0..lines {
        text.clear();
        let _ = write!(text, "2026-11-29T10:00:00Z INFO request {n:08} took {}ms", n % 997);
        text.extend(std::iter::repeat_n('x', (n % 101) as usize));
        bytes += text.len();
        view.push(source_of(n), None, text.clone(), false);
        if n % 1000 == 999 {
            view.end_batch();
            after(view, n);
        }
    }
    view.end_batch();
    bytes
}

#[test]
fn a_buffered_line_costs_under_48_bytes_beyond_its_text() {
    let lines = 100_000;
    let mut view = LogView::new(vec![SourceView::new("app", 100_000, Vec::new())]);
    let empty = held();
    let text = fill(&mut view, lines, |_| 0, |_, _| {});
    assert_eq!(view.buffered(), lines as usize, "all of them kept: the default budget is far away");
    let used = held() - empty;
    let overhead = (used - text as isize) as f64 / lines as f64;
    eprintln!(
        "{lines} lines, {text} bytes of text: {used} bytes on the heap, {overhead:.1} bytes a line beyond the text"
    );
    assert!(overhead < 48.0, "{overhead:.1} bytes a line beyond the text");
    assert!(used as usize <= view.memory(), "the budget's accounting covers the heap: {used} > {}", view.memory());
}

#[test]
fn the_memory_budget_holds_on_the_heap_across_sources() {
    let budget = 2 * 1024 * 1024;
    let sources = (0..3).map(|i| SourceView::new(format!("log{i}"), 1_000_000, Vec::new())).collect();
    let mut view = LogView::new(sources);
    view.set_budget(budget as u64);
    let empty = held();
    let mut peak = 0;
    // One source writes eight lines for each of the others' one.
    let source_of = |n: u64| if n % 10 < 8 { 0 } else { 1 + (n % 2) as usize };
    fill(&mut view, 200_000, source_of, |view, n| {
        let used = held() - empty;
        peak = peak.max(used);
        assert!(used <= budget, "after line {n}: {used} bytes on the heap, budget {budget}");
        assert!(view.memory() <= budget as usize);
    });
    eprintln!("peak {peak} bytes on the heap for a budget of {budget}");
    assert!(peak > budget / 2, "the budget was reached: {peak}");
    assert!(view.sources[0].budget_dropped > 0, "the busiest source lost its oldest lines");
}
