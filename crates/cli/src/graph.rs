//! `stepwise graph FILE --format mermaid|dot|svg`: a state machine as a picture, in the layout
//! the web console draws.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use stepwise_asl::{ParseOptions, parse_definition};
use stepwise_graph::{Graph, render};

use crate::validate::write_human;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The state machine definition (Amazon States Language JSON).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// What to write.
    #[arg(long, value_enum, default_value_t = Format::Mermaid)]
    format: Format,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Mermaid,
    Dot,
    Svg,
}

pub fn run(args: &Args) -> ExitCode {
    let file = args.file.display().to_string();
    let text = match std::fs::read(&args.file) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            eprintln!("stepwise: cannot read {file}: {e}");
            return ExitCode::from(2);
        }
    };
    let machine = match parse_definition(&text, ParseOptions::default()) {
        Ok((machine, _)) => machine,
        Err(report) => {
            let _ = write_human(&mut std::io::stderr().lock(), &file, &report);
            return ExitCode::from(1);
        }
    };
    let graph = Graph::of(&machine);
    let out = match args.format {
        Format::Mermaid => render::mermaid(&graph, None),
        Format::Dot => render::dot(&graph, None),
        Format::Svg => {
            let layout = stepwise_graph::layout(&graph);
            render::svg(&graph, &layout, None, Default::default())
        }
    };
    let written = match &args.output {
        Some(path) => std::fs::write(path, out),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush())
        }
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stepwise: cannot write the graph: {e}");
            ExitCode::from(2)
        }
    }
}
