//! Task states: scheduling a task, and its start, heartbeats, success, failure and timeouts.

use chrono::Duration;
use serde_json::{Map, Value};
use stepwise_asl::eval::Entropy;
use stepwise_asl::model::State;

use crate::history::EventType;
use crate::lang;

use super::events::{add_error, truncated_false};
use super::flow::Flow;
use super::frames::StatePhase;
use super::timers::TimerPurpose;
use super::{
    Command, Event, Execution, Fault, FrameId, StepError, TaskId, TaskKind, TaskRequest, TimerId,
};

/// Where a scheduled task is in its life. It leaves the engine's books when it ends
/// (succeeded, failed, timed out, cancelled); Retry and Catch then belong to its state.
///
/// ```text
/// Scheduled --TaskStarted--> Started --TaskSubmitted--> Submitted
///     |  \________________________TaskSubmitted__________^   |
///     +--- TaskSucceeded / TaskFailed / timeout (any phase) --+--> ended
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TaskPhase {
    /// Scheduled; no worker or integration has taken it yet.
    Scheduled,
    /// A worker or integration has it (TaskStarted / ActivityStarted / LambdaFunctionStarted).
    Started,
    /// The integration accepted it and the state waits for its callback or job
    /// (TaskSubmitted): `.waitForTaskToken` and `.sync`.
    Submitted,
}

impl TaskPhase {
    fn name(self) -> &'static str {
        match self {
            TaskPhase::Scheduled => "scheduled",
            TaskPhase::Started => "started",
            TaskPhase::Submitted => "submitted",
        }
    }
}

#[derive(Debug)]
pub(super) struct PendingTask {
    pub(super) frame: FrameId,
    pub(super) kind: TaskKind,
    pub(super) phase: TaskPhase,
    pub(super) timeout_timer: Option<TimerId>,
    pub(super) heartbeat_timer: Option<TimerId>,
    pub(super) heartbeat_seconds: Option<u64>,
    /// An item reader's Map state: its effective input and its Map Run's ARN, to go on with
    /// once the items are read.
    pub(super) reader_of: Option<(Value, String)>,
    /// A Map Run its host runs: its ARN.
    pub(super) map_run: Option<String>,
}

