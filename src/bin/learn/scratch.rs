//! A scratch copy of the crate for `cargo learn check`, with every exercise file exactly as
//! `cargo learn generate` makes it.
//!
//! The check proves things about the *untouched* exercises ("the tests fail against them"),
//! so it must never run against the files in `exercises/`: in a learner's tree those hold the
//! learner's work, and a solved file passes every test. The scratch tree lives in
//! `target/learn-check/tree` and builds into a target directory of its own,
//! `target/learn-check/target`, kept between checks. It must not share the real `target/`:
//! cargo names a path package's artifacts by its path *relative to its workspace*, so the copy
//! and the real crate would write the same `libeventloop-<hash>.rlib`, and a later `cargo test`
//! in the real tree could link the copy's stale library.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, Exercise};
use crate::generate;

/// What the scratch tree copies from the real one: enough for `cargo test --test <name>`.
const COPIED: [&str; 6] = [
    "src",
    "tests",
    "benches",
    "examples",
    "exercises",
    "Cargo.lock",
];

/// A copy of the crate whose exercise files are the generated, untouched ones.
#[derive(Debug)]
pub struct Scratch {
    /// The copy's root, where `cargo test` runs.
    pub root: PathBuf,
    /// The copy's own target directory (see the module docs for why not the real one).
    pub target: PathBuf,
}

impl Scratch {
    /// Makes a fresh scratch tree from `root`, with every exercise of `catalog` generated
    /// from its source.
    ///
    /// # Errors
    /// When a file cannot be copied or written, or an exercise cannot be generated.
    pub fn create(root: &Path, catalog: &Catalog) -> io::Result<Scratch> {
        let check = root.join("target").join("learn-check");
        let target = check.join("target");
        let scratch = check.join("tree");
        if scratch.exists() {
            fs::remove_dir_all(&scratch).map_err(|e| context(e, "clear", &scratch))?;
        }
        fs::create_dir_all(&scratch).map_err(|e| context(e, "create", &scratch))?;
        for name in COPIED {
            let from = root.join(name);
            if from.exists() {
                copy(&from, &scratch.join(name))?;
            }
        }
        let manifest = fs::read_to_string(root.join("Cargo.toml"))
            .map_err(|e| context(e, "read", &root.join("Cargo.toml")))?;
        let manifest_copy = scratch.join("Cargo.toml");
        let tests = test_sources(&root.join("tests"));
        fs::write(&manifest_copy, scratch_manifest(&manifest, &tests))
            .map_err(|e| context(e, "write", &manifest_copy))?;
        let scratch = Scratch {
            root: scratch,
            target,
        };
        for exercise in &catalog.exercises {
            let source = fs::read_to_string(root.join(exercise.source()))
                .map_err(|e| context(e, "read", &root.join(exercise.source())))?;
            let text = generate::generate(exercise, &source).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", exercise.source().display()),
                )
            })?;
            scratch.write_exercise(exercise, &text)?;
        }
        Ok(scratch)
    }

    /// Replaces `exercise`'s file in the scratch tree with `text`.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write_exercise(&self, exercise: &Exercise, text: &str) -> io::Result<()> {
        let path = self.root.join(exercise.exercise_file());
        fs::write(&path, text).map_err(|e| context(e, "write", &path))
    }

    /// The text of `exercise`'s test file in the scratch tree, or empty.
    pub fn test_source(&self, exercise: &Exercise) -> String {
        fs::read_to_string(self.root.join(exercise.test_file())).unwrap_or_default()
    }

    /// The path of `exercise`'s file in the scratch tree.
    pub fn exercise_file(&self, exercise: &Exercise) -> PathBuf {
        self.root.join(exercise.exercise_file())
    }
}

/// The scratch tree's `Cargo.toml`: the real one in a workspace of its own (so cargo never
/// takes the real tree for its parent), with only what the tests need:
///
/// - no binaries, benches or examples: `cargo test --test <name>` builds every binary of the
///   package, and the console binary would be rebuilt after every change to the library (every
///   wrong solution), for nothing, since no exercise's test runs it;
/// - only the dev-dependencies that `tests` (the text of every test file) names: the others
///   (criterion for the benches, for one) would be compiled once more, cold, in the check's
///   own target directory;
/// - no default features: they are the console's dependencies (crossterm), which
///   only the dropped binary uses;
/// - no debug info in the dev profile: every wrong solution and mutant rebuilds the library
///   and relinks the test binary, and the line tables and type descriptions are most of what
///   the compiler and the linker write. A panic still says where (its location is not debug
///   info), and `RUST_BACKTRACE` is off in these runs anyway.
fn scratch_manifest(manifest: &str, tests: &str) -> String {
    let mut out = String::with_capacity(manifest.len());
    let mut table = String::new();
    let mut dev_profile = false;
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            table = trimmed.to_string();
        }
        let key = trimmed.split_once('=').map_or("", |(name, _)| name.trim());
        if table == "[features]" && key == "default" {
            out.push_str("default = []\n");
            continue;
        }
        if table == "[profile.dev]" && key == "debug" {
            continue;
        }
        let dropped_table = matches!(table.as_str(), "[[bin]]" | "[[bench]]" | "[[example]]");
        let unused_dev_dependency = table == "[dev-dependencies]"
            && trimmed
                .split_once('=')
                .map(|(name, _)| name.trim().replace('-', "_"))
                .is_some_and(|name| !name.is_empty() && !tests.contains(&format!("{name}::")));
        if dropped_table
            || unused_dev_dependency
            || (table == "[package]" && trimmed.starts_with("default-run"))
        {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if trimmed == "[package]" {
            out.push_str("autobins = false\nautobenches = false\nautoexamples = false\n");
        }
        if trimmed == "[profile.dev]" {
            dev_profile = true;
            out.push_str("debug = false\n");
        }
    }
    if !dev_profile {
        out.push_str("\n[profile.dev]\ndebug = false\n");
    }
    out.push_str("\n[workspace]\n");
    out
}

