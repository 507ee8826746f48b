//! `cargo learn`: the learner's console for *Build Your Own Event Loop*.

mod cargo_test;
mod catalog;
mod check;
mod generate;
mod includes;

use std::process::ExitCode;

use catalog::{Catalog, find_root};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    let root = match find_root(&cwd) {
        Ok(root) => root,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let catalog = match Catalog::load(&root) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match args.first().map(String::as_str) {
        Some("generate") => match check::generate_all(&root, &catalog) {
            Ok(changed) if changed.is_empty() => {
                println!("every exercise is up to date");
                ExitCode::SUCCESS
            }
            Ok(changed) => {
                for file in changed {
                    println!("wrote {file}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Some("check") => match check::run(&root, &catalog) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            for e in &catalog.exercises {
                println!("{:>2}. {:<8} {}", e.chapter, e.name, e.title);
            }
            ExitCode::SUCCESS
        }
    }
}
