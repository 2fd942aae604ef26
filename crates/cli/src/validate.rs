//! `stepwise validate FILE...`: AWS's definition diagnostics, for people or as
//! ValidateStateMachineDefinition's response.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};
use stepwise_asl::{Diagnostic, MachineType, ParseOptions, Report, validate_definition};

/// ValidateStateMachineDefinition returns at most this many diagnostics by default.
const MAX_RESULTS: usize = 100;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Definition files (Amazon States Language JSON).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print ValidateStateMachineDefinition's response (one JSON object per file).
    #[arg(long)]
    json: bool,
    /// The state machine type the definition is for.
    #[arg(long = "type", value_enum, default_value_t = TypeArg::Standard)]
    machine_type: TypeArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum TypeArg {
    #[value(name = "STANDARD", alias = "standard")]
    Standard,
    #[value(name = "EXPRESS", alias = "express")]
    Express,
}

pub fn run(args: &Args) -> ExitCode {
    let options = ParseOptions {
        machine_type: match args.machine_type {
            TypeArg::Standard => MachineType::Standard,
            TypeArg::Express => MachineType::Express,
        },
    };
    let mut all_valid = true;
    let mut unreadable = false;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in &args.files {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("stepwise: cannot read {}: {e}", path.display());
                unreadable = true;
                continue;
            }
        };
        // Bytes that are not UTF-8 cannot be JSON; let the validator say where it breaks.
        let text = String::from_utf8_lossy(&bytes);
        let report = validate_definition(&text, options);
        all_valid &= report.is_valid();
        let written = if args.json {
            writeln!(out, "{}", response(&report))
        } else {
            write_human(&mut out, &path.display().to_string(), &report)
        };
        if written.is_err() {
            return ExitCode::from(2);
        }
    }
    if unreadable {
        ExitCode::from(2)
    } else if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// ValidateStateMachineDefinition's response body.
fn response(report: &Report) -> Value {
    let diagnostics: Vec<Value> = report
        .diagnostics
        .iter()
        .take(MAX_RESULTS)
        .map(diagnostic_json)
        .collect();
    json!({
        "result": if report.is_valid() { "OK" } else { "FAIL" },
        "diagnostics": diagnostics,
        "truncated": report.diagnostics.len() > MAX_RESULTS,
    })
}

fn diagnostic_json(d: &Diagnostic) -> Value {
    let mut v = json!({
        "severity": d.severity.as_str(),
        "code": d.code.as_str(),
        "message": d.message,
    });
    if let (Some(loc), Some(obj)) = (&d.location, v.as_object_mut()) {
        obj.insert("location".to_owned(), Value::String(loc.clone()));
    }
    v
}

/// `file: location: CODE: message`, one line per diagnostic; `file: OK` when valid.
pub(crate) fn write_human(
    out: &mut impl Write,
    file: &str,
    report: &Report,
) -> std::io::Result<()> {
    if report.diagnostics.is_empty() {
        return writeln!(out, "{file}: OK");
    }
    for d in &report.diagnostics {
        // Jackson's messages span lines; keep one diagnostic per line.
        let message = d.message.replace('\n', " ");
        match &d.location {
            Some(loc) => writeln!(out, "{file}: {loc}: {}: {message}", d.code)?,
            None => writeln!(out, "{file}: {}: {message}", d.code)?,
        }
    }
    Ok(())
}