/// The text of every `.rs` file under `dir`.
fn test_sources(dir: &Path) -> String {
    let mut text = String::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return text;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            text.push_str(&test_sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            text.push_str(&fs::read_to_string(&path).unwrap_or_default());
        }
    }
    text
}

/// Copies a file, or a directory recursively (skipping `target/` directories).
fn copy(from: &Path, to: &Path) -> io::Result<()> {
    if from.is_dir() {
        fs::create_dir_all(to).map_err(|e| context(e, "create", to))?;
        for entry in fs::read_dir(from).map_err(|e| context(e, "read", from))? {
            let entry = entry.map_err(|e| context(e, "read", from))?;
            if entry.file_name() == "target" {
                continue;
            }
            copy(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        fs::copy(from, to)
            .map(drop)
            .map_err(|e| context(e, "copy", from))
    }
}

fn context(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("cannot {what} {} for the check: {e}", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A course of one exercise, in a fresh directory.
    fn tiny_course(name: &str) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("learn-scratch-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("src")).unwrap();
        fs::create_dir_all(root.join("exercises")).unwrap();
        fs::write(root.join("Cargo.toml"), "[package]\nname = \"tiny\"\n").unwrap();
        fs::write(
            root.join("exercises/exercises.toml"),
            "[[exercise]]\nname = \"adder\"\nchapter = 1\nchapter_file = \"a.md\"\n\
             title = \"t\"\ntest = \"adder\"\nhint = \"h\"\n",
        )
        .unwrap();
        fs::write(
            root.join("src/adder.rs"),
            "pub fn add(a: u32, b: u32) -> u32 {\n    // exercise: add them\n    \
             // contract: the sum\n    // hint: plus\n    a + b\n    // end exercise\n}\n",
        )
        .unwrap();
        root
    }

    #[test]
    fn the_scratch_tree_holds_the_untouched_exercise_never_the_learners_work() {
        let root = tiny_course("untouched");
        let solved = "pub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n";
        fs::write(root.join("exercises/adder.rs"), solved).unwrap();
        let catalog = Catalog::load(&root).unwrap();
        let scratch = Scratch::create(&root, &catalog).unwrap();
        let copy = fs::read_to_string(scratch.exercise_file(&catalog.exercises[0])).unwrap();
        assert!(
            copy.contains("todo!("),
            "the scratch copy is generated: {copy}"
        );
        assert!(
            fs::read_to_string(scratch.root.join("Cargo.toml"))
                .unwrap()
                .ends_with("[workspace]\n"),
            "the scratch tree is a workspace of its own"
        );
        let manifest = scratch_manifest(
            "[package]\nname = \"x\"\ndefault-run = \"learn\"\n\n[features]\n\
             default = [\"console\"]\nconsole = [\"dep:crossterm\"]\n\n[dev-dependencies]\n\
             toml = \"0.9\"\ncriterion = { version = \"0.7\" }\n\n[[bin]]\nname = \"learn\"\n\
             path = \"src/bin/learn/main.rs\"\n\n[[bench]]\nname = \"heap\"\nharness = false\n",
            "let t: toml::Table = text.parse().unwrap();",
        );
        assert_eq!(
            manifest,
            "[package]\nautobins = false\nautobenches = false\nautoexamples = false\n\
             name = \"x\"\n\n[features]\ndefault = []\nconsole = [\"dep:crossterm\"]\n\n\
             [dev-dependencies]\ntoml = \"0.9\"\n\n\n[profile.dev]\ndebug = false\n\n\
             [workspace]\n",
            "no binaries, benches, examples or default features, no dev-dependency the tests \
             do not name, no debug info"
        );
        // A dev profile of the crate's own keeps its settings, without debug info.
        assert_eq!(
            scratch_manifest("[profile.dev]\ndebug = 2\nopt-level = 1\n", ""),
            "[profile.dev]\ndebug = false\nopt-level = 1\n\n[workspace]\n"
        );
        // Its own target directory: sharing the real one lets the copy's library stand in
        // for the real crate's (same artifact names).
        assert!(scratch.target.starts_with(root.join("target/learn-check")));
        assert_ne!(scratch.target, root.join("target"));
        // The learner's file is left exactly as it was.
        assert_eq!(
            fs::read_to_string(root.join("exercises/adder.rs")).unwrap(),
            solved
        );
        fs::remove_dir_all(&root).unwrap();
    }
}
