//! The interactive view, drawn into a [`Canvas`] of any size: the phase ring, the call stack,
//! the queues, the output, the pool, the poll wait and the refs, the current event, the keys.
//! Drawing never touches the terminal, so tests read a screen as lines of text.

use eventloop::trace::Phase;

use super::model::{Entry, JobState, QUEUES, State};

/// How a cell is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Ordinary text.
    Normal,
    /// Frames and secondary text.
    Dim,
    /// Titles.
    Bold,
    /// The current phase, the innermost frame: drawn reversed.
    Lit,
    /// What the program printed.
    Printed,
}

/// A screen's worth of styled characters.
pub struct Canvas {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    cells: Vec<(char, Style)>,
}

impl Canvas {
    /// A blank canvas.
    pub fn new(width: usize, height: usize) -> Canvas {
        Canvas {
            width,
            height,
            cells: vec![(' ', Style::Normal); width * height],
        }
    }

    /// Writes `text` from column `x` of row `y`, cut at `max` columns and at the edge; returns
    /// the columns used.
    pub fn put(&mut self, x: usize, y: usize, text: &str, style: Style, max: usize) -> usize {
        if y >= self.height {
            return 0;
        }
        let mut used = 0;
        for c in text.chars() {
            if used >= max || x + used >= self.width {
                break;
            }
            self.cells[y * self.width + x + used] = (c, style);
            used += 1;
        }
        used
    }

    /// A box with a title; the inside is (x + 1, y + 1, w − 2, h − 2).
    fn frame(&mut self, x: usize, y: usize, w: usize, h: usize, title: &str) {
        if w < 2 || h < 2 {
            return;
        }
        let d = Style::Dim;
        self.put(x, y, &format!("┌{}┐", "─".repeat(w - 2)), d, w);
        for row in y + 1..y + h - 1 {
            self.put(x, row, "│", d, 1);
            self.put(x + w - 1, row, "│", d, 1);
        }
        self.put(x, y + h - 1, &format!("└{}┘", "─".repeat(w - 2)), d, w);
        self.put(
            x + 2,
            y,
            &format!(" {title} "),
            Style::Bold,
            w.saturating_sub(4),
        );
    }

