//! The JSONata layer: recognising `{% … %}` strings, parsing the expression inside once at
//! definition time, and evaluating it at run time with `$states`, the state machine's
//! variables and the functions AWS adds (`$partition`, `$range`, `$hash`, `$random`, `$uuid`,
//! `$parse`). The `jsonata-core` crate does the parsing and evaluating; this module converts
//! values, binds variables, adds AWS's functions and words failures the way AWS does.

mod cause;
mod convert;
mod functions;
mod wording;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonata_core::ast::{AstNode, Stage};
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorOptions};
use serde_json::Value;

use crate::eval::{Entropy, Variables};

pub use cause::{
    error_cause, json_type_name, state_cause_prefix, undefined_cause, unexpected_type_cause,
    unsupported_result_cause,
};
pub use convert::{from_jvalue, to_jvalue};

/// A JSONata expression taken from a `{% … %}` string, already parsed.
///
/// Cloning is cheap (two reference counts); the parsed tree is shared and never re-parsed.
#[derive(Clone)]
pub struct JsonataExpr {
    source: Arc<str>,
    compiled: Arc<Compiled>,
}

/// What parsing keeps: the tree, and the `$names` it mentions (so that evaluation converts
/// only the variables the expression can reach).
struct Compiled {
    ast: AstNode,
    /// Every name used as `$name` or called as `$name(…)`, without the `$`, sorted, unique.
    names: Box<[String]>,
}

// The engine shares definitions across threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<JsonataExpr>();
};

/// Which functions an evaluation sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Step Functions' JSONata: `$eval` is not available, and `$partition`, `$range`, `$hash`,
    /// `$random([seed])`, `$uuid` and `$parse` are added.
    StepFunctions,
    /// Plain JSONata (as the language-neutral test suite expects it). `$random()` still draws
    /// from the entropy passed in.
    Standard,
}

/// How an evaluation runs: its dialect and its guards against runaway expressions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalOptions {
    pub dialect: Dialect,
    /// Wall-clock limit; exceeding it fails with code `D1012`.
    pub timeout: Option<Duration>,
    /// Evaluation depth limit; exceeding it fails with code `D1011`. Without one, jsonata-core
    /// stops a runaway recursion with `U1001` at its own ceiling.
    pub max_depth: Option<usize>,
}

impl EvalOptions {
    /// What the engine uses: Step Functions' dialect, with a ten-second guard so a looping
    /// expression fails the state instead of hanging the execution.
    pub fn step_functions() -> Self {
        EvalOptions {
            dialect: Dialect::StepFunctions,
            timeout: Some(Duration::from_secs(10)),
            max_depth: None,
        }
    }

    /// Plain JSONata with no limits beyond jsonata-core's own.
    pub fn standard() -> Self {
        EvalOptions {
            dialect: Dialect::Standard,
            timeout: None,
            max_depth: None,
        }
    }
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions::step_functions()
    }
}

impl JsonataExpr {
    /// Parses the expression between `{%` and `%}`.
    pub fn parse(expression: &str) -> Result<Self, JsonataSyntaxError> {
        let ast = jsonata_core::parser::parse(expression)
            .map_err(|e| JsonataSyntaxError::from_message(&e.to_string()))?;
        let names = referenced_names(&ast);
        Ok(JsonataExpr {
            source: Arc::from(expression),
            compiled: Arc::new(Compiled { ast, names }),
        })
    }

    /// The expression text, without the `{% %}` delimiters.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The expression text as AWS quotes it in a cause: without the delimiters, trimmed.
    pub fn quoted_source(&self) -> &str {
        self.source.trim()
    }

    /// The `$names` the expression mentions (as variables or as functions), without the `$`.
    pub fn referenced_names(&self) -> &[String] {
        &self.compiled.names
    }

    /// Evaluates the expression as a state does: `$states` is bound to `states` (the object
    /// the engine builds: `input`, `result`, `errorOutput`, `context`), the state machine's
    /// variables are bound as `$name`, and there is no context value (`$` is undefined).
    /// `Ok(None)` is an undefined result.
    pub fn evaluate(
        &self,
        states: &Value,
        variables: &dyn Variables,
        entropy: &mut dyn Entropy,
    ) -> Result<Option<Value>, JsonataError> {
        self.evaluate_with(
            None,
            Some(states),
            variables,
            entropy,
            &EvalOptions::step_functions(),
        )
    }

    /// The general entry point: `input` is the context value `$` (`None`: undefined),
    /// `states` (when given) is bound as `$states`, and every `$name` the expression
    /// mentions that `variables` knows is bound to its value.
    pub fn evaluate_with(
        &self,
        input: Option<&Value>,
        states: Option<&Value>,
        variables: &dyn Variables,
        entropy: &mut dyn Entropy,
        options: &EvalOptions,
    ) -> Result<Option<Value>, JsonataError> {
        let mut context = Context::new();
        for name in self.compiled.names.iter() {
            if let Some(value) = variables.variable(name) {
                context.bind(name.clone(), to_jvalue(value));
            }
        }
        if let Some(states) = states {
            if self.compiled.names.iter().any(|n| n == "states") {
                context.bind("states".to_string(), to_jvalue(states));
            }
        }
        let evaluator_options = EvaluatorOptions {
            timeout_ms: options
                .timeout
                .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            max_stack_depth: options.max_depth,
            ..EvaluatorOptions::default()
        };
        let mut evaluator = Evaluator::with_options(context, evaluator_options);
        functions::register(
            &mut evaluator,
            options.dialect,
            &self.compiled.names,
            entropy,
        );
        let data = input.map_or(jsonata_core::value::JValue::Undefined, to_jvalue);
        // jsonata-core panics on some picture strings of its date and integer functions
        // (`$fromMillis(0, '[é]')`, `$parseInteger` with a digit family below zero, widths
        // that overflow), found by fuzzing; a panic fails the evaluation instead of the thread.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            evaluator.evaluate(&self.compiled.ast, &data)
        }));
        let result = match outcome {
            Ok(result) => result.map_err(|e| JsonataError::from_message(e.message()))?,
            Err(panic) => return Err(JsonataError::evaluator_failed(panic.as_ref())),
        };
        from_jvalue(&result)
    }
}

