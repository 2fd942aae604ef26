//! The Amazon States Language: the typed model of a state machine definition, its parser and
//! validator (with AWS's own diagnostics), JSONPath and Reference Paths, intrinsic functions and
//! the definition-time half of the JSONata layer.
//!
//! Pure: no IO, no clock. The interpreter (`stepwise-engine`) runs what this crate models.
//!
//! ```
//! use stepwise_asl::{parse_definition, ParseOptions};
//!
//! let text = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#;
//! let report = parse_definition(text, ParseOptions::default()).unwrap_err();
//! assert_eq!(
//!     report.invalid_definition_message().unwrap(),
//!     "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next, MISSING_END_STATE: Workflow has no terminal state at null'"
//! );
//! ```

pub mod choice;
pub mod diagnostic;
pub mod error_names;
pub mod eval;
pub mod intrinsics;
pub mod jsonata;
pub mod jsonpath;
pub mod messages;
pub mod model;
pub mod parse;
pub mod pointer;
pub mod timestamp;

pub use diagnostic::{Diagnostic, DiagnosticCode, Report, Severity};
pub use model::StateMachine;
pub use parse::json_syntax::{JsonSyntaxError, parse_json};
pub use parse::{
    MachineType, ParseOptions, parse_definition, parse_state, parse_value, validate_definition,
};
pub use pointer::Pointer;
