//! Which branch a JSONPath Choice state takes, as AWS decides it.
//!
//! The last test replays the recorded corpus (`../shared/conformance/asl/cases.jsonl`): every
//! execution whose first state is a JSONPath Choice leading to Pass states with distinct
//! constant `Result`s, and every TestState of a JSONPath Choice state, must take the branch AWS
//! took. It skips with a message when the corpus is not beside the checkout.

use serde_json::{Map, Value, json};
use stepwise_asl::eval::{Failure, NoVariables, Scope};
use stepwise_asl::model::{Choice, QueryLanguage, StateKind};
use stepwise_asl::{ParseOptions, parse_definition, parse_state};
use stepwise_test_support::corpus::asl_cases;

/// Parses `rules` as the `Choices` of a JSONPath Choice state.
fn choice(rules: Value) -> Choice {
    let mut choices = rules.as_array().expect("rules are an array").clone();
    for rule in &mut choices {
        rule["Next"] = json!("Done");
    }
    let definition = json!({
        "StartAt": "C",
        "States": {
            "C": { "Type": "Choice", "Choices": choices, "Default": "Done" },
            "Done": { "Type": "Succeed" }
        }
    });
    let (machine, _) = parse_definition(&definition.to_string(), ParseOptions::default())
        .unwrap_or_else(|r| panic!("{definition} does not parse: {r:?}"));
    match &machine.states["C"].kind {
        StateKind::Choice(c) => c.clone(),
        _ => unreachable!(),
    }
}

/// Evaluates one rule (a Choice Rule without `Next`) against `input`.
fn eval_with(rule: Value, input: &Value, variables: &Map<String, Value>) -> Result<bool, Failure> {
    let c = choice(json!([rule]));
    let context = json!({ "Execution": { "Input": input } });
    let scope = Scope {
        input,
        context: &context,
        variables,
    };
    c.choices[0].condition.evaluate(&scope)
}

fn eval(rule: Value, input: Value) -> Result<bool, Failure> {
    eval_with(rule, &input, &Map::new())
}

/// Asserts the rule `{"Variable": "$.v", op: operand}` holds exactly for the `true_for` inputs.
#[track_caller]
fn check(op: &str, operand: Value, true_for: &[Value], false_for: &[Value]) {
    for (values, want) in [(true_for, true), (false_for, false)] {
        for v in values {
            let rule = json!({ "Variable": "$.v", op: operand.clone() });
            let got = eval(rule, json!({ "v": v })).unwrap_or_else(|f| panic!("{op} {v}: {f:?}"));
            assert_eq!(got, want, "{op}: {operand} against {v}");
        }
    }
}

fn others() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(1.5),
        json!(""),
        json!("x"),
        json!([]),
        json!({}),
    ]
}

#[test]
fn string_comparisons() {
    check(
        "StringEquals",
        json!("Hello"),
        &[json!("Hello")],
        &[
            json!("hello"),
            json!("Hello "),
            json!(" Hello"),
            json!(["Hello"]),
        ],
    );
    check("StringEquals", json!("HelloWorld"), &[], &others());
    check("StringEquals", json!("\t\r\n"), &[], &[json!("\t\n")]);
    check(
        "StringLessThan",
        json!("AB"),
        &[json!("A"), json!(""), json!("AA"), json!("AAZ")],
        &[json!("AB"), json!("ABC"), json!("B"), json!("a")],
    );
    check(
        "StringGreaterThan",
        json!("A"),
        &[json!("AB"), json!("B"), json!("a")],
        &[json!("A"), json!(""), json!("@"), json!(1)],
    );
    check(
        "StringLessThanEquals",
        json!("AB"),
        &[json!("AB"), json!("A")],
        &[json!("ABC"), json!(null)],
    );
    check(
        "StringGreaterThanEquals",
        json!(""),
        &[json!(""), json!("A")],
        &[json!(0), json!(false)],
    );
    // A timestamp is a string too.
    check(
        "StringEquals",
        json!("2016-03-14T01:59:00Z"),
        &[json!("2016-03-14T01:59:00Z")],
        &[json!("2016-03-14T01:59:00.000Z")],
    );
}

