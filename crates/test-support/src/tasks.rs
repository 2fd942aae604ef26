//! A task handler a test scripts: it answers each task with the next outcome of a queue (then a
//! fixed outcome once the queue is empty) and keeps every request it was asked, for the test to
//! check what the execution called with.

use std::collections::VecDeque;

use serde_json::{Value, json};
use stepwise_engine::TaskRequest;
use stepwise_engine::local::{TaskHandler, TaskOutcome};

/// Answers tasks from [`answers`](Self::answers), in order, then with
/// [`otherwise`](Self::otherwise) (by default success with `{}`); remembers every request in
/// [`seen`](Self::seen).
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedTasks {
    /// What the next tasks get, first first. A test may add to it between runs.
    pub answers: VecDeque<TaskOutcome>,
    /// What every task gets once `answers` is empty.
    pub otherwise: TaskOutcome,
    /// Every request, in the order the tasks ran.
    pub seen: Vec<TaskRequest>,
}

impl Default for ScriptedTasks {
    fn default() -> Self {
        ScriptedTasks::new([])
    }
}

impl ScriptedTasks {
    /// Answers with `answers` in order, then success with `{}`.
    pub fn new(answers: impl IntoIterator<Item = TaskOutcome>) -> ScriptedTasks {
        ScriptedTasks {
            answers: answers.into_iter().collect(),
            otherwise: succeeded(json!({})),
            seen: Vec::new(),
        }
    }

    /// Answers every task with `outcome`.
    pub fn always(outcome: TaskOutcome) -> ScriptedTasks {
        ScriptedTasks::new([]).otherwise(outcome)
    }

    /// Once the script runs out, answers with `outcome`.
    pub fn otherwise(mut self, outcome: TaskOutcome) -> ScriptedTasks {
        self.otherwise = outcome;
        self
    }
}

impl TaskHandler for ScriptedTasks {
    fn run(&mut self, request: &TaskRequest) -> TaskOutcome {
        self.seen.push(request.clone());
        self.answers
            .pop_front()
            .unwrap_or_else(|| self.otherwise.clone())
    }
}

/// A task that succeeded with `output`.
pub fn succeeded(output: Value) -> TaskOutcome {
    TaskOutcome::Succeeded(output)
}

/// A task that failed with `error` and `cause`.
pub fn failed(error: &str, cause: &str) -> TaskOutcome {
    TaskOutcome::Failed {
        error: Some(error.into()),
        cause: Some(cause.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use stepwise_asl::{ParseOptions, parse_definition};
    use stepwise_engine::ExecutionInfo;
    use stepwise_engine::local::{self, RunOptions};

    use super::*;
    use crate::start_time;

    #[test]
    fn answers_in_order_then_otherwise_and_remembers_each_request() {
        let definition = json!({"StartAt": "A", "States": {
            "A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": "a", "Payload.$": "$"},
                  "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1}], "Next": "B"},
            "B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": "b", "Payload.$": "$"}, "End": true}}});
        let (machine, _) =
            parse_definition(&definition.to_string(), ParseOptions::default()).expect("valid");
        let mut script = ScriptedTasks::new([failed("Flaky", "once"), succeeded(json!({"n": 2}))])
            .otherwise(succeeded(json!("last")));
        let result = local::run(
            Arc::new(machine),
            ExecutionInfo::local("sm", "e", start_time()),
            json!({"n": 1}),
            None,
            &mut script,
            &RunOptions::default(),
            |_| {},
        );
        assert_eq!(result.completion.output, Some(json!("last")));
        let called: Vec<(&Value, &Value)> = script
            .seen
            .iter()
            .map(|r| (&r.input["FunctionName"], &r.input["Payload"]))
            .collect();
        assert_eq!(
            called,
            [
                (&json!("a"), &json!({"n": 1})),
                (&json!("a"), &json!({"n": 1})),
                (&json!("b"), &json!({"n": 2}))
            ]
        );
        assert!(script.answers.is_empty());
    }
}
