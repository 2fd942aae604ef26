//! Evaluating intrinsic calls: results as AWS Step Functions returns them (many taken from
//! recorded AWS executions) and the failures for bad arguments.

use serde_json::{Map, Value, json};
use stepwise_asl::eval::{Failure, Scope, SeededEntropy};
use stepwise_asl::intrinsics::{self, IntrinsicCall};

fn call(text: &str) -> IntrinsicCall {
    intrinsics::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

fn run_with(
    text: &str,
    input: &Value,
    context: &Value,
    vars: &Map<String, Value>,
) -> Result<Value, Failure> {
    let scope = Scope {
        input,
        context,
        variables: vars,
    };
    intrinsics::evaluate(&call(text), &scope, &mut SeededEntropy::new(7))
}

fn run(text: &str, input: Value) -> Result<Value, Failure> {
    run_with(text, &input, &json!({}), &Map::new())
}

fn ok(text: &str, input: Value) -> Value {
    run(text, input).unwrap_or_else(|f| panic!("{text}: {f:?}"))
}

/// `States.Format`/… applied to `$.v` with the given value.
fn on(text: &str, value: Value) -> Result<Value, Failure> {
    run(text, json!({ "v": value }))
}

fn on_ok(text: &str, value: Value) -> Value {
    on(text, value.clone()).unwrap_or_else(|f| panic!("{text} on {value}: {f:?}"))
}

#[track_caller]
fn intrinsic_failure(result: Result<Value, Failure>, call: &str, detail: &str) {
    let failure = result.expect_err("should fail");
    assert_eq!(failure.error, "States.IntrinsicFailure");
    assert_eq!(
        failure.cause,
        format!("The function '{call}' had the following error: {detail}")
    );
}

#[test]
fn missing_path_argument_is_a_runtime_error_worded_as_aws() {
    // Recorded against AWS: States.Runtime, "The function 'States.Format('{}', $.nope)' had
    // the following error: The JsonPath argument for the field '$.nope' could not be found in
    // the input '{"other":1}'".
    let f = run("States.Format('{}', $.nope)", json!({"other": 1})).unwrap_err();
    assert_eq!(f.error, "States.Runtime");
    assert_eq!(
        f.cause,
        r#"The function 'States.Format('{}', $.nope)' had the following error: The JsonPath argument for the field '$.nope' could not be found in the input '{"other":1}'"#
    );
    // Inside a nested call the outermost call is named.
    let f = run(
        "States.Array(States.ArrayLength($.a.b))",
        json!({"a": {"c": 1.5}}),
    )
    .unwrap_err();
    assert_eq!(f.error, "States.Runtime");
    assert_eq!(
        f.cause,
        r#"The function 'States.Array(States.ArrayLength($.a.b))' had the following error: The JsonPath argument for the field '$.a.b' could not be found in the input '{"a":{"c":1.5}}'"#
    );
    // A context path is shown against the context object; an unknown variable fails too.
    let context = json!({"Execution": {"Name": "x"}});
    let f = run_with("States.Array($$.Nope)", &json!({}), &context, &Map::new()).unwrap_err();
    assert!(
        f.cause
            .ends_with(r#"in the input '{"Execution":{"Name":"x"}}'"#),
        "{}",
        f.cause
    );
    let f = run_with("States.Array($nope)", &json!({}), &context, &Map::new()).unwrap_err();
    assert_eq!(f.error, "States.Runtime");
    // A path to an explicit null resolves to null.
    assert_eq!(ok("States.Array($.a)", json!({"a": null})), json!([null]));
}

#[test]
fn paths_resolve_through_input_context_and_variables() {
    let mut vars = Map::new();
    vars.insert("x".into(), json!({"y": [10, 20]}));
    let context = json!({"StateMachine": {"Name": "alpha-beta-gamma"}});
    let v = run_with(
        "States.Array($.a, $$.StateMachine.Name, $x.y[1], $x)",
        &json!({"a": 1}),
        &context,
        &vars,
    )
    .unwrap();
    assert_eq!(v, json!([1, "alpha-beta-gamma", 20, {"y": [10, 20]}]));
    // Nested calls, as in AWS's own examples (recorded: last part of the machine name).
    let v = run_with(
        "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))",
        &json!({}),
        &context,
        &Map::new(),
    )
    .unwrap();
    assert_eq!(v, json!("gamma"));
    // A path that may select several values gives them as an array.
    assert_eq!(
        ok(
            "States.ArrayLength($.a[*].b)",
            json!({"a": [{"b": 1}, {"c": 2}, {"b": 3}]})
        ),
        json!(2)
    );
}

#[test]
fn format() {
    let f = "States.Format('Formatting argument {}.', $.v)";
    // Recorded against AWS.
    for (value, text) in [
        (json!(""), "Formatting argument ."),
        (json!(" "), "Formatting argument  ."),
        (json!("HelloWorld"), "Formatting argument HelloWorld."),
        (json!(null), "Formatting argument null."),
        (json!(1), "Formatting argument 1."),
        (json!(1.1), "Formatting argument 1.1."),
        (
            json!("{\"Arg1\": 1, \"Arg2\": []}"),
            "Formatting argument {\"Arg1\": 1, \"Arg2\": []}.",
        ),
        (
            json!({"Arg1": 1, "Arg2": []}),
            "Formatting argument {Arg1=1, Arg2=[]}.",
        ),
        (
            json!({"Id": "arn:x", "Name": "n"}),
            "Formatting argument {Id=arn:x, Name=n}.",
        ),
    ] {
        assert_eq!(on_ok(f, value), json!(text));
    }
    // Java's rendering of other values.
    for (value, text) in [
        (json!(true), "Formatting argument true."),
        (json!(2.0), "Formatting argument 2.0."),
        (json!(1.5e20), "Formatting argument 1.5E20."),
        (
            json!([1, "a", null, [true], {"k": 0.5}]),
            "Formatting argument [1, a, null, [true], {k=0.5}].",
        ),
    ] {
        assert_eq!(on_ok(f, value), json!(text));
    }
    assert_eq!(
        ok(
            "States.Format('Hello {}, welcome to {}!', $.name, $.place)",
            json!({"name": "John", "place": "LocalStack"})
        ),
        json!("Hello John, welcome to LocalStack!")
    );
    // Escaped braces are text; literal arguments; a template from a path.
    assert_eq!(
        ok(r"States.Format('\{\} {} {} {}', 'x', 42, null)", json!({})),
        json!("{} x 42 null")
    );
    assert_eq!(
        ok("States.Format($.t, $.a)", json!({"t": "<{}>", "a": [1, 2]})),
        json!("<[1, 2]>")
    );
    assert_eq!(ok("States.Format('plain')", json!({})), json!("plain"));
    // Bad arguments.
    intrinsic_failure(
        ok_err("States.Format('{} and {}', 1)"),
        "States.Format('{} and {}', 1)",
        "The format string of States.Format has 2 placeholders but 1 argument followed it",
    );
    intrinsic_failure(
        ok_err("States.Format('{}', 1, 2)"),
        "States.Format('{}', 1, 2)",
        "The format string of States.Format has 1 placeholder but 2 arguments followed it",
    );
    intrinsic_failure(
        on("States.Format($.v, 1)", json!(5)),
        "States.Format($.v, 1)",
        "Argument 1 of States.Format must be a string, but was a number",
    );
}

fn ok_err(text: &str) -> Result<Value, Failure> {
    run(text, json!({}))
}

#[test]
fn string_to_json() {
    let f = "States.StringToJson($.v)";
    // Recorded against AWS.
    for (text, value) in [
        ("", json!(null)),
        (" ", json!(null)),
        ("null", json!(null)),
        ("-0", json!(0)),
        ("1", json!(1)),
        ("1.1", json!(1.1)),
        ("true", json!(true)),
        ("\"HelloWorld\"", json!("HelloWorld")),
        ("[1, 2, \"HelloWorld\"]", json!([1, 2, "HelloWorld"])),
        (
            "{\"Arg1\": 1, \"Arg2\": []}",
            json!({"Arg1": 1, "Arg2": []}),
        ),
    ] {
        assert_eq!(on_ok(f, json!(text)), value, "{text:?}");
    }
    assert_eq!(on_ok(f, json!("-0")).to_string(), "0");
    assert_eq!(
        on_ok(f, json!(r#"[-0, -0.0, "-0", {"k":-0}, -0e1]"#)).to_string(),
        r#"[0,-0.0,"-0",{"k":0},-0.0]"#
    );
    intrinsic_failure(
        on(f, json!("{nope")),
        f,
        "The argument of States.StringToJson is not a valid JSON string: {nope",
    );
    intrinsic_failure(
        on(f, json!({"a": 1})),
        f,
        "Argument 1 of States.StringToJson must be a string, but was an object",
    );
}

#[test]
fn json_to_string() {
    let f = "States.JsonToString($.v)";
    // Recorded against AWS.
    for (value, text) in [
        (json!(null), "null"),
        (json!(0), "0"),
        (json!(1), "1"),
        (json!(1.1), "1.1"),
        (json!(true), "true"),
        (json!("HelloWorld"), "\"HelloWorld\""),
        (json!([1, 2, "HelloWorld"]), "[1,2,\"HelloWorld\"]"),
        (json!({"Arg1": 1, "Arg2": []}), "{\"Arg1\":1,\"Arg2\":[]}"),
    ] {
        assert_eq!(on_ok(f, value), json!(text));
    }
    assert_eq!(
        on_ok(f, json!({"a\"b": [2.0, 1e-5]})),
        json!(r#"{"a\"b":[2.0,1.0E-5]}"#)
    );
}

#[test]
fn array_functions() {
    assert_eq!(ok("States.Array()", json!({})), json!([]));
    assert_eq!(
        ok(
            "States.Array('a', 1, 1.5, true, null, $.o)",
            json!({"o": {"k": []}})
        ),
        json!(["a", 1, 1.5, true, null, {"k": []}])
    );

    // ArrayPartition (recorded against AWS for every length 0..=4 and size 1..=5).
    let p = "States.ArrayPartition($.a, $.n)";
    for len in 0..=4 {
        for size in 1..=5usize {
            let items: Vec<Value> = (0..len).map(|i| json!(i)).collect();
            let expected: Vec<Value> = items
                .chunks(size)
                .map(|c| Value::Array(c.to_vec()))
                .collect();
            assert_eq!(
                ok(p, json!({"a": items, "n": size})),
                Value::Array(expected)
            );
        }
    }
    assert_eq!(
        ok(p, json!({"a": [1, 2, 3], "n": 1.6})),
        json!([[1, 2], [3]])
    );
    intrinsic_failure(
        run(p, json!({"a": [1], "n": 0})),
        p,
        "The chunk size argument of States.ArrayPartition must be a positive integer, but was 0",
    );
    intrinsic_failure(
        run(p, json!({"a": {"x": 1}, "n": 1})),
        p,
        "Argument 1 of States.ArrayPartition must be an array, but was an object",
    );
    intrinsic_failure(
        run(p, json!({"a": [1], "n": "2"})),
        p,
        "Argument 2 of States.ArrayPartition must be a number, but was a string",
    );

    // ArrayContains: deep equality (recorded against AWS).
    let c = "States.ArrayContains($.a, $.v)";
    for (array, value, found) in [
        (json!([]), json!(null), false),
        (json!([]), json!([]), false),
        (json!([[1, 2, 3], 2]), json!(null), false),
        (json!([[1, 2, 3], 2]), json!([1, 2, 3]), true),
        (json!([{"1": 2, "2": []}]), json!([]), false),
        (json!([{"1": 2, "2": []}]), json!({"1": 2, "2": []}), true),
        (json!([true, false]), json!(false), true),
        (json!([1, 2]), json!(2), true),
        (json!(["2"]), json!(2), false),
    ] {
        assert_eq!(ok(c, json!({"a": array, "v": value})), json!(found));
    }
    intrinsic_failure(
        run(c, json!({"a": "abc", "v": "a"})),
        c,
        "Argument 1 of States.ArrayContains must be an array, but was a string",
    );

    // ArrayRange: inclusive end (recorded against AWS).
    let r = "States.ArrayRange($.a, $.b, $.c)";
    for (args, expected) in [
        ([0, 9, 3], json!([0, 3, 6, 9])),
        ([0, 10, 3], json!([0, 3, 6, 9])),
        ([1, 9, 9], json!([1])),
        ([1, 9, 2], json!([1, 3, 5, 7, 9])),
        ([5, 1, -2], json!([5, 3, 1])),
        ([5, 1, 1], json!([])),
        ([3, 3, -1], json!([3])),
    ] {
        assert_eq!(
            ok(r, json!({"a": args[0], "b": args[1], "c": args[2]})),
            expected
        );
    }
    assert_eq!(
        ok("States.ArrayRange(0.5, 2.4, 1)", json!({})),
        json!([1, 2])
    );
    assert_eq!(
        ok(
            "States.ArrayLength(States.ArrayRange(1, 1000, 1))",
            json!({})
        ),
        json!(1000)
    );
    intrinsic_failure(
        ok_err("States.ArrayRange(1, 1001, 1)"),
        "States.ArrayRange(1, 1001, 1)",
        "States.ArrayRange would create 1001 items, more than the maximum of 1000",
    );
    intrinsic_failure(
        ok_err("States.ArrayRange(1, 5, 0)"),
        "States.ArrayRange(1, 5, 0)",
        "The step argument of States.ArrayRange must not be 0",
    );

    // ArrayGetItem (recorded: index 5 of 1..=9 is 6).
    let g = "States.ArrayGetItem($.a, $.i)";
    assert_eq!(
        ok(g, json!({"a": [1, 2, 3, 4, 5, 6, 7, 8, 9], "i": 5})),
        json!(6)
    );
    assert_eq!(ok(g, json!({"a": [{"x": 1}], "i": 0.0})), json!({"x": 1}));
    intrinsic_failure(
        run(g, json!({"a": [1, 2], "i": 2})),
        g,
        "The index 2 is out of bounds for an array of length 2",
    );
    intrinsic_failure(
        run(g, json!({"a": [1, 2], "i": -1})),
        g,
        "The index -1 is out of bounds for an array of length 2",
    );
    intrinsic_failure(
        run(g, json!({"a": [1, 2], "i": 0.5})),
        g,
        "Argument 2 of States.ArrayGetItem must be an integer, but was 0.5",
    );

    // ArrayLength (recorded) and ArrayUnique (recorded: [1,2,2,3,3,4] -> [1,2,3,4]).
    assert_eq!(
        on_ok(
            "States.ArrayLength($.v)",
            json!([1, 2, 3, 4, 5, 6, 7, 8, 9])
        ),
        json!(9)
    );
    intrinsic_failure(
        on("States.ArrayLength($.v)", json!(null)),
        "States.ArrayLength($.v)",
        "Argument 1 of States.ArrayLength must be an array, but was null",
    );
    assert_eq!(
        on_ok("States.ArrayUnique($.v)", json!([1, 2, 2, 3, 3, 4])),
        json!([1, 2, 3, 4])
    );
    assert_eq!(
        on_ok(
            "States.ArrayUnique($.v)",
            json!([null, null, true, 1, 1, 1.0, "1", [], [], {"a": 1}, {"a": 1}, {"a": 2}])
        ),
        json!([null, true, 1, 1.0, "1", [], {"a": 1}, {"a": 2}])
    );
}

#[test]
fn base64() {
    // Recorded against AWS.
    assert_eq!(on_ok("States.Base64Encode($.v)", json!("")), json!(""));
    assert_eq!(
        on_ok("States.Base64Encode($.v)", json!("Data to encode")),
        json!("RGF0YSB0byBlbmNvZGU=")
    );
    assert_eq!(on_ok("States.Base64Decode($.v)", json!("")), json!(""));
    assert_eq!(
        on_ok("States.Base64Decode($.v)", json!("RGF0YSB0byBlbmNvZGU=")),
        json!("Data to encode")
    );
    assert_eq!(
        on_ok("States.Base64Encode($.v)", json!("日本")),
        json!("5pel5pys")
    );
    assert_eq!(
        on_ok("States.Base64Decode($.v)", json!("5pel5pys")),
        json!("日本")
    );
    // Padding is optional when decoding.
    assert_eq!(on_ok("States.Base64Decode($.v)", json!("SGk")), json!("Hi"));
    intrinsic_failure(
        on("States.Base64Decode($.v)", json!("not base64!")),
        "States.Base64Decode($.v)",
        "The argument of States.Base64Decode is not a valid Base64 string",
    );
    // The 10,000 character limit.
    assert!(on("States.Base64Encode($.v)", json!("a".repeat(10_000))).is_ok());
    intrinsic_failure(
        on("States.Base64Encode($.v)", json!("a".repeat(10_001))),
        "States.Base64Encode($.v)",
        "Argument 1 of States.Base64Encode must be a string of at most 10000 characters, but had 10001",
    );
    intrinsic_failure(
        on("States.Base64Decode($.v)", json!(12)),
        "States.Base64Decode($.v)",
        "Argument 1 of States.Base64Decode must be a string, but was a number",
    );
}

#[test]
fn hash() {
    // Recorded against AWS (SHA-256 of "Hash this string").
    assert_eq!(
        ok(
            "States.Hash($.s, 'SHA-256')",
            json!({"s": "Hash this string"})
        ),
        json!("1cac63f39fd68d8c531f27b807610fb3d50f0fc3f186995767fb6316e7200a3e")
    );
    for (algorithm, digest) in [
        ("MD5", "900150983cd24fb0d6963f7d28e17f72"),
        ("SHA-1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (
            "SHA-384",
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            "SHA-512",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
    ] {
        assert_eq!(
            ok(&format!("States.Hash('abc', '{algorithm}')"), json!({})),
            json!(digest)
        );
    }
    intrinsic_failure(
        ok_err("States.Hash('abc', 'SHA-3')"),
        "States.Hash('abc', 'SHA-3')",
        "The hashing algorithm 'SHA-3' is not supported; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512",
    );
    intrinsic_failure(
        ok_err("States.Hash('abc', 'sha-256')"),
        "States.Hash('abc', 'sha-256')",
        "The hashing algorithm 'sha-256' is not supported; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512",
    );
    intrinsic_failure(
        on("States.Hash($.v, 'MD5')", json!("x".repeat(10_001))),
        "States.Hash($.v, 'MD5')",
        "Argument 1 of States.Hash must be a string of at most 10000 characters, but had 10001",
    );
    intrinsic_failure(
        ok_err("States.Hash(1, 'MD5')"),
        "States.Hash(1, 'MD5')",
        "Argument 1 of States.Hash must be a string, but was a number",
    );
}

#[test]
fn json_merge() {
    let m = "States.JsonMerge($.a, $.b, false)";
    // Recorded against AWS: shallow, the second object wins.
    assert_eq!(
        ok(
            m,
            json!({"a": {"a": {"a1": 1, "a2": 2}, "b": 2, "d": 3}, "b": {"a": {"a3": 1, "a4": 2}, "c": 3, "d": 4}})
        ),
        json!({"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3, "d": 4})
    );
    intrinsic_failure(
        run(
            "States.JsonMerge($.a, $.b, true)",
            json!({"a": {}, "b": {}}),
        ),
        "States.JsonMerge($.a, $.b, true)",
        "Deep merging is not supported: the third argument of States.JsonMerge must be false",
    );
    intrinsic_failure(
        run(m, json!({"a": {}, "b": [1]})),
        m,
        "Argument 2 of States.JsonMerge must be an object, but was an array",
    );
    intrinsic_failure(
        run(
            "States.JsonMerge($.a, $.b, 'false')",
            json!({"a": {}, "b": {}}),
        ),
        "States.JsonMerge($.a, $.b, 'false')",
        "Argument 3 of States.JsonMerge must be a boolean, but was a string",
    );
}

#[test]
fn math_add() {
    let f = "States.MathAdd($.a, $.b)";
    // Recorded against AWS: arguments are rounded half up first.
    for (a, b, sum) in [
        (json!(-9), json!(3), -6),
        (json!(1.49), json!(1.5), 3),
        (json!(1.5), json!(1.51), 4),
        (json!(-1.49), json!(-1.5), -2),
        (json!(-1.5), json!(-1.51), -3),
        (json!(1.49), json!(-1.49), 0),
        (json!(-0.5), json!(0.5), 1),
        (json!(-0.5), json!(0), 0),
        (json!(-2.5), json!(0), -2),
        (json!(2.5), json!(0), 3),
        (json!(5), json!(3), 8),
    ] {
        let v = ok(f, json!({"a": a, "b": b}));
        assert_eq!(v, json!(sum));
        assert!(v.is_i64(), "{v} should be an integer");
    }
    assert_eq!(
        ok("States.MathAdd(2147483647, 2147483647)", json!({})),
        json!(4294967294i64)
    );
    intrinsic_failure(
        ok_err("States.MathAdd(2147483648, 1)"),
        "States.MathAdd(2147483648, 1)",
        "Argument 1 of States.MathAdd must be an integer between -2147483648 and 2147483647, but was 2147483648",
    );
    intrinsic_failure(
        ok_err("States.MathAdd('1', 1)"),
        "States.MathAdd('1', 1)",
        "Argument 1 of States.MathAdd must be a number, but was a string",
    );
}

#[test]
fn math_random() {
    let scope_input = json!({});
    let context = json!({});
    let vars = Map::new();
    let scope = Scope {
        input: &scope_input,
        context: &context,
        variables: &vars,
    };
    let unseeded = call("States.MathRandom(-5, 5)");
    let mut entropy = SeededEntropy::new(1);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..500 {
        let v = intrinsics::evaluate(&unseeded, &scope, &mut entropy).unwrap();
        let n = v.as_i64().expect("an integer");
        assert!((-5..5).contains(&n), "{n}");
        seen.insert(n);
    }
    assert_eq!(seen.len(), 10, "every value in [start, end) turns up");
    // Replays with the same entropy.
    let a = intrinsics::evaluate(&unseeded, &scope, &mut SeededEntropy::new(9)).unwrap();
    let b = intrinsics::evaluate(&unseeded, &scope, &mut SeededEntropy::new(9)).unwrap();
    assert_eq!(a, b);
    // Fractional bounds are rounded (the recorded AWS case used 12.5 and 44.51).
    for _ in 0..50 {
        let n = ok("States.MathRandom(12.5, 44.51)", json!({}))
            .as_i64()
            .unwrap();
        assert!((13..45).contains(&n), "{n}");
    }
    // With a seed the result does not depend on the entropy.
    let seeded = call("States.MathRandom(0, 999, 3)");
    let first = intrinsics::evaluate(&seeded, &scope, &mut SeededEntropy::new(1)).unwrap();
    for seed in 2..20 {
        let again = intrinsics::evaluate(&seeded, &scope, &mut SeededEntropy::new(seed)).unwrap();
        assert_eq!(again, first);
    }
    let n = first.as_i64().unwrap();
    assert!((0..999).contains(&n));
    intrinsic_failure(
        ok_err("States.MathRandom(5, 5)"),
        "States.MathRandom(5, 5)",
        "The end number argument of States.MathRandom must be greater than the start number (5), but was 5",
    );
    intrinsic_failure(
        ok_err("States.MathRandom(1, 'x')"),
        "States.MathRandom(1, 'x')",
        "Argument 2 of States.MathRandom must be a number, but was a string",
    );
}

#[test]
fn string_split() {
    // Recorded against AWS: empty pieces are dropped.
    let input =
        "Value1,Value2,Value3\nValue4,Value5,Value6\n,,,\ntrue,1,'HelloWorld'\nNull,None,\n   \n";
    assert_eq!(
        ok("States.StringSplit($.s, ',')", json!({ "s": input })),
        json!([
            "Value1",
            "Value2",
            "Value3\nValue4",
            "Value5",
            "Value6\n",
            "\ntrue",
            "1",
            "'HelloWorld'\nNull",
            "None",
            "\n   \n"
        ])
    );
    assert_eq!(
        ok("States.StringSplit($.s, ',')", json!({"s": "a,b,c,d,e"})),
        json!(["a", "b", "c", "d", "e"])
    );
    // Every character of the second argument is a delimiter (AWS's documented example).
    assert_eq!(
        ok(
            "States.StringSplit('This.is+a,test=string', '.+,=')",
            json!({})
        ),
        json!(["This", "is", "a", "test", "string"])
    );
    assert_eq!(ok("States.StringSplit('', ',')", json!({})), json!([]));
    assert_eq!(
        ok("States.StringSplit('abc', '')", json!({})),
        json!(["abc"])
    );
    intrinsic_failure(
        ok_err("States.StringSplit(1, ',')"),
        "States.StringSplit(1, ',')",
        "Argument 1 of States.StringSplit must be a string, but was a number",
    );
}

#[test]
fn uuid() {
    let v = ok("States.UUID()", json!({}));
    let s = v.as_str().expect("a string");
    assert_eq!(s.len(), 36);
    assert_eq!(&s[14..15], "4");
    assert!(
        s.chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    // Drawn from the entropy: same seed, same UUID; two calls differ.
    assert_eq!(ok("States.UUID()", json!({})), v);
    let pair = ok("States.Array(States.UUID(), States.UUID())", json!({}));
    assert_ne!(pair[0], pair[1]);
}
