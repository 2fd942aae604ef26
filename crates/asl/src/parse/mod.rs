//! From definition text to the typed [`StateMachine`], collecting every problem on the way, as
//! AWS's CreateStateMachine and ValidateStateMachineDefinition report them.
//!
//! The walk never stops at the first problem: a field that is wrong is reported and left out of
//! the model, and the walk goes on. Only when no error was found is a model returned.

mod fields;
pub mod json_syntax;
mod resources;
mod states;

use std::collections::{HashSet, VecDeque};

use serde_json::{Map as JsonMap, Value};

use crate::diagnostic::{Diagnostic, DiagnosticCode, Report};
use crate::intrinsics;
use crate::jsonata::{self, JsonataExpr};
use crate::jsonpath::{self, JsonPath};
use crate::messages::{self as msg, JsonKind};
use crate::model::{PathExpr, QueryLanguage, State, StateMachine, Template};
use crate::pointer::Pointer;

pub use resources::{Pattern, Resource, ServiceIntegration, classify};
pub use states::is_name_char;

/// Which kind of state machine the definition is for: some features are Standard-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MachineType {
    #[default]
    Standard,
    Express,
}

/// Options for parsing and validating a definition.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions {
    pub machine_type: MachineType,
}

/// AWS's limit on a definition's size, in characters.
pub const MAX_DEFINITION_CHARS: usize = 1_048_576;
/// AWS's limit on a state name's length.
pub const MAX_STATE_NAME_CHARS: usize = 80;

/// Parses and validates definition text. Every problem is in the `Err` report; warnings of a
/// valid definition come with the model.
pub fn parse_definition(
    text: &str,
    options: ParseOptions,
) -> Result<(StateMachine, Report), Report> {
    if text.chars().count() > MAX_DEFINITION_CHARS {
        return Err(Report {
            diagnostics: vec![Diagnostic::error(
                DiagnosticCode::SchemaValidationFailed,
                msg::DEFINITION_TOO_LARGE,
                None,
            )],
        });
    }
    if text.trim().is_empty() {
        return Err(not_an_object());
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => {
            return Err(Report {
                diagnostics: vec![json_syntax::diagnose(text)],
            });
        }
    };
    parse_value(&value, options)
}

/// Validates definition text: the report alone.
pub fn validate_definition(text: &str, options: ParseOptions) -> Report {
    match parse_definition(text, options) {
        Ok((_, report)) | Err(report) => report,
    }
}

/// Parses and validates a definition already read as JSON.
pub fn parse_value(value: &Value, options: ParseOptions) -> Result<(StateMachine, Report), Report> {
    let Some(obj) = value.as_object() else {
        return Err(not_an_object());
    };
    let mut parser = Parser::new(options);
    let machine = parser.machine(obj, &Pointer::root(), QueryLanguage::JsonPath, Level::Top);
    let report = Report {
        diagnostics: parser.diagnostics,
    };
    match machine {
        Some(m) if report.is_valid() => Ok((m, report)),
        _ => Err(report),
    }
}

/// Parses one state on its own, as TestState takes it: the state is checked as if it were the
/// only state of a machine (named `StateName`, as AWS reports it), and its `Next` need not exist.
pub fn parse_state(value: &Value, options: ParseOptions) -> Result<State, Report> {
    let mut parser = Parser::new(options);
    let at = Pointer::root().join("States").join("StateName");
    let state = match value.as_object() {
        Some(obj) => parser.state("StateName", obj, &at, QueryLanguage::JsonPath),
        None => {
            parser.push(Diagnostic::schema(
                msg::expected_type(JsonKind::Object),
                &at,
            ));
            None
        }
    };
    let report = Report {
        diagnostics: parser.diagnostics,
    };
    match state {
        Some(s) if report.is_valid() => Ok(s),
        _ => Err(report),
    }
}

fn not_an_object() -> Report {
    Report {
        diagnostics: vec![Diagnostic::error(
            DiagnosticCode::SchemaValidationFailed,
            msg::NOT_A_JSON_OBJECT,
            None,
        )],
    }
}

/// Where a machine sits: the top level has a few fields nested ones do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Top,
    Branch,
    ItemProcessor,
}

/// How a path-valued field is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathRule {
    /// Any JSONPath (`InputPath`, `OutputPath`, `Variable`, `ItemsPath`).
    Path,
    /// A Reference Path (`SecondsPath`, `Variable`, `ItemsPath`, …); may name a variable.
    Reference,
    /// Where a result is written (`ResultPath`): a Reference Path into the state's input.
    ResultPath,
    /// A path or an intrinsic function call (`key.$`, `ErrorPath`, `CausePath`).
    PathOrIntrinsic,
}

