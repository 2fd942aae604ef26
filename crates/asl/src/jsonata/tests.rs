use serde_json::{Map, Value, json};

use super::*;
use crate::eval::{NoVariables, SeededEntropy};

fn states(input: Value) -> Value {
    json!({"input": input, "context": {"Execution": {"Id": "x"}}})
}

fn eval(expr: &str, input: Value) -> Result<Option<Value>, JsonataError> {
    JsonataExpr::parse(expr).expect("parses").evaluate(
        &states(input),
        &NoVariables,
        &mut SeededEntropy::new(1),
    )
}

fn ok(expr: &str, input: Value) -> Value {
    eval(expr, input).expect("evaluates").expect("is defined")
}

#[test]
fn recognises_templates() {
    assert_eq!(
        expression_in("{% $states.input %}"),
        Some(" $states.input ")
    );
    assert_eq!(expression_in("{%%}"), Some(""));
    assert_eq!(expression_in("plain"), None);
    assert_eq!(expression_in(" {% 1 %}"), None);
    assert_eq!(expression_in("{%"), None);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(JsonataExpr::parse(&deep).is_err());
    assert!(JsonataExpr::parse(&"[".repeat(100_000)).is_err());
}

#[test]
fn parses_valid_and_rejects_invalid() {
    assert!(JsonataExpr::parse(" $states.input.a + 1 ").is_ok());
    assert!(JsonataExpr::parse("$count([1,2])").is_ok());
    assert!(JsonataExpr::parse("a +").is_err());
    assert!(JsonataExpr::parse("[1,2").is_err());
}

#[test]
fn collects_the_names_an_expression_mentions() {
    let e = JsonataExpr::parse("($x := $a + $count($b[$c]); $states.input.($d))").unwrap();
    assert_eq!(
        e.referenced_names(),
        ["a", "b", "c", "count", "d", "states", "x"]
    );
}

#[test]
fn evaluates_against_states_and_variables() {
    assert_eq!(ok("$states.input.a + 1", json!({"a": 2})), json!(3));
    assert_eq!(ok("$states.context.Execution.Id", json!({})), json!("x"));
    let mut vars = Map::new();
    vars.insert("total".into(), json!(10));
    let e = JsonataExpr::parse("$total * 2").unwrap();
    let r = e
        .evaluate(&states(json!({})), &vars, &mut SeededEntropy::new(1))
        .unwrap();
    assert_eq!(r, Some(json!(20)));
    // No context value: `$` and bare names are undefined.
    assert_eq!(eval("a", json!({"a": 1})).unwrap(), None);
    assert_eq!(eval("$doesNotExist", json!({})).unwrap(), None);
}

#[test]
fn numbers_come_back_as_aws_prints_them() {
    assert_eq!(ok("6 / 2", json!({})).to_string(), "3");
    assert_eq!(
        ok("0.1 + 0.2", json!({})).to_string(),
        "0.30000000000000004"
    );
    assert_eq!(ok("-0", json!({})).to_string(), "0");
    let err = eval("$states.input.a / 0", json!({"a": 1})).unwrap_err();
    assert_eq!(err.code(), Some("D1001"));
}

#[test]
fn errors_carry_the_jsonata_code() {
    let err = eval("$states.input.s + 1", json!({"s": "a"})).unwrap_err();
    assert_eq!(err.code(), Some("T2001"));
    let e = JsonataExpr::parse(" $states.input.s + 1 ").unwrap();
    let cause = error_cause(&e, "Output", &err);
    assert!(
        cause.starts_with(
            "The JSONata expression '$states.input.s + 1' specified for the field 'Output' threw an error during evaluation. T2001: "
        ),
        "{cause}"
    );
}

#[test]
fn function_results_are_unsupported() {
    assert_eq!(
        eval("$fn := function($x){$x}", json!({})),
        Err(JsonataError::UnsupportedResult)
    );
}

