//! `cargo learn mutants [exercise]` (maintainers): how strong are an exercise's tests?
//!
//! Kept wrong solutions (`exercises/wrong/`) are the mistakes we thought of. Mutants are the
//! ones we did not: small mechanical changes to the reference code of each exercise region —
//! a comparison turned round (`<` into `<=`), `&&` into `||`, `+` into `-`, a `!` dropped,
//! `true` into `false`, a number moved by one, `pop_front` into `pop_back` and the like, or a
//! statement deleted. Each one is built and tested like a wrong solution, in the scratch tree:
//! a mutant the tests reject is *caught*; one that does not compile is *unviable* and does not
//! count; one that passes every test is *missed*. A missed mutant is either a test to write,
//! or *equivalent* — it behaves exactly like the reference — and then it is listed, with the
//! reason, in `exercises/wrong/<exercise>/EQUIVALENT` (one `id | reason` per line).
//!
//! Only the regions are mutated: they are what the learner writes and the tests must judge.
//! The mutants of an exercise are built together ([`crate::batch`]), then tested one by one:
//! still slow (a test run per mutant), and so a maintainer's command, not part of CI.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::catalog::Exercise;
use crate::generate::{self, Region};
use crate::wrong::WrongSolution;

/// One mechanical change to one line of a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutant {
    /// The function whose region is changed.
    pub function: String,
    /// 1-based line within the region's code (marker lines not counted).
    pub line: usize,
    /// What was changed, e.g. "replace < with <=".
    pub change: String,
    /// The region's code with the change, without the region's indentation.
    pub code: String,
}

impl Mutant {
    /// The mutant's name in reports and in `EQUIVALENT`: `take_next:3: replace < with <=`.
    pub fn id(&self) -> String {
        format!("{}:{}: {}", self.function, self.line, self.change)
    }

    /// The mutant as a wrong solution, to build and test like one.
    pub fn as_wrong_solution(&self, exercise: &Exercise) -> WrongSolution {
        WrongSolution {
            path: PathBuf::from(format!("mutants/{}/{}", exercise.name, self.id())),
            mistake: self.id(),
            expect: Vec::new(),
            bodies: vec![(self.function.clone(), self.code.clone())],
        }
    }
}

/// Textual replacements tried at every place they match (outside strings and comments).
/// Binary operators need their spaces, as rustfmt writes them, so that `Vec<u8>`, `->` and
/// `=>` are never taken for comparisons.
const REPLACEMENTS: &[(&str, &str)] = &[
    (" < ", " <= "),
    (" <= ", " < "),
    (" > ", " >= "),
    (" >= ", " > "),
    (" == ", " != "),
    (" != ", " == "),
    (" && ", " || "),
    (" || ", " && "),
    (" + ", " - "),
    (" - ", " + "),
    (" += ", " -= "),
    (" -= ", " += "),
    (" * ", " + "),
    (" / ", " * "),
    ("true", "false"),
    ("false", "true"),
    ("pop_front", "pop_back"),
    ("pop_back", "pop_front"),
    ("push_back", "push_front"),
    ("push_front", "push_back"),
    ("first", "last"),
    ("last", "first"),
    (".rev()", ""),
    (".min(", ".max("),
    (".max(", ".min("),
    ("checked_add", "wrapping_add"),
    ("continue", "break"),
    ("break", "continue"),
    ("Some(0)", "None"),
];

