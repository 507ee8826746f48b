//! Puts a [`Report`] into plain words: the one failure to look at, where, and what it says.

use crate::catalog::Exercise;
use crate::console::{Doc, Line, Tone};
use crate::report::{CompileError, FailedTest, Failure, Location, Outcome, Report};
use crate::todos;
use crate::views::numbered;

/// The line shown while the tests run; on an exercise's `first` run, a word on why it takes
/// long (cargo compiles the crate with the exercise's feature), never again after that.
pub fn running(exercise: &Exercise, first: bool) -> Doc {
    let mut doc = Doc::new();
    doc.push(
        Line::new(Tone::Dim, "Running the ")
            .and(Tone::Code, format!("`{}`", exercise.name))
            .and(
                Tone::Dim,
                format!(" tests against {}…", exercise.exercise_file().display()),
            ),
    );
    if first {
        doc.text(
            Tone::Dim,
            "(cargo first compiles the crate with your copy: an exercise's first run takes longer)",
        );
    }
    doc
}

/// What the run means for the learner. `read` returns the text of a file of the repository
/// (`tests/queue.rs`), to quote the lines a failure points at.
pub fn report(exercise: &Exercise, report: &Report, read: &dyn Fn(&str) -> Option<String>) -> Doc {
    let mut doc = Doc::new();
    match &report.outcome {
        Outcome::Solved => {
            doc.text(
                Tone::Good,
                format!("All {} tests pass: exercise solved!", report.total),
            );
        }
        Outcome::DidNotCompile(error) => doc.append(compile_error(exercise, error)),
        Outcome::Failed(test) => {
            doc.text(
                if report.passed == 0 {
                    Tone::Bad
                } else {
                    Tone::Warn
                },
                format!("{} of {} tests pass.", report.passed, report.total),
            );
            doc.blank();
            doc.append(failed_test(exercise, test, read));
            let others: Vec<&str> = report
                .failed
                .iter()
                .filter(|name| **name != test.name)
                .map(String::as_str)
                .collect();
            if !others.is_empty() {
                doc.blank();
                let shown = others.len().min(3);
                let mut also = format!("Also failing: {}", others[..shown].join(", "));
                if others.len() > shown {
                    also.push_str(&format!(" and {} more", others.len() - shown));
                }
                doc.text(Tone::Dim, also + ".");
            }
        }
        Outcome::NoTests => doc.text(
            Tone::Warn,
            format!(
                "No test ran: {} has no test whose name contains `{}`.",
                exercise.test_file().display(),
                exercise.filter
            ),
        ),
        Outcome::Other(lines) => {
            doc.text(
                Tone::Bad,
                "cargo stopped before the tests could run. The end of what it said:",
            );
            doc.blank();
            for line in lines {
                doc.text(Tone::Normal, format!("  {line}"));
            }
            doc.blank();
            doc.push(Line::new(Tone::Normal, "All of it: ").and(
                Tone::Command,
                format!("cargo learn {} --verbose", exercise.name),
            ));
        }
    }
    doc
}

/// The first compiler error, as rustc printed it, and how many follow.
fn compile_error(exercise: &Exercise, error: &CompileError) -> Doc {
    let mut doc = Doc::new();
    doc.text(Tone::Bad, "Your code does not compile yet:");
    doc.blank();
    doc.text(Tone::Heading, error.message.clone());
    if let Some(at) = &error.location {
        doc.text(
            Tone::Dim,
            format!("  --> {}:{}:{}", at.file, at.line, at.column),
        );
    }
    for line in &error.snippet {
        doc.text(Tone::Code, line.clone());
    }
    if error.more > 0 {
        doc.blank();
        let errors = if error.more == 1 { "error" } else { "errors" };
        doc.push(
            Line::new(Tone::Dim, format!("…and {} more {errors} (", error.more))
                .and(
                    Tone::Command,
                    format!("cargo learn {} --verbose", exercise.name),
                )
                .and(Tone::Dim, " shows them all). Fix the first one first."),
        );
    }
    doc
}

