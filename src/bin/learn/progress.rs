//! The learner's progress: what the last run of each exercise said, and whether the file has
//! changed since.
//!
//! It lives in `.learn-progress.toml` at the repository root (git-ignored). For each exercise it
//! keeps the last result and a hash of the exercise file as it was when that result was
//! recorded, so the list can tell "solved" from "solved, then edited", and how far into the
//! hints the learner has gone (1: the nudge, 2: the method). The file is a cache: deleting it
//! loses nothing but the list's memory of past runs.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::toml_subset::{self, Value};

/// The progress file, relative to the repository root.
pub const PROGRESS_PATH: &str = ".learn-progress.toml";

/// The last recorded outcome of one exercise's tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every test passed.
    Passed,
    /// Something failed, or the code did not compile.
    Failed,
}

/// One exercise's entry in the progress file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// What the tests said.
    pub outcome: Outcome,
    /// [`hash`] of the exercise file the tests ran against.
    pub hash: u64,
}

/// Where a learner stands on one exercise, as the chapter list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The file is exactly what `cargo learn reset` writes, and was never run.
    NotStarted,
    /// Edited since the last run (or never run after editing).
    Changed,
    /// The last run failed, and the file is as it was then.
    Failing,
    /// The last run passed, and the file is as it was then.
    Solved,
    /// The exercise file does not exist.
    Missing,
}

impl State {
    /// The word shown in the list.
    pub fn label(self) -> &'static str {
        match self {
            State::NotStarted => "not started",
            State::Changed => "changed",
            State::Failing => "failing",
            State::Solved => "solved",
            State::Missing => "missing",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Decides an exercise's state.
///
/// `current` is the hash of the learner's file (`None`: the file is missing), `pristine` the
/// hash of the freshly generated exercise (`None`: it cannot be generated), `record` the last
/// result.
pub fn state(current: Option<u64>, pristine: Option<u64>, record: Option<Record>) -> State {
    let Some(current) = current else {
        return State::Missing;
    };
    match record {
        Some(r) if r.hash == current => match r.outcome {
            Outcome::Passed => State::Solved,
            Outcome::Failed => State::Failing,
        },
        Some(_) => State::Changed,
        None if pristine == Some(current) => State::NotStarted,
        None => State::Changed,
    }
}

/// A hash of a file's contents that stays the same across runs and builds (64-bit FNV-1a;
/// std's `DefaultHasher` makes no such promise).
pub fn hash(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

/// The hash of the file at `path`, or `None` when it cannot be read.
pub fn hash_file(path: &Path) -> Option<u64> {
    fs::read(path).ok().map(|bytes| hash(&bytes))
}

/// Every exercise's last result and hint level, by exercise name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    records: BTreeMap<String, Record>,
    hints: BTreeMap<String, u8>,
}

/// The deepest hint level: 1 is the nudge, 2 the method.
pub const MAX_HINT_LEVEL: u8 = 2;

/// The result of reading the progress file.
#[derive(Debug)]
pub struct Loaded {
    /// What could be read; empty when there was no file or it was unreadable.
    pub progress: Progress,
    /// Set when the file existed but could not be used, saying why.
    pub warning: Option<String>,
}

impl Progress {
    /// The path of the progress file in the repository at `root`.
    pub fn path(root: &Path) -> PathBuf {
        root.join(PROGRESS_PATH)
    }

    /// Reads the progress file. A missing file is a fresh start; a corrupt one is a fresh
    /// start with a warning.
    pub fn load(root: &Path) -> Loaded {
        let path = Progress::path(root);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Loaded {
                    progress: Progress::default(),
                    warning: None,
                };
            }
            Err(e) => {
                return Loaded {
                    progress: Progress::default(),
                    warning: Some(format!(
                        "cannot read {PROGRESS_PATH} ({e}); starting afresh"
                    )),
                };
            }
        };
        match Progress::parse(&text) {
            Ok(progress) => Loaded {
                progress,
                warning: None,
            },
            Err(why) => {
                // Start the new file now, so the warning shows once.
                let progress = Progress::default();
                let _ = progress.save(root);
                Loaded {
                    progress,
                    warning: Some(format!(
                        "{PROGRESS_PATH} was damaged ({why}); starting afresh. It only \
                         remembers past runs: your exercises are untouched."
                    )),
                }
            }
        }
    }

