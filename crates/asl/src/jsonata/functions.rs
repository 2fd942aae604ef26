//! The functions Step Functions adds to JSONata (`$partition`, `$range`, `$hash`, `$random`,
//! `$uuid`, `$parse`), the one it takes away (`$eval`), and `$random` and `$shuffle` drawing
//! from the run's entropy rather than a system generator.
//!
//! Only the functions an expression mentions are registered, so an evaluation that uses none
//! of them pays nothing, and the entropy is drawn from only when `$random` or `$uuid` appears.

use std::cell::RefCell;
use std::rc::Rc;

use jsonata_core::evaluator::{Evaluator, EvaluatorError};
use jsonata_core::value::JValue;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::Dialect;
use super::convert::to_jvalue;
use crate::eval::{Entropy, SeededEntropy};

/// The most items `$range` builds (as `States.ArrayRange` allows).
const MAX_RANGE_ITEMS: usize = 1000;

/// Registers, on `evaluator`, what `dialect` adds or removes among the `names` the expression
/// mentions.
pub(super) fn register(
    evaluator: &mut Evaluator,
    dialect: Dialect,
    names: &[String],
    entropy: &mut dyn Entropy,
) {
    let mentions = |name: &str| names.iter().any(|n| n == name);
    let aws = dialect == Dialect::StepFunctions;
    // One draw from the run's entropy seeds a generator for this evaluation, so every random
    // value still comes from (and replays with) the entropy passed in.
    let rng = if mentions("random") || mentions("shuffle") || (aws && mentions("uuid")) {
        Some(Rc::new(RefCell::new(SeededEntropy::new(
            entropy.next_u64(),
        ))))
    } else {
        None
    };
    // Registration fails only for a name that shadows a built-in it may not shadow; these
    // names are fixed and none does, so the results are not interesting.
    if let Some(rng) = &rng {
        if mentions("random") {
            let rng = Rc::clone(rng);
            let _ = evaluator.register_fn_override("random", move |args: &[JValue]| {
                random(args, aws, &mut rng.borrow_mut())
            });
        }
        if mentions("shuffle") {
            let rng = Rc::clone(rng);
            let _ = evaluator.register_fn_override("shuffle", move |args: &[JValue]| {
                shuffle(args, &mut rng.borrow_mut())
            });
        }
        if aws && mentions("uuid") {
            let rng = Rc::clone(rng);
            let _ = evaluator.register_fn("uuid", move |args: &[JValue]| {
                if !args.is_empty() {
                    return Err(signature_error(1, "uuid"));
                }
                Ok(JValue::string(rng.borrow_mut().uuid()))
            });
        }
    }
    if !aws {
        return;
    }
    // The step's time, so that a replay sees the same `$now()` and `$millis()`.
    if let Some(ms) = entropy.now_millis() {
        if mentions("now") {
            let _ = evaluator.register_fn_override("now", move |args: &[JValue]| {
                if !args.is_empty() {
                    return Err(signature_error(1, "now"));
                }
                let at =
                    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms).unwrap_or_default();
                Ok(JValue::string(
                    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                ))
            });
        }
        if mentions("millis") {
            let _ = evaluator.register_fn_override("millis", move |args: &[JValue]| {
                if !args.is_empty() {
                    return Err(signature_error(1, "millis"));
                }
                Ok(JValue::Number(ms as f64))
            });
        }
    }
    if mentions("eval") {
        let _ = evaluator.register_fn_override("eval", |_: &[JValue]| {
            Err(EvaluatorError::EvaluationError(
                "T1006: Attempted to invoke a non-function".to_string(),
            ))
        });
    }
    if mentions("partition") {
        let _ = evaluator.register_fn("partition", partition);
    }
    if mentions("range") {
        let _ = evaluator.register_fn("range", range);
    }
    if mentions("hash") {
        let _ = evaluator.register_fn("hash", hash);
    }
    if mentions("parse") {
        let _ = evaluator.register_fn("parse", parse);
    }
}

