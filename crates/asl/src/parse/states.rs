//! Parsing of each state type, its Retry/Catch, Choice rules and Map configuration.

use serde_json::{Map as JsonMap, Value};

use super::fields::{self, Standing};
use super::resources::{self, Resource};
use super::{Level, MachineType, Parser, PathRule};
use crate::diagnostic::Diagnostic;
use crate::diagnostic::DiagnosticCode;
use crate::error_names;
use crate::messages::{self as msg, JsonKind};
use crate::model::*;
use crate::pointer::Pointer;

/// AWS's largest value for a seconds field (`Seconds`, `TimeoutSeconds`, `IntervalSeconds`, …).
pub(crate) const MAX_SECONDS: u64 = 99_999_999;
/// AWS's largest `MaxDelaySeconds`.
const MAX_DELAY_SECONDS: u64 = 31_622_400;
/// Map Labels: at most this many characters.
const MAX_LABEL_CHARS: usize = 40;

type Obj = JsonMap<String, Value>;

/// The range a numeric field accepts, and whether it must be a whole number.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    min: u64,
    max: u64,
    integral: bool,
}

impl Bounds {
    const fn integer(min: u64, max: u64) -> Self {
        Bounds {
            min,
            max,
            integral: true,
        }
    }

    /// `ToleratedFailurePercentage` takes fractions.
    const fn number(min: u64, max: u64) -> Self {
        Bounds {
            min,
            max,
            integral: false,
        }
    }
}

impl Parser {
    /// One state. `None` when it is too broken to model (the problems are reported).
    pub(super) fn state(
        &mut self,
        name: &str,
        obj: &Obj,
        at: &Pointer,
        machine_ql: QueryLanguage,
    ) -> Option<State> {
        let type_name = match obj.get("Type") {
            None => {
                self.schema(msg::fields_required(&["Type"]), at);
                None
            }
            Some(Value::String(t)) if fields::STATE_TYPES.contains(&t.as_str()) => Some(t.as_str()),
            Some(_) => {
                self.schema(msg::type_one_of(fields::STATE_TYPES), &at.join("Type"));
                None
            }
        };
        // A state may not go back to JSONPath under a JSONata machine; when it tries, that is
        // the one language problem AWS reports for it.
        let downgrade = machine_ql == QueryLanguage::Jsonata
            && obj.get("QueryLanguage").and_then(Value::as_str) == Some("JSONPath");
        let ql = if downgrade {
            self.schema(msg::QUERY_LANGUAGE_CONFLICT, at);
            QueryLanguage::Jsonata
        } else {
            self.query_language(obj, at, machine_ql)
        };
        let type_name = type_name?;

        for key in obj.keys() {
            match fields::standing(type_name, ql, key) {
                Standing::Allowed => {}
                Standing::OtherLanguage if downgrade => {}
                Standing::OtherLanguage => self.schema(other_language(key, ql), at),
                Standing::Unknown => self.schema(msg::field_not_supported(key), at),
            }
        }

        let comment = self.string(obj, "Comment", at).map(str::to_owned);
        let io = self.data_flow(obj, at, ql, type_name);
        let assign = self.assign(obj, at, ql);
        let kind = match type_name {
            "Pass" => self.pass(obj, at, ql),
            "Task" => self.task(obj, at, ql),
            "Choice" => self.choice(obj, at, ql),
            "Wait" => self.wait(obj, at, ql),
            "Succeed" => Some(StateKind::Succeed),
            "Fail" => self.fail(obj, at, ql),
            "Parallel" => self.parallel(obj, at, ql),
            _ => self.map(obj, at, ql),
        }?;
        Some(State {
            name: name.to_owned(),
            pointer: at.clone(),
            comment,
            query_language: ql,
            io,
            assign,
            kind,
        })
    }

    /// The input/output fields; those the type or language lacks were reported already.
    fn data_flow(
        &mut self,
        obj: &Obj,
        at: &Pointer,
        ql: QueryLanguage,
        type_name: &str,
    ) -> DataFlow {
        let allowed = |f: &str| fields::standing(type_name, ql, f) == Standing::Allowed;
        let mut io = DataFlow::default();
        if allowed("InputPath") {
            io.input_path = self.path_field(obj, "InputPath", at, PathRule::Path, true);
        }
        if allowed("OutputPath") {
            io.output_path = self.path_field(obj, "OutputPath", at, PathRule::Path, true);
        }
        if allowed("ResultPath") {
            io.result_path = self.path_field(obj, "ResultPath", at, PathRule::ResultPath, true);
        }
        // A Map's Parameters is its legacy ItemSelector, read with the Map.
        if allowed("Parameters") && type_name != "Map" {
            io.parameters = self.template_field(obj, "Parameters", at, ql);
        }
        if allowed("ResultSelector") {
            io.result_selector = self.template_field(obj, "ResultSelector", at, ql);
        }
        if allowed("Arguments") {
            io.arguments = self.jsonata_object_or_expr(obj, "Arguments", at);
        }
        if allowed("Output") {
            io.output = self.template_field(obj, "Output", at, ql);
        }
        io
    }

    /// JSONata `Arguments`: an object/array template or a single expression.
    fn jsonata_object_or_expr(&mut self, obj: &Obj, key: &str, at: &Pointer) -> Option<Template> {
        let value = obj.get(key)?;
        let here = at.join(key);
        match value {
            Value::Object(_) | Value::Array(_) | Value::String(_) => {
                self.jsonata_template(value, &here)
            }
            _ => {
                self.schema(msg::expected_type(JsonKind::Object), &here);
                None
            }
        }
    }

