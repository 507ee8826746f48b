//! The compiler's side of `cargo test`: error blocks, and the `file:line:col` locations
//! that rustc and the panics print.

use std::path::{Component, Path, PathBuf};

use super::{CompileError, Location};

/// The first compiler error and how many others there are.
pub fn compile_error(output: &str) -> Option<CompileError> {
    let lines: Vec<&str> = output.lines().collect();
    let is_error = |l: &str| {
        (l.starts_with("error[") || l.starts_with("error:"))
            && !l.starts_with("error: could not compile")
            && !l.starts_with("error: aborting due to")
            && !l.starts_with("error: test failed")
    };
    if !output.contains("error: could not compile") {
        return None;
    }
    let starts: Vec<usize> = (0..lines.len()).filter(|&i| is_error(lines[i])).collect();
    let &first = starts.first()?;
    let body: Vec<&str> = lines[first + 1..]
        .iter()
        .take_while(|l| !l.is_empty())
        .copied()
        .collect();
    let location = body
        .iter()
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .and_then(parse_location);
    let snippet = body
        .iter()
        .filter(|l| !l.trim_start().starts_with("--> "))
        .take(20)
        .map(|l| tidy_text(l))
        .collect();
    Some(CompileError {
        message: lines[first].to_string(),
        location,
        snippet,
        more: starts.len() - 1,
    })
}

/// Parses `file:line:col` (or `file:line`).
pub fn parse_location(text: &str) -> Option<Location> {
    let text = text.trim();
    let mut parts = text.rsplitn(3, ':');
    let last: usize = parts.next()?.parse().ok()?;
    let middle = parts.next()?;
    let (file, line, column) = match (middle.parse::<usize>(), parts.next()) {
        (Ok(line), Some(file)) => (file, line, last),
        _ => (text.rsplit_once(':')?.0, last, 1),
    };
    Some(Location {
        file: tidy_path(file),
        line,
        column,
    })
}

/// Resolves `..` lexically: `src/../exercises/heap.rs` → `exercises/heap.rs`.
fn tidy_path(path: &str) -> String {
    let mut out = PathBuf::new();
    for part in Path::new(path).components() {
        match part {
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out.to_string_lossy().replace('\\', "/")
}

/// Tidies the paths cargo prints inside a compiler snippet.
fn tidy_text(line: &str) -> String {
    line.replace("src/../exercises/", "exercises/")
}
