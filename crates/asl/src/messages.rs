//! The texts of AWS's definition diagnostics, in one place.
//!
//! Each text says where it comes from: *recorded* texts appear verbatim in responses recorded
//! against AWS (the conformance corpus); *measured* texts were published by others who ran the
//! definition against AWS's ValidateStateMachineDefinition; *ours* are texts AWS's wording is not
//! known for, written in AWS's style. Change a text here and every rule that uses it follows.

/// *recorded*: a definition that is blank or not a JSON object.
pub const NOT_A_JSON_OBJECT: &str = "Definition must be a valid JSON object";

/// *recorded*: fields that are missing, e.g. `[States, StartAt]` (AWS lists them in this order).
pub fn fields_required(names: &[&str]) -> String {
    format!("These fields are required: [{}]", names.join(", "))
}

/// *recorded*: a required field inside a structure (`Credentials.RoleArn`).
pub fn field_required(name: &str) -> String {
    format!("The field '{name}' is required but was missing")
}

/// *measured*: a field the state type or structure does not have.
pub fn field_not_supported(name: &str) -> String {
    format!("Field '{name}' is not supported")
}

/// *measured*: a field of the other query language.
pub fn field_of_other_language(field: &str, language: &str, other: &str) -> String {
    format!(
        "The QueryLanguage is set to '{language}', but field '{field}' is only supported for the '{other}' QueryLanguage"
    )
}

/// *recorded*: an unknown state `Type`.
pub fn type_one_of(values: &[&str]) -> String {
    format!(
        "The field 'Type' should have one of these values: [{}]",
        values.join(", ")
    )
}

/// *measured*: any other value outside its enumeration.
pub fn one_of(values: &[&str]) -> String {
    format!(
        "Value should be one of the following: [{}]",
        values.join(", ")
    )
}

/// *measured*: a value of the wrong JSON type (`[STRING]`); *ours* for other types, same form.
pub fn expected_type(kind: JsonKind) -> String {
    format!("Expected value of type [{}]", kind.as_str())
}

/// JSON types as AWS names them in [`expected_type`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
}

impl JsonKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JsonKind::String => "STRING",
            JsonKind::Integer => "INTEGER",
            JsonKind::Number => "NUMBER",
            JsonKind::Boolean => "BOOLEAN",
            JsonKind::Object => "OBJECT",
            JsonKind::Array => "ARRAY",
        }
    }
}

/// *measured*: a number under its minimum.
pub fn minimum(minimum: impl std::fmt::Display) -> String {
    format!("Minimum value is {minimum}")
}

/// *measured*: a number over its maximum.
pub fn maximum(maximum: impl std::fmt::Display) -> String {
    format!("Maximum value is {maximum}")
}

/// *recorded*: an empty array or object where one is not allowed (`Branches`, `Choices`).
pub const VALUE_EMPTY: &str = "Value cannot be empty";

/// *recorded*: `Timestamp` that is not RFC 3339.
pub const NOT_RFC3339: &str = "String does not match RFC3339 timestamp";

/// *recorded*: a `key.$` that is neither a path nor an intrinsic function call.
pub fn not_path_or_intrinsic(field: &str) -> String {
    format!(
        "The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call"
    )
}

/// *measured*: a path field (`InputPath`, `OutputPath`, …) whose value is not a JSONPath.
pub const NOT_JSON_PATH: &str = "Value must be a valid JSONPath.";

/// *measured*: a field that must be a Reference Path (`ResultPath`, `Variable`, …); the reason
/// for a path that does start with `$` is *ours*.
pub fn not_reference_path(reason: &str) -> String {
    format!("Value is not a Reference Path: {reason}")
}

pub const REFERENCE_PATH_NO_DOLLAR: &str = "Reference path didn't start with '$'";
pub const REFERENCE_PATH_NOT_SINGLE: &str =
    "Reference path may only select a single node by name or index";
pub const REFERENCE_PATH_VARIABLE: &str = "Reference path cannot refer to a variable";
pub const REFERENCE_PATH_CONTEXT: &str = "Reference path cannot refer to the context object";

/// *measured*: a JSONata expression that does not parse; AWS gives the parser's message without
/// its `Sxxxx: ` code (the message is already in JSONata 2.0.6's words, see `jsonata::wording`).
pub fn invalid_jsonata(parser_message: &str) -> String {
    match parser_message.split_once(": ") {
        Some((code, rest))
            if code.len() == 5
                && code.starts_with(['S', 'T', 'D', 'U'])
                && code[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            rest.to_owned()
        }
        _ => parser_message.to_owned(),
    }
}

/// *measured*: a string that opens `{%` but does not close it, or a field that must be JSONata.
pub const JSONATA_DELIMITERS: &str = "JSONata string must start with {% and end with %}";

/// *recorded*: a state that overrides a JSONata machine with JSONPath.
pub const QUERY_LANGUAGE_CONFLICT: &str =
    "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine";

