//! The sampling engine driven by fake GPU sources (the test machines have no
//! GPU): NotSupported fields, a lost GPU, a missing driver, transient errors
//! with back-off, a hung driver, a panicking source. Time is tokio's paused
//! clock, so nothing here waits in real time.

use firstwatch::gpu::engine::{self, Delivery, EngineOptions, NO_GPU_RETRY};
use firstwatch::gpu::state::GpuCondition;
use firstwatch::gpu::{
    DeviceReading, GpuSample, GpuSource, GpuState, Memory, Reading, SourceError, SourceHealth, Thresholds,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::time::Instant;

type Step = Box<dyn FnMut(u32) -> Result<Vec<DeviceReading>, SourceError> + Send>;

/// A source that answers through a closure and reports each call (its number) as it starts.
struct Fake {
    answer: Step,
    calls: UnboundedSender<u32>,
    count: u32,
}

impl GpuSource for Fake {
    fn describe(&self) -> String {
        "fake".into()
    }

    fn sample(&mut self) -> Result<Vec<DeviceReading>, SourceError> {
        self.count += 1;
        let _ = self.calls.send(self.count);
        (self.answer)(self.count)
    }
}

struct Running {
    states: UnboundedReceiver<Arc<GpuState>>,
    calls: UnboundedReceiver<u32>,
    task: tokio::task::JoinHandle<()>,
}

fn options(every_secs: u64, history_secs: u64) -> EngineOptions {
    EngineOptions {
        every: Duration::from_secs(every_secs),
        timeout: Duration::from_secs(5),
        history: Duration::from_secs(history_secs),
        thresholds: Thresholds::default(),
    }
}

fn start(options: EngineOptions, answer: Step) -> Running {
    let (calls_tx, calls) = unbounded_channel();
    let (states_tx, states) = unbounded_channel();
    let source = Box::new(Fake { answer, calls: calls_tx, count: 0 });
    let task = tokio::spawn(engine::run(source, options, move |state| match states_tx.send(state) {
        Ok(()) => Delivery::Sent,
        Err(_) => Delivery::Closed,
    }));
    Running { states, calls, task }
}

fn gpu(index: u32, util: u32) -> DeviceReading {
    let mut sample = GpuSample::bare(index, format!("Fake GPU {index}"));
    sample.utilization_gpu = Reading::Value(util);
    sample.memory = Reading::Value(Memory { used: 10 << 30, total: 80 << 30 });
    sample.temperature = Reading::Value(50);
    DeviceReading::Sampled(Box::new(sample))
}

/// Waits for the next state that satisfies `wanted`.
async fn state_where(running: &mut Running, wanted: impl Fn(&GpuState) -> bool) -> Arc<GpuState> {
    loop {
        let state = running.states.recv().await.expect("engine stopped");
        if wanted(&state) {
            return state;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn not_supported_fields_do_not_fail_the_sample() {
    let mut running = start(
        options(1, 60),
        Box::new(|_| {
            let mut sample = GpuSample::bare(0, "Old card");
            sample.memory = Reading::Value(Memory { used: 1 << 30, total: 4 << 30 });
            sample.fan = Reading::Failed("Unknown error".into());
            Ok(vec![DeviceReading::Sampled(Box::new(sample))])
        }),
    );
    let state = state_where(&mut running, |s| s.health == SourceHealth::Live).await;
    let sample = state.gpus[0].sample.as_ref().unwrap();
    assert_eq!(sample.temperature, Reading::NotSupported);
    assert_eq!(sample.processes, Reading::NotSupported);
    assert_eq!(sample.memory.get().unwrap().used, 1 << 30);
    assert_eq!(sample.failed_fields(), vec![("fan", "Unknown error")]);
    assert_eq!(state.gpus[0].condition, GpuCondition::Live);
}

#[tokio::test(start_paused = true)]
async fn a_gpu_lost_mid_run_is_marked_and_the_others_carry_on() {
    let mut running = start(
        options(1, 60),
        Box::new(|call| {
            if call < 3 {
                Ok(vec![gpu(0, 10), gpu(1, 20)])
            } else {
                Ok(vec![
                    gpu(0, 10 + call),
                    DeviceReading::Lost { index: 1, reason: "GPU has fallen off the bus".into() },
                ])
            }
        }),
    );
    let state =
        state_where(&mut running, |s| s.gpus.len() == 2 && matches!(s.gpus[1].condition, GpuCondition::Lost { .. }))
            .await;
    assert_eq!(state.health, SourceHealth::Live);
    assert_eq!(state.gpus[0].condition, GpuCondition::Live);
    assert_eq!(state.gpus[1].sample.as_ref().unwrap().utilization_gpu, Reading::Value(20), "last numbers kept");
    // GPU 0 keeps moving after GPU 1 is gone.
    let later =
        state_where(&mut running, |s| s.gpus[0].sample.as_ref().unwrap().utilization_gpu == Reading::Value(16)).await;
    assert!(matches!(later.gpus[1].condition, GpuCondition::Lost { .. }));
}

#[tokio::test(start_paused = true)]
async fn a_host_without_a_driver_says_why_and_looks_again_slowly() {
    let mut running = start(
        options(1, 60),
        Box::new(|_| Err(SourceError::NoGpu("no NVIDIA driver found: libnvidia-ml.so.1".into()))),
    );
    let state = state_where(&mut running, |s| matches!(s.health, SourceHealth::NoGpu(_))).await;
    assert_eq!(state.health, SourceHealth::NoGpu("no NVIDIA driver found: libnvidia-ml.so.1".into()));
    assert!(state.gpus.is_empty());
    assert_eq!(running.calls.recv().await, Some(1));
    let first = Instant::now();
    assert_eq!(running.calls.recv().await, Some(2));
    assert_eq!(Instant::now() - first, NO_GPU_RETRY);
    // Nothing changed on screen, so nothing more was sent.
    assert!(running.states.try_recv().is_err());
}

#[tokio::test(start_paused = true)]
async fn transient_errors_back_off_and_show_stale_since_the_first_failure() {
    let mut running = start(
        options(1, 60),
        Box::new(|call| match call {
            1 => Ok(vec![gpu(0, 30)]),
            2..=5 => Err(SourceError::Failed("Unknown error".into())),
            _ => Ok(vec![gpu(0, 31)]),
        }),
    );
    let mut times = Vec::new();
    for expected in 1..=7 {
        assert_eq!(running.calls.recv().await, Some(expected));
        times.push(Instant::now());
    }
    let gaps: Vec<u64> = times.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    // every 1s, then 2, 4, 8, 16 after the 1st..4th failure, then back to every 1s.
    assert_eq!(gaps, vec![1, 2, 4, 8, 16, 1]);
    let stale = state_where(&mut running, |s| matches!(s.health, SourceHealth::Stale { .. })).await;
    assert!(stale.gpus[0].sample.is_some(), "the last numbers stay on screen while stale");
    let live = state_where(&mut running, |s| s.health == SourceHealth::Live).await;
    assert_eq!(live.gpus[0].sample.as_ref().unwrap().utilization_gpu, Reading::Value(31));
}

#[tokio::test(start_paused = true)]
async fn a_hung_driver_shows_not_answering_and_is_not_asked_again_until_it_returns() {
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let mut running = start(
        options(1, 60),
        Box::new(move |call| {
            if call == 1 {
                let _ = gate.recv();
            }
            Ok(vec![gpu(0, 40)])
        }),
    );
    let waiting = running.states.recv().await.unwrap();
    assert_eq!(waiting.health, SourceHealth::Waiting);
    assert_eq!(running.calls.recv().await, Some(1));
    // A blocked NVML call holds the paused clock still, so move it by hand past the 5s timeout.
    tokio::time::advance(Duration::from_secs(6)).await;
    let hung = running.states.recv().await.unwrap();
    assert!(matches!(hung.health, SourceHealth::NotAnswering { timeout, .. } if timeout == Duration::from_secs(5)));
    tokio::time::advance(Duration::from_secs(120)).await;
    assert!(running.calls.try_recv().is_err(), "no second call piles up behind the stuck one");
    release.send(()).unwrap();
    let live = state_where(&mut running, |s| s.health == SourceHealth::Live).await;
    assert_eq!(live.gpus.len(), 1);
    assert_eq!(running.calls.recv().await, Some(2), "sampling resumes once the call returns");
}

#[tokio::test(start_paused = true)]
async fn an_idle_gpu_sends_nothing_once_its_history_is_full() {
    // History of 3 points: after 3 identical samples nothing shown can change.
    let mut running = start(options(1, 3), Box::new(|_| Ok(vec![gpu(0, 25)])));
    for expected in 1..=12 {
        assert_eq!(running.calls.recv().await, Some(expected));
    }
    let mut sent = Vec::new();
    while let Ok(state) = running.states.try_recv() {
        sent.push(state);
    }
    // Waiting, then Live with 1, 2 and 3 history points; then silence.
    assert_eq!(sent.len(), 4, "{:?}", sent.iter().map(|s| &s.health).collect::<Vec<_>>());
    assert_eq!(sent[3].gpus[0].history.utilization.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_source_stops_sampling_with_a_reason() {
    let mut running = start(options(1, 60), Box::new(|_| panic!("driver bug")));
    let stopped = state_where(&mut running, |s| matches!(s.health, SourceHealth::Stopped(_))).await;
    let SourceHealth::Stopped(reason) = &stopped.health else { unreachable!() };
    assert!(reason.contains("sampling thread failed"), "{reason}");
    running.task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn sampling_stops_when_nobody_listens() {
    let running = start(options(1, 60), Box::new(|call| Ok(vec![gpu(0, call % 100)])));
    let Running { states, mut calls, task } = running;
    assert_eq!(calls.recv().await, Some(1));
    drop(states);
    task.await.unwrap();
}

#[test]
fn the_command_line_sampler_times_out_on_a_hung_source() {
    let (calls, _seen) = unbounded_channel();
    let (_release, gate) = std::sync::mpsc::channel::<()>();
    let source = Box::new(Fake {
        answer: Box::new(move |_| {
            let _ = gate.recv();
            Ok(Vec::new())
        }),
        calls,
        count: 0,
    });
    let (returned, result) = engine::sample_once(source, Duration::from_millis(50));
    assert!(returned.is_none());
    assert_eq!(result.unwrap_err().to_string(), "NVML did not answer within 50ms");
}