    fn assign(&mut self, obj: &Obj, at: &Pointer, ql: QueryLanguage) -> Option<Template> {
        let value = obj.get("Assign")?;
        let here = at.join("Assign");
        let Value::Object(map) = value else {
            self.schema(msg::expected_type(JsonKind::Object), &here);
            return None;
        };
        let mut ok = true;
        for key in map.keys() {
            let name = match ql {
                QueryLanguage::JsonPath => key.strip_suffix(".$").unwrap_or(key),
                QueryLanguage::Jsonata => key,
            };
            if name == "states" {
                self.push(Diagnostic::at(
                    DiagnosticCode::ReservedVariableName,
                    msg::reserved_variable(name),
                    &here,
                ));
                ok = false;
            } else if !is_variable_name(name) {
                self.push(Diagnostic::at(
                    DiagnosticCode::InvalidVariableName,
                    msg::invalid_variable_name(name),
                    &here,
                ));
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        self.template_field(obj, "Assign", at, ql)
    }

    /// `Next` / `End`: exactly one, and `End` must be true.
    fn transition(&mut self, obj: &Obj, at: &Pointer) -> Option<Transition> {
        let next = self.string(obj, "Next", at);
        let end = self.boolean(obj, "End", at);
        match (next, end) {
            (Some(_), Some(_)) => {
                self.schema(msg::only_one_of(&["Next", "End"]), at);
                None
            }
            (Some(n), None) => Some(Transition::Next(n.to_owned())),
            (None, Some(true)) => Some(Transition::End),
            (None, Some(false)) => {
                self.schema(msg::exactly_one_of(&["Next", "End"]), at);
                None
            }
            (None, None) => {
                if !obj.contains_key("Next") && !obj.contains_key("End") {
                    self.schema(msg::exactly_one_of(&["Next", "End"]), at);
                }
                None
            }
        }
    }

    fn pass(&mut self, obj: &Obj, at: &Pointer, ql: QueryLanguage) -> Option<StateKind> {
        let result = if ql == QueryLanguage::JsonPath {
            obj.get("Result").cloned()
        } else {
            None
        };
        let transition = self.transition(obj, at)?;
        Some(StateKind::Pass(Pass { result, transition }))
    }

    fn task(&mut self, obj: &Obj, at: &Pointer, ql: QueryLanguage) -> Option<StateKind> {
        let resource = match obj.get("Resource") {
            None => {
                self.schema(msg::fields_required(&["Resource"]), at);
                None
            }
            Some(Value::String(r)) => Some((r.clone(), self.resource(r, &at.join("Resource")))),
            Some(_) => {
                self.schema(msg::expected_type(JsonKind::String), &at.join("Resource"));
                None
            }
        };
        match &resource {
            Some((_, Some(Resource::Activity))) if obj.contains_key("Credentials") => {
                self.schema(msg::CREDENTIALS_FOR_ACTIVITY, at);
            }
            Some((arn, Some(Resource::Service(integration)))) => {
                self.integration_request(obj, at, ql, integration, arn);
            }
            _ => {}
        }
        let timeout = self.seconds_source(obj, at, ql, "TimeoutSeconds", "TimeoutSecondsPath");
        let heartbeat =
            self.seconds_source(obj, at, ql, "HeartbeatSeconds", "HeartbeatSecondsPath");
        if let (Some(NumberSource::Literal(t)), Some(NumberSource::Literal(h))) =
            (&timeout, &heartbeat)
        {
            if h.as_f64() >= t.as_f64() {
                self.schema(
                    msg::HEARTBEAT_NOT_BELOW_TIMEOUT,
                    &at.join("HeartbeatSeconds"),
                );
            }
        }
        let credentials = self.credentials(obj, at, ql);
        let retry = self.retriers(obj, at);
        let catch = self.catchers(obj, at, ql);
        let transition = self.transition(obj, at)?;
        Some(StateKind::Task(Box::new(Task {
            resource: resource?.0,
            timeout_seconds: timeout,
            heartbeat_seconds: heartbeat,
            credentials,
            retry: retry?,
            catch: catch?,
            transition,
        })))
    }

    /// An optimized integration's request must be there, with the fields the action needs.
    fn integration_request(
        &mut self,
        obj: &Obj,
        at: &Pointer,
        ql: QueryLanguage,
        integration: &resources::ServiceIntegration,
        arn: &str,
    ) {
        let required = resources::required_parameters(integration);
        if required.is_empty() {
            return;
        }
        let field = match ql {
            QueryLanguage::JsonPath => "Parameters",
            QueryLanguage::Jsonata => "Arguments",
        };
        let request = match obj.get(field) {
            None => {
                self.schema(msg::payload_required(field, arn), at);
                return;
            }
            Some(Value::Object(request)) => request,
            // A JSONata expression yields the request at run time.
            Some(_) => return,
        };
        for name in required {
            let present = request.contains_key(*name)
                || (ql == QueryLanguage::JsonPath && request.contains_key(&format!("{name}.$")));
            if !present {
                self.schema(msg::field_required(name), &at.join(field));
            }
        }
    }

    /// Checks a Task `Resource` against the integrations AWS offers; what it names, if anything.
    fn resource(&mut self, arn: &str, at: &Pointer) -> Option<Resource> {
        let classified = resources::classify(arn);
        match &classified {
            Some(Resource::Activity) if self.options.machine_type == MachineType::Express => {
                self.schema(msg::EXPRESS_ACTIVITY, at);
            }
            Some(Resource::Service(integration)) => {
                if self.options.machine_type == MachineType::Express {
                    match integration.pattern {
                        resources::Pattern::WaitForTaskToken => {
                            self.schema(msg::express_pattern(".waitForTaskToken"), at);
                        }
                        resources::Pattern::Sync => self.schema(msg::express_pattern(".sync"), at),
                        resources::Pattern::Sync2 => {
                            self.schema(msg::express_pattern(".sync:2"), at);
                        }
                        resources::Pattern::RequestResponse => {}
                    }
                }
            }
            Some(_) => {}
            None if resources::looks_like_arn(arn) => {
                self.schema(msg::resource_not_recognized(arn), at);
            }
            None => self.schema(msg::NOT_A_RESOURCE_ARN, at),
        }
        classified
    }

    fn credentials(&mut self, obj: &Obj, at: &Pointer, ql: QueryLanguage) -> Option<Template> {
        let creds = self.object(obj, "Credentials", at)?;
        let here = at.join("Credentials");
        let has_role = match ql {
            QueryLanguage::JsonPath => {
                creds.contains_key("RoleArn") || creds.contains_key("RoleArn.$")
            }
            QueryLanguage::Jsonata => creds.contains_key("RoleArn"),
        };
        if !has_role {
            self.schema(msg::field_required("RoleArn"), &here);
            return None;
        }
        for key in creds.keys() {
            if key != "RoleArn" && key != "RoleArn.$" {
                self.schema(msg::field_not_supported(key), &here);
            }
        }
        self.template_field(obj, "Credentials", at, ql)
    }

    /// A seconds field that is a literal, a `…Path`, or (JSONata) an expression.
    fn seconds_source(
        &mut self,
        obj: &Obj,
        at: &Pointer,
        ql: QueryLanguage,
        key: &str,
        path_key: &str,
    ) -> Option<NumberSource> {
        self.number_source(obj, at, ql, key, path_key, Bounds::integer(1, MAX_SECONDS))
    }

    fn number_source(
        &mut self,
        obj: &Obj,
        at: &Pointer,
        ql: QueryLanguage,
        key: &str,
        path_key: &str,
        bounds: Bounds,
    ) -> Option<NumberSource> {
        if obj.contains_key(key) && obj.contains_key(path_key) {
            self.schema(msg::only_one_of(&[key, path_key]), at);
            return None;
        }
        if obj.contains_key(path_key) {
            if ql == QueryLanguage::Jsonata {
                return None; // reported as a field of the other language
            }
            return self
                .path_field(obj, path_key, at, PathRule::Reference, false)
                .flatten()
                .map(NumberSource::Path);
        }
        let value = obj.get(key)?;
        if ql == QueryLanguage::Jsonata {
            if let Value::String(s) = value {
                return self
                    .jsonata_string(s, &at.join(key))
                    .map(NumberSource::Jsonata);
            }
        }
        let here = at.join(key);
        if bounds.integral {
            return self
                .integer_value(value, &here, bounds.min, bounds.max)
                .map(|n| NumberSource::Literal(Value::from(n)));
        }
        let Value::Number(n) = value else {
            self.schema(msg::expected_type(JsonKind::Number), &here);
            return None;
        };
        match n.as_f64() {
            Some(f) if f < bounds.min as f64 => self.schema(msg::minimum(bounds.min), &here),
            Some(f) if f > bounds.max as f64 => self.schema(msg::maximum(bounds.max), &here),
            _ => return Some(NumberSource::Literal(value.clone())),
        }
        None
    }

    /// The entries of an array-of-objects field (`Retry`, `Catch`), each with its location and
    /// whether it is the last. Absent: no entries. `None` when any entry is malformed.
    fn object_items<'v>(
        &mut self,
        obj: &'v Obj,
        key: &str,
        at: &Pointer,
    ) -> Option<Vec<(Pointer, &'v Obj, bool)>> {
        let Some(value) = obj.get(key) else {
            return Some(Vec::new());
        };
        let here = at.join(key);
        let Value::Array(items) = value else {
            self.schema(msg::expected_type(JsonKind::Array), &here);
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let item_at = here.index(i);
            match item.as_object() {
                Some(o) => out.push((item_at, o, i + 1 == items.len())),
                None => {
                    self.schema(msg::expected_type(JsonKind::Object), &item_at);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn retriers(&mut self, obj: &Obj, at: &Pointer) -> Option<Vec<Retrier>> {
        let items = self.object_items(obj, "Retry", at)?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (item_at, r, is_last) in items {
            self.unknown_fields(r, fields::RETRIER, &item_at);
            let errors = self.error_equals(r, &item_at, is_last);
            let interval = self.integer(r, "IntervalSeconds", &item_at, 0, MAX_SECONDS);
            let attempts = self.integer(r, "MaxAttempts", &item_at, 0, MAX_SECONDS);
            let backoff = self.number(r, "BackoffRate", &item_at);
            if let Some(b) = backoff {
                if b < 1.0 {
                    self.schema(msg::minimum(1), &item_at.join("BackoffRate"));
                    ok = false;
                }
            }
            let max_delay = self.integer(r, "MaxDelaySeconds", &item_at, 1, MAX_DELAY_SECONDS);
            let jitter = match self.string(r, "JitterStrategy", &item_at) {
                None => JitterStrategy::None,
                Some("FULL") => JitterStrategy::Full,
                Some("NONE") => JitterStrategy::None,
                Some(_) => {
                    self.schema(
                        msg::one_of(&["NONE", "FULL"]),
                        &item_at.join("JitterStrategy"),
                    );
                    ok = false;
                    JitterStrategy::None
                }
            };
            let Some(error_equals) = errors else {
                ok = false;
                continue;
            };
            out.push(Retrier {
                error_equals,
                interval_seconds: interval.unwrap_or(Retrier::DEFAULT_INTERVAL_SECONDS),
                max_attempts: attempts.unwrap_or(Retrier::DEFAULT_MAX_ATTEMPTS),
                backoff_rate: backoff.unwrap_or(Retrier::DEFAULT_BACKOFF_RATE),
                max_delay_seconds: max_delay,
                jitter,
            });
        }
        ok.then_some(out)
    }

    fn catchers(&mut self, obj: &Obj, at: &Pointer, ql: QueryLanguage) -> Option<Vec<Catcher>> {
        let items = self.object_items(obj, "Catch", at)?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (item_at, c, is_last) in items {
            let (own, other) = match ql {
                QueryLanguage::JsonPath => (fields::CATCHER_JSONPATH, fields::CATCHER_JSONATA),
                QueryLanguage::Jsonata => (fields::CATCHER_JSONATA, fields::CATCHER_JSONPATH),
            };
            for key in c.keys() {
                if other.contains(&key.as_str()) {
                    self.schema(other_language(key, ql), &item_at);
                } else if !fields::CATCHER_BOTH.contains(&key.as_str())
                    && !own.contains(&key.as_str())
                {
                    self.schema(msg::field_not_supported(key), &item_at);
                }
            }
            let errors = self.error_equals(c, &item_at, is_last);
            let next = match c.get("Next") {
                None => {
                    self.schema(msg::fields_required(&["Next"]), &item_at);
                    None
                }
                Some(_) => self.string(c, "Next", &item_at).map(str::to_owned),
            };
            let result_path = if ql == QueryLanguage::JsonPath {
                self.path_field(c, "ResultPath", &item_at, PathRule::ResultPath, true)
            } else {
                None
            };
            let output = if ql == QueryLanguage::Jsonata {
                self.template_field(c, "Output", &item_at, ql)
            } else {
                None
            };
            let assign = self.assign(c, &item_at, ql);
            match (errors, next) {
                (Some(error_equals), Some(next)) => out.push(Catcher {
                    error_equals,
                    next,
                    result_path,
                    output,
                    assign,
                }),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// `ErrorEquals`: non-empty strings; `States.ALL` alone and in the last entry.
    fn error_equals(&mut self, obj: &Obj, at: &Pointer, is_last: bool) -> Option<Vec<String>> {
        let here = at.join("ErrorEquals");
        let Some(value) = obj.get("ErrorEquals") else {
            self.schema(msg::fields_required(&["ErrorEquals"]), at);
            return None;
        };
        let Value::Array(items) = value else {
            self.schema(msg::expected_type(JsonKind::Array), &here);
            return None;
        };
        if items.is_empty() {
            self.schema(msg::VALUE_EMPTY, &here);
            return None;
        }
        let mut names = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) => names.push(s.to_owned()),
                None => {
                    self.schema(msg::expected_type(JsonKind::String), &here.index(i));
                    return None;
                }
            }
        }
        if names.iter().any(|n| n == error_names::ALL) && (names.len() > 1 || !is_last) {
            self.schema(msg::STATES_ALL_ALONE_AND_LAST, &here);
            return None;
        }
        Some(names)
    }

    fn choice(&mut self, obj: &Obj, at: &Pointer, ql: QueryLanguage) -> Option<StateKind> {
        let default = self.string(obj, "Default", at).map(str::to_owned);
        let here = at.join("Choices");
        let items = match obj.get("Choices") {
            None => {
                self.schema(msg::fields_required(&["Choices"]), at);
                return None;
            }
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.schema(msg::expected_type(JsonKind::Array), &here);
                return None;
            }
        };
        if items.is_empty() {
            self.schema(msg::VALUE_EMPTY, &here);
            return None;
        }
        let mut choices = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.choice_rule(item, &here.index(i), ql) {
                Some(rule) => choices.push(rule),
                None => ok = false,
            }
        }
        ok.then_some(StateKind::Choice(Choice { choices, default }))
    }

    fn choice_rule(
        &mut self,
        value: &Value,
        at: &Pointer,
        ql: QueryLanguage,
    ) -> Option<ChoiceRule> {
        let Some(obj) = value.as_object() else {
            self.schema(msg::expected_type(JsonKind::Object), at);
            return None;
        };
        let next = match obj.get("Next") {
            None => {
                self.schema(msg::fields_required(&["Next"]), at);
                None
            }
            Some(_) => self.string(obj, "Next", at).map(str::to_owned),
        };
        let comment = self.string(obj, "Comment", at).map(str::to_owned);
        let assign = self.assign(obj, at, ql);
        let (condition, output) = match ql {
            QueryLanguage::JsonPath => {
                for key in ["Condition", "Output"] {
                    if obj.contains_key(key) {
                        self.schema(other_language(key, ql), at);
                    }
                }
                (self.condition(obj, at, true), None)
            }
            QueryLanguage::Jsonata => {
                for key in obj.keys() {
                    let k = key.as_str();
                    if ["Variable", "And", "Or", "Not"].contains(&k)
                        || ComparisonOperator::from_name(k).is_some()
                    {
                        self.schema(other_language(k, ql), at);
                    } else if !["Condition", "Next", "Comment", "Assign", "Output"].contains(&k) {
                        self.schema(msg::field_not_supported(k), at);
                    }
                }
                let here = at.join("Condition");
                let condition = match obj.get("Condition") {
                    None => {
                        self.schema(msg::CHOICE_RULE_KIND, at);
                        None
                    }
                    Some(v @ Value::Bool(_)) => {
                        Some(Condition::Jsonata(Template::Literal(v.clone())))
                    }
                    Some(Value::String(s)) => self
                        .jsonata_string(s, &here)
                        .map(|e| Condition::Jsonata(Template::Jsonata(e))),
                    Some(_) => {
                        self.schema(msg::JSONATA_DELIMITERS, &here);
                        None
                    }
                };
                (condition, self.template_field(obj, "Output", at, ql))
            }
        };
        Some(ChoiceRule {
            condition: condition?,
            next: next?,
            assign,
            output,
            comment,
        })
    }

    /// A JSONPath Boolean expression: And/Or/Not, or Variable and one comparison operator.
    /// `top` rules may also have Next, Comment and Assign.
    fn condition(&mut self, obj: &Obj, at: &Pointer, top: bool) -> Option<Condition> {
        let mut operators = Vec::new();
        let mut kinds = Vec::new();
        for key in obj.keys() {
            let k = key.as_str();
            if ["And", "Or", "Not", "Variable"].contains(&k) {
                kinds.push(k);
            } else if let Some(op) = ComparisonOperator::from_name(k) {
                operators.push(op);
            } else if k == "Comment" || (top && (k == "Next" || k == "Assign")) {
                // handled by the caller
            } else {
                self.schema(msg::field_not_supported(k), at);
                return None;
            }
        }
        if kinds.len() != 1 {
            self.schema(msg::CHOICE_RULE_KIND, at);
            return None;
        }
        let kind = kinds[0];
        if kind != "Variable" {
            if !operators.is_empty() {
                let names: Vec<&str> = operators.iter().map(|o| o.name).collect();
                self.schema(msg::field_not_supported(names[0]), at);
                return None;
            }
            let here = at.join(kind);
            let value = &obj[kind];
            if kind == "Not" {
                let Some(inner) = value.as_object() else {
                    self.schema(msg::expected_type(JsonKind::Object), &here);
                    return None;
                };
                return self
                    .condition(inner, &here, false)
                    .map(|c| Condition::Not(Box::new(c)));
            }
            let Some(items) = value.as_array() else {
                self.schema(msg::expected_type(JsonKind::Array), &here);
                return None;
            };
            if items.is_empty() {
                self.schema(msg::VALUE_EMPTY, &here);
                return None;
            }
            let mut out = Vec::with_capacity(items.len());
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                let item_at = here.index(i);
                match item.as_object() {
                    Some(o) => match self.condition(o, &item_at, false) {
                        Some(c) => out.push(c),
                        None => ok = false,
                    },
                    None => {
                        self.schema(msg::expected_type(JsonKind::Object), &item_at);
                        ok = false;
                    }
                }
            }
            if !ok {
                return None;
            }
            return Some(if kind == "And" {
                Condition::And(out)
            } else {
                Condition::Or(out)
            });
        }
        let operator = match operators.as_slice() {
            [op] => *op,
            [] => {
                let all: Vec<&str> = ComparisonOperator::ALL.iter().map(|o| o.name).collect();
                self.schema(msg::exactly_one_of(&all), at);
                return None;
            }
            many => {
                let names: Vec<&str> = many.iter().map(|o| o.name).collect();
                self.schema(msg::only_one_of(&names), at);
                return None;
            }
        };
        let variable = self
            .path_field(obj, "Variable", at, PathRule::Reference, false)
            .flatten();
        let operand = self.operand(obj, at, operator);
        Some(Condition::Compare {
            variable: variable?,
            operator,
            operand: operand?,
        })
    }

    fn operand(&mut self, obj: &Obj, at: &Pointer, op: ComparisonOperator) -> Option<Operand> {
        if op.path {
            return self
                .path_field(obj, op.name, at, PathRule::Reference, false)
                .flatten()
                .map(Operand::Path);
        }
        let value = &obj[op.name];
        let here = at.join(op.name);
        let ok = match op.kind {
            OperandKind::String | OperandKind::Pattern => value.is_string(),
            OperandKind::Numeric => value.is_number(),
            OperandKind::Boolean | OperandKind::TypeTest => value.is_boolean(),
            OperandKind::Timestamp => {
                if let Some(s) = value.as_str() {
                    if crate::timestamp::parse_rfc3339(s).is_none() {
                        self.schema(msg::NOT_RFC3339, &here);
                        return None;
                    }
                    true
                } else {
                    false
                }
            }
        };
        if !ok {
            let kind = match op.kind {
                OperandKind::String | OperandKind::Pattern | OperandKind::Timestamp => {
                    JsonKind::String
                }
                OperandKind::Numeric => JsonKind::Number,
                OperandKind::Boolean | OperandKind::TypeTest => JsonKind::Boolean,
            };
            self.schema(msg::expected_type(kind), &here);
            return None;
        }
        Some(Operand::Literal(value.clone()))
    }

    fn wait(&mut self, obj: &Obj, at: &Pointer, ql: QueryLanguage) -> Option<StateKind> {
        // AWS lists the delay fields in this order.
        let delays: &[&str] = match ql {
            QueryLanguage::JsonPath => &["SecondsPath", "Seconds", "TimestampPath", "Timestamp"],
            QueryLanguage::Jsonata => &["Seconds", "Timestamp"],
        };
        let given: Vec<&str> = delays
            .iter()
            .copied()
            .filter(|k| obj.contains_key(*k))
            .collect();
        let transition = self.transition(obj, at);
        let duration =
            match given.as_slice() {
                [] => {
                    self.schema(msg::exactly_one_of(delays), at);
                    return None;
                }
                [_, _, ..] => {
                    self.schema(msg::only_one_of(delays), at);
                    return None;
                }
                ["Seconds"] => WaitDuration::Seconds(self.number_source(
                    obj,
                    at,
                    ql,
                    "Seconds",
                    "SecondsPath",
                    Bounds::integer(0, MAX_SECONDS),
                )?),
                ["SecondsPath"] => WaitDuration::Seconds(NumberSource::Path(self.path_field(
                    obj,
                    "SecondsPath",
                    at,
                    PathRule::Reference,
                    false,
                )??)),
                ["TimestampPath"] => WaitDuration::Timestamp(TimestampSource::Path(
                    self.path_field(obj, "TimestampPath", at, PathRule::Reference, false)??,
                )),
                _ => {
                    let here = at.join("Timestamp");
                    let s = self.string(obj, "Timestamp", at)?;
                    if ql == QueryLanguage::Jsonata && s.starts_with("{%") {
                        WaitDuration::Timestamp(TimestampSource::Jsonata(
                            self.jsonata_string(s, &here)?,
                        ))
                    } else if crate::timestamp::parse_rfc3339(s).is_some() {
                        WaitDuration::Timestamp(TimestampSource::Literal(s.to_owned()))
                    } else {
                        self.schema(msg::NOT_RFC3339, &here);
                        return None;
                    }
                }
            };
        Some(StateKind::Wait(Wait {
            duration,
            transition: transition?,
        }))
    }

    fn fail(&mut self, obj: &Obj, at: &Pointer, ql: QueryLanguage) -> Option<StateKind> {
        let error = self.fail_field(obj, at, ql, "Error", "ErrorPath");
        let cause = self.fail_field(obj, at, ql, "Cause", "CausePath");
        Some(StateKind::Fail(Fail {
            error: error?,
            cause: cause?,
        }))
    }

    /// `Error`/`Cause` or their `…Path`. `Some(None)` when neither is given.
    fn fail_field(
        &mut self,
        obj: &Obj,
        at: &Pointer,
        ql: QueryLanguage,
        key: &str,
        path_key: &str,
    ) -> Option<Option<FailField>> {
        if obj.contains_key(key) && obj.contains_key(path_key) {
            self.schema(msg::only_one_of(&[key, path_key]), at);
            return None;
        }
        if obj.contains_key(path_key) {
            if ql == QueryLanguage::Jsonata {
                return None; // reported as a field of the other language
            }
            return self
                .path_expr_field(obj, path_key, at)
                .map(|p| Some(FailField::Path(p)));
        }
        let Some(s) = self.string(obj, key, at) else {
            return if obj.contains_key(key) {
                None
            } else {
                Some(None)
            };
        };
        if ql == QueryLanguage::Jsonata && s.starts_with("{%") {
            return self
                .jsonata_string(s, &at.join(key))
                .map(|e| Some(FailField::Jsonata(e)));
        }
        Some(Some(FailField::Literal(s.to_owned())))
    }

    fn parallel(&mut self, obj: &Obj, at: &Pointer, ql: QueryLanguage) -> Option<StateKind> {
        let here = at.join("Branches");
        let branches = match obj.get("Branches") {
            None => {
                self.schema(msg::fields_required(&["Branches"]), at);
                None
            }
            Some(Value::Array(items)) if items.is_empty() => {
                self.schema(msg::VALUE_EMPTY, &here);
                None
            }
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    let branch_at = here.index(i);
                    match item.as_object() {
                        Some(b) => {
                            match self.machine(b, &branch_at, self.machine_ql, Level::Branch) {
                                Some(m) => out.push(std::sync::Arc::new(m)),
                                None => ok = false,
                            }
                        }
                        None => {
                            self.schema(msg::expected_type(JsonKind::Object), &branch_at);
                            ok = false;
                        }
                    }
                }
                ok.then_some(out)
            }
            Some(_) => {
                self.schema(msg::expected_type(JsonKind::Array), &here);
                None
            }
        };
        let retry = self.retriers(obj, at);
        let catch = self.catchers(obj, at, ql);
        let transition = self.transition(obj, at);
        Some(StateKind::Parallel(Parallel {
            branches: branches?,
            retry: retry?,
            catch: catch?,
            transition: transition?,
        }))
    }

