//! The typed model of an Amazon States Language definition, as the interpreter consumes it.
//!
//! Everything here has already been checked by [`crate::parse`]: paths are parsed, templates are
//! compiled, each state holds the fields its type and query language allow. The model does not
//! keep source positions; each [`State`] knows its JSON pointer for messages at run time.

use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value;

use crate::intrinsics::IntrinsicCall;
use crate::jsonata::JsonataExpr;
use crate::jsonpath::JsonPath;
use crate::pointer::Pointer;

/// `QueryLanguage`: how a state's fields are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QueryLanguage {
    #[default]
    JsonPath,
    Jsonata,
}

impl QueryLanguage {
    pub fn as_str(self) -> &'static str {
        match self {
            QueryLanguage::JsonPath => "JSONPath",
            QueryLanguage::Jsonata => "JSONata",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "JSONPath" => Some(QueryLanguage::JsonPath),
            "JSONata" => Some(QueryLanguage::Jsonata),
            _ => None,
        }
    }
}

/// A whole state machine, or a nested one (a Parallel branch, a Map's ItemProcessor).
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub comment: Option<String>,
    pub start_at: String,
    pub states: IndexMap<String, State>,
    /// Top level only.
    pub version: Option<String>,
    /// Top level only.
    pub timeout_seconds: Option<u64>,
    /// The language states inherit unless they set their own.
    pub query_language: QueryLanguage,
}

/// One state: the fields every type shares, and its type's own.
#[derive(Debug, Clone)]
pub struct State {
    pub name: String,
    /// Where the state sits in the definition (`/States/A`, `/States/M/ItemProcessor/States/B`).
    pub pointer: Pointer,
    pub comment: Option<String>,
    /// The effective language (the state's own, else the machine's).
    pub query_language: QueryLanguage,
    pub io: DataFlow,
    /// `Assign`: a JSONPath payload template or a JSONata template, per `query_language`.
    pub assign: Option<Template>,
    pub kind: StateKind,
}

impl State {
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }
}

/// The state type and what only that type has.
#[derive(Debug, Clone)]
pub enum StateKind {
    Pass(Pass),
    Task(Box<Task>),
    Choice(Choice),
    Wait(Wait),
    Succeed,
    Fail(Fail),
    Parallel(Parallel),
    Map(Box<Map>),
}

impl StateKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Pass(_) => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice(_) => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }

    /// Where the state goes when it completes normally, for the types that have `Next`/`End`.
    pub fn transition(&self) -> Option<&Transition> {
        match self {
            StateKind::Pass(s) => Some(&s.transition),
            StateKind::Task(s) => Some(&s.transition),
            StateKind::Wait(s) => Some(&s.transition),
            StateKind::Parallel(s) => Some(&s.transition),
            StateKind::Map(s) => Some(&s.transition),
            StateKind::Choice(_) | StateKind::Succeed | StateKind::Fail(_) => None,
        }
    }

    /// Catchers, for the types that have them.
    pub fn catchers(&self) -> &[Catcher] {
        match self {
            StateKind::Task(s) => &s.catch,
            StateKind::Parallel(s) => &s.catch,
            StateKind::Map(s) => &s.catch,
            _ => &[],
        }
    }

    /// Retriers, for the types that have them.
    pub fn retriers(&self) -> &[Retrier] {
        match self {
            StateKind::Task(s) => &s.retry,
            StateKind::Parallel(s) => &s.retry,
            StateKind::Map(s) => &s.retry,
            _ => &[],
        }
    }
}

/// `Next` or `End`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Next(String),
    End,
}

/// The input/output processing fields. JSONPath states use the first five, JSONata states the
/// last two; the parser leaves the other language's fields empty.
#[derive(Debug, Clone, Default)]
pub struct DataFlow {
    /// `InputPath`: `None` when absent (whole input), `Some(None)` when `null` (empty object).
    pub input_path: Option<Option<JsonPath>>,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    /// `ResultPath`: `None` when absent (`$`), `Some(None)` when `null` (discard the result).
    pub result_path: Option<Option<JsonPath>>,
    /// `OutputPath`: `None` when absent (`$`), `Some(None)` when `null` (empty object).
    pub output_path: Option<Option<JsonPath>>,
    pub arguments: Option<Template>,
    pub output: Option<Template>,
}

