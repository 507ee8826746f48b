//! Node conformance: every ordering claim of the book is a puzzle, a small `.js` program in
//! `tests/puzzles/` with the output real Node 20 printed committed beside it.
//!
//! Two checks keep the book honest:
//! - **ports**: each puzzle's Rust port (in `tests/ports/`) must print exactly Node's lines, or one of
//!   the alternative outputs the manifest allows for a nondeterministic puzzle;
//! - **node itself**: when `node` is on the PATH, every puzzle is run again and must still print
//!   an output the manifest allows, so the expectations are Node's, not ours. Real Node on a
//!   loaded machine can lose a timing race, so a puzzle gets up to three tries.
//!
//! `tests/puzzles/puzzles.toml` says how each puzzle was recorded (see its header).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The ports, in a file of their own: the visualizer (`cargo learn viz <puzzle>`) runs them too.
mod ports;

/// The console's reader for the course's TOML files: the manifest uses the same small part
/// of the language, and one reader means no `toml` crate (and serde) in any test build.
#[allow(dead_code)] // the console writes progress files; this test only reads
#[path = "../src/bin/learn/toml_subset.rs"]
mod toml_subset;

/// How one puzzle was recorded (an entry of `puzzles.toml`).
#[derive(Debug, Default)]
struct Puzzle {
    name: String,
    script: PathBuf,
    /// Every stdout Node may print: the recorded `.out` first, then the `.alt.out`s.
    allowed: Vec<String>,
    stderr: Option<String>,
    /// For a crash: lines stderr must hold, in order (the stack trace around them varies).
    stderr_has: Vec<String>,
    env: BTreeMap<String, String>,
    /// The exit status Node ended with.
    exit: i32,
}

