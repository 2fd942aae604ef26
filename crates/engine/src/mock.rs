//! Step Functions Local's mock configuration (`MockConfigFile.json`, the file `SFN_MOCK_CONFIG`
//! names) and a [`TaskHandler`] that answers Task states from one of its test cases.
//!
//! ```json
//! {"StateMachines": {"MyMachine": {"TestCases": {"HappyPath": {"TaskState": "MockedName"}}}},
//!  "MockedResponses": {"MockedName": {"0": {"Return": {"ok": true}},
//!                                     "1-2": {"Throw": {"Error": "E", "Cause": "c"}}}}}
//! ```
//!
//! A test case maps Task state names (at any depth: inside Parallel branches and Map iterations
//! too) to mocked responses. A mocked response maps invocation numbers (`"0"`, from 0) or
//! inclusive ranges (`"1-2"`) to exactly one of `Return` (the task's result, any JSON value) or
//! `Throw` (`Error` and optional `Cause`, strings). Each Task state counts its own invocations,
//! retries included, across Map iterations and branches. An invocation with no entry fails the
//! task with `States.Runtime`, as Step Functions Local fails the execution.
//!
//! [`MockConfig::parse`] checks the whole file and reports every problem with where it is, e.g.
//! `MockedResponses.X."1-2": expected exactly one of Return or Throw`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::execution::TaskRequest;
use crate::local::{NoTasks, TaskHandler, TaskOutcome};

/// A checked mock configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MockConfig {
    /// State machine name → test case name → Task state name → mocked response name.
    pub state_machines: IndexMap<String, IndexMap<String, IndexMap<String, String>>>,
    /// Mocked response name → its entries.
    pub mocked_responses: IndexMap<String, Arc<MockedResponse>>,
}

/// What each invocation of a mocked Task state answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MockedResponse {
    /// Sorted by `first`; ranges do not overlap.
    pub entries: Vec<MockEntry>,
}

/// The answer for the invocations `first..=last`.
#[derive(Debug, Clone, PartialEq)]
pub struct MockEntry {
    pub first: u64,
    pub last: u64,
    pub answer: MockAnswer,
}

/// `Return` or `Throw`.
#[derive(Debug, Clone, PartialEq)]
pub enum MockAnswer {
    Return(Value),
    Throw {
        error: String,
        cause: Option<String>,
    },
}

impl MockedResponse {
    /// The answer for the invocation numbered `invocation` (0 for the first).
    pub fn answer(&self, invocation: u64) -> Option<&MockAnswer> {
        self.entries
            .iter()
            .find(|e| e.first <= invocation && invocation <= e.last)
            .map(|e| &e.answer)
    }
}

/// A problem in a mock configuration file and where it is (`MockedResponses.X."1-2"`; empty for
/// the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockConfigError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for MockConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for MockConfigError {}

/// Why a test case could not be chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectError {
    UnknownStateMachine {
        name: String,
        known: Vec<String>,
    },
    UnknownTestCase {
        state_machine: String,
        name: String,
        known: Vec<String>,
    },
    /// No test case was named and the state machine has more than one (or none).
    TestCaseRequired {
        state_machine: String,
        known: Vec<String>,
    },
}

fn quoted_list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names
        .iter()
        .map(|n| Value::from(n.as_str()).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectError::UnknownStateMachine { name, known } => write!(
                f,
                "the mock configuration has no state machine named {} in StateMachines (it has: {})",
                Value::from(name.as_str()),
                quoted_list(known)
            ),
            SelectError::UnknownTestCase {
                state_machine,
                name,
                known,
            } => write!(
                f,
                "the state machine {} has no test case named {} in the mock configuration (it has: {})",
                Value::from(state_machine.as_str()),
                Value::from(name.as_str()),
                quoted_list(known)
            ),
            SelectError::TestCaseRequired {
                state_machine,
                known,
            } => write!(
                f,
                "the state machine {} has {} test cases in the mock configuration ({}); name the one to use",
                Value::from(state_machine.as_str()),
                known.len(),
                quoted_list(known)
            ),
        }
    }
}

impl std::error::Error for SelectError {}

/// One test case, resolved: the mocked response of each mocked Task state.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    pub state_machine: String,
    pub name: String,
    /// Task state name → (mocked response name, the response).
    pub mocks: IndexMap<String, (String, Arc<MockedResponse>)>,
}

