//! Intrinsic function calls of the Amazon States Language, such as
//! `States.Format('Hello {}', $.name)`.
//!
//! This module owns the syntax of intrinsic calls: the catalogue of the 18
//! AWS functions with their argument-count rules, parsing a call string into
//! an [`IntrinsicCall`] AST (string/number/boolean/null literals, JSONPath
//! arguments and nested calls), and printing calls back in canonical form.
//! [`evaluate`] runs a parsed call against a [`Scope`](crate::eval::Scope).

use std::fmt::{self, Write as _};

use serde_json::Number;

use crate::jsonpath::{self, JsonPath};

mod eval;

pub use eval::evaluate;

/// Safety bound on nested calls. AWS documents that up to 10 intrinsic
/// functions may be nested in one field; deeper nesting is rejected.
pub const MAX_NESTED_CALLS: usize = 10;

/// An intrinsic call string could not be parsed or is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid intrinsic function call: {message} (at byte {position})")]
pub struct IntrinsicError {
    /// Human readable description of the problem.
    pub message: String,
    /// Byte offset into the parsed string where the problem was detected.
    pub position: usize,
}

/// The intrinsic functions AWS Step Functions provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntrinsicFunction {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

/// Name and accepted argument counts of one function.
struct Spec {
    function: IntrinsicFunction,
    name: &'static str,
    min_args: usize,
    /// `None`: no upper bound.
    max_args: Option<usize>,
}

const fn spec(
    function: IntrinsicFunction,
    name: &'static str,
    min_args: usize,
    max_args: Option<usize>,
) -> Spec {
    Spec {
        function,
        name,
        min_args,
        max_args,
    }
}

/// The argument-count rules, in declaration order of [`IntrinsicFunction`]
/// (checked at compile time below).
const SPECS: [Spec; 18] = {
    use IntrinsicFunction as F;
    [
        spec(F::Format, "States.Format", 1, None),
        spec(F::StringToJson, "States.StringToJson", 1, Some(1)),
        spec(F::JsonToString, "States.JsonToString", 1, Some(1)),
        spec(F::Array, "States.Array", 0, None),
        spec(F::ArrayPartition, "States.ArrayPartition", 2, Some(2)),
        spec(F::ArrayContains, "States.ArrayContains", 2, Some(2)),
        spec(F::ArrayRange, "States.ArrayRange", 3, Some(3)),
        spec(F::ArrayGetItem, "States.ArrayGetItem", 2, Some(2)),
        spec(F::ArrayLength, "States.ArrayLength", 1, Some(1)),
        spec(F::ArrayUnique, "States.ArrayUnique", 1, Some(1)),
        spec(F::Base64Encode, "States.Base64Encode", 1, Some(1)),
        spec(F::Base64Decode, "States.Base64Decode", 1, Some(1)),
        spec(F::Hash, "States.Hash", 2, Some(2)),
        spec(F::JsonMerge, "States.JsonMerge", 3, Some(3)),
        spec(F::MathRandom, "States.MathRandom", 2, Some(3)),
        spec(F::MathAdd, "States.MathAdd", 2, Some(2)),
        spec(F::StringSplit, "States.StringSplit", 2, Some(2)),
        spec(F::Uuid, "States.UUID", 0, Some(0)),
    ]
};

// `SPECS[f as usize]` is the entry for `f`.
const _: () = {
    let mut i = 0;
    while i < SPECS.len() {
        assert!(SPECS[i].function as usize == i);
        i += 1;
    }
};

impl IntrinsicFunction {
    /// Every function, in declaration order.
    pub const ALL: [IntrinsicFunction; 18] = {
        let mut all = [IntrinsicFunction::Format; 18];
        let mut i = 0;
        while i < SPECS.len() {
            all[i] = SPECS[i].function;
            i += 1;
        }
        all
    };