#[test]
fn causes_match_the_recordings() {
    let e = JsonataExpr::parse(" $doesNotExist ").unwrap();
    assert_eq!(
        format!(
            "{}{}",
            state_cause_prefix("State0", 2),
            undefined_cause(&e, "Output")
        ),
        "An error occurred while executing the state 'State0' (entered at the event id #2). The JSONata expression '$doesNotExist' specified for the field 'Output' returned nothing (undefined)."
    );
    let e = JsonataExpr::parse("{'foo': 'bar'}").unwrap();
    assert_eq!(
        unexpected_type_cause(&e, "Items", "array", &json!({"foo": "bar"})),
        "The JSONata expression '{'foo': 'bar'}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'object' for value: {\"foo\":\"bar\"}"
    );
    let e = JsonataExpr::parse("$fn := function($x){$x}").unwrap();
    assert_eq!(
        unsupported_result_cause(&e, "Items"),
        "The JSONata expression '$fn := function($x){$x}' specified for the field 'Items' returned an unsupported result type."
    );
}

#[test]
fn partition_as_recorded() {
    let e = "$partition($states.input.a, $states.input.n)";
    assert_eq!(ok(e, json!({"a": [0], "n": 1})), json!([[0]]));
    assert_eq!(ok(e, json!({"a": [0], "n": 5})), json!([[0]]));
    assert_eq!(ok(e, json!({"a": [0, 1, 2], "n": 2})), json!([[0, 1], [2]]));
    assert_eq!(
        ok(e, json!({"a": [0, 1, 2, 3], "n": 1})),
        json!([[0], [1], [2], [3]])
    );
    assert!(eval(e, json!({"a": [1], "n": 0})).is_err());
    assert_eq!(
        eval(e, json!({"a": [1], "n": "x"})).unwrap_err().code(),
        Some("T0410")
    );
}

#[test]
fn range_as_recorded() {
    let e = "$range($states.input.a, $states.input.b, $states.input.c)";
    assert_eq!(ok(e, json!({"a": 0, "b": 9, "c": 3})), json!([0, 3, 6, 9]));
    assert_eq!(ok(e, json!({"a": 0, "b": 10, "c": 3})), json!([0, 3, 6, 9]));
    assert_eq!(ok(e, json!({"a": 1, "b": 9, "c": 9})), json!(1));
    assert_eq!(
        ok(e, json!({"a": 1, "b": 9, "c": 2})),
        json!([1, 3, 5, 7, 9])
    );
    assert_eq!(ok(e, json!({"a": 10, "b": 0, "c": -5})), json!([10, 5, 0]));
    assert!(eval(e, json!({"a": 0, "b": 1, "c": 0})).is_err());
    assert!(eval(e, json!({"a": 0, "b": 5000, "c": 1})).is_err());
}

#[test]
fn parse_as_recorded() {
    let e = "$parse($states.input.s)";
    assert_eq!(ok(e, json!({"s": "-0"})).to_string(), "0");
    assert_eq!(ok(e, json!({"s": "1.1"})), json!(1.1));
    assert_eq!(ok(e, json!({"s": "\"HelloWorld\""})), json!("HelloWorld"));
    assert_eq!(
        ok(e, json!({"s": "{\"Arg1\": 1, \"Arg2\": []}"})),
        json!({"Arg1": 1, "Arg2": []})
    );
    assert!(eval(e, json!({"s": "{"})).is_err());
}

#[test]
fn hash_digests() {
    assert_eq!(
        ok("$hash('abc', 'SHA-256')", json!({})),
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        ok("$hash('abc', 'MD5')", json!({})),
        json!("900150983cd24fb0d6963f7d28e17f72")
    );
    assert_eq!(
        ok("$hash('abc', 'SHA-1')", json!({})),
        json!("a9993e364706816aba3e25717850c26c9cd0d89d")
    );
    assert_eq!(ok("$length($hash('abc', 'SHA-384'))", json!({})), json!(96));
    assert_eq!(
        ok("$length($hash('abc', 'SHA-512'))", json!({})),
        json!(128)
    );
    assert!(eval("$hash('abc', 'SHA-3')", json!({})).is_err());
}