    fn map(&mut self, obj: &Obj, at: &Pointer, ql: QueryLanguage) -> Option<StateKind> {
        let (key, level) = match (
            obj.contains_key("ItemProcessor"),
            obj.contains_key("Iterator"),
        ) {
            (true, false) => ("ItemProcessor", Level::ItemProcessor),
            // The legacy Iterator takes a ProcessorConfig too.
            (false, true) => ("Iterator", Level::ItemProcessor),
            (true, true) => {
                self.schema(msg::only_one_of(&["ItemProcessor", "Iterator"]), at);
                return None;
            }
            (false, false) => {
                self.schema(msg::exactly_one_of(&["ItemProcessor", "Iterator"]), at);
                return None;
            }
        };
        let processor_obj = self.object(obj, key, at)?;
        let processor_at = at.join(key);
        let processor_config = self.processor_config(processor_obj, &processor_at);
        let processor_definition = processor_config
            .filter(|c| c.mode == ProcessorMode::Distributed)
            .map(|_| {
                let mut definition = processor_obj.clone();
                definition.remove("ProcessorConfig");
                if self.machine_ql == QueryLanguage::Jsonata {
                    definition
                        .entry("QueryLanguage")
                        .or_insert_with(|| Value::from("JSONata"));
                }
                std::sync::Arc::from(Value::Object(definition).to_string())
            });
        let processor = self.machine(processor_obj, &processor_at, self.machine_ql, level);

        if obj.contains_key("Parameters") && obj.contains_key("ItemSelector") {
            self.schema(msg::only_one_of(&["Parameters", "ItemSelector"]), at);
        }
        let item_selector = if obj.contains_key("ItemSelector") {
            self.template_field(obj, "ItemSelector", at, ql)
        } else if ql == QueryLanguage::JsonPath {
            self.template_field(obj, "Parameters", at, ql)
        } else {
            None
        };
        let items_path = if ql == QueryLanguage::JsonPath {
            self.path_field(obj, "ItemsPath", at, PathRule::Reference, false)
                .flatten()
        } else {
            None
        };
        let items = if ql == QueryLanguage::Jsonata {
            let here = at.join("Items");
            match obj.get("Items") {
                None => None,
                Some(v @ (Value::Array(_) | Value::String(_))) => self.jsonata_template(v, &here),
                Some(_) => {
                    self.schema(msg::expected_type(JsonKind::Array), &here);
                    None
                }
            }
        } else {
            None
        };

        let item_reader = self.map_object(obj, "ItemReader", at, fields::ITEM_READER);
        if let Some(reader) = &item_reader {
            // ReaderConfig's fields grow with each new input format; they are not checked here.
            let reader_at = at.join("ItemReader");
            self.nested_resource(reader, &reader_at, resources::ITEM_READER_RESOURCES);
        }
        let item_batcher = self.map_object(obj, "ItemBatcher", at, fields::ITEM_BATCHER);
        let result_writer = self.map_object(obj, "ResultWriter", at, fields::RESULT_WRITER);
        if let Some(writer) = &result_writer {
            if writer.get("Resource").is_some() {
                self.nested_resource(
                    writer,
                    &at.join("ResultWriter"),
                    resources::RESULT_WRITER_RESOURCES,
                );
            }
        }

        let data = self.map_data(obj, at, ql);
        let max_concurrency = self.number_source(
            obj,
            at,
            ql,
            "MaxConcurrency",
            "MaxConcurrencyPath",
            Bounds::integer(0, u64::MAX),
        );
        let tolerated_failure_percentage = self.number_source(
            obj,
            at,
            ql,
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            Bounds::number(0, 100),
        );
        let tolerated_failure_count = self.number_source(
            obj,
            at,
            ql,
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            Bounds::integer(0, u64::MAX),
        );
        let label = self.string(obj, "Label", at).map(str::to_owned);
        if let Some(l) = &label {
            self.label(l, &at.join("Label"));
        }
        let retry = self.retriers(obj, at);
        let catch = self.catchers(obj, at, ql);
        let transition = self.transition(obj, at);
        Some(StateKind::Map(Box::new(Map {
            processor: std::sync::Arc::new(processor?),
            processor_config: processor_config?,
            items_path,
            items,
            item_selector,
            item_reader,
            item_batcher,
            result_writer,
            data,
            processor_definition,
            max_concurrency,
            tolerated_failure_percentage,
            tolerated_failure_count,
            label,
            retry: retry?,
            catch: catch?,
            transition: transition?,
        })))
    }