fn puzzle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/puzzles")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn manifest() -> Vec<Puzzle> {
    let dir = puzzle_dir();
    let table = toml_subset::parse(&read(&dir.join("puzzles.toml")))
        .unwrap_or_else(|e| panic!("puzzles.toml: {e}"));
    table
        .iter()
        .map(|(name, entry)| {
            let script = ["js", "mjs"]
                .iter()
                .map(|ext| dir.join(format!("{name}.{ext}")))
                .find(|p| p.exists())
                .unwrap_or_else(|| panic!("puzzle `{name}` has no .js or .mjs file"));
            let out = entry
                .get("out")
                .and_then(|v| v.as_str())
                .map_or_else(|| format!("{name}.out"), str::to_string);
            let mut allowed = vec![read(&dir.join(out))];
            if let Some(alts) = entry.get("alt").and_then(|v| v.as_array()) {
                for alt in alts {
                    allowed.push(read(
                        &dir.join(alt.as_str().expect("alt entries are file names")),
                    ));
                }
            }
            let stderr = entry
                .get("err")
                .and_then(|v| v.as_str())
                .map(|f| read(&dir.join(f)));
            let stderr_has = entry
                .get("err_has")
                .and_then(|v| v.as_array())
                .map(|lines| {
                    lines
                        .iter()
                        .map(|l| l.as_str().expect("err_has holds lines").to_string())
                        .collect()
                })
                .unwrap_or_default();
            let exit = entry.get("exit").map_or(0, |v| {
                let code = v.as_integer().expect("exit is an integer");
                i32::try_from(code).expect("exit fits an i32")
            });
            let env = entry
                .get("env")
                .and_then(|v| v.as_table())
                .map(|t| {
                    t.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            Puzzle {
                name: name.clone(),
                script,
                allowed,
                stderr,
                stderr_has,
                env,
                exit,
            }
        })
        .collect()
}

fn as_text(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn every_port_prints_what_node_printed() {
    let puzzles = manifest();
    let mut failures = Vec::new();
    for (name, port) in ports::all() {
        let puzzle = puzzles
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("port `{name}` has no entry in puzzles.toml"));
        let printed = as_text(&port());
        if !puzzle.allowed.contains(&printed) {
            failures.push(format!(
                "{name}: the port printed\n{printed}Node printed\n{}",
                puzzle.allowed[0]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_puzzle_has_a_script_and_a_recorded_output() {
    let listed: Vec<String> = manifest().into_iter().map(|p| p.name).collect();
    for entry in fs::read_dir(puzzle_dir()).expect("tests/puzzles exists") {
        let path = entry.expect("readable directory").path();
        if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("js" | "mjs")
        ) {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(listed.contains(&stem), "{stem} is not in puzzles.toml");
        }
    }
}

/// Runs `node` on `puzzle` once; `Ok` when it printed an allowed output.
fn run_node(puzzle: &Puzzle) -> Result<(), String> {
    let output = Command::new("node")
        .arg(&puzzle.script)
        .current_dir(puzzle_dir())
        .envs(&puzzle.env)
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !puzzle.allowed.contains(&stdout) {
        return Err(format!(
            "{}: node printed\n{stdout}but the manifest allows\n{}",
            puzzle.name,
            puzzle.allowed.join("or\n")
        ));
    }
    if output.status.code() != Some(puzzle.exit) {
        return Err(format!(
            "{}: node ended with {} but the manifest says exit status {}",
            puzzle.name, output.status, puzzle.exit
        ));
    }
    let stderr = mask_pid(&String::from_utf8_lossy(&output.stderr));
    if !puzzle.stderr_has.is_empty() {
        return holds_in_order(&stderr, &puzzle.stderr_has).map_err(|missing| {
            format!(
                "{}: node's stderr lacks `{missing}`:\n{stderr}",
                puzzle.name
            )
        });
    }
    let expected = puzzle.stderr.clone().unwrap_or_default();
    if stderr != expected {
        return Err(format!(
            "{}: node wrote to stderr\n{stderr}expected\n{expected}",
            puzzle.name
        ));
    }
    Ok(())
}

/// `Ok` when `text` has each of `lines` (compared without surrounding blanks) in this order;
/// otherwise the first one missing.
fn holds_in_order<'a>(text: &str, lines: &'a [String]) -> Result<(), &'a str> {
    let mut rest = text.lines().map(str::trim);
    for wanted in lines {
        if !rest.any(|line| line == wanted.trim()) {
            return Err(wanted);
        }
    }
    Ok(())
}

/// `(node:12345)` → `(node:PID)`, as the recordings mask it.
fn mask_pid(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("(node:") {
        out.push_str(&rest[..at + 6]);
        rest = &rest[at + 6..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            out.push_str("PID");
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn node_still_prints_what_the_manifest_allows() {
    let Ok(version) = Command::new("node").arg("--version").output() else {
        eprintln!("node is not installed: skipping the re-check against real Node");
        return;
    };
    // The recordings are Node 20's (SPEC.md); another major version may order some
    // puzzles differently, and that says nothing about this crate.
    let version = String::from_utf8_lossy(&version.stdout);
    if !version.starts_with("v20.") {
        eprintln!(
            "node {} is not Node 20: skipping the re-check",
            version.trim()
        );
        return;
    }
    let mut failures = Vec::new();
    for puzzle in manifest() {
        let mut last = Ok(());
        for _attempt in 0..3 {
            last = run_node(&puzzle);
            if last.is_ok() {
                break;
            }
        }
        if let Err(e) = last {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn stderr_lines_must_appear_in_their_order() {
    let stderr =
        "node:events:502\n      throw er; // Unhandled 'error' event\n\nError: read ECONNRESET\n";
    let wanted = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    let crash = wanted(&[
        "throw er; // Unhandled 'error' event",
        "Error: read ECONNRESET",
    ]);
    assert_eq!(holds_in_order(stderr, &crash), Ok(()));
    let reversed: Vec<String> = crash.iter().rev().cloned().collect();
    assert_eq!(
        holds_in_order(stderr, &reversed),
        Err("throw er; // Unhandled 'error' event"),
        "order matters"
    );
    assert_eq!(
        holds_in_order(stderr, &wanted(&["Error: write EPIPE"])),
        Err("Error: write EPIPE")
    );
}