pub(crate) struct Parser {
    options: ParseOptions,
    diagnostics: Vec<Diagnostic>,
    /// Every state name seen so far, across all nesting levels.
    state_names: HashSet<String>,
    /// Every Map Label seen so far.
    labels: HashSet<String>,
    /// The top-level machine's language, which nested machines inherit.
    machine_ql: QueryLanguage,
}

impl Parser {
    fn new(options: ParseOptions) -> Self {
        Parser {
            options,
            diagnostics: Vec::new(),
            state_names: HashSet::new(),
            labels: HashSet::new(),
            machine_ql: QueryLanguage::JsonPath,
        }
    }
}

impl Parser {
    fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn schema(&mut self, message: impl Into<String>, at: &Pointer) {
        self.push(Diagnostic::schema(message, at));
    }

    /// Reports every key of `obj` not in `allowed`.
    fn unknown_fields(&mut self, obj: &JsonMap<String, Value>, allowed: &[&str], at: &Pointer) {
        for key in obj.keys() {
            if !allowed.contains(&key.as_str()) {
                self.schema(msg::field_not_supported(key), at);
            }
        }
    }

    fn machine(
        &mut self,
        obj: &JsonMap<String, Value>,
        at: &Pointer,
        inherited: QueryLanguage,
        level: Level,
    ) -> Option<StateMachine> {
        let allowed = match level {
            Level::Top => fields::MACHINE,
            Level::Branch => fields::BRANCH,
            Level::ItemProcessor => fields::ITEM_PROCESSOR,
        };
        self.unknown_fields(obj, allowed, at);

        let mut missing = Vec::new();
        if !obj.contains_key("States") {
            missing.push("States");
        }
        if !obj.contains_key("StartAt") {
            missing.push("StartAt");
        }
        if !missing.is_empty() {
            self.schema(msg::fields_required(&missing), at);
        }

        let comment = self.string(obj, "Comment", at).map(str::to_owned);
        let version = if level == Level::Top {
            self.string(obj, "Version", at).map(str::to_owned)
        } else {
            None
        };
        let timeout_seconds = if level == Level::Top {
            self.integer(obj, "TimeoutSeconds", at, 0, states::MAX_SECONDS)
        } else {
            None
        };
        if let Some(v) = version.as_deref() {
            if v != "1.0" {
                self.schema(msg::one_of(&["1.0"]), &at.join("Version"));
            }
        }
        // Nested machines inherit the state machine's language; they cannot set their own.
        let query_language = match level {
            Level::Top => self.query_language(obj, at, inherited),
            Level::Branch | Level::ItemProcessor => inherited,
        };
        if level == Level::Top {
            self.machine_ql = query_language;
        }
        let start_at = self.string(obj, "StartAt", at).map(str::to_owned);

        let states_at = at.join("States");
        let mut states = indexmap::IndexMap::new();
        match obj.get("States") {
            None => {}
            Some(Value::Object(map)) => {
                if map.is_empty() {
                    self.schema(msg::VALUE_EMPTY, &states_at);
                }
                for (name, value) in map {
                    let state_at = states_at.join(name);
                    self.state_name(name, &state_at);
                    let Some(state_obj) = value.as_object() else {
                        self.schema(msg::expected_type(JsonKind::Object), &state_at);
                        continue;
                    };
                    if let Some(state) = self.state(name, state_obj, &state_at, query_language) {
                        states.insert(name.clone(), state);
                    }
                }
                self.transitions(map, at, start_at.as_deref(), level == Level::Top);
            }
            Some(_) => self.schema(msg::expected_type(JsonKind::Object), &states_at),
        }

        Some(StateMachine {
            comment,
            start_at: start_at?,
            states,
            version,
            timeout_seconds,
            query_language,
        })
    }

    /// State names: at most 80 characters, unique across the whole machine.
    fn state_name(&mut self, name: &str, at: &Pointer) {
        if name.chars().count() > MAX_STATE_NAME_CHARS {
            self.push(Diagnostic::at(
                DiagnosticCode::InvalidStateName,
                msg::state_name_too_long(name),
                at,
            ));
        }
        if !self.state_names.insert(name.to_owned()) {
            self.push(Diagnostic::at(
                DiagnosticCode::DuplicateStateName,
                msg::duplicate_state_name(name),
                at,
            ));
        }
    }