    /// The evaluated parts of ItemReader, ItemBatcher and ResultWriter (their shapes are
    /// checked by `map_object`; a bad path or expression here is reported where it is).
    fn map_data(&mut self, obj: &Obj, at: &Pointer, ql: QueryLanguage) -> MapData {
        let key = match ql {
            QueryLanguage::JsonPath => "Parameters",
            QueryLanguage::Jsonata => "Arguments",
        };
        let mut data = MapData::default();
        if let Some(Value::Object(reader)) = obj.get("ItemReader") {
            let here = at.join("ItemReader");
            data.reader_parameters = self.template_field(reader, key, &here, ql);
            if let Some(Value::Object(config)) = reader.get("ReaderConfig") {
                data.max_items =
                    self.runtime_number(config, &here.join("ReaderConfig"), ql, "MaxItems");
            }
        }
        if let Some(Value::Object(batcher)) = obj.get("ItemBatcher") {
            let here = at.join("ItemBatcher");
            data.max_items_per_batch = self.runtime_number(batcher, &here, ql, "MaxItemsPerBatch");
            data.max_input_bytes_per_batch =
                self.runtime_number(batcher, &here, ql, "MaxInputBytesPerBatch");
            data.batch_input = self.template_field(batcher, "BatchInput", &here, ql);
        }
        if let Some(Value::Object(writer)) = obj.get("ResultWriter") {
            let here = at.join("ResultWriter");
            data.writer_parameters = self.template_field(writer, key, &here, ql);
        }
        data
    }

