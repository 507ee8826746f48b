//! Drawing text: colour and layout on a terminal, plain text everywhere else.
//!
//! Views build a [`Doc`] (lines of spans, each with a [`Tone`]) and never print. A [`Console`]
//! writes a `Doc`: with colours when stdout is a terminal and `NO_COLOR` is not set, as plain
//! text otherwise. Writes are queued and flushed once, so a redraw never flickers half-done.

use std::io::{self, IsTerminal, Write};

use crossterm::cursor::MoveTo;
use crossterm::queue;
use crossterm::style::{Attribute, Color, Print, ResetColor, SetAttribute, SetForegroundColor};
use crossterm::terminal::{Clear, ClearType};

/// What a piece of text is, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Ordinary text.
    Normal,
    /// A title.
    Heading,
    /// Something that went well: a solved exercise, passing tests.
    Good,
    /// Something that failed.
    Bad,
    /// Something to pay attention to.
    Warn,
    /// Secondary text.
    Dim,
    /// Source code to look at.
    Code,
    /// A command to type; plain text puts it in backticks.
    Command,
}

impl Tone {
    fn color(self) -> Option<Color> {
        match self {
            Tone::Normal | Tone::Heading => None,
            Tone::Good => Some(Color::Green),
            Tone::Bad => Some(Color::Red),
            Tone::Warn => Some(Color::Yellow),
            Tone::Dim => Some(Color::DarkGrey),
            Tone::Code | Tone::Command => Some(Color::Cyan),
        }
    }
}

/// One line of text: spans of toned text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line(pub Vec<(Tone, String)>);

impl Line {
    /// A line of one span.
    pub fn new(tone: Tone, text: impl Into<String>) -> Line {
        Line(vec![(tone, text.into())])
    }

    /// Adds a span.
    pub fn and(mut self, tone: Tone, text: impl Into<String>) -> Line {
        self.0.push((tone, text.into()));
        self
    }

    /// The text as plain output shows it.
    #[cfg(test)]
    pub fn plain(&self) -> String {
        self.0
            .iter()
            .map(|(tone, text)| match tone {
                Tone::Command => format!("`{text}`"),
                _ => text.clone(),
            })
            .collect()
    }
}

/// Lines to draw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Doc {
    lines: Vec<Line>,
}

impl Doc {
    /// An empty document.
    pub fn new() -> Doc {
        Doc::default()
    }

    /// Adds a line.
    pub fn push(&mut self, line: Line) {
        self.lines.push(line);
    }

    /// Adds a line of one tone.
    pub fn text(&mut self, tone: Tone, text: impl Into<String>) {
        self.push(Line::new(tone, text));
    }

    /// Adds an empty line, unless the document already ends with one.
    pub fn blank(&mut self) {
        if !self.ends_blank() {
            self.lines.push(Line::default());
        }
    }

    /// Adds every line of `other`, never making two empty lines in a row.
    pub fn append(&mut self, other: Doc) {
        let mut lines = other.lines.into_iter().peekable();
        if self.ends_blank() {
            while lines.next_if(|l| l.0.is_empty()).is_some() {}
        }
        self.lines.extend(lines);
    }

    /// The document with every line longer than `width` columns broken between words, the
    /// continuation indented like the line it continues. A terminal would break it mid-word at
    /// its edge. A single word longer than the width stays whole (a path, a command).
    pub fn wrapped(&self, width: usize) -> Doc {
        let mut out = Doc::new();
        for line in &self.lines {
            wrap_line(line, width.max(20), &mut out.lines);
        }
        out
    }

    fn ends_blank(&self) -> bool {
        self.lines.last().is_some_and(|l| l.0.is_empty())
    }

    /// The whole text as plain output shows it, one `\n` per line.
    #[cfg(test)]
    pub fn plain(&self) -> String {
        self.lines.iter().map(|l| l.plain() + "\n").collect()
    }
}

/// Breaks `line` into lines of at most `width` columns, between words, into `out`.
fn wrap_line(line: &Line, width: usize, out: &mut Vec<Line>) {
    let text_width = |s: &str| s.chars().count();
    let plain_width: usize = line.0.iter().map(|(t, s)| span_width(*t, s)).sum();
    if plain_width <= width {
        out.push(line.clone());
        return;
    }
    let first = line.0.first().map_or("", |(_, s)| s.as_str());
    let indent: String = first.chars().take_while(|c| *c == ' ').collect();
    let mut current = Line::default();
    let mut column = 0;
    for (tone, text) in &line.0 {
        // A command is drawn with backticks in plain text: keep it one unbreakable piece.
        let pieces: Vec<&str> = if *tone == Tone::Command {
            vec![text.as_str()]
        } else {
            text.split_inclusive(' ').collect()
        };
        for piece in pieces {
            let w = span_width(*tone, piece);
            let fits = column + text_width(piece.trim_end()) + (w - text_width(piece)) <= width;
            if column > indent.len() && !fits {
                trim_trailing_space(&mut current);
                out.push(std::mem::take(&mut current));
                current.0.push((Tone::Normal, indent.clone()));
                column = indent.len();
                if piece.trim().is_empty() {
                    continue; // no space at the start of a continuation
                }
            }
            push_span(&mut current, *tone, piece);
            column += w;
        }
    }
    trim_trailing_space(&mut current);
    out.push(current);
}

/// How many columns a span takes in plain output (a command gains two backticks).
fn span_width(tone: Tone, text: &str) -> usize {
    text.chars().count() + if tone == Tone::Command { 2 } else { 0 }
}

