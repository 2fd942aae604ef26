//! JSONata 2.0.6's wording for the errors jsonata-core words its own way.
//!
//! AWS runs JSONata 2.0.6 (jsonata-js), whose messages come from one catalogue, `errorCodes` in
//! `src/jsonata.js`: a template per code, where `{{name}}` is an insert as JSON
//! (`JSON.stringify`) and `{{{name}}}` an insert as it is. jsonata-core raises the same codes
//! with texts of its own (`T1006: Attempted to invoke a non-function: $foo`). [`WORDING`] maps
//! each of those to 2.0.6's text, taking the inserts from jsonata-core's message. A message no
//! row matches keeps jsonata-core's words: for some codes jsonata-core's message lacks what
//! 2.0.6's template inserts (the values compared by T2009, the function named by most T0410s),
//! and an invented insert would be worse than a different sentence.

/// How an insert taken from jsonata-core's message is written into 2.0.6's text.
#[derive(Clone, Copy)]
enum Insert {
    /// As it is (`{{{name}}}`, or a number that prints the same either way).
    Raw,
    /// As a JSON string (`{{name}}` of a string).
    Json,
    /// A number as JSON writes it: `Infinity` and `NaN` become `null`.
    Number,
    /// A token jsonata-core names (`RightParen`, `Identifier("a")`) as its JSON text (`")"`).
    Token,
    /// A function name: JSON, without jsonata-core's `$`; `undefined` (no name) as it is.
    Function,
    /// The message of another JSONata error, itself in 2.0.6's words, as a JSON string.
    Error,
}

/// One row: the code, jsonata-core's message with `{}` where an insert is (`*` for "any
/// message": 2.0.6's text has no insert), and 2.0.6's text with `{N}` for the N-th insert.
struct Row {
    code: &'static str,
    core: &'static str,
    jsonata: &'static str,
    inserts: &'static [Insert],
}

const fn row(code: &'static str, core: &'static str, jsonata: &'static str) -> Row {
    Row {
        code,
        core,
        jsonata,
        inserts: &[],
    }
}

const fn with(
    code: &'static str,
    core: &'static str,
    jsonata: &'static str,
    inserts: &'static [Insert],
) -> Row {
    Row {
        code,
        core,
        jsonata,
        inserts,
    }
}

use Insert::{Error, Function, Json, Number, Raw, Token};

