//! What a host of one in-memory execution keeps between steps, and what it must do next.
//!
//! Every host that runs an execution to its end in memory (`stepwise run`, Express executions,
//! the engine's own tests) drives the engine the same way, through an [`Agenda`]: it takes the
//! commands of each step ([`Agenda::absorb`]), tells the host which tasks to start or cancel,
//! and answers [`Agenda::next`] with the one thing to do now: apply an event, wait for a task
//! (or for a timer that measures it), or let idle time pass until the next timer. The host
//! only does the IO: run tasks (concurrently, as many as the engine has scheduled), cancel
//! them, and keep a clock. So every host has the same semantics: events already known are
//! applied before any timer fires, tasks run side by side, a task's timeout fires whatever the
//! task is doing, and a Wait is a timer, never a blocked thread.
//!
//! Pure: no clock, no IO. Iteration order is deterministic (no hash-map order reaches the
//! caller).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use chrono::{DateTime, Utc};

use crate::execution::{Command, Completion, Event, TaskId, TaskRequest, TimerId, TimerKind};

/// Something the host must do to a task, in the order the engine asked.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskEffect {
    /// Start carrying out the task; report its outcome with [`Agenda::task_finished`].
    Run(Box<TaskRequest>),
    /// The task's result is no longer wanted (it timed out, its state was aborted, the
    /// execution ended): stop it.
    Cancel(TaskId),
}

/// What a host should do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Apply this event to the execution now.
    Step(Event),
    /// Tasks are running: wait for one to finish, or until the execution's clock reaches
    /// `until` (the next timer), whichever comes first. Time passes for real.
    Await { until: Option<DateTime<Utc>> },
    /// Nothing is running: the next thing that can happen is the timer due at `until`. A host
    /// may let this idle time pass scaled or not at all (a virtual clock), then move its clock
    /// to `until` and ask again.
    Idle {
        until: DateTime<Utc>,
        kind: TimerKind,
    },
    /// The execution is over.
    Done(Completion),
    /// Nothing can ever happen again (no event, no task, no timer), yet the execution has not
    /// ended.
    Stalled,
}

/// A host's view of one execution between steps.
#[derive(Debug, Default)]
pub struct Agenda {
    ready: VecDeque<Event>,
    /// Pending timers, earliest first (ties by id, which is the order they were set).
    timers: BTreeSet<(DateTime<Utc>, TimerId)>,
    timer_info: BTreeMap<TimerId, (DateTime<Utc>, TimerKind)>,
    /// Tasks started and not yet finished.
    running: BTreeSet<TaskId>,
    completion: Option<Completion>,
}

impl Agenda {
    /// An agenda whose first event is `first` (Start, or Redrive).
    pub fn new(first: Event) -> Self {
        let mut agenda = Agenda::default();
        agenda.ready.push_back(first);
        agenda
    }

    /// Takes the commands of one step. For each task the engine schedules, `effect` is called
    /// with [`TaskEffect::Run`]; it may answer with the task's outcome at once (a mock, or a
    /// handler that runs synchronously), which is then applied right after the task's start.
    /// Tasks to cancel are passed as [`TaskEffect::Cancel`] (the answer is ignored).
    pub fn absorb(
        &mut self,
        commands: Vec<Command>,
        mut effect: impl FnMut(TaskEffect) -> Option<Event>,
    ) {
        for command in commands {
            match command {
                Command::ScheduleTask(request) => {
                    let task = request.task;
                    self.ready
                        .push_back(Event::TaskStarted { task, worker: None });
                    self.running.insert(task);
                    if let Some(outcome) = effect(TaskEffect::Run(Box::new(request))) {
                        self.running.remove(&task);
                        self.ready.push_back(outcome);
                    }
                }
                Command::CancelTask { task } => {
                    self.ready.retain(|e| event_task(e) != Some(task));
                    if self.running.remove(&task) {
                        effect(TaskEffect::Cancel(task));
                    }
                }
                Command::StartTimer {
                    timer,
                    fire_at,
                    kind,
                } => {
                    self.timers.insert((fire_at, timer));
                    self.timer_info.insert(timer, (fire_at, kind));
                }
                Command::CancelTimer { timer } => {
                    if let Some((at, _)) = self.timer_info.remove(&timer) {
                        self.timers.remove(&(at, timer));
                    }
                }
                Command::Complete(c) => self.completion = Some(c),
                // Map Runs are kept by the durable driver only.
                Command::MapRun(_) => {}
            }
        }
    }

    /// A running task ended with `outcome` (its TaskSucceeded, TaskFailed or TaskSubmitted
    /// event). The outcome of a task that was cancelled meanwhile is dropped.
    pub fn task_finished(&mut self, task: TaskId, outcome: Event) {
        if self.running.remove(&task) {
            self.ready.push_back(outcome);
        }
    }