impl MockConfig {
    /// Parses and checks a mock configuration file; every problem found is returned.
    pub fn parse(text: &str) -> Result<MockConfig, Vec<MockConfigError>> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            vec![MockConfigError {
                path: String::new(),
                message: format!("not valid JSON: {e}"),
            }]
        })?;
        MockConfig::from_value(&value)
    }

    /// Checks a mock configuration already read as JSON.
    pub fn from_value(value: &Value) -> Result<MockConfig, Vec<MockConfigError>> {
        let mut checker = Checker::default();
        let config = checker.config(value);
        if checker.errors.is_empty() {
            Ok(config)
        } else {
            Err(checker.errors)
        }
    }

    /// The test case `test_case` of `state_machine`; without a name, the state machine's only
    /// test case.
    pub fn test_case(
        &self,
        state_machine: &str,
        test_case: Option<&str>,
    ) -> Result<TestCase, SelectError> {
        let Some(cases) = self.state_machines.get(state_machine) else {
            return Err(SelectError::UnknownStateMachine {
                name: state_machine.to_owned(),
                known: self.state_machines.keys().cloned().collect(),
            });
        };
        let known = || cases.keys().cloned().collect::<Vec<_>>();
        let (name, states) = match test_case {
            Some(name) => match cases.get_key_value(name) {
                Some(found) => found,
                None => {
                    return Err(SelectError::UnknownTestCase {
                        state_machine: state_machine.to_owned(),
                        name: name.to_owned(),
                        known: known(),
                    });
                }
            },
            None if cases.len() == 1 => match cases.first() {
                Some(only) => only,
                None => unreachable!("one test case"),
            },
            None => {
                return Err(SelectError::TestCaseRequired {
                    state_machine: state_machine.to_owned(),
                    known: known(),
                });
            }
        };
        // References were checked when the file was parsed; a config built by hand may still
        // name a response that is missing, which then answers no invocation.
        let mocks = states
            .iter()
            .map(|(state, response)| {
                let entries = self
                    .mocked_responses
                    .get(response)
                    .cloned()
                    .unwrap_or_default();
                (state.clone(), (response.clone(), entries))
            })
            .collect();
        Ok(TestCase {
            state_machine: state_machine.to_owned(),
            name: name.clone(),
            mocks,
        })
    }
}

/// Walks a mock configuration, collecting every problem.
#[derive(Debug, Default)]
struct Checker {
    errors: Vec<MockConfigError>,
}

