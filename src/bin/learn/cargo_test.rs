//! Runs a chapter's tests with cargo and reads what happened.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

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

/// Runs `exercise`'s tests in the scratch tree of `cargo learn check` and waits for them.
///
/// # Errors
/// When cargo itself cannot be started.
pub fn run_in_scratch(
    scratch: &crate::scratch::Scratch,
    exercise: &Exercise,
    against: Against,
) -> io::Result<TestRun> {
    let mut cmd = command(&scratch.root, exercise, against);
    cmd.env("CARGO_TARGET_DIR", &scratch.target);
    start(cmd, exercise, Group::Shared, |_| {})?.wait()
}

/// Which process group cargo runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Ours: Ctrl-C in the terminal stops cargo and the tests with us.
    Shared,
    /// Its own (on Unix), so that [`Stopper::stop`] can end cargo *and* the test binary it
    /// started, for example a test stuck in an endless loop.
    Own,
}

/// A `cargo test` that is running.
#[derive(Debug)]
pub struct Running {
    child: Arc<Mutex<Child>>,
    group: Group,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
    name: String,
}

/// Stops a [`Running`] test run from another thread.
#[derive(Debug, Clone)]
pub struct Stopper {
    child: Arc<Mutex<Child>>,
    group: Group,
}

/// Starts `exercise`'s tests. `on_line` sees each line the tests print on stdout as it comes
/// (the harness says there when a test has run for over a minute).
///
/// # Errors
/// When cargo itself cannot be started.
pub fn spawn(
    root: &Path,
    exercise: &Exercise,
    against: Against,
    group: Group,
    on_line: impl FnMut(&str) + Send + 'static,
) -> io::Result<Running> {
    start(command(root, exercise, against), exercise, group, on_line)
}

/// Starts `cmd`, a `cargo test` for `exercise`.
fn start(
    mut cmd: Command,
    exercise: &Exercise,
    group: Group,
    mut on_line: impl FnMut(&str) + Send + 'static,
) -> io::Result<Running> {
    #[cfg(unix)]
    if group == Group::Own {
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    }
    let mut child = cmd.spawn().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("failed to run `cargo test` for `{}`: {e}", exercise.name),
        )
    })?;
    let out = child.stdout.take().expect("command() pipes stdout");
    let mut err = child.stderr.take().expect("command() pipes stderr");
    let stdout = thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            on_line(&line);
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let stderr = thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = err.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    });
    Ok(Running {
        child: Arc::new(Mutex::new(child)),
        group,
        stdout,
        stderr,
        name: exercise.name.clone(),
    })
}

impl Running {
    /// A handle that can stop this run from another thread.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            child: Arc::clone(&self.child),
            group: self.group,
        }
    }

    /// Waits for cargo to finish (or to be stopped) and reads what it printed.
    ///
    /// # Errors
    /// When waiting for cargo fails.
    pub fn wait(self) -> io::Result<TestRun> {
        // Poll rather than block in `wait()`, so a `Stopper` can take the lock meanwhile.
        loop {
            let status = lock(&self.child).try_wait().map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("failed to wait for `cargo test` for `{}`: {e}", self.name),
                )
            })?;
            if status.is_some() {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let mut text = self.stdout.join().unwrap_or_default();
        text.push_str(&self.stderr.join().unwrap_or_default());
        Ok(parse(text))
    }
}

impl Stopper {
    /// Ends the run: cargo, and on Unix every process it started.
    pub fn stop(&self) {
        let mut child = lock(&self.child);
        if let Ok(Some(_)) = child.try_wait() {
            return; // already over; its pid may even belong to another process by now
        }
        #[cfg(unix)]
        if self.group == Group::Own {
            // The group id is cargo's pid (`process_group(0)`); `kill -- -PGID` ends the group.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = child.kill();
    }
}

/// Locks the child; a panic elsewhere cannot leave it in a state we could not read.
fn lock(child: &Mutex<Child>) -> std::sync::MutexGuard<'_, Child> {
    child
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
