//! Turns a reference module of `src/` into the learner's exercise file.
//!
//! In `src/`, the code a chapter asks for sits between markers:
//!
//! ```text
//! // exercise: leave the innermost frame
//! // contract: Returns the innermost frame's name and removes it; `None` on an empty stack.
//! // contract: Example: after push("main"), push("f"): pop() is Some("f"), then Some("main").
//! // nudge: Which end of the Vec holds the innermost frame?
//! // hint: The innermost frame is the last element of self.frames: Vec::pop.
//! ...the reference code...
//! // end exercise
//! ```
//!
//! The exercise file keeps every item and doc comment, replaces each marked region with a
//! `// TODO` carrying the title and the **contract** (what must hold when the function
//! returns, with a small example) and a `todo!()` carrying the title, and drops the book's
//! `ANCHOR` lines. The **nudge** and the **hint** (the method) stay out of the file: `cargo
//! learn hint` shows the nudge first, the method when asked again. A region is always the
//! whole tail of a block (the next line closes it), so `todo!()` type-checks in its place.

use std::fmt;

use crate::catalog::Exercise;

const START: &str = "// exercise:";
const CONTRACT: &str = "// contract:";
const NUDGE: &str = "// nudge:";
const HINT: &str = "// hint:";
const END: &str = "// end exercise";

/// The marker lines that may follow `// exercise:`, in any order.
const MARKERS: [&str; 3] = [CONTRACT, NUDGE, HINT];

/// One marked region of a reference module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// What the learner writes, in a few words.
    pub title: String,
    /// The function the region is the body (tail) of: its name in the source. A wrong
    /// solution (`exercises/wrong/`) names the region it replaces by it, which stays true
    /// when the region's title or place in the file changes.
    pub function: String,
    /// What must hold when the function returns, with a small example: the `// TODO`.
    pub contract: Vec<String>,
    /// The first hint: where to look, not what to write.
    pub nudge: Vec<String>,
    /// The second hint: the method.
    pub method: Vec<String>,
    /// 1-based line numbers of the start and end markers in the reference file.
    pub start_line: usize,
    /// See `start_line`.
    pub end_line: usize,
}

/// A malformed reference module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerError {
    /// 1-based line of the problem.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for MarkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The regions of a reference module, checked for well-formedness.
pub fn regions(source: &str) -> Result<Vec<Region>, MarkerError> {
    let lines: Vec<&str> = source.lines().collect();
    let mut regions = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let number = i + 1;
        if let Some(title) = trimmed.strip_prefix(START) {
            if let Some((start, _)) = open {
                return Err(MarkerError {
                    line: number,
                    message: format!("exercise region inside the region opened on line {start}"),
                });
            }
            let title = title.trim();
            if title.is_empty() || title.contains('"') || title.contains('\\') {
                return Err(MarkerError {
                    line: number,
                    message: "an exercise needs a title without quotes or backslashes".into(),
                });
            }
            open = Some((number, title.to_string()));
        } else if trimmed.starts_with(END) {
            let Some((start_line, title)) = open.take() else {
                return Err(MarkerError {
                    line: number,
                    message: "`// end exercise` without a start".into(),
                });
            };
            let next = lines[i + 1..].iter().find(|l| !l.trim().is_empty());
            if !next.is_some_and(|l| l.trim_start().starts_with('}')) {
                return Err(MarkerError {
                    line: number,
                    message: "an exercise region must end its block (the next line is `}`)".into(),
                });
            }
            let Some(function) = enclosing_function(&lines[..start_line - 1]) else {
                return Err(MarkerError {
                    line: start_line,
                    message: "an exercise region must sit inside a function".into(),
                });
            };
            let mut region = Region {
                title,
                function,
                contract: Vec::new(),
                nudge: Vec::new(),
                method: Vec::new(),
                start_line,
                end_line: number,
            };
            for line in &lines[start_line..number - 1] {
                let Some((marker, text)) = marker(line) else {
                    break;
                };
                let list = match marker {
                    CONTRACT => &mut region.contract,
                    NUDGE => &mut region.nudge,
                    _ => &mut region.method,
                };
                list.push(text.to_string());
            }
            if region.contract.is_empty() {
                return Err(MarkerError {
                    line: start_line,
                    message: "an exercise needs `// contract:` lines: what must hold when the \
                              function returns, with a small example"
                        .into(),
                });
            }
            regions.push(region);
        } else if (trimmed.starts_with("mod ") || trimmed.starts_with("pub mod "))
            && trimmed.ends_with(';')
        {
            return Err(MarkerError {
                line: number,
                message: "a module with an exercise must be a leaf: it cannot declare \
                          child modules (they would be looked up under exercises/)"
                    .into(),
            });
        }
    }
    if let Some((start, _)) = open {
        return Err(MarkerError {
            line: start,
            message: "exercise region is never closed with `// end exercise`".into(),
        });
    }
    Ok(regions)
}