/// *recorded* (note AWS's trailing space).
pub fn express_pattern(suffix: &str) -> String {
    format!("Express state machine does not support '{suffix}' service integration ")
}

/// *recorded*.
pub const EXPRESS_ACTIVITY: &str = "Express state machine does not support Activity ARN";

/// *measured*.
pub const EXPRESS_DISTRIBUTED: &str =
    "The field 'Mode' with value 'DISTRIBUTED' is not supported inside 'EXPRESS' state machines";

/// *measured*: a Resource that is not an ARN at all.
pub const NOT_A_RESOURCE_ARN: &str = "Value is not a valid resource ARN";

/// *recorded*: an `arn:aws:states:::` Resource that names no integration AWS has.
pub fn resource_not_recognized(resource: &str) -> String {
    format!(
        "The resource provided {resource} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."
    )
}

/// *measured*: an ItemReader / ResultWriter Resource that is not one of the S3 integrations.
pub const RESOURCE_NOT_ALLOWED: &str =
    "The field 'Resource' does not match any of the allowed values";

/// *measured*: an optimized integration without its request (`Parameters` or `Arguments`).
pub fn payload_required(field: &str, resource: &str) -> String {
    format!("{field} field is required for resource ARN: {resource}")
}

/// *measured*.
pub const CREDENTIALS_FOR_ACTIVITY: &str =
    "The field 'Credentials' is not supported for activities";

/// *measured*: more than one field of an exclusive group.
pub fn only_one_of(names: &[&str]) -> String {
    format!(
        "There should only be one of the following fields: [{}]",
        names.join(", ")
    )
}

/// *measured*: none of a group of which one is required.
pub fn exactly_one_of(names: &[&str]) -> String {
    format!(
        "This object should have only one of the following fields: [{}]",
        names.join(", ")
    )
}

/// *measured*: a Choice rule that is not exactly one of these kinds.
pub const CHOICE_RULE_KIND: &str =
    "The object must have only one of the following fields, [And, Or, Not, Variable, Condition]";

/// *measured*: `States.ALL` with other names, or not in the last retrier/catcher.
pub const STATES_ALL_ALONE_AND_LAST: &str = "States.ALL must appear alone and at end of list";

/// *ours*: `HeartbeatSeconds` not below `TimeoutSeconds` (the ASL specification requires it).
pub const HEARTBEAT_NOT_BELOW_TIMEOUT: &str =
    "The value of 'HeartbeatSeconds' must be less than the value of 'TimeoutSeconds'";

/// *recorded* (AWS's text): a `Next`/`Default`/`StartAt` naming no state.
pub fn missing_next_target(target: &str) -> String {
    format!("Missing 'Next' target: {target}")
}

/// *recorded*: a state nothing leads to.
pub fn unreachable_state(name: &str) -> String {
    format!("State \"{name}\" is not reachable.")
}

/// *measured*: no state of the top-level machine ends it.
pub const NO_TERMINAL_STATE: &str = "Workflow has no terminal state";

/// *measured*: a state name used twice anywhere in the machine.
pub fn duplicate_state_name(name: &str) -> String {
    format!("Duplicate State name: {name}")
}

/// *recorded* (AWS's text): a state name over 80 characters.
pub fn state_name_too_long(name: &str) -> String {
    format!(
        "Invalid State name: State '{name}' exceeds the 80-character limit allowed by the service"
    )
}

/// *ours*, after the state-name text: a Label over 40 characters.
pub fn label_too_long(label: &str) -> String {
    format!(
        "Invalid Label name: Label '{label}' exceeds the 40-character limit allowed by the service"
    )
}

/// *ours*: an empty Label.
pub const LABEL_EMPTY: &str = "Invalid Label name: Label cannot be empty";

/// *ours*: a Label character AWS does not allow.
pub fn label_invalid_character(label: &str, c: char) -> String {
    format!(
        "Invalid Label name: Label '{label}' contains the invalid character '{}'",
        c.escape_default()
    )
}

/// *measured*: the same Label on two Map states.
pub fn duplicate_label(label: &str) -> String {
    format!("Duplicate Label name: {label}")
}

/// *measured*: an `Assign` to `states`.
pub fn reserved_variable(name: &str) -> String {
    format!("Cannot assign to reserved variable '${name}'.")
}

/// *measured*: an `Assign` key that is not an identifier.
pub fn invalid_variable_name(name: &str) -> String {
    format!("Invalid variable name '{name}': the variable name contains invalid characters.")
}

/// *ours*: a definition over AWS's size limit.
pub const DEFINITION_TOO_LARGE: &str = "Definition must be at most 1048576 characters long";

/// *ours*: a definition that nests deeper than the parser goes (AWS's code, our words).
pub const TOO_DEEPLY_NESTED: &str = "The definition is nested too deeply";