/// A value whose strings may be evaluated: a JSONPath payload template (keys ending in `.$`) or a
/// JSONata template (strings of the form `{% … %}`).
#[derive(Debug, Clone)]
pub enum Template {
    /// A JSON value used as it is.
    Literal(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    /// A `key.$` whose value is a path (the key is stored without `.$`).
    Path(JsonPath),
    /// A `key.$` whose value is an intrinsic function call.
    Intrinsic(IntrinsicCall),
    /// A `{% … %}` string.
    Jsonata(JsonataExpr),
}

/// A JSONPath expression or an intrinsic function call: the value of `ErrorPath`, `CausePath`
/// and `key.$` fields.
#[derive(Debug, Clone)]
pub enum PathExpr {
    Path(JsonPath),
    Intrinsic(IntrinsicCall),
}

/// A number that is given as a literal, read from a path, or computed by JSONata
/// (`TimeoutSeconds`/`TimeoutSecondsPath`, `MaxConcurrency`/`MaxConcurrencyPath`, …).
#[derive(Debug, Clone)]
pub enum NumberSource {
    Literal(Value),
    Path(JsonPath),
    Jsonata(JsonataExpr),
}

#[derive(Debug, Clone)]
pub struct Pass {
    pub result: Option<Value>,
    pub transition: Transition,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub resource: String,
    pub timeout_seconds: Option<NumberSource>,
    pub heartbeat_seconds: Option<NumberSource>,
    /// `Credentials` (`RoleArn` / `RoleArn.$`), kept as written.
    pub credentials: Option<Template>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub transition: Transition,
}

#[derive(Debug, Clone)]
pub struct Choice {
    pub choices: Vec<ChoiceRule>,
    pub default: Option<String>,
}

/// A top-level Choice rule: a condition and where to go when it holds.
#[derive(Debug, Clone)]
pub struct ChoiceRule {
    pub condition: Condition,
    pub next: String,
    pub assign: Option<Template>,
    /// JSONata rules may shape the state's output.
    pub output: Option<Template>,
    pub comment: Option<String>,
}

/// A Boolean expression over the state's input.
#[derive(Debug, Clone)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Compare {
        variable: JsonPath,
        operator: ComparisonOperator,
        operand: Operand,
    },
    /// JSONata `Condition`: an expression, or a literal Boolean.
    Jsonata(Template),
}

/// The right-hand side of a comparison: a literal or, for `*Path` operators, a path.
#[derive(Debug, Clone)]
pub enum Operand {
    Literal(Value),
    Path(JsonPath),
}

/// What a comparison operator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperandKind {
    String,
    Numeric,
    Boolean,
    Timestamp,
    /// `IsNull`, `IsPresent`, …: the operand is a Boolean saying what to expect.
    TypeTest,
    /// `StringMatches`: a pattern with `*` wildcards.
    Pattern,
}

/// A comparison operator of a JSONPath Choice rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComparisonOperator {
    pub name: &'static str,
    pub kind: OperandKind,
    pub relation: Relation,
    /// The `*Path` form: the operand is a path into the input.
    pub path: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Equals,
    LessThan,
    GreaterThan,
    LessThanEquals,
    GreaterThanEquals,
    Matches,
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