/// jsonata-core's messages that JSONata 2.0.6 words differently, by code. The first row of a
/// code whose pattern matches wins.
#[rustfmt::skip]
const WORDING: &[Row] = &[
    // Parser.
    with("S0103", "Unsupported escape sequence: \\{}", "Unsupported escape sequence: \\{0}", &[Json]),
    with("S0201", "Syntax error: {}", "Syntax error: {0}", &[Token]),
    with("S0202", "Expected {}, got {}", "Expected {0}, got {1}", &[Token, Token]),
    with("S0203", "Expected {} before end of expression", "Expected {0} before end of expression", &[Token]),
    with("S0204", "Unknown operator: {}", "Unknown operator: {0}", &[Json]),
    with("S0211", "The symbol {} cannot be used as a unary operator", "The symbol {0} cannot be used as a unary operator", &[Token]),
    with("S0214", "Expected a variable reference after {}", "The right side of {0} must be a variable name (start with $)", &[Json]),
    // jsonata-core raises this one without its code; the row gives it.
    row("S0106", "Unclosed comment", "Comment has no closing tag"),
    row("S0401", "*", "Type parameters can only be applied to functions and arrays"),
    row("S0402", "*", "Choice groups containing parameterized types are not supported"),
    // Function signatures.
    with("T0410", "Argument {} of function {} does not match function signature{}", "Argument {0} of function {1} does not match function signature", &[Raw, Function, Raw]),
    with("T0411", "Context value is not a compatible type with argument {} of function {}", "Context value is not a compatible type with argument {0} of function {1}", &[Raw, Function]),
    // Evaluator.
    with("D1001", "Number out of range: {}", "Number out of range: {0}", &[Number]),
    row("T1006", "*", "Attempted to invoke a non-function"),
    row("T1008", "*", "Attempted to partially apply a non-function"),
    row("T2003", "*", "The left side of the range operator (..) must evaluate to an integer"),
    row("T2004", "*", "The right side of the range operator (..) must evaluate to an integer"),
    // Functions.
    row("D3001", "*", "Attempting to invoke string function on Infinity or NaN"),
    row("D3010", "*", "Second argument of replace function cannot be an empty string"),
    row("D3020", "*", "Third argument of split function must evaluate to a positive number"),
    with("D3030", "Cannot convert '{}' to number", "Unable to cast value to a number: {0}", &[Json]),
    row("D3080", "*", "The picture string must only contain a maximum of two sub-pictures"),
    row("D3081", "*", "The sub-picture must not contain more than one instance of the 'decimal-separator' character"),
    row("D3082", "*", "The sub-picture must not contain more than one instance of the 'percent' character"),
    row("D3083", "*", "The sub-picture must not contain more than one instance of the 'per-mille' character"),
    row("D3084", "*", "The sub-picture must not contain both a 'percent' and a 'per-mille' character"),
    row("D3085", "*", "The mantissa part of a sub-picture must contain at least one character that is either an 'optional digit character' or a member of the 'decimal digit family'"),
    row("D3086", "*", "The sub-picture must not contain a passive character that is preceded by an active character and that is followed by another active character"),
    row("D3087", "*", "The sub-picture must not contain a 'grouping-separator' character that appears adjacent to a 'decimal-separator' character"),
    row("D3088", "*", "The sub-picture must not contain a 'grouping-separator' at the end of the integer part"),
    row("D3089", "*", "The sub-picture must not contain two adjacent instances of the 'grouping-separator' character"),
    row("D3090", "*", "The integer part of the sub-picture must not contain a member of the 'decimal digit family' that is followed by an instance of the 'optional digit character'"),
    row("D3091", "*", "The fractional part of the sub-picture must not contain an instance of the 'optional digit character' that is followed by a member of the 'decimal digit family'"),
    row("D3092", "*", "A sub-picture that contains a 'percent' or 'per-mille' character must not contain a character treated as an 'exponent-separator'"),
    row("D3093", "*", "The exponent part of the sub-picture must comprise only of one or more characters that are members of the 'decimal digit family'"),
    with("D3100", "Radix must be between 2 and 36, got {}", "The radix of the formatBase function must be between 2 and 36.  It was given {0}", &[Raw]),
    with("D3120", "The expression passed to $eval cannot be parsed: {}", "Syntax error in expression passed to function eval: {0}", &[Error]),
    with("D3121", "{}", "Dynamic error evaluating the expression passed to function eval: {0}", &[Error]),
    with("D3130", "{}", "Formatting or parsing an integer as a sequence starting with {0} is not supported by this implementation", &[Json]),
    row("D3131", "*", "In a decimal digit pattern, all digits must be from the same decimal group"),
    with("D3132", "{}", "Unknown component specifier {0} in date/time picture string", &[Json]),
    with("D3133", "{}", "The 'name' modifier can only be applied to months and days in the date/time picture string, not {0}", &[Json]),
    row("D3134", "*", "The timezone integer format specifier cannot have more than four digits"),
    row("D3135", "*", "No matching closing bracket ']' in date/time picture string"),
    row("D3136", "*", "The date/time picture string is missing specifiers required to parse the timestamp"),
    row("D3138", "*", "The $single() function expected exactly 1 matching result.  Instead it matched more."),
];

/// JSONata 2.0.6's message for the error `code` that jsonata-core words as `message` (both
/// without the `CODE: ` prefix), or `None` when no row applies.
pub fn reworded(code: &str, message: &str) -> Option<String> {
    WORDING
        .iter()
        .filter(|row| row.code == code)
        .find_map(|row| apply(row, message))
}

/// A message with its code split off and put in 2.0.6's words: `(code, message)`. A message
/// may carry its code after a preamble (`Invalid syntax: S0201: …`, `Reference error: T1005:
/// …`); the preamble goes.
pub fn split(message: &str) -> (Option<&str>, String) {
    match find_code(message) {
        Some(at) => {
            let code = &message[at..at + 5];
            let rest = message[at + 6..].trim_start();
            (
                Some(code),
                reworded(code, rest).unwrap_or_else(|| rest.to_owned()),
            )
        }
        // A message jsonata-core raises without a code, which a row names exactly.
        None => match WORDING
            .iter()
            .find(|row| row.core == message && row.core != "*" && !row.core.contains("{}"))
        {
            Some(row) => (Some(row.code), row.jsonata.to_owned()),
            None => (None, message.to_owned()),
        },
    }
}

