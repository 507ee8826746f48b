//! The work left in a learner's exercise file: each `todo!()` and the `// TODO` above it.
//!
//! The generator writes every piece of work as
//!
//! ```text
//!     // TODO: take the oldest item.
//!     // The oldest item is at the front.
//!     todo!("take the oldest item")
//! ```
//!
//! so the comment block right above a `todo!()` is its inline hint.

/// One `todo!()` left in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    /// 1-based line of the `todo!()`.
    pub line: usize,
    /// The comment lines above it: the `// TODO` and its hints.
    pub comment: Vec<Numbered>,
    /// The `todo!()` line itself.
    pub code: String,
}

/// A line of the file and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbered {
    /// 1-based.
    pub number: usize,
    /// The text, as indented in the file.
    pub text: String,
}

/// Every `todo!()` still in `source`, in file order.
pub fn todos(source: &str) -> Vec<Todo> {
    let lines: Vec<&str> = source.lines().collect();
    (0..lines.len())
        .filter(|&i| {
            let code = lines[i].trim_start();
            code.starts_with("todo!(") || code.starts_with("todo!()")
        })
        .map(|i| Todo {
            line: i + 1,
            comment: comment_above(&lines, i),
            code: lines[i].to_string(),
        })
        .collect()
}

/// The comment block above `line` (1-based) of `source`: the inline hint of the `todo!()`
/// there, or of whatever the learner wrote in its place.
pub fn hint_at(source: &str, line: usize) -> Vec<Numbered> {
    let lines: Vec<&str> = source.lines().collect();
    if line == 0 || line > lines.len() {
        return Vec::new();
    }
    comment_above(&lines, line - 1)
}

/// Up to the `// TODO` that starts the block (or the first non-comment line).
fn comment_above(lines: &[&str], index: usize) -> Vec<Numbered> {
    let mut block = Vec::new();
    for i in (0..index).rev() {
        let text = lines[i].trim();
        if !text.starts_with("//") || text.starts_with("///") {
            break;
        }
        block.push(Numbered {
            number: i + 1,
            text: lines[i].to_string(),
        });
        if text.starts_with("// TODO") {
            break;
        }
    }
    block.reverse();
    block
}

/// Lines `from..=from+count-1` (1-based) of `source`, numbered, as far as they exist.
pub fn excerpt(source: &str, from: usize, count: usize) -> Vec<Numbered> {
    source
        .lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .take(count)
        .map(|(i, text)| Numbered {
            number: i + 1,
            text: text.to_string(),
        })
        .collect()
}

/// The statement that starts on `line` (1-based): that line and the next ones up to the one
/// ending with `;` where its brackets balance, for showing a failed `assert_eq!` that spans
/// lines.
pub fn statement(source: &str, line: usize) -> Vec<Numbered> {
    let mut lines = excerpt(source, line, MAX_STATEMENT_LINES);
    // The statement ends at the first `;` where every bracket opened since `line` is closed
    // again: an `assert_eq!(` whose arguments span many lines is quoted whole.
    let mut depth = 0i32;
    let end = lines.iter().position(|l| {
        for c in code_part(&l.text).chars() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            }
        }
        depth <= 0 && l.text.trim_end().ends_with(';')
    });
    lines.truncate(end.map_or(1, |end| end + 1));
    lines
}

/// The longest statement [`statement`] quotes whole; a longer one is quoted by its first line.
const MAX_STATEMENT_LINES: usize = 40;

/// A line without its `//` comment, and with string literals blanked, so brackets inside
/// them do not count (good enough for test code: no raw strings with quotes inside).
fn code_part(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An exercise file with two `todo!()`s, one with a hint above it. It lives outside
    /// `src/` so that the reference holds no `todo!()` of its own.
    const FILE: &str = include_str!("../../../tests/fixtures/exercise_with_todos.rs.txt");

    #[test]
    fn a_long_assertion_is_quoted_whole() {
        let source = "\
fn t() {
    assert_eq!(
        log,
        [
            \"a (\",
            \"b\", // a comment with ( in it
            \"c\",
            \"d\",
        ],
        \"the order\"
    );
    next();
}
";
        let quoted: Vec<_> = statement(source, 2).iter().map(|l| l.number).collect();
        assert_eq!(quoted, (2..=11).collect::<Vec<_>>());
        let one: Vec<_> = statement(source, 12).iter().map(|l| l.number).collect();
        assert_eq!(one, [12]);
    }

    #[test]
    fn each_todo_comes_with_its_comment() {
        let found = todos(FILE);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].line, 4);
        assert_eq!(found[0].code.trim(), "todo!(\"add an item at the back\")");
        let comment: Vec<_> = found[0].comment.iter().map(|c| c.number).collect();
        assert_eq!(comment, [2, 3]);
        assert_eq!(found[1].line, 9);
        assert!(found[1].comment.is_empty(), "a doc comment is not a hint");
    }

    #[test]
    fn the_hint_above_a_line_is_found_even_after_edits() {
        let hint = hint_at(FILE, 4);
        assert_eq!(hint[0].text, "    // TODO: add an item at the back.");
        assert!(hint_at(FILE, 0).is_empty());
        assert!(hint_at(FILE, 99).is_empty());
    }

    #[test]
    fn a_statement_runs_to_its_semicolon() {
        let source = "assert_eq!(\n    a,\n    b\n);\nnext();\n";
        let lines: Vec<_> = statement(source, 1).into_iter().map(|l| l.number).collect();
        assert_eq!(lines, [1, 2, 3, 4]);
        assert_eq!(statement(source, 5).len(), 1);
        assert!(statement(source, 40).is_empty());
    }
}
