//! Run-time evaluation of intrinsic calls, matching what AWS Step Functions returns.
//!
//! AWS runs intrinsics in Java, and it shows: `States.Format` renders an object argument the
//! way `java.util.Map.toString` does (`{a=1, b=[]}`), fractional numbers print as Java's
//! `Double.toString` (`1.0E20`), non-integer arguments of the math and range functions are
//! rounded as `Math.round` rounds (half up: `-1.5` becomes `-1`), and a seeded
//! `States.MathRandom` draws from `java.util.Random`.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use md5::{Digest, Md5};
use serde_json::{Map, Number, Value};
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};

use super::{FormatPiece, FormatTemplate, IntrinsicArg, IntrinsicCall, IntrinsicFunction as F};
use crate::error_names;
use crate::eval::{Entropy, Failure, Scope};
use crate::jsonpath::{JsonPath, Root};

/// Most items `States.ArrayRange` may produce.
pub const MAX_RANGE_ITEMS: i128 = 1000;

/// Longest string (in UTF-16 code units, as Java counts) that `States.Base64Encode`,
/// `States.Base64Decode` and `States.Hash` accept.
pub const MAX_STRING_CHARS: usize = 10_000;

/// The hashing algorithms `States.Hash` accepts, by their exact names.
pub const HASH_ALGORITHMS: [&str; 5] = ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"];

/// Evaluate an intrinsic call: resolve its path arguments through `scope`, evaluate nested
/// calls innermost first, then apply the function. All randomness (`States.UUID`, an unseeded
/// `States.MathRandom`) is drawn from `entropy`.
///
/// # Failures
///
/// The returned [`Failure::cause`] is the text *after* AWS's state prefix: the engine prepends
/// `"An error occurred while executing the state 'X' (entered at the event id #N). "`. Every
/// cause is framed as AWS frames intrinsic errors, naming the whole (outermost) call in its
/// canonical printed form:
///
/// `The function '<call>' had the following error: <detail>`
///
/// * A path argument that selects nothing fails with `States.Runtime` and the detail
///   `The JsonPath argument for the field '<path>' could not be found in the input '<json>'`,
///   where `<json>` is the document the path was resolved against (the state input for `$`,
///   the context object for `$$`, the variable for `$name`), as compact JSON. This text is
///   AWS's own (recorded against AWS for `States.Format('{}', $.nope)`).
/// * An argument of the wrong type or out of range, a malformed JSON or Base64 string, an
///   unknown hash algorithm and the like fail with `States.IntrinsicFailure`. Those detail
///   texts are this implementation's wording: no AWS recording of them was available.
pub fn evaluate(
    call: &IntrinsicCall,
    scope: &Scope<'_>,
    entropy: &mut dyn Entropy,
) -> Result<Value, Failure> {
    let mut evaluator = Evaluator {
        top: call,
        scope,
        entropy,
    };
    evaluator.call(call)
}

struct Evaluator<'c, 's, 'e> {
    top: &'c IntrinsicCall,
    scope: &'c Scope<'s>,
    entropy: &'e mut dyn Entropy,
}

/// A problem with the arguments of one function: becomes `States.IntrinsicFailure`.
struct Bad(String);

type Checked<T> = Result<T, Bad>;

