//! The course as the learner sees it: the catalog, their exercise files, and their progress.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::cargo_test::TestRun;
use crate::catalog::{Catalog, Exercise};
use crate::generate;
use crate::progress::{self, Outcome, Progress, Record, State};
use crate::report::{self, Report};

/// A repository checkout with its catalog and the learner's progress.
#[derive(Debug)]
pub struct Course {
    /// The repository root.
    pub root: PathBuf,
    /// The exercises, in book order.
    pub catalog: Catalog,
    /// The last result of each exercise.
    pub progress: Progress,
}

impl Course {
    /// Opens the course at `root`; also returns a warning when the progress file was damaged.
    pub fn open(root: &Path, catalog: Catalog) -> (Course, Option<String>) {
        let loaded = Progress::load(root);
        let course = Course {
            root: root.to_path_buf(),
            catalog,
            progress: loaded.progress,
        };
        (course, loaded.warning)
    }

    /// The learner's file for `exercise`, as an absolute path.
    pub fn file(&self, exercise: &Exercise) -> PathBuf {
        self.root.join(exercise.exercise_file())
    }

    /// The untouched exercise file, generated from the reference module in `src/`.
    ///
    /// # Errors
    /// When the reference module cannot be read or its markers are broken.
    pub fn pristine(&self, exercise: &Exercise) -> io::Result<String> {
        let source_path = self.root.join(exercise.source());
        let source = fs::read_to_string(&source_path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot read {}: {e}", exercise.source().display()),
            )
        })?;
        generate::generate(exercise, &source).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", exercise.source().display()),
            )
        })
    }

    /// The marked regions of `exercise`'s reference module, with their nudges and methods;
    /// empty when it cannot be read.
    pub fn regions(&self, exercise: &Exercise) -> Vec<generate::Region> {
        fs::read_to_string(self.root.join(exercise.source()))
            .ok()
            .and_then(|source| generate::regions(&source).ok())
            .unwrap_or_default()
    }

    /// Takes the learner one hint level deeper on `exercise` (up to the method) and saves
    /// it; returns the new level.
    pub fn deeper_hint(&mut self, exercise: &Exercise) -> u8 {
        let level = (self.progress.hint_level(&exercise.name) + 1).min(progress::MAX_HINT_LEVEL);
        self.progress.set_hint_level(&exercise.name, level);
        if let Err(e) = self.progress.save(&self.root) {
            crate::console::complain("warning", &e.to_string());
        }
        level
    }

    /// Where the learner stands on `exercise`.
    pub fn state(&self, exercise: &Exercise) -> State {
        let current = progress::hash_file(&self.file(exercise));
        let pristine = self
            .pristine(exercise)
            .ok()
            .map(|text| progress::hash(text.as_bytes()));
        progress::state(current, pristine, self.progress.get(&exercise.name))
    }

    /// Every exercise with its state, in book order.
    pub fn states(&self) -> Vec<(&Exercise, State)> {
        self.catalog
            .exercises
            .iter()
            .map(|e| (e, self.state(e)))
            .collect()
    }

    /// The first exercise, in book order, that is not solved.
    pub fn next(&self) -> Option<&Exercise> {
        self.states()
            .into_iter()
            .find(|(_, state)| *state != State::Solved)
            .map(|(e, _)| e)
    }

    /// The first unsolved exercise after `current`, wrapping around; never `current` itself.
    pub fn next_after(&self, current: &Exercise) -> Option<&Exercise> {
        let all = &self.catalog.exercises;
        let at = all.iter().position(|e| e.name == current.name).unwrap_or(0);
        (1..all.len())
            .map(|step| &all[(at + step) % all.len()])
            .find(|e| self.state(e) != State::Solved)
    }

    /// The text of `exercise`'s test file, or empty when it cannot be read.
    pub fn test_source(&self, exercise: &Exercise) -> String {
        fs::read_to_string(self.root.join(exercise.test_file())).unwrap_or_default()
    }

    /// Turns a finished `cargo test` into a report.
    pub fn report(&self, exercise: &Exercise, run: &TestRun) -> Report {
        report::of_run(run, &self.test_source(exercise))
    }

    /// Remembers `report` for the file whose hash was `hash` when the run started, and saves
    /// the progress file.
    ///
    /// # Errors
    /// When the progress file cannot be written.
    pub fn record(
        &mut self,
        exercise: &Exercise,
        hash: Option<u64>,
        report: &Report,
    ) -> io::Result<()> {
        let Some(hash) = hash else {
            return Ok(());
        };
        let outcome = if report.solved() {
            Outcome::Passed
        } else {
            Outcome::Failed
        };
        self.progress.set(&exercise.name, Record { outcome, hash });
        self.progress.save(&self.root)
    }

    /// How many exercises are solved.
    pub fn solved_count(&self) -> usize {
        self.states()
            .iter()
            .filter(|(_, state)| *state == State::Solved)
            .count()
    }
}
