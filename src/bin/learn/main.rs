//! `cargo learn`: the learner's console for *Build Your Own Event Loop*.
//!
//! `cargo run` (or `cargo learn`) lists the exercises and where the learner stands;
//! `cargo learn <exercise>` runs that exercise's tests and explains the first failure;
//! `cargo learn watch` re-runs them on every save; `cargo learn help` lists the rest.
//! `generate` and `check` are the maintainers' side: exercises are generated from `src/`.

mod batch;
mod cargo_test;
mod catalog;
mod check;
mod cli;
mod commands;
mod console;
mod course;
mod explain;
mod generate;
mod includes;
mod mutants;
mod progress;
mod report;
mod scratch;
mod todos;
mod toml_subset;
mod views;
// The visualizer and the puzzle ports it runs; without them, a launcher that builds them
// on the first `viz` (viz/launch.rs says why).
#[cfg(feature = "viz-ports")]
mod viz;
#[cfg(not(feature = "viz-ports"))]
#[path = "viz/launch.rs"]
mod viz;
mod watch;
mod wrong;

use std::io;
use std::path::Path;
use std::process::ExitCode;

use catalog::{Catalog, find_root};
use cli::Command;
use console::{Console, complain};
use course::Course;

/// Exit code for a command line that makes no sense, or a program started in the wrong place.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let console = Console::detect();
    let wants_help = args
        .iter()
        .any(|a| a == "help" || a == "--help" || a == "-h");
    let root = match std::env::current_dir()
        .map_err(|e| e.to_string())
        .and_then(|cwd| find_root(&cwd).map_err(|e| e.to_string()))
    {
        Ok(root) => root,
        Err(_) if wants_help => return print(&console, &views::help(&[])),
        Err(e) => {
            complain("error", &e);
            return ExitCode::from(USAGE);
        }
    };
    // The visualizer has its own arguments (a puzzle, not an exercise).
    if args.first().is_some_and(|a| a == "viz") && !wants_help {
        return match viz::main(&root, &args[1..]) {
            Ok(code) => code,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
                complain("error", &e.to_string());
                ExitCode::from(USAGE)
            }
            Err(e) => {
                complain("error", &e.to_string());
                ExitCode::FAILURE
            }
        };
    }
    let catalog = match Catalog::load(&root) {
        Ok(c) => c,
        Err(e) => {
            complain("error", &e.to_string());
            return ExitCode::from(USAGE);
        }
    };
    let args = match cli::parse(&args, &catalog.names()) {
        Ok(args) => args,
        Err(e) => {
            complain("error", &e.to_string());
            return ExitCode::from(USAGE);
        }
    };
    match dispatch(&root, catalog, &console, args) {
        Ok(code) => code,
        // `cargo learn queue | head`: the reader has seen enough; nothing went wrong.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            complain("error", &e.to_string());
            ExitCode::FAILURE
        }
    }
}

/// Runs the command.
fn dispatch(
    root: &Path,
    catalog: Catalog,
    console: &Console,
    args: cli::Args,
) -> io::Result<ExitCode> {
    let (mut course, warning) = Course::open(root, catalog);
    if let Some(warning) = warning {
        complain("warning", &warning);
    }
    let exercise = |name: &str| {
        course
            .catalog
            .get(name)
            .cloned()
            .expect("cli::parse accepts only names from the catalog")
    };
    match args.command {
        Command::Help => Ok(print(console, &views::help(&course.catalog.names()))),
        Command::List => commands::list(&course, console),
        Command::Next => commands::next(&course, console),
        Command::Run(name) => {
            let exercise = exercise(&name);
            commands::run(&mut course, console, &exercise, args.verbose)
        }
        Command::Hint(name) => {
            let exercise = name.map(|n| exercise(&n));
            commands::hint(&mut course, console, exercise.as_ref())
        }
        Command::Reset(name) => {
            let exercise = exercise(&name);
            commands::reset(&mut course, console, &exercise, args.yes)
        }
        Command::Watch(name) => {
            let Some(exercise) = name
                .map(|n| exercise(&n))
                .or_else(|| course.next().cloned())
            else {
                console.print(&views::next_steps(None))?;
                return Ok(ExitCode::SUCCESS);
            };
            watch::watch(&mut course, *console, exercise)
        }
        Command::Generate => generate(root, &course.catalog),
        Command::Mutants(exercise) => {
            check::mutants(root, &course.catalog, &check::Scope { exercise }).map(|ok| {
                if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            })
        }
        Command::Mistake(name, mistake) => {
            let exercise = exercise(&name);
            commands::mistake(&mut course, &exercise, &mistake)
        }
        Command::Check(exercise) => check::run(root, &course.catalog, &check::Scope { exercise })
            .map(|ok| {
                if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }),
    }
}

/// `cargo learn generate` (maintainers): rewrites `exercises/` from `src/`.
fn generate(root: &Path, catalog: &Catalog) -> io::Result<ExitCode> {
    let changed = check::generate_all(root, catalog)?;
    if changed.is_empty() {
        println!("every exercise is up to date");
    }
    for file in changed {
        println!("wrote {file}");
    }
    Ok(ExitCode::SUCCESS)
}

fn print(console: &Console, doc: &console::Doc) -> ExitCode {
    match console.print(doc) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
