//! The exercise catalog: `exercises/exercises.toml`, and where the repository is.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::toml_subset::{self, Value};

/// The metadata file, relative to the repository root.
pub const CATALOG_PATH: &str = "exercises/exercises.toml";

/// One exercise: a module of `src/` that the learner writes again in `exercises/`.
#[derive(Debug, Clone)]
pub struct Exercise {
    /// What the learner types (`cargo learn heap`); also the module and feature name.
    pub name: String,
    /// The book chapter number.
    pub chapter: u32,
    /// The chapter's file in `chapters/`.
    pub chapter_file: String,
    /// One line for the chapter list.
    pub title: String,
    /// `tests/<test>.rs` decides whether the exercise is solved.
    pub test: String,
    /// Only tests whose path contains this run; empty means all of the file.
    pub filter: String,
    /// The longer hint.
    pub hint: String,
    /// The reference module, relative to the repository root (default `src/<name>.rs`).
    pub source: String,
}

impl Exercise {
    /// The reference module the exercise is generated from.
    pub fn source(&self) -> PathBuf {
        PathBuf::from(&self.source)
    }

    /// The learner's copy.
    pub fn exercise_file(&self) -> PathBuf {
        PathBuf::from("exercises").join(format!("{}.rs", self.name))
    }

    /// The chapter's test file, relative to the repository root (`tests/queue.rs`).
    pub fn test_file(&self) -> PathBuf {
        PathBuf::from("tests").join(format!("{}.rs", self.test))
    }

    /// The cargo feature that swaps the module for the learner's copy.
    pub fn feature(&self) -> String {
        format!("learn-{}", self.name)
    }
}

/// The ordered list of exercises.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// In book order.
    pub exercises: Vec<Exercise>,
}

/// Why the catalog could not be read.
#[derive(Debug)]
pub enum CatalogError {
    /// The command was started outside the repository.
    NotInRepo {
        /// Where it was started.
        cwd: PathBuf,
    },
    /// The file exists but is not valid.
    Invalid(String),
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CatalogError::NotInRepo { cwd } => write!(
                f,
                "`cargo learn` must run inside the book's repository (the folder with Cargo.toml \
                 and {CATALOG_PATH}), but {} is not in it.\nThis program was built from {}: \
                 `cd` there and run it again.",
                cwd.display(),
                env!("CARGO_MANIFEST_DIR"),
            ),
            CatalogError::Invalid(why) => write!(f, "{CATALOG_PATH} is not valid: {why}"),
        }
    }
}

/// Finds the repository root: the nearest folder at or above `start` holding the catalog.
pub fn find_root(start: &Path) -> Result<PathBuf, CatalogError> {
    start
        .ancestors()
        .find(|dir| dir.join(CATALOG_PATH).is_file() && dir.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| CatalogError::NotInRepo {
            cwd: start.to_path_buf(),
        })
}

impl Catalog {
    /// Reads the catalog of the repository at `root`.
    pub fn load(root: &Path) -> Result<Catalog, CatalogError> {
        let text = fs::read_to_string(root.join(CATALOG_PATH))
            .map_err(|e| CatalogError::Invalid(e.to_string()))?;
        Catalog::parse(&text)
    }

    /// Parses the catalog's text.
    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        let table = toml_subset::parse(text).map_err(|e| CatalogError::Invalid(e.to_string()))?;
        let entries = table
            .get("exercise")
            .and_then(Value::as_array)
            .ok_or_else(|| CatalogError::Invalid("no [[exercise]] tables".into()))?;
        let mut exercises = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let text = |key: &str| -> Result<String, CatalogError> {
                entry
                    .get(key)
                    .and_then(Value::as_str)
                    .map(|s| s.trim().to_string())
                    .ok_or_else(|| {
                        CatalogError::Invalid(format!("exercise #{} has no text `{key}`", i + 1))
                    })
            };
            let chapter = entry
                .get("chapter")
                .and_then(Value::as_integer)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    CatalogError::Invalid(format!("exercise #{} has no number `chapter`", i + 1))
                })?;
            let name = text("name")?;
            exercises.push(Exercise {
                source: text("source").unwrap_or_else(|_| format!("src/{name}.rs")),
                name,
                chapter,
                chapter_file: text("chapter_file")?,
                title: text("title")?,
                test: text("test")?,
                filter: text("filter").unwrap_or_default(),
                hint: text("hint")?,
            });
        }
        Ok(Catalog { exercises })
    }

    /// The exercise called `name`.
    pub fn get(&self, name: &str) -> Option<&Exercise> {
        self.exercises.iter().find(|e| e.name == name)
    }

    /// The names, in order, for "did you mean" messages.
    pub fn names(&self) -> Vec<&str> {
        self.exercises.iter().map(|e| e.name.as_str()).collect()
    }
}
