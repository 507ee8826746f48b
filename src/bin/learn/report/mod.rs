//! Reads `cargo test`'s human output and finds the one thing a learner should look at next.
//!
//! Cargo prints compiler errors on stderr and the test harness prints on stdout:
//!
//! ```text
//! ---- heap::a_stale_key_after_reuse_finds_nothing stdout ----
//!
//! thread 'heap::a_stale_key_after_reuse_finds_nothing' (17594) panicked at src/../exercises/heap.rs:117:9:
//! not yet implemented: store a value, reusing a free slot before growing the vector
//! ```
//!
//! Since Rust 1.73 the panic message sits on the lines after `panicked at <file>:<line>:<col>:`.
//! Tests run in parallel, so the order of those sections changes from run to run; the report
//! picks the failing test that comes first in the test file, which is also the simplest one.

mod harness;
mod rustc;

pub use harness::panics;
use harness::{crash, failed_sections};
use rustc::compile_error;

/// Where something happened in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Relative to the repository root, tidied (`src/../exercises/heap.rs` → `exercises/heap.rs`).
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based.
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The first compiler error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// `error[E0425]: cannot find value `itme` in this scope`.
    pub message: String,
    /// The `-->` line.
    pub location: Option<Location>,
    /// The snippet and notes rustc printed under the message.
    pub snippet: Vec<String>,
    /// How many errors follow this one.
    pub more: usize,
}

/// Why a test failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The test reached a `todo!()`: unfinished work, not a bug.
    Todo {
        /// The `todo!()`'s title.
        title: String,
    },
    /// An `assert!`/`assert_eq!` or any other panic.
    Panic {
        /// The panic message, one entry per line.
        message: Vec<String>,
    },
    /// A `#[should_panic]` test returned normally.
    DidNotPanic,
    /// A `#[should_panic(expected = …)]` test panicked with another message.
    WrongPanic {
        /// What the test expected in the message.
        expected: String,
        /// The panic message.
        message: Vec<String>,
    },
    /// The test process died, for example of a stack overflow.
    Crashed {
        /// What the runtime said.
        why: String,
    },
    /// The test ran for over a minute and was stopped.
    TooSlow,
    /// The time limit stopped the run and this test had not finished.
    Hung {
        /// The limit, in whole seconds.
        seconds: u64,
        /// What it panicked with before it hung, if it did: a panic that unwinds into a
        /// wait for something that never comes (a thread joined while it still waits).
        message: Option<Vec<String>>,
    },
}

/// One failed test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedTest {
    /// The full test path, `heap::a_stale_key_after_reuse_finds_nothing`.
    pub name: String,
    /// What went wrong.
    pub failure: Failure,
    /// Where it went wrong, when cargo said.
    pub location: Option<Location>,
}

/// What one run of an exercise's tests amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every test passed.
    Solved,
    /// The code does not compile.
    DidNotCompile(CompileError),
    /// A test failed: the first one, in test-file order.
    Failed(FailedTest),
    /// It compiled, but no test ran (a catalog `filter` that matches nothing).
    NoTests,
    /// Cargo stopped for some other reason; the last lines of its output.
    Other(Vec<String>),
}

/// A run's outcome and counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// What the learner should look at.
    pub outcome: Outcome,
    /// Tests that passed.
    pub passed: usize,
    /// Tests that ran.
    pub total: usize,
    /// Every failed test, in test-file order.
    pub failed: Vec<String>,
}

impl Report {
    /// True when every test passed.
    pub fn solved(&self) -> bool {
        self.outcome == Outcome::Solved
    }
}

/// Builds the report of a run: from cargo's output, or when the time limit stopped it, from
/// the test that did not finish.
pub fn of_run(run: &crate::cargo_test::TestRun, test_source: &str) -> Report {
    let mut report = parse(&run.output, test_source);
    if let (Some(hung), Some(after)) = (&run.hung, run.stopped_after) {
        let (message, location) = match &hung.panic {
            Some(FailedTest {
                failure: Failure::Panic { message } | Failure::WrongPanic { message, .. },
                location,
                ..
            }) => (Some(message.clone()), location.clone()),
            Some(other) => (None, other.location.clone()),
            None => (None, None),
        };
        if !report.failed.contains(&hung.test) {
            report.failed.insert(0, hung.test.clone());
        }
        report.outcome = Outcome::Failed(FailedTest {
            name: hung.test.clone(),
            failure: Failure::Hung {
                seconds: after.as_secs(),
                message,
            },
            location,
        });
    }
    report
}