/// One failed test: what happened, where, and the lines of code involved.
fn failed_test(
    exercise: &Exercise,
    test: &FailedTest,
    read: &dyn Fn(&str) -> Option<String>,
) -> Doc {
    let mut doc = Doc::new();
    let name = format!("`{}`", test.name);
    let at = test.location.as_ref();
    let place = at.map(|l| format!(" at {l}")).unwrap_or_default();
    match &test.failure {
        Failure::Todo { title } => {
            let title = if title.is_empty() {
                String::new()
            } else {
                format!(": {title}")
            };
            doc.push(Line::new(Tone::Normal, "Test ").and(Tone::Code, name).and(
                Tone::Normal,
                format!(" reached unfinished code{place}{title}."),
            ));
            doc.text(Tone::Normal, "That is your next piece of work:");
            if let Some(at) = at {
                let source = read(&at.file).unwrap_or_default();
                let mut lines = todos::hint_at(&source, at.line);
                lines.extend(todos::excerpt(&source, at.line, 1));
                doc.blank();
                doc.append(numbered(&lines, Tone::Code));
            }
        }
        Failure::Panic { message } => {
            let mut line = Line::new(Tone::Normal, "Test ").and(Tone::Code, name);
            line = if at.is_some_and(|l| l.file.starts_with("exercises/")) {
                line.and(Tone::Normal, format!(" panicked in your code{place}:"))
            } else {
                line.and(Tone::Normal, format!(" failed{place}:"))
            };
            doc.push(line);
            doc.append(quote(at, read, false));
            doc.append(message_lines(message));
            if at.is_some_and(|l| l.file.starts_with("exercises/")) {
                doc.append(the_test(exercise, test, read));
            }
        }
        Failure::DidNotPanic => {
            doc.push(Line::new(Tone::Normal, "Test ").and(Tone::Code, name).and(
                Tone::Normal,
                format!("{place} expects a panic, but your code returned normally:"),
            ));
            doc.append(quote(at, read, true));
        }
        Failure::WrongPanic { expected, message } => {
            doc.push(Line::new(Tone::Normal, "Test ").and(Tone::Code, name).and(
                Tone::Normal,
                format!(" expects a panic saying \"{expected}\", but it panicked{place} with:"),
            ));
            doc.append(message_lines(message));
        }
        Failure::Crashed { why } => doc.push(
            Line::new(Tone::Normal, "Test ")
                .and(Tone::Code, name)
                .and(Tone::Bad, format!(" crashed: {why}")),
        ),
        Failure::TooSlow => doc.push(Line::new(Tone::Normal, "Test ").and(Tone::Code, name).and(
            Tone::Bad,
            " ran for over a minute and was stopped: is there a loop that never ends?",
        )),
        Failure::Hung { seconds, message } => {
            doc.push(Line::new(Tone::Normal, "Test ").and(Tone::Code, name).and(
                Tone::Bad,
                format!(" did not finish within {seconds} s and was stopped."),
            ));
            match message {
                Some(message) => {
                    doc.text(
                        Tone::Normal,
                        format!(
                            "Before it stopped, it failed{place} (and then waited for \
                             something that never came):"
                        ),
                    );
                    doc.append(quote(at, read, false));
                    doc.append(message_lines(message));
                }
                None => doc.text(
                    Tone::Normal,
                    "It never failed: is there a loop that never ends, or a wait for \
                     something your code never does?",
                ),
            }
        }
    }
    doc
}

/// The source lines at `at`: the statement there, or with `before`, the line above as well
/// (a `#[should_panic]` attribute above its `fn`).
fn quote(at: Option<&Location>, read: &dyn Fn(&str) -> Option<String>, before: bool) -> Doc {
    let Some(at) = at else {
        return Doc::new();
    };
    let Some(source) = read(&at.file) else {
        return Doc::new();
    };
    let lines = if before {
        todos::excerpt(&source, at.line.saturating_sub(1).max(1), 2)
    } else {
        todos::statement(&source, at.line)
    };
    let mut doc = Doc::new();
    if !lines.is_empty() {
        doc.blank();
        doc.append(numbered(&lines, Tone::Code));
    }
    doc
}

/// For a panic in the learner's code: which test got there, so they know the scenario.
fn the_test(exercise: &Exercise, test: &FailedTest, read: &dyn Fn(&str) -> Option<String>) -> Doc {
    let mut doc = Doc::new();
    let file = exercise.test_file().display().to_string();
    let short = test.name.rsplit("::").next().unwrap_or(&test.name);
    let Some(source) = read(&file) else {
        return doc;
    };
    let needle = format!("fn {short}(");
    let Some(at) = source.lines().position(|l| l.contains(&needle)) else {
        return doc;
    };
    doc.blank();
    doc.push(
        Line::new(Tone::Normal, "The test that got there starts at ")
            .and(Tone::Code, format!("{file}:{}", at + 1))
            .and(Tone::Normal, ": read it to see what it asked of your code."),
    );
    doc
}

