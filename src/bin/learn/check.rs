//! `cargo learn check`: the maintainer's proof that the exercises are sound.
//!
//! 1. every exercise file is exactly what `cargo learn generate` makes from `src/` today;
//! 2. every exercise file has a `// TODO` and a `todo!()` for the learner;
//! 3. every `{{#include}}` in the book names a file and anchor that exist;
//! 4. every chapter's tests FAIL against the untouched exercise (a test that passes on
//!    `todo!()` tests nothing) and PASS against the reference;
//! 5. every kept wrong solution (`exercises/wrong/<exercise>/`, see [`crate::wrong`]) FAILS:
//!    it compiles, a test catches it with a message of its own (not a time limit), and
//!    within [`LIMIT`] of the tests starting. An exercise's wrong solutions are built
//!    together, in one file ([`crate::batch`]), and tested one by one.
//!
//! Steps 2 and 4 look at freshly generated copies in a scratch tree ([`Scratch`]), never at
//! the files in `exercises/`: in a learner's tree those hold the learner's solutions.

use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::batch;
use crate::cargo_test::{self, Against, TestRun};
use crate::catalog::{Catalog, Exercise};
use crate::generate;
use crate::includes;
use crate::report::{self, Failure, Outcome};
use crate::scratch::Scratch;
use crate::wrong::{self, WrongSolution};

/// How long an exercise's tests may run (after the build) before the check stops them and
/// calls the code under test hung.
pub const LIMIT: Duration = Duration::from_secs(60);

/// What `cargo learn check` looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Only this exercise's tests and wrong solutions (the sync checks always cover all).
    pub exercise: Option<String>,
}

/// Runs every check, printing one line per finding, and returns whether all passed.
pub fn run(root: &Path, catalog: &Catalog, scope: &Scope) -> io::Result<bool> {
    let started = Instant::now();
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

    let chosen = catalog
        .exercises
        .iter()
        .filter(|e| scope.exercise.as_ref().is_none_or(|name| *name == e.name));
    for exercise in chosen {
        let untouched =
            cargo_test::run_in_scratch(&scratch, exercise, Against::Exercise, LIMIT, None)?;
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
        let reference =
            cargo_test::run_in_scratch(&scratch, exercise, Against::Reference, LIMIT, None)?;
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
        let source = fs::read_to_string(root.join(exercise.source()))?;
        let kept = wrong::load(root, exercise)?;
        if kept.len() < MIN_WRONG {
            fail(format!(
                "`{}`: {} wrong solutions in {}; keep at least {MIN_WRONG}",
                exercise.name,
                kept.len(),
                wrong::folder(exercise).display()
            ));
        }
        let mut applied = Vec::new();
        for solution in &kept {
            match solution.apply(exercise, &source) {
                Ok(_) => applied.push(solution),
                Err(why) => fail(format!(
                    "`{}` wrong/{}: {why}",
                    exercise.name,
                    solution.name()
                )),
            }
        }
        let runs = run_variants(&scratch, exercise, &source, &applied)?;
        for (solution, run) in applied.into_iter().zip(runs) {
            let verdict = match run {
                Some(run) => judge_wrong(
                    &format!("`{}` wrong/{}", exercise.name, solution.name()),
                    solution,
                    &run,
                    &scratch.test_source(exercise),
                ),
                // It broke the build of them all: alone, for its own compiler error.
                None => check_wrong(&scratch, exercise, &source, solution)?,
            };
            match verdict {
                Ok(line) => println!("ok    {line}"),
                Err(line) => fail(line),
            }
        }
        // Leave the untouched copy for the next exercise's runs.
        let pristine = generate::generate(exercise, &source).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", exercise.name),
            )
        })?;
        scratch.write_exercise(exercise, &pristine)?;
    }
    println!(
        "      (the check took {:.0} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(ok)
}

/// What became of one mutant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// A test failed.
    Caught,
    /// The tests ran past the time limit: counted as caught (the learner's run would stop and
    /// say so), but listed.
    Timeout,
    /// Every test passed.
    Missed,
    /// It does not compile: no learner could hand it in.
    Unviable,
}