    /// The rows as plain text, trailing spaces cut (what a test reads).
    #[cfg(test)]
    pub fn lines(&self) -> Vec<String> {
        self.cells
            .chunks(self.width.max(1))
            .map(|row| {
                row.iter()
                    .map(|&(c, _)| c)
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect()
    }

    /// Row `y`, as runs of equally styled text.
    pub fn runs(&self, y: usize) -> Vec<(Style, String)> {
        let mut runs: Vec<(Style, String)> = Vec::new();
        for &(c, style) in &self.cells[y * self.width..(y + 1) * self.width] {
            match runs.last_mut() {
                Some((s, text)) if *s == style => text.push(c),
                _ => runs.push((style, c.to_string())),
            }
        }
        runs
    }
}

/// The smallest terminal the view fits in.
pub const MIN_SIZE: (usize, usize) = (64, 22);

/// What the view shows besides the loop's state.
pub struct Status<'a> {
    /// What was traced.
    pub title: &'a str,
    /// Events applied, and in all.
    pub position: (usize, usize),
    /// Playing, and at how many events a second.
    pub playing: bool,
    /// Events a second while playing.
    pub speed: u32,
    /// The current event, in words.
    pub event: &'a str,
}

/// The keys, as the bottom line lists them.
pub const KEYS: &str =
    "←/→ step  space play/pause  +/- speed  p/P phase  i/I iteration  g/G start/end  q quit";

// ANCHOR: draw
/// Draws the view of `state` on a `width` × `height` screen.
pub fn draw(state: &State, status: &Status, width: usize, height: usize) -> Canvas {
    let mut c = Canvas::new(width, height);
    if width < MIN_SIZE.0 || height < MIN_SIZE.1 {
        let text = format!(
            "The terminal is {width}×{height}; the view needs {}×{}. Enlarge it, or press q.",
            MIN_SIZE.0, MIN_SIZE.1
        );
        let (mut x, mut y) = (0, 0);
        for word in text.split(' ') {
            let len = word.chars().count();
            if x > 0 && x + len > width {
                (x, y) = (0, y + 1);
            }
            x += c.put(x, y, word, Style::Bold, width) + 1;
        }
        return c;
    }
    title_line(&mut c, state, status);
    phase_ring(&mut c, state, 1);
    // Three columns over the middle, three boxes under them, two lines at the bottom.
    let bottom_h = 6;
    let top_h = height - 2 - bottom_h - 2;
    let stack_w = (width / 4).max(18);
    let output_w = (width * 3 / 10).max(20);
    let queues_w = width - stack_w - output_w;
    stack(&mut c, state, 0, 2, stack_w, top_h);
    queues(&mut c, state, stack_w, 2, queues_w, top_h);
    output(&mut c, state, stack_w + queues_w, 2, output_w, top_h);
    let y = 2 + top_h;
    let third = width / 3;
    pool(&mut c, state, 0, y, third, bottom_h);
    poll(&mut c, state, third, y, third, bottom_h);
    refs(&mut c, state, 2 * third, y, width - 2 * third, bottom_h);
    c.put(
        0,
        height - 2,
        &format!("▸ {}", status.event),
        Style::Bold,
        width,
    );
    c.put(0, height - 1, KEYS, Style::Dim, width);
    c
}
// ANCHOR_END: draw

fn title_line(c: &mut Canvas, state: &State, status: &Status) {
    let (at, total) = status.position;
    let iteration = match state.iteration {
        0 => "before the first iteration".to_string(),
        n => format!("iteration {n}"),
    };
    let play = if status.playing {
        format!("playing {}/s", status.speed)
    } else {
        "paused".to_string()
    };
    let used = c.put(0, 0, &format!(" {} ", status.title), Style::Bold, c.width);
    let rest = format!(
        " event {at}/{total}  t = {} ms  {iteration}  {play}",
        state.at
    );
    c.put(used, 0, &rest, Style::Normal, c.width);
}

/// The phases in a ring, the current one lit (the last one dim between phases).
fn phase_ring(c: &mut Canvas, state: &State, y: usize) {
    let mut x = c.put(0, y, " ", Style::Normal, 1);
    for (i, phase) in Phase::ALL.iter().enumerate() {
        let style = if state.phase == Some(*phase) {
            Style::Lit
        } else if state.phase.is_none() && state.last_phase == Some(*phase) {
            Style::Bold
        } else {
            Style::Dim
        };
        x += c.put(x, y, &format!(" {phase} "), style, c.width);
        let arrow = if i + 1 < Phase::ALL.len() {
            " → "
        } else {
            " ↺"
        };
        x += c.put(x, y, arrow, Style::Dim, c.width);
    }
    let note = match (state.phase, state.drain, state.returned) {
        (_, _, Some(alive)) => format!("   run returned{}", if alive { " (alive)" } else { "" }),
        (_, Some(_), _) => "   checkpoint".to_string(),
        (None, None, None) if state.last_phase.is_none() => "   main script".to_string(),
        _ => String::new(),
    };
    c.put(x, y, &note, Style::Bold, c.width);
}

fn stack(c: &mut Canvas, state: &State, x: usize, y: usize, w: usize, h: usize) {
    c.frame(x, y, w, h, "call stack");
    for (row, frame) in state.stack.iter().rev().take(h - 2).enumerate() {
        let style = if row == 0 { Style::Lit } else { Style::Normal };
        c.put(x + 2, y + 1 + row, frame, style, w - 4);
    }
    if state.stack.is_empty() {
        c.put(x + 2, y + 1, "(empty)", Style::Dim, w - 4);
    }
}

/// An entry as the queues panel shows it: its name and number, and, when `with_by`, the frame
/// that queued it (`setTimeout#2←setTimeout`).
fn label(entry: &Entry, with_by: bool) -> String {
    let id = entry.id.map(|id| format!("#{id}")).unwrap_or_default();
    match &entry.by {
        Some(by) if with_by => format!("{}{id}←{by}", entry.name),
        _ => format!("{}{id}", entry.name),
    }
}

/// The labels of `entries` that fit in `max` columns: with the frame that queued each when
/// they all fit so, else without it, so a narrow panel still names what waits.
fn entries_in(entries: &[Entry], max: usize) -> String {
    let long: Vec<String> = entries.iter().map(|e| label(e, true)).collect();
    let used = long.iter().map(|l| l.chars().count() + 2).sum::<usize>();
    if used <= max + 2 {
        return long.join("  ");
    }
    let short: Vec<String> = entries.iter().map(|e| label(e, false)).collect();
    fit(&short, max)
}

/// Labels joined by spaces, cut to `max` columns with a count of what did not fit.
fn fit(labels: &[String], max: usize) -> String {
    let mut text = String::new();
    for (i, label) in labels.iter().enumerate() {
        let more = format!(" +{}", labels.len() - i);
        let sep = if text.is_empty() { "" } else { "  " };
        if text.chars().count() + sep.len() + label.chars().count() + more.len() > max
            && i + 1 < labels.len()
            || text.chars().count() + sep.len() + label.chars().count() > max
        {
            text.push_str(&more);
            return text;
        }
        text.push_str(sep);
        text.push_str(label);
    }
    text
}

fn queues(c: &mut Canvas, state: &State, x: usize, y: usize, w: usize, h: usize) {
    c.frame(x, y, w, h, "queues");
    let inner = w - 4;
    for (row, queue) in QUEUES.iter().enumerate().take(h - 2) {
        let entries = state.queue(*queue);
        let head = format!("{:<10} {:>2} ", queue.name(), entries.len());
        let used = c.put(x + 2, y + 1 + row, &head, Style::Bold, inner);
        c.put(
            x + 2 + used,
            y + 1 + row,
            &entries_in(entries, inner - used),
            Style::Normal,
            inner - used,
        );
    }
    if let Some((ticks, microtasks)) = state.drain
        && h > 8
    {
        let text = format!("draining: found {ticks} ticks, {microtasks} microtasks");
        c.put(x + 2, y + 7, &text, Style::Dim, inner);
    }
}

fn output(c: &mut Canvas, state: &State, x: usize, y: usize, w: usize, h: usize) {
    c.frame(x, y, w, h, "output");
    let rows = h - 2;
    let skip = state.output.len().saturating_sub(rows);
    for (row, line) in state.output.iter().skip(skip).enumerate() {
        c.put(x + 2, y + 1 + row, line, Style::Printed, w - 4);
    }
}

fn pool(c: &mut Canvas, state: &State, x: usize, y: usize, w: usize, h: usize) {
    c.frame(x, y, w, h, "thread pool");
    let inner = w - 4;
    let mut row = y + 1;
    let queued: Vec<String> = state
        .jobs
        .iter()
        .filter(|j| j.state == JobState::Queued)
        .map(|j| format!("{}#{}", j.name, j.id))
        .collect();
    let used = c.put(x + 2, row, "queue ", Style::Bold, inner);
    c.put(
        x + 2 + used,
        row,
        &fit(&queued, inner - used),
        Style::Normal,
        inner - used,
    );
    row += 1;
    for (worker, job) in &state.workers {
        if row >= y + h - 1 {
            break;
        }
        let doing = match job.and_then(|id| state.jobs.iter().find(|j| j.id == id)) {
            Some(job) => format!("runs {}#{}", job.name, job.id),
            None => "idle".into(),
        };
        c.put(
            x + 2,
            row,
            &format!("worker {worker}: {doing}"),
            Style::Normal,
            inner,
        );
        row += 1;
    }
    let done: Vec<String> = state
        .jobs
        .iter()
        .filter_map(|j| match j.state {
            JobState::Finished(_, us) => Some(format!("{}#{} {us}µs", j.name, j.id)),
            _ => None,
        })
        .collect();
    if !done.is_empty() && row < y + h - 1 {
        let used = c.put(x + 2, row, "done ", Style::Bold, inner);
        c.put(
            x + 2 + used,
            row,
            &fit(&done, inner - used),
            Style::Normal,
            inner - used,
        );
    }
}

fn poll(c: &mut Canvas, state: &State, x: usize, y: usize, w: usize, h: usize) {
    c.frame(x, y, w, h, "poll");
    let inner = w - 4;
    let timeout = match state.poll.timeout {
        None => "not polled yet".to_string(),
        Some(None) => "timeout: none (until woken)".to_string(),
        Some(Some(ms)) => format!("timeout: {ms} ms"),
    };
    c.put(x + 2, y + 1, &timeout, Style::Normal, inner);
    let now = if state.poll.waiting {
        "waiting…".to_string()
    } else if let Some((waited, events)) = state.poll.woke {
        format!("woke after {waited} ms, {events} events")
    } else {
        String::new()
    };
    c.put(x + 2, y + 2, &now, Style::Normal, inner);
    if state.stalled {
        c.put(
            x + 2,
            y + 3,
            "stalled: nothing can wake it",
            Style::Bold,
            inner,
        );
    }
    if let Some(lengths) = state.lengths
        && h > 5
    {
        let text = format!("pending {}  closing {}", lengths.pending, lengths.closing);
        c.put(x + 2, y + 4, &text, Style::Dim, inner);
    }
}

fn refs(c: &mut Canvas, state: &State, x: usize, y: usize, w: usize, h: usize) {
    c.frame(x, y, w, h, "refs");
    let inner = w - 4;
    let lines = match state.refs {
        None => vec!["not checked yet".to_string()],
        Some((handles, requests, alive)) => vec![
            format!("ref'd handles {handles}"),
            format!("requests      {requests}"),
            format!("alive: {}", if alive { "yes" } else { "no" }),
        ],
    };
    for (row, line) in lines.iter().enumerate() {
        c.put(x + 2, y + 1 + row, line, Style::Normal, inner);
    }
    let process = match (state.before_exit, state.exit) {
        (_, Some(code)) => format!("exit, code {code}"),
        (true, None) => "beforeExit".to_string(),
        _ => String::new(),
    };
    if h > 5 {
        c.put(x + 2, y + 4, &process, Style::Bold, inner);
    }
}