/// Adds `text` to the last span when it has the same tone, else as a new span.
fn push_span(line: &mut Line, tone: Tone, text: &str) {
    match line.0.last_mut() {
        Some((t, s)) if *t == tone && tone != Tone::Command => s.push_str(text),
        _ => line.0.push((tone, text.to_string())),
    }
}

fn trim_trailing_space(line: &mut Line) {
    if let Some((_, s)) = line.0.last_mut() {
        let trimmed = s.trim_end_matches(' ').len();
        s.truncate(trimmed);
    }
}

/// Where and how documents are written.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    /// Colours and a tidy layout (stdout is a terminal and `NO_COLOR` is unset).
    pub color: bool,
    /// Stdout is a terminal (it can be cleared and redrawn).
    pub terminal: bool,
}

impl Console {
    /// Looks at stdout and the environment.
    pub fn detect() -> Console {
        let terminal = io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        Console {
            color: terminal && !no_color && !dumb,
            terminal,
        }
    }

    /// Prints `doc` on stdout.
    ///
    /// # Errors
    /// When stdout cannot be written (a closed pipe).
    pub fn print(&self, doc: &Doc) -> io::Result<()> {
        let doc = &self.fit(doc);
        let mut out = io::stdout().lock();
        write_doc(&mut out, doc, self.color, "\n")?;
        out.flush()
    }

    /// Clears the terminal and draws `doc` from the top left; `raw` terminals need `\r\n`.
    /// When stdout is not a terminal, appends `doc` under a rule instead.
    ///
    /// # Errors
    /// When stdout cannot be written.
    pub fn redraw(&self, doc: &Doc, raw: bool) -> io::Result<()> {
        let doc = &self.fit(doc);
        let mut out = io::stdout().lock();
        let newline = if raw { "\r\n" } else { "\n" };
        if self.terminal {
            queue!(
                out,
                Clear(ClearType::All),
                Clear(ClearType::Purge),
                MoveTo(0, 0)
            )?;
        } else {
            queue!(out, Print("\n"), Print("-".repeat(72)), Print("\n"))?;
        }
        write_doc(&mut out, doc, self.color, newline)?;
        out.flush()
    }
}

impl Console {
    /// `doc` wrapped to the terminal's width; unchanged when stdout is not a terminal (a log
    /// or a pipe has no edge to wrap at).
    fn fit(&self, doc: &Doc) -> Doc {
        match crossterm::terminal::size() {
            Ok((columns, _)) if self.terminal && columns > 0 => doc.wrapped(columns as usize),
            _ => doc.clone(),
        }
    }
}

/// Queues `doc`'s lines on `out` (does not flush).
fn write_doc(out: &mut impl Write, doc: &Doc, color: bool, newline: &str) -> io::Result<()> {
    for line in &doc.lines {
        for (tone, text) in &line.0 {
            if !color {
                match tone {
                    Tone::Command => queue!(out, Print(format!("`{text}`")))?,
                    _ => queue!(out, Print(text))?,
                }
                continue;
            }
            if *tone == Tone::Heading {
                queue!(out, SetAttribute(Attribute::Bold))?;
            }
            if let Some(c) = tone.color() {
                queue!(out, SetForegroundColor(c))?;
            }
            queue!(out, Print(text), SetAttribute(Attribute::Reset), ResetColor)?;
        }
        queue!(out, Print(newline))?;
    }
    Ok(())
}

/// Prints a message on stderr: `warning: …` or `error: …`.
pub fn complain(label: &str, message: &str) {
    let color = io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut err = io::stderr().lock();
    let tone = if label == "error" {
        Tone::Bad
    } else {
        Tone::Warn
    };
    let mut doc = Doc::new();
    doc.push(Line::new(tone, format!("{label}:")).and(Tone::Normal, format!(" {message}")));
    let _ = write_doc(&mut err, &doc, color, "\n");
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_break_between_words_at_80_and_120_columns() {
        let mut doc = Doc::new();
        let words = "the loop takes the oldest immediate and runs it before the next one ";
        doc.push(
            Line::new(Tone::Normal, format!("  {}", words.repeat(4)))
                .and(Tone::Command, "cargo learn watch threadpool")
                .and(Tone::Normal, " to re-run."),
        );
        for width in [80, 120] {
            let text = doc.wrapped(width).plain();
            let lines: Vec<&str> = text.lines().collect();
            assert!(lines.len() > 1, "{text}");
            for line in &lines {
                assert!(line.chars().count() <= width, "over {width}: {line:?}");
                assert!(!line.ends_with(' '), "trailing space: {line:?}");
                assert!(
                    line.starts_with("  "),
                    "continuations keep the indent: {line:?}"
                );
            }
            // Nothing lost, no word cut in two.
            let rejoined: Vec<&str> = text.split_whitespace().collect();
            let original = doc.plain();
            let expected: Vec<&str> = original.split_whitespace().collect();
            assert_eq!(rejoined, expected, "at {width}");
            assert!(text.contains("`cargo learn watch threadpool`"), "{text}");
        }
        // A short line is left alone.
        let mut short = Doc::new();
        short.text(Tone::Normal, "solved");
        assert_eq!(short.wrapped(80), short);
    }

    #[test]
    fn plain_text_has_no_escape_codes() {
        let mut doc = Doc::new();
        doc.push(Line::new(Tone::Good, "solved").and(Tone::Normal, " queue"));
        doc.blank();
        doc.blank();
        let mut more = Doc::new();
        more.blank();
        doc.append(more);
        let mut out = Vec::new();
        write_doc(&mut out, &doc, false, "\n").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "solved queue\n\n");
        let mut out = Vec::new();
        write_doc(&mut out, &doc, true, "\r\n").unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains('\x1b') && text.ends_with("\r\n\r\n"));
    }
}