    fn spec(self) -> &'static Spec {
        &SPECS[self as usize]
    }

    /// The full name, e.g. `"States.Format"`.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Look up a function by its full, case-sensitive name (`"States.UUID"`).
    pub fn from_name(name: &str) -> Option<Self> {
        SPECS.iter().find(|s| s.name == name).map(|s| s.function)
    }

    /// Fewest arguments the function accepts.
    pub fn min_args(self) -> usize {
        self.spec().min_args
    }

    /// Most arguments the function accepts; `None` means unbounded.
    pub fn max_args(self) -> Option<usize> {
        self.spec().max_args
    }

    /// Whether `count` arguments are acceptable.
    pub fn accepts_arg_count(self, count: usize) -> bool {
        count >= self.min_args() && self.max_args().is_none_or(|max| count <= max)
    }

    fn arity_text(self) -> String {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        match (self.min_args(), self.max_args()) {
            (min, Some(max)) if min == max => format!("exactly {min} argument{}", plural(min)),
            (min, Some(max)) => format!("{min} to {max} arguments"),
            (0, None) => "any number of arguments".to_string(),
            (min, None) => format!("at least {min} argument{}", plural(min)),
        }
    }
}

impl fmt::Display for IntrinsicFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed intrinsic function call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrinsicCall {
    pub function: IntrinsicFunction,
    pub args: Vec<IntrinsicArg>,
    /// For `States.Format` whose first argument is a string literal: that
    /// literal split into text and `{}` placeholders. Needed because `\{`
    /// and `\}` are literal braces, which the decoded string cannot show.
    pub template: Option<FormatTemplate>,
}

/// One argument of an intrinsic call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntrinsicArg {
    /// A single-quoted string literal, escapes decoded.
    String(String),
    Number(Number),
    Bool(bool),
    Null,
    /// A JSONPath (`$...`, `$$...` or `$variable...`).
    Path(JsonPath),
    /// A nested intrinsic call.
    Call(IntrinsicCall),
}

/// A `States.Format` template split at its `{}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FormatTemplate {
    pub pieces: Vec<FormatPiece>,
}

/// Part of a [`FormatTemplate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatPiece {
    /// Literal text, escapes decoded.
    Text(String),
    /// A `{}` to be replaced by the next argument.
    Placeholder,
}

impl FormatTemplate {
    /// Split a template whose text was produced at run time (e.g. taken from
    /// a JSONPath argument): every `{}` is a placeholder, nothing is escaped.
    pub fn from_runtime_str(s: &str) -> Self {
        let mut template = FormatTemplate::default();
        for (i, part) in s.split("{}").enumerate() {
            if i > 0 {
                template.pieces.push(FormatPiece::Placeholder);
            }
            template.push_text(part);
        }
        template
    }

    /// Number of `{}` placeholders.
    pub fn placeholder_count(&self) -> usize {
        self.pieces
            .iter()
            .filter(|p| matches!(p, FormatPiece::Placeholder))
            .count()
    }

    fn push_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(FormatPiece::Text(last)) = self.pieces.last_mut() {
            last.push_str(text);
        } else {
            self.pieces.push(FormatPiece::Text(text.to_string()));
        }
    }

    /// Build from literal characters tagged with whether they were escaped.
    fn from_literal(chars: &[(char, bool)]) -> Self {
        let mut template = FormatTemplate::default();
        let mut text = String::new();
        let mut i = 0;
        while let Some(&(c, escaped)) = chars.get(i) {
            if c == '{' && !escaped && chars.get(i + 1) == Some(&('}', false)) {
                template.push_text(&text);
                text.clear();
                template.pieces.push(FormatPiece::Placeholder);
                i += 2;
            } else {
                text.push(c);
                i += 1;
            }
        }
        template.push_text(&text);
        template
    }
}

/// `true` if `s` has the shape of an intrinsic call: `States.`, a function
/// name and `(`. Lets a caller choose between reporting a JSONPath error and
/// an intrinsic-call error (or the combined "must be a valid JSONPath or a
/// valid intrinsic function call").
pub fn looks_like_intrinsic(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("States.") else {
        return false;
    };
    let name_len = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    name_len > 0 && rest[name_len..].starts_with('(')
}

