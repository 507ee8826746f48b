//! Runs a chapter's tests with cargo and reads what happened.

use std::io;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::catalog::Exercise;

/// Which copy of the module the tests run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Against {
    /// The learner's `exercises/<name>.rs` (the `learn-<name>` feature).
    Exercise,
    /// The reference `src/<name>.rs`.
    Reference,
}

/// What one `cargo test` run reported.
#[derive(Debug, Clone)]
pub struct TestRun {
    /// The code compiled and the test binary ran.
    pub compiled: bool,
    /// Tests that passed.
    pub passed: usize,
    /// Tests that failed.
    pub failed: usize,
    /// Everything cargo and the tests printed, stdout then stderr.
    pub output: String,
}

impl TestRun {
    /// True when it compiled, ran at least one test, and none failed.
    pub fn success(&self) -> bool {
        self.compiled && self.failed == 0 && self.passed > 0
    }
}

/// The `cargo test` command for `exercise`'s tests.
pub fn command(root: &Path, exercise: &Exercise, against: Against) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root)
        .args(["test", "--color", "never", "--test", &exercise.test]);
    if against == Against::Exercise {
        cmd.args(["--features", &exercise.feature()]);
    }
    cmd.args(["--", "--color", "never"]);
    if !exercise.filter.is_empty() {
        cmd.arg(&exercise.filter);
    }
    cmd.env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `exercise`'s tests and waits for them.
///
/// # Errors
/// When cargo itself cannot be started.
pub fn run(root: &Path, exercise: &Exercise, against: Against) -> io::Result<TestRun> {
    let output = command(root, exercise, against).output().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("failed to run `cargo test` for `{}`: {e}", exercise.name),
        )
    })?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Ok(parse(text))
}

/// Reads the counts out of `cargo test` output.
pub fn parse(output: String) -> TestRun {
    let mut run = TestRun {
        compiled: false,
        passed: 0,
        failed: 0,
        output,
    };
    for line in run.output.lines() {
        // "test result: FAILED. 3 passed; 2 failed; 0 ignored; ..."
        if let Some(rest) = line.strip_prefix("test result: ") {
            run.compiled = true;
            run.passed += count(rest, "passed");
            run.failed += count(rest, "failed");
        }
    }
    run
}

/// The number before `label` in a summary like `FAILED. 3 passed; 2 failed; 0 ignored`.
fn count(summary: &str, label: &str) -> usize {
    summary
        .split(';')
        .find_map(|part| {
            let mut words = part.split_whitespace().rev();
            (words.next() == Some(label)).then(|| words.next()?.parse().ok())?
        })
        .unwrap_or(0)
}
