//! Generates the service's typed surface from the Step Functions service model
//! (`model/stepfunctions.json`): a Rust type for every shape the 37 operations take or give
//! (structures as structs, string enums as enums, with AWS's member names on the wire), the
//! [`Action`] enum, one typed method per action on `Service` (each calls its plane's typed
//! handler), and `Service::call`, the JSON edge: decode the action's input, call the typed
//! method, encode its output.
//!
//! Written to `$OUT_DIR/model_types.rs` and `$OUT_DIR/model_actions.rs`, included by
//! `src/types.rs` and `src/lib.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::Value;

const MODEL: &str = "model/stepfunctions.json";

/// The actions the control plane answers (`Control`'s methods of the same names, run on a
/// blocking thread: they read and write the store); every other one is the execution plane's.
const CONTROL_ACTIONS: &[&str] = &[
    "CreateActivity",
    "CreateStateMachine",
    "CreateStateMachineAlias",
    "DeleteActivity",
    "DeleteStateMachine",
    "DeleteStateMachineAlias",
    "DeleteStateMachineVersion",
    "DescribeActivity",
    "DescribeStateMachine",
    "DescribeStateMachineAlias",
    "DescribeStateMachineForExecution",
    "ListActivities",
    "ListStateMachineAliases",
    "ListStateMachineVersions",
    "ListStateMachines",
    "ListTagsForResource",
    "PublishStateMachineVersion",
    "TagResource",
    "UntagResource",
    "UpdateStateMachine",
    "UpdateStateMachineAlias",
    "ValidateStateMachineDefinition",
];

/// Timestamps written as the engine records them (always with a fraction); every other
/// timestamp is written as AWS writes it, whole seconds without one.
const FLOAT_TIMESTAMPS: &[(&str, &str)] = &[("HistoryEvent", "timestamp")];

fn main() {
    println!("cargo::rerun-if-changed={MODEL}");
    println!("cargo::rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(MODEL).expect("the service model is readable");
    let model: Value = serde_json::from_str(&text).expect("the service model is JSON");
    let shapes = model["shapes"].as_object().expect("model shapes");
    let operations = model["operations"].as_object().expect("model operations");

    // Every shape the operations reach, in name order.
    let mut reached = BTreeSet::new();
    let mut ops: Vec<(&str, String, String)> = Vec::new();
    for (name, op) in operations {
        let input = op["input"]["shape"]
            .as_str()
            .expect("input shape")
            .to_owned();
        let output = op["output"]["shape"]
            .as_str()
            .expect("output shape")
            .to_owned();
        walk(shapes, &input, &mut reached);
        walk(shapes, &output, &mut reached);
        ops.push((name.as_str(), input, output));
    }

    let mut types = String::new();
    for name in &reached {
        let shape = &shapes[name.as_str()];
        match shape["type"].as_str() {
            Some("structure") => structure(&mut types, shapes, name, shape),
            Some("string") if shape.get("enum").is_some() => enumeration(&mut types, name, shape),
            _ => {}
        }
    }

    let mut actions = String::new();
    action_enum(&mut actions, &ops);
    typed_methods(&mut actions, &ops);

    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("model_types.rs"), types).expect("write model_types.rs");
    std::fs::write(out.join("model_actions.rs"), actions).expect("write model_actions.rs");
}

fn walk(shapes: &serde_json::Map<String, Value>, name: &str, reached: &mut BTreeSet<String>) {
    if !reached.insert(name.to_owned()) {
        return;
    }
    let shape = &shapes[name];
    if let Some(members) = shape["members"].as_object() {
        for m in members.values() {
            walk(shapes, m["shape"].as_str().expect("member shape"), reached);
        }
    }
    for key in ["member", "key", "value"] {
        if let Some(target) = shape[key]["shape"].as_str() {
            walk(shapes, target, reached);
        }
    }
}