    /// Parses the progress file's text.
    pub fn parse(text: &str) -> Result<Progress, String> {
        let table = toml_subset::parse(text).map_err(|e| e.to_string())?;
        let mut progress = Progress::default();
        for (name, entry) in &table {
            let field = |key: &str| entry.get(key).and_then(Value::as_str);
            if let Some(level) = entry.get("hint") {
                let level = level
                    .as_integer()
                    .and_then(|l| u8::try_from(l).ok())
                    .filter(|l| *l <= MAX_HINT_LEVEL)
                    .ok_or_else(|| format!("`{name}` has a `hint` level that is not 0, 1 or 2"))?;
                progress.hints.insert(name.clone(), level);
                if entry.get("result").is_none() {
                    continue; // hints asked for, never run
                }
            }
            let outcome = match field("result") {
                Some("passed") => Outcome::Passed,
                Some("failed") => Outcome::Failed,
                _ => return Err(format!("`{name}` has no result \"passed\" or \"failed\"")),
            };
            let hash = field("hash")
                .and_then(|h| u64::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("`{name}` has no hexadecimal `hash`"))?;
            progress
                .records
                .insert(name.clone(), Record { outcome, hash });
        }
        Ok(progress)
    }

    /// The text of the progress file.
    pub fn render(&self) -> String {
        let mut text = String::from(
            "# Your progress through the exercises, written by `cargo learn`.\n\
             # Safe to delete: it only remembers the last result of each exercise, and how\n\
             # many hints you asked for.\n",
        );
        let names: std::collections::BTreeSet<&String> =
            self.records.keys().chain(self.hints.keys()).collect();
        for name in names {
            let bare = name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            let key = if bare {
                name.clone()
            } else {
                toml_subset::quoted(name)
            };
            text.push_str(&format!("\n[{key}]\n"));
            if let Some(record) = self.records.get(name) {
                let result = match record.outcome {
                    Outcome::Passed => "passed",
                    Outcome::Failed => "failed",
                };
                text.push_str(&format!(
                    "result = \"{result}\"\nhash = \"{:016x}\"\n",
                    record.hash
                ));
            }
            if let Some(level) = self.hints.get(name) {
                text.push_str(&format!("hint = {level}\n"));
            }
        }
        text
    }

    /// How far into the hints the learner has gone on `exercise`: 0 none, 1 the nudge, 2
    /// the method.
    pub fn hint_level(&self, exercise: &str) -> u8 {
        self.hints.get(exercise).copied().unwrap_or(0)
    }

    /// Remembers that the learner has seen `exercise`'s hints up to `level`.
    pub fn set_hint_level(&mut self, exercise: &str, level: u8) {
        self.hints
            .insert(exercise.to_string(), level.min(MAX_HINT_LEVEL));
    }

