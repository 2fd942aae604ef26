//! The in-memory host: runs one execution to its end on the async runtime, for Express
//! executions and `stepwise run`.
//!
//! It drives the engine through the engine's [`Agenda`], as every host does, and only does the
//! IO: each task runs as its own tokio task, so the tasks of concurrent Parallel branches and
//! Map iterations run side by side (as many as the engine schedules, which MaxConcurrency
//! bounds); a task the engine cancels (its `TimeoutSeconds` or `HeartbeatSeconds` fired, its
//! branch failed, the execution ended) is aborted, which drops the call in flight; Wait states
//! and retry intervals are timers on the async runtime, never a blocked thread.
//!
//! Time: while tasks run, the execution's clock follows real time. When nothing runs and the
//! next thing to happen is a timer, that idle time passes `time_scale` times as fast: 1.0 is
//! real time, 0.0 skips it (the execution's clock jumps to the timer, as Step Functions Local's
//! `WAIT_TIME_SCALE=0`). A task's timeout and heartbeat always run in real time. The clock is
//! `tokio::time`'s, so a test on a paused runtime runs in virtual time.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use stepwise_asl::StateMachine;
use stepwise_engine::agenda::{Agenda, Next, TaskEffect};
use stepwise_engine::local::TaskOutcome;
use stepwise_engine::mock::TestCase;
use stepwise_engine::{
    Completion, Event, Execution, ExecutionInfo, HistoryEvent, Status, Step, TaskId, TaskRequest,
};
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

/// A task's call in flight. Dropping it cancels the call.
pub type TaskFuture = Pin<Box<dyn Future<Output = TaskOutcome> + Send + 'static>>;

/// Carries out the tasks of in-memory executions.
pub trait TaskRunner: Send + Sync + std::fmt::Debug {
    /// Starts the call for `request`; the host awaits the future on its own task and drops it
    /// when the engine no longer wants the result.
    fn run(&self, request: TaskRequest) -> TaskFuture;
}

/// How to run an execution.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// Real seconds per second of idle time before a Wait or retry timer (0.0: none).
    pub time_scale: f64,
    /// Seeds each step's randomness (UUIDs, `States.MathRandom`, jitter).
    pub seed: u64,
    /// A guard against executions that never end: at most this many steps.
    pub max_steps: usize,
    /// Step Functions Local's mocked responses: Task states this test case mocks are answered
    /// from it, the others by the runner.
    pub mocks: Option<TestCase>,
    /// Keep the history events (`stepwise run --history`); the count is kept regardless.
    pub keep_events: bool,
    /// The execution's log (its state machine's `loggingConfiguration`), given each step's
    /// events.
    pub log: Option<crate::exec_log::Session>,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            time_scale: 0.0,
            seed: 0,
            max_steps: 10_000_000,
            mocks: None,
            keep_events: true,
            log: None,
        }
    }
}

/// How an in-memory execution ended.
#[derive(Debug, Clone)]
pub struct HostRun {
    pub completion: Completion,
    /// Its history (empty unless [`HostOptions::keep_events`]).
    pub events: Vec<HistoryEvent>,
    /// How many states it entered.
    pub transitions: u64,
}

/// The execution's clock: real time plus the idle time skipped so far.
#[derive(Debug)]
struct ExecutionClock {
    at: DateTime<Utc>,
    since: Instant,
}

impl ExecutionClock {
    fn now(&self) -> DateTime<Utc> {
        self.at + chrono::Duration::from_std(self.since.elapsed()).unwrap_or_default()
    }

    /// When, in real time, the execution's clock reaches `at`.
    fn deadline(&self, at: DateTime<Utc>) -> Instant {
        self.since + (at - self.at).to_std().unwrap_or_default()
    }

    /// Moves the clock ahead to `at`; `false` when it is there already.
    fn jump_to(&mut self, at: DateTime<Utc>) -> bool {
        if at > self.now() {
            self.at = at;
            self.since = Instant::now();
            return true;
        }
        false
    }
}

