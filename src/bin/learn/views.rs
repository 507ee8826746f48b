//! What the console says about the course: the chapter list, what to do next, hints, help.
//! Each function builds a [`Doc`] and prints nothing.

use crate::catalog::Exercise;
use crate::console::{Doc, Line, Tone};
use crate::generate::Region;
use crate::progress::{MAX_HINT_LEVEL, PROGRESS_PATH, State};
use crate::todos::{Numbered, Todo};

/// The chapter list with each exercise's state, then what to do next.
pub fn list(states: &[(&Exercise, State)], next: Option<&Exercise>) -> Doc {
    let mut doc = Doc::new();
    doc.text(Tone::Heading, "Build Your Own Event Loop: the exercises");
    doc.blank();
    let width = states
        .iter()
        .map(|(e, _)| e.name.len())
        .max()
        .unwrap_or(0)
        .max("exercise".len());
    doc.text(
        Tone::Dim,
        format!("  chapter  {:<width$}  {:<11}  title", "exercise", "state"),
    );
    for (exercise, state) in states {
        let marker = if Some(exercise.name.as_str()) == next.map(|n| n.name.as_str()) {
            "> "
        } else {
            "  "
        };
        doc.push(
            Line::new(Tone::Warn, marker)
                .and(Tone::Normal, format!("{:>7}  ", exercise.chapter))
                .and(Tone::Code, format!("{:<width$}  ", exercise.name))
                .and(state_tone(*state), format!("{:<11}", state.label()))
                .and(Tone::Normal, format!("  {}", exercise.title)),
        );
    }
    doc.blank();
    let solved = states.iter().filter(|(_, s)| *s == State::Solved).count();
    doc.push(
        bar(solved, states.len())
            .and(
                Tone::Normal,
                format!(" {solved} of {} solved ", states.len()),
            )
            .and(Tone::Dim, format!("(progress is kept in {PROGRESS_PATH})")),
    );
    doc.blank();
    let state = next.and_then(|n| states.iter().find(|(e, _)| e.name == n.name));
    doc.append(next_steps(state.map(|(e, s)| (*e, *s))));
    doc.blank();
    doc.push(Line::new(Tone::Dim, "All commands: ").and(Tone::Command, "cargo learn help"));
    doc
}

/// What to do next, and how to set up the editor for it.
pub fn next_steps(next: Option<(&Exercise, State)>) -> Doc {
    let mut doc = Doc::new();
    let Some((exercise, state)) = next else {
        doc.text(
            Tone::Good,
            "Every exercise is solved. Well done: the loop is yours.",
        );
        doc.text(
            Tone::Normal,
            "Run one again any time with `cargo learn <exercise>`.",
        );
        return doc;
    };
    let name = &exercise.name;
    let file = exercise.exercise_file().display().to_string();
    let what: Vec<String> = match state {
        State::NotStarted => vec![
            format!(
                "read chapter {} (chapters/{}), then open",
                exercise.chapter, exercise.chapter_file
            ),
            format!("{file} and replace each todo!() with your code."),
        ],
        State::Missing => vec![format!(
            "{file} is missing: `cargo learn reset {name}` restores it."
        )],
        State::Changed => vec![format!(
            "{file} changed since its tests last ran: run them."
        )],
        State::Failing | State::Solved => {
            vec![format!("keep going in {file}: some tests still fail.")]
        }
    };
    let indent = "      ";
    doc.push(
        Line::new(Tone::Heading, "Next: ")
            .and(Tone::Command, format!("cargo learn {name}"))
            .and(Tone::Normal, format!(" — {}", what[0])),
    );
    for more in &what[1..] {
        doc.text(Tone::Normal, format!("{indent}{more}"));
    }
    doc.push(
        Line::new(
            Tone::Normal,
            format!("{indent}Re-run the tests on every save: "),
        )
        .and(Tone::Command, format!("cargo learn watch {name}"))
        .and(Tone::Normal, ". Stuck? ")
        .and(Tone::Command, format!("cargo learn hint {name}"))
        .and(Tone::Normal, "."),
    );
    if state == State::NotStarted {
        // Once per exercise, before the learner starts on it, not after every run.
        doc.blank();
        doc.append(editor_tip(exercise));
    }
    doc
}

/// How to make rust-analyzer see the exercise file.
pub fn editor_tip(exercise: &Exercise) -> Doc {
    let mut doc = Doc::new();
    doc.text(
        Tone::Dim,
        format!(
            "Editor setup: rust-analyzer sees {} only while the `{}` feature is on.",
            exercise.exercise_file().display(),
            exercise.feature()
        ),
    );
    doc.push(
        Line::new(Tone::Dim, "In VS Code, put in .vscode/settings.json: ").and(
            Tone::Code,
            format!(
                "\"rust-analyzer.cargo.features\": [\"{}\"]",
                exercise.feature()
            ),
        ),
    );
    doc
}