/// The Rust type of a reference to shape `name`.
fn rust_type(shapes: &serde_json::Map<String, Value>, name: &str) -> String {
    let shape = &shapes[name];
    match shape["type"].as_str().unwrap_or_default() {
        "structure" => name.to_owned(),
        "string" if shape.get("enum").is_some() => name.to_owned(),
        "string" | "blob" => "String".to_owned(),
        "integer" | "long" => "i64".to_owned(),
        "float" | "double" => "f64".to_owned(),
        "boolean" => "bool".to_owned(),
        "timestamp" => "Timestamp".to_owned(),
        "list" => format!(
            "Vec<{}>",
            rust_type(
                shapes,
                shape["member"]["shape"].as_str().unwrap_or_default()
            )
        ),
        "map" => format!(
            "BTreeMap<String, {}>",
            rust_type(shapes, shape["value"]["shape"].as_str().unwrap_or_default())
        ),
        other => panic!("shape {name}: type {other} is not handled"),
    }
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower = i > 0 && !chars[i - 1].is_uppercase();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_uppercase())) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    match out.as_str() {
        "type" => "r#type".to_owned(),
        _ => out,
    }
}

fn pascal(value: &str) -> String {
    let mut out = String::new();
    for part in value.split(['_', '-', '.', ':']) {
        let mut cs = part.chars();
        if let Some(first) = cs.next() {
            out.extend(first.to_uppercase());
            let rest: String = cs.collect();
            if part.chars().all(|c| !c.is_lowercase()) {
                out.push_str(&rest.to_lowercase());
            } else {
                out.push_str(&rest);
            }
        }
    }
    out
}