    /// Transition checks over one `States` block, on the raw JSON so that they run even where
    /// a state failed to parse: every target exists, every state is reachable from `StartAt`,
    /// and (top level only) some state ends the machine.
    fn transitions(
        &mut self,
        states: &JsonMap<String, Value>,
        at: &Pointer,
        start_at: Option<&str>,
        top: bool,
    ) {
        let states_at = at.join("States");
        let mut edges: Vec<(&str, Vec<&str>)> = Vec::new();
        let mut missing = Vec::new();
        let mut has_terminal = false;
        for (name, value) in states {
            let Some(obj) = value.as_object() else {
                continue;
            };
            let state_at = states_at.join(name);
            has_terminal |= obj.get("End") == Some(&Value::Bool(true))
                || matches!(
                    obj.get("Type").and_then(Value::as_str),
                    Some("Succeed" | "Fail")
                );
            let mut links: Vec<(Option<&Value>, Pointer)> = vec![
                (obj.get("Next"), state_at.join("Next")),
                (obj.get("Default"), state_at.join("Default")),
            ];
            for list in ["Choices", "Catch"] {
                if let Some(Value::Array(items)) = obj.get(list) {
                    for (i, item) in items.iter().enumerate() {
                        links.push((item.get("Next"), state_at.join(list).index(i).join("Next")));
                    }
                }
            }
            let mut targets = Vec::new();
            for (target, where_) in links {
                if let Some(t) = target.and_then(Value::as_str) {
                    if states.contains_key(t) {
                        targets.push(t);
                    } else {
                        missing.push((t.to_owned(), where_));
                    }
                }
            }
            edges.push((name.as_str(), targets));
        }

        let Some(start) = start_at else {
            return;
        };
        if !states.contains_key(start) {
            missing.insert(0, (start.to_owned(), at.join("StartAt")));
        }
        for (target, where_) in missing {
            self.push(Diagnostic::at(
                DiagnosticCode::MissingTransitionTarget,
                msg::missing_next_target(&target),
                &where_,
            ));
        }
        if top && !has_terminal {
            // AWS reports this instead of the states a loop leaves unreachable.
            self.push(Diagnostic::error(
                DiagnosticCode::MissingEndState,
                msg::NO_TERMINAL_STATE,
                None,
            ));
            return;
        }
        let mut reached: HashSet<&str> = HashSet::new();
        let mut queue: VecDeque<&str> = VecDeque::new();
        if states.contains_key(start) {
            queue.push_back(start);
        }
        while let Some(name) = queue.pop_front() {
            if !reached.insert(name) {
                continue;
            }
            if let Some((_, targets)) = edges.iter().find(|(n, _)| *n == name) {
                queue.extend(targets.iter().copied());
            }
        }
        for name in states.keys() {
            if !reached.contains(name.as_str()) {
                self.push(Diagnostic::at(
                    DiagnosticCode::MissingTransitionTarget,
                    msg::unreachable_state(name),
                    &states_at.join(name),
                ));
            }
        }
    }

    /// `QueryLanguage` of a machine or state. Only the exact text `JSONPath` selects JSONPath;
    /// any other value is reported and taken as JSONata, as AWS does.
    fn query_language(
        &mut self,
        obj: &JsonMap<String, Value>,
        at: &Pointer,
        inherited: QueryLanguage,
    ) -> QueryLanguage {
        match obj.get("QueryLanguage") {
            None => inherited,
            Some(Value::String(s)) => match QueryLanguage::from_name(s) {
                Some(ql) => ql,
                None => {
                    self.schema(
                        msg::one_of(&["JSONPath", "JSONata"]),
                        &at.join("QueryLanguage"),
                    );
                    QueryLanguage::Jsonata
                }
            },
            Some(_) => {
                self.schema(
                    msg::expected_type(JsonKind::String),
                    &at.join("QueryLanguage"),
                );
                QueryLanguage::Jsonata
            }
        }
    }

    // ---- typed field readers: each reports a wrong type and returns None ----