impl Evaluator<'_, '_, '_> {
    fn framed(&self, error: &str, detail: &str) -> Failure {
        Failure::new(
            error,
            format!(
                "The function '{}' had the following error: {detail}",
                self.top
            ),
        )
    }

    fn call(&mut self, call: &IntrinsicCall) -> Result<Value, Failure> {
        let mut args = Vec::with_capacity(call.args.len());
        for arg in &call.args {
            args.push(self.arg(arg)?);
        }
        self.apply(call, args)
            .map_err(|Bad(detail)| self.framed(error_names::INTRINSIC_FAILURE, &detail))
    }

    fn arg(&mut self, arg: &IntrinsicArg) -> Result<Value, Failure> {
        Ok(match arg {
            IntrinsicArg::String(s) => Value::String(s.clone()),
            IntrinsicArg::Number(n) => Value::Number(n.clone()),
            IntrinsicArg::Bool(b) => Value::Bool(*b),
            IntrinsicArg::Null => Value::Null,
            IntrinsicArg::Path(path) => self.path(path)?,
            IntrinsicArg::Call(call) => self.call(call)?,
        })
    }

    fn path(&self, path: &JsonPath) -> Result<Value, Failure> {
        let root = self.scope.root(path);
        if let Some(root) = root {
            if path.is_definite() {
                if let Some(value) = path.get(root) {
                    return Ok(value.clone());
                }
            } else {
                return Ok(Value::Array(
                    path.query(root).into_iter().cloned().collect(),
                ));
            }
        }
        let shown = match (&path.root, root) {
            (_, Some(root)) => root,
            (Root::Variable(_), None) => self.scope.input,
            _ => &Value::Null,
        };
        Err(self.framed(
            error_names::RUNTIME,
            &format!(
                "The JsonPath argument for the field '{path}' could not be found in the input '{}'",
                java_json(shown)
            ),
        ))
    }

    fn apply(&mut self, call: &IntrinsicCall, args: Vec<Value>) -> Checked<Value> {
        let name = call.function.name();
        let a = Args { name, args: &args };
        a.count(call.function.min_args(), call.function.max_args())?;
        match call.function {
            F::Format => format(call.template.as_ref(), &a),
            F::StringToJson => string_to_json(a.string(0)?, name),
            F::JsonToString => Ok(Value::String(java_json(&args[0]))),
            F::Array => Ok(Value::Array(args.clone())),
            F::ArrayPartition => {
                let items = a.array(0)?;
                let size = a.integer(1)?;
                if size <= 0 {
                    return Err(Bad(format!(
                        "The chunk size argument of {name} must be a positive integer, but was {size}"
                    )));
                }
                let size = usize::try_from(size).unwrap_or(usize::MAX);
                Ok(Value::Array(
                    items
                        .chunks(size)
                        .map(|chunk| Value::Array(chunk.to_vec()))
                        .collect(),
                ))
            }
            F::ArrayContains => Ok(Value::Bool(a.array(0)?.contains(&args[1]))),
            F::ArrayRange => array_range(a.integer(0)?, a.integer(1)?, a.integer(2)?, name),
            F::ArrayGetItem => {
                let items = a.array(0)?;
                let index = a.index(1)?;
                usize::try_from(index)
                    .ok()
                    .and_then(|i| items.get(i))
                    .cloned()
                    .ok_or_else(|| {
                        Bad(format!(
                            "The index {index} is out of bounds for an array of length {}",
                            items.len()
                        ))
                    })
            }
            F::ArrayLength => Ok(Value::from(a.array(0)?.len())),
            F::ArrayUnique => {
                let mut unique: Vec<Value> = Vec::new();
                for item in a.array(0)? {
                    if !unique.contains(item) {
                        unique.push(item.clone());
                    }
                }
                Ok(Value::Array(unique))
            }
            F::Base64Encode => {
                let s = a.limited_string(0)?;
                Ok(Value::String(
                    base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
                ))
            }
            F::Base64Decode => {
                let s = a.limited_string(0)?;
                let bytes = BASE64_DECODER.decode(s.as_bytes()).map_err(|_| {
                    Bad(format!(
                        "The argument of {name} is not a valid Base64 string"
                    ))
                })?;
                Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            }
            F::Hash => {
                let data = a.limited_string(0)?;
                let algorithm = a.string(1)?;
                hash(data, algorithm).map(Value::String).ok_or_else(|| {
                    Bad(format!(
                        "The hashing algorithm '{algorithm}' is not supported; use one of {}",
                        HASH_ALGORITHMS.join(", ")
                    ))
                })
            }
            F::JsonMerge => {
                let first = a.object(0)?;
                let second = a.object(1)?;
                if a.boolean(2)? {
                    return Err(Bad(format!(
                        "Deep merging is not supported: the third argument of {name} must be false"
                    )));
                }
                let mut merged = first.clone();
                for (key, value) in second {
                    merged.insert(key.clone(), value.clone());
                }
                Ok(Value::Object(merged))
            }
            F::MathRandom => {
                let start = a.integer(0)?;
                let end = a.integer(1)?;
                let seed = if args.len() > 2 {
                    Some(a.integer(2)?)
                } else {
                    None
                };
                self.math_random(start, end, seed, name)
            }
            F::MathAdd => {
                let x = a.int32(0)?;
                let y = a.int32(1)?;
                Ok(Value::from(x + y))
            }
            F::StringSplit => {
                let s = a.string(0)?;
                let delimiters = a.string(1)?;
                Ok(Value::Array(
                    s.split(|c: char| delimiters.contains(c))
                        .filter(|token| !token.is_empty())
                        .map(|token| Value::String(token.to_string()))
                        .collect(),
                ))
            }
            F::Uuid => Ok(Value::String(self.entropy.uuid())),
        }
    }

    fn math_random(
        &mut self,
        start: i64,
        end: i64,
        seed: Option<i64>,
        name: &str,
    ) -> Checked<Value> {
        let span = i128::from(end) - i128::from(start);
        if span <= 0 {
            return Err(Bad(format!(
                "The end number argument of {name} must be greater than the start number ({start}), but was {end}"
            )));
        }
        let offset = match (seed, i32::try_from(span)) {
            (Some(seed), Ok(bound)) => i128::from(JavaRandom::new(seed).next_int(bound)),
            (Some(seed), Err(_)) => {
                let unit = JavaRandom::new(seed).next_double();
                (unit * span as f64) as i128
            }
            (None, _) => {
                let draw = u128::from(self.entropy.next_u64());
                ((draw * span as u128) >> 64) as i128
            }
        };
        Ok(Value::from((i128::from(start) + offset) as i64))
    }
}