/// `parent.key`, with keys that are not plain identifiers in JSON quotes.
fn join(parent: &str, key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let key = if plain {
        key.to_owned()
    } else {
        Value::from(key).to_string()
    };
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Checker {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(MockConfigError {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    fn object<'v>(&mut self, value: &'v Value, path: &str) -> Option<&'v Map<String, Value>> {
        let obj = value.as_object();
        if obj.is_none() {
            self.error(
                path,
                format!("expected an object, found {}", type_name(value)),
            );
        }
        obj
    }

    fn unknown_fields(&mut self, obj: &Map<String, Value>, path: &str, expected: &[&str]) {
        for key in obj.keys() {
            if !expected.contains(&key.as_str()) {
                self.error(
                    &join(path, key),
                    format!("unknown field (expected {})", expected.join(" or ")),
                );
            }
        }
    }

    fn config(&mut self, value: &Value) -> MockConfig {
        let mut config = MockConfig::default();
        let Some(top) = self.object(value, "") else {
            return config;
        };
        self.unknown_fields(top, "", &["StateMachines", "MockedResponses"]);
        if let Some(responses) = top.get("MockedResponses") {
            if let Some(responses) = self.object(responses, "MockedResponses") {
                for (name, response) in responses {
                    let path = join("MockedResponses", name);
                    let response = self.mocked_response(response, &path);
                    config
                        .mocked_responses
                        .insert(name.clone(), Arc::new(response));
                }
            }
        }
        if let Some(machines) = top.get("StateMachines") {
            if let Some(machines) = self.object(machines, "StateMachines") {
                for (name, machine) in machines {
                    let path = join("StateMachines", name);
                    let cases = self.state_machine(machine, &path, &config.mocked_responses);
                    config.state_machines.insert(name.clone(), cases);
                }
            }
        }
        config
    }

    fn state_machine(
        &mut self,
        value: &Value,
        path: &str,
        responses: &IndexMap<String, Arc<MockedResponse>>,
    ) -> IndexMap<String, IndexMap<String, String>> {
        let mut cases = IndexMap::new();
        let Some(obj) = self.object(value, path) else {
            return cases;
        };
        self.unknown_fields(obj, path, &["TestCases"]);
        let path = join(path, "TestCases");
        let Some(test_cases) = obj.get("TestCases") else {
            self.error(&path, "missing (each state machine has a TestCases object)");
            return cases;
        };
        let Some(test_cases) = self.object(test_cases, &path) else {
            return cases;
        };
        for (case_name, case) in test_cases {
            let case_path = join(&path, case_name);
            let mut states = IndexMap::new();
            if let Some(case) = self.object(case, &case_path) {
                for (state, response) in case {
                    let state_path = join(&case_path, state);
                    match response.as_str() {
                        Some(r) if responses.contains_key(r) => {
                            states.insert(state.clone(), r.to_owned());
                        }
                        Some(r) => self.error(
                            &state_path,
                            format!(
                                "no mocked response named {} in MockedResponses",
                                Value::from(r)
                            ),
                        ),
                        None => self.error(
                            &state_path,
                            format!(
                                "expected the name of a mocked response (a string), found {}",
                                type_name(response)
                            ),
                        ),
                    }
                }
            }
            cases.insert(case_name.clone(), states);
        }
        cases
    }

    fn mocked_response(&mut self, value: &Value, path: &str) -> MockedResponse {
        let mut response = MockedResponse::default();
        let Some(obj) = self.object(value, path) else {
            return response;
        };
        // (first, last, key) of the entries kept so far, to report overlaps.
        let mut seen: Vec<(u64, u64, &str)> = Vec::new();
        for (key, entry) in obj {
            let entry_path = join(path, key);
            let range = invocation_range(key);
            let answer = self.answer(entry, &entry_path);
            let Some((first, last)) = range else {
                self.error(
                    &entry_path,
                    "expected an invocation number (\"0\") or an inclusive range (\"1-2\")",
                );
                continue;
            };
            if first > last {
                self.error(
                    &entry_path,
                    format!("the range is empty: {first} is greater than {last}"),
                );
                continue;
            }
            if let Some(&(_, _, other)) = seen.iter().find(|(f, l, _)| first <= *l && *f <= last) {
                self.error(
                    &entry_path,
                    format!(
                        "overlaps {} (each invocation may have only one response)",
                        Value::from(other)
                    ),
                );
                continue;
            }
            seen.push((first, last, key));
            if let Some(answer) = answer {
                response.entries.push(MockEntry {
                    first,
                    last,
                    answer,
                });
            }
        }
        response.entries.sort_by_key(|e| e.first);
        response
    }

    fn answer(&mut self, value: &Value, path: &str) -> Option<MockAnswer> {
        let obj = self.object(value, path)?;
        let returned = obj.get("Return");
        let thrown = obj.get("Throw");
        let unknown: Vec<&String> = obj
            .keys()
            .filter(|k| k.as_str() != "Return" && k.as_str() != "Throw")
            .collect();
        if !unknown.is_empty() || returned.is_some() == thrown.is_some() {
            let found = if obj.is_empty() {
                "found no field".to_owned()
            } else {
                format!(
                    "found {}",
                    obj.keys()
                        .map(|k| Value::from(k.as_str()).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            self.error(
                path,
                format!("expected exactly one of Return or Throw, {found}"),
            );
            return None;
        }
        if let Some(value) = returned {
            return Some(MockAnswer::Return(value.clone()));
        }
        let path = join(path, "Throw");
        let throw = self.object(thrown?, &path)?;
        self.unknown_fields(throw, &path, &["Error", "Cause"]);
        let error = match throw.get("Error") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.error(
                    &join(&path, "Error"),
                    format!("expected a string, found {}", type_name(other)),
                );
                None
            }
            None => {
                self.error(&join(&path, "Error"), "missing (the error name to throw)");
                None
            }
        };
        let cause = match throw.get("Cause") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.error(
                    &join(&path, "Cause"),
                    format!("expected a string, found {}", type_name(other)),
                );
                None
            }
        };
        Some(MockAnswer::Throw {
            error: error?,
            cause,
        })
    }
}