    /// Writes the progress file.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn save(&self, root: &Path) -> io::Result<()> {
        fs::write(Progress::path(root), self.render())
            .map_err(|e| io::Error::new(e.kind(), format!("cannot write {PROGRESS_PATH}: {e}")))
    }

    /// The last result of `exercise`.
    pub fn get(&self, exercise: &str) -> Option<Record> {
        self.records.get(exercise).copied()
    }

    /// Records a result of `exercise`.
    pub fn set(&mut self, exercise: &str, record: Record) {
        self.records.insert(exercise.to_string(), record);
    }

    /// Forgets `exercise` (after a reset).
    pub fn forget(&mut self, exercise: &str) {
        self.records.remove(exercise);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: u64 = 1;
    const PRISTINE: u64 = 2;

    fn record(outcome: Outcome, hash: u64) -> Option<Record> {
        Some(Record { outcome, hash })
    }

    #[test]
    fn an_untouched_file_never_run_is_not_started() {
        assert_eq!(
            state(Some(PRISTINE), Some(PRISTINE), None),
            State::NotStarted
        );
    }

    #[test]
    fn an_edited_file_never_run_is_changed() {
        assert_eq!(state(Some(FILE), Some(PRISTINE), None), State::Changed);
        assert_eq!(state(Some(FILE), None, None), State::Changed);
    }

    #[test]
    fn the_last_result_counts_while_the_file_is_unchanged() {
        let passed = record(Outcome::Passed, FILE);
        let failed = record(Outcome::Failed, FILE);
        assert_eq!(state(Some(FILE), Some(PRISTINE), passed), State::Solved);
        assert_eq!(state(Some(FILE), Some(PRISTINE), failed), State::Failing);
        // An untouched exercise that was run and failed is failing, not "not started".
        let ran_untouched = record(Outcome::Failed, PRISTINE);
        assert_eq!(
            state(Some(PRISTINE), Some(PRISTINE), ran_untouched),
            State::Failing
        );
    }

    #[test]
    fn editing_after_a_result_makes_it_changed() {
        let passed = record(Outcome::Passed, FILE);
        assert_eq!(state(Some(3), Some(PRISTINE), passed), State::Changed);
    }

    #[test]
    fn a_deleted_file_is_missing() {
        let passed = record(Outcome::Passed, FILE);
        assert_eq!(state(None, Some(PRISTINE), passed), State::Missing);
    }

    #[test]
    fn the_hash_is_stable_fnv1a() {
        // Published FNV-1a 64 test vectors: the value must never change between builds.
        assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn progress_survives_a_round_trip() {
        let mut progress = Progress::default();
        progress.set(
            "heap",
            Record {
                outcome: Outcome::Passed,
                hash: u64::MAX,
            },
        );
        progress.set(
            "queue",
            Record {
                outcome: Outcome::Failed,
                hash: 7,
            },
        );
        progress.set_hint_level("queue", 1);
        progress.set_hint_level("stack", 2); // hints asked for, never run
        let parsed = Progress::parse(&progress.render()).unwrap();
        assert_eq!(parsed, progress);
        assert_eq!(
            (parsed.hint_level("queue"), parsed.hint_level("stack")),
            (1, 2)
        );
        assert_eq!(parsed.hint_level("heap"), 0);
        assert!(parsed.get("stack").is_none());
        progress.forget("heap");
        assert_eq!(progress.get("heap"), None);
    }

    #[test]
    fn a_file_written_by_earlier_versions_still_reads() {
        // What `cargo learn` wrote when it used the `toml` crate: the same text.
        let old = "# Your progress through the exercises, written by `cargo learn`.\n\
                   # Safe to delete: it only remembers the last result of each exercise, and how\n\
                   # many hints you asked for.\n\
                   \n[heap]\nresult = \"passed\"\nhash = \"ffffffffffffffff\"\n\
                   \n[\"odd \\\"name\\\"\"]\nhint = 1\n\
                   \n[queue]\nresult = \"failed\"\nhash = \"0000000000000007\"\nhint = 1\n\
                   \n[stack]\nhint = 2\n";
        let progress = Progress::parse(old).unwrap();
        assert_eq!(progress.render(), old, "rendered as it was written");
        assert_eq!(
            progress.get("heap"),
            record(Outcome::Passed, u64::MAX),
            "{progress:?}"
        );
        assert_eq!(progress.get("queue"), record(Outcome::Failed, 7));
        assert_eq!(progress.hint_level("queue"), 1);
        assert_eq!(progress.hint_level("stack"), 2);
        assert_eq!(progress.hint_level("odd \"name\""), 1);
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_panic() {
        assert!(Progress::parse("[heap\nresult = ").is_err());
        assert!(Progress::parse("[heap]\nresult = \"maybe\"\nhash = \"00\"").is_err());
        assert!(Progress::parse("[heap]\nresult = \"passed\"\nhash = \"xyz\"").is_err());
        assert!(Progress::parse("heap = 3").is_err());
        assert!(Progress::parse("[heap]\nhint = 7").is_err());
        assert!(Progress::parse("[heap]\nhint = -1").is_err());
        assert!(Progress::parse("[heap]\nresult = \"passed\"").is_err());
        assert!(Progress::parse("[heap]\n[heap]").is_err());
        assert!(Progress::parse("[heap]\nresult = \"passed\"\nresult = \"failed\"").is_err());
        assert!(Progress::parse("[heap]\nhash = 1.5").is_err());
        assert!(Progress::parse("\u{0}").is_err());
        // The reason names the line, for the warning the learner sees.
        let why = Progress::parse("[heap]\nresult = \"passed\nhash = \"00\"").unwrap_err();
        assert!(why.contains("line 2"), "{why}");
    }

    #[test]
    fn loading_a_damaged_file_warns_and_starts_afresh() {
        let dir = std::env::temp_dir().join(format!("learn-progress-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(PROGRESS_PATH), "not = [toml").unwrap();
        let loaded = Progress::load(&dir);
        assert_eq!(loaded.progress, Progress::default());
        assert!(loaded.warning.unwrap().contains("damaged"));
        let again = Progress::load(&dir);
        assert!(again.warning.is_none(), "the damaged file was replaced");
        fs::remove_dir_all(&dir).unwrap();
        let loaded = Progress::load(&dir);
        assert!(loaded.warning.is_none(), "a missing file is a fresh start");
    }
}
