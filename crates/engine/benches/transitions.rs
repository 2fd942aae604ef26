//! In-process transitions per second (`cargo bench -p stepwise-engine`).
//!
//! Each benchmark runs whole executions and counts state transitions, so divan reports
//! transitions/s. `baseline_history_payloads` does the least work any interpreter must do per
//! transition (serialise the state's input and output for the history) and runs in the same
//! process: compare the others to it as a ratio, which holds across machines.
//!
//! - `pass_chain`: 1,000 Pass states in a row.
//! - `inline_map`: an inline Map over 2,000 items whose body is Choice → Pass → Pass (about
//!   16,000 history events, within AWS's 25,000-event quota).
//! - `jsonata_states`: 100 JSONata Pass states, each with Assign and an Output expression.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use divan::Bencher;
use divan::counter::ItemsCount;
use serde_json::{Map, Value, json};
use stepwise_asl::model::StateMachine;
use stepwise_asl::{ParseOptions, parse_definition};
use stepwise_engine::local::{self, NoTasks, RunOptions};
use stepwise_engine::{ExecutionInfo, Status};

/// The allocator the `stepwise` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

fn machine(definition: &Value) -> Arc<StateMachine> {
    let (m, _) = parse_definition(&definition.to_string(), ParseOptions::default())
        .expect("benchmark definition is valid");
    Arc::new(m)
}

fn run(machine: &Arc<StateMachine>, input: &Value) -> usize {
    let start = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let r = local::run(
        machine.clone(),
        ExecutionInfo::local("bench", "run", start),
        input.clone(),
        None,
        &mut NoTasks,
        &RunOptions::default(),
        |_| {},
    );
    assert_eq!(r.completion.status, Status::Succeeded);
    r.events.len()
}

fn pass_chain_definition(n: usize) -> Value {
    let mut states = Map::new();
    for i in 0..n {
        let mut s = json!({"Type": "Pass"});
        if i + 1 == n {
            s["End"] = json!(true);
        } else {
            s["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), s);
    }
    json!({"StartAt": "S0", "States": states})
}

const CHAIN: usize = 1_000;

#[divan::bench]
fn pass_chain(bencher: Bencher) {
    let m = machine(&pass_chain_definition(CHAIN));
    let input = json!({"order": 42, "items": ["a", "b"]});
    bencher
        .counter(ItemsCount::new(CHAIN))
        .bench(|| run(&m, &input));
}

/// Serialises each state's input and output once, as the history needs, and nothing else.
#[divan::bench]
fn baseline_history_payloads(bencher: Bencher) {
    let input = json!({"order": 42, "items": ["a", "b"]});
    bencher.counter(ItemsCount::new(CHAIN)).bench(|| {
        let mut total = 0;
        let mut value = input.clone();
        for _ in 0..CHAIN {
            total += serde_json::to_string(&value).map_or(0, |s| s.len());
            value = divan::black_box(value.clone());
            total += serde_json::to_string(&value).map_or(0, |s| s.len());
        }
        total
    });
}

const ITEMS: usize = 2_000;

#[divan::bench(sample_count = 20)]
fn inline_map(bencher: Bencher) {
    let m = machine(&json!({
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "StartAt": "Check",
                    "States": {
                        "Check": {"Type": "Choice",
                                  "Choices": [{"Variable": "$.n", "NumericGreaterThan": 5000, "Next": "Big"}],
                                  "Default": "Small"},
                        "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "Next": "Done"},
                        "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "Next": "Done"},
                        "Done": {"Type": "Pass", "End": true}
                    }
                },
                "End": true
            }
        }
    }));
    let items: Vec<Value> = (0..ITEMS).map(|n| json!({"n": n})).collect();
    let input = json!({ "items": items });
    bencher
        .counter(ItemsCount::new(ITEMS * 3 + 1))
        .bench(|| run(&m, &input));
}

const JSONATA_STATES: usize = 100;

#[divan::bench(sample_count = 20)]
fn jsonata_states(bencher: Bencher) {
    let mut states = Map::new();
    for i in 0..JSONATA_STATES {
        let mut s = json!({
            "Type": "Pass",
            "Assign": {"total": "{% $total + $count($states.input.items) %}"},
            "Output": "{% $merge([$states.input, {'step': $states.input.step + 1, 'label': $uppercase($states.input.name) & '-' & $string($states.input.step)}]) %}"
        });
        if i + 1 == JSONATA_STATES {
            s["End"] = json!(true);
        } else {
            s["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), s);
    }
    let mut first = states.get("S0").cloned().unwrap_or_default();
    first["Assign"] = json!({"total": 0});
    states.insert("S0".into(), first);
    let m = machine(&json!({"QueryLanguage": "JSONata", "StartAt": "S0", "States": states}));
    let input = json!({"name": "order", "step": 0, "items": [1, 2, 3]});
    bencher
        .counter(ItemsCount::new(JSONATA_STATES))
        .bench(|| run(&m, &input));
}