/// `"3"` → (3, 3); `"1-2"` → (1, 2). Digits only, as Step Functions Local writes them.
fn invocation_range(key: &str) -> Option<(u64, u64)> {
    fn number(s: &str) -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    }
    match key.split_once('-') {
        Some((first, last)) => Some((number(first)?, number(last)?)),
        None => number(key).map(|n| (n, n)),
    }
}

/// Answers Task states from a test case; states it does not mock go to `fallback` (by default
/// [`NoTasks`], which fails them).
#[derive(Debug)]
pub struct MockTasks<F = NoTasks> {
    test_case: TestCase,
    /// Invocations so far, per Task state name.
    invocations: BTreeMap<String, u64>,
    fallback: F,
}

impl MockTasks<NoTasks> {
    pub fn new(test_case: TestCase) -> Self {
        MockTasks::with_fallback(test_case, NoTasks)
    }
}

impl<F> MockTasks<F> {
    pub fn with_fallback(test_case: TestCase, fallback: F) -> Self {
        MockTasks {
            test_case,
            invocations: BTreeMap::new(),
            fallback,
        }
    }

    /// How many times the Task state `state` has been invoked through a mock.
    pub fn invocations(&self, state: &str) -> u64 {
        self.invocations.get(state).copied().unwrap_or(0)
    }
}

impl TestCase {
    /// What the mocked Task state `state` answers on its invocation number `invocation` (0 for
    /// the first); `None` when this test case does not mock the state.
    pub fn outcome(&self, state: &str, invocation: u64) -> Option<TaskOutcome> {
        let (response_name, response) = self.mocks.get(state)?;
        Some(match response.answer(invocation) {
            Some(MockAnswer::Return(value)) => TaskOutcome::Succeeded(value.clone()),
            Some(MockAnswer::Throw { error, cause }) => TaskOutcome::Failed {
                error: Some(error.clone()),
                cause: cause.clone(),
            },
            None => TaskOutcome::Failed {
                error: Some("States.Runtime".into()),
                cause: Some(format!(
                    "The mocked response {} (test case {}) has no entry for invocation {invocation} of the state {}",
                    Value::from(response_name.as_str()),
                    Value::from(self.name.as_str()),
                    Value::from(state),
                )),
            },
        })
    }
}