/// Base64 as Java's basic decoder reads it: the standard alphabet, padding optional.
const BASE64_DECODER: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The evaluated arguments of one call, with typed accessors that fail in AWS's manner.
struct Args<'a> {
    name: &'static str,
    args: &'a [Value],
}

impl<'a> Args<'a> {
    fn count(&self, min: usize, max: Option<usize>) -> Checked<()> {
        let n = self.args.len();
        if n < min || max.is_some_and(|max| n > max) {
            return Err(Bad(format!("{} was given {n} arguments", self.name)));
        }
        Ok(())
    }

    fn wrong(&self, i: usize, expected: &str) -> Bad {
        Bad(format!(
            "Argument {} of {} must be {expected}, but was {}",
            i + 1,
            self.name,
            described(&self.args[i])
        ))
    }

    fn string(&self, i: usize) -> Checked<&'a str> {
        match &self.args[i] {
            Value::String(s) => Ok(s),
            _ => Err(self.wrong(i, "a string")),
        }
    }

    /// A string no longer than [`MAX_STRING_CHARS`].
    fn limited_string(&self, i: usize) -> Checked<&'a str> {
        let s = self.string(i)?;
        let len = s.encode_utf16().count();
        if len > MAX_STRING_CHARS {
            return Err(Bad(format!(
                "Argument {} of {} must be a string of at most {MAX_STRING_CHARS} characters, but had {len}",
                i + 1,
                self.name
            )));
        }
        Ok(s)
    }

    fn array(&self, i: usize) -> Checked<&'a [Value]> {
        match &self.args[i] {
            Value::Array(items) => Ok(items),
            _ => Err(self.wrong(i, "an array")),
        }
    }

    fn object(&self, i: usize) -> Checked<&'a Map<String, Value>> {
        match &self.args[i] {
            Value::Object(map) => Ok(map),
            _ => Err(self.wrong(i, "an object")),
        }
    }

    fn boolean(&self, i: usize) -> Checked<bool> {
        match &self.args[i] {
            Value::Bool(b) => Ok(*b),
            _ => Err(self.wrong(i, "a boolean")),
        }
    }

    /// A number, rounded to the nearest integer (half up) as AWS documents for the math and
    /// range functions.
    fn integer(&self, i: usize) -> Checked<i64> {
        let Value::Number(n) = &self.args[i] else {
            return Err(self.wrong(i, "a number"));
        };
        round_number(n).ok_or_else(|| {
            Bad(format!(
                "Argument {} of {} is out of range: {n}",
                i + 1,
                self.name
            ))
        })
    }

    /// An integer within Java's `int` range, as `States.MathAdd` documents.
    fn int32(&self, i: usize) -> Checked<i64> {
        let value = self.integer(i)?;
        if i32::try_from(value).is_err() {
            return Err(Bad(format!(
                "Argument {} of {} must be an integer between -2147483648 and 2147483647, but was {value}",
                i + 1,
                self.name
            )));
        }
        Ok(value)
    }

    /// An array index: an integral number (`2` or `2.0`), not rounded.
    fn index(&self, i: usize) -> Checked<i64> {
        let Value::Number(n) = &self.args[i] else {
            return Err(self.wrong(i, "a number"));
        };
        if let Some(v) = n.as_i64() {
            return Ok(v);
        }
        match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(x as i64),
            _ => Err(Bad(format!(
                "Argument {} of {} must be an integer, but was {}",
                i + 1,
                self.name,
                java_number(n)
            ))),
        }
    }
}