/// The marker and its text, when `line` is one of the [`MARKERS`].
fn marker(line: &str) -> Option<(&'static str, &str)> {
    let trimmed = line.trim_start();
    MARKERS
        .iter()
        .find_map(|m| trimmed.strip_prefix(m).map(|text| (*m, text.trim())))
}

/// The name of the last `fn` declared in `before` (the lines above a region).
fn enclosing_function(before: &[&str]) -> Option<String> {
    before.iter().rev().find_map(|line| {
        let code = line.trim_start();
        if code.starts_with("//") {
            return None;
        }
        let (_, after) = code.split_once("fn ")?;
        let preceded_by_word = code.len() > after.len() + 3
            && code[..code.len() - after.len() - 3]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if preceded_by_word {
            return None;
        }
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    })
}

/// The exercise file for `exercise`, generated from the reference `source`: each region
/// becomes a `// TODO` and a `todo!()`.
pub fn generate(exercise: &Exercise, source: &str) -> Result<String, MarkerError> {
    render(exercise, source, &|_| None)
}

/// The exercise file as a learner who solved it would have it: each region's `todo!()` is
/// replaced by `bodies(region)` when that gives a body (lines without the region's
/// indentation), else by the reference code. `cargo learn check` builds its wrong solutions
/// this way.
pub fn solve(
    exercise: &Exercise,
    source: &str,
    bodies: &dyn Fn(&Region) -> Option<String>,
) -> Result<String, MarkerError> {
    let reference = |region: &Region| {
        let lines: Vec<&str> = source.lines().collect();
        let code = lines[region.start_line..region.end_line - 1]
            .iter()
            .skip_while(|l| marker(l).is_some());
        Some(code.map(|l| format!("{l}\n")).collect::<String>())
    };
    render(exercise, source, &|region: &Region| {
        let body = bodies(region);
        let indented = body.is_some();
        let text = body.or_else(|| reference(region))?;
        Some((text, indented))
    })
}