    fn string<'v>(
        &mut self,
        obj: &'v JsonMap<String, Value>,
        key: &str,
        at: &Pointer,
    ) -> Option<&'v str> {
        match obj.get(key)? {
            Value::String(s) => Some(s),
            _ => {
                self.schema(msg::expected_type(JsonKind::String), &at.join(key));
                None
            }
        }
    }

    fn boolean(&mut self, obj: &JsonMap<String, Value>, key: &str, at: &Pointer) -> Option<bool> {
        match obj.get(key)? {
            Value::Bool(b) => Some(*b),
            _ => {
                self.schema(msg::expected_type(JsonKind::Boolean), &at.join(key));
                None
            }
        }
    }

    /// An integer field within `[min, max]`.
    fn integer(
        &mut self,
        obj: &JsonMap<String, Value>,
        key: &str,
        at: &Pointer,
        min: u64,
        max: u64,
    ) -> Option<u64> {
        let value = obj.get(key)?;
        self.integer_value(value, &at.join(key), min, max)
    }

    fn integer_value(&mut self, value: &Value, at: &Pointer, min: u64, max: u64) -> Option<u64> {
        let Value::Number(n) = value else {
            self.schema(msg::expected_type(JsonKind::Integer), at);
            return None;
        };
        if let Some(i) = n.as_u64() {
            if i < min {
                self.schema(msg::minimum(min), at);
                return None;
            }
            if i > max {
                self.schema(msg::maximum(max), at);
                return None;
            }
            return Some(i);
        }
        if n.as_i64().is_some() {
            self.schema(msg::minimum(min), at);
        } else {
            // A float: AWS accepts integral values written with a fraction (`10.0`).
            match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f >= min as f64 && f <= max as f64 => {
                    return Some(f as u64);
                }
                Some(f) if f.fract() == 0.0 && f < min as f64 => {
                    self.schema(msg::minimum(min), at);
                }
                Some(f) if f.fract() == 0.0 => self.schema(msg::maximum(max), at),
                _ => self.schema(msg::expected_type(JsonKind::Integer), at),
            }
        }
        None
    }

    fn number(&mut self, obj: &JsonMap<String, Value>, key: &str, at: &Pointer) -> Option<f64> {
        match obj.get(key)? {
            Value::Number(n) => n.as_f64(),
            _ => {
                self.schema(msg::expected_type(JsonKind::Number), &at.join(key));
                None
            }
        }
    }

    fn object<'v>(
        &mut self,
        obj: &'v JsonMap<String, Value>,
        key: &str,
        at: &Pointer,
    ) -> Option<&'v JsonMap<String, Value>> {
        match obj.get(key)? {
            Value::Object(o) => Some(o),
            _ => {
                self.schema(msg::expected_type(JsonKind::Object), &at.join(key));
                None
            }
        }
    }

    /// A path field (`InputPath`, `ResultPath`, …). `Some(None)` is an explicit `null`, which
    /// only `nullable` fields accept. Problems are reported at the field.
    fn path_field(
        &mut self,
        obj: &JsonMap<String, Value>,
        key: &str,
        at: &Pointer,
        rule: PathRule,
        nullable: bool,
    ) -> Option<Option<JsonPath>> {
        let here = at.join(key);
        match obj.get(key)? {
            Value::Null if nullable => Some(None),
            Value::String(s) => match self.path_value(s, rule) {
                Ok(PathExpr::Path(p)) => Some(Some(p)),
                Ok(PathExpr::Intrinsic(_)) => {
                    self.schema(msg::NOT_JSON_PATH, &here);
                    None
                }
                Err(message) => {
                    self.schema(message, &here);
                    None
                }
            },
            _ => {
                self.schema(msg::expected_type(JsonKind::String), &here);
                None
            }
        }
    }

    /// A path or intrinsic (for `ErrorPath`/`CausePath`).
    fn path_expr_field(
        &mut self,
        obj: &JsonMap<String, Value>,
        key: &str,
        at: &Pointer,
    ) -> Option<PathExpr> {
        let here = at.join(key);
        match obj.get(key)? {
            Value::String(s) => match self.path_value(s, PathRule::PathOrIntrinsic) {
                Ok(p) => Some(p),
                Err(message) => {
                    self.schema(message, &here);
                    None
                }
            },
            _ => {
                self.schema(msg::expected_type(JsonKind::String), &here);
                None
            }
        }
    }

    /// Parses a path string under a rule; the error is the message to report.
    fn path_value(&mut self, s: &str, rule: PathRule) -> Result<PathExpr, String> {
        if rule == PathRule::PathOrIntrinsic && intrinsics::looks_like_intrinsic(s) {
            return intrinsics::parse(s)
                .map(PathExpr::Intrinsic)
                .map_err(|_| msg::NOT_JSON_PATH.to_owned());
        }
        match rule {
            PathRule::Reference | PathRule::ResultPath => {
                if !s.starts_with('$') {
                    return Err(msg::not_reference_path(msg::REFERENCE_PATH_NO_DOLLAR));
                }
                let path = jsonpath::parse(s)
                    .map_err(|_| msg::not_reference_path(msg::REFERENCE_PATH_NOT_SINGLE))?;
                if rule == PathRule::ResultPath && path.is_context() {
                    return Err(msg::not_reference_path(msg::REFERENCE_PATH_CONTEXT));
                }
                if !path.is_reference_path() {
                    return Err(msg::not_reference_path(msg::REFERENCE_PATH_NOT_SINGLE));
                }
                if rule == PathRule::ResultPath && path.variable().is_some() {
                    return Err(msg::not_reference_path(msg::REFERENCE_PATH_VARIABLE));
                }
                Ok(PathExpr::Path(path))
            }
            PathRule::Path | PathRule::PathOrIntrinsic => jsonpath::parse(s)
                .map(PathExpr::Path)
                .map_err(|_| msg::NOT_JSON_PATH.to_owned()),
        }
    }

    /// A payload template (JSONPath) or JSONata template, per the language.
    fn template_field(
        &mut self,
        obj: &JsonMap<String, Value>,
        key: &str,
        at: &Pointer,
        ql: QueryLanguage,
    ) -> Option<Template> {
        let value = obj.get(key)?;
        match ql {
            QueryLanguage::JsonPath => self.payload_template(value, key, at),
            QueryLanguage::Jsonata => self.jsonata_template(value, &at.join(key)),
        }
    }

    /// A JSONPath payload template: keys ending in `.$` take a path or intrinsic.
    /// `at` is the pointer of the object that holds `key`; AWS reports a bad `key.$` at the
    /// object that holds it.
    fn payload_template(&mut self, value: &Value, key: &str, at: &Pointer) -> Option<Template> {
        let here = at.join(key);
        match value {
            Value::Object(map) => {
                let mut fields = Vec::with_capacity(map.len());
                let mut ok = true;
                for (k, v) in map {
                    if let Some(name) = k.strip_suffix(".$") {
                        let expr = match v {
                            Value::String(s) => self.path_value(s, PathRule::PathOrIntrinsic).ok(),
                            _ => None,
                        };
                        match expr {
                            Some(PathExpr::Path(p)) => {
                                fields.push((name.to_owned(), Template::Path(p)));
                            }
                            Some(PathExpr::Intrinsic(c)) => {
                                fields.push((name.to_owned(), Template::Intrinsic(c)));
                            }
                            None => {
                                ok = false;
                                self.schema(msg::not_path_or_intrinsic(k), &here);
                            }
                        }
                    } else if let Some(t) = self.payload_template(v, k, &here) {
                        fields.push((k.clone(), t));
                    } else {
                        ok = false;
                    }
                }
                ok.then_some(Template::Object(fields))
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    let item_key = format!("{key}[{i}]");
                    match self.payload_template(item, &item_key, at) {
                        Some(t) => out.push(t),
                        None => ok = false,
                    }
                }
                ok.then_some(Template::Array(out))
            }
            other => Some(Template::Literal(other.clone())),
        }
    }

    /// A JSONata template at `here`: strings `{% … %}` are expressions, everything else is
    /// literal.
    fn jsonata_template(&mut self, value: &Value, here: &Pointer) -> Option<Template> {
        match value {
            Value::String(s) => {
                if s.starts_with("{%") {
                    return self.jsonata_string(s, here).map(Template::Jsonata);
                }
                Some(Template::Literal(value.clone()))
            }
            Value::Object(map) => {
                let mut fields = Vec::with_capacity(map.len());
                let mut ok = true;
                for (k, v) in map {
                    match self.jsonata_template(v, &here.join(k)) {
                        Some(t) => fields.push((k.clone(), t)),
                        None => ok = false,
                    }
                }
                ok.then_some(Template::Object(fields))
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    match self.jsonata_template(item, &here.index(i)) {
                        Some(t) => out.push(t),
                        None => ok = false,
                    }
                }
                ok.then_some(Template::Array(out))
            }
            other => Some(Template::Literal(other.clone())),
        }
    }

    /// A string that must be `{% expression %}`, at `here`.
    fn jsonata_string(&mut self, s: &str, here: &Pointer) -> Option<JsonataExpr> {
        let Some(expr) = jsonata::expression_in(s) else {
            self.schema(msg::JSONATA_DELIMITERS, here);
            return None;
        };
        match JsonataExpr::parse(expr) {
            Ok(e) => Some(e),
            Err(e) => {
                self.push(Diagnostic::at(
                    DiagnosticCode::InvalidJsonataExpression,
                    msg::invalid_jsonata(&e.message),
                    here,
                ));
                None
            }
        }
    }
}