impl ComparisonOperator {
    /// Every operator ASL defines, as data.
    pub const ALL: &'static [ComparisonOperator] = &{
        use OperandKind as K;
        use Relation as R;
        const fn op(name: &'static str, kind: K, relation: R, path: bool) -> ComparisonOperator {
            ComparisonOperator {
                name,
                kind,
                relation,
                path,
            }
        }
        [
            op("StringEquals", K::String, R::Equals, false),
            op("StringEqualsPath", K::String, R::Equals, true),
            op("StringLessThan", K::String, R::LessThan, false),
            op("StringLessThanPath", K::String, R::LessThan, true),
            op("StringGreaterThan", K::String, R::GreaterThan, false),
            op("StringGreaterThanPath", K::String, R::GreaterThan, true),
            op("StringLessThanEquals", K::String, R::LessThanEquals, false),
            op(
                "StringLessThanEqualsPath",
                K::String,
                R::LessThanEquals,
                true,
            ),
            op(
                "StringGreaterThanEquals",
                K::String,
                R::GreaterThanEquals,
                false,
            ),
            op(
                "StringGreaterThanEqualsPath",
                K::String,
                R::GreaterThanEquals,
                true,
            ),
            op("StringMatches", K::Pattern, R::Matches, false),
            op("NumericEquals", K::Numeric, R::Equals, false),
            op("NumericEqualsPath", K::Numeric, R::Equals, true),
            op("NumericLessThan", K::Numeric, R::LessThan, false),
            op("NumericLessThanPath", K::Numeric, R::LessThan, true),
            op("NumericGreaterThan", K::Numeric, R::GreaterThan, false),
            op("NumericGreaterThanPath", K::Numeric, R::GreaterThan, true),
            op(
                "NumericLessThanEquals",
                K::Numeric,
                R::LessThanEquals,
                false,
            ),
            op(
                "NumericLessThanEqualsPath",
                K::Numeric,
                R::LessThanEquals,
                true,
            ),
            op(
                "NumericGreaterThanEquals",
                K::Numeric,
                R::GreaterThanEquals,
                false,
            ),
            op(
                "NumericGreaterThanEqualsPath",
                K::Numeric,
                R::GreaterThanEquals,
                true,
            ),
            op("BooleanEquals", K::Boolean, R::Equals, false),
            op("BooleanEqualsPath", K::Boolean, R::Equals, true),
            op("TimestampEquals", K::Timestamp, R::Equals, false),
            op("TimestampEqualsPath", K::Timestamp, R::Equals, true),
            op("TimestampLessThan", K::Timestamp, R::LessThan, false),
            op("TimestampLessThanPath", K::Timestamp, R::LessThan, true),
            op("TimestampGreaterThan", K::Timestamp, R::GreaterThan, false),
            op(
                "TimestampGreaterThanPath",
                K::Timestamp,
                R::GreaterThan,
                true,
            ),
            op(
                "TimestampLessThanEquals",
                K::Timestamp,
                R::LessThanEquals,
                false,
            ),
            op(
                "TimestampLessThanEqualsPath",
                K::Timestamp,
                R::LessThanEquals,
                true,
            ),
            op(
                "TimestampGreaterThanEquals",
                K::Timestamp,
                R::GreaterThanEquals,
                false,
            ),
            op(
                "TimestampGreaterThanEqualsPath",
                K::Timestamp,
                R::GreaterThanEquals,
                true,
            ),
            op("IsNull", K::TypeTest, R::IsNull, false),
            op("IsPresent", K::TypeTest, R::IsPresent, false),
            op("IsNumeric", K::TypeTest, R::IsNumeric, false),
            op("IsString", K::TypeTest, R::IsString, false),
            op("IsBoolean", K::TypeTest, R::IsBoolean, false),
            op("IsTimestamp", K::TypeTest, R::IsTimestamp, false),
        ]
    };

    pub fn from_name(name: &str) -> Option<ComparisonOperator> {
        Self::ALL.iter().find(|op| op.name == name).copied()
    }
}

#[derive(Debug, Clone)]
pub struct Wait {
    pub duration: WaitDuration,
    pub transition: Transition,
}

/// The one delay field a Wait state has.
#[derive(Debug, Clone)]
pub enum WaitDuration {
    Seconds(NumberSource),
    /// An RFC 3339 timestamp, a path to one, or a JSONata expression yielding one.
    Timestamp(TimestampSource),
}

