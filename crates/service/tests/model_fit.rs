//! What the engine writes must read into the service model's types without losing anything:
//! GetExecutionHistory answers with the engine's history events as `types::HistoryEvent`, and
//! TestState with its answer as `types::TestStateOutput`. Every pure case of the recorded
//! corpus (`../shared/conformance/asl/cases.jsonl`) is run through the engine, and each event
//! and answer must come back unchanged from a trip through the typed shape. Skips with a message
//! when the corpus is not beside the checkout.
//!
//! One known exception: the engine adds `error` and `cause` to `mapIterationFailedEventDetails`,
//! which neither AWS's model nor its recorded histories have; the typed answer leaves them out.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use stepwise_asl::{ParseOptions, parse_definition};
use stepwise_engine::ExecutionInfo;
use stepwise_engine::local::{self, NoTasks, RunOptions};
use stepwise_engine::test_state::{TestStateRequest, test_state};
use stepwise_service::types::{HistoryEvent, TestStateOutput};
use stepwise_test_support::corpus::{asl_cases, definition_text};

/// `value` read into `T` and written back, or why not.
fn through<T: DeserializeOwned + Serialize>(value: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(typed).map_err(|e| e.to_string())
}

fn pure(case: &Value, api: &[&str]) -> bool {
    case["needs"] == json!(["none"]) && api.contains(&case["api"].as_str().unwrap_or_default())
}

#[test]
fn history_events_and_test_state_answers_fit_the_model() {
    let Some(cases) = asl_cases() else { return };
    let start = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    let mut misfits = Vec::new();
    let (mut events, mut answers) = (0, 0);
    for case in cases
        .iter()
        .filter(|c| pure(c, &["StartExecution", "StartSyncExecution"]))
    {
        let Ok((machine, _)) = parse_definition(&definition_text(case), ParseOptions::default())
        else {
            continue;
        };
        let input_raw = case["input_raw"].as_str().unwrap_or("{}");
        let input: Value = serde_json::from_str(input_raw).unwrap_or(Value::Null);
        let result = local::run(
            Arc::new(machine),
            ExecutionInfo::local("fit", "run", start),
            input,
            Some(input_raw.to_owned()),
            &mut NoTasks,
            &RunOptions::default(),
            |_| {},
        );
        for event in &result.events {
            events += 1;
            let mut written = event.to_json();
            if let Some(details) = written
                .get_mut("mapIterationFailedEventDetails")
                .and_then(Value::as_object_mut)
            {
                details.remove("error");
                details.remove("cause");
            }
            match through::<HistoryEvent>(&written) {
                Ok(back) if back == written => {}
                Ok(back) => misfits.push(format!("{}: {written}\n  typed: {back}", case["id"])),
                Err(e) => misfits.push(format!("{}: {written}\n  {e}", case["id"])),
            }
        }
    }
    for case in cases.iter().filter(|c| pure(c, &["TestState"])) {
        let mut request = case["request"].as_object().cloned().unwrap_or_default();
        request.insert("definition".into(), Value::from(definition_text(case)));
        let Ok(mut request) = serde_json::from_value::<TestStateRequest>(Value::Object(request))
        else {
            continue;
        };
        request.input = case["input_raw"].as_str().map(str::to_owned);
        request.role_arn = Some("arn:aws:iam::111111111111:role/R".into());
        let Ok(answer) = test_state(&request, &mut NoTasks, start, 7) else {
            continue;
        };
        answers += 1;
        match through::<TestStateOutput>(&answer) {
            Ok(back) if back == answer => {}
            Ok(back) => misfits.push(format!("{}: {answer}\n  typed: {back}", case["id"])),
            Err(e) => misfits.push(format!("{}: {answer}\n  {e}", case["id"])),
        }
    }
    println!("{events} history events, {answers} TestState answers");
    assert!(events > 0 && answers > 0, "the corpus ran nothing");
    assert!(
        misfits.is_empty(),
        "{} do not fit:\n{}",
        misfits.len(),
        misfits.join("\n")
    );
}