/// Where the learner asks for hints: the words for "ask again".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintPlace {
    /// `cargo learn hint`: everything, each `// TODO` with its contract.
    Command,
    /// Watch mode, where the screen is small: one line per `// TODO`.
    Watch,
}

/// The hints at `level` (1: the catalog's nudge and each region's; 2: each region's method
/// as well) and every `// TODO` left in the learner's file. `regions` are the reference's
/// marked regions, with their nudges and methods; the hints shown are those of the `todo!()`s
/// still in the file (all of them once none is left).
pub fn hint(
    exercise: &Exercise,
    todos: &[Todo],
    place: HintPlace,
    level: u8,
    regions: &[Region],
) -> Doc {
    let compact = place == HintPlace::Watch;
    let mut doc = Doc::new();
    doc.text(
        Tone::Heading,
        format!(
            "Hint {level} of {MAX_HINT_LEVEL} for `{}` (chapter {}: {})",
            exercise.name, exercise.chapter, exercise.title
        ),
    );
    doc.blank();
    for line in exercise.hint.lines() {
        doc.text(Tone::Normal, format!("  {line}"));
    }
    let open: Vec<&Region> = regions
        .iter()
        .filter(|r| {
            todos
                .iter()
                .any(|t| t.code.contains(&format!("todo!(\"{}\")", r.title)))
        })
        .collect();
    let shown: Vec<&Region> = if open.is_empty() {
        regions.iter().collect()
    } else {
        open
    };
    for region in shown {
        doc.blank();
        doc.text(Tone::Heading, format!("  {}:", region.title));
        for line in &region.nudge {
            doc.text(Tone::Normal, format!("    {line}"));
        }
        if level >= MAX_HINT_LEVEL && !region.method.is_empty() {
            doc.text(Tone::Dim, "    How:");
            for line in &region.method {
                doc.text(Tone::Normal, format!("    {line}"));
            }
        }
    }
    if level < MAX_HINT_LEVEL {
        doc.blank();
        doc.push(match place {
            HintPlace::Command => Line::new(Tone::Dim, "Still stuck? ")
                .and(Tone::Command, format!("cargo learn hint {}", exercise.name))
                .and(Tone::Dim, " again shows the method."),
            HintPlace::Watch => Line::new(Tone::Dim, "Still stuck? Press ")
                .and(Tone::Command, "h")
                .and(Tone::Dim, " again for the method."),
        });
    }
    doc.blank();
    let file = exercise.exercise_file().display().to_string();
    if todos.is_empty() {
        doc.text(
            Tone::Normal,
            format!(
                "No todo!() is left in {file}. If tests still fail, `cargo learn {}` shows the first one.",
                exercise.name
            ),
        );
        return doc;
    }
    doc.text(Tone::Heading, format!("Still to do in {file}:"));
    if compact {
        for todo in todos {
            let what = todo
                .comment
                .first()
                .map(|c| c.text.trim().trim_start_matches("// TODO:").trim())
                .unwrap_or("todo!()");
            doc.push(
                Line::new(Tone::Dim, format!("  line {:<4} ", todo.line)).and(Tone::Normal, what),
            );
        }
        return doc;
    }
    for todo in todos {
        doc.blank();
        let mut lines = todo.comment.clone();
        lines.push(Numbered {
            number: todo.line,
            text: todo.code.clone(),
        });
        doc.append(numbered(&lines, Tone::Code));
    }
    doc
}

/// Source lines with their numbers, `  142 | code`, dedented together.
pub fn numbered(lines: &[Numbered], tone: Tone) -> Doc {
    let indent = lines
        .iter()
        .filter(|l| !l.text.trim().is_empty())
        .map(|l| l.text.len() - l.text.trim_start().len())
        .min()
        .unwrap_or(0);
    let width = lines
        .iter()
        .map(|l| l.number.to_string().len())
        .max()
        .unwrap_or(1);
    let mut doc = Doc::new();
    for l in lines {
        let text = l.text.get(indent..).unwrap_or(l.text.trim_start());
        doc.push(Line::new(Tone::Dim, format!("  {:>width$} | ", l.number)).and(tone, text));
    }
    doc
}

/// The colour of a state.
pub fn state_tone(state: State) -> Tone {
    match state {
        State::Solved => Tone::Good,
        State::Failing | State::Missing => Tone::Bad,
        State::Changed => Tone::Warn,
        State::NotStarted => Tone::Dim,
    }
}

/// `[###-------]`: solved out of all.
fn bar(done: usize, all: usize) -> Line {
    const WIDTH: usize = 20;
    let filled = (done * WIDTH).checked_div(all).unwrap_or(0).min(WIDTH);
    Line::new(Tone::Normal, "[")
        .and(Tone::Good, "#".repeat(filled))
        .and(Tone::Dim, "-".repeat(WIDTH - filled))
        .and(Tone::Normal, "]")
}

