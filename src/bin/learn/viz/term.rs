//! The interactive replay: keys in, the view redrawn. Like watch mode, it is itself a small
//! event loop: one wait for a key, a resize or the next tick of playback, one `match`.
//!
//! The terminal is put back however the replay ends: `q`, Esc, Ctrl-C (a key in raw mode), an
//! error, or a panic (the hook restores it before the message is printed).

use std::io::{self, Write};
use std::time::{Duration, Instant};

use crossterm::cursor::{Hide, MoveTo, Show};
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::style::{Attribute, Color, Print, ResetColor, SetAttribute, SetForegroundColor};
use crossterm::terminal::{self, Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{execute, queue};

use super::model::Replay;
use super::screen::{self, Canvas, Status, Style};
use super::text::describe;

/// Set (to anything), the replay panics at the first key it reads: how `tests/viz.rs` checks
/// that a panic in the middle of a replay gives the terminal back, with its message readable.
pub const PANIC_AT_FIRST_KEY: &str = "LEARN_VIZ_PANIC_AT_FIRST_KEY";

/// Playback speeds, in events a second.
const SPEEDS: [u32; 7] = [1, 2, 5, 10, 20, 50, 100];

/// Where the replay stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ui {
    /// Events applied.
    pub position: usize,
    /// Playing (or paused).
    pub playing: bool,
    /// Index into [`SPEEDS`].
    pub speed: usize,
}

impl Default for Ui {
    fn default() -> Self {
        Ui {
            position: 0,
            playing: false,
            speed: 2,
        }
    }
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Show the replay at this new place.
    Show(Ui),
    /// Leave.
    Quit,
    /// Nothing this key means.
    Ignore,
}

// ANCHOR: on_key
/// What `key` does at `ui` in `replay`.
pub fn on_key(ui: Ui, key: KeyEvent, replay: &Replay) -> Action {
    let end = replay.len();
    let mut next = ui;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('c') if ctrl => return Action::Quit,
        KeyCode::Char('q') | KeyCode::Esc => return Action::Quit,
        KeyCode::Right | KeyCode::Char('l') | KeyCode::Char('n') | KeyCode::Enter => {
            next.position = (ui.position + 1).min(end);
            next.playing = false;
        }
        KeyCode::Left | KeyCode::Char('h') | KeyCode::Char('b') | KeyCode::Backspace => {
            next.position = ui.position.saturating_sub(1);
            next.playing = false;
        }
        KeyCode::Char(' ') => {
            next.playing = !ui.playing;
            if next.playing && ui.position == end {
                next.position = 0; // play again from the start
            }
        }
        KeyCode::Char('+') | KeyCode::Char('=') | KeyCode::Up => {
            next.speed = (ui.speed + 1).min(SPEEDS.len() - 1);
        }
        KeyCode::Char('-') | KeyCode::Down => next.speed = ui.speed.saturating_sub(1),
        KeyCode::Char('p') => next.position = replay.next_phase(ui.position, false),
        KeyCode::Char('P') => next.position = replay.previous_phase(ui.position, false),
        KeyCode::Char('i') => next.position = replay.next_phase(ui.position, true),
        KeyCode::Char('I') => next.position = replay.previous_phase(ui.position, true),
        KeyCode::Home | KeyCode::Char('g') => next.position = 0,
        KeyCode::End | KeyCode::Char('G') => next.position = end,
        _ => return Action::Ignore,
    }
    Action::Show(next)
}
// ANCHOR_END: on_key

/// The view of `replay` at `ui`, `width` × `height`.
pub fn view(replay: &Replay, ui: Ui, width: usize, height: usize) -> Canvas {
    let state = replay.state(ui.position);
    let event = match ui.position {
        0 => "the start: press → to step, space to play".to_string(),
        n => describe(&replay.events[n - 1].event, &replay.state(n - 1)),
    };
    let status = Status {
        title: replay.program.as_deref().unwrap_or("trace"),
        position: (ui.position, replay.len()),
        playing: ui.playing,
        speed: SPEEDS[ui.speed],
        event: &event,
    };
    screen::draw(&state, &status, width, height)
}

/// The terminal in raw mode on the alternate screen while it lives.
struct Terminal;

fn restore() {
    let _ = terminal::disable_raw_mode();
    // The cursor is shown after leaving the alternate screen: leaving it may restore the
    // cursor state saved on entry, which tmux, for one, does.
    let _ = execute!(io::stdout(), ResetColor, LeaveAlternateScreen, Show);
}

impl Terminal {
    fn enter() -> io::Result<Terminal> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        terminal::enable_raw_mode()?;
        let terminal = Terminal; // from here on, dropping it restores the terminal
        execute!(io::stdout(), EnterAlternateScreen, Hide)?;
        Ok(terminal)
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        restore();
    }
}

fn paint(out: &mut impl Write, canvas: &Canvas) -> io::Result<()> {
    queue!(out, Clear(ClearType::All))?;
    for y in 0..canvas.height {
        queue!(out, MoveTo(0, y as u16))?;
        for (style, text) in canvas.runs(y) {
            match style {
                Style::Normal => {}
                Style::Dim => queue!(out, SetForegroundColor(Color::DarkGrey))?,
                Style::Bold => queue!(out, SetAttribute(Attribute::Bold))?,
                Style::Lit => queue!(out, SetAttribute(Attribute::Reverse))?,
                Style::Printed => queue!(out, SetForegroundColor(Color::Green))?,
            }
            queue!(out, Print(text), SetAttribute(Attribute::Reset), ResetColor)?;
        }
    }
    out.flush()
}

/// Replays `replay` on the terminal until the learner quits.
pub fn interactive(replay: &Replay) -> io::Result<()> {
    let _terminal = Terminal::enter()?;
    let mut stdout = io::stdout();
    // A whole frame goes out in one write: stdout's own buffer would flush a frame in pieces,
    // and a terminal could show (or a test capture) half of one.
    let mut frame = Vec::new();
    let mut ui = Ui::default();
    let mut next_tick = Instant::now();
    let panic_at_first_key = std::env::var_os(PANIC_AT_FIRST_KEY).is_some();
    loop {
        let (width, height) = terminal::size()?;
        frame.clear();
        paint(&mut frame, &view(replay, ui, width.into(), height.into()))?;
        stdout.write_all(&frame)?;
        stdout.flush()?;
        let wait = if ui.playing {
            next_tick.saturating_duration_since(Instant::now())
        } else {
            Duration::from_secs(3600)
        };
        if event::poll(wait)? {
            match event::read()? {
                Event::Key(key) if key.kind != KeyEventKind::Release => {
                    if panic_at_first_key {
                        panic!("{PANIC_AT_FIRST_KEY} is set: a panic in the middle of the replay");
                    }
                    match on_key(ui, key, replay) {
                        Action::Quit => return Ok(()),
                        Action::Show(next) => {
                            if next.playing && !ui.playing {
                                next_tick = Instant::now();
                            }
                            ui = next;
                        }
                        Action::Ignore => {}
                    }
                }
                // A resize redraws at the new size on the next turn; so does anything else.
                _ => {}
            }
        } else if ui.playing {
            ui.position += 1;
            if ui.position >= replay.len() {
                ui.position = replay.len();
                ui.playing = false;
            }
            next_tick += Duration::from_secs(1) / SPEEDS[ui.speed];
        }
    }
}