impl Execution {
    /// Whether `event` can happen now, checked before anything is applied: a task event must
    /// find its task in a [`TaskPhase`] that allows it, and a timer must be set; then the state
    /// the task or timer belongs to must be in the phase that waits for it ([`StatePhase`]),
    /// in a frame whose enclosing Parallel and Map states still run it. An event that fails
    /// any of these is refused with [`StepError::UnexpectedEvent`] and changes nothing.
    ///
    /// What a host sees as late is refused the same way, and a host drops it: a task's answer
    /// after its timeout or after its state was aborted (its task has left the books), a timer
    /// that fired after it was cancelled. Once the execution has ended, every such event is
    /// `NotRunning` instead (checked first, by `step`).
    pub(super) fn admissible(&self, event: &Event) -> Result<(), StepError> {
        let unexpected =
            |event: &'static str, reason: String| StepError::UnexpectedEvent { event, reason };
        let phase = |event: &'static str, task: TaskId| {
            self.tasks.get(&task).map(|p| p.phase).ok_or_else(|| {
                unexpected(
                    event,
                    format!("task {task} is not running (it ended or was cancelled)"),
                )
            })
        };
        let (name, task) = match event {
            Event::TaskStarted { task, .. } => match phase("TaskStarted", *task)? {
                TaskPhase::Scheduled => ("TaskStarted", *task),
                p => {
                    return Err(unexpected(
                        "TaskStarted",
                        format!("task {task} is already {}", p.name()),
                    ));
                }
            },
            Event::TaskSucceeded { task, .. } => {
                phase("TaskSucceeded", *task)?;
                ("TaskSucceeded", *task)
            }
            Event::TaskFailed { task, .. } => {
                phase("TaskFailed", *task)?;
                ("TaskFailed", *task)
            }
            Event::TaskHeartbeat { task } => match phase("TaskHeartbeat", *task)? {
                TaskPhase::Scheduled => {
                    return Err(unexpected(
                        "TaskHeartbeat",
                        format!("task {task} has not started"),
                    ));
                }
                _ => ("TaskHeartbeat", *task),
            },
            Event::TaskSubmitted { task, .. } => {
                let p = phase("TaskSubmitted", *task)?;
                if !matches!(self.tasks[task].kind, TaskKind::Service { .. }) {
                    return Err(unexpected(
                        "TaskSubmitted",
                        format!("task {task} is not a service integration's"),
                    ));
                } else if p == TaskPhase::Submitted {
                    return Err(unexpected(
                        "TaskSubmitted",
                        format!("task {task} is already submitted"),
                    ));
                }
                ("TaskSubmitted", *task)
            }
            Event::TimerFired { timer } => {
                let Some(purpose) = self.timers.get(timer) else {
                    return Err(unexpected(
                        "TimerFired",
                        format!("timer {timer} is not set (it fired or was cancelled)"),
                    ));
                };
                let admitted = match *purpose {
                    TimerPurpose::Wait(f) => {
                        self.state_admits(f, |p| matches!(p, StatePhase::Sleeping(t) if t == timer))
                    }
                    TimerPurpose::Retry(f) => self
                        .state_admits(f, |p| matches!(p, StatePhase::BackingOff(t) if t == timer)),
                    TimerPurpose::TaskTimeout(task) | TimerPurpose::Heartbeat(task) => {
                        self.task_owner_admits(task)
                    }
                    TimerPurpose::ExecutionTimeout => Ok(()),
                };
                return admitted.map_err(|reason| {
                    unexpected("TimerFired", format!("timer {timer} is stale: {reason}"))
                });
            }
            Event::UpdateMapRun { map_run_arn, .. } => {
                return match self.map_run_task(map_run_arn).is_some() {
                    true => Ok(()),
                    false => Err(unexpected(
                        "UpdateMapRun",
                        format!("the Map Run {map_run_arn} is not running"),
                    )),
                };
            }
            Event::Stop { .. } | Event::Start { .. } | Event::Redrive => return Ok(()),
        };
        self.task_owner_admits(task)
            .map_err(|reason| unexpected(name, format!("task {task} is stale: {reason}")))
    }

    /// Whether the state that scheduled `task` still waits for it.
    fn task_owner_admits(&self, task: TaskId) -> Result<(), String> {
        let p = self
            .tasks
            .get(&task)
            .ok_or_else(|| format!("task {task} is not running"))?;
        self.state_admits(
            p.frame,
            |phase| matches!(phase, StatePhase::Working(t) if *t == task),
        )
    }

    pub(super) fn cancel_task(&mut self, task: TaskId) {
        if let Some(p) = self.tasks.remove(&task) {
            for t in [p.timeout_timer, p.heartbeat_timer].into_iter().flatten() {
                self.cancel_timer(t);
            }
            self.out.commands.push(Command::CancelTask { task });
        }
    }

    pub(super) fn run_task(
        &mut self,
        f: FrameId,
        state: &State,
        task: &stepwise_asl::model::Task,
        effective: &Value,
    ) -> Flow {
        let kind = task_kind(&task.resource);
        let callback = matches!(
            stepwise_asl::parse::classify(&task.resource),
            Some(stepwise_asl::parse::Resource::Service(ref s))
                if s.pattern == stepwise_asl::parse::Pattern::WaitForTaskToken
        );
        let token = callback.then(|| match &self.token_minter {
            Some(m) => {
                let nonce = self.entropy.next_u64();
                (m.0)(self.next_task, nonce)
            }
            None => self.entropy.uuid(),
        });
        let input = match self.state_arguments(f, state, effective, token.as_deref()) {
            Ok(v) => v,
            Err(fault) => return Flow::Failed(fault),
        };
        let credentials =
            match self.task_credentials(f, state, task.credentials.as_ref(), effective) {
                Ok(v) => v,
                Err(fault) => return Flow::Failed(fault),
            };
        let mut seconds = [None, None];
        for (i, (source, field)) in [
            (&task.timeout_seconds, "TimeoutSeconds"),
            (&task.heartbeat_seconds, "HeartbeatSeconds"),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(source) = source {
                match self.number_field(f, source, effective, field) {
                    Ok(v) => seconds[i] = v.and_then(|v| v.as_u64()),
                    Err(fault) if fault.is_fatal() => return self.fatal(f, fault),
                    Err(fault) => return Flow::Failed(fault),
                }
            }
        }
        let [timeout_seconds, heartbeat_seconds] = seconds;
        if let Some(answer) = self.mock_answer() {
            return self.mocked(f, state, answer);
        }

        let id = self.next_task;
        self.next_task += 1;
        let invocation = {
            let n = self.invocations.entry(state.name.clone()).or_insert(0);
            *n += 1;
            *n - 1
        };
        let (ty, details) = scheduled_event(
            &kind,
            &task.resource,
            &self.info.region,
            &input,
            timeout_seconds,
            heartbeat_seconds,
        );
        self.event(f, ty, Some(details));
        let timeout_timer = timeout_seconds.map(|s| {
            self.start_timer(
                TimerPurpose::TaskTimeout(id),
                self.now + Duration::seconds(s as i64),
            )
        });
        self.tasks.insert(
            id,
            PendingTask {
                frame: f,
                kind: kind.clone(),
                phase: TaskPhase::Scheduled,
                timeout_timer,
                heartbeat_timer: None,
                heartbeat_seconds,
                reader_of: None,
                map_run: None,
            },
        );
        self.active(f).work(id);
        self.out.commands.push(Command::ScheduleTask(TaskRequest {
            task: id,
            state_name: state.name.clone(),
            resource: task.resource.clone(),
            kind,
            input,
            timeout_seconds,
            heartbeat_seconds,
            task_token: token,
            invocation,
            credentials,
        }));
        Flow::Blocked
    }

    /// Asks the host to read a Distributed Map's items: a task with no history events of its
    /// own, whose answer [`Execution::items_read`] takes.
    pub(super) fn schedule_reader(
        &mut self,
        f: FrameId,
        state: &State,
        resource: &str,
        input: Value,
        reader_of: (Value, String),
    ) -> Flow {
        let kind = TaskKind::ItemReader;
        self.schedule_silent(
            f,
            state,
            kind,
            resource.to_owned(),
            input,
            Some(reader_of),
            None,
        )
    }

    /// Asks the host to run a Distributed Map's Map Run (`input`: its
    /// [`crate::map_run::MapRunSpec`]): a task with no history events of its own, whose
    /// answer ends the Map Run and the Map state.
    pub(super) fn schedule_map_run(
        &mut self,
        f: FrameId,
        state: &State,
        input: Value,
        arn: String,
    ) -> Flow {
        let kind = TaskKind::MapRun;
        self.schedule_silent(f, state, kind, arn.clone(), input, None, Some(arn))
    }

    /// A task of a Map state with no history events of its own (its reader, its Map Run).
    #[allow(clippy::too_many_arguments)]
    fn schedule_silent(
        &mut self,
        f: FrameId,
        state: &State,
        kind: TaskKind,
        resource: String,
        input: Value,
        reader_of: Option<(Value, String)>,
        map_run: Option<String>,
    ) -> Flow {
        let id = self.next_task;
        self.next_task += 1;
        self.tasks.insert(
            id,
            PendingTask {
                frame: f,
                kind: kind.clone(),
                phase: TaskPhase::Scheduled,
                timeout_timer: None,
                heartbeat_timer: None,
                heartbeat_seconds: None,
                reader_of,
                map_run,
            },
        );
        self.active(f).work(id);
        self.out.commands.push(Command::ScheduleTask(TaskRequest {
            task: id,
            state_name: state.name.clone(),
            resource,
            kind,
            input,
            timeout_seconds: None,
            heartbeat_seconds: None,
            task_token: None,
            invocation: 0,
            credentials: None,
        }));
        Flow::Blocked
    }

    /// The Map Run task running `arn`, if one is open.
    pub(super) fn map_run_task(&self, arn: &str) -> Option<TaskId> {
        self.tasks
            .iter()
            .find_map(|(id, p)| (p.map_run.as_deref() == Some(arn)).then_some(*id))
    }

    pub(super) fn task_started(&mut self, task: TaskId, worker: Option<String>) {
        let Some(p) = self.tasks.get_mut(&task) else {
            return;
        };
        if p.phase != TaskPhase::Scheduled {
            return;
        }
        p.phase = TaskPhase::Started;
        let (f, kind, hb) = (p.frame, p.kind.clone(), p.heartbeat_seconds);
        let (ty, details) = match &kind {
            TaskKind::LambdaFunction => (EventType::LambdaFunctionStarted, None),
            TaskKind::Activity => {
                let mut d = Map::new();
                if let Some(w) = worker {
                    d.insert("workerName".into(), Value::from(w));
                }
                (EventType::ActivityStarted, Some(d))
            }
            TaskKind::Service {
                resource_type,
                resource,
            } => (
                EventType::TaskStarted,
                Some(service_details(resource_type, resource)),
            ),
            TaskKind::ItemReader | TaskKind::MapRun => return,
        };
        self.event(f, ty, details);
        if let Some(s) = hb {
            let timer = self.start_timer(
                TimerPurpose::Heartbeat(task),
                self.now + Duration::seconds(s as i64),
            );
            if let Some(p) = self.tasks.get_mut(&task) {
                p.heartbeat_timer = Some(timer);
            }
        }
    }

    pub(super) fn task_heartbeat(&mut self, task: TaskId) {
        let Some(p) = self.tasks.get(&task) else {
            return;
        };
        if let (Some(old), Some(s)) = (p.heartbeat_timer, p.heartbeat_seconds) {
            self.cancel_timer(old);
            let timer = self.start_timer(
                TimerPurpose::Heartbeat(task),
                self.now + Duration::seconds(s as i64),
            );
            if let Some(p) = self.tasks.get_mut(&task) {
                p.heartbeat_timer = Some(timer);
            }
        }
    }

    /// The integration took the task on (TaskSubmitted): the state keeps waiting for its end.
    pub(super) fn task_submitted(&mut self, task: TaskId, output: Value) {
        let Some(p) = self.tasks.get(&task) else {
            return;
        };
        if p.phase == TaskPhase::Submitted {
            return;
        }
        let TaskKind::Service {
            resource_type,
            resource,
        } = p.kind.clone()
        else {
            return;
        };
        if p.phase == TaskPhase::Scheduled {
            self.task_started(task, None);
        }
        let Some(f) = self.tasks.get_mut(&task).map(|p| {
            p.phase = TaskPhase::Submitted;
            p.frame
        }) else {
            return;
        };
        let mut details = service_details(&resource_type, &resource);
        details.insert("output".into(), Value::from(lang::to_json(&output)));
        details.insert("outputDetails".into(), truncated_false());
        self.event(f, EventType::TaskSubmitted, Some(details));
    }

    fn take_task(&mut self, task: TaskId) -> Option<PendingTask> {
        let p = self.tasks.remove(&task)?;
        for t in [p.timeout_timer, p.heartbeat_timer].into_iter().flatten() {
            self.cancel_timer(t);
        }
        Some(p)
    }

    pub(super) fn task_succeeded(&mut self, task: TaskId, output: Value) {
        // A result with no TaskStarted before it: the worker did start it.
        if self
            .tasks
            .get(&task)
            .is_some_and(|p| p.phase == TaskPhase::Scheduled)
        {
            self.task_started(task, None);
        }
        let Some(p) = self.take_task(task) else {
            return;
        };
        self.task_result(task, p, output);
    }

    fn task_result(&mut self, task: TaskId, p: PendingTask, output: Value) {
        let f = p.frame;
        if let Some(arn) = p.map_run {
            self.active(f).worked(task);
            let flow = self.map_run_succeeded(f, arn, output);
            self.queue.push_back((f, flow));
            return;
        }
        if let (TaskKind::ItemReader, Some((effective, map_run))) = (&p.kind, p.reader_of) {
            self.active(f).worked(task);
            let flow = self.items_read(f, effective, map_run, output);
            let machine = self.frame(f).machine.clone();
            let name = self.active(f).name.clone();
            let state = Self::state(&machine, &name);
            let flow = self.settle(f, state, flow);
            self.queue.push_back((f, flow));
            return;
        }
        let out_text = lang::to_json(&output);
        let mut details = match &p.kind {
            TaskKind::Service {
                resource_type,
                resource,
            } => service_details(resource_type, resource),
            _ => Map::new(),
        };
        details.insert("output".into(), Value::from(out_text));
        details.insert("outputDetails".into(), truncated_false());
        let ty = match p.kind {
            TaskKind::LambdaFunction => EventType::LambdaFunctionSucceeded,
            TaskKind::Activity => EventType::ActivitySucceeded,
            TaskKind::Service { .. } | TaskKind::ItemReader | TaskKind::MapRun => {
                EventType::TaskSucceeded
            }
        };
        self.event(f, ty, Some(details));
        let machine = self.frame(f).machine.clone();
        let name = self.active(f).name.clone();
        let state = Self::state(&machine, &name);
        self.active(f).worked(task);
        let flow = self.state_result(f, state, output);
        let flow = self.settle(f, state, flow);
        self.queue.push_back((f, flow));
    }

    pub(super) fn task_failed(&mut self, task: TaskId, fault: Fault, timed_out: bool) {
        let Some(p) = self.take_task(task) else {
            return;
        };
        let f = p.frame;
        if let Some(arn) = p.map_run {
            self.active(f).worked(task);
            let flow = self.map_run_failed(f, arn, fault);
            self.queue.push_back((f, flow));
            return;
        }
        if let (TaskKind::ItemReader, Some((_, map_run))) = (&p.kind, p.reader_of) {
            // The Map Run fails with the reader's error; then its Map state.
            self.active(f).worked(task);
            let flow = self.map_run_failed(f, map_run, fault);
            self.queue.push_back((f, flow));
            return;
        }
        let mut details = match &p.kind {
            TaskKind::Service {
                resource_type,
                resource,
            } => service_details(resource_type, resource),
            _ => Map::new(),
        };
        add_error(&mut details, &fault);
        let ty = match (&p.kind, timed_out) {
            (TaskKind::LambdaFunction, false) => EventType::LambdaFunctionFailed,
            (TaskKind::LambdaFunction, true) => EventType::LambdaFunctionTimedOut,
            (TaskKind::Activity, false) => EventType::ActivityFailed,
            (TaskKind::Activity, true) => EventType::ActivityTimedOut,
            (TaskKind::Service { .. } | TaskKind::ItemReader | TaskKind::MapRun, false) => {
                EventType::TaskFailed
            }
            (TaskKind::Service { .. } | TaskKind::ItemReader | TaskKind::MapRun, true) => {
                EventType::TaskTimedOut
            }
        };
        if timed_out {
            self.out.commands.push(Command::CancelTask { task });
        }
        self.event(f, ty, Some(details));
        let machine = self.frame(f).machine.clone();
        let name = self.active(f).name.clone();
        let state = Self::state(&machine, &name);
        self.active(f).worked(task);
        let flow = self.task_state_failed(f, state, fault);
        self.queue.push_back((f, flow));
    }
}

