//! The learner's commands, except `watch`: list, next, run, hint, reset.
//!
//! Each returns the process's exit code: 0 when all is well (an exercise run: solved), 1 when
//! not yet (an exercise run: some test fails) or when something went wrong.

use std::fs;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cargo_test::{self, Against, Group, Place};
use crate::catalog::Exercise;
use crate::console::{Console, Doc, Line, Tone, complain};
use crate::course::Course;
use crate::explain;
use crate::progress;
use crate::todos;
use crate::views;
use crate::wrong;

/// The chapter list (`cargo learn`, `cargo learn list`).
pub fn list(course: &Course, console: &Console) -> io::Result<ExitCode> {
    let states = course.states();
    console.print(&views::list(&states, course.next()))?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo learn next`.
pub fn next(course: &Course, console: &Console) -> io::Result<ExitCode> {
    let next = course.next().map(|e| (e, course.state(e)));
    console.print(&views::next_steps(next))?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo learn <exercise>`: runs its tests against the learner's file and explains the
/// first failure.
pub fn run(
    course: &mut Course,
    console: &Console,
    exercise: &Exercise,
    verbose: bool,
) -> io::Result<ExitCode> {
    let file = course.file(exercise);
    if !file.is_file() {
        return missing(exercise);
    }
    let first = course.progress.get(&exercise.name).is_none();
    console.print(&explain::running(exercise, first))?;
    let hash = progress::hash_file(&file);
    // Our process group, so Ctrl-C stops cargo and the tests with us; the time limit stops
    // a test that never ends and shows how it failed before it hung.
    let run = cargo_test::run_limited(
        Place::tree(&course.root),
        exercise,
        Against::Exercise,
        cargo_test::RUN_LIMIT,
        Group::Shared,
        |_| {},
    )?;
    if verbose {
        let mut doc = Doc::new();
        doc.text(Tone::Dim, "cargo test said:");
        for line in run.output.lines() {
            doc.text(Tone::Dim, line);
        }
        doc.text(Tone::Dim, "-".repeat(72));
        console.print(&doc)?;
    }
    let report = course.report(exercise, &run);
    if let Err(e) = course.record(exercise, hash, &report) {
        complain("warning", &e.to_string());
    }
    let root = course.root.clone();
    let read = move |path: &str| fs::read_to_string(root.join(path)).ok();
    let mut doc = Doc::new();
    doc.blank();
    doc.append(explain::report(exercise, &report, &read));
    doc.blank();
    if report.solved() {
        let next = course.next().map(|e| (e, course.state(e)));
        doc.append(views::next_steps(next));
    } else {
        doc.push(stuck(&exercise.name));
    }
    console.print(&doc)?;
    Ok(if report.solved() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The line under a failure: where to get help.
pub fn stuck(name: &str) -> Line {
    Line::new(Tone::Normal, "Stuck? ")
        .and(Tone::Command, format!("cargo learn hint {name}"))
        .and(Tone::Normal, ". Re-run on every save: ")
        .and(Tone::Command, format!("cargo learn watch {name}"))
        .and(Tone::Normal, ".")
}

/// `cargo learn hint [exercise]`: the first call gives a nudge, the next ones the method as
/// well (the level is remembered in the progress file).
pub fn hint(
    course: &mut Course,
    console: &Console,
    exercise: Option<&Exercise>,
) -> io::Result<ExitCode> {
    let Some(exercise) = exercise.cloned().or_else(|| course.next().cloned()) else {
        console.print(&views::next_steps(None))?;
        return Ok(ExitCode::SUCCESS);
    };
    let Ok(text) = fs::read_to_string(course.file(&exercise)) else {
        return missing(&exercise);
    };
    let level = course.deeper_hint(&exercise);
    let regions = course.regions(&exercise);
    let doc = views::hint(
        &exercise,
        &todos::todos(&text),
        views::HintPlace::Command,
        level,
        &regions,
    );
    console.print(&doc)?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo learn reset <exercise>`: writes the untouched exercise file again, asking first
/// when that would overwrite the learner's work.
pub fn reset(
    course: &mut Course,
    console: &Console,
    exercise: &Exercise,
    yes: bool,
) -> io::Result<ExitCode> {
    let pristine = course.pristine(exercise)?;
    let file = course.file(exercise);
    let shown = exercise.exercise_file().display().to_string();
    let mut doc = Doc::new();
    match fs::read_to_string(&file) {
        Ok(current) if current == pristine => {
            doc.text(
                Tone::Normal,
                format!("{shown} is already untouched: nothing to reset."),
            );
        }
        Ok(current) => {
            if !yes && !confirm(&shown)? {
                return Ok(ExitCode::FAILURE);
            }
            let backup = backup(course, exercise, &current);
            write(&file, &pristine, &shown)?;
            doc.text(Tone::Good, format!("{shown} is untouched again."));
            if let Some(backup) = backup {
                doc.text(
                    Tone::Dim,
                    format!("Your previous version is in {}.", backup.display()),
                );
            }
        }
        Err(_) => {
            write(&file, &pristine, &shown)?;
            doc.text(Tone::Good, format!("Wrote a fresh {shown}."));
        }
    }
    course.progress.forget(&exercise.name);
    if let Err(e) = course.progress.save(&course.root) {
        complain("warning", &e.to_string());
    }
    console.print(&doc)?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo learn mistake <exercise> <mistake>` (maintainers): writes the kept wrong solution
/// `exercises/wrong/<exercise>/<mistake>.rs` into the exercise file, keeping a backup of what
/// was there, so that `cargo learn <exercise>` shows what a learner who made that mistake sees.
pub fn mistake(course: &mut Course, exercise: &Exercise, name: &str) -> io::Result<ExitCode> {
    let kept = wrong::load(&course.root, exercise)?;
    let Some(solution) = kept.iter().find(|w| w.name() == name) else {
        let names: Vec<String> = kept.iter().map(|w| w.name()).collect();
        complain(
            "error",
            &format!(
                "no wrong solution `{name}` for `{}`; the kept ones are: {}",
                exercise.name,
                names.join(", ")
            ),
        );
        return Ok(ExitCode::FAILURE);
    };
    let source = fs::read_to_string(course.root.join(exercise.source()))?;
    let text = solution
        .apply(exercise, &source)
        .map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why))?;
    let file = course.file(exercise);
    if let Ok(current) = fs::read_to_string(&file)
        && current != course.pristine(exercise)?
        && let Some(backup) = backup(course, exercise, &current)
    {
        println!("your previous version is in {}", backup.display());
    }
    let shown = exercise.exercise_file().display().to_string();
    write(&file, &text, &shown)?;
    println!(
        "wrote the mistake \"{}\" into {shown}; `cargo learn {}` shows what a learner sees, \
         `cargo learn reset {}` undoes it",
        solution.mistake, exercise.name, exercise.name
    );
    Ok(ExitCode::SUCCESS)
}

/// Asks before overwriting; refuses when nobody can answer.
fn confirm(shown: &str) -> io::Result<bool> {
    if !io::stdin().is_terminal() {
        complain(
            "error",
            &format!(
                "{shown} holds your changes and there is no terminal to ask whether to \
                 overwrite them; pass --yes to overwrite them anyway"
            ),
        );
        return Ok(false);
    }
    print!("Overwrite your work in {shown}? [y/N] ");
    io::stdout().flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    let yes = matches!(answer.trim().to_lowercase().as_str(), "y" | "yes");
    if !yes {
        println!("Left {shown} as it was.");
    }
    Ok(yes)
}

/// Keeps a copy of the learner's work in `.learn-backups/` (git-ignored, and out of `target/`,
/// which `cargo clean` empties), in case the reset was a mistake. Every reset keeps its own
/// numbered copy (`heap.1.rs.bak`, `heap.2.rs.bak`, …): a second reset never overwrites the
/// first one's.
fn backup(course: &Course, exercise: &Exercise, text: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(".learn-backups");
    fs::create_dir_all(course.root.join(&dir)).ok()?;
    let relative = (1..)
        .map(|n| dir.join(backup_name(&exercise.name, n)))
        .find(|p| !course.root.join(p).exists())?;
    fs::write(course.root.join(&relative), text).ok()?;
    Some(relative)
}

/// The file name of the `n`th backup of `exercise`.
fn backup_name(exercise: &str, n: u32) -> String {
    format!("{exercise}.{n}.rs.bak")
}

fn write(file: &std::path::Path, text: &str, shown: &str) -> io::Result<()> {
    fs::write(file, text)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write {shown}: {e}")))
}

/// The exercise file is gone: say how to get it back.
fn missing(exercise: &Exercise) -> io::Result<ExitCode> {
    complain(
        "error",
        &format!(
            "{} is missing; `cargo learn reset {}` writes a fresh copy",
            exercise.exercise_file().display(),
            exercise.name
        ),
    );
    Ok(ExitCode::FAILURE)
}