/// Parse an intrinsic call such as `States.Format('Hello {}', $.name)`.
///
/// Whitespace is allowed around arguments and commas and after the closing
/// parenthesis. Argument counts are checked against the AWS documentation.
pub fn parse(s: &str) -> Result<IntrinsicCall, IntrinsicError> {
    let mut p = Parser { src: s, pos: 0 };
    let call = p.call(1)?;
    p.skip_ws();
    if let Some(c) = p.peek() {
        return p.fail(format!("unexpected {c:?} after the closing ')'"));
    }
    Ok(call)
}

impl std::str::FromStr for IntrinsicCall {
    type Err = IntrinsicError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

struct Parser<'s> {
    src: &'s str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, IntrinsicError> {
        fail_at(self.pos, message)
    }

    fn call(&mut self, depth: usize) -> Result<IntrinsicCall, IntrinsicError> {
        let start = self.pos;
        if depth > MAX_NESTED_CALLS {
            return self.fail(format!(
                "intrinsic functions can be nested at most {MAX_NESTED_CALLS} deep"
            ));
        }
        if !self.rest().starts_with("States.") {
            return self.fail("expected an intrinsic function name starting with 'States.'");
        }
        self.pos += "States.".len();
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            self.bump();
        }
        let name = &self.src[start..self.pos];
        let Some(function) = IntrinsicFunction::from_name(name) else {
            return fail_at(start, format!("unknown intrinsic function '{name}'"));
        };
        if !self.eat('(') {
            return match self.peek() {
                Some(c) => self.fail(format!("expected '(' after {name}, found {c:?}")),
                None => self.fail(format!("expected '(' after {name}")),
            };
        }
        let mut args = Vec::new();
        let mut template = None;
        self.skip_ws();
        if !self.eat(')') {
            loop {
                let (arg, literal) = self.arg(depth)?;
                if function == IntrinsicFunction::Format && args.is_empty() {
                    template = literal.map(|chars| FormatTemplate::from_literal(&chars));
                }
                args.push(arg);
                self.skip_ws();
                if self.eat(',') {
                    continue;
                }
                if self.eat(')') {
                    break;
                }
                return match self.peek() {
                    Some(c) => self.fail(format!("expected ',' or ')', found {c:?}")),
                    None => self.fail(format!("missing ')' to close {name}(")),
                };
            }
        }
        if !function.accepts_arg_count(args.len()) {
            return fail_at(
                start,
                format!(
                    "{name} takes {}, but {} {} given",
                    function.arity_text(),
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
            );
        }
        Ok(IntrinsicCall {
            function,
            args,
            template,
        })
    }

    /// One argument; for string literals also the characters with their
    /// escaped flags (used to build a Format template).
    #[allow(clippy::type_complexity)]
    fn arg(
        &mut self,
        depth: usize,
    ) -> Result<(IntrinsicArg, Option<Vec<(char, bool)>>), IntrinsicError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            Some('\'') => {
                let chars = self.string_literal()?;
                let value = chars.iter().map(|(c, _)| *c).collect();
                Ok((IntrinsicArg::String(value), Some(chars)))
            }
            Some('$') => {
                let end = path_end(self.src, start);
                let text = &self.src[start..end];
                let path = jsonpath::parse(text).map_err(|e| IntrinsicError {
                    message: format!("invalid path argument '{text}': {}", e.message),
                    position: start + e.position,
                })?;
                self.pos = end;
                Ok((IntrinsicArg::Path(path), None))
            }
            Some(c) if c == '-' || c.is_ascii_digit() => Ok((self.number()?, None)),
            Some(c) if c.is_ascii_alphabetic() => {
                if self.rest().starts_with("States.") {
                    return Ok((IntrinsicArg::Call(self.call(depth + 1)?), None));
                }
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.')
                {
                    self.bump();
                }
                match &self.src[start..self.pos] {
                    "true" => Ok((IntrinsicArg::Bool(true), None)),
                    "false" => Ok((IntrinsicArg::Bool(false), None)),
                    "null" => Ok((IntrinsicArg::Null, None)),
                    word => fail_at(
                        start,
                        format!(
                            "unexpected '{word}'; arguments must be 'strings', numbers, true, false, null, paths or intrinsic calls"
                        ),
                    ),
                }
            }
            Some('"') => self.fail("string literals must use single quotes"),
            Some(')') | Some(',') => self.fail("missing argument"),
            Some(c) => self.fail(format!("unexpected {c:?} where an argument was expected")),
            None => self.fail("unterminated argument list"),
        }
    }

    /// A single-quoted literal. The only escapes are `\'`, `\{`, `\}` and `\\`.
    fn string_literal(&mut self) -> Result<Vec<(char, bool)>, IntrinsicError> {
        let start = self.pos;
        self.eat('\'');
        let mut chars = Vec::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None => return fail_at(start, "unterminated string literal"),
                Some('\'') => return Ok(chars),
                Some('\\') => match self.bump() {
                    Some(c @ ('\'' | '{' | '}' | '\\')) => chars.push((c, true)),
                    Some(c) => {
                        return fail_at(
                            at,
                            format!(
                                "invalid escape sequence '\\{c}' in string literal; only \\', \\{{, \\}} and \\\\ are allowed"
                            ),
                        );
                    }
                    None => return fail_at(start, "unterminated string literal"),
                },
                Some(c) => chars.push((c, false)),
            }
        }
    }

    /// `-?digits(.digits)?`
    fn number(&mut self) -> Result<IntrinsicArg, IntrinsicError> {
        let start = self.pos;
        self.eat('-');
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.bump();
            }
            p.pos > from
        };
        if !digits(self) {
            return self.fail("expected digits in number");
        }
        let mut integral = true;
        if self.eat('.') {
            integral = false;
            if !digits(self) {
                return self.fail("expected digits after '.' in number");
            }
        }
        if let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '.') {
            return self.fail(format!("unexpected {c:?} in number"));
        }
        let text = &self.src[start..self.pos];
        jsonpath::number_from_text(text, integral)
            .map(IntrinsicArg::Number)
            .ok_or_else(|| IntrinsicError {
                message: format!("number {text} is out of range"),
                position: start,
            })
    }
}