fn service_details(resource_type: &str, resource: &str) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("resourceType".into(), Value::from(resource_type));
    d.insert("resource".into(), Value::from(resource));
    d
}

fn scheduled_event(
    kind: &TaskKind,
    arn: &str,
    region: &str,
    input: &Value,
    timeout: Option<u64>,
    heartbeat: Option<u64>,
) -> (EventType, Map<String, Value>) {
    let text = lang::to_json(input);
    let mut d = Map::new();
    let ty = match kind {
        TaskKind::LambdaFunction => {
            d.insert("resource".into(), Value::from(arn));
            d.insert("input".into(), Value::from(text));
            d.insert("inputDetails".into(), truncated_false());
            EventType::LambdaFunctionScheduled
        }
        TaskKind::Activity => {
            d.insert("resource".into(), Value::from(arn));
            d.insert("input".into(), Value::from(text));
            d.insert("inputDetails".into(), truncated_false());
            EventType::ActivityScheduled
        }
        TaskKind::Service {
            resource_type,
            resource,
        } => {
            d = service_details(resource_type, resource);
            d.insert("region".into(), Value::from(region));
            d.insert("parameters".into(), Value::from(text));
            EventType::TaskScheduled
        }
        TaskKind::ItemReader | TaskKind::MapRun => EventType::TaskScheduled,
    };
    if let Some(t) = timeout {
        d.insert("timeoutInSeconds".into(), Value::from(t));
    }
    if let Some(h) = heartbeat {
        d.insert("heartbeatInSeconds".into(), Value::from(h));
    }
    (ty, d)
}

/// How a Task's Resource is reached.
pub fn task_kind(resource: &str) -> TaskKind {
    use stepwise_asl::parse::Resource;
    match stepwise_asl::parse::classify(resource) {
        Some(Resource::LambdaFunction) => TaskKind::LambdaFunction,
        Some(Resource::Activity) => TaskKind::Activity,
        _ => {
            let rest = resource.splitn(6, ':').nth(5).unwrap_or(resource);
            let (resource_type, action) = match rest.strip_prefix("aws-sdk:") {
                Some(sdk) => {
                    let (svc, action) = sdk.split_once(':').unwrap_or((sdk, ""));
                    (format!("aws-sdk:{svc}"), action.to_owned())
                }
                None => {
                    let (svc, action) = rest.split_once(':').unwrap_or((rest, ""));
                    (svc.to_owned(), action.to_owned())
                }
            };
            TaskKind::Service {
                resource_type,
                resource: action,
            }
        }
    }
}