#[derive(Debug, Clone)]
pub enum TimestampSource {
    Literal(String),
    Path(JsonPath),
    Jsonata(JsonataExpr),
}

#[derive(Debug, Clone)]
pub struct Fail {
    pub error: Option<FailField>,
    pub cause: Option<FailField>,
}

/// `Error`/`Cause` (a literal or, in JSONata, an expression) or `ErrorPath`/`CausePath`.
#[derive(Debug, Clone)]
pub enum FailField {
    Literal(String),
    Path(PathExpr),
    Jsonata(JsonataExpr),
}

#[derive(Debug, Clone)]
pub struct Parallel {
    pub branches: Vec<Arc<StateMachine>>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub transition: Transition,
}

#[derive(Debug, Clone)]
pub struct Map {
    /// `ItemProcessor`, or the legacy `Iterator`.
    pub processor: Arc<StateMachine>,
    pub processor_config: ProcessorConfig,
    /// `ItemsPath` (JSONPath).
    pub items_path: Option<JsonPath>,
    /// `Items` (JSONata): an array or an expression yielding one.
    pub items: Option<Template>,
    /// `ItemSelector`, or the legacy `Parameters` of a Map.
    pub item_selector: Option<Template>,
    pub item_reader: Option<Value>,
    pub item_batcher: Option<Value>,
    pub result_writer: Option<Value>,
    /// What a Distributed Map's `ItemReader`, `ItemBatcher` and `ResultWriter` evaluate.
    pub data: MapData,
    /// A Distributed Map's ItemProcessor as the definition its child executions run (JSON
    /// text, without `ProcessorConfig`, with the machine's `QueryLanguage` when it has none).
    pub processor_definition: Option<Arc<str>>,
    pub max_concurrency: Option<NumberSource>,
    pub tolerated_failure_percentage: Option<NumberSource>,
    pub tolerated_failure_count: Option<NumberSource>,
    pub label: Option<String>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub transition: Transition,
}

/// The evaluated parts of a Map's `ItemReader`, `ItemBatcher` and `ResultWriter` (their other
/// fields are configuration, kept as JSON in [`Map`]).
#[derive(Debug, Clone, Default)]
pub struct MapData {
    /// `ItemReader.Parameters` (JSONPath) or `ItemReader.Arguments` (JSONata).
    pub reader_parameters: Option<Template>,
    /// `ItemReader.ReaderConfig.MaxItems` / `MaxItemsPath`.
    pub max_items: Option<NumberSource>,
    /// `ItemBatcher.MaxItemsPerBatch` / `MaxItemsPerBatchPath`.
    pub max_items_per_batch: Option<NumberSource>,
    /// `ItemBatcher.MaxInputBytesPerBatch` / `MaxInputBytesPerBatchPath`.
    pub max_input_bytes_per_batch: Option<NumberSource>,
    /// `ItemBatcher.BatchInput`.
    pub batch_input: Option<Template>,
    /// `ResultWriter.Parameters` (JSONPath) or `ResultWriter.Arguments` (JSONata).
    pub writer_parameters: Option<Template>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProcessorConfig {
    pub mode: ProcessorMode,
    pub execution_type: Option<ExecutionType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProcessorMode {
    #[default]
    Inline,
    Distributed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionType {
    Standard,
    Express,
}

/// One `Retry` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: u64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<u64>,
    pub jitter: JitterStrategy,
}

impl Retrier {
    pub const DEFAULT_INTERVAL_SECONDS: u64 = 1;
    pub const DEFAULT_MAX_ATTEMPTS: u64 = 3;
    pub const DEFAULT_BACKOFF_RATE: f64 = 2.0;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JitterStrategy {
    #[default]
    None,
    Full,
}

/// One `Catch` entry.
#[derive(Debug, Clone)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    /// `ResultPath`: `None` when absent (`$`), `Some(None)` when `null`.
    pub result_path: Option<Option<JsonPath>>,
    pub output: Option<Template>,
    pub assign: Option<Template>,
}