/// `cargo learn mutants [exercise]` (maintainers): builds and tests every mutant of the
/// exercise regions (see [`crate::mutants`]) and prints, per exercise, the share the tests
/// catch. Returns false when a missed mutant is not listed as equivalent.
pub fn mutants(root: &Path, catalog: &Catalog, scope: &Scope) -> io::Result<bool> {
    let started = Instant::now();
    let scratch = Scratch::create(root, catalog)?;
    let mut all_explained = true;
    let mut table = Vec::new();
    let chosen = catalog
        .exercises
        .iter()
        .filter(|e| scope.exercise.as_ref().is_none_or(|name| *name == e.name));
    for exercise in chosen {
        let source = fs::read_to_string(root.join(exercise.source()))?;
        let found = crate::mutants::mutants(&source)
            .map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why))?;
        let equivalent = crate::mutants::equivalents(root, exercise)?;
        let (mut caught, mut timeouts, mut missed, mut unviable, mut listed) = (0, 0, 0, 0, 0);
        let as_wrong: Vec<WrongSolution> = found
            .iter()
            .map(|m| m.as_wrong_solution(exercise))
            .collect();
        let runs = run_variants(
            &scratch,
            exercise,
            &source,
            &as_wrong.iter().collect::<Vec<_>>(),
        )?;
        for (mutant, run) in found.iter().zip(runs) {
            let id = mutant.id();
            let report = run.map(|run| report::of_run(&run, &scratch.test_source(exercise)));
            let verdict = match report.as_ref().map(|r| &r.outcome) {
                None | Some(Outcome::DidNotCompile(_)) => Verdict::Unviable,
                Some(Outcome::Solved) => Verdict::Missed,
                Some(Outcome::Failed(test)) if matches!(test.failure, Failure::Hung { .. }) => {
                    Verdict::Timeout
                }
                Some(_) => Verdict::Caught,
            };
            let reason = equivalent.iter().find(|(e, _)| *e == id).map(|(_, r)| r);
            match (verdict, reason) {
                (Verdict::Caught, _) => caught += 1,
                (Verdict::Timeout, _) => {
                    timeouts += 1;
                    println!(
                        "time  `{}` {id}: the tests ran past the limit",
                        exercise.name
                    );
                }
                (Verdict::Unviable, _) => unviable += 1,
                (Verdict::Missed, Some(reason)) => {
                    listed += 1;
                    println!("equiv `{}` {id}: {reason}", exercise.name);
                }
                (Verdict::Missed, None) => {
                    missed += 1;
                    all_explained = false;
                    println!("MISSED `{}` {id}: every test passes", exercise.name);
                }
            }
        }
        let viable = caught + timeouts + missed + listed;
        let judged = viable - listed;
        let share = if judged == 0 {
            100.0
        } else {
            100.0 * (caught + timeouts) as f64 / judged as f64
        };
        println!(
            "      `{}`: {} mutants, {unviable} do not compile; of the {viable} others {} caught ({timeouts} by the time limit), {listed} equivalent, {missed} missed: {share:.0}%",
            exercise.name,
            found.len(),
            caught + timeouts,
        );
        table.push((
            exercise.name.clone(),
            viable,
            caught + timeouts,
            listed,
            missed,
            share,
        ));
        let pristine = generate::generate(exercise, &source).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", exercise.name),
            )
        })?;
        scratch.write_exercise(exercise, &pristine)?;
    }
    println!();
    println!("| exercise | mutants (viable) | caught | equivalent | missed | caught of the rest |");
    println!("|---|---|---|---|---|---|");
    for (name, viable, caught, listed, missed, share) in table {
        println!("| `{name}` | {viable} | {caught} | {listed} | {missed} | {share:.0}% |");
    }
    println!(
        "\n(the mutation run took {:.0} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(all_explained)
}

/// Runs `exercise`'s tests against each of `variants`, built together ([`crate::batch`]):
/// one build for all, then a test run each. `None` for a variant that does not compile (its
/// code broke the combined build). When the compiler's errors cannot be pinned on variants,
/// each remaining one is built and run alone.
///
/// # Errors
/// When a file cannot be written or cargo cannot be started.
fn run_variants(
    scratch: &Scratch,
    exercise: &Exercise,
    source: &str,
    variants: &[&WrongSolution],
) -> io::Result<Vec<Option<TestRun>>> {
    let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidData, why);
    let file = exercise
        .exercise_file()
        .to_string_lossy()
        .replace('\\', "/");
    let mut runs: Vec<Option<TestRun>> = vec![None; variants.len()];
    let mut pending: Vec<usize> = (0..variants.len()).collect();
    while let Some(&first) = pending.first() {
        let chosen: Vec<(usize, &WrongSolution)> =
            pending.iter().map(|&i| (i, variants[i])).collect();
        let text = batch::combined(exercise, source, &chosen).map_err(invalid)?;
        scratch.write_exercise(exercise, &text)?;
        let run =
            cargo_test::run_in_scratch(scratch, exercise, Against::Exercise, LIMIT, Some(first))?;
        if run.compiled {
            runs[first] = Some(run);
            for &i in &pending[1..] {
                let run = cargo_test::run_in_scratch(
                    scratch,
                    exercise,
                    Against::Exercise,
                    LIMIT,
                    Some(i),
                )?;
                runs[i] = Some(run);
            }
            return Ok(runs);
        }
        match batch::blamed(&text, &file, &run.output) {
            Some(broken) => pending.retain(|i| !broken.contains(i)),
            None => {
                println!(
                    "note  `{}`: the combined build fails outside every variant; building \
                     each of {} alone:\n{}",
                    exercise.name,
                    pending.len(),
                    tail(&run.output, 10)
                );
                break;
            }
        }
    }
    for &i in &pending {
        let text = variants[i].apply(exercise, source).map_err(invalid)?;
        scratch.write_exercise(exercise, &text)?;
        let run = cargo_test::run_in_scratch(scratch, exercise, Against::Exercise, LIMIT, None)?;
        runs[i] = run.compiled.then_some(run);
    }
    Ok(runs)
}

