//! Evaluating JSONPath Choice rules (`Condition`) against a state's input.
//!
//! What AWS does, and where that is known from:
//!
//! - A comparison whose `Variable` value is of the wrong type (a number for `StringEquals`, the
//!   string `"42"` for `NumericEquals`, a non-timestamp string for `TimestampEquals`, …) is
//!   false, never an error (ASL spec: "if the values are not both of the appropriate type … the
//!   comparison will return false"; recorded: `v2/choice_operators/*`,
//!   `test_assign_in_choice_state[CORRECT]`).
//! - A `Variable` path that selects nothing fails the state with `States.Runtime`, except for
//!   `IsPresent`, which is exactly the test for it (ASL spec on `IsPresent`: "if the
//!   Variable-field Path fails to match anything in the input no exception is thrown and the
//!   Choice Rule just returns false"; AWS guide: "If the state input doesn't contain the
//!   `$.type` field, the execution fails"). A `*Path` operand that selects nothing fails the same
//!   way.
//! - Numbers compare by value: `1` equals `1.0` (recorded: `test_numerics`). Integers are
//!   compared exactly, also against floats.
//! - Strings compare like Java's `String.compareTo`: by UTF-16 code unit (AWS guide).
//! - Timestamps are RFC 3339 with an uppercase `T` and `Z` (AWS guide), compared as instants,
//!   so offsets and fractional seconds count.
//! - `StringMatches`: `*` matches any run of characters, `\*` is a literal `*`, `\\` a literal
//!   `\`; nothing else is special. An open escape is a run-time error (ASL spec).

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::{Number, Value};

use crate::error_names;
use crate::eval::{Failure, Scope};
use crate::jsonpath::JsonPath;
use crate::model::{ComparisonOperator, Condition, Operand, OperandKind, Relation};