impl<F: TaskHandler> TaskHandler for MockTasks<F> {
    fn run(&mut self, request: &TaskRequest) -> TaskOutcome {
        let counter = self.invocations.get(&request.state_name).copied();
        let invocation = counter.unwrap_or(0);
        match self.test_case.outcome(&request.state_name, invocation) {
            Some(outcome) => {
                self.invocations
                    .insert(request.state_name.clone(), invocation + 1);
                outcome
            }
            None => self.fallback.run(request),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::execution::TaskKind;

    fn errors(config: Value) -> Vec<String> {
        match MockConfig::from_value(&config) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    fn request(state: &str) -> TaskRequest {
        TaskRequest {
            task: 0,
            state_name: state.into(),
            resource: "arn:aws:states:::lambda:invoke".into(),
            kind: TaskKind::LambdaFunction,
            input: json!({}),
            timeout_seconds: None,
            heartbeat_seconds: None,
            task_token: None,
            invocation: 0,
            credentials: None,
        }
    }

    fn config() -> MockConfig {
        MockConfig::from_value(&json!({
            "StateMachines": {"M": {"TestCases": {
                "Happy": {"Call": "Ok"},
                "Retry": {"Call": "FlakyThenOk"},
            }}},
            "MockedResponses": {
                "Ok": {"0": {"Return": {"n": 1}}},
                "FlakyThenOk": {
                    "2": {"Return": 7},
                    "0-1": {"Throw": {"Error": "E", "Cause": "c"}},
                },
            },
        }))
        .expect("valid config")
    }

    #[test]
    fn answers_each_invocation_from_its_entry_and_fails_past_the_last() {
        let case = config().test_case("M", Some("Retry")).expect("test case");
        let mut tasks = MockTasks::new(case);
        let failed = TaskOutcome::Failed {
            error: Some("E".into()),
            cause: Some("c".into()),
        };
        assert_eq!(tasks.run(&request("Call")), failed);
        assert_eq!(tasks.run(&request("Call")), failed);
        assert_eq!(
            tasks.run(&request("Call")),
            TaskOutcome::Succeeded(json!(7))
        );
        let TaskOutcome::Failed { error, cause } = tasks.run(&request("Call")) else {
            panic!("past the last entry")
        };
        assert_eq!(error.as_deref(), Some("States.Runtime"));
        assert_eq!(
            cause.as_deref(),
            Some(
                "The mocked response \"FlakyThenOk\" (test case \"Retry\") has no entry for invocation 3 of the state \"Call\""
            )
        );
        assert_eq!(tasks.invocations("Call"), 4);
        // Unmocked states go to the fallback.
        assert!(matches!(
            tasks.run(&request("Other")),
            TaskOutcome::Failed { .. }
        ));
        assert_eq!(tasks.invocations("Other"), 0);
    }

    #[test]
    fn choosing_a_test_case() {
        let config = config();
        assert_eq!(
            config
                .test_case("M", None)
                .expect_err("two cases")
                .to_string(),
            "the state machine \"M\" has 2 test cases in the mock configuration (\"Happy\", \"Retry\"); name the one to use"
        );
        assert_eq!(
            config
                .test_case("N", None)
                .expect_err("no machine")
                .to_string(),
            "the mock configuration has no state machine named \"N\" in StateMachines (it has: \"M\")"
        );
        assert_eq!(
            config
                .test_case("M", Some("Sad"))
                .expect_err("no case")
                .to_string(),
            "the state machine \"M\" has no test case named \"Sad\" in the mock configuration (it has: \"Happy\", \"Retry\")"
        );
        let only = MockConfig::from_value(&json!({
            "StateMachines": {"M": {"TestCases": {"Only": {}}}},
            "MockedResponses": {},
        }))
        .expect("valid");
        assert_eq!(
            only.test_case("M", None).expect("the only one").name,
            "Only"
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_place() {
        assert_eq!(
            errors(json!({
                "StateMachines": {"M": {"TestCases": {"T": {"A": "Missing", "B": 3}}}, "N": {}},
                "MockedResponse": {},
                "MockedResponses": {
                    "X": {
                        "0": {"Return": 1},
                        "1-2": {"Return": 1, "Throw": {"Error": "E"}},
                        "0-1": {"Return": 2},
                        "3-2": {"Return": 2},
                        "x": {"Return": 2},
                        "5": {},
                        "6": {"Throw": {"Cause": 1, "Extra": true}},
                        "7": {"Return": null},
                    },
                    "Y": [],
                },
            })),
            [
                "MockedResponse: unknown field (expected StateMachines or MockedResponses)",
                "MockedResponses.X.\"1-2\": expected exactly one of Return or Throw, found \"Return\", \"Throw\"",
                "MockedResponses.X.\"0-1\": overlaps \"0\" (each invocation may have only one response)",
                "MockedResponses.X.\"3-2\": the range is empty: 3 is greater than 2",
                "MockedResponses.X.x: expected an invocation number (\"0\") or an inclusive range (\"1-2\")",
                "MockedResponses.X.\"5\": expected exactly one of Return or Throw, found no field",
                "MockedResponses.X.\"6\".Throw.Extra: unknown field (expected Error or Cause)",
                "MockedResponses.X.\"6\".Throw.Error: missing (the error name to throw)",
                "MockedResponses.X.\"6\".Throw.Cause: expected a string, found a number",
                "MockedResponses.Y: expected an object, found an array",
                "StateMachines.M.TestCases.T.A: no mocked response named \"Missing\" in MockedResponses",
                "StateMachines.M.TestCases.T.B: expected the name of a mocked response (a string), found a number",
                "StateMachines.N.TestCases: missing (each state machine has a TestCases object)",
            ]
        );
        assert_eq!(
            MockConfig::parse("{").expect_err("not JSON")[0].to_string(),
            "not valid JSON: EOF while parsing an object at line 1 column 1"
        );
        assert_eq!(errors(json!([])), ["expected an object, found an array"]);
    }

    #[test]
    fn a_response_with_no_entries_is_allowed_and_answers_nothing() {
        let config = MockConfig::from_value(&json!({
            "StateMachines": {"M": {"TestCases": {"T": {"A": "Empty"}}}},
            "MockedResponses": {"Empty": {}},
        }))
        .expect("valid");
        let mut tasks = MockTasks::new(config.test_case("M", Some("T")).expect("case"));
        assert!(matches!(
            tasks.run(&request("A")),
            TaskOutcome::Failed { error: Some(e), .. } if e == "States.Runtime"
        ));
    }
}