/// Builds the report from cargo's output. `test_source` is the text of the test file (to
/// order failures as the file does), empty if unknown.
pub fn parse(output: &str, test_source: &str) -> Report {
    let run = crate::cargo_test::parse(output.to_string());
    let mut sections = failed_sections(output);
    if let Some(crash) = crash(output) {
        sections.push(crash);
    }
    sections.sort_by_key(|t| (position_in_file(test_source, &t.name), t.name.clone()));
    let failed = sections.iter().map(|t| t.name.clone()).collect();
    let (passed, total) = if run.compiled {
        (run.passed, run.passed + run.failed)
    } else {
        partial_counts(output)
    };
    let outcome = if let Some(first) = sections.into_iter().next() {
        Outcome::Failed(first)
    } else if let Some(error) = compile_error(output) {
        Outcome::DidNotCompile(error)
    } else if run.success() {
        Outcome::Solved
    } else if run.compiled && total == 0 {
        Outcome::NoTests
    } else {
        Outcome::Other(tail(output, 15))
    };
    Report {
        outcome,
        passed,
        total,
        failed,
    }
}

/// Counts from the per-test lines, for a run that never printed its summary (it crashed or
/// was stopped): `running 10 tests`, `test name ... ok`.
fn partial_counts(output: &str) -> (usize, usize) {
    let mut passed = 0;
    let mut total = 0;
    for line in output.lines() {
        if let Some(n) = line
            .strip_prefix("running ")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<usize>().ok())
        {
            total += n;
        } else if line.starts_with("test ") && line.ends_with(" ... ok") {
            passed += 1;
        }
    }
    (passed, total)
}

/// Where `path` (`heap::a_stale_key`) is declared in the test file: `mod heap`, then `fn
/// a_stale_key`. Unknown tests sort last.
fn position_in_file(source: &str, path: &str) -> usize {
    let mut from = 0;
    let mut segments = path.split("::").peekable();
    while let Some(segment) = segments.next() {
        let needle = if segments.peek().is_some() {
            format!("mod {segment}")
        } else {
            format!("fn {segment}(")
        };
        match source[from..].find(&needle) {
            Some(at) => from += at + needle.len(),
            None => return usize::MAX,
        }
    }
    from
}