impl Condition {
    /// Evaluates a JSONPath Choice rule against `scope` (whose `input` is the Choice state's
    /// effective input).
    ///
    /// JSONata conditions (`Condition::Jsonata`) are the JSONata layer's to evaluate: they only
    /// ever stand at the top of a rule, never inside `And`/`Or`/`Not`, so the engine handles them
    /// before calling this. Passed one anyway, this returns a `States.Runtime` failure.
    ///
    /// `And` and `Or` stop at the first operand that decides the result, so a later operand's
    /// missing path does not fail the state (ASL spec: "ceasing array processing when the
    /// boolean value has been unambiguously determined").
    pub fn evaluate(&self, scope: &Scope<'_>) -> Result<bool, Failure> {
        match self {
            Condition::And(all) => {
                for c in all {
                    if !c.evaluate(scope)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Condition::Or(any) => {
                for c in any {
                    if c.evaluate(scope)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Condition::Not(inner) => Ok(!inner.evaluate(scope)?),
            Condition::Compare {
                variable,
                operator,
                operand,
            } => compare(scope, variable, *operator, operand),
            Condition::Jsonata(_) => Err(Failure::new(
                error_names::RUNTIME,
                "A JSONata Condition cannot be evaluated as a JSONPath Choice rule",
            )),
        }
    }
}

/// The failure for a path in a Choice rule that selects nothing.
pub fn invalid_path(path: &JsonPath) -> Failure {
    Failure::new(
        error_names::RUNTIME,
        format!(
            "Invalid path '{path}': The choice state's condition path references an invalid value."
        ),
    )
}

fn compare(
    scope: &Scope<'_>,
    variable: &JsonPath,
    op: ComparisonOperator,
    operand: &Operand,
) -> Result<bool, Failure> {
    let value = scope.get(variable);
    if op.relation == Relation::IsPresent {
        return Ok(value.is_some() == expected_bool(operand));
    }
    let Some(value) = value else {
        return Err(invalid_path(variable));
    };
    let operand = match operand {
        Operand::Literal(v) => v,
        Operand::Path(p) => scope.get(p).ok_or_else(|| invalid_path(p))?,
    };
    match op.kind {
        OperandKind::TypeTest => {
            Ok(type_test(op.relation, value) == operand.as_bool().unwrap_or(true))
        }
        OperandKind::Pattern => match (value, operand) {
            (Value::String(s), Value::String(pattern)) => string_matches(s, pattern),
            _ => Ok(false),
        },
        OperandKind::String => Ok(match (value, operand) {
            (Value::String(a), Value::String(b)) => holds(op.relation, utf16_cmp(a, b)),
            _ => false,
        }),
        OperandKind::Numeric => Ok(match (value, operand) {
            (Value::Number(a), Value::Number(b)) => holds(op.relation, number_cmp(a, b)),
            _ => false,
        }),
        OperandKind::Boolean => Ok(match (value, operand) {
            (Value::Bool(a), Value::Bool(b)) => holds(op.relation, a.cmp(b)),
            _ => false,
        }),
        OperandKind::Timestamp => Ok(match (timestamp(value), timestamp(operand)) {
            (Some(a), Some(b)) => holds(op.relation, a.cmp(&b)),
            _ => false,
        }),
    }
}

/// The Boolean a type test (`IsNull: true`, …) expects; the parser only admits Booleans.
fn expected_bool(operand: &Operand) -> bool {
    match operand {
        Operand::Literal(v) => v.as_bool().unwrap_or(true),
        Operand::Path(_) => true,
    }
}

fn type_test(relation: Relation, value: &Value) -> bool {
    match relation {
        Relation::IsNull => value.is_null(),
        Relation::IsNumeric => value.is_number(),
        Relation::IsString => value.is_string(),
        Relation::IsBoolean => value.is_boolean(),
        Relation::IsTimestamp => timestamp(value).is_some(),
        // IsPresent is decided before the value is needed; the rest are not type tests.
        _ => true,
    }
}

fn holds(relation: Relation, ord: Ordering) -> bool {
    match relation {
        Relation::Equals => ord == Ordering::Equal,
        Relation::LessThan => ord == Ordering::Less,
        Relation::GreaterThan => ord == Ordering::Greater,
        Relation::LessThanEquals => ord != Ordering::Greater,
        Relation::GreaterThanEquals => ord != Ordering::Less,
        _ => false,
    }
}

/// Java's `String.compareTo`: lexicographic over UTF-16 code units.
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Numbers by value; integers exactly, also when compared with a float.
fn number_cmp(a: &Number, b: &Number) -> Ordering {
    match (exact_int(a), exact_int(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(x), None) => int_float_cmp(x, b.as_f64().unwrap_or(f64::NAN)),
        (None, Some(y)) => int_float_cmp(y, a.as_f64().unwrap_or(f64::NAN)).reverse(),
        (None, None) => {
            let (x, y) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
    }
}

fn exact_int(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

/// Compares an integer with a finite float without rounding the integer.
fn int_float_cmp(i: i128, f: f64) -> Ordering {
    if f.is_nan() {
        return Ordering::Equal;
    }
    // Every i64/u64 lies strictly inside ±2^127, which f64 represents exactly.
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0; // 2^127
    if f >= LIMIT {
        return Ordering::Less;
    }
    if f < -LIMIT {
        return Ordering::Greater;
    }
    let floor = f.floor();
    // `floor` is integral and inside the i128 range, so the cast is exact.
    let whole = floor as i128;
    match i.cmp(&whole) {
        Ordering::Equal if f > floor => Ordering::Less,
        ord => ord,
    }
}

/// A JSON string that is an ASL timestamp: RFC 3339 with an uppercase `T` separator and, when
/// there is no numeric offset, an uppercase `Z`.
fn timestamp(value: &Value) -> Option<DateTime<FixedOffset>> {
    let s = value.as_str()?;
    if s.ends_with('z') {
        return None;
    }
    crate::timestamp::parse_rfc3339(s)
}

/// `StringMatches`: `*` matches zero or more characters; `\*` and `\\` stand for `*` and `\`.
fn string_matches(text: &str, pattern: &str) -> Result<bool, Failure> {
    let pattern = compile_pattern(pattern)?;
    Ok(glob_match(&text.chars().collect::<Vec<_>>(), &pattern))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Char(char),
    Star,
}

fn compile_pattern(pattern: &str) -> Result<Vec<Token>, Failure> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push(Token::Star),
            '\\' => match chars.next() {
                Some(e @ ('*' | '\\')) => out.push(Token::Char(e)),
                _ => {
                    return Err(Failure::new(
                        error_names::RUNTIME,
                        format!(
                            "Invalid StringMatches pattern '{pattern}': an open escape '\\' must be followed by '*' or '\\'"
                        ),
                    ));
                }
            },
            c => out.push(Token::Char(c)),
        }
    }
    Ok(out)
}

/// Wildcard matching in linear space: on a mismatch, let the most recent `*` absorb one more
/// character and retry from there.
fn glob_match(text: &[char], pattern: &[Token]) -> bool {
    let (mut t, mut p) = (0, 0);
    let mut resume: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Token::Star) => {
                resume = Some((p, t));
                p += 1;
            }
            Some(Token::Char(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match resume {
                Some((star, absorbed)) => {
                    p = star + 1;
                    t = absorbed + 1;
                    resume = Some((star, absorbed + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|tok| *tok == Token::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str, pattern: &str) -> bool {
        string_matches(text, pattern).unwrap()
    }

    #[test]
    fn wildcards() {
        assert!(m("foo23.log", "foo*.log"));
        assert!(m("zebra.log", "*.log"));
        assert!(m("foobar.zebra", "foo*.*"));
        assert!(m("", "*"));
        assert!(m("", ""));
        assert!(!m("a", ""));
        assert!(m("abc", "a**c"));
        assert!(m("aXbXc", "*X*c"));
        assert!(!m("foo.log", "foo*.txt"));
        assert!(!m("foo", "foo?"));
        assert!(m("foo?", "foo?"));
        assert!(m("mississippi", "*iss*ppi"));
        assert!(!m("mississippi", "*iss*ppx"));
    }

    #[test]
    fn escapes() {
        assert!(m("a*b", r"a\*b"));
        assert!(!m("axb", r"a\*b"));
        assert!(m(r"a\b", r"a\\b"));
        assert!(m(r"a\bc", r"a\\*"));
        assert!(string_matches("a", r"a\").is_err());
        assert!(string_matches("ab", r"a\b").is_err());
    }

    #[test]
    fn java_string_order() {
        // U+FF61 sorts after U+1F600 by UTF-16 code unit (0xFF61 > 0xD83D), before it by code point.
        assert_eq!(utf16_cmp("\u{FF61}", "\u{1F600}"), Ordering::Greater);
        assert_eq!(utf16_cmp("A", "AB"), Ordering::Less);
        assert_eq!(utf16_cmp("a", "B"), Ordering::Greater);
    }

    #[test]
    fn numbers() {
        let n = |s: &str| serde_json::from_str::<Number>(s).unwrap();
        assert_eq!(number_cmp(&n("1"), &n("1.0")), Ordering::Equal);
        assert_eq!(number_cmp(&n("1.5"), &n("1")), Ordering::Greater);
        assert_eq!(number_cmp(&n("-1"), &n("-0.5")), Ordering::Less);
        assert_eq!(number_cmp(&n("-1"), &n("-1.5")), Ordering::Greater);
        assert_eq!(
            number_cmp(&n("9007199254740993"), &n("9007199254740992")),
            Ordering::Greater
        );
        assert_eq!(
            number_cmp(&n("9007199254740993"), &n("9007199254740992.0")),
            Ordering::Greater
        );
        assert_eq!(
            number_cmp(&n("18446744073709551615"), &n("-9223372036854775808")),
            Ordering::Greater
        );
        assert_eq!(
            number_cmp(&n("1e300"), &n("18446744073709551615")),
            Ordering::Greater
        );
        assert_eq!(number_cmp(&n("0"), &n("-0.0")), Ordering::Equal);
    }
}