    /// The tasks that are running, in the order they were scheduled.
    #[cfg(test)]
    fn running(&self) -> impl Iterator<Item = TaskId> + '_ {
        self.running.iter().copied()
    }

    /// What to do next, when the execution's clock says `now`.
    pub fn next(&mut self, now: DateTime<Utc>) -> Next {
        if let Some(c) = &self.completion {
            return Next::Done(c.clone());
        }
        if let Some(event) = self.ready.pop_front() {
            return Next::Step(event);
        }
        let first = self.timers.first().copied();
        if let Some((at, timer)) = first {
            if at <= now {
                self.timers.remove(&(at, timer));
                self.timer_info.remove(&timer);
                return Next::Step(Event::TimerFired { timer });
            }
        }
        if !self.running.is_empty() {
            return Next::Await {
                until: first.map(|(at, _)| at),
            };
        }
        match first {
            Some((until, timer)) => {
                let kind = self
                    .timer_info
                    .get(&timer)
                    .map_or(TimerKind::Wait, |(_, k)| *k);
                Next::Idle { until, kind }
            }
            None => Next::Stalled,
        }
    }
}

/// The task an event reports on, if it does.
fn event_task(event: &Event) -> Option<TaskId> {
    match event {
        Event::TaskStarted { task, .. }
        | Event::TaskSucceeded { task, .. }
        | Event::TaskFailed { task, .. }
        | Event::TaskHeartbeat { task }
        | Event::TaskSubmitted { task, .. } => Some(*task),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::{Status, TaskKind};
    use chrono::TimeZone;
    use serde_json::json;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0)
            .single()
            .expect("time")
    }

    fn request(task: TaskId) -> TaskRequest {
        TaskRequest {
            task,
            state_name: format!("T{task}"),
            resource: "arn:aws:states:::lambda:invoke".into(),
            kind: TaskKind::LambdaFunction,
            input: json!({}),
            timeout_seconds: None,
            heartbeat_seconds: None,
            task_token: None,
            invocation: 0,
            credentials: None,
        }
    }

    #[test]
    fn known_events_come_before_timers_and_timers_in_time_order() {
        let mut a = Agenda::new(Event::Redrive);
        a.absorb(
            vec![
                Command::StartTimer {
                    timer: 1,
                    fire_at: at(60),
                    kind: TimerKind::Wait,
                },
                Command::StartTimer {
                    timer: 2,
                    fire_at: at(10),
                    kind: TimerKind::Retry,
                },
            ],
            |_| None,
        );
        assert_eq!(a.next(at(100)), Next::Step(Event::Redrive));
        assert_eq!(a.next(at(100)), Next::Step(Event::TimerFired { timer: 2 }));
        assert_eq!(a.next(at(100)), Next::Step(Event::TimerFired { timer: 1 }));
        assert_eq!(a.next(at(100)), Next::Stalled);
    }

    #[test]
    fn running_tasks_are_awaited_and_idle_time_is_reported_with_its_kind() {
        let mut a = Agenda::default();
        let mut started = Vec::new();
        a.absorb(
            vec![
                Command::ScheduleTask(request(1)),
                Command::ScheduleTask(request(2)),
                Command::StartTimer {
                    timer: 7,
                    fire_at: at(1),
                    kind: TimerKind::TaskTimeout,
                },
            ],
            |e| {
                started.push(e);
                None
            },
        );
        assert_eq!(
            started,
            [
                TaskEffect::Run(Box::new(request(1))),
                TaskEffect::Run(Box::new(request(2)))
            ]
        );
        for task in [1, 2] {
            assert_eq!(
                a.next(at(0)),
                Next::Step(Event::TaskStarted { task, worker: None })
            );
        }
        // Both tasks run at once: the host waits for either, or for the timeout.
        assert_eq!(a.next(at(0)), Next::Await { until: Some(at(1)) });
        a.task_finished(
            2,
            Event::TaskSucceeded {
                task: 2,
                output: json!(2),
            },
        );
        assert_eq!(
            a.next(at(0)),
            Next::Step(Event::TaskSucceeded {
                task: 2,
                output: json!(2)
            })
        );
        assert_eq!(a.running().collect::<Vec<_>>(), [1]);
        // The timeout is due: it fires while task 1 still runs; the engine cancels task 1.
        assert_eq!(a.next(at(1)), Next::Step(Event::TimerFired { timer: 7 }));
        let mut cancelled = Vec::new();
        a.absorb(
            vec![
                Command::CancelTask { task: 1 },
                Command::StartTimer {
                    timer: 8,
                    fire_at: at(30),
                    kind: TimerKind::Wait,
                },
            ],
            |e| {
                cancelled.push(e);
                None
            },
        );
        assert_eq!(cancelled, [TaskEffect::Cancel(1)]);
        // A late answer of the cancelled task is dropped.
        a.task_finished(
            1,
            Event::TaskSucceeded {
                task: 1,
                output: json!(1),
            },
        );
        assert_eq!(
            a.next(at(1)),
            Next::Idle {
                until: at(30),
                kind: TimerKind::Wait
            }
        );
    }

    #[test]
    fn an_immediate_answer_follows_its_start_and_completion_ends_it() {
        let mut a = Agenda::default();
        a.absorb(vec![Command::ScheduleTask(request(1))], |_| {
            Some(Event::TaskFailed {
                task: 1,
                error: Some("E".into()),
                cause: None,
            })
        });
        assert!(matches!(
            a.next(at(0)),
            Next::Step(Event::TaskStarted { .. })
        ));
        assert!(matches!(
            a.next(at(0)),
            Next::Step(Event::TaskFailed { .. })
        ));
        let done = Completion {
            status: Status::Failed,
            output: None,
            error: Some("E".into()),
            cause: None,
        };
        a.absorb(vec![Command::Complete(done.clone())], |_| None);
        assert_eq!(a.next(at(0)), Next::Done(done));
    }
}
