//! The part of TOML that the course's own files use, read and written without a TOML crate.
//!
//! Three files are TOML: the exercise catalog (`exercises/exercises.toml`), the learner's
//! progress (`.learn-progress.toml`) and the puzzle manifest (`tests/puzzles/puzzles.toml`,
//! read by `tests/node_conformance.rs`, which includes this file). The `toml` crate and serde
//! were most of the console's cold build (issue 11: time to a learner's first feedback), for
//! files that use a small, fixed part of the language. This module reads exactly that part:
//!
//! - `[name]` tables and `[[name]]` arrays of tables, one level deep; keys bare
//!   (`A-Za-z0-9_-`) or in double quotes;
//! - `key = value`, where a value is a string (`"basic"` with escapes, `'literal'`, and both
//!   multi-line forms `"""…"""` and `'''…'''`), a decimal integer, `true`/`false`, an array
//!   (across lines, with comments and a trailing comma) or an inline table `{ k = v, … }`;
//! - `#` comments and blank lines.
//!
//! Anything else — dotted keys, floats, dates, hexadecimal integers — is an [`Error`] naming
//! its line, never a panic and never a silently wrong value: a file the course writes by hand
//! can then only grow by adding what this module reads, with a test.
//!
//! ```text
//! [p08-timer-in-timer]
//! alt = ["p08.alt.out"]              # a comment
//! env = { UV_THREADPOOL_SIZE = "1" }
//! ```

use std::collections::BTreeMap;
use std::fmt;

/// A table: keys in sorted order (as the `toml` crate's `Table` kept them).
pub type Table = BTreeMap<String, Value>;

/// One value of the subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Any of the four string forms, escapes resolved.
    String(String),
    /// A decimal integer.
    Integer(i64),
    /// `true` or `false`.
    Boolean(bool),
    /// `[a, b]`, or the tables of a `[[name]]` array.
    Array(Vec<Value>),
    /// `{ k = v }`, or a `[name]` table.
    Table(Table),
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(n) => Some(*n),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The table, if this is one.
    pub fn as_table(&self) -> Option<&Table> {
        match self {
            Value::Table(table) => Some(table),
            _ => None,
        }
    }

    /// The value at `key`, if this is a table that has one.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_table().and_then(|table| table.get(key))
    }
}

/// Why a text is not in the subset, and on which line (counted from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The line where reading stopped.
    pub line: usize,
    /// What was wrong there.
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for Error {}

/// `s` as a TOML basic string, quotes included: what [`parse`] reads back as `s`.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Reads a whole file of the subset into its top-level table.
///
/// # Errors
/// The first thing the subset does not allow, with its line: a syntax error, a key given
/// twice, a table opened twice, or TOML this module does not read (see the module docs).
pub fn parse(text: &str) -> Result<Table, Error> {
    let mut reader = Reader { text, pos: 0 };
    let mut root = Table::new();
    // Where `key = value` lines go: the root, a `[name]` table, or the last `[[name]]` table.
    let mut current: Option<(String, bool)> = None;
    loop {
        reader.skip_blank_lines_and_comments();
        if reader.at_end() {
            return Ok(root);
        }
        if reader.eat("[[") {
            let name = reader.key()?;
            reader.expect("]]")?;
            reader.end_of_line()?;
            match root
                .entry(name.clone())
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                Value::Array(tables) if tables.iter().all(|t| t.as_table().is_some()) => {
                    tables.push(Value::Table(Table::new()));
                }
                _ => {
                    return Err(
                        reader.error(format!("`{name}` is already a value, not [[{name}]]"))
                    );
                }
            }
            current = Some((name, true));
        } else if reader.eat("[") {
            let name = reader.key()?;
            reader.expect("]")?;
            reader.end_of_line()?;
            if root.contains_key(&name) {
                return Err(reader.error(format!("`{name}` is defined twice")));
            }
            root.insert(name.clone(), Value::Table(Table::new()));
            current = Some((name, false));
        } else {
            let table = match &current {
                None => &mut root,
                Some((name, is_array)) => table_named(&mut root, name, *is_array),
            };
            reader.key_value_into(table)?;
            reader.end_of_line()?;
        }
    }
}

/// The table that `[name]` (or the last `[[name]]`) opened: [`parse`] has just put it there.
fn table_named<'t>(root: &'t mut Table, name: &str, is_array: bool) -> &'t mut Table {
    let value = root.get_mut(name).expect("the header inserted it");
    let value = if is_array {
        match value {
            Value::Array(tables) => tables.last_mut().expect("the header pushed one"),
            _ => unreachable!("the header made it an array"),
        }
    } else {
        value
    };
    match value {
        Value::Table(table) => table,
        _ => unreachable!("headers open tables"),
    }
}

