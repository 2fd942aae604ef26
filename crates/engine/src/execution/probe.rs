//! TestState's view into one state's run. An [`Execution`] built with a [`Probe`] runs its start
//! state once, through the same code as any execution, and stops there: the probe records the
//! data-flow values between the steps (after InputPath, after Parameters, the result, …), answers
//! Task, Parallel and Map states from a mock instead of running them, and turns a Retry into the
//! `RETRIABLE` status and a Catch into `CAUGHT_ERROR` instead of waiting or moving on.
//!
//! It owns nothing about the TestState API itself (requests, validation, the response's shape):
//! that is `crate::test_state`.

use serde_json::{Map, Value};

use super::{Completion, Execution, Fault, FrameId, Status};

/// A data-flow value recorded while the state ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    AfterInputPath,
    AfterParameters,
    AfterArguments,
    Result,
    AfterResultSelector,
    AfterResultPath,
    AfterItemsPath,
}

/// What a mocked Task, Parallel or Map state answers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MockAnswer {
    Result(Value),
    Error(Fault),
}

/// The values TestState's `inspectionData` is built from.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Inspection {
    pub(crate) after_input_path: Option<Value>,
    pub(crate) after_parameters: Option<Value>,
    pub(crate) after_arguments: Option<Value>,
    pub(crate) result: Option<Value>,
    pub(crate) after_result_selector: Option<Value>,
    pub(crate) after_result_path: Option<Value>,
    pub(crate) after_items_path: Option<Value>,
    pub(crate) max_concurrency: Option<u64>,
    pub(crate) tolerated_failure_count: Option<f64>,
    pub(crate) tolerated_failure_percentage: Option<f64>,
    pub(crate) retry_index: Option<usize>,
    pub(crate) retry_backoff_seconds: Option<u64>,
    pub(crate) catch_index: Option<usize>,
}

/// How the probed state ended without failing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finished {
    pub(crate) output: Value,
    pub(crate) next_state: Option<String>,
    /// The variables after the state (its Assign included).
    pub(crate) variables: Map<String, Value>,
}

/// The TestState hooks of one execution.
#[derive(Debug, Default)]
pub(crate) struct Probe {
    /// The context object (`$$`, `$states.context`) the state sees.
    pub(crate) context: Value,
    /// The variables the state starts with.
    pub(crate) variables: Map<String, Value>,
    pub(crate) mock: Option<MockAnswer>,
    /// Attempts already made by the Retrier that applies (`retrierRetryCount`).
    pub(crate) retrier_retry_count: u32,
    /// Failed iterations of a mocked Map (`mapIterationFailureCount`).
    pub(crate) map_iteration_failure_count: Option<u64>,
    /// What a Map's ItemReader read (`mapItemReaderData`).
    pub(crate) map_item_reader_data: Option<Value>,
    pub(crate) entered: bool,
    pub(crate) data: Inspection,
    pub(crate) finished: Option<Finished>,
    /// The error a Catch handled.
    pub(crate) caught: Option<Fault>,
    /// A Retry would run the state again.
    pub(crate) retriable: bool,
}

impl Probe {
    /// The context object with `Map.Item` (while an ItemSelector runs) and `Task.Token`.
    pub(crate) fn context_for(
        &self,
        map_item: Option<(usize, &Value)>,
        token: Option<&str>,
    ) -> Value {
        let mut ctx = self.context.clone();
        if let Value::Object(m) = &mut ctx {
            if let Some(token) = token {
                if !m.contains_key("Task") {
                    let mut task = Map::new();
                    task.insert("Token".into(), Value::from(token));
                    m.insert("Task".into(), Value::Object(task));
                }
            }
            if let Some((index, value)) = map_item {
                let mut item = Map::new();
                item.insert("Index".into(), Value::from(index));
                item.insert("Value".into(), value.clone());
                let mut map = Map::new();
                map.insert("Item".into(), Value::Object(item));
                m.insert("Map".into(), Value::Object(map));
            }
        }
        ctx
    }
}

impl Execution {
    /// An execution that runs `machine`'s start state once for TestState.
    pub(crate) fn probed(
        machine: std::sync::Arc<stepwise_asl::model::StateMachine>,
        info: crate::context::ExecutionInfo,
        probe: Probe,
    ) -> Self {
        let mut exec = Execution::new(machine, info);
        exec.probe = Some(Box::new(probe));
        exec
    }

    pub(crate) fn probe(&self) -> Option<&Probe> {
        self.probe.as_deref()
    }

    /// Records a data-flow value when a probe is attached (a no-op otherwise).
    #[inline]
    pub(super) fn inspect(&mut self, field: Field, value: &Value) {
        if let Some(p) = self.probe.as_deref_mut() {
            let slot = match field {
                Field::AfterInputPath => &mut p.data.after_input_path,
                Field::AfterParameters => &mut p.data.after_parameters,
                Field::AfterArguments => &mut p.data.after_arguments,
                Field::Result => &mut p.data.result,
                Field::AfterResultSelector => &mut p.data.after_result_selector,
                Field::AfterResultPath => &mut p.data.after_result_path,
                Field::AfterItemsPath => &mut p.data.after_items_path,
            };
            *slot = Some(value.clone());
        }
    }

    /// The mocked answer of the probed state, if it has one.
    pub(super) fn mock_answer(&self) -> Option<MockAnswer> {
        self.probe.as_deref().and_then(|p| p.mock.clone())
    }

    /// The probed state left with `output` towards `next` (none at an end): the test is over.
    pub(super) fn probe_finished(&mut self, f: FrameId, next: Option<String>, output: Value) {
        let variables = self.frame(f).vars.clone();
        if let Some(p) = self.probe.as_deref_mut() {
            p.finished = Some(Finished {
                output: output.clone(),
                next_state: next,
                variables,
            });
        }
        self.finish(Completion {
            status: Status::Succeeded,
            output: Some(output),
            error: None,
            cause: None,
        });
    }
}

impl Execution {
    /// A mocked state's answer stands for its task, branches or iterations.
    pub(super) fn mocked(
        &mut self,
        f: FrameId,
        state: &stepwise_asl::model::State,
        answer: MockAnswer,
    ) -> super::flow::Flow {
        match answer {
            MockAnswer::Result(v) => self.state_result(f, state, v),
            MockAnswer::Error(fault) => super::flow::Flow::Failed(fault),
        }
    }
}