/// Where the first JSONata error code (`X9999:` at the start of a word) begins in `message`.
pub(super) fn find_code(message: &str) -> Option<usize> {
    let bytes = message.as_bytes();
    (0..bytes.len().saturating_sub(5)).find(|&i| {
        (i == 0 || bytes[i - 1] == b' ')
            && bytes[i].is_ascii_uppercase()
            && bytes[i + 1..i + 5].iter().all(u8::is_ascii_digit)
            && bytes[i + 5] == b':'
    })
}

fn apply(row: &Row, message: &str) -> Option<String> {
    let captures = if row.core == "*" {
        Vec::new()
    } else {
        captures(row.core, message)?
    };
    let mut out = String::with_capacity(row.jsonata.len() + 16);
    let mut rest = row.jsonata;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let index: usize = after[..close].parse().ok()?;
        let insert = *row.inserts.get(index)?;
        out.push_str(&written(insert, captures.get(index)?)?);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// The inserts of `message` under `pattern` (literal text with `{}` holes), or `None` when it
/// does not match. Each hole takes the shortest text up to the literal that follows it; the
/// last takes what remains before the pattern's ending.
fn captures<'m>(pattern: &str, message: &'m str) -> Option<Vec<&'m str>> {
    let pieces: Vec<&str> = pattern.split("{}").collect();
    let (first, holes) = pieces.split_first()?;
    let mut rest = message.strip_prefix(first)?;
    let mut out = Vec::with_capacity(holes.len());
    for (i, literal) in holes.iter().enumerate() {
        let last = i + 1 == holes.len();
        let end = if last {
            rest.len()
                .checked_sub(literal.len())
                .filter(|&e| rest[e..] == **literal)?
        } else if literal.is_empty() {
            return None;
        } else {
            rest.find(literal)?
        };
        out.push(rest.get(..end)?);
        rest = rest.get(end + literal.len()..)?;
    }
    Some(out)
}