impl fmt::Debug for JsonataExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonataExpr({:?})", &*self.source)
    }
}

impl fmt::Display for JsonataExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{%{}%}}", self.source)
    }
}

/// Why a JSONata expression did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JsonataSyntaxError {
    pub message: String,
}

impl JsonataSyntaxError {
    /// `CODE: message` in JSONata 2.0.6's words (jsonata-core's preamble, such as `Invalid
    /// syntax: `, dropped), or jsonata-core's message as it is when it has no code.
    fn from_message(message: &str) -> Self {
        let message = match wording::split(message) {
            (Some(code), text) => format!("{code}: {text}"),
            (None, text) => text,
        };
        JsonataSyntaxError { message }
    }

    /// The JSONata error code in the message (`S0202`, …), if it has one.
    pub fn code(&self) -> Option<&str> {
        wording::find_code(&self.message).map(|at| &self.message[at..at + 5])
    }
}

/// Why an evaluation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonataError {
    /// JSONata raised an error: its code (`T2001`, `D3030`, …) when it has one, and its
    /// message without the code.
    #[error("{}", match .code { Some(code) => format!("{code}: {message}"), None => message.clone() })]
    Evaluation {
        code: Option<String>,
        message: String,
    },
    /// The result was a function (or a regex), which has no JSON form.
    #[error("the expression returned an unsupported result type")]
    UnsupportedResult,
}

impl JsonataError {
    /// Splits a jsonata-core message (`"T2001: The left side …"`) into code and message. A
    /// few messages carry the code after a preamble (`"Signature validation failed: T0410:
    /// …"`); the preamble is dropped.
    pub fn from_message(message: &str) -> Self {
        let (code, message) = wording::split(message);
        JsonataError::Evaluation {
            code: code.map(str::to_owned),
            message,
        }
    }

    /// The evaluator itself failed (it panicked) on this expression and input.
    fn evaluator_failed(panic: &(dyn std::any::Any + Send)) -> Self {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        JsonataError::Evaluation {
            code: None,
            message: format!("The JSONata evaluator failed on this expression: {detail}"),
        }
    }

    /// The JSONata error code, if there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            JsonataError::Evaluation { code, .. } => code.as_deref(),
            JsonataError::UnsupportedResult => None,
        }
    }
}

/// If `s` is a JSONata template string (`{% expr %}`), the expression inside it.
pub fn expression_in(s: &str) -> Option<&str> {
    s.strip_prefix("{%")?.strip_suffix("%}")
}

/// Every `$name` the tree uses as a variable or calls as a function, sorted and unique.
/// Walks with an explicit stack: the tree can be as deep as the parser allows.
fn referenced_names(ast: &AstNode) -> Box<[String]> {
    let mut names: Vec<String> = Vec::new();
    let mut stack: Vec<&AstNode> = vec![ast];
    while let Some(node) = stack.pop() {
        match node {
            AstNode::Variable(name) => names.push(name.clone()),
            AstNode::Function { name, args, .. } => {
                names.push(name.clone());
                stack.extend(args);
            }
            AstNode::Path { steps } => {
                for step in steps {
                    stack.push(&step.node);
                    for stage in &step.stages {
                        if let Stage::Filter(filter) = stage {
                            stack.push(filter);
                        }
                    }
                }
            }
            AstNode::Binary { lhs, rhs, .. } => {
                stack.push(lhs);
                stack.push(rhs);
            }
            AstNode::Unary { operand, .. } => stack.push(operand),
            AstNode::Call { procedure, args } => {
                stack.push(procedure);
                stack.extend(args);
            }
            AstNode::Lambda { body, .. } => stack.push(body),
            AstNode::Array(items) | AstNode::Block(items) | AstNode::ArrayGroup(items) => {
                stack.extend(items)
            }
            AstNode::Object(pairs) => {
                for (key, value) in pairs {
                    stack.push(key);
                    stack.push(value);
                }
            }
            AstNode::ObjectTransform { input, pattern } => {
                stack.push(input);
                for (key, value) in pattern {
                    stack.push(key);
                    stack.push(value);
                }
            }
            AstNode::Conditional {
                condition,
                then_branch,
                else_branch,
            } => {
                stack.push(condition);
                stack.push(then_branch);
                if let Some(e) = else_branch {
                    stack.push(e);
                }
            }
            AstNode::FunctionApplication(inner) => stack.push(inner),
            AstNode::Sort { input, terms } => {
                stack.push(input);
                stack.extend(terms.iter().map(|(term, _)| term));
            }
            AstNode::Transform {
                location,
                update,
                delete,
            } => {
                stack.push(location);
                stack.push(update);
                if let Some(d) = delete {
                    stack.push(d);
                }
            }
            AstNode::String(_)
            | AstNode::Name(_)
            | AstNode::Number(_)
            | AstNode::Boolean(_)
            | AstNode::Null
            | AstNode::Undefined
            | AstNode::Placeholder
            | AstNode::Regex { .. }
            | AstNode::ParentVariable(_)
            | AstNode::Wildcard
            | AstNode::Descendant
            | AstNode::Parent(_) => {}
        }
    }
    names.sort_unstable();
    names.dedup();
    names.into_boxed_slice()
}

#[cfg(test)]
mod tests;