fn signature_error(argument: usize, function: &str) -> EvaluatorError {
    EvaluatorError::TypeError(format!(
        "T0410: Argument {argument} of function \"{function}\" does not match function signature"
    ))
}

fn too_many(args: &[JValue], max: usize, function: &str) -> Result<(), EvaluatorError> {
    if args.len() > max {
        Err(signature_error(max + 1, function))
    } else {
        Ok(())
    }
}

fn failure(message: impl Into<String>) -> EvaluatorError {
    EvaluatorError::EvaluationError(message.into())
}

/// A numeric argument: `None` when undefined, an error when not a number.
fn number_arg(
    args: &[JValue],
    index: usize,
    function: &str,
) -> Result<Option<f64>, EvaluatorError> {
    match args.get(index) {
        None | Some(JValue::Undefined) => Ok(None),
        Some(JValue::Number(n)) => Ok(Some(*n)),
        Some(_) => Err(signature_error(index + 1, function)),
    }
}

/// A string argument: `None` when undefined, an error when not a string.
fn string_arg<'a>(
    args: &'a [JValue],
    index: usize,
    function: &str,
) -> Result<Option<&'a str>, EvaluatorError> {
    match args.get(index) {
        None | Some(JValue::Undefined) => Ok(None),
        Some(JValue::String(s)) => Ok(Some(s)),
        Some(_) => Err(signature_error(index + 1, function)),
    }
}

/// `$random()`: a number in [0, 1). Step Functions also takes `$random(seed)`: the same seed
/// gives the same number (drawn as `java.util.Random(seed).nextDouble()` would).
fn random(args: &[JValue], aws: bool, rng: &mut SeededEntropy) -> Result<JValue, EvaluatorError> {
    if !aws {
        too_many(args, 0, "random")?;
        return Ok(JValue::Number(rng.unit_f64()));
    }
    too_many(args, 1, "random")?;
    match number_arg(args, 0, "random")? {
        None => Ok(JValue::Number(rng.unit_f64())),
        Some(seed) if seed.is_finite() =>
        {
            #[allow(clippy::cast_possible_truncation)]
            Ok(JValue::Number(java_next_double(seed.trunc() as i64)))
        }
        Some(_) => Err(signature_error(1, "random")),
    }
}

/// `$shuffle(array)`: the items in an order drawn from the run's entropy (Fisher–Yates).
fn shuffle(args: &[JValue], rng: &mut SeededEntropy) -> Result<JValue, EvaluatorError> {
    too_many(args, 1, "shuffle")?;
    match args.first() {
        None => Ok(JValue::Undefined),
        Some(JValue::Array(items)) if items.len() > 1 => {
            let mut items: Vec<JValue> = items.iter().cloned().collect();
            for i in (1..items.len()).rev() {
                #[allow(clippy::cast_possible_truncation)]
                let j = (rng.next_u64() % (i as u64 + 1)) as usize;
                items.swap(i, j);
            }
            Ok(JValue::array(items))
        }
        Some(other) => Ok(other.clone()),
    }
}

/// The first `nextDouble()` of a `java.util.Random` seeded with `seed` (the 48-bit linear
/// congruential generator its documentation specifies).
fn java_next_double(seed: i64) -> f64 {
    const MULTIPLIER: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;
    let mut state = (seed as u64 ^ MULTIPLIER) & MASK;
    let mut next = |bits: u32| {
        state = state.wrapping_mul(MULTIPLIER).wrapping_add(0xB) & MASK;
        state >> (48 - bits)
    };
    let high = next(26);
    let low = next(27);
    ((high << 27) + low) as f64 / (1u64 << 53) as f64
}

