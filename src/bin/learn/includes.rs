//! Checks the book's `{{#include file:anchor}}` directives.
//!
//! mdBook renders an include of a missing anchor as nothing and still exits 0, so a renamed
//! anchor would silently empty a code block in the book. This check fails instead. It also
//! keeps the book from printing an exercise's answer by accident: an anchor whose code
//! contains an exercise region must be named `…_solution`, so every chapter that shows a
//! solution says so in its own source.

use std::fs;
use std::path::Path;

/// One broken include.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenInclude {
    /// `chapters/<file>.md:<line>`.
    pub place: String,
    /// What is wrong.
    pub problem: String,
}

/// Every broken include in the chapters under `root/chapters`.
pub fn check_book(root: &Path) -> std::io::Result<Vec<BrokenInclude>> {
    let mut broken = Vec::new();
    let chapters = root.join("chapters");
    let mut files: Vec<_> = fs::read_dir(&chapters)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    for file in files {
        let text = fs::read_to_string(&file)?;
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        for (i, line) in text.lines().enumerate() {
            for directive in directives(line) {
                if let Err(problem) = check_directive(&chapters, directive) {
                    broken.push(BrokenInclude {
                        place: format!("chapters/{name}:{}", i + 1),
                        problem,
                    });
                }
            }
        }
    }
    Ok(broken)
}

/// The `path[:anchor]` arguments of the include directives on one line.
fn directives(line: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{#") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let body = &after[..end];
        for command in ["include ", "rustdoc_include ", "playground "] {
            if let Some(arg) = body.strip_prefix(command) {
                found.push(arg.trim());
            }
        }
        rest = &after[end + 2..];
    }
    found
}

fn check_directive(chapters: &Path, argument: &str) -> Result<(), String> {
    // `file:anchor`, `file:10:20` (line ranges: not allowed in this book), or `file`.
    let (path, selector) = match argument.split_once(':') {
        Some((path, selector)) => (path, Some(selector)),
        None => (argument, None),
    };
    let target = chapters.join(path);
    let source = fs::read_to_string(&target).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    let Some(anchor) = selector else {
        return Ok(());
    };
    if anchor.is_empty() || anchor.chars().all(|c| c.is_ascii_digit() || c == ':') {
        return Err(format!(
            "`{argument}` selects lines by number; include by a named ANCHOR instead"
        ));
    }
    let lines: Vec<&str> = source.lines().collect();
    let marker = |kind: &str| {
        lines.iter().position(|l| {
            l.trim_start().trim_start_matches("//").trim() == format!("{kind}: {anchor}")
        })
    };
    let (Some(start), Some(end)) = (marker("ANCHOR"), marker("ANCHOR_END")) else {
        return Err(format!(
            "`{path}` has no ANCHOR/ANCHOR_END pair named `{anchor}`"
        ));
    };
    if end < start {
        return Err(format!(
            "`{path}`: ANCHOR_END {anchor} comes before its ANCHOR"
        ));
    }
    let shows_exercise = lines[start..end]
        .iter()
        .any(|l| l.trim_start().starts_with("// exercise:"));
    if shows_exercise && !anchor.ends_with("_solution") {
        return Err(format!(
            "anchor `{anchor}` in `{path}` contains an exercise's answer; name it `{anchor}_solution` \
             and show it after the chapter's exercise"
        ));
    }
    Ok(())
}
