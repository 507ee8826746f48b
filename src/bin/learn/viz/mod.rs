//! `cargo learn viz <puzzle | example | trace file>`: run a program with tracing and replay
//! what the loop did, step by step.
//!
//! - a puzzle of `tests/puzzles/` (its name, or a prefix such as `p03`) runs through its Rust
//!   port in this process, inside a [`trace::capture`];
//! - an example of `examples/` runs with `EVENTLOOP_TRACE` set (it must end by itself), which
//!   records it in the binary encoding;
//! - a file is a trace recorded before, by either, or by any program or test run under
//!   `EVENTLOOP_TRACE`: binary (`.trace`) or JSON lines (`.jsonl`), told apart by its header.
//!
//! On a terminal the replay is interactive ([`term`]); otherwise, or with `--plain`, it is
//! printed as text, one line per event ([`text`]). `--json` prints the trace itself as JSON
//! lines — a binary trace turned into them ([`trace::to_json_lines`]): how to read a binary
//! trace with `grep` or `jq`, or make one the book's player can show.

mod model;
mod screen;
mod term;
#[cfg(test)]
mod tests;
mod text;

#[allow(dead_code, clippy::all)] // the ports are written for the conformance test
#[path = "../../../../tests/ports/mod.rs"]
mod ports;

use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use eventloop::trace;

use model::Replay;

/// How to show the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Interactive on a terminal, plain text elsewhere.
    Auto,
    /// Plain text.
    Plain,
    /// The trace itself, as JSON lines (a binary one converted).
    Json,
}

/// The usage line.
pub const USAGE: &str = "cargo learn viz <puzzle | example | trace file> [--plain | --json]\n\
    \x20 --plain  one line an event, not the interactive replay\n\
    \x20 --json   the trace itself as JSON lines (a binary .trace file converted)";

/// Runs `cargo learn viz` with the arguments after `viz`.
pub fn main(root: &Path, args: &[String]) -> io::Result<ExitCode> {
    let mut mode = Mode::Auto;
    let mut target = None;
    for arg in args {
        match arg.as_str() {
            "--plain" => mode = Mode::Plain,
            "--json" => mode = Mode::Json,
            option if option.starts_with('-') => {
                return Err(usage(format!("unknown option `{option}`")));
            }
            word if target.is_none() => target = Some(word),
            word => return Err(usage(format!("unexpected argument `{word}`"))),
        }
    }
    let Some(target) = target else {
        return Err(usage(format!(
            "which program? A puzzle ({}…), an example, or a trace file",
            puzzle_names()[..4].join(", ")
        )));
    };
    let bytes = record(root, target)?;
    if mode == Mode::Json {
        let mut out = io::BufWriter::new(io::stdout().lock());
        trace::to_json_lines(&bytes[..], &mut out)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let replay = Replay::new(trace::read(&bytes[..])?);
    if mode == Mode::Auto && io::stdout().is_terminal() && io::stdin().is_terminal() {
        term::interactive(&replay)?;
    } else {
        text::write_plain(&replay, &mut io::stdout().lock())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn usage(why: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{why}\nusage: {USAGE}"),
    )
}

fn puzzle_names() -> Vec<&'static str> {
    ports::all().into_iter().map(|(name, _)| name).collect()
}

/// The port named `name`, or the one port whose name starts with it.
fn find_port(name: &str) -> Result<Option<(&'static str, ports::Port)>, io::Error> {
    let all = ports::all();
    if let Some(&found) = all.iter().find(|(n, _)| *n == name) {
        return Ok(Some(found));
    }
    let matches: Vec<_> = all.iter().filter(|(n, _)| n.starts_with(name)).collect();
    match matches.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(**one)),
        many => Err(usage(format!(
            "`{name}` names {} puzzles: {}",
            many.len(),
            many.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Traces the puzzle `name` through its port: the trace's bytes.
pub fn record_puzzle(name: &'static str, port: ports::Port) -> Vec<u8> {
    let (_printed, bytes) = trace::capture_json_named(Some(name), port);
    bytes
}

// ANCHOR: record
/// The trace of `target`: a trace file, a puzzle, or an example.
fn record(root: &Path, target: &str) -> io::Result<Vec<u8>> {
    let file = Path::new(target);
    if target.ends_with(".jsonl") || target.ends_with(".trace") || file.is_file() {
        return fs::read(file)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot read the trace {target}: {e}")));
    }
    if let Some((name, port)) = find_port(target)? {
        return Ok(record_puzzle(name, port));
    }
    let example = root.join("examples").join(format!("{target}.rs"));
    if example.is_file() {
        return record_example(root, target);
    }
    Err(usage(format!(
        "`{target}` is not a puzzle, an example or a trace file. The puzzles: {}",
        puzzle_names().join(", ")
    )))
}
// ANCHOR_END: record

/// Runs `cargo run --example name` with `EVENTLOOP_TRACE` pointing at a file of ours (in the
/// binary encoding: the example runs at its own speed); its first loop's trace.
fn record_example(root: &Path, name: &str) -> io::Result<Vec<u8>> {
    let dir = root.join("target").join("viz");
    fs::create_dir_all(&dir)?;
    let path: PathBuf = dir.join(format!("{name}.trace"));
    let _ = fs::remove_file(&path);
    eprintln!(
        "running the example {name} with {}={} …",
        trace::ENV_VAR,
        path.display()
    );
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["run", "--quiet", "--example", name])
        .env(trace::ENV_VAR, &path)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        eprintln!("the example ended with {status}; replaying what it traced");
    }
    fs::read(&path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "the example {name} left no trace at {} ({e}): does it build an EventLoop?",
                path.display()
            ),
        )
    })
}