/// A panic message, indented.
fn message_lines(message: &[String]) -> Doc {
    let mut doc = Doc::new();
    doc.blank();
    for line in message {
        doc.text(Tone::Bad, format!("  {line}"));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report;

    fn queue() -> Exercise {
        Exercise {
            name: "queue".into(),
            chapter: 2,
            chapter_file: "task-queue.md".into(),
            title: "The task queue".into(),
            test: "queue".into(),
            filter: String::new(),
            hint: "FIFO.".into(),
            source: String::new(),
        }
    }

    fn sample(name: &str) -> String {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin/learn/testdata");
        std::fs::read_to_string(dir.join(name)).unwrap()
    }

    /// A stand-in repository: line 80 of the exercise is the first todo!(), line 30 of the
    /// tests the first assertion.
    fn read(file: &str) -> Option<String> {
        let mut lines = vec![String::new(); 100];
        match file {
            "exercises/queue.rs" => {
                lines[77] = "        // TODO: add an item at the back.".into();
                lines[78] = "        // The back is where newcomers wait.".into();
                lines[79] = "        todo!(\"add an item at the back\")".into();
            }
            "tests/queue.rs" => {
                lines[24] = "fn a_task_queue_is_first_in_first_out() {".into();
                lines[29] = "    assert_eq!(queue.pop(), Some(1));".into();
            }
            _ => return None,
        }
        Some(lines.join("\n"))
    }

    #[test]
    fn a_todo_is_the_next_piece_of_work() {
        let report = report::parse(&sample("queue_untouched.txt"), "");
        let text = super::report(&queue(), &report, &read).plain();
        assert!(text.starts_with("0 of 10 tests pass.\n"), "{text}");
        assert!(
            text.contains("reached unfinished code at exercises/queue.rs:80: add an item at the back.\nThat is your next piece of work:"),
            "{text}"
        );
        assert!(text.contains("  78 | // TODO: add an item at the back.\n  79 | // The back"));
        assert!(text.contains("  80 | todo!(\"add an item at the back\")"));
        assert!(text.contains("and 6 more."), "{text}");
    }

    #[test]
    fn an_assertion_shows_the_line_and_both_sides() {
        let order = "fn a_task_queue_is_first_in_first_out(";
        let report = report::parse(&sample("queue_assertion.txt"), order);
        let text = super::report(&queue(), &report, &read).plain();
        assert!(text.contains("1 of 10 tests pass."));
        assert!(text.contains(
            "Test `a_task_queue_is_first_in_first_out` failed at tests/queue.rs:30:\n\n  30 | assert_eq!(queue.pop(), Some(1));\n\n  assertion `left == right` failed\n    left: Some(3)\n   right: Some(1)\n"
        ), "{text}");
    }

    #[test]
    fn a_panic_in_the_learners_code_names_the_test_that_got_there() {
        let report = Report {
            outcome: Outcome::Failed(FailedTest {
                name: "queue::a_task_queue_is_first_in_first_out".into(),
                failure: Failure::Panic {
                    message: vec!["attempt to subtract with overflow".into()],
                },
                location: Some(Location {
                    file: "exercises/queue.rs".into(),
                    line: 80,
                    column: 9,
                }),
            }),
            passed: 0,
            total: 10,
            failed: vec!["queue::a_task_queue_is_first_in_first_out".into()],
        };
        let text = super::report(&queue(), &report, &read).plain();
        assert!(
            text.contains("panicked in your code at exercises/queue.rs:80:"),
            "{text}"
        );
        assert!(
            text.contains("The test that got there starts at tests/queue.rs:25"),
            "{text}"
        );
    }

    #[test]
    fn a_compile_error_is_one_error_and_a_count() {
        let report = report::parse(&sample("queue_compile_error.txt"), "");
        let text = super::report(&queue(), &report, &read).plain();
        assert!(
            text.starts_with("Your code does not compile yet:\n\nerror[E0425]"),
            "{text}"
        );
        assert!(text.contains("  --> exercises/queue.rs:74:30"));
        assert!(!text.contains("E0308"));
        assert!(text.contains("…and 1 more error (`cargo learn queue --verbose` shows them all)"));
    }

    #[test]
    fn solved_says_so() {
        let report = report::parse(&sample("queue_solved.txt"), "");
        let text = super::report(&queue(), &report, &read).plain();
        assert_eq!(text, "All 10 tests pass: exercise solved!\n");
    }
}