/// Runs `machine` on `input` until the execution ends. `progress` sees the history after each
/// step (when events are kept).
pub async fn run(
    machine: Arc<StateMachine>,
    info: ExecutionInfo,
    input: Value,
    input_text: Option<String>,
    runner: Arc<dyn TaskRunner>,
    options: HostOptions,
    mut progress: impl FnMut(&[HistoryEvent]),
) -> HostRun {
    let mut clock = ExecutionClock {
        at: info.start_time,
        since: Instant::now(),
    };
    let mut exec = Execution::new(machine, info);
    let mut agenda = Agenda::new(Event::Start { input, input_text });
    // The calls in flight, each on its own tokio task; by tokio task id and by ours.
    let mut calls: JoinSet<(TaskId, TaskOutcome)> = JoinSet::new();
    let mut tasks: std::collections::HashMap<tokio::task::Id, TaskId> = Default::default();
    let mut handles: std::collections::BTreeMap<TaskId, AbortHandle> = Default::default();
    let mut events = Vec::new();
    let mut transitions = 0;
    let mut seed = options.seed;
    let mut completion = None;
    // The time of the step right after the clock jumped to a timer: the timer's own, not a
    // millisecond later (what the host did in between is not the execution's time).
    let mut stamp = None;

    for _ in 0..options.max_steps {
        let event = match agenda.next(clock.now()) {
            Next::Step(event) => event,
            Next::Done(c) => {
                completion = Some(c);
                break;
            }
            Next::Await { until } => {
                stamp = None;
                let joined = match until {
                    Some(at) => {
                        match tokio::time::timeout_at(clock.deadline(at), calls.join_next_with_id())
                            .await
                        {
                            Ok(joined) => joined,
                            // The timer is due: the next round fires it.
                            Err(_) => continue,
                        }
                    }
                    None => calls.join_next_with_id().await,
                };
                match joined {
                    Some(Ok((id, (task, outcome)))) => {
                        tasks.remove(&id);
                        handles.remove(&task);
                        agenda.task_finished(task, outcome.into_event(task));
                    }
                    // A call that panicked fails its task rather than leaving it waiting for
                    // ever; one that was cancelled is no longer wanted.
                    Some(Err(e)) => {
                        if let Some(task) = tasks.remove(&e.id()) {
                            handles.remove(&task);
                            if e.is_panic() {
                                let outcome = TaskOutcome::Failed {
                                    error: Some("States.TaskFailed".into()),
                                    cause: Some(format!(
                                        "The task's call stopped unexpectedly: {e}"
                                    )),
                                };
                                agenda.task_finished(task, outcome.into_event(task));
                            }
                        }
                    }
                    // Nothing is in flight after all: nothing can come.
                    None if until.is_none() => break,
                    None => {}
                }
                continue;
            }
            Next::Idle { until, kind } => {
                let scale = if kind.measures_work() {
                    1.0
                } else {
                    options.time_scale
                };
                let idle = (until - clock.now()).to_std().unwrap_or_default();
                let wait = idle.mul_f64(scale);
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                stamp = clock.jump_to(until).then_some(until);
                continue;
            }
            Next::Stalled => break,
        };
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let step = Step {
            now: stamp.take().unwrap_or_else(|| clock.now()),
            seed,
            event,
        };
        let Ok(out) = exec.step(step) else {
            continue;
        };
        transitions += out
            .events
            .iter()
            .filter(|e| e.event_type.as_str().ends_with("StateEntered"))
            .count() as u64;
        if let Some(log) = &options.log {
            log.events(&out.events);
        }
        if options.keep_events {
            events.extend(out.events);
            progress(&events);
        }
        agenda.absorb(out.commands, |effect| match effect {
            TaskEffect::Run(request) => {
                let task = request.task;
                if let Some(case) = &options.mocks {
                    if let Some(outcome) = case.outcome(&request.state_name, request.invocation) {
                        return Some(outcome.into_event(task));
                    }
                }
                let call = runner.run(*request);
                let handle = calls.spawn(async move { (task, call.await) });
                tasks.insert(handle.id(), task);
                handles.insert(task, handle);
                None
            }
            TaskEffect::Cancel(task) => {
                if let Some(call) = handles.remove(&task) {
                    call.abort();
                }
                None
            }
        });
    }
    // Whatever still runs is no longer wanted: aborted, and waited for until dropped, so that
    // what a call does when it is dropped (a `.sync` job's stop) has begun when this returns.
    calls.abort_all();
    while calls.join_next().await.is_some() {}
    HostRun {
        completion: completion.unwrap_or(Completion {
            status: Status::Running,
            output: None,
            error: None,
            cause: None,
        }),
        events,
        transitions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use serde_json::json;
    use stepwise_asl::{ParseOptions, parse_definition};

    /// Answers every task after `delay` with its input's `"answer"`.
    #[derive(Debug)]
    struct Slow {
        delay: Duration,
    }

    impl TaskRunner for Slow {
        fn run(&self, request: TaskRequest) -> TaskFuture {
            let delay = self.delay;
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                TaskOutcome::Succeeded(request.input)
            })
        }
    }

    fn machine(definition: Value) -> Arc<StateMachine> {
        let (m, _) = parse_definition(&definition.to_string(), ParseOptions::default())
            .expect("valid definition");
        Arc::new(m)
    }

    fn info() -> ExecutionInfo {
        ExecutionInfo::local("m", "e", Utc::now())
    }

    async fn go(definition: Value, delay: Duration, scale: f64) -> (HostRun, Duration) {
        let started = Instant::now();
        let run = run(
            machine(definition),
            info(),
            json!({}),
            None,
            Arc::new(Slow { delay }),
            HostOptions {
                time_scale: scale,
                ..HostOptions::default()
            },
            |_| {},
        )
        .await;
        (run, started.elapsed())
    }

    fn task(extra: Value) -> Value {
        let mut t = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                           "Parameters": {"FunctionName": "f"}, "End": true});
        if let (Some(t), Some(extra)) = (t.as_object_mut(), extra.as_object()) {
            t.extend(extra.clone());
        }
        t
    }

    /// A call that panics.
    #[derive(Debug)]
    struct Crashes;

    impl TaskRunner for Crashes {
        fn run(&self, _request: TaskRequest) -> TaskFuture {
            Box::pin(async move { panic!("the integration broke") })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_panics_fails_its_task_instead_of_hanging() {
        let run = run(
            machine(json!({"StartAt": "T", "States": {"T": task(json!({
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}]})),
                "Caught": {"Type": "Pass", "End": true}}})),
            info(),
            json!({}),
            None,
            Arc::new(Crashes),
            HostOptions::default(),
            |_| {},
        )
        .await;
        assert_eq!(
            run.completion.status,
            Status::Succeeded,
            "{:?}",
            run.completion
        );
        let cause = run.completion.output.expect("output")["Cause"].clone();
        assert_eq!(
            cause
                .as_str()
                .map(|c| c.starts_with("The task's call stopped unexpectedly")),
            Some(true),
            "{cause}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn parallel_branches_run_their_tasks_at_once() {
        let branch = |name: &str| json!({"StartAt": name, "States": {name: task(json!({}))}});
        let (run, took) = go(
            json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
                "Branches": [branch("A"), branch("B")]}}}),
            Duration::from_secs(3),
            1.0,
        )
        .await;
        assert_eq!(run.completion.status, Status::Succeeded);
        assert_eq!(took.as_secs(), 3, "two 3 s tasks side by side take 3 s");
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_timeout_fires_while_the_call_runs_and_cancels_it() {
        let (run, took) = go(
            json!({"StartAt": "T", "States": {"T": task(json!({"TimeoutSeconds": 1}))}}),
            Duration::from_secs(3),
            0.0,
        )
        .await;
        assert_eq!(run.completion.status, Status::Failed);
        assert_eq!(run.completion.error.as_deref(), Some("States.Timeout"));
        assert_eq!(took.as_secs(), 1);
        let types: Vec<&str> = run.events.iter().map(|e| e.event_type.as_str()).collect();
        assert!(types.contains(&"TaskTimedOut"), "{types:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn idle_waits_are_skipped_or_scaled_and_the_execution_clock_moves_in_full() {
        let definition = json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 60, "Next": "Now"},
            "Now": {"Type": "Pass", "Parameters": {"t.$": "$$.State.EnteredTime"}, "End": true}}});
        let (skipped, took) = go(definition.clone(), Duration::ZERO, 0.0).await;
        assert_eq!(took, Duration::ZERO);
        let (halved, took) = go(definition, Duration::ZERO, 0.5).await;
        assert_eq!(took.as_secs(), 30);
        for run in [skipped, halved] {
            let entered = run.completion.output.expect("output")["t"]
                .as_str()
                .expect("a time")
                .to_owned();
            let entered: DateTime<Utc> = entered.parse().expect("RFC 3339");
            let started = run.events[0].timestamp;
            // EnteredTime is to the millisecond.
            assert!(entered - started > chrono::Duration::milliseconds(59_999));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_beside_a_running_task_does_not_end_before_the_task() {
        // Branch A waits 60 s (skipped: scale 0) while branch B's task takes 3 s: the wait
        // cannot jump ahead of real work, and the whole Parallel takes the task's 3 s.
        let (run, took) = go(
            json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}},
                {"StartAt": "B", "States": {"B": task(json!({"TimeoutSeconds": 10}))}}]}}}),
            Duration::from_secs(3),
            0.0,
        )
        .await;
        assert_eq!(
            run.completion.status,
            Status::Succeeded,
            "{:?}",
            run.completion
        );
        assert_eq!(took.as_secs(), 3);
    }
}