/// Every mutant of `exercise`'s regions in `source`.
///
/// # Errors
/// When the source's markers are broken.
pub fn mutants(source: &str) -> Result<Vec<Mutant>, String> {
    let regions = generate::regions(source).map_err(|e| e.to_string())?;
    let lines: Vec<&str> = source.lines().collect();
    let mut found = Vec::new();
    for region in &regions {
        let code = region_code(&lines, region);
        for (i, line) in code.iter().enumerate() {
            let mut mutate = |change: String, new_line: Option<String>| {
                let mut body = code.clone();
                match new_line {
                    Some(l) => body[i] = l,
                    None => {
                        body.remove(i);
                    }
                }
                found.push(Mutant {
                    function: region.function.clone(),
                    line: i + 1,
                    change,
                    code: body.iter().map(|l| format!("{l}\n")).collect(),
                });
            };
            let mask = code_mask(line);
            for (from, to) in REPLACEMENTS {
                for at in occurrences(line, &mask, from) {
                    let new_line = format!("{}{to}{}", &line[..at], &line[at + from.len()..]);
                    let change = format!("replace `{}` with `{}`", from.trim(), to.trim());
                    let change = if to.is_empty() {
                        format!("delete `{}`", from.trim())
                    } else {
                        change
                    };
                    mutate(change, Some(new_line));
                }
            }
            for at in negations(line, &mask) {
                let new_line = format!("{}{}", &line[..at], &line[at + 1..]);
                mutate("delete `!`".into(), Some(new_line));
            }
            for (at, len, value) in small_numbers(line, &mask) {
                for other in [value.wrapping_sub(1), value + 1] {
                    if other == value || (value == 0 && other == u64::MAX) {
                        continue;
                    }
                    let new_line = format!("{}{other}{}", &line[..at], &line[at + len..]);
                    mutate(format!("replace {value} with {other}"), Some(new_line));
                }
            }
            let code_only: String = line
                .char_indices()
                .filter(|(i, _)| mask[*i])
                .map(|(_, c)| c)
                .collect();
            if is_deletable_statement(&code_only) {
                mutate(format!("delete `{}`", line.trim()), None);
            }
        }
    }
    // The same change twice on one line (`a > 0 || b > 0`): the second one's id says which.
    let mut seen: Vec<String> = Vec::new();
    for mutant in &mut found {
        let id = mutant.id();
        let earlier = seen.iter().filter(|s| **s == id).count();
        seen.push(id);
        if earlier > 0 {
            mutant.change = format!("{} (occurrence {})", mutant.change, earlier + 1);
        }
    }
    Ok(found)
}

/// The lines of a region's code, without marker lines and without its indentation.
pub fn region_code(lines: &[&str], region: &Region) -> Vec<String> {
    let body: Vec<&str> = lines[region.start_line..region.end_line - 1]
        .iter()
        .copied()
        .filter(|l| {
            let t = l.trim_start();
            !(t.starts_with("// contract:")
                || t.starts_with("// nudge:")
                || t.starts_with("// hint:"))
        })
        .collect();
    let indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    body.iter()
        .map(|l| {
            if l.len() >= indent {
                l[indent..].to_string()
            } else {
                String::new()
            }
        })
        .collect()
}

/// For each byte of `line`: true when it is code (not inside a string literal or a comment).
fn code_mask(line: &str) -> Vec<bool> {
    let bytes = line.as_bytes();
    let mut mask = vec![true; bytes.len()];
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            mask[i] = false;
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
        } else if c == b'"' {
            in_string = true;
            mask[i] = false;
        } else if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            for m in &mut mask[i..] {
                *m = false;
            }
            break;
        }
        i += 1;
    }
    mask
}

/// Where `pattern` occurs in code (not strings or comments); for words, only whole words.
fn occurrences(line: &str, mask: &[bool], pattern: &str) -> Vec<usize> {
    let word = pattern.chars().all(|c| c.is_alphanumeric() || c == '_');
    let is_ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    line.match_indices(pattern)
        .map(|(at, _)| at)
        .filter(|&at| mask[at..at + pattern.len()].iter().all(|&m| m))
        .filter(|&at| {
            if !word {
                return true;
            }
            let before = line[..at].chars().next_back();
            let after = line[at + pattern.len()..].chars().next();
            // `first` in `first_key_value` or `pop_first` is a word part: still a swap to try,
            // as long as the whole identifier changes into a real one; plain words only.
            let ident_start = line[..at]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |p| p + 1);
            let ident_end = line[at..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(line.len(), |p| at + p);
            let ident = &line[ident_start..ident_end];
            KNOWN_IDENTS.contains(&ident) || (!is_ident(before) && !is_ident(after))
        })
        .collect()
}

/// Identifiers in which a word of [`REPLACEMENTS`] may be swapped (std methods that come in
/// pairs).
const KNOWN_IDENTS: &[&str] = &["first_key_value", "last_key_value", "pop_first", "pop_last"];

