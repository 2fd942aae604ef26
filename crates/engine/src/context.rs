//! Who an execution is (its ARN, name, role, start time) and the context object `$$` /
//! `$states.context` built from it.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// The identity of one execution, fixed when it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionInfo {
    pub execution_arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub role_arn: String,
    pub region: String,
    pub start_time: DateTime<Utc>,
    pub redrive_count: u32,
}

impl ExecutionInfo {
    /// An execution of a local state machine, named as Step Functions Local names them.
    pub fn local(state_machine_name: &str, name: &str, start_time: DateTime<Utc>) -> Self {
        let region = "us-east-1";
        let account = "123456789012";
        ExecutionInfo {
            execution_arn: crate::arn::ExecutionArn::standard(
                region,
                account,
                state_machine_name,
                name,
            )
            .to_string(),
            name: name.to_owned(),
            state_machine_arn: format!(
                "arn:aws:states:{region}:{account}:stateMachine:{state_machine_name}"
            ),
            state_machine_name: state_machine_name.to_owned(),
            role_arn: format!("arn:aws:iam::{account}:role/DummyRole"),
            region: region.to_owned(),
            start_time,
            redrive_count: 0,
        }
    }
}

/// AWS's timestamp text in the context object and elsewhere: millisecond precision, `Z`.
pub fn timestamp_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The parts of the context object that vary with the state being run.
#[derive(Debug, Clone, Copy)]
pub struct StateContext<'a> {
    pub name: &'a str,
    pub entered_time: DateTime<Utc>,
    /// Task states only.
    pub retry_count: Option<u32>,
    pub task_token: Option<&'a str>,
    /// `$$.Map.Item` while an ItemSelector is evaluated.
    pub map_item: Option<(usize, &'a Value)>,
}

/// Builds the context object.
pub fn context_object(info: &ExecutionInfo, input: &Value, state: StateContext<'_>) -> Value {
    let mut execution = Map::new();
    execution.insert("Id".into(), Value::from(info.execution_arn.as_str()));
    execution.insert("Input".into(), input.clone());
    execution.insert("StartTime".into(), timestamp_text(info.start_time).into());
    execution.insert("Name".into(), Value::from(info.name.as_str()));
    execution.insert("RoleArn".into(), Value::from(info.role_arn.as_str()));
    execution.insert("RedriveCount".into(), Value::from(info.redrive_count));

    let mut machine = Map::new();
    machine.insert("Id".into(), Value::from(info.state_machine_arn.as_str()));
    machine.insert("Name".into(), Value::from(info.state_machine_name.as_str()));

    let mut st = Map::new();
    st.insert("Name".into(), Value::from(state.name));
    st.insert(
        "EnteredTime".into(),
        timestamp_text(state.entered_time).into(),
    );
    if let Some(n) = state.retry_count {
        st.insert("RetryCount".into(), Value::from(n));
    }

    let mut ctx = Map::new();
    ctx.insert("Execution".into(), Value::Object(execution));
    ctx.insert("StateMachine".into(), Value::Object(machine));
    ctx.insert("State".into(), Value::Object(st));
    if let Some(token) = state.task_token {
        let mut task = Map::new();
        task.insert("Token".into(), Value::from(token));
        ctx.insert("Task".into(), Value::Object(task));
    }
    if let Some((index, value)) = state.map_item {
        let mut item = Map::new();
        item.insert("Index".into(), Value::from(index));
        item.insert("Value".into(), value.clone());
        let mut map = Map::new();
        map.insert("Item".into(), Value::Object(item));
        ctx.insert("Map".into(), Value::Object(map));
    }
    Value::Object(ctx)
}