fn structure(out: &mut String, shapes: &serde_json::Map<String, Value>, name: &str, shape: &Value) {
    let required: BTreeSet<&str> = shape["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let members = shape["members"].as_object().cloned().unwrap_or_default();
    let _ = writeln!(out, "/// The model's `{name}` shape.");
    // With nothing required, every member starts unset: that is its Default.
    let default = if required.is_empty() { "Default, " } else { "" };
    let _ = writeln!(
        out,
        "#[derive(Debug, Clone, {default}PartialEq, serde::Serialize, serde::Deserialize)]"
    );
    let _ = writeln!(out, "pub struct {name} {{");
    for (member, m) in &members {
        let target = m["shape"].as_str().unwrap_or_default();
        let ty = rust_type(shapes, target);
        let field = snake(member);
        let _ = writeln!(out, "    /// `{member}` (`{target}`).");
        let required = required.contains(member.as_str());
        let opt = if required { "" } else { "opt_" };
        let mut attrs = vec![format!("rename = \"{member}\"")];
        if !required {
            attrs.push("default, skip_serializing_if = \"Option::is_none\"".to_owned());
        }
        match shapes[target]["type"].as_str() {
            // Whole seconds without a fraction, as AWS writes them.
            Some("timestamp") if !FLOAT_TIMESTAMPS.contains(&(name, member.as_str())) => {
                attrs.push(format!("serialize_with = \"{opt}seconds\""));
            }
            // The wire's model check takes `5.0` for an integer; so does reading it.
            Some("integer" | "long") => {
                attrs.push(format!("deserialize_with = \"{opt}integral\""));
            }
            _ => {}
        }
        let _ = writeln!(out, "    #[serde({})]", attrs.join(", "));
        if required {
            let _ = writeln!(out, "    pub {field}: {ty},");
        } else {
            let _ = writeln!(out, "    pub {field}: Option<{ty}>,");
        }
    }
    let _ = writeln!(out, "}}\n");

    // A constructor from the required members, and a setter for each optional one.
    let _ = writeln!(out, "impl {name} {{");
    let required_members: Vec<(&String, &Value)> = members
        .iter()
        .filter(|(m, _)| required.contains(m.as_str()))
        .collect();
    let params: Vec<String> = required_members
        .iter()
        .map(|(m, v)| {
            let ty = rust_type(shapes, v["shape"].as_str().unwrap_or_default());
            format!("{}: impl Into<{ty}>", snake(m))
        })
        .collect();
    let _ = writeln!(out, "    /// With the required members; the others unset.");
    let _ = writeln!(out, "    #[allow(clippy::too_many_arguments)]");
    let _ = writeln!(out, "    pub fn new({}) -> Self {{", params.join(", "));
    let _ = writeln!(out, "        {name} {{");
    for (member, _) in &members {
        let field = snake(member);
        if required.contains(member.as_str()) {
            let _ = writeln!(out, "            {field}: {field}.into(),");
        } else {
            let _ = writeln!(out, "            {field}: None,");
        }
    }
    let _ = writeln!(out, "        }}\n    }}");
    for (member, m) in &members {
        if required.contains(member.as_str()) {
            continue;
        }
        let ty = rust_type(shapes, m["shape"].as_str().unwrap_or_default());
        let field = snake(member);
        let _ = writeln!(out, "\n    /// Sets `{member}`.");
        let _ = writeln!(
            out,
            "    pub fn {field}(mut self, value: impl Into<{ty}>) -> Self {{\n        self.{field} = Some(value.into());\n        self\n    }}"
        );
    }
    let _ = writeln!(out, "}}\n");
}

fn enumeration(out: &mut String, name: &str, shape: &Value) {
    let values: Vec<&str> = shape["enum"]
        .as_array()
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let _ = writeln!(out, "/// The model's `{name}` values.");
    let _ = writeln!(
        out,
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]"
    );
    let _ = writeln!(out, "pub enum {name} {{");
    for v in &values {
        let _ = writeln!(out, "    #[serde(rename = \"{v}\")]");
        let _ = writeln!(out, "    {},", pascal(v));
    }
    let _ = writeln!(out, "}}\n");
    let _ = writeln!(out, "impl {name} {{");
    let _ = writeln!(out, "    /// Every value, in the model's order.");
    let _ = writeln!(out, "    pub const ALL: &[{name}] = &[");
    for v in &values {
        let _ = writeln!(out, "        {name}::{},", pascal(v));
    }
    let _ = writeln!(out, "    ];\n");
    let _ = writeln!(out, "    /// The value as AWS writes it.");
    let _ = writeln!(out, "    pub fn as_str(self) -> &'static str {{");
    let _ = writeln!(out, "        match self {{");
    for v in &values {
        let _ = writeln!(out, "            {name}::{} => \"{v}\",", pascal(v));
    }
    let _ = writeln!(out, "        }}\n    }}\n");
    let _ = writeln!(out, "    /// The value AWS writes as `text`.");
    let _ = writeln!(out, "    pub fn parse(text: &str) -> Option<{name}> {{");
    let _ = writeln!(
        out,
        "        {name}::ALL.iter().copied().find(|v| v.as_str() == text)"
    );
    let _ = writeln!(out, "    }}\n}}\n");
    let _ = writeln!(out, "impl std::fmt::Display for {name} {{");
    let _ = writeln!(
        out,
        "    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n        f.write_str(self.as_str())\n    }}\n}}\n"
    );
}

fn action_enum(out: &mut String, ops: &[(&str, String, String)]) {
    let _ = writeln!(
        out,
        "/// The 37 actions of the Step Functions API (the model's operations)."
    );
    let _ = writeln!(out, "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]");
    let _ = writeln!(out, "pub enum Action {{");
    for (name, _, _) in ops {
        let _ = writeln!(out, "    {name},");
    }
    let _ = writeln!(out, "}}\n");
    let _ = writeln!(out, "impl Action {{");
    let _ = writeln!(out, "    /// Every action, in name order.");
    let _ = writeln!(out, "    pub const ALL: &[Action] = &[");
    for (name, _, _) in ops {
        let _ = writeln!(out, "        Action::{name},");
    }
    let _ = writeln!(out, "    ];\n");
    let _ = writeln!(
        out,
        "    /// The action's name, as `X-Amz-Target: AWSStepFunctions.<name>` carries it."
    );
    let _ = writeln!(
        out,
        "    pub fn name(self) -> &'static str {{\n        match self {{"
    );
    for (name, _, _) in ops {
        let _ = writeln!(out, "            Action::{name} => \"{name}\",");
    }
    let _ = writeln!(out, "        }}\n    }}\n");
    let _ = writeln!(out, "    /// The action named `name`.");
    let _ = writeln!(
        out,
        "    pub fn from_name(name: &str) -> Option<Action> {{\n        Action::ALL.iter().copied().find(|a| a.name() == name)\n    }}\n}}\n"
    );
}