#[test]
fn randomness_comes_from_the_entropy() {
    let e = JsonataExpr::parse("[$random(), $random(), $uuid()]").unwrap();
    let run = |seed| {
        e.evaluate(
            &states(json!({})),
            &NoVariables,
            &mut SeededEntropy::new(seed),
        )
        .unwrap()
        .unwrap()
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
    let r = run(5);
    let x = r[0].as_f64().unwrap();
    assert!((0.0..1.0).contains(&x));
    assert_ne!(r[0], r[1]);
    assert_eq!(r[2].as_str().unwrap().len(), 36);
    // A seed gives the same number every time, whatever the entropy.
    let seeded = JsonataExpr::parse("$random(42)").unwrap();
    let a = seeded
        .evaluate(&states(json!({})), &NoVariables, &mut SeededEntropy::new(1))
        .unwrap();
    let b = seeded
        .evaluate(&states(json!({})), &NoVariables, &mut SeededEntropy::new(2))
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn eval_is_not_available() {
    assert_eq!(
        eval("$eval('1 + 1')", json!({})).unwrap_err().code(),
        Some("T1006")
    );
}

#[test]
fn a_runaway_expression_stops() {
    let e = JsonataExpr::parse("($f := function(){$f()}; $f())").unwrap();
    let options = EvalOptions {
        timeout: Some(Duration::from_millis(200)),
        ..EvalOptions::step_functions()
    };
    let err = e
        .evaluate_with(
            None,
            Some(&states(json!({}))),
            &NoVariables,
            &mut SeededEntropy::new(1),
            &options,
        )
        .unwrap_err();
    assert!(err.code().is_some(), "{err}");
}

#[test]
fn shuffle_draws_from_the_entropy() {
    let e = JsonataExpr::parse("$shuffle([1..20])").unwrap();
    let run = |seed| {
        e.evaluate(
            &states(json!({})),
            &NoVariables,
            &mut SeededEntropy::new(seed),
        )
        .unwrap()
        .unwrap()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
    let mut items: Vec<i64> = run(3)
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    items.sort_unstable();
    assert_eq!(items, (1..=20).collect::<Vec<_>>());
}

#[test]
fn now_and_millis_read_the_steps_clock() {
    let at = |expr: &str| {
        JsonataExpr::parse(expr)
            .expect("parses")
            .evaluate(
                &states(json!({})),
                &NoVariables,
                &mut SeededEntropy::new(1).at(1_700_000_000_123),
            )
            .expect("evaluates")
            .expect("is defined")
    };
    assert_eq!(at("$now()"), json!("2023-11-14T22:13:20.123Z"));
    assert_eq!(at("$millis()"), json!(1_700_000_000_123_i64));
    // Twice the same: a replay sees the same time.
    assert_eq!(
        at("[$now(), $now()]"),
        json!(["2023-11-14T22:13:20.123Z", "2023-11-14T22:13:20.123Z"])
    );
}

/// Found by the `jsonata` fuzz target: jsonata-core panics on these picture strings (a
/// component specifier that is not ASCII, a digit family below its zero; a width that
/// overflows, too). The evaluation fails with an error instead, so the state fails with
/// `States.QueryEvaluationError` and the thread running it carries on.
#[test]
fn pictures_that_panic_the_evaluator_fail_the_evaluation() {
    for expr in [
        "$fromMillis(0, '[é]')",
        "$toMillis('2 Feb 2011', '[D4] [ÿ]')",
        "$parseInteger('0１２', '###０')",
    ] {
        let e = eval(expr, json!({})).expect_err(expr);
        assert_eq!(e.code(), None, "{expr}");
        assert!(
            e.to_string()
                .starts_with("The JSONata evaluator failed on this expression: "),
            "{expr}: {e}"
        );
    }
}
