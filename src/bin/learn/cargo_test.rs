//! Runs a chapter's tests with cargo and reads what happened.

use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

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
    /// How long the test binary ran (from cargo's `Running` line to the end), when it started.
    pub test_time: Option<Duration>,
    /// The time limit stopped the tests after this long: some test never finished.
    pub stopped_after: Option<Duration>,
    /// When the time limit stopped the tests: the one that did not finish.
    pub hung: Option<Box<Hung>>,
}

impl TestRun {
    /// True when it compiled, ran at least one test, and none failed.
    pub fn success(&self) -> bool {
        self.compiled && self.failed == 0 && self.passed > 0
    }
}

/// Where cargo runs: the tree, and the target directory when it is not the tree's own.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The crate's root.
    pub root: &'a Path,
    /// `CARGO_TARGET_DIR`, if not `root/target`.
    pub target: Option<&'a Path>,
    /// For a file holding many variants ([`crate::batch`]): the one the tests run.
    pub variant: Option<usize>,
}

impl<'a> Place<'a> {
    /// The tree at `root`, building into its own `target/`.
    pub fn tree(root: &'a Path) -> Place<'a> {
        Place {
            root,
            target: None,
            variant: None,
        }
    }
}

/// What to pass the test harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Select<'a> {
    /// The exercise's tests (its catalog filter).
    All,
    /// Only list the exercise's tests.
    List,
    /// Only these tests, each run with its output shown as it comes (`--nocapture`).
    Alone(&'a [String]),
}

/// The `cargo test` command for `exercise`'s tests.
pub fn command(root: &Path, exercise: &Exercise, against: Against) -> Command {
    command_at(Place::tree(root), exercise, against, Select::All)
}

fn command_at(place: Place, exercise: &Exercise, against: Against, select: Select) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // `--no-default-features`: the default feature is the console, and with it on, cargo
    // builds the console binary again for every integration test build (against this
    // build's library, so once more per exercise feature), though no exercise's test runs it.
    // It was about a third of the first `cargo learn <exercise>`'s build (issue 11).
    cmd.current_dir(place.root).args([
        "test",
        "--color",
        "never",
        "--no-default-features",
        "--test",
        &exercise.test,
    ]);
    if let Some(target) = place.target {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    if let Some(variant) = place.variant {
        cmd.env(crate::batch::VARIABLE, variant.to_string());
    }
    if against == Against::Exercise {
        cmd.args(["--features", &exercise.feature()]);
    }
    cmd.args(["--", "--color", "never"]);
    match select {
        Select::All | Select::List => {
            if select == Select::List {
                cmd.args(["--list", "--format", "terse"]);
            }
            if !exercise.filter.is_empty() {
                cmd.arg(&exercise.filter);
            }
        }
        Select::Alone(names) => {
            cmd.args(["--exact", "--nocapture"]).args(names);
        }
    }
    cmd.env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// How long an exercise's tests may run, after the build, before `cargo learn <exercise>`
/// and `watch` stop them. Every test of the course takes a few seconds at most.
pub const RUN_LIMIT: Duration = Duration::from_secs(30);

/// How long the tests that did not finish may run again alone, to show what they printed.
const ALONE_LIMIT: Duration = Duration::from_secs(10);

/// Runs `exercise`'s tests, stopping them once they have run for `limit` (after the build).
/// When the limit stops them, [`TestRun::hung`] says which test did not finish and how it
/// failed before it hung, if it did.
///
/// # Errors
/// When cargo itself cannot be started.
pub fn run_limited(
    place: Place,
    exercise: &Exercise,
    against: Against,
    limit: Duration,
    group: Group,
    on_line: impl FnMut(&str) + Send + 'static,
) -> io::Result<TestRun> {
    let cmd = command_at(place, exercise, against, Select::All);
    let mut run = start(cmd, exercise, group, on_line)?.wait_limited(Some(limit))?;
    find_hung(place, exercise, against, &mut run);
    Ok(run)
}

/// When the time limit stopped `run`, finds the test that did not finish ([`TestRun::hung`]).
pub fn find_hung(place: Place, exercise: &Exercise, against: Against, run: &mut TestRun) {
    if run.stopped_after.is_some() {
        run.hung = diagnose(place, exercise, against, &run.output).map(Box::new);
    }
}

/// A test the time limit stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hung {
    /// The test's full name.
    pub test: String,
    /// Its panic, when it panicked before it hung (its unwinding then waits for something
    /// that never comes, so the harness never reports the panic).
    pub panic: Option<crate::report::FailedTest>,
}

/// Which test of a stopped run did not finish, and what it printed: runs the unfinished tests
/// again, alone and with their output shown as it comes, for a few seconds.
fn diagnose(place: Place, exercise: &Exercise, against: Against, output: &str) -> Option<Hung> {
    let finished: Vec<&str> = output
        .lines()
        .filter_map(|l| l.strip_prefix("test ")?.split_once(" ... ").map(|(n, _)| n))
        .collect();
    let cmd = command_at(place, exercise, against, Select::List);
    let listed = start(cmd, exercise, Group::Shared, |_| {})
        .ok()?
        .wait_limited(Some(ALONE_LIMIT))
        .ok()?;
    let unfinished: Vec<String> = listed
        .output
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .filter(|name| !finished.contains(name))
        .map(str::to_string)
        .collect();
    let first = unfinished.first()?.clone();
    let cmd = command_at(place, exercise, against, Select::Alone(&unfinished));
    let alone = start(cmd, exercise, Group::Shared, |_| {})
        .ok()
        .and_then(|running| running.wait_limited(Some(ALONE_LIMIT)).ok());
    let panics = alone.map_or_else(Vec::new, |run| crate::report::panics(&run.output));
    // The first unfinished test that panicked: its message says what went wrong.
    let panic = unfinished
        .iter()
        .find_map(|name| panics.iter().find(|p| p.name == *name))
        .cloned();
    Some(Hung {
        test: panic.as_ref().map_or(first, |p| p.name.clone()),
        panic,
    })
}

/// Runs `exercise`'s tests in the scratch tree of `cargo learn check` and waits for them,
/// stopping the tests (not the build) once they have run for `limit`. `variant` picks one
/// variant of a file holding many ([`crate::batch`]).
///
/// # Errors
/// When cargo itself cannot be started.
pub fn run_in_scratch(
    scratch: &crate::scratch::Scratch,
    exercise: &Exercise,
    against: Against,
    limit: Duration,
    variant: Option<usize>,
) -> io::Result<TestRun> {
    let place = Place {
        root: &scratch.root,
        target: Some(&scratch.target),
        variant,
    };
    run_limited(place, exercise, against, limit, Group::Shared, |_| {})
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
    /// When cargo said it started the test binary (`Running tests/…`).
    tests_started: Arc<Mutex<Option<Instant>>>,
}

/// Stops a [`Running`] test run from another thread.
#[derive(Debug, Clone)]
pub struct Stopper {
    child: Arc<Mutex<Child>>,
    group: Group,
}

/// Starts `exercise`'s tests. `on_line` sees each line the tests print on stdout as it comes.
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
    let err = child.stderr.take().expect("command() pipes stderr");
    let stdout = thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            on_line(&line);
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let tests_started = Arc::new(Mutex::new(None));
    let started = Arc::clone(&tests_started);
    let stderr = thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            // The build is over and the test binary starts: the time limit counts from here.
            if line.trim_start().starts_with("Running ") {
                lock(&started).get_or_insert_with(Instant::now);
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    Ok(Running {
        child: Arc::new(Mutex::new(child)),
        group,
        stdout,
        stderr,
        name: exercise.name.clone(),
        tests_started,
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

    /// Waits for cargo to finish (or to be stopped) and reads what it printed. Once the tests
    /// (not the build) have run for `limit`, stops them: cargo and the test binary; the run
    /// then says how long they had ([`TestRun::stopped_after`]).
    ///
    /// # Errors
    /// When waiting for cargo fails.
    pub fn wait_limited(self, limit: Option<Duration>) -> io::Result<TestRun> {
        let mut stopped_after = None;
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
            if let (Some(limit), Some(started)) = (limit, *lock(&self.tests_started))
                && stopped_after.is_none()
                && started.elapsed() >= limit
            {
                stopped_after = Some(started.elapsed());
                self.stopper().stop();
            }
            thread::sleep(Duration::from_millis(20));
        }
        let test_time = lock(&self.tests_started).map(|started| started.elapsed());
        let mut text = self.stdout.join().unwrap_or_default();
        text.push_str(&self.stderr.join().unwrap_or_default());
        let mut run = parse(text);
        run.test_time = test_time;
        run.stopped_after = stopped_after;
        Ok(run)
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
        {
            let target = match self.group {
                // The group id is cargo's pid (`process_group(0)`); `kill -- -PGID` ends it.
                Group::Own => vec![format!("-{}", child.id())],
                // Cargo shares our group (so Ctrl-C reaches it): end what it started by pid,
                // the test binary first, so nothing it started is left running.
                Group::Shared => descendants(child.id()).iter().map(u32::to_string).collect(),
            };
            if !target.is_empty() {
                let _ = Command::new("kill")
                    .args(["-KILL", "--"])
                    .args(&target)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        let _ = child.kill();
    }
}

/// Every process below `pid`, deepest first: from Linux's `/proc/<pid>/task/*/children`, or
/// `pgrep -P` where there is no `/proc`.
#[cfg(unix)]
fn descendants(pid: u32) -> Vec<u32> {
    let children = |pid: u32| -> Vec<u32> {
        let tasks = Path::new("/proc").join(pid.to_string()).join("task");
        let text = match std::fs::read_dir(&tasks) {
            Ok(entries) => entries
                .flatten()
                .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
                .collect::<Vec<_>>()
                .join(" "),
            Err(_) => Command::new("pgrep")
                .args(["-P", &pid.to_string()])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default(),
        };
        text.split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect()
    };
    let mut found = Vec::new();
    for child in children(pid) {
        found.extend(descendants(child));
        found.push(child);
    }
    found
}

/// Locks the child (or the start time); a panic elsewhere cannot leave either in a state we
/// could not read.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
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
        test_time: None,
        stopped_after: None,
        hung: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> Exercise {
        Exercise {
            name: "stack".into(),
            chapter: 1,
            chapter_file: "stack-and-heap.md".into(),
            title: "The call stack".into(),
            test: "stack_and_heap".into(),
            filter: "stack::".into(),
            hint: String::new(),
            source: "src/stack.rs".into(),
        }
    }

    fn args(against: Against) -> Vec<String> {
        command(Path::new("."), &stack(), against)
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn the_test_build_leaves_out_the_console_and_its_binary() {
        // With the default `console` feature on, cargo would build the console binary again
        // for the integration test, and the learner's first feedback would wait for it.
        let exercise = args(Against::Exercise);
        let cargo_args = &exercise[..exercise.iter().position(|a| a == "--").unwrap()];
        assert!(
            cargo_args.contains(&"--no-default-features".into()),
            "{exercise:?}"
        );
        assert!(
            cargo_args
                .windows(2)
                .any(|w| w == ["--features", "learn-stack"]),
            "{exercise:?}"
        );
        assert!(
            cargo_args
                .windows(2)
                .any(|w| w == ["--test", "stack_and_heap"])
        );
        let reference = args(Against::Reference);
        assert!(
            reference.contains(&"--no-default-features".into()),
            "{reference:?}"
        );
        assert!(!reference.contains(&"--features".into()), "{reference:?}");
    }

    #[test]
    fn the_crates_dev_dependency_on_itself_keeps_the_console_off() {
        // It turns `viz-ports` on in test builds. With its default features it would turn the
        // console on as well, in every test build, `--no-default-features` or not: the
        // console binary would be built again for an exercise's tests after all.
        let manifest = include_str!("../../../Cargo.toml");
        let line = manifest
            .lines()
            .find(|l| l.starts_with("eventloop = "))
            .expect("Cargo.toml has a dev-dependency on the crate itself");
        assert!(line.contains("default-features = false"), "{line}");
        assert!(line.contains("\"viz-ports\""), "{line}");
    }
}
