//! Wrong solutions as data: the mistakes learners make, kept beside each exercise so that
//! `cargo learn check` can prove the tests reject every one of them.
//!
//! Each file `exercises/wrong/<exercise>/<mistake>.rs` is one wrong solution:
//!
//! ```text
//! // mistake: the newest item is taken first (a stack, not a queue)
//! // expect: first in, first out
//! // region: pop
//! self.items.pop_back()
//! ```
//!
//! `// mistake:` says, in a line, what a learner got wrong. `// expect:` (optional, may
//! repeat) is text the failure's output must contain: the rule the tests say was broken, so a
//! test that stops catching it for the right reason is noticed. Each `// region: <function>`
//! starts the code that replaces the exercise region in that function (the region keeps no
//! name of its own: the function's name stays true when the region's title or place in the
//! file changes); the code runs up to the next `// region:` or the end of the file, written
//! without the region's indentation. Regions the file does not name keep the reference code.
//!
//! The wrong solution is what a learner's file would be: the generated exercise with each
//! `todo!()` replaced (see [`generate::solve`]).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::catalog::Exercise;
use crate::generate;

const MISTAKE: &str = "// mistake:";
const EXPECT: &str = "// expect:";
const REGION: &str = "// region:";

/// One kept wrong solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongSolution {
    /// The file, relative to the repository root.
    pub path: PathBuf,
    /// What the learner got wrong, in a line.
    pub mistake: String,
    /// Texts the failing run's output must contain.
    pub expect: Vec<String>,
    /// The replaced regions: the function each is in, and its code (unindented).
    pub bodies: Vec<(String, String)>,
}

/// The folder holding `exercise`'s wrong solutions, relative to the repository root.
pub fn folder(exercise: &Exercise) -> PathBuf {
    PathBuf::from("exercises")
        .join("wrong")
        .join(&exercise.name)
}

/// Every wrong solution kept for `exercise`, sorted by file name.
///
/// # Errors
/// When the folder cannot be read, or a file in it is not a valid wrong solution.
pub fn load(root: &Path, exercise: &Exercise) -> io::Result<Vec<WrongSolution>> {
    let dir = root.join(folder(exercise));
    let mut files: Vec<PathBuf> = match fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|e| e.map(|e| e.path()))
            .collect::<io::Result<_>>()?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    files.retain(|p| p.extension().is_some_and(|e| e == "rs"));
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let text = fs::read_to_string(&file)?;
            let path = folder(exercise).join(file.file_name().expect("read_dir gives names"));
            parse(&path, &text).map_err(|why| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {why}", path.display()),
                )
            })
        })
        .collect()
}

/// Reads one wrong solution's text.
///
/// # Errors
/// The reason the text is not a valid wrong solution.
pub fn parse(path: &Path, text: &str) -> Result<WrongSolution, String> {
    let mut mistake = None;
    let mut expect = Vec::new();
    let mut bodies: Vec<(String, Vec<&str>)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(function) = trimmed.strip_prefix(REGION) {
            let function = function.trim();
            if function.is_empty() || bodies.iter().any(|(f, _)| f == function) {
                return Err(format!(
                    "line {}: `// region:` needs a function name, once per file",
                    i + 1
                ));
            }
            bodies.push((function.to_string(), Vec::new()));
        } else if let Some((_, body)) = bodies.last_mut() {
            body.push(line);
        } else if let Some(text) = trimmed.strip_prefix(MISTAKE) {
            mistake = Some(text.trim().to_string());
        } else if let Some(text) = trimmed.strip_prefix(EXPECT) {
            expect.push(text.trim().to_string());
        } else if !trimmed.is_empty() && !trimmed.starts_with("//") {
            return Err(format!(
                "line {}: code before the first `// region:`",
                i + 1
            ));
        }
    }
    let mistake = mistake
        .filter(|m| !m.is_empty())
        .ok_or("no `// mistake:` line saying what the learner got wrong")?;
    if bodies.is_empty() {
        return Err("no `// region: <function>` with the wrong code".into());
    }
    let bodies = bodies
        .into_iter()
        .map(|(function, lines)| {
            let end = lines
                .iter()
                .rposition(|l| !l.trim().is_empty())
                .map_or(0, |n| n + 1);
            let start = lines[..end]
                .iter()
                .position(|l| !l.trim().is_empty())
                .unwrap_or(end);
            let code: String = lines[start..end].iter().map(|l| format!("{l}\n")).collect();
            (function, code)
        })
        .collect();
    Ok(WrongSolution {
        path: path.to_path_buf(),
        mistake,
        expect,
        bodies,
    })
}