/// Writes the exercise file; `fill(region)` gives the code that stands in the region's
/// `todo!()` (and whether it still needs the region's indentation), `None` for `todo!()`.
fn render(
    exercise: &Exercise,
    source: &str,
    fill: &dyn Fn(&Region) -> Option<(String, bool)>,
) -> Result<String, MarkerError> {
    let found = regions(source)?;
    if found.is_empty() {
        return Err(MarkerError {
            line: 1,
            message: "no `// exercise:` region: an exercise needs at least one".into(),
        });
    }
    let lines: Vec<&str> = source.lines().collect();
    let header_end = lines
        .iter()
        .position(|l| !l.starts_with("//!"))
        .unwrap_or(lines.len());

    let mut out: Vec<String> = lines[..header_end].iter().map(|l| l.to_string()).collect();
    out.push(String::new());
    out.push(format!(
        "// EXERCISE `{}` (chapter {}): {}.",
        exercise.name, exercise.chapter, exercise.title
    ));
    out.push(
        "// Replace every `todo!()` below with working code; each has a `// TODO` that says what"
            .into(),
    );
    out.push(format!(
        "// it should do. Check your work with `cargo learn {}`.",
        exercise.name
    ));
    out.push(format!(
        "// Generated from {}; `cargo learn reset {}` restores this file.",
        exercise.source().display(),
        exercise.name
    ));
    out.push("#![allow(unused)] // the learner's unfinished code leaves variables unused".into());

    let mut regions = found.iter();
    let mut i = header_end;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.starts_with("// ANCHOR:") || trimmed.starts_with("// ANCHOR_END:") {
            i += 1;
            continue;
        }
        if let Some(title) = trimmed.strip_prefix(START) {
            let indent = &line[..line.len() - trimmed.len()];
            let region = regions.next().expect("regions() found every region");
            while !lines[i].trim_start().starts_with(END) {
                i += 1;
            }
            let title = title.trim();
            out.push(format!("{indent}// TODO: {title}."));
            for line in &region.contract {
                out.push(format!("{indent}// {line}"));
            }
            match fill(region) {
                None => out.push(format!("{indent}todo!(\"{title}\")")),
                Some((code, needs_indent)) => out.extend(code.lines().map(|l| {
                    if needs_indent && !l.trim().is_empty() {
                        format!("{indent}{l}")
                    } else {
                        l.to_string()
                    }
                })),
            }
            i += 1;
            continue;
        }
        out.push(line.to_string());
        i += 1;
    }

    // Dropping anchor lines can leave two blank lines in a row; rustfmt keeps at most one.
    let mut text = String::with_capacity(source.len());
    let mut blank_run = 0;
    for line in out {
        if line.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    const SOURCE: &str = "\
//! Frames.
pub struct S(Vec<u8>);
impl S {
    pub fn pop(&mut self) -> Option<u8> {
        // exercise: leave the innermost frame
        // contract: Returns the innermost frame and removes it; None when empty.
        // contract: Example: [1, 2]: pop() is Some(2).
        // nudge: Which end is innermost?
        // hint: Vec::pop.
        self.0.pop()
        // end exercise
    }
}
";

    fn exercise() -> Exercise {
        let catalog = Catalog::parse(
            "[[exercise]]\nname = \"s\"\nchapter = 1\nchapter_file = \"a.md\"\n\
             title = \"t\"\ntest = \"s\"\nhint = \"h\"\n",
        )
        .unwrap();
        catalog.exercises[0].clone()
    }

    #[test]
    fn the_todo_states_the_contract_and_the_hints_stay_out_of_the_file() {
        let region = &regions(SOURCE).unwrap()[0];
        assert_eq!(region.function, "pop");
        assert_eq!(region.nudge, ["Which end is innermost?"]);
        assert_eq!(region.method, ["Vec::pop."]);
        let file = generate(&exercise(), SOURCE).unwrap();
        assert!(
            file.contains(
                "        // TODO: leave the innermost frame.\n        // Returns the innermost \
                 frame and removes it; None when empty.\n        // Example: [1, 2]: pop() is \
                 Some(2).\n        todo!(\"leave the innermost frame\")\n"
            ),
            "{file}"
        );
        assert!(!file.contains("innermost?"), "the nudge is a hint: {file}");
        assert!(!file.contains("Vec::pop"), "the method is a hint: {file}");
        let solved = solve(&exercise(), SOURCE, &|_| None).unwrap();
        assert!(solved.contains("        self.0.pop()\n    }"), "{solved}");
        assert!(!solved.contains("nudge:"), "{solved}");
    }

    #[test]
    fn a_region_without_a_contract_is_refused() {
        let source = SOURCE.replace("        // contract:", "        // nudge:");
        let error = regions(&source).unwrap_err();
        assert!(error.message.contains("contract"), "{error}");
    }
}