/// A value's JSON type with its article: "a string", "an array", "null".
fn described(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `Math.round`: the nearest integer, halves rounded up (towards positive infinity).
fn round_number(n: &Number) -> Option<i64> {
    if let Some(v) = n.as_i64() {
        return Some(v);
    }
    if n.is_u64() {
        return None;
    }
    let x = n.as_f64()?;
    let floor = x.floor();
    let rounded = if x - floor >= 0.5 { floor + 1.0 } else { floor };
    // Beyond i64 Java's Math.round saturates; such arguments are refused instead.
    let limit = -(i64::MIN as f64);
    if (-limit..limit).contains(&rounded) {
        Some(rounded as i64)
    } else {
        None
    }
}

fn format(template: Option<&FormatTemplate>, a: &Args<'_>) -> Checked<Value> {
    let runtime;
    let template = match template {
        Some(template) => template,
        None => {
            runtime = FormatTemplate::from_runtime_str(a.string(0)?);
            &runtime
        }
    };
    let values = &a.args[1..];
    let placeholders = template.placeholder_count();
    if placeholders != values.len() {
        return Err(Bad(format!(
            "The format string of {} has {placeholders} placeholder{} but {} argument{} followed it",
            a.name,
            if placeholders == 1 { "" } else { "s" },
            values.len(),
            if values.len() == 1 { "" } else { "s" },
        )));
    }
    let mut out = String::new();
    let mut next = values.iter();
    for piece in &template.pieces {
        match piece {
            FormatPiece::Text(text) => out.push_str(text),
            FormatPiece::Placeholder => {
                if let Some(value) = next.next() {
                    render(value, &mut out);
                }
            }
        }
    }
    Ok(Value::String(out))
}

/// How `States.Format` shows a value: strings raw, numbers and literals as JSON, arrays and
/// objects as Java's collections print them (`[a, 1]`, `{k=v, n=null}`).
fn render(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => out.push_str(s),
        Value::Number(n) => out.push_str(&java_number(n)),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Null => out.push_str("null"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(key);
                out.push('=');
                render(item, out);
            }
            out.push('}');
        }
    }
}

fn string_to_json(s: &str, name: &str) -> Checked<Value> {
    if s.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&integer_negative_zero(s)).map_err(|_| {
        Bad(format!(
            "The argument of {name} is not a valid JSON string: {s}"
        ))
    })
}

/// The integer literal `-0` written as `0`: Jackson reads it as the integer 0, serde_json as
/// the float -0.0. (`-0.0` stays a float.)
fn integer_negative_zero(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains("-0") {
        return s.into();
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let (mut in_string, mut escaped) = (false, false);
    for (i, c) in s.char_indices() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '-'
            && bytes.get(i + 1) == Some(&b'0')
            && !matches!(bytes.get(i + 2), Some(b'.' | b'e' | b'E' | b'0'..=b'9'))
        {
            continue;
        }
        out.push(c);
    }
    out.into()
}

fn array_range(start: i64, end: i64, step: i64, name: &str) -> Checked<Value> {
    if step == 0 {
        return Err(Bad(format!("The step argument of {name} must not be 0")));
    }
    let (start, end, step) = (i128::from(start), i128::from(end), i128::from(step));
    let count = if (step > 0 && start > end) || (step < 0 && start < end) {
        0
    } else {
        (end - start) / step + 1
    };
    if count > MAX_RANGE_ITEMS {
        return Err(Bad(format!(
            "{name} would create {count} items, more than the maximum of {MAX_RANGE_ITEMS}"
        )));
    }
    Ok(Value::Array(
        (0..count)
            .map(|i| Value::from((start + i * step) as i64))
            .collect(),
    ))
}