    /// A number field whose value is checked when it is used, not here (AWS refuses a bad
    /// `MaxItems` or batch size only when the Map runs): a literal as it is, a `…Path`, or
    /// (JSONata) an expression.
    fn runtime_number(
        &mut self,
        obj: &Obj,
        at: &Pointer,
        ql: QueryLanguage,
        key: &str,
    ) -> Option<NumberSource> {
        let path_key = format!("{key}Path");
        if obj.contains_key(&path_key) && ql == QueryLanguage::JsonPath {
            return self
                .path_field(obj, &path_key, at, PathRule::Reference, false)
                .flatten()
                .map(NumberSource::Path);
        }
        match obj.get(key)? {
            Value::String(s) if ql == QueryLanguage::Jsonata => self
                .jsonata_string(s, &at.join(key))
                .map(NumberSource::Jsonata),
            v => Some(NumberSource::Literal(v.clone())),
        }
    }

    fn processor_config(&mut self, processor: &Obj, at: &Pointer) -> Option<ProcessorConfig> {
        let Some(config) = self.object(processor, "ProcessorConfig", at) else {
            return (!processor.contains_key("ProcessorConfig")).then(ProcessorConfig::default);
        };
        let here = at.join("ProcessorConfig");
        self.unknown_fields(config, fields::PROCESSOR_CONFIG, &here);
        let mode = match self.string(config, "Mode", &here) {
            None | Some("INLINE") => ProcessorMode::Inline,
            Some("DISTRIBUTED") => ProcessorMode::Distributed,
            Some(_) => {
                self.schema(msg::one_of(&["INLINE", "DISTRIBUTED"]), &here.join("Mode"));
                return None;
            }
        };
        if mode == ProcessorMode::Distributed && self.options.machine_type == MachineType::Express {
            self.schema(msg::EXPRESS_DISTRIBUTED, &here.join("Mode"));
        }
        let execution_type = match self.string(config, "ExecutionType", &here) {
            None => None,
            Some(_) if mode == ProcessorMode::Inline => {
                self.schema(msg::field_not_supported("ExecutionType"), &here);
                return None;
            }
            Some("STANDARD") => Some(ExecutionType::Standard),
            Some("EXPRESS") => Some(ExecutionType::Express),
            Some(_) => {
                self.schema(
                    msg::one_of(&["STANDARD", "EXPRESS"]),
                    &here.join("ExecutionType"),
                );
                return None;
            }
        };
        if mode == ProcessorMode::Distributed && execution_type.is_none() {
            self.schema(msg::fields_required(&["ExecutionType"]), &here);
            return None;
        }
        Some(ProcessorConfig {
            mode,
            execution_type,
        })
    }