fn fail_at<T>(position: usize, message: impl Into<String>) -> Result<T, IntrinsicError> {
    Err(IntrinsicError {
        message: message.into(),
        position,
    })
}

/// End of a path argument starting at `start`: the first `,`, `)` or
/// whitespace outside brackets, parentheses and (bracketed) quotes.
fn path_end(src: &str, start: usize) -> usize {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (offset, c) in src.get(start..).unwrap_or("").char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' if depth > 0 => quote = Some(c),
            '[' | '(' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            ')' if depth > 0 => depth -= 1,
            ')' | ',' if depth == 0 => return start + offset,
            c if c.is_whitespace() && depth == 0 => return start + offset,
            _ => {}
        }
    }
    src.len()
}

// ---------------------------------------------------------------------------
// Display (canonical form)
// ---------------------------------------------------------------------------

fn write_literal_char(f: &mut fmt::Formatter<'_>, c: char) -> fmt::Result {
    if matches!(c, '\'' | '{' | '}' | '\\') {
        f.write_char('\\')?;
    }
    f.write_char(c)
}

impl fmt::Display for IntrinsicCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.function)?;
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match (&self.template, arg) {
                (Some(template), IntrinsicArg::String(_)) if i == 0 => write!(f, "{template}")?,
                _ => write!(f, "{arg}")?,
            }
        }
        f.write_char(')')
    }
}

impl fmt::Display for FormatTemplate {
    /// As a string literal: placeholders as `{}`, literal braces escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('\'')?;
        for piece in &self.pieces {
            match piece {
                FormatPiece::Placeholder => f.write_str("{}")?,
                FormatPiece::Text(text) => {
                    for c in text.chars() {
                        write_literal_char(f, c)?;
                    }
                }
            }
        }
        f.write_char('\'')
    }
}