fn hash(data: &str, algorithm: &str) -> Option<String> {
    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
    let bytes = data.as_bytes();
    Some(match algorithm {
        "MD5" => hex(&Md5::digest(bytes)),
        "SHA-1" => hex(&Sha1::digest(bytes)),
        "SHA-256" => hex(&Sha256::digest(bytes)),
        "SHA-384" => hex(&Sha384::digest(bytes)),
        "SHA-512" => hex(&Sha512::digest(bytes)),
        _ => return None,
    })
}

/// Compact JSON as Jackson writes it: like serde_json's, but fractional numbers in Java's
/// `Double.toString` form.
pub(crate) fn java_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Number(n) => out.push_str(&java_number(n)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A JSON number as Java prints it: integers plainly, fractional values as
/// `Double.toString` does (`1.5`, `2.0`, `1.0E20`, `1.0E-5`).
pub(crate) fn java_number(n: &Number) -> String {
    match n.as_f64() {
        Some(x) if n.is_f64() => java_double(x),
        _ => n.to_string(),
    }
}

fn java_double(x: f64) -> String {
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".to_string()
        } else if x > 0.0 {
            "Infinity".to_string()
        } else {
            "-Infinity".to_string()
        };
    }
    // Shortest round-trip digits and the decimal exponent: x = d.ddd × 10^exp.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    let abs = x.abs();
    if (1e-3..1e7).contains(&abs) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            let (int_part, frac) = if digits.len() > int_len {
                (digits[..int_len].to_string(), digits[int_len..].to_string())
            } else {
                (
                    format!("{digits}{}", "0".repeat(int_len - digits.len())),
                    String::new(),
                )
            };
            out.push_str(&int_part);
            out.push('.');
            out.push_str(if frac.is_empty() { "0" } else { &frac });
        } else {
            out.push_str("0.");
            out.push_str(&"0".repeat((-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        out.push('E');
        out.push_str(&exp.to_string());
    }
    out
}

/// `java.util.Random`, the generator behind a seeded `States.MathRandom`.
struct JavaRandom {
    seed: u64,
}

impl JavaRandom {
    const MULTIPLIER: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;

    fn new(seed: i64) -> Self {
        JavaRandom {
            seed: (seed as u64 ^ Self::MULTIPLIER) & Self::MASK,
        }
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.seed = (self.seed.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xB)) & Self::MASK;
        (self.seed >> (48 - bits)) as i64 as i32
    }

    /// `nextInt(bound)` for a positive `bound`.
    fn next_int(&mut self, bound: i32) -> i32 {
        let mut r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            return ((i64::from(bound) * i64::from(r)) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }

    fn next_double(&mut self) -> f64 {
        let hi = i64::from(self.next(26)) << 27;
        let lo = i64::from(self.next(27));
        (hi + lo) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_random_matches_the_jdk() {
        // Values printed by a JDK for `new java.util.Random(seed)`.
        assert_eq!(JavaRandom::new(42).next_double(), 0.7275636800328681);
        assert_eq!(JavaRandom::new(42).next_int(10), 0);
        assert_eq!(JavaRandom::new(42).next_int(100), 30);
        assert_eq!(JavaRandom::new(3).next_int(999), 239);
        assert_eq!(JavaRandom::new(-7).next_int(1_000_000_007), 577_934_662);
    }

    #[test]
    fn java_doubles() {
        for (x, text) in [
            (1.1, "1.1"),
            (2.0, "2.0"),
            (-0.5, "-0.5"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1234567.0, "1234567.0"),
            (1e7, "1.0E7"),
            (1.5e20, "1.5E20"),
            (123.456, "123.456"),
            (-0.0, "-0.0"),
            (1e-300, "1.0E-300"),
            (1.7976931348623157e308, "1.7976931348623157E308"),
            (0.1 + 0.2, "0.30000000000000004"),
            (100.0 / 3.0, "33.333333333333336"),
        ] {
            assert_eq!(java_double(x), text, "{x}");
        }
    }

    #[test]
    fn math_round_is_half_up() {
        let r = |x: f64| round_number(&Number::from_f64(x).expect("finite"));
        assert_eq!(r(1.5), Some(2));
        assert_eq!(r(-1.5), Some(-1));
        assert_eq!(r(-1.51), Some(-2));
        assert_eq!(r(0.49999999999999994), Some(0));
        assert_eq!(r(-0.5), Some(0));
        assert_eq!(r(2.5), Some(3));
        assert_eq!(r(-2.5), Some(-2));
        assert_eq!(r(1e300), None);
    }
}