fn written(insert: Insert, text: &str) -> Option<String> {
    Some(match insert {
        Insert::Raw => text.to_owned(),
        Insert::Json => json_string(text),
        Insert::Number => match text.parse::<f64>() {
            Ok(n) if n.is_finite() => text.to_owned(),
            _ => "null".to_owned(),
        },
        Insert::Token => token(text)?,
        Insert::Function => match text.strip_prefix('$').unwrap_or(text) {
            "undefined" => "undefined".to_owned(),
            name => json_string(name),
        },
        Insert::Error => json_string(&split(text).1),
    })
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// A token as jsonata-core's parser names it, written as jsonata-js writes the token's value.
fn token(name: &str) -> Option<String> {
    if let Some((kind, inner)) = name.split_once('(') {
        let inner = inner.strip_suffix(')')?;
        return match kind {
            "String" | "Identifier" | "Variable" | "ParentVariable" | "Function" => {
                let text: String = serde_json::from_str(inner).ok()?;
                Some(json_string(&text))
            }
            "Number" => {
                let n: f64 = inner.parse().ok()?;
                // JSON.stringify writes whole numbers without a fraction.
                Some(if n.fract() == 0.0 && n.abs() < 9e15 {
                    format!("{}", n as i64)
                } else {
                    n.to_string()
                })
            }
            _ => None,
        };
    }
    let symbol = match name {
        "True" => return Some("true".to_owned()),
        "False" => return Some("false".to_owned()),
        "Null" => return Some("null".to_owned()),
        "Plus" => "+",
        "Minus" => "-",
        "Star" => "*",
        "StarStar" => "**",
        "Slash" => "/",
        "Percent" => "%",
        "Equal" => "=",
        "NotEqual" => "!=",
        "LessThan" => "<",
        "LessThanOrEqual" => "<=",
        "GreaterThan" => ">",
        "GreaterThanOrEqual" => ">=",
        "And" => "and",
        "Or" => "or",
        "In" => "in",
        "Ampersand" => "&",
        "Dot" => ".",
        "DotDot" => "..",
        "Question" => "?",
        "QuestionQuestion" => "??",
        "QuestionColon" => "?:",
        "Colon" => ":",
        "ColonEqual" => ":=",
        "TildeArrow" => "~>",
        "LeftParen" => "(",
        "RightParen" => ")",
        "LeftBracket" => "[",
        "RightBracket" => "]",
        "LeftBrace" => "{",
        "RightBrace" => "}",
        "Comma" => ",",
        "Semicolon" => ";",
        "Caret" => "^",
        "Pipe" => "|",
        "Hash" => "#",
        "At" => "@",
        _ => return None,
    };
    Some(json_string(symbol))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_without_inserts_take_2_0_6_text() {
        assert_eq!(
            reworded("T1006", "Attempted to invoke a non-function: $foo").as_deref(),
            Some("Attempted to invoke a non-function")
        );
        assert_eq!(
            reworded("T2003", "Left operand of range operator must be a number").as_deref(),
            Some("The left side of the range operator (..) must evaluate to an integer")
        );
    }

    #[test]
    fn inserts_are_carried_over_as_jsonata_js_writes_them() {
        let cases = [
            (
                "D3030",
                "Cannot convert '1/2' to number",
                "Unable to cast value to a number: \"1/2\"",
            ),
            (
                "D1001",
                "Number out of range: inf",
                "Number out of range: null",
            ),
            (
                "D3100",
                "Radix must be between 2 and 36, got 37",
                "The radix of the formatBase function must be between 2 and 36.  It was given 37",
            ),
            (
                "S0202",
                "Expected RightBracket, got RightParen",
                "Expected \"]\", got \")\"",
            ),
            (
                "S0202",
                "Expected RightParen, got Identifier(\"b\")",
                "Expected \")\", got \"b\"",
            ),
            (
                "S0203",
                "Expected RightParen before end of expression",
                "Expected \")\" before end of expression",
            ),
            ("S0201", "Syntax error: Semicolon", "Syntax error: \";\""),
            (
                "S0211",
                "The symbol At cannot be used as a unary operator",
                "The symbol \"@\" cannot be used as a unary operator",
            ),
            (
                "S0214",
                "Expected a variable reference after @",
                "The right side of \"@\" must be a variable name (start with $)",
            ),
            (
                "S0103",
                "Unsupported escape sequence: \\y",
                "Unsupported escape sequence: \\\"y\"",
            ),
            (
                "D3132",
                "q",
                "Unknown component specifier \"q\" in date/time picture string",
            ),
            (
                "T0410",
                "Argument 2 of function $join does not match function signature (expected String)",
                "Argument 2 of function \"join\" does not match function signature",
            ),
            (
                "T0410",
                "Argument 1 of function undefined does not match function signature",
                "Argument 1 of function undefined does not match function signature",
            ),
            (
                "D3121",
                "Reference error: T1005: Attempted to invoke a non-function. Did you mean $string?",
                "Dynamic error evaluating the expression passed to function eval: \"Attempted to invoke a non-function. Did you mean $string?\"",
            ),
        ];
        for (code, core, want) in cases {
            assert_eq!(
                reworded(code, core).as_deref(),
                Some(want),
                "{code}: {core}"
            );
        }
    }

    #[test]
    fn what_no_row_matches_keeps_jsonata_core_words() {
        // jsonata-core does not say which values T2009 compared; 2.0.6's text needs them.
        assert_eq!(
            reworded(
                "T2009",
                "The expressions on either side of operator \"<\" must be of the same data type"
            ),
            None
        );
        assert_eq!(reworded("T0410", "Argument 1 must be Boolean"), None);
        assert_eq!(reworded("S0202", "Expected Mystery, got RightParen"), None);
        assert_eq!(
            reworded(
                "T2001",
                "The left side of the + operator must evaluate to a number"
            ),
            None
        );
    }

    #[test]
    fn split_drops_preambles_and_rewords() {
        assert_eq!(
            split("Invalid syntax: S0201: Syntax error: Semicolon"),
            (Some("S0201"), "Syntax error: \";\"".to_owned())
        );
        assert_eq!(
            split("T1006: Attempted to invoke a non-function: $f"),
            (
                Some("T1006"),
                "Attempted to invoke a non-function".to_owned()
            )
        );
        assert_eq!(
            split("Unclosed comment"),
            (Some("S0106"), "Comment has no closing tag".to_owned())
        );
        assert_eq!(split("no code here"), (None, "no code here".to_owned()));
    }
}