/// The fewest wrong solutions an exercise keeps.
const MIN_WRONG: usize = 5;

/// Runs `exercise`'s tests against one wrong solution in the scratch tree: `Ok` with the line
/// saying which test caught it, `Err` with what is wrong with the tests (or the file).
fn check_wrong(
    scratch: &Scratch,
    exercise: &Exercise,
    source: &str,
    solution: &WrongSolution,
) -> io::Result<Result<String, String>> {
    let label = format!("`{}` wrong/{}", exercise.name, solution.name());
    let text = match solution.apply(exercise, source) {
        Ok(text) => text,
        Err(why) => return Ok(Err(format!("{label}: {why}"))),
    };
    scratch.write_exercise(exercise, &text)?;
    let run = cargo_test::run_in_scratch(scratch, exercise, Against::Exercise, LIMIT, None)?;
    Ok(judge_wrong(
        &label,
        solution,
        &run,
        &scratch.test_source(exercise),
    ))
}

/// What a finished run of a wrong solution's tests proves.
fn judge_wrong(
    label: &str,
    solution: &WrongSolution,
    run: &TestRun,
    test_source: &str,
) -> Result<String, String> {
    let seconds = run.test_time.unwrap_or_default().as_secs_f64();
    let mistake = &solution.mistake;
    let report = report::of_run(run, test_source);
    let caught = match &report.outcome {
        Outcome::Solved => {
            return Err(format!(
                "{label} ({mistake}): all {} tests PASS: nothing catches this mistake",
                report.total
            ));
        }
        Outcome::DidNotCompile(error) => {
            return Err(format!(
                "{label}: does not compile (a kept wrong solution must): {}",
                error.message
            ));
        }
        Outcome::NoTests | Outcome::Other(_) => {
            return Err(format!(
                "{label}: cargo stopped without a verdict:\n{}",
                tail(&run.output, 15)
            ));
        }
        Outcome::Failed(test) => test,
    };
    let message = match &caught.failure {
        Failure::Todo { title } => {
            return Err(format!(
                "{label}: reached the `todo!()` \"{title}\": the file leaves a region unsolved"
            ));
        }
        Failure::Hung { seconds, message } => {
            let before = match message {
                Some(message) => format!("; before it hung it failed: {}", first_line(message)),
                None => String::new(),
            };
            return Err(format!(
                "{label} ({mistake}): {} HUNG: stopped after {seconds} s with no verdict{before} \
                 (a test that waits needs a bound, and must release what it holds when it \
                 panics)",
                caught.name
            ));
        }
        Failure::TooSlow => {
            return Err(format!(
                "{label} ({mistake}): {} ran for over a minute: caught by a time limit, not \
                 by a test",
                caught.name
            ));
        }
        Failure::Panic { message } | Failure::WrongPanic { message, .. } => first_line(message),
        Failure::DidNotPanic => "it did not panic as the test expected".to_string(),
        Failure::Crashed { why } => format!("the test binary crashed: {why}"),
    };
    if let Some(missing) = solution
        .expect
        .iter()
        .find(|text| !run.output.contains(text.as_str()))
    {
        return Err(format!(
            "{label} ({mistake}): caught by {}, but no failure says \"{missing}\" (the \
             file's `// expect:`); the first says: {message}",
            caught.name
        ));
    }
    let more = match report.failed.len() {
        0 | 1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    Ok(format!(
        "{label} caught in {seconds:.1} s by {}{more}: {message}",
        caught.name
    ))
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

/// The first line of a panic message; for an assertion without a message of its own, with
/// the `left:` / `right:` lines that say what differed.
fn first_line(message: &[String]) -> String {
    let first = message.first().cloned().unwrap_or_default();
    if first.starts_with("assertion `left") && first.ends_with(" failed") {
        let values: Vec<String> = message[1..]
            .iter()
            .take(2)
            .map(|l| l.trim())
            .filter(|l| l.starts_with("left:") || l.starts_with("right:"))
            .map(|l| shorten(l, 70))
            .collect();
        if !values.is_empty() {
            return format!("{first} ({})", values.join(", "));
        }
    }
    first
}

/// `text`, cut to `max` characters with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
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
