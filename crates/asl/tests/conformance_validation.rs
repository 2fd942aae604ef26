//! Validation against definitions recorded on the real AWS service
//! (`../shared/conformance/asl/cases.jsonl`, see its README).
//!
//! - Every definition AWS accepted (it ran an execution or a TestState of it) must validate
//!   clean: 100%.
//! - Of the definitions AWS rejected (CreateStateMachine's InvalidDefinition, and
//!   ValidateStateMachineDefinition's FAIL), at least 95% must be rejected; the rate at which our
//!   message text equals AWS's is printed (run with `--nocapture` to see it).
//!
//! Skips with a message when the corpus is not beside the checkout.

use serde_json::Value;
use stepwise_asl::{MachineType, ParseOptions, Report, parse_state, validate_definition};
use stepwise_test_support::corpus::{self, api_error, asl_cases};

/// The corpus writes AWS resources as `${fake:…}` placeholders; put a resource of the right kind
/// where each stood.
fn fill_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${fake:") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 7..start + len];
        let arn = if name.contains("activity") {
            "arn:aws:states:us-east-1:111111111111:activity:fake"
        } else if name.contains("lambda") || name.contains("Function") {
            "arn:aws:lambda:us-east-1:111111111111:function:fake"
        } else if name.contains("state_machine") {
            "arn:aws:states:us-east-1:111111111111:stateMachine:fake"
        } else {
            "fake"
        };
        out.push_str(arn);
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

fn definition_text(case: &Value) -> String {
    fill_placeholders(&corpus::definition_text(case))
}

fn machine_type(case: &Value) -> MachineType {
    let t = case["state_machine_type"]
        .as_str()
        .or_else(|| case["request"]["type"].as_str());
    match t {
        Some("EXPRESS") => MachineType::Express,
        _ => MachineType::Standard,
    }
}

fn options(case: &Value) -> ParseOptions {
    ParseOptions {
        machine_type: machine_type(case),
    }
}

/// AWS's values were masked before they were recorded; mask ours the same way.
fn mask(s: &str) -> String {
    s.replace("arn:aws:", "arn:<partition>:")
}

fn accepted_report(case: &Value) -> Report {
    let def = &case["definition"];
    let is_single_state = case["api"] == "TestState" && def.get("States").is_none();
    if is_single_state {
        let filled: Value = serde_json::from_str(&definition_text(case)).expect("JSON");
        match parse_state(&filled, options(case)) {
            Ok(_) => Report::default(),
            Err(report) => report,
        }
    } else {
        validate_definition(&definition_text(case), options(case))
    }
}

#[test]
fn definitions_aws_accepted_validate_clean() {
    let Some(cases) = asl_cases() else { return };
    let mut total = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let accepted = match case["api"].as_str() {
            Some("StartExecution" | "StartSyncExecution") => true,
            Some("TestState") => {
                api_error(case).is_none_or(|(code, _)| code != "InvalidDefinition")
            }
            _ => false,
        };
        // A case that started an execution of a machine that does not exist has no definition.
        if !accepted || case["definition"].is_null() {
            continue;
        }
        total += 1;
        let report = accepted_report(case);
        if !report.is_valid() {
            let texts: Vec<String> = report.errors().map(|d| d.aws_text()).collect();
            failures.push(format!("{}: {}", case["id"], texts.join(" | ")));
        }
    }
    eprintln!(
        "accepted definitions: {}/{} validate clean",
        total - failures.len(),
        total
    );
    assert!(total > 0, "no accepted definitions found in the corpus");
    assert!(
        failures.is_empty(),
        "{} accepted definitions were rejected:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn definitions_aws_rejected_are_rejected_with_its_code() {
    let Some(cases) = asl_cases() else { return };
    let mut total = 0;
    let mut rejected = 0;
    let mut same_text = 0;
    // Cases whose recorded text looks like LocalStack's rather than AWS's (see the README).
    let mut suspect = 0;
    let mut missed = Vec::new();
    let mut other_text = Vec::new();
    for case in &cases {
        match case["api"].as_str() {
            Some("CreateStateMachine") => {
                let Some((code, message)) = api_error(case) else {
                    continue;
                };
                if code != "InvalidDefinition" {
                    continue; // StateMachineAlreadyExists, logging errors: not the definition
                }
                total += 1;
                if case.get("provenance_suspect").is_some() {
                    suspect += 1;
                }
                let report = validate_definition(&definition_text(case), options(case));
                match report.invalid_definition_message() {
                    None => missed.push(case["id"].to_string()),
                    Some(ours) => {
                        rejected += 1;
                        if mask(&ours) == message {
                            same_text += 1;
                        } else {
                            other_text.push(format!(
                                "{}\n    aws:  {message}\n    ours: {}",
                                case["id"],
                                mask(&ours)
                            ));
                        }
                    }
                }
            }
            Some("ValidateStateMachineDefinition") => {
                let expected = &case["expected"]["response"];
                if expected["result"] != "FAIL" {
                    // An OK case: it must stay OK.
                    let report = validate_definition(&definition_text(case), options(case));
                    assert!(
                        report.is_valid(),
                        "{}: {:?}",
                        case["id"],
                        report.diagnostics
                    );
                    continue;
                }
                total += 1;
                let report = validate_definition(&definition_text(case), options(case));
                if report.is_valid() {
                    missed.push(case["id"].to_string());
                    continue;
                }
                rejected += 1;
                let ours: Vec<Value> = report
                    .diagnostics
                    .iter()
                    .map(|d| {
                        let mut v = serde_json::json!({
                            "code": d.code.as_str(),
                            "message": d.message,
                            "severity": d.severity.as_str(),
                        });
                        if let Some(loc) = &d.location {
                            v["location"] = Value::String(loc.clone());
                        }
                        v
                    })
                    .collect();
                if Value::Array(ours.clone()) == expected["diagnostics"] {
                    same_text += 1;
                } else {
                    other_text.push(format!(
                        "{}\n    aws:  {}\n    ours: {}",
                        case["id"],
                        expected["diagnostics"],
                        Value::Array(ours)
                    ));
                }
            }
            _ => {}
        }
    }
    let rate = |n: usize| 100.0 * n as f64 / total.max(1) as f64;
    let trusted = total - suspect;
    eprintln!(
        "rejected definitions: {rejected}/{total} rejected ({:.1}%), {same_text}/{total} with AWS's exact text ({:.1}%); \
         {same_text}/{trusted} of those not marked provenance_suspect",
        rate(rejected),
        rate(same_text)
    );
    for o in &other_text {
        eprintln!("text differs: {o}");
    }
    assert!(total > 0, "no rejected definitions found in the corpus");
    assert!(
        rate(rejected) >= 95.0,
        "only {rejected}/{total} rejected; accepted by us:\n{}",
        missed.join("\n")
    );
}

/// TestState checks its state (or the named state of a machine) with the same validator; the
/// schema errors it recorded must come out word for word.
#[test]
fn teststate_definitions_aws_rejected_give_its_text() {
    let Some(cases) = asl_cases() else { return };
    let mut total = 0;
    for case in cases.iter().filter(|c| c["api"] == "TestState") {
        let Some((code, message)) = api_error(case) else {
            continue;
        };
        if code != "InvalidDefinition" || !message.starts_with("Invalid State Machine Definition") {
            continue; // TestState's own checks (e.g. Map/Parallel unsupported) are the API's
        }
        total += 1;
        let report = accepted_report(case);
        assert_eq!(
            report.invalid_definition_message().map(|m| mask(&m)),
            Some(message),
            "{}",
            case["id"]
        );
    }
    assert!(total > 0, "no rejected TestState definitions in the corpus");
}

/// Every way of breaking a real definition gets diagnostics, never a panic: each recorded
/// definition with, in turn, each of its fields removed or replaced by a value of another type.
#[test]
fn broken_definitions_never_panic() {
    let Some(cases) = asl_cases() else { return };
    let replacements = [
        Value::Null,
        serde_json::json!(-1),
        serde_json::json!("$.x[?(@.a"),
        serde_json::json!("{% $x +"),
        serde_json::json!([{}]),
        serde_json::json!({"a.$": "States.Nope("}),
    ];
    let mut checked = 0;
    for case in cases
        .iter()
        .filter(|c| c["definition"].is_object())
        .step_by(7)
    {
        let mut paths = Vec::new();
        collect_paths(&case["definition"], &mut Vec::new(), &mut paths);
        for path in paths.iter().take(60) {
            for replacement in std::iter::once(None).chain(replacements.iter().map(Some)) {
                let mut def = case["definition"].clone();
                mutate(&mut def, path, replacement);
                let report = validate_definition(&def.to_string(), ParseOptions::default());
                // Removing or retyping a field may still leave a valid machine; every problem
                // found must say what is wrong and point into the definition.
                for d in &report.diagnostics {
                    assert!(!d.message.is_empty(), "{}: {d:?}", case["id"]);
                    if let Some(loc) = &d.location {
                        assert!(loc.starts_with('/'), "{}: {d:?}", case["id"]);
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "only {checked} mutations checked");
}

fn collect_paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Value::Object(map) = v {
        for (k, child) in map {
            prefix.push(k.clone());
            out.push(prefix.clone());
            collect_paths(child, prefix, out);
            prefix.pop();
        }
    } else if let Value::Array(items) = v {
        for (i, child) in items.iter().enumerate() {
            prefix.push(i.to_string());
            out.push(prefix.clone());
            collect_paths(child, prefix, out);
            prefix.pop();
        }
    }
}

/// Removes the value at `path` (`None`) or replaces it.
fn mutate(root: &mut Value, path: &[String], replacement: Option<&Value>) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = root;
    for p in parents {
        node = match node {
            Value::Object(m) => m.get_mut(p).expect("path exists"),
            Value::Array(a) => a
                .get_mut(p.parse::<usize>().expect("index"))
                .expect("path exists"),
            _ => return,
        };
    }
    match (node, replacement) {
        (Value::Object(m), None) => {
            m.shift_remove(last);
        }
        (Value::Object(m), Some(r)) => {
            m.insert(last.clone(), r.clone());
        }
        (Value::Array(a), r) => {
            let i: usize = last.parse().expect("index");
            match r {
                None => {
                    a.remove(i);
                }
                Some(r) => a[i] = r.clone(),
            }
        }
        _ => {}
    }
}