    fn map_object(
        &mut self,
        obj: &Obj,
        key: &str,
        at: &Pointer,
        allowed: &[&str],
    ) -> Option<Value> {
        let o = self.object(obj, key, at)?;
        self.unknown_fields(o, allowed, &at.join(key));
        Some(Value::Object(o.clone()))
    }

    /// `Resource` of an ItemReader / ResultWriter: one of a few S3 integrations.
    fn nested_resource(&mut self, obj: &Value, at: &Pointer, allowed: &[(&str, &str)]) {
        match obj.get("Resource") {
            None => self.schema(msg::fields_required(&["Resource"]), at),
            Some(Value::String(r)) => {
                let ok = resources::classify(r).is_some_and(|resource| {
                    resource.integration().is_some_and(|s| {
                        s.pattern == resources::Pattern::RequestResponse
                            && allowed
                                .iter()
                                .any(|(service, action)| s.is(service, action))
                    })
                });
                if !ok {
                    self.schema(msg::RESOURCE_NOT_ALLOWED, &at.join("Resource"));
                }
            }
            Some(_) => self.schema(msg::expected_type(JsonKind::String), &at.join("Resource")),
        }
    }

    /// Map Labels: at most 40 characters, none AWS reserves, unique in the machine.
    fn label(&mut self, label: &str, at: &Pointer) {
        let problem = if label.is_empty() {
            Some(msg::LABEL_EMPTY.to_owned())
        } else if label.chars().count() > MAX_LABEL_CHARS {
            Some(msg::label_too_long(label))
        } else {
            label
                .chars()
                .find(|&c| !is_name_char(c))
                .map(|c| msg::label_invalid_character(label, c))
        };
        if let Some(message) = problem {
            self.push(Diagnostic::at(
                DiagnosticCode::InvalidLabelName,
                message,
                at,
            ));
        } else if !self.labels.insert(label.to_owned()) {
            self.push(Diagnostic::at(
                DiagnosticCode::DuplicateLabelName,
                msg::duplicate_label(label),
                at,
            ));
        }
    }
}

/// The message for a field that belongs to the other query language.
fn other_language(field: &str, ql: QueryLanguage) -> String {
    let other = match ql {
        QueryLanguage::JsonPath => QueryLanguage::Jsonata,
        QueryLanguage::Jsonata => QueryLanguage::JsonPath,
    };
    msg::field_of_other_language(field, ql.as_str(), other.as_str())
}

/// Whether AWS allows `c` in a name: state machine, execution, activity and Map Run names (a
/// Map's Label) exclude whitespace, brackets, wildcards, the punctuation AWS reserves and
/// control characters.
pub fn is_name_char(c: char) -> bool {
    !(c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '<' | '>'
                | '{'
                | '}'
                | '['
                | ']'
                | '?'
                | '*'
                | '"'
                | '#'
                | '%'
                | '\\'
                | '^'
                | '|'
                | '~'
                | '`'
                | '$'
                | '&'
                | ','
                | ';'
                | ':'
                | '/'
        ))
}

/// Variable names: a letter or underscore, then letters, digits or underscores.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}