impl fmt::Display for IntrinsicArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntrinsicArg::String(s) => {
                f.write_char('\'')?;
                for c in s.chars() {
                    write_literal_char(f, c)?;
                }
                f.write_char('\'')
            }
            IntrinsicArg::Number(n) => match n.as_f64() {
                // Plain decimal notation (the grammar has no exponents),
                // keeping a fraction so the value re-parses as a float.
                Some(x) if n.is_f64() => {
                    let text = x.to_string();
                    f.write_str(&text)?;
                    if !text.contains('.') {
                        f.write_str(".0")?;
                    }
                    Ok(())
                }
                _ => write!(f, "{n}"),
            },
            IntrinsicArg::Bool(b) => write!(f, "{b}"),
            IntrinsicArg::Null => f.write_str("null"),
            IntrinsicArg::Path(p) => write!(f, "{p}"),
            IntrinsicArg::Call(c) => write!(f, "{c}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonpath::Root;
    use IntrinsicFunction as F;

    fn ok(s: &str) -> IntrinsicCall {
        match parse(s) {
            Ok(call) => call,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    fn err(s: &str) -> IntrinsicError {
        match parse(s) {
            Ok(call) => panic!("{s:?} should be rejected, got {call:?}"),
            Err(e) => e,
        }
    }

    fn path(s: &str) -> IntrinsicArg {
        IntrinsicArg::Path(jsonpath::parse(s).expect("test path"))
    }

    fn string(s: &str) -> IntrinsicArg {
        IntrinsicArg::String(s.to_string())
    }

    /// Intrinsic calls from state machine definitions AWS accepted.
    const ACCEPTED: &[&str] = &[
        "States.Array($.FunctionInput.fst, $.FunctionInput.snd)",
        "States.Array('a', 'b', 'c')",
        "States.Array()",
        "States.ArrayContains($.inputArray, 5)",
        "States.ArrayGetItem($.inputArray, 2)",
        "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 0)",
        "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))",
        "States.ArrayLength($.FunctionInput)",
        "States.ArrayPartition($.inputArray, 2)",
        "States.ArrayRange($.FunctionInput.fst, $.FunctionInput.snd, $.FunctionInput.trd)",
        "States.ArrayRange(1, 10, 2)",
        "States.ArrayUnique($.duplicateArray)",
        "States.Base64Decode($.encodedString)",
        "States.Base64Encode($.rawString)",
        "States.Format($.AnswerTemplate, $$.Map.Item.Value)",
        "States.Format('Format Func {}', $.input_value)",
        "States.Format('Formatting arguments fst={} and snd={}.', $$.Execution.Name, $$.StateMachine)",
        "States.Format('Hello {}, welcome to {}!', $.name, $.place)",
        "States.Hash($.inputString, 'SHA-256')",
        "States.JsonMerge($.json1, $.json2, false)",
        "States.JsonToString($.jsonObject)",
        "States.MathAdd($.Iterations, -1)",
        "States.MathAdd(States.MathAdd(States.MathAdd($yCurrent, $xCurrent), $zCurrent), $bias)",
        "States.MathRandom($.FunctionInput.fst, $.FunctionInput.snd)",
        "States.MathRandom($.FunctionInput.fst, $.FunctionInput.snd, $.FunctionInput.trd)",
        "States.StringSplit($$.Execution.Input.FunctionInput, ',')",
        "States.StringSplit($.csvString, ',')",
        "States.StringToJson($.jsonString)",
        "States.UUID()",
        // From the AWS documentation (nine nested calls).
        "States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))",
    ];

    #[test]
    fn accepts_corpus_calls() {
        for s in ACCEPTED {
            let call = ok(s);
            assert!(looks_like_intrinsic(s), "{s}");
            // Canonical printing round-trips.
            assert_eq!(ok(&call.to_string()), call, "{s}");
        }
    }

    #[test]
    fn function_table() {
        assert_eq!(IntrinsicFunction::ALL.len(), 18);
        for f in IntrinsicFunction::ALL {
            assert_eq!(IntrinsicFunction::from_name(f.name()), Some(f));
            assert!(f.name().starts_with("States."));
        }
        assert_eq!(F::Uuid.name(), "States.UUID");
        assert_eq!(F::from_name("States.Uuid"), None);
        assert_eq!(F::from_name("Format"), None);
        assert_eq!(F::from_name("states.Format"), None);
        assert_eq!(
            (F::MathRandom.min_args(), F::MathRandom.max_args()),
            (2, Some(3))
        );
        assert_eq!((F::Format.min_args(), F::Format.max_args()), (1, None));
        assert_eq!((F::Array.min_args(), F::Array.max_args()), (0, None));
        assert!(F::Array.accepts_arg_count(0) && F::Array.accepts_arg_count(100));
        assert!(!F::Uuid.accepts_arg_count(1));
        assert_eq!(F::JsonMerge.to_string(), "States.JsonMerge");
    }

    #[test]
    fn parses_argument_kinds() {
        let call = ok(
            "States.Array('s', 1, -2.5, true, false, null, $.a[0], $$.Task.Token, $v.x, States.UUID())",
        );
        assert_eq!(call.function, F::Array);
        assert_eq!(
            call.args,
            vec![
                string("s"),
                IntrinsicArg::Number(1.into()),
                IntrinsicArg::Number(Number::from_f64(-2.5).expect("finite")),
                IntrinsicArg::Bool(true),
                IntrinsicArg::Bool(false),
                IntrinsicArg::Null,
                path("$.a[0]"),
                path("$$.Task.Token"),
                path("$v.x"),
                IntrinsicArg::Call(IntrinsicCall {
                    function: F::Uuid,
                    args: vec![],
                    template: None
                }),
            ]
        );
        let IntrinsicArg::Path(p) = &call.args[8] else {
            panic!("expected a path");
        };
        assert_eq!(p.root, Root::Variable("v".into()));
        assert_eq!(call.template, None);
    }

    #[test]
    fn whitespace_around_arguments() {
        let a = ok("States.Format( 'x {}' ,$.a )");
        let b = ok("States.Format('x {}', $.a)");
        let c = ok("States.Format(\n\t'x {}'\n,\n$.a\n)  ");
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(ok("States.UUID( )"), ok("States.UUID()"));
        assert_eq!(a.to_string(), "States.Format('x {}', $.a)");
    }

    #[test]
    fn paths_with_commas_brackets_and_filters() {
        let call = ok("States.Array($['a,b'], $.x[0,1], $.y[?(@.z == 'q)')], $[\"p)\"])");
        assert_eq!(call.args.len(), 4);
        assert_eq!(call.args[0], path("$['a,b']"));
        assert_eq!(call.args[1], path("$.x[0,1]"));
        assert_eq!(call.args[2], path("$.y[?(@.z == 'q)')]"));
        assert_eq!(call.args[3], path("$[\"p)\"]"));
        let e = err("States.Array($.a b)");
        assert!(e.message.contains("expected ',' or ')'"), "{e}");
        let e = err("States.Array($.a..)");
        assert!(e.message.contains("invalid path argument"), "{e}");
        assert_eq!(e.position, 18);
    }

    #[test]
    fn string_escapes() {
        assert_eq!(ok(r"States.Array('it\'s')").args, vec![string("it's")]);
        assert_eq!(ok(r"States.Array('a\\b')").args, vec![string(r"a\b")]);
        assert_eq!(ok(r"States.Array('\{\}')").args, vec![string("{}")]);
        assert_eq!(
            ok(r#"States.Array('say "hi"')"#).args,
            vec![string(r#"say "hi""#)]
        );
        assert_eq!(ok("States.Array('')").args, vec![string("")]);
        assert_eq!(ok("States.Array('日本 😀')").args, vec![string("日本 😀")]);
        for bad in [r"'\n'", r"'\t'", r#"'\"'"#, r"'\u0041'", r"'\/'", r"'\ '"] {
            let e = err(&format!("States.Array({bad})"));
            assert!(e.message.contains("invalid escape"), "{bad}: {e}");
            assert_eq!(e.position, 14, "{bad}");
        }
        // Rejected by AWS at definition time (value after JSON decoding).
        let e = err(r#"States.Format('He said, \"Hello, {}!\"', 'Test \"Name\" Here')"#);
        assert!(e.message.contains(r#"'\"'"#), "{e}");
        err("States.Array('abc)");
        err(r"States.Array('abc\')");
        err("States.Array(\"abc\")");
    }

    #[test]
    fn format_templates() {
        let call = ok(r"States.Format('a {} b \{\} c {}{} \\{}', $.x, $.y, $.z, $.w)");
        let t = call.template.clone().expect("template");
        assert_eq!(
            t.pieces,
            vec![
                FormatPiece::Text("a ".into()),
                FormatPiece::Placeholder,
                FormatPiece::Text(" b {} c ".into()),
                FormatPiece::Placeholder,
                FormatPiece::Placeholder,
                FormatPiece::Text(r" \".into()),
                FormatPiece::Placeholder,
            ]
        );
        assert_eq!(t.placeholder_count(), 4);
        assert_eq!(call.args[0], string(r"a {} b {} c {}{} \{}"));
        assert_eq!(
            call.to_string(),
            r"States.Format('a {} b \{\} c {}{} \\{}', $.x, $.y, $.z, $.w)"
        );
        assert_eq!(ok(&call.to_string()), call);
        // Half-escaped braces are text.
        let t = ok(r"States.Format('\{} {\}')").template.expect("template");
        assert_eq!(t.pieces, vec![FormatPiece::Text("{} {}".into())]);
        assert_eq!(t.placeholder_count(), 0);
        // Template from a path: only known at run time.
        assert_eq!(ok("States.Format($.t, 1)").template, None);
        let runtime = FormatTemplate::from_runtime_str("{}x{}{}");
        assert_eq!(runtime.placeholder_count(), 3);
        assert_eq!(runtime.pieces[1], FormatPiece::Text("x".into()));
        // Only States.Format gets a template.
        assert_eq!(ok("States.Array('{}')").template, None);
    }

    #[test]
    fn numbers() {
        let n = |s: &str| ok(&format!("States.Array({s})")).args.remove(0);
        assert_eq!(n("0"), IntrinsicArg::Number(0.into()));
        assert_eq!(n("-17"), IntrinsicArg::Number((-17).into()));
        assert_eq!(
            n("18446744073709551615"),
            IntrinsicArg::Number(u64::MAX.into())
        );
        assert!(
            matches!(n("123456789012345678901234567890"), IntrinsicArg::Number(x) if x.is_f64())
        );
        assert_eq!(n("0.5").to_string(), "0.5");
        for bad in [
            "1.",
            ".5",
            "-",
            "--1",
            "1e5",
            "1.2.3",
            "0x10",
            "+1",
            "1_000",
            &"9".repeat(400),
        ] {
            err(&format!("States.Array({bad})"));
        }
    }

    #[test]
    fn arity_is_checked() {
        for bad in [
            "States.Format()",
            "States.UUID(1)",
            "States.MathAdd(1)",
            "States.MathAdd(1, 2, 3)",
            "States.ArrayRange(1, 2)",
            "States.Hash($.a)",
            "States.JsonMerge($.a, $.b)",
            "States.MathRandom(1)",
            "States.MathRandom(1, 2, 3, 4)",
            "States.StringToJson()",
            "States.JsonToString($.a, $.b)",
            "States.ArrayPartition($.a)",
            "States.ArrayContains($.a)",
            "States.ArrayGetItem($.a)",
            "States.ArrayLength()",
            "States.ArrayUnique($.a, $.b)",
            "States.Base64Encode()",
            "States.Base64Decode('a', 'b')",
            "States.StringSplit('a')",
            "States.Array(States.MathAdd(1))",
        ] {
            let e = err(bad);
            assert!(e.message.contains("takes"), "{bad}: {e}");
        }
        let e = err("States.MathAdd(1, 2, 3)");
        assert_eq!(
            e.message,
            "States.MathAdd takes exactly 2 arguments, but 3 were given"
        );
        let e = err("States.Array(1, States.MathRandom(1))");
        assert_eq!(e.position, 16);
        assert!(e.message.contains("2 to 3 arguments"), "{e}");
        ok("States.Format('no placeholders')");
        ok("States.MathRandom(1, 2, 3)");
    }

    #[test]
    fn rejects_malformed_calls() {
        for bad in [
            "",
            "States",
            "States.",
            "States.(1)",
            "States.Foo()",
            "States.format('x')",
            "states.Format('x')",
            " States.UUID()",
            "States.UUID",
            "States.UUID (",
            "States.UUID (x)",
            "States.UUID(",
            "States.UUID())",
            "States.UUID() x",
            "States.Array(,)",
            "States.Array(1,)",
            "States.Array(1 2)",
            "States.Array(1,,2)",
            "States.Array(True)",
            "States.Array(undefined)",
            "States.Array(@.a)",
            "States.Array([1])",
            "States.Array({})",
            "States.Array($)x",
            "$.a",
            "States.Array(States.Nope())",
            "States.Array(States.UUID)",
        ] {
            err(bad);
        }
        let e = err("States.Foo(1)");
        assert_eq!(e.message, "unknown intrinsic function 'States.Foo'");
        assert_eq!(e.position, 0);
    }

    #[test]
    fn nesting_limit() {
        let nest = |n: usize| {
            let mut s = String::from("$.x");
            for _ in 0..n {
                s = format!("States.Array({s})");
            }
            s
        };
        ok(&nest(MAX_NESTED_CALLS));
        let e = err(&nest(MAX_NESTED_CALLS + 1));
        assert!(e.message.contains("nested"), "{e}");
        err(&nest(10_000));
    }

    #[test]
    fn looks_like_intrinsic_shapes() {
        for yes in [
            "States.Format('x')",
            "States.UUID()",
            "States.Nope(",
            "States.X(garbage",
        ] {
            assert!(looks_like_intrinsic(yes), "{yes}");
        }
        for no in [
            "$.a",
            "States.",
            "States.(x)",
            "States.UUID",
            "States.UUID ()",
            "states.UUID()",
            " States.UUID()",
            "",
            "States",
        ] {
            assert!(!looks_like_intrinsic(no), "{no}");
        }
    }

    #[test]
    fn odd_inputs_never_panic() {
        let mut inputs: Vec<String> = [
            "States.Format('",
            "States.Format('\\",
            "States.Format('\\'",
            "States.Format('{}'",
            "States.Format('{}',",
            "States.Format('{}', $",
            "States.Format('{}', $.",
            "States.Format('{}', $[",
            "States.Format('{}', $['",
            "States.Format('{}', $[?(",
            "States.Format('{}', $[?(@.a == ')')]",
            "States.Array($[)",
            "States.Array($])",
            "States.Array($)",
            "States.Array($$)",
            "States.Array($$$)",
            "States.Array(-)",
            "States.Array(-.)",
            "States.Array(1e999999)",
            "States.Array(99999999999999999999999)",
            "States.Array('😀', $.ä, 'ö\\{')",
            "States.Array(\u{0})",
            "States.Array('\u{feff}')",
            "States.Ärray()",
            "States.Array\u{301}()",
            "States.Array(States.",
            "States.Array(States.Array(",
            "States.Array(')",
            "States.Array(')')",
            "States.Array($.a')",
            "States.Array($.a[')",
            "States.Array(\\)",
            "States.UUID()\u{2028}",
            "States.Array($[(@.length-1)])",
            "States.Array($..*)",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        inputs.push(format!("States.Array({})", "1,".repeat(10_000) + "1"));
        inputs.push(format!("States.Array({})", "(".repeat(1000)));
        inputs.push(format!("States.Array($.a{})", "[".repeat(1000)));
        inputs.push(format!("States.Array('{}')", "\\".repeat(1001)));
        inputs.push("States.Array(".repeat(1000));
        for s in &inputs {
            if let Ok(call) = parse(s) {
                assert_eq!(
                    parse(&call.to_string()).as_ref(),
                    Ok(&call),
                    "round trip of {s:?}"
                );
            }
            let _ = looks_like_intrinsic(s);
        }
        let complex = "States.Format('a \\{ {} é 😀', States.ArrayGetItem(States.StringSplit($['x,y'], ','), -1), $[?(@.a == 'b')], 1.5, null)";
        assert!(parse(complex).is_ok());
        for (i, _) in complex.char_indices() {
            let _ = parse(&complex[..i]);
            let _ = looks_like_intrinsic(&complex[..i]);
        }
    }
}
