//! `cargo learn check`: the maintainer's proof that the exercises are sound.
//!
//! 1. every exercise file is exactly what `cargo learn generate` makes from `src/` today;
//! 2. every exercise file has a `// TODO` and a `todo!()` for the learner;
//! 3. every `{{#include}}` in the book names a file and anchor that exist;
//! 4. every chapter's tests FAIL against the untouched exercise (a test that passes on
//!    `todo!()` tests nothing) and PASS against the reference.

use std::fs;
use std::io;
use std::path::Path;

use crate::cargo_test::{self, Against};
use crate::catalog::Catalog;
use crate::generate;
use crate::includes;

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
                if actual != expected {
                    fail(format!(
                        "{} is out of date with {}: run `cargo learn generate`",
                        file.display(),
                        exercise.source().display()
                    ));
                } else if !actual.contains("// TODO") || !actual.contains("todo!(") {
                    fail(format!("{} has no `// TODO` / `todo!()`", file.display()));
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

    // `cargo fmt --check` does not follow `#[cfg_attr(…, path)]`, so check the copies here:
    // a learner who runs rustfmt on an untouched exercise must see no change.
    let files: Vec<_> = catalog
        .exercises
        .iter()
        .map(|e| root.join(e.exercise_file()))
        .collect();
    let rustfmt = std::process::Command::new("rustfmt")
        .args(["--edition", "2024", "--check"])
        .args(&files)
        .output();
    match rustfmt {
        Ok(out) if out.status.success() => println!("ok    the exercise files are rustfmt-clean"),
        Ok(out) => fail(format!(
            "the exercise files are not rustfmt-clean:\n{}",
            tail(&String::from_utf8_lossy(&out.stdout), 30)
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
        let untouched = cargo_test::run(root, exercise, Against::Exercise)?;
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
        let reference = cargo_test::run(root, exercise, Against::Reference)?;
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

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