impl WrongSolution {
    /// The file name without `.rs`: the mistake's short name.
    pub fn name(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The exercise file a learner who made this mistake would have, from the reference
    /// `source` of `exercise`.
    ///
    /// # Errors
    /// When the source's markers are broken, or the file names a function with no region
    /// (or with several).
    pub fn apply(&self, exercise: &Exercise, source: &str) -> Result<String, String> {
        let regions = generate::regions(source).map_err(|e| e.to_string())?;
        for (function, _) in &self.bodies {
            let count = regions.iter().filter(|r| &r.function == function).count();
            if count != 1 {
                let known: Vec<&str> = regions.iter().map(|r| r.function.as_str()).collect();
                return Err(format!(
                    "`// region: {function}`: {} has {count} exercise regions in a function \
                     of that name (its regions are in: {})",
                    exercise.source().display(),
                    known.join(", ")
                ));
            }
        }
        generate::solve(exercise, source, &|region| {
            self.bodies
                .iter()
                .find(|(f, _)| *f == region.function)
                .map(|(_, code)| code.clone())
        })
        .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::catalog::Catalog;

    /// A two-region exercise source, shared with the batch builder's tests.
    pub(crate) const SOURCE: &str = "\
//! A queue.
pub struct Q(Vec<u32>);
impl Q {
    pub fn push(&mut self, x: u32) {
        // exercise: add at the back
        // contract: x is last.
        // hint: push
        self.0.push(x);
        // end exercise
    }

    pub fn pop(
        &mut self,
    ) -> Option<u32> {
        // exercise: take the oldest
        // contract: The oldest leaves.
        if self.0.is_empty() {
            return None;
        }
        Some(self.0.remove(0))
        // end exercise
    }
}
";

    /// The catalog entry of [`SOURCE`]'s exercise.
    pub(crate) fn exercise() -> Exercise {
        let catalog = Catalog::parse(
            "[[exercise]]\nname = \"q\"\nchapter = 1\nchapter_file = \"a.md\"\n\
             title = \"t\"\ntest = \"q\"\nhint = \"h\"\n",
        )
        .unwrap();
        catalog.exercises[0].clone()
    }

    #[test]
    fn regions_are_named_by_their_function() {
        let names: Vec<_> = generate::regions(SOURCE)
            .unwrap()
            .into_iter()
            .map(|r| r.function)
            .collect();
        assert_eq!(names, ["push", "pop"]);
    }

    #[test]
    fn a_wrong_solution_replaces_its_region_and_keeps_the_others() {
        let text = "\
// mistake: the newest goes first
// expect: oldest
// region: pop

if self.0.is_empty() {
    return None;
}
self.0.pop()

";
        let wrong = parse(Path::new("exercises/wrong/q/lifo.rs"), text).unwrap();
        assert_eq!(wrong.name(), "lifo");
        assert_eq!(wrong.mistake, "the newest goes first");
        assert_eq!(wrong.expect, ["oldest"]);
        let file = wrong.apply(&exercise(), SOURCE).unwrap();
        assert!(!file.contains("todo!(\""), "{file}");
        assert!(file.contains("        self.0.push(x);\n"), "{file}");
        assert!(
            file.contains("        if self.0.is_empty() {\n            return None;\n        }\n        self.0.pop()\n    }\n"),
            "{file}"
        );
        assert!(!file.contains("remove(0)"), "{file}");
        assert!(!file.contains("// hint:"), "{file}");
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let at = Path::new("x.rs");
        assert!(
            parse(at, "// region: pop\nx")
                .unwrap_err()
                .contains("mistake")
        );
        assert!(parse(at, "// mistake: m\n").unwrap_err().contains("region"));
        assert!(
            parse(at, "// mistake: m\nx\n// region: pop\n")
                .unwrap_err()
                .contains("line 2")
        );
        let wrong = parse(at, "// mistake: m\n// region: peek\nx\n").unwrap();
        let error = wrong.apply(&exercise(), SOURCE).unwrap_err();
        assert!(error.contains("push, pop"), "{error}");
    }
}
