//! `cargo learn viz` in a console built without the puzzle ports: it builds them, once.
//!
//! `viz <puzzle>` runs the puzzle's Rust port (`tests/ports/`) in-process, and the ports were
//! two fifths of everything the console compiled: each closure a port hands the loop is one
//! more copy of the loop's generic callback paths. A learner's first `cargo run` has no use
//! for them (issue 11: time to first feedback), so they, and the visualizer with them, sit
//! behind the `viz-ports` feature. `cargo test` turns it on (through the crate's
//! dev-dependency on itself), so the tests always have them; elsewhere the first `viz` runs
//! the same command again through `cargo run --features viz-ports`, which compiles the
//! console once more with them. Cargo keeps both builds: neither undoes the other.

use std::io;
use std::path::Path;
use std::process::{Command, ExitCode};

/// Set in the console started again, so that a build that somehow still lacks the ports
/// says so instead of starting itself forever.
const RELAUNCHED: &str = "LEARN_VIZ_RELAUNCHED";

/// Runs `cargo learn viz` with the arguments after `viz`, in a console built with the ports.
///
/// # Errors
/// When cargo cannot be started, or this console was itself started for the ports and has
/// none.
pub fn main(root: &Path, args: &[String]) -> io::Result<ExitCode> {
    if std::env::var_os(RELAUNCHED).is_some() {
        return Err(io::Error::other(
            "this console was built for `viz` with the `viz-ports` feature and has no ports",
        ));
    }
    eprintln!("building the visualizer and the puzzle ports (the first `cargo learn viz` only) …");
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "run",
            "--quiet",
            "--features",
            "viz-ports",
            "--bin",
            "learn",
            "--",
            "viz",
        ])
        .args(args)
        .env(RELAUNCHED, "1")
        .current_dir(root)
        .status()?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}