fn typed_methods(out: &mut String, ops: &[(&str, String, String)]) {
    let by_name: BTreeMap<&str, (&String, &String)> =
        ops.iter().map(|(n, i, o)| (*n, (i, o))).collect();
    let execution: Vec<(&str, &String, &String)> = by_name
        .iter()
        .filter(|(name, _)| !CONTROL_ACTIONS.contains(name))
        .map(|(name, (i, o))| (*name, *i, *o))
        .collect();

    // The execution plane's actions as a trait, each refused unless a plane answers it.
    let _ = writeln!(
        out,
        "/// The execution plane's actions, one typed method each; every one not implemented is\n\
         /// refused (an execution plane that has nothing is [`NoExecutions`])."
    );
    execution_block(
        out,
        "pub trait ExecutionActions: Send + Sync + std::fmt::Debug + 'static",
        &execution,
        |name, _| format!("let _ = input;\n        no_execution_plane(Action::{name})"),
    );
    // The runtime's execution plane answers them all with its methods of the same names.
    execution_block(
        out,
        "impl ExecutionActions for ExecutionPlane",
        &execution,
        |_, method| format!("Box::pin(ExecutionPlane::{method}(self, input))"),
    );

    let _ = writeln!(out, "impl Service {{");
    for (name, (input, output)) in &by_name {
        let method = snake(name);
        let _ = writeln!(
            out,
            "    /// {name}: [`types::{input}`] in, [`types::{output}`] out."
        );
        let body = if *name == "ValidateStateMachineDefinition" {
            // Validation is CPU work with no IO: on a blocking thread.
            format!("self.on_control(Action::{name}, move |c| c.{method}(input)).await")
        } else if CONTROL_ACTIONS.contains(name) {
            format!("self.control.{method}(input).await")
        } else {
            format!("self.executions.{method}(input).await")
        };
        let _ = writeln!(
            out,
            "    pub async fn {method}(&self, input: types::{input}) -> Result<types::{output}, ServiceError> {{\n        {body}\n    }}\n"
        );
    }
    let _ = writeln!(
        out,
        "    /// Answers `action` with its request as JSON (as the wire carries it, already checked\n    \
         /// against the model there): the request is read into the action's input type, the\n    \
         /// typed method answers, and its output is written back as JSON."
    );
    let _ = writeln!(
        out,
        "    pub async fn call(&self, action: Action, input: serde_json::Value) -> Result<serde_json::Value, ServiceError> {{\n        match action {{"
    );
    for name in by_name.keys() {
        let method = snake(name);
        let _ = writeln!(
            out,
            "            Action::{name} => encode(self.{method}(decode(input)?).await?),"
        );
    }
    let _ = writeln!(out, "        }}\n    }}\n}}");
}

/// A trait or impl block (`header`) with one method per execution action; `body(name, method)`
/// is the method's body.
fn execution_block(
    out: &mut String,
    header: &str,
    execution: &[(&str, &String, &String)],
    body: impl Fn(&str, &str) -> String,
) {
    let _ = writeln!(out, "{header} {{");
    for (name, input, output) in execution {
        let method = snake(name);
        let _ = writeln!(
            out,
            "    /// {name}.\n    fn {method}(&self, input: types::{input}) -> BoxFuture<'_, Result<types::{output}, ServiceError>> {{\n        {}\n    }}\n",
            body(name, &method)
        );
    }
    let _ = writeln!(out, "}}\n");
}