/// Where a `!` negates an expression (not `!=`, not a macro's `!`).
fn negations(line: &str, mask: &[bool]) -> Vec<usize> {
    let bytes = line.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i] == b'!' && mask[i])
        .filter(|&i| bytes.get(i + 1) != Some(&b'='))
        .filter(|&i| {
            let before = line[..i].chars().next_back();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
        .collect()
}

/// Integer literals up to 8 (where, how long, value): the off-by-ones.
fn small_numbers(line: &str, mask: &[bool]) -> Vec<(usize, usize, u64)> {
    let bytes = line.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && mask[i] {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let before = line[..start].chars().next_back();
            let after = line[i..].chars().next();
            let in_ident = before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                || after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
            if !in_ident
                && let Ok(value) = line[start..i].parse::<u64>()
                && value <= 8
            {
                found.push((start, i - start, value));
            }
        } else {
            i += 1;
        }
    }
    found
}

/// A whole statement on one line whose deletion may compile: a call or an assignment ending
/// in `;`, with balanced brackets, that binds nothing.
fn is_deletable_statement(line: &str) -> bool {
    let t = line.trim();
    if !t.ends_with(';') || t.starts_with("let ") || t.starts_with("//") || t.starts_with("return")
    {
        return false;
    }
    let mut depth = 0i32;
    for c in t.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// The mutants listed as equivalent for `exercise`, with their reasons.
///
/// # Errors
/// When the file exists but cannot be read.
pub fn equivalents(root: &Path, exercise: &Exercise) -> io::Result<Vec<(String, String)>> {
    let path = root.join(crate::wrong::folder(exercise)).join("EQUIVALENT");
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once(" | "))
        .map(|(id, why)| (id.trim().to_string(), why.trim().to_string()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "\
//! Q.
impl Q {
    fn pop(&mut self) -> Option<u32> {
        // exercise: take the oldest
        // contract: The oldest leaves.
        if self.items.len() > 0 && !self.closed {
            self.count += 1;
        }
        self.log(\"a < b\"); // x < y
        self.items.pop_front()
        // end exercise
    }
}
";

    #[test]
    fn mutants_change_one_thing_in_the_code_and_never_strings_or_comments() {
        let found = mutants(SOURCE).unwrap();
        let ids: Vec<String> = found.iter().map(Mutant::id).collect();
        for expected in [
            "pop:1: replace `>` with `>=`",
            "pop:1: replace `&&` with `||`",
            "pop:1: delete `!`",
            "pop:1: replace 0 with 1",
            "pop:2: replace `+=` with `-=`",
            "pop:2: replace 1 with 0",
            "pop:2: replace 1 with 2",
            "pop:2: delete `self.count += 1;`",
            "pop:4: delete `self.log(\"a < b\"); // x < y`",
            "pop:5: replace `pop_front` with `pop_back`",
        ] {
            assert!(
                ids.contains(&expected.to_string()),
                "{expected} in {ids:#?}"
            );
        }
        assert!(
            !ids.iter().any(|id| id.starts_with("pop:4: replace")),
            "nothing inside a string or a comment: {ids:#?}"
        );
        // The same change at two places of a line: two mutants, two ids.
        let twice = "impl L {\n    fn alive(&self) -> bool {\n        // exercise: e\n        \
                     // contract: c\n        self.a > 0 || self.b > 0\n        // end exercise\n    \
                     }\n}\n";
        let ids: Vec<String> = mutants(twice).unwrap().iter().map(Mutant::id).collect();
        assert!(
            ids.contains(&"alive:1: replace 0 with 1".to_string()),
            "{ids:#?}"
        );
        assert!(
            ids.contains(&"alive:1: replace 0 with 1 (occurrence 2)".to_string()),
            "{ids:#?}"
        );
        let swapped = found
            .iter()
            .find(|m| m.id() == "pop:5: replace `pop_front` with `pop_back`")
            .unwrap();
        assert!(
            swapped.code.ends_with("self.items.pop_back()\n"),
            "{}",
            swapped.code
        );
        assert!(
            swapped.code.starts_with("if self.items.len() > 0"),
            "{}",
            swapped.code
        );
    }
}