fn tail(text: &str, lines: usize) -> Vec<String> {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::harness::read_section;
    use super::rustc::parse_location;
    use super::*;
    use std::path::Path;

    /// The test functions of tests/queue.rs, in the order they had when the samples were made.
    const QUEUE_TESTS: &str = "
        fn a_task_queue_is_first_in_first_out()
        fn take_all_snapshots_the_queue()
        fn tasks_run_in_the_order_they_were_posted()
        fn tasks_posted_during_a_task_run_after_those_already_queued()
        fn nested_posting_runs_breadth_first()
        fn every_task_runs_in_its_own_frame_on_an_empty_stack()
        fn runaway_recursion_inside_a_task_is_a_stack_overflow_and_the_loop_goes_on()
        fn a_task_that_leaves_a_frame_behind_breaks_run_to_completion()
        fn a_loop_whose_stack_cannot_hold_a_frame_reports_an_error()
        fn run_returns_how_many_tasks_ran_in_that_call()
    ";

    fn sample(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/bin/learn/testdata")
            .join(name);
        std::fs::read_to_string(path).unwrap()
    }

    fn failed(report: &Report) -> &FailedTest {
        match &report.outcome {
            Outcome::Failed(test) => test,
            other => panic!("expected a failed test, got {other:?}"),
        }
    }

    #[test]
    fn an_untouched_exercise_reaches_a_todo() {
        let report = parse(&sample("queue_untouched.txt"), QUEUE_TESTS);
        assert_eq!((report.passed, report.total), (0, 10));
        assert_eq!(report.failed.len(), 10);
        let test = failed(&report);
        // The first test in tests/queue.rs, whatever order the threads finished in.
        assert_eq!(test.name, "a_task_queue_is_first_in_first_out");
        assert_eq!(
            test.failure,
            Failure::Todo {
                title: "add an item at the back".into()
            }
        );
        let at = test.location.as_ref().unwrap();
        assert_eq!(
            (at.file.as_str(), at.line, at.column),
            ("exercises/queue.rs", 80, 9)
        );
    }

    #[test]
    fn tests_in_modules_are_ordered_by_module_then_function() {
        let source = "mod stack { fn a() {} fn b() {} }\nmod heap { fn b() {} fn a() {} }";
        assert!(position_in_file(source, "heap::b") < position_in_file(source, "heap::a"));
        assert!(position_in_file(source, "stack::b") < position_in_file(source, "heap::b"));
        assert_eq!(position_in_file(source, "heap::zzz"), usize::MAX);
        let report = parse(&sample("heap_untouched.txt"), "");
        assert_eq!((report.passed, report.total), (0, 5));
        let test = failed(&report);
        assert!(test.name.starts_with("heap::"));
        assert!(matches!(test.failure, Failure::Todo { .. }));
    }

    #[test]
    fn an_assertion_failure_keeps_left_and_right() {
        let report = parse(&sample("queue_assertion.txt"), QUEUE_TESTS);
        assert_eq!((report.passed, report.total), (1, 10));
        let test = failed(&report);
        assert_eq!(test.name, "a_task_queue_is_first_in_first_out");
        assert_eq!(
            test.failure,
            Failure::Panic {
                message: vec![
                    "assertion `left == right` failed".into(),
                    "  left: Some(3)".into(),
                    " right: Some(1)".into(),
                ]
            }
        );
        assert_eq!(
            test.location.as_ref().unwrap().to_string(),
            "tests/queue.rs:30"
        );
    }

    #[test]
    fn a_should_panic_test_that_returns_is_reported() {
        let output = sample("queue_assertion.txt");
        let sections = failed_sections(&output);
        let test = sections
            .iter()
            .find(|t| t.name == "a_task_that_leaves_a_frame_behind_breaks_run_to_completion")
            .unwrap();
        assert_eq!(test.failure, Failure::DidNotPanic);
        assert_eq!(
            test.location.as_ref().unwrap().to_string(),
            "tests/queue.rs:160"
        );
    }

    #[test]
    fn a_todo_in_a_should_panic_test_is_still_a_todo() {
        let output = sample("queue_partial.txt");
        let report = parse(&output, QUEUE_TESTS);
        assert_eq!((report.passed, report.total), (2, 10));
        let sections = failed_sections(&output);
        let test = sections
            .iter()
            .find(|t| t.name == "a_task_that_leaves_a_frame_behind_breaks_run_to_completion")
            .unwrap();
        assert!(matches!(test.failure, Failure::Todo { .. }));
        assert_eq!(test.location.as_ref().unwrap().line, 215);
    }

    #[test]
    fn the_tests_own_panic_is_shown_not_a_worker_threads() {
        let body = [
            "",
            "thread '<unnamed>' (8) panicked at tests/threadpool.rs:190:17:",
            "the notifier panicked",
            "thread 'pool::t' (7) panicked at tests/threadpool.rs:200:9:",
            "a panic the test caught on purpose",
            "thread 'pool::t' (7) panicked at tests/threadpool.rs:210:9:",
            "each job once, in order",
        ];
        let test = read_section("pool::t", &body);
        assert_eq!(
            test.failure,
            Failure::Panic {
                message: vec!["each job once, in order".into()]
            }
        );
        assert_eq!(test.location.unwrap().line, 210);
    }

    #[test]
    fn a_should_panic_test_with_another_message() {
        let body = [
            "",
            "thread 't' (1) panicked at tests/queue.rs:9:5:",
            "index out of bounds",
            "note: panic did not contain expected string",
            "      panic message: \"index out of bounds\"",
            " expected substring: \"run-to-completion violated\"",
        ];
        let test = read_section("t", &body);
        assert_eq!(
            test.failure,
            Failure::WrongPanic {
                expected: "run-to-completion violated".into(),
                message: vec!["index out of bounds".into()],
            }
        );
    }

    #[test]
    fn a_compile_error_shows_the_first_error_only() {
        let report = parse(&sample("queue_compile_error.txt"), QUEUE_TESTS);
        assert_eq!(report.total, 0);
        let Outcome::DidNotCompile(error) = report.outcome else {
            panic!("expected a compile error");
        };
        assert_eq!(
            error.message,
            "error[E0425]: cannot find value `itme` in this scope"
        );
        assert_eq!(error.location.unwrap().to_string(), "exercises/queue.rs:74");
        assert!(error.snippet.iter().any(|l| l.contains("push_back(itme)")));
        assert!(!error.snippet.iter().any(|l| l.contains("mismatched types")));
        assert_eq!(error.more, 1);
    }

    #[test]
    fn all_tests_passing_is_solved() {
        let report = parse(&sample("queue_solved.txt"), QUEUE_TESTS);
        assert!(report.solved());
        assert_eq!((report.passed, report.total), (10, 10));
        assert!(report.failed.is_empty());
    }

    #[test]
    fn a_stack_overflow_names_the_test() {
        let report = parse(&sample("queue_stack_overflow.txt"), QUEUE_TESTS);
        assert_eq!((report.passed, report.total), (0, 10));
        let test = failed(&report);
        assert_eq!(test.name, "a_task_queue_is_first_in_first_out");
        assert!(matches!(test.failure, Failure::Crashed { .. }));
    }

    #[test]
    fn a_test_stopped_after_a_minute_is_too_slow() {
        let output =
            "running 2 tests\ntest a ... ok\ntest b has been running for over 60 seconds\n";
        let test = failed(&parse(output, "")).clone();
        assert_eq!((test.name.as_str(), test.failure), ("b", Failure::TooSlow));
    }

    #[test]
    fn a_test_stopped_by_the_time_limit_shows_how_it_failed_before_it_hung() {
        // What the stopped run printed: one test finished, the other never did.
        let stopped = "running 2 tests\ntest a ... ok\n";
        // The unfinished test again, alone, with its output as it came.
        let alone = "running 1 test\n\nthread 'pool::b' (77) panicked at tests/threadpool.rs:40:9:\n\
                     assertion `left == right` failed: oldest first\n  left: 2\n right: 1\n\
                     note: run with `RUST_BACKTRACE=1`\n";
        let panics = panics(alone);
        assert_eq!(panics.len(), 1);
        assert_eq!(panics[0].name, "pool::b");
        let mut run = crate::cargo_test::parse(stopped.to_string());
        run.stopped_after = Some(std::time::Duration::from_secs(30));
        run.hung = Some(Box::new(crate::cargo_test::Hung {
            test: "pool::b".into(),
            panic: Some(panics[0].clone()),
        }));
        let report = of_run(&run, "");
        let test = failed(&report);
        assert_eq!(test.name, "pool::b");
        assert_eq!(
            test.failure,
            Failure::Hung {
                seconds: 30,
                message: Some(vec![
                    "assertion `left == right` failed: oldest first".into(),
                    "  left: 2".into(),
                    " right: 1".into(),
                ]),
            }
        );
        assert_eq!(
            test.location.as_ref().unwrap().to_string(),
            "tests/threadpool.rs:40"
        );
        // Without a panic, the report still names the test that never finished.
        run.hung = Some(Box::new(crate::cargo_test::Hung {
            test: "pool::b".into(),
            panic: None,
        }));
        let report = of_run(&run, "");
        assert_eq!(
            failed(&report).failure,
            Failure::Hung {
                seconds: 30,
                message: None
            }
        );
    }

    #[test]
    fn anything_else_shows_the_end_of_cargos_output() {
        let report = parse("error: no such command: `tset`\n", "");
        assert_eq!(
            report.outcome,
            Outcome::Other(vec!["error: no such command: `tset`".into()])
        );
    }

    #[test]
    fn locations_are_tidied() {
        let at = parse_location("src/../exercises/heap.rs:117:9").unwrap();
        assert_eq!(
            (at.file.as_str(), at.line, at.column),
            ("exercises/heap.rs", 117, 9)
        );
        let at = parse_location("tests/queue.rs:160:4").unwrap();
        assert_eq!(at.to_string(), "tests/queue.rs:160");
        assert_eq!(parse_location("nowhere"), None);
    }
}