/// `cargo learn help`.
pub fn help(names: &[&str]) -> Doc {
    let mut doc = Doc::new();
    doc.text(
        Tone::Heading,
        "cargo learn: the exercises of Build Your Own Event Loop",
    );
    doc.blank();
    doc.text(
        Tone::Normal,
        "Usage: cargo learn [command] [exercise] [options]",
    );
    doc.blank();
    for (command, what) in [
        (
            "(nothing) | list",
            "the exercises, where you stand, what to do next",
        ),
        (
            "<exercise>",
            "run that exercise's tests and explain the first failure",
        ),
        (
            "watch [exercise]",
            "re-run on every save; keys: h hint, n next, r rerun, q quit",
        ),
        (
            "hint [exercise]",
            "the hint, and the TODOs left in the exercise file",
        ),
        ("next", "which exercise is next and how to start it"),
        (
            "viz <puzzle>",
            "trace a puzzle (or an example, or a trace file) and replay it step by step; \
             --json prints the trace as JSON lines (a binary .trace converted)",
        ),
        (
            "reset <exercise>",
            "restore the untouched exercise file (asks first)",
        ),
        ("help", "this text"),
    ] {
        doc.push(
            Line::new(Tone::Code, format!("  {command:<18}"))
                .and(Tone::Normal, format!("  {what}")),
        );
    }
    doc.blank();
    doc.text(Tone::Normal, "Options:");
    doc.text(Tone::Normal, "  --verbose   also print cargo's own output");
    doc.text(Tone::Normal, "  --yes       `reset` without asking");
    doc.blank();
    if !names.is_empty() {
        doc.text(
            Tone::Normal,
            format!("Exercises, in book order: {}", names.join(", ")),
        );
    }
    doc.text(
        Tone::Normal,
        "Without an exercise, `watch` and `hint` take the next unsolved one.",
    );
    doc.blank();
    doc.text(
        Tone::Dim,
        "For maintainers: `cargo learn generate` rewrites exercises/ from src/; \
         `cargo learn check [exercise]` proves them sound, wrong solutions included; \
         `cargo learn mistake <exercise> <mistake>` writes a kept wrong solution into the \
         exercise file; `cargo learn mutants [exercise]` measures how many mutants of the \
         regions the tests catch (slow).",
    );
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(name: &str) -> Exercise {
        Exercise {
            name: name.into(),
            chapter: 1,
            chapter_file: "stack-and-heap.md".into(),
            title: format!("The {name}"),
            test: "stack_and_heap".into(),
            filter: String::new(),
            hint: "Look closely.".into(),
            source: String::new(),
        }
    }

    #[test]
    fn the_list_shows_states_and_the_next_step() {
        let (stack, heap) = (exercise("stack"), exercise("heap"));
        let states = [(&stack, State::Solved), (&heap, State::NotStarted)];
        let text = list(&states, Some(&heap)).plain();
        assert!(text.contains("stack     solved"), "{text}");
        assert!(
            text.contains("> ") && text.contains("heap      not started"),
            "{text}"
        );
        assert!(text.contains("1 of 2 solved"), "{text}");
        assert!(
            text.contains("Next: `cargo learn heap` — read chapter 1"),
            "{text}"
        );
        assert!(text.contains("\"rust-analyzer.cargo.features\": [\"learn-heap\"]"));
    }

    #[test]
    fn the_editor_setup_and_the_compile_note_are_shown_once() {
        let heap = exercise("heap");
        let before = next_steps(Some((&heap, State::NotStarted))).plain();
        assert!(before.contains("Editor setup"), "{before}");
        for later in [State::Failing, State::Changed] {
            let text = next_steps(Some((&heap, later))).plain();
            assert!(!text.contains("Editor setup"), "again after a run: {text}");
        }
        let first = crate::explain::running(&heap, true).plain();
        assert!(first.contains("first run"), "{first}");
        let again = crate::explain::running(&heap, false).plain();
        assert!(!again.contains("first run"), "{again}");
    }

    #[test]
    fn when_all_is_solved_the_list_says_so() {
        let stack = exercise("stack");
        let text = list(&[(&stack, State::Solved)], None).plain();
        assert!(text.contains("[####################] 1 of 1 solved"));
        assert!(text.contains("Every exercise is solved"));
    }

    #[test]
    fn numbered_lines_are_dedented_together() {
        let lines = [
            Numbered {
                number: 9,
                text: "        // TODO: x.".into(),
            },
            Numbered {
                number: 10,
                text: "        todo!(\"x\")".into(),
            },
        ];
        assert_eq!(
            numbered(&lines, Tone::Code).plain(),
            "   9 | // TODO: x.\n  10 | todo!(\"x\")\n"
        );
    }
}
