//! `cargo learn viz` in a console built without the puzzle ports: a launcher for one with them.
//!
//! `viz <puzzle>` runs the puzzle's Rust port (`tests/ports/`) in-process, and the ports were
//! two fifths of everything the console compiled: each closure a port hands the loop is one
//! more copy of the loop's generic callback paths. A learner's first `cargo run` has no use
//! for them (issue 11: time to first feedback), so they, and the visualizer with them, sit
//! behind the `viz-ports` feature. `cargo test` turns it on (through the crate's
//! dev-dependency on itself), so the tests always have them; elsewhere `viz` runs the same
//! command again through `cargo run --features viz-ports`, which the first time compiles the
//! console once more with them. Cargo keeps both builds, so neither undoes the other and
//! later launches start at once.

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
    eprintln!("starting the visualizer, built with the puzzle ports (slow the first time only) …");
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