/// `$partition(array, size)`: the array cut into chunks of `size` items, the last one
/// possibly shorter. A non-array first argument is treated as an array of one.
fn partition(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    too_many(args, 2, "partition")?;
    let items: Vec<JValue> = match args.first() {
        None | Some(JValue::Undefined) => return Ok(JValue::Undefined),
        Some(JValue::Array(items)) => items.iter().cloned().collect(),
        Some(other) => vec![other.clone()],
    };
    let Some(size) = number_arg(args, 1, "partition")? else {
        return Err(signature_error(2, "partition"));
    };
    if !size.is_finite() || size.trunc() < 1.0 {
        return Err(failure(
            "The chunk size argument of the $partition function must be a positive integer",
        ));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let size = (size.trunc() as u64).min(usize::MAX as u64) as usize;
    let chunks = items
        .chunks(size)
        .map(|chunk| JValue::array(chunk.to_vec()))
        .collect();
    Ok(JValue::array(chunks))
}

/// `$range(start, end, step)`: `start`, `start + step`, … up to and including `end` when a
/// step lands on it. The result is a sequence, so a single number comes back unwrapped
/// (recorded: `$range(1, 9, 9)` is `1`).
fn range(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    too_many(args, 3, "range")?;
    let mut bounds = [0.0; 3];
    for (index, bound) in bounds.iter_mut().enumerate() {
        match number_arg(args, index, "range")? {
            Some(n) if n.is_finite() => *bound = n,
            Some(_) => return Err(signature_error(index + 1, "range")),
            None if index < args.len() => return Ok(JValue::Undefined),
            None => return Err(signature_error(index + 1, "range")),
        }
    }
    let [start, end, step] = bounds;
    if step == 0.0 {
        return Err(failure(
            "The step argument of the $range function must not be zero",
        ));
    }
    let mut items = Vec::new();
    let mut k = 0.0;
    loop {
        let value = start + k * step;
        if (step > 0.0 && value > end) || (step < 0.0 && value < end) {
            break;
        }
        if items.len() == MAX_RANGE_ITEMS {
            return Err(failure(format!(
                "The $range function cannot return more than {MAX_RANGE_ITEMS} items"
            )));
        }
        items.push(JValue::Number(value));
        k += 1.0;
    }
    Ok(JValue::sequence(items))
}

/// `$hash(string, algorithm)`: the lowercase hex digest, for `MD5`, `SHA-1`, `SHA-256`,
/// `SHA-384` or `SHA-512`.
fn hash(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    too_many(args, 2, "hash")?;
    let Some(text) = string_arg(args, 0, "hash")? else {
        return Ok(JValue::Undefined);
    };
    let Some(algorithm) = string_arg(args, 1, "hash")? else {
        return Err(signature_error(2, "hash"));
    };
    let bytes = text.as_bytes();
    let digest: Vec<u8> = match algorithm {
        "MD5" => Md5::digest(bytes).to_vec(),
        "SHA-1" => Sha1::digest(bytes).to_vec(),
        "SHA-256" => Sha256::digest(bytes).to_vec(),
        "SHA-384" => Sha384::digest(bytes).to_vec(),
        "SHA-512" => Sha512::digest(bytes).to_vec(),
        other => {
            return Err(failure(format!(
                "The hashing algorithm provided ({other}) is not supported. Supported algorithms: MD5, SHA-1, SHA-256, SHA-384, SHA-512"
            )));
        }
    };
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    Ok(JValue::string(hex))
}

/// `$parse(json)`: the JSON text as a value.
fn parse(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    too_many(args, 1, "parse")?;
    let Some(text) = string_arg(args, 0, "parse")? else {
        return Ok(JValue::Undefined);
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => Ok(to_jvalue(&value)),
        Err(e) => Err(failure(format!(
            "The $parse function could not parse its argument as JSON: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_random_matches_the_documented_generator() {
        // new java.util.Random(42).nextDouble() is 0.7275636800328681 (a widely quoted value).
        assert_eq!(java_next_double(42), 0.7275636800328681);
        assert_eq!(java_next_double(7), java_next_double(7));
    }
}