#[test]
fn strings_order_like_java() {
    // Java compares UTF-16 code units: a supplementary character (a surrogate pair starting
    // 0xD83D) sorts before U+FF61, although its code point is larger.
    check(
        "StringLessThan",
        json!("\u{FF61}"),
        &[json!("\u{1F600}")],
        &[json!("\u{FF62}")],
    );
    check(
        "StringGreaterThan",
        json!("Z"),
        &[json!("a")],
        &[json!("A")],
    );
}

#[test]
fn string_matches() {
    check(
        "StringMatches",
        json!("foo*.log"),
        &[json!("foo.log"), json!("foo23.log"), json!("foo.log.log")],
        &[json!("foo.txt"), json!("xfoo.log"), json!(7)],
    );
    check(
        "StringMatches",
        json!("*"),
        &[json!(""), json!("anything")],
        &[json!(null), json!(["a"])],
    );
    check(
        "StringMatches",
        json!(r"a\*b"),
        &[json!("a*b")],
        &[json!("axb"), json!("ab")],
    );
    check(
        "StringMatches",
        json!(r"C:\\*"),
        &[json!(r"C:\"), json!(r"C:\Windows")],
        &[json!("C:/Windows")],
    );
    // `?` and `[` have no special meaning.
    check(
        "StringMatches",
        json!("a?[b]"),
        &[json!("a?[b]")],
        &[json!("ax[b]"), json!("a?b")],
    );
    let open = eval(
        json!({ "Variable": "$.v", "StringMatches": r"abc\" }),
        json!({ "v": "abc" }),
    );
    assert_eq!(open.unwrap_err().error, "States.Runtime");
}

#[test]
fn numeric_comparisons() {
    check(
        "NumericEquals",
        json!(1),
        &[json!(1), json!(1.0), json!(1e0)],
        &[json!(1.1), json!("1"), json!(true), json!(null), json!([1])],
    );
    check(
        "NumericEquals",
        json!(0.0),
        &[json!(0), json!(-0.0)],
        &[json!(false)],
    );
    check(
        "NumericEquals",
        json!(2.22),
        &[json!(2.22)],
        &[json!(2.2200001)],
    );
    check(
        "NumericLessThan",
        json!(30),
        &[json!(29.999), json!(-1), json!(i64::MIN)],
        &[json!(30), json!(30.0), json!(u64::MAX), json!("1")],
    );
    check(
        "NumericGreaterThan",
        json!(-0.5),
        &[json!(0), json!(-0.25)],
        &[json!(-1), json!(-0.5)],
    );
    check(
        "NumericLessThanEquals",
        json!(0),
        &[json!(0), json!(0.0), json!(-3)],
        &[json!(0.0001)],
    );
    check(
        "NumericGreaterThanEquals",
        json!(20),
        &[json!(20), json!(22), json!(1e300)],
        &[json!(19.9), json!("22")],
    );
    // Integers beyond 2^53 still compare exactly.
    check(
        "NumericGreaterThan",
        json!(9007199254740992u64),
        &[json!(9007199254740993u64)],
        &[json!(9007199254740992u64)],
    );
}

#[test]
fn big_and_mixed_numbers_from_text() {
    let input: Value = serde_json::from_str(r#"{"v": 18446744073709551615, "w": 1.0e2}"#).unwrap();
    let rule = json!({ "Variable": "$.v", "NumericGreaterThan": 9223372036854775807i64 });
    assert!(eval(rule, input.clone()).unwrap());
    let rule = json!({ "Variable": "$.w", "NumericEqualsPath": "$.x" });
    let mut with_x = input.clone();
    with_x["x"] = json!(100);
    assert!(eval(rule, with_x).unwrap());
}

#[test]
fn boolean_equals() {
    check(
        "BooleanEquals",
        json!(true),
        &[json!(true)],
        &[json!(false), json!("true"), json!(1)],
    );
    check(
        "BooleanEquals",
        json!(false),
        &[json!(false)],
        &[json!(true), json!(0), json!(null)],
    );
}

#[test]
fn timestamp_comparisons() {
    let t = "2012-10-09T19:00:55Z";
    check(
        "TimestampEquals",
        json!(t),
        &[
            json!(t),
            json!("2012-10-09T19:00:55.000Z"),
            json!("2012-10-09T20:00:55+01:00"),
            json!("2012-10-09T18:30:55-00:30"),
        ],
        &[
            json!("2012-10-09T19:00:55"),
            json!("2012-10-09 19:00:55Z"),
            json!("2012-10-09t19:00:55Z"),
            json!("2012-10-09T19:00:55z"),
            json!("2012-10-09"),
            json!("2023-02-24 12:15:56.832957"),
            json!(0),
            json!(null),
        ],
    );
    check(
        "TimestampLessThan",
        json!(t),
        &[
            json!("2012-10-09T19:00:54.999Z"),
            json!("2012-10-09T20:00:54+01:00"),
        ],
        &[json!(t), json!("2012-10-09T19:00:55.001Z")],
    );
    check(
        "TimestampGreaterThan",
        json!(t),
        &[
            json!("2012-10-09T19:00:55.000000001Z"),
            json!("2012-10-09T19:00:55-00:01"),
        ],
        &[json!(t), json!("2012-10-09T19:00:55+00:01")],
    );
    check(
        "TimestampLessThanEquals",
        json!(t),
        &[json!(t), json!("2011-10-09T19:00:55Z")],
        &[json!("2012-10-09T19:00:56Z")],
    );
    check(
        "TimestampGreaterThanEquals",
        json!(t),
        &[json!(t), json!("2012-10-09T19:00:56Z")],
        &[json!("2012-10-09T19:00:54Z")],
    );
}

#[test]
fn type_tests() {
    let all = [
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(1.1),
        json!(""),
        json!("2016-03-14T01:59:00Z"),
        json!("2016-03-14T01:59:00"),
        json!([]),
        json!({}),
    ];
    type Test = fn(&Value) -> bool;
    let cases: [(&str, Test); 5] = [
        ("IsNull", Value::is_null),
        ("IsNumeric", Value::is_number),
        ("IsString", Value::is_string),
        ("IsBoolean", Value::is_boolean),
        ("IsTimestamp", |v| v == &json!("2016-03-14T01:59:00Z")),
    ];
    for (op, is) in cases {
        let yes: Vec<Value> = all.iter().filter(|v| is(v)).cloned().collect();
        let no: Vec<Value> = all.iter().filter(|v| !is(v)).cloned().collect();
        check(op, json!(true), &yes, &no);
        check(op, json!(false), &no, &yes);
    }
    check("IsPresent", json!(true), &all, &[]);
    check("IsPresent", json!(false), &[], &all);
}

#[test]
fn is_present_on_a_missing_path() {
    let input = json!({ "a": { "b": 1 }, "list": [10] });
    for path in [
        "$.nope",
        "$.a.nope",
        "$.a.b.c",
        "$.list[1]",
        "$nope",
        "$$.Nope",
    ] {
        let present = eval(
            json!({ "Variable": path, "IsPresent": true }),
            input.clone(),
        );
        assert!(!present.unwrap(), "{path}");
        let absent = eval(
            json!({ "Variable": path, "IsPresent": false }),
            input.clone(),
        );
        assert!(absent.unwrap(), "{path}");
    }
    for path in ["$.a.b", "$.list[0]", "$", "$$.Execution.Input.a"] {
        let present = eval(
            json!({ "Variable": path, "IsPresent": true }),
            input.clone(),
        );
        assert!(present.unwrap(), "{path}");
    }
}

#[test]
fn a_missing_variable_fails_the_state() {
    for rule in [
        json!({ "Variable": "$.type", "StringEquals": "Private" }),
        json!({ "Variable": "$.type", "NumericEquals": 1 }),
        json!({ "Variable": "$.type", "IsNull": true }),
        json!({ "Variable": "$.type", "IsString": false }),
        json!({ "Variable": "$.type", "StringMatches": "*" }),
    ] {
        let err = eval(rule.clone(), json!({ "value": 22 })).unwrap_err();
        assert_eq!(err.error, "States.Runtime", "{rule}");
        assert_eq!(
            err.cause,
            "Invalid path '$.type': The choice state's condition path references an invalid value.",
            "{rule}"
        );
    }
    // Inside Not too: the rule does not quietly turn true.
    let not = json!({ "Not": { "Variable": "$.type", "StringEquals": "Private" } });
    assert!(eval(not, json!({})).is_err());
}

#[test]
fn a_missing_path_operand_fails_the_state() {
    let rule = json!({ "Variable": "$.rating", "NumericGreaterThanPath": "$.auditThreshold" });
    let err = eval(rule.clone(), json!({ "rating": 5 })).unwrap_err();
    assert_eq!(err.error, "States.Runtime");
    assert!(err.cause.contains("'$.auditThreshold'"), "{}", err.cause);
    assert!(eval(rule.clone(), json!({ "rating": 5, "auditThreshold": 4 })).unwrap());
    // Present but of another type: just false.
    assert!(!eval(rule, json!({ "rating": 5, "auditThreshold": "4" })).unwrap());
}

#[test]
fn path_operands() {
    let input = json!({ "a": "x", "b": "x", "n": 1, "f": 1.0, "t": true, "ts": "2020-01-01T00:00:00Z",
                        "ts2": "2020-01-01T01:00:00+01:00" });
    for (rule, want) in [
        (
            json!({ "Variable": "$.a", "StringEqualsPath": "$.b" }),
            true,
        ),
        (
            json!({ "Variable": "$.a", "StringLessThanPath": "$.b" }),
            false,
        ),
        (
            json!({ "Variable": "$.a", "StringLessThanEqualsPath": "$.b" }),
            true,
        ),
        (
            json!({ "Variable": "$.a", "StringGreaterThanPath": "$.b" }),
            false,
        ),
        (
            json!({ "Variable": "$.a", "StringGreaterThanEqualsPath": "$.b" }),
            true,
        ),
        (
            json!({ "Variable": "$.n", "NumericEqualsPath": "$.f" }),
            true,
        ),
        (
            json!({ "Variable": "$.n", "NumericLessThanPath": "$.f" }),
            false,
        ),
        (
            json!({ "Variable": "$.n", "NumericLessThanEqualsPath": "$.f" }),
            true,
        ),
        (
            json!({ "Variable": "$.n", "NumericGreaterThanPath": "$.f" }),
            false,
        ),
        (
            json!({ "Variable": "$.n", "NumericGreaterThanEqualsPath": "$.f" }),
            true,
        ),
        (
            json!({ "Variable": "$.t", "BooleanEqualsPath": "$.t" }),
            true,
        ),
        (
            json!({ "Variable": "$.t", "BooleanEqualsPath": "$.n" }),
            false,
        ),
        (
            json!({ "Variable": "$.ts", "TimestampEqualsPath": "$.ts2" }),
            true,
        ),
        (
            json!({ "Variable": "$.ts", "TimestampLessThanPath": "$.ts2" }),
            false,
        ),
        (
            json!({ "Variable": "$.ts", "TimestampLessThanEqualsPath": "$.ts2" }),
            true,
        ),
        (
            json!({ "Variable": "$.ts", "TimestampGreaterThanPath": "$.ts2" }),
            false,
        ),
        (
            json!({ "Variable": "$.ts", "TimestampGreaterThanEqualsPath": "$.ts2" }),
            true,
        ),
        (
            json!({ "Variable": "$.ts", "TimestampEqualsPath": "$.a" }),
            false,
        ),
        (
            json!({ "Variable": "$.n", "StringEqualsPath": "$.a" }),
            false,
        ),
    ] {
        assert_eq!(eval(rule.clone(), input.clone()).unwrap(), want, "{rule}");
    }
}

#[test]
fn variables_and_context() {
    let mut vars = Map::new();
    vars.insert("guess".into(), json!("the_guess"));
    vars.insert("answer".into(), json!("the_answer"));
    let input = json!({});
    let rule = json!({ "Variable": "$guess", "StringEqualsPath": "$answer" });
    assert!(!eval_with(rule.clone(), &input, &vars).unwrap());
    vars.insert("guess".into(), json!("the_answer"));
    assert!(eval_with(rule, &input, &vars).unwrap());
    let rule = json!({ "Variable": "$$.Execution.Input.n", "NumericLessThanEquals": 0 });
    assert!(eval(rule, json!({ "n": 0 })).unwrap());
}

#[test]
fn boolean_combinators() {
    let input = json!({ "type": "Private", "value": 22 });
    let twenties = json!({ "And": [
        { "Variable": "$.value", "NumericGreaterThanEquals": 20 },
        { "Variable": "$.value", "NumericLessThan": 30 }
    ]});
    assert!(eval(twenties, input.clone()).unwrap());
    let public = json!({ "Not": { "Variable": "$.type", "StringEquals": "Private" } });
    assert!(!eval(public, input.clone()).unwrap());
    let either = json!({ "Or": [
        { "Variable": "$.type", "StringEquals": "Public" },
        { "Variable": "$.value", "NumericEquals": 22 }
    ]});
    assert!(eval(either, input.clone()).unwrap());
    let neither = json!({ "Or": [
        { "Variable": "$.type", "StringEquals": "Public" },
        { "Not": { "Variable": "$.value", "NumericEquals": 22 } }
    ]});
    assert!(!eval(neither, input.clone()).unwrap());
    // And/Or stop once the result is known: the missing path after it is never looked at.
    let guarded = json!({ "And": [
        { "Variable": "$.missing", "IsPresent": true },
        { "Variable": "$.missing", "NumericEquals": 3 }
    ]});
    assert!(!eval(guarded, input.clone()).unwrap());
    let short = json!({ "Or": [
        { "Variable": "$.value", "IsNumeric": true },
        { "Variable": "$.missing", "NumericEquals": 3 }
    ]});
    assert!(eval(short, input.clone()).unwrap());
    let unguarded = json!({ "And": [
        { "Variable": "$.value", "IsNumeric": true },
        { "Variable": "$.missing", "NumericEquals": 3 }
    ]});
    assert!(eval(unguarded, input).is_err());
}

#[test]
fn map_break_condition_on_the_whole_input() {
    // v2/scenarios test_map_state_break_condition: items [1, "Hello", {}, 3.3, 3, ...].
    let rule = json!({ "And": [
        { "IsPresent": true, "Variable": "$" },
        { "And": [ { "IsNumeric": true, "Variable": "$" }, { "NumericEquals": 3, "Variable": "$" } ] }
    ]});
    let hits: Vec<bool> = [json!(1), json!("Hello"), json!({}), json!(3.3), json!(3)]
        .into_iter()
        .map(|item| eval(rule.clone(), item).unwrap())
        .collect();
    assert_eq!(hits, [false, false, false, false, true]);
}

// ---- the recorded corpus -------------------------------------------------------------------

/// The state a JSONPath Choice goes to (`None`: no rule matched and there is no Default).
fn next_state(c: &Choice, input: &Value) -> Result<Option<String>, Failure> {
    let context = json!({ "Execution": { "Input": input } });
    let scope = Scope {
        input,
        context: &context,
        variables: &NoVariables,
    };
    for rule in &c.choices {
        if rule.condition.evaluate(&scope)? {
            return Ok(Some(rule.next.clone()));
        }
    }
    Ok(c.default.clone())
}

/// For an execution: the Choice state it starts at, when every branch is a Pass state whose
/// constant `Result` is its whole output, each different, so the output names the branch.
fn branch_results(definition: &Value) -> Option<(String, Vec<(String, Value)>)> {
    let states = definition.get("States")?.as_object()?;
    let start = definition.get("StartAt")?.as_str()?;
    let choice = states.get(start)?;
    if choice.get("Type")? != "Choice"
        || definition.get("QueryLanguage").is_some()
        || choice.get("QueryLanguage").is_some()
        || choice.get("InputPath").is_some()
    {
        return None;
    }
    let mut targets: Vec<&str> = choice["Choices"]
        .as_array()?
        .iter()
        .map(|r| r.get("Next").and_then(Value::as_str))
        .collect::<Option<_>>()?;
    if let Some(d) = choice.get("Default") {
        targets.push(d.as_str()?);
    }
    targets.sort_unstable();
    targets.dedup();
    let mut results = Vec::new();
    for name in targets {
        let target = states.get(name)?.as_object()?;
        let plain = target
            .keys()
            .all(|k| ["Type", "Result", "End", "Comment"].contains(&k.as_str()));
        if target.get("Type")? != "Pass" || !plain {
            return None;
        }
        let result = target.get("Result")?.clone();
        if results.iter().any(|(_, r)| r == &result) {
            return None;
        }
        results.push((name.to_owned(), result));
    }
    Some((start.to_owned(), results))
}

#[test]
fn recorded_branch_decisions() {
    let Some(cases) = asl_cases() else { return };
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap_or("?");
        let expected = &case["expected"];
        let input: Value = match case.get("input_raw").and_then(Value::as_str) {
            Some(raw) => match serde_json::from_str(raw) {
                Ok(v) => v,
                Err(_) => continue,
            },
            None => continue,
        };
        let definition = &case["definition"];
        let (choice, want) = match case["api"].as_str() {
            Some("StartExecution") | Some("StartSyncExecution") => {
                if expected["status"] != "SUCCEEDED" {
                    continue;
                }
                let Some((start, results)) = branch_results(definition) else {
                    continue;
                };
                let Some((want, _)) = results.iter().find(|(_, r)| r == &expected["output"]) else {
                    failures.push(format!("{id}: output matches no branch"));
                    continue;
                };
                let Ok((machine, _)) =
                    parse_definition(&definition.to_string(), ParseOptions::default())
                else {
                    failures.push(format!("{id}: definition does not parse"));
                    continue;
                };
                match &machine.states[start.as_str()].kind {
                    StateKind::Choice(c) => (c.clone(), want.clone()),
                    _ => continue,
                }
            }
            Some("TestState") => {
                if definition.get("Type") != Some(&json!("Choice"))
                    || expected["status"] != "SUCCEEDED"
                {
                    continue;
                }
                let Some(want) = expected["nextState"].as_str() else {
                    continue;
                };
                let Ok(state) = parse_state(definition, ParseOptions::default()) else {
                    failures.push(format!("{id}: state does not parse"));
                    continue;
                };
                if state.query_language != QueryLanguage::JsonPath || state.io.input_path.is_some()
                {
                    continue;
                }
                match state.kind {
                    StateKind::Choice(c) => (c, want.to_owned()),
                    _ => continue,
                }
            }
            _ => continue,
        };
        checked += 1;
        match next_state(&choice, &input) {
            Ok(Some(got)) if got == want => {}
            other => failures.push(format!("{id}: went to {other:?}, AWS went to {want}")),
        }
    }
    eprintln!("checked {checked} recorded Choice decisions");
    assert!(checked >= 300, "only {checked} cases were checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