/// A position in the text being read.
struct Reader<'a> {
    text: &'a str,
    /// A byte offset, always on a character boundary.
    pos: usize,
}

impl Reader<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn line(&self) -> usize {
        self.text[..self.pos].matches('\n').count() + 1
    }

    fn error(&self, message: impl Into<String>) -> Error {
        Error {
            line: self.line(),
            message: message.into(),
        }
    }

    fn expect(&mut self, s: &str) -> Result<(), Error> {
        self.skip_spaces();
        if self.eat(s) {
            Ok(())
        } else {
            Err(self.error(format!("expected `{s}`, found {}", self.found())))
        }
    }

    /// What is at the current position, for an error message.
    fn found(&self) -> String {
        match self.peek() {
            None => "the end of the file".to_string(),
            Some('\n') => "the end of the line".to_string(),
            Some(c) => format!("`{c}`"),
        }
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
    }

    fn skip_comment(&mut self) {
        if self.peek() == Some('#') {
            let end = self
                .rest()
                .find('\n')
                .map_or(self.text.len(), |i| self.pos + i);
            self.pos = end;
        }
    }

    fn skip_blank_lines_and_comments(&mut self) {
        loop {
            self.skip_spaces();
            self.skip_comment();
            if !(self.eat("\n") || self.eat("\r\n")) {
                return;
            }
        }
    }

    /// After a header or a key-value pair: only spaces and a comment before the line ends.
    fn end_of_line(&mut self) -> Result<(), Error> {
        self.skip_spaces();
        self.skip_comment();
        if self.at_end() || self.eat("\n") || self.eat("\r\n") {
            Ok(())
        } else {
            Err(self.error(format!(
                "expected the end of the line, found {}",
                self.found()
            )))
        }
    }

    /// A bare or double-quoted key.
    fn key(&mut self) -> Result<String, Error> {
        self.skip_spaces();
        let key = if self.peek() == Some('"') {
            self.pos += 1;
            self.basic_string()?
        } else {
            let len = self
                .rest()
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(self.rest().len());
            if len == 0 {
                return Err(self.error(format!("expected a key, found {}", self.found())));
            }
            let key = self.rest()[..len].to_string();
            self.pos += len;
            key
        };
        self.skip_spaces();
        if self.peek() == Some('.') {
            return Err(self.error("dotted keys are not read here: write a table"));
        }
        Ok(key)
    }

    /// `key = value`, put into `table`.
    fn key_value_into(&mut self, table: &mut Table) -> Result<(), Error> {
        let key = self.key()?;
        self.expect("=")?;
        let value = self.value()?;
        if table.contains_key(&key) {
            return Err(self.error(format!("`{key}` is defined twice")));
        }
        table.insert(key, value);
        Ok(())
    }

    fn value(&mut self) -> Result<Value, Error> {
        self.skip_spaces();
        if self.eat("\"\"\"") {
            return self.multiline_basic_string().map(Value::String);
        }
        if self.eat("'''") {
            return self.multiline_literal_string().map(Value::String);
        }
        if self.eat("\"") {
            return self.basic_string().map(Value::String);
        }
        if self.eat("'") {
            return self.literal_string().map(Value::String);
        }
        if self.eat("[") {
            return self.array();
        }
        if self.eat("{") {
            return self.inline_table();
        }
        if self.eat("true") {
            return Ok(Value::Boolean(true));
        }
        if self.eat("false") {
            return Ok(Value::Boolean(false));
        }
        self.integer()
    }

    fn integer(&mut self) -> Result<Value, Error> {
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || "+-_.:".contains(c)))
            .unwrap_or(self.rest().len());
        let word = &self.rest()[..len];
        if word.is_empty() {
            return Err(self.error(format!("expected a value, found {}", self.found())));
        }
        let digits = word.strip_prefix(['+', '-']).unwrap_or(word);
        let well_formed = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
            && !digits.starts_with('_')
            && !digits.ends_with('_')
            && !digits.contains("__")
            && (digits == "0" || !digits.starts_with('0'));
        let number = well_formed
            .then(|| word.replace('_', "").parse::<i64>().ok())
            .flatten()
            .ok_or_else(|| {
                self.error(format!(
                    "`{word}` is not a value read here (strings, decimal integers, true/false, \
                     arrays and inline tables)"
                ))
            })?;
        self.pos += len;
        Ok(Value::Integer(number))
    }

    /// After the opening `"`: up to and including the closing one.
    fn basic_string(&mut self) -> Result<String, Error> {
        let mut out = String::new();
        loop {
            let c = match self.peek() {
                None | Some('\n') => {
                    return Err(self.error("a string is not closed on its line"));
                }
                Some(c) => c,
            };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => out.push(self.escape()?),
                c if c.is_control() && c != '\t' => {
                    return Err(self.error("a control character in a string must be escaped"));
                }
                c => out.push(c),
            }
        }
    }

    /// After the opening `'`: up to and including the closing one, nothing escaped.
    fn literal_string(&mut self) -> Result<String, Error> {
        let len = self
            .rest()
            .find(['\'', '\n'])
            .filter(|&i| self.rest()[i..].starts_with('\''))
            .ok_or_else(|| self.error("a string is not closed on its line"))?;
        let s = self.rest()[..len].to_string();
        self.pos += len + 1;
        Ok(s)
    }

    /// After the opening `"""`: up to and including the closing one. A newline right after
    /// the opening is dropped, and a `\` at the end of a line joins it to the next.
    fn multiline_basic_string(&mut self) -> Result<String, Error> {
        let _ = self.eat("\n") || self.eat("\r\n");
        let mut out = String::new();
        loop {
            // The string ends at the last quote of the first run of three or more; up to
            // two quotes before those three belong to it (`""""a""""` is `"a"`).
            let quotes = self.rest().len() - self.rest().trim_start_matches('"').len();
            if quotes >= 3 {
                if quotes > 5 {
                    return Err(self.error("too many quotes to end a \"\"\" string"));
                }
                out.push_str(&"\"".repeat(quotes - 3));
                self.pos += quotes;
                return Ok(out);
            }
            match self.bump() {
                None => return Err(self.error("a \"\"\" string is not closed")),
                Some('\\') if self.line_ending_backslash() => {
                    while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
                        self.pos += 1;
                    }
                }
                Some('\\') => out.push(self.escape()?),
                Some(c) if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {
                    return Err(self.error("a control character in a string must be escaped"));
                }
                Some(c) => out.push(c),
            }
        }
    }

    /// After a `\` in a `"""` string: only spaces before the line ends.
    fn line_ending_backslash(&self) -> bool {
        let rest = self.rest().trim_start_matches([' ', '\t']);
        rest.starts_with('\n') || rest.starts_with("\r\n")
    }

    /// After the opening `'''`: up to and including the closing one, nothing escaped.
    fn multiline_literal_string(&mut self) -> Result<String, Error> {
        let _ = self.eat("\n") || self.eat("\r\n");
        let len = self
            .rest()
            .find("'''")
            .ok_or_else(|| self.error("a ''' string is not closed"))?;
        let s = self.rest()[..len].to_string();
        self.pos += len + 3;
        Ok(s)
    }

    /// After a `\`: the character the escape stands for.
    fn escape(&mut self) -> Result<char, Error> {
        let c = match self.bump() {
            Some('"') => '"',
            Some('\\') => '\\',
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some(u @ ('u' | 'U')) => {
                let len = if u == 'u' { 4 } else { 8 };
                let hex = self.rest().get(..len).unwrap_or("");
                let c = (hex.len() == len && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| u32::from_str_radix(hex, 16).ok().and_then(char::from_u32))
                    .flatten()
                    .ok_or_else(|| self.error(format!("`\\{u}{hex}` is not a character")))?;
                self.pos += len;
                c
            }
            other => {
                let shown = other.map_or(String::new(), String::from);
                return Err(self.error(format!("`\\{shown}` is not an escape")));
            }
        };
        Ok(c)
    }

    /// After the opening `[`: elements separated by commas, over any number of lines.
    fn array(&mut self) -> Result<Value, Error> {
        let mut items = Vec::new();
        loop {
            self.skip_blank_lines_and_comments();
            if self.eat("]") {
                return Ok(Value::Array(items));
            }
            items.push(self.value()?);
            self.skip_blank_lines_and_comments();
            if !self.eat(",") {
                self.skip_blank_lines_and_comments();
                return if self.eat("]") {
                    Ok(Value::Array(items))
                } else {
                    Err(self.error(format!(
                        "expected `,` or `]` in an array, found {}",
                        self.found()
                    )))
                };
            }
        }
    }

    /// After the opening `{`: `key = value` pairs separated by commas, on one line.
    fn inline_table(&mut self) -> Result<Value, Error> {
        let mut table = Table::new();
        self.skip_spaces();
        if self.eat("}") {
            return Ok(Value::Table(table));
        }
        loop {
            self.key_value_into(&mut table)?;
            self.skip_spaces();
            if self.eat("}") {
                return Ok(Value::Table(table));
            }
            if !self.eat(",") {
                return Err(self.error(format!(
                    "expected `,` or `}}` in an inline table, found {}",
                    self.found()
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> Value {
        Value::String(s.to_string())
    }

    #[test]
    fn tables_arrays_of_tables_and_every_value_form() {
        let text = r#"
# a comment
top = 1
[[exercise]]
name = "stack"   # trailing comment
hint = """
A nudge
on two lines."""
[[exercise]]
name = 'heap'
n = -1_000
yes = true
[p01-main]
alt = [
    "a.out", # first
    "b.out",
]
env = { UV_THREADPOOL_SIZE = "1", other = 'x' }
"quoted key" = "tab\there \"q\" \u00e9"
raw = '''
C:\path'''
"#;
        let table = parse(text).unwrap();
        assert_eq!(table["top"], Value::Integer(1));
        let exercises = table["exercise"].as_array().unwrap();
        assert_eq!(exercises.len(), 2);
        assert_eq!(exercises[0].get("name"), Some(&string("stack")));
        assert_eq!(
            exercises[0].get("hint"),
            Some(&string("A nudge\non two lines."))
        );
        assert_eq!(exercises[1].get("name"), Some(&string("heap")));
        assert_eq!(exercises[1].get("n"), Some(&Value::Integer(-1000)));
        assert_eq!(exercises[1].get("yes"), Some(&Value::Boolean(true)));
        let puzzle = &table["p01-main"];
        assert_eq!(
            puzzle.get("alt"),
            Some(&Value::Array(vec![string("a.out"), string("b.out")]))
        );
        let env = puzzle.get("env").and_then(Value::as_table).unwrap();
        assert_eq!(env["UV_THREADPOOL_SIZE"], string("1"));
        assert_eq!(env["other"], string("x"));
        assert_eq!(
            puzzle.get("quoted key"),
            Some(&string("tab\there \"q\" \u{e9}"))
        );
        assert_eq!(puzzle.get("raw"), Some(&string("C:\\path")));
    }

    #[test]
    fn a_line_ending_backslash_joins_lines_and_crlf_is_a_line_end() {
        let table = parse("a = \"\"\"one \\\r\n    two\"\"\"\r\nb = 2\r\n").unwrap();
        assert_eq!(table["a"], string("one two"));
        assert_eq!(table["b"], Value::Integer(2));
    }

    #[test]
    fn quoted_reads_back_as_itself() {
        for s in [
            "plain",
            "with \"quotes\"",
            "back\\slash",
            "new\nline",
            "\u{1}",
            "é ü",
        ] {
            let table = parse(&format!("k = {}", quoted(s))).unwrap();
            assert_eq!(table["k"], string(s), "{}", quoted(s));
        }
    }

    #[test]
    fn malformed_input_is_an_error_with_its_line() {
        let cases = [
            ("[heap\nresult = ", 1, "expected `]`"),
            ("a = 1\nb = \"open\n", 2, "not closed"),
            ("a = 1\na = 2", 2, "defined twice"),
            ("[t]\n[t]", 2, "defined twice"),
            ("t = 1\n[[t]]", 2, "already a value"),
            ("a.b = 1", 1, "dotted keys"),
            ("a = 1.5", 1, "not a value read here"),
            ("a = 0x10", 1, "not a value read here"),
            ("a = 1979-05-27", 1, "not a value read here"),
            ("a = 99999999999999999999", 1, "not a value read here"),
            ("a = 1 2", 1, "end of the line"),
            ("a = [1, 2", 1, "expected `,` or `]`"),
            ("a = { b = 1", 1, "expected `,` or `}`"),
            ("a = \"\\q\"", 1, "not an escape"),
            ("a = \"\\uD800\"", 1, "not a character"),
            ("a = \"\"\"never closed", 1, "not closed"),
            ("= 1", 1, "expected a key"),
            ("a =", 1, "expected a value"),
            ("\n\nnot = [toml", 3, "not a value read here"),
        ];
        for (text, line, words) in cases {
            let err = parse(text).expect_err(text);
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert!(err.message.contains(words), "{text:?}: {err}");
        }
    }

    #[test]
    fn every_prefix_of_a_file_is_read_or_refused_never_a_panic() {
        let text = "[[e]]\nname = \"st\\u00e9ck\" # é\nhint = \"\"\"\nA \\\n b\"\"\"\n\
                    [p]\nalt = ['x', \"y\",]\nenv = { K = \"1\" }\nn = -12\n";
        parse(text).unwrap();
        for (end, _) in text.char_indices() {
            let _ = parse(&text[..end]);
        }
    }
}
