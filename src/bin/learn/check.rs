//! `cargo learn check`: the maintainer's proof that the exercises are sound.
//!
//! 1. every exercise file is exactly what `cargo learn generate` makes from `src/` today;
//! 2. every exercise file has a `// TODO` and a `todo!()` for the learner;
//! 3. every `{{#include}}` in the book names a file and anchor that exist;
//! 4. every chapter's tests FAIL against the untouched exercise (a test that passes on
//!    `todo!()` tests nothing) and PASS against the reference.
//!
//! Steps 2 and 4 look at freshly generated copies in a scratch tree ([`Scratch`]), never at
//! the files in `exercises/`: in a learner's tree those hold the learner's solutions.

use std::fs;
use std::io;
use std::path::Path;

use crate::cargo_test::{self, Against};
use crate::catalog::Catalog;
use crate::generate;
use crate::includes;
use crate::scratch::Scratch;

/// Runs every check, printing one line per finding, and returns whether all passed.
pub fn run(root: &Path, catalog: &Catalog) -> io::Result<bool> {
    let mut ok = true;
    let mut fail = |message: String| {
        println!("FAIL  {message}");
        ok = false;
    };

    for exercise in &catalog.exercises {
        let source = fs::read_to_string(root.join(exercise.source()))?;
        match generate::generate(exercise, &source) {
            Err(e) => fail(format!("{}: {e}", exercise.source().display())),
            Ok(expected) => {
                let file = exercise.exercise_file();
                let actual = fs::read_to_string(root.join(&file)).unwrap_or_default();
                if !expected.contains("// TODO") || !expected.contains("todo!(") {
                    fail(format!(
                        "{} would have no `// TODO` / `todo!()`",
                        file.display()
                    ));
                } else if actual != expected {
                    fail(format!(
                        "{} differs from what {} generates (out of date, or a learner's \
                         work): run `cargo learn generate` in a maintainer's tree",
                        file.display(),
                        exercise.source().display()
                    ));
                } else {
                    println!(
                        "ok    {} is in sync with {}",
                        file.display(),
                        exercise.source().display()
                    );
                }
            }
        }
    }

    // Everything below runs against freshly generated copies, whatever `exercises/` holds.
    let scratch = Scratch::create(root, catalog)?;

    // `cargo fmt --check` does not follow `#[cfg_attr(…, path)]`, so check the copies here:
    // a learner who runs rustfmt on an untouched exercise must see no change.
    let files: Vec<_> = catalog
        .exercises
        .iter()
        .map(|e| scratch.exercise_file(e))
        .collect();
    let rustfmt = std::process::Command::new("rustfmt")
        .args(["--edition", "2024", "--check", "--color", "never"])
        .args(&files)
        .output();
    match rustfmt {
        Ok(out) if out.status.success() => {
            println!("ok    the generated exercise files are rustfmt-clean")
        }
        Ok(out) => fail(format!(
            "the generated exercise files are not rustfmt-clean:\n{}",
            tail(&strip_ansi(&String::from_utf8_lossy(&out.stdout)), 30)
        )),
        Err(e) => fail(format!("cannot run rustfmt: {e}")),
    }

    let broken = includes::check_book(root)?;
    for b in &broken {
        fail(format!("{}: {}", b.place, b.problem));
    }
    if broken.is_empty() {
        println!("ok    every {{{{#include}}}} in chapters/ names an existing file and anchor");
    }

    for exercise in &catalog.exercises {
        let untouched = cargo_test::run_in_scratch(&scratch, exercise, Against::Exercise)?;
        if !untouched.compiled {
            fail(format!(
                "`{}`: the untouched exercise does not compile:\n{}",
                exercise.name,
                tail(&untouched.output, 30)
            ));
        } else if untouched.failed == 0 {
            fail(format!(
                "`{}`: all {} tests pass against the untouched exercise: they test nothing",
                exercise.name, untouched.passed
            ));
        } else {
            println!(
                "ok    `{}`: {} of {} tests fail against the untouched exercise",
                exercise.name,
                untouched.failed,
                untouched.failed + untouched.passed
            );
        }
        let reference = cargo_test::run_in_scratch(&scratch, exercise, Against::Reference)?;
        if reference.success() {
            println!(
                "ok    `{}`: all {} tests pass against the reference",
                exercise.name, reference.passed
            );
        } else {
            fail(format!(
                "`{}`: the reference does not pass its own tests ({} passed, {} failed):\n{}",
                exercise.name,
                reference.passed,
                reference.failed,
                tail(&reference.output, 30)
            ));
        }
    }
    Ok(ok)
}

/// Writes every exercise file from `src/`. Returns the files that changed.
pub fn generate_all(root: &Path, catalog: &Catalog) -> io::Result<Vec<String>> {
    let mut changed = Vec::new();
    for exercise in &catalog.exercises {
        let source = fs::read_to_string(root.join(exercise.source()))?;
        let text = generate::generate(exercise, &source).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", exercise.source().display()),
            )
        })?;
        let path = root.join(exercise.exercise_file());
        if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            fs::write(&path, text)?;
            changed.push(exercise.exercise_file().display().to_string());
        }
    }
    Ok(changed)
}

/// `text` without terminal colour codes (`ESC [ … m`), for output that is not a terminal.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip the escape sequence up to and including its final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::strip_ansi;

    #[test]
    fn colour_codes_are_stripped() {
        assert_eq!(
            strip_ansi("\u{1b}[31m-    x\u{1b}[0m\n\u{1b}[1;32m+ y\u{1b}[0m"),
            "-    x\n+ y"
        );
    }
}
