//! `cargo learn watch`: re-run an exercise's tests on every save.
//!
//! Watch mode is itself a small event loop. A file-watcher thread (polling the folder), a key-reader
//! thread and the thread waiting for `cargo test` all send [`Event`]s into one channel; one
//! `match` handles them, one at a time, and the screen is redrawn with queued writes and one
//! flush. Saves are debounced (an editor's save-as-rename is several file events), and a save
//! during a run stops that run and starts another: only the newest text matters.

mod files;
mod input;

use std::fs;
use std::io::{self, IsTerminal};
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use crate::cargo_test::{self, Against, Group, Stopper};
use crate::catalog::Exercise;
use crate::console::{Console, Doc, Line, Tone};
use crate::course::Course;
use crate::explain;
use crate::progress::{self, State};
use crate::report::Report;
use crate::todos;
use crate::views;
use files::watch_files;
use input::{Event, Key, RawMode, read_keys};

/// How long a save must stay quiet before the tests run.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// Runs watch mode on `exercise` until the learner quits.
///
/// # Errors
/// When the file watcher cannot start, or the terminal cannot be written.
pub fn watch(course: &mut Course, console: Console, exercise: Exercise) -> io::Result<ExitCode> {
    let (tx, rx) = mpsc::channel();
    let dir = course.root.join("exercises");
    let _watcher = watch_files(&dir, tx.clone())
        .map_err(|e| io::Error::new(e.kind(), format!("cannot watch {}: {e}", dir.display())))?;
    let interactive = io::stdin().is_terminal();
    let _raw = if interactive {
        Some(RawMode::enable()?)
    } else {
        None
    };
    read_keys(tx.clone(), interactive);

    let mut state = Watch::new(course, console, interactive, exercise, tx);
    state.start_run()?;
    loop {
        let event = match state.save_due {
            Some(due) => rx.recv_timeout(due.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match event {
            Ok(Event::Key(Key::Quit)) | Err(RecvTimeoutError::Disconnected) => break,
            Ok(event) => state.handle(event)?,
            Err(RecvTimeoutError::Timeout) => {
                state.save_due = None;
                state.message = None;
                state.start_run()?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The watch loop's state.
struct Watch<'a> {
    course: &'a mut Course,
    console: Console,
    /// The terminal is in raw mode (lines end in `\r\n`).
    raw: bool,
    exercise: Exercise,
    tx: Sender<Event>,
    /// The id of the newest run; results of older ones are dropped.
    run_id: u64,
    /// Set while a run is going.
    running: Option<Stopper>,
    report: Option<Report>,
    /// The hint panel's level: 0 hidden, 1 the nudge, 2 the method.
    hint_level: u8,
    message: Option<(Tone, String)>,
    /// When the last save has been quiet long enough to run the tests.
    save_due: Option<Instant>,
    /// Plain output (not a terminal) prints the header once, then appends only what changes.
    header_shown: bool,
    /// Keys can still be read; once input is closed, the key legend is not shown any more.
    keys_open: bool,
}

impl Drop for Watch<'_> {
    /// However watch mode ends (quit, error, panic), no `cargo test` outlives it.
    fn drop(&mut self) {
        if let Some(stopper) = self.running.take() {
            stopper.stop();
        }
    }
}

impl<'a> Watch<'a> {
    /// Watch mode on `exercise`, before its first run.
    fn new(
        course: &'a mut Course,
        console: Console,
        raw: bool,
        exercise: Exercise,
        tx: Sender<Event>,
    ) -> Watch<'a> {
        Watch {
            course,
            console,
            raw,
            exercise,
            tx,
            run_id: 0,
            running: None,
            report: None,
            hint_level: 0,
            message: None,
            save_due: None,
            header_shown: false,
            keys_open: true,
        }
    }

    /// Handles one event (except quitting, which the loop does).
    fn handle(&mut self, event: Event) -> io::Result<()> {
        match event {
            Event::Saved(path) => {
                if path.file_name() == self.exercise.exercise_file().file_name() {
                    self.save_due = Some(Instant::now() + DEBOUNCE);
                }
                Ok(())
            }
            Event::Key(Key::Hint) => {
                // h: the nudge (or as deep as the learner went before), h again: the method,
                // h once more: hidden.
                self.hint_level = match self.hint_level {
                    0 => self.course.progress.hint_level(&self.exercise.name).max(1),
                    1 => 2,
                    _ => 0,
                };
                if self.hint_level > self.course.progress.hint_level(&self.exercise.name) {
                    self.course.deeper_hint(&self.exercise);
                }
                self.redraw()
            }
            Event::Key(Key::Rerun) => {
                self.message = None;
                self.start_run()
            }
            Event::Key(Key::Next) => self.next(),
            Event::Key(Key::Quit) => Ok(()),
            Event::InputClosed => {
                self.keys_open = false;
                self.say(
                    Tone::Dim,
                    "Input closed: still re-running on every save; Ctrl-C stops.",
                )
            }
            Event::WatchFailed(why) => {
                self.say(Tone::Bad, &format!("The file watcher failed: {why}"))
            }
            Event::Resized => self.redraw(),
            Event::Finished { id, hash, result } if id == self.run_id => {
                self.running = None;
                match result {
                    Ok(run) => {
                        let report = self.course.report(&self.exercise, &run);
                        if let Err(e) = self.course.record(&self.exercise, hash, &report) {
                            self.message = Some((Tone::Warn, e.to_string()));
                        }
                        if report.solved() {
                            // The hints were for the TODOs that are gone now.
                            self.hint_level = 0;
                        }
                        self.report = Some(report);
                    }
                    Err(e) => self.message = Some((Tone::Bad, e.to_string())),
                }
                self.redraw()
            }
            Event::Finished { .. } => Ok(()),
        }
    }

    /// Starts a test run, stopping the one under way.
    fn start_run(&mut self) -> io::Result<()> {
        if let Some(stopper) = self.running.take() {
            stopper.stop();
        }
        self.run_id += 1;
        self.report = None;
        let file = self.course.file(&self.exercise);
        if !file.is_file() {
            let message = format!(
                "{} is missing: quit (q) and run `cargo learn reset {}`.",
                self.exercise.exercise_file().display(),
                self.exercise.name
            );
            return self.say(Tone::Bad, &message);
        }
        let id = self.run_id;
        let hash = progress::hash_file(&file);
        let root = &self.course.root;
        match cargo_test::spawn(root, &self.exercise, Against::Exercise, Group::Own, |_| {}) {
            Ok(running) => {
                self.running = Some(running.stopper());
                let tx = self.tx.clone();
                let (root, exercise) = (root.clone(), self.exercise.clone());
                thread::spawn(move || {
                    // A test that never ends is stopped after the limit, and the report says
                    // how it failed before it hung.
                    let result =
                        running
                            .wait_limited(Some(cargo_test::RUN_LIMIT))
                            .map(|mut run| {
                                let place = cargo_test::Place::tree(&root);
                                cargo_test::find_hung(
                                    place,
                                    &exercise,
                                    Against::Exercise,
                                    &mut run,
                                );
                                run
                            });
                    let _ = tx.send(Event::Finished { id, hash, result });
                });
            }
            Err(e) => self.message = Some((Tone::Bad, e.to_string())),
        }
        self.redraw()
    }

    /// `n`: on to the next unsolved exercise, once this one is solved.
    fn next(&mut self) -> io::Result<()> {
        if self.course.state(&self.exercise) != State::Solved {
            let message = format!(
                "`{}` is not solved yet: n moves on once all its tests pass.",
                self.exercise.name
            );
            return self.say(Tone::Warn, &message);
        }
        match self.course.next_after(&self.exercise).cloned() {
            Some(next) => {
                self.message = Some((Tone::Good, format!("On to `{}`!", next.name)));
                self.exercise = next;
                self.hint_level = 0;
                self.start_run()
            }
            None => self.say(Tone::Good, "Every exercise is solved. Well done! q quits."),
        }
    }

    fn say(&mut self, tone: Tone, message: &str) -> io::Result<()> {
        if !self.console.terminal {
            // Plain output is a log: a message is one more line, not another screen.
            let mut doc = Doc::new();
            doc.text(tone, message);
            return self.console.print(&doc);
        }
        self.message = Some((tone, message.to_string()));
        self.redraw()
    }

    fn redraw(&mut self) -> io::Result<()> {
        let screen = self.screen();
        self.header_shown = true;
        self.console.redraw(&screen, self.raw)
    }

    /// The whole screen.
    fn screen(&self) -> Doc {
        let ex = &self.exercise;
        let mut doc = Doc::new();
        if self.console.terminal || !self.header_shown {
            doc.push(
                Line::new(Tone::Heading, format!("cargo learn watch {}", ex.name)).and(
                    Tone::Dim,
                    format!(" — chapter {}: {}", ex.chapter, ex.title),
                ),
            );
            doc.text(
                Tone::Dim,
                format!(
                    "Watching {}: save it and the tests run again.",
                    ex.exercise_file().display()
                ),
            );
            doc.blank();
        }
        if self.running.is_some() {
            let first = self.course.progress.get(&ex.name).is_none();
            doc.append(explain::running(ex, first));
        } else if let Some(report) = &self.report {
            let root = self.course.root.clone();
            let read = move |path: &str| fs::read_to_string(root.join(path)).ok();
            doc.append(explain::report(ex, report, &read));
            doc.blank();
            if report.solved() {
                doc.push(self.next_keys());
            } else if self.hint_level == 0 && self.keys_open {
                doc.push(stuck_keys());
            }
        }
        if self.hint_level > 0 {
            doc.blank();
            let text = fs::read_to_string(self.course.file(ex)).unwrap_or_default();
            let regions = self.course.regions(ex);
            let place = views::HintPlace::Watch;
            let todos = todos::todos(&text);
            doc.append(views::hint(ex, &todos, place, self.hint_level, &regions));
        }
        if let Some((tone, message)) = &self.message {
            doc.blank();
            doc.text(*tone, message.clone());
        }
        if self.running.is_some() && !self.console.terminal {
            return doc; // a log: the totals and the keys come with the result
        }
        doc.blank();
        let solved = self.course.solved_count();
        let all = self.course.catalog.exercises.len();
        doc.text(Tone::Dim, format!("{solved} of {all} exercises solved."));
        if self.keys_open {
            doc.push(self.keys());
        }
        doc
    }

    /// Under a solved exercise: where `n` leads.
    fn next_keys(&self) -> Line {
        match self.course.next_after(&self.exercise) {
            Some(next) if !self.keys_open => Line::new(Tone::Normal, "Next: ")
                .and(Tone::Command, format!("cargo learn watch {}", next.name)),
            Some(next) => Line::new(Tone::Normal, "Press ")
                .and(Tone::Command, "n")
                .and(
                    Tone::Normal,
                    format!(
                        " to move on to `{}`, the next unsolved exercise after this one.",
                        next.name
                    ),
                ),
            None => Line::new(Tone::Good, "Every exercise is solved. Well done!"),
        }
    }

    /// The key legend.
    fn keys(&self) -> Line {
        let line = Line::new(Tone::Command, "h")
            .and(Tone::Normal, " hint  ")
            .and(Tone::Command, "n")
            .and(Tone::Normal, " next  ")
            .and(Tone::Command, "r")
            .and(Tone::Normal, " rerun  ")
            .and(Tone::Command, "q")
            .and(Tone::Normal, " quit");
        if self.raw {
            line
        } else {
            line.and(Tone::Dim, "  (type the letter, then Enter)")
        }
    }
}

/// Where to get help, in watch mode's terms.
fn stuck_keys() -> Line {
    Line::new(Tone::Normal, "Stuck? Press ")
        .and(Tone::Command, "h")
        .and(Tone::Normal, " for hints.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn plain_output_is_a_log_header_once_and_no_keys_after_input_closed() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let catalog = Catalog::load(repo).expect("the repository's catalog");
        let dir = std::env::temp_dir().join(format!("learn-watch-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (mut course, _) = Course::open(&dir, catalog);
        let exercise = course.catalog.exercises[0].clone();
        let (tx, _rx) = mpsc::channel();
        let plain = Console {
            color: false,
            terminal: false,
        };
        let mut watch = Watch::new(&mut course, plain, false, exercise, tx);
        let first = watch.screen().plain();
        assert!(first.contains("cargo learn watch"), "{first}");
        assert!(first.contains("`q` quit"), "{first}");
        watch.header_shown = true;
        watch.keys_open = false;
        let later = watch.screen().plain();
        assert!(
            !later.contains("cargo learn watch"),
            "header again:\n{later}"
        );
        assert!(!later.contains("quit"), "keys after input closed:\n{later}");
        assert!(later.contains("exercises solved"), "{later}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn h_shows_the_nudge_then_the_method_then_nothing_and_remembers_the_level() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let catalog = Catalog::load(repo).expect("the repository's catalog");
        let dir = std::env::temp_dir().join(format!("learn-watch-h-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src")).unwrap();
        fs::copy(repo.join("src/queue.rs"), dir.join("src/queue.rs")).unwrap();
        let (mut course, _) = Course::open(&dir, catalog);
        let exercise = course.catalog.get("queue").unwrap().clone();
        let (tx, _rx) = mpsc::channel();
        let plain = Console {
            color: false,
            terminal: false,
        };
        let mut watch = Watch::new(&mut course, plain, false, exercise, tx);
        watch.handle(Event::Key(Key::Hint)).unwrap();
        let screen = watch.screen().plain();
        assert!(screen.contains("Hint 1 of 2"), "{screen}");
        assert!(screen.contains("again for the method"), "{screen}");
        assert!(!screen.contains("How:"), "{screen}");
        watch.handle(Event::Key(Key::Hint)).unwrap();
        let screen = watch.screen().plain();
        assert!(screen.contains("Hint 2 of 2"), "{screen}");
        assert!(screen.contains("How:"), "{screen}");
        watch.handle(Event::Key(Key::Hint)).unwrap();
        assert!(!watch.screen().plain().contains("Hint 2 of 2"));
        drop(watch);
        assert_eq!(course.progress.hint_level("queue"), 2);
        let saved = fs::read_to_string(dir.join(crate::progress::PROGRESS_PATH)).unwrap();
        assert!(saved.contains("hint = 2"), "{saved}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_hint_panel_goes_once_the_exercise_is_solved() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let catalog = Catalog::load(repo).expect("the repository's catalog");
        let dir = std::env::temp_dir().join(format!("learn-watch-hint-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (mut course, _) = Course::open(&dir, catalog);
        let exercise = course
            .catalog
            .get("queue")
            .expect("a queue exercise")
            .clone();
        let (tx, _rx) = mpsc::channel();
        let plain = Console {
            color: false,
            terminal: false,
        };
        let mut watch = Watch::new(&mut course, plain, false, exercise.clone(), tx);
        watch.hint_level = 1;
        let hint = exercise.hint.lines().next().expect("a hint").to_string();
        assert!(watch.screen().plain().contains(&hint));
        let solved = include_str!("../testdata/queue_solved.txt").to_string();
        let id = watch.run_id;
        watch
            .handle(Event::Finished {
                id,
                hash: None,
                result: Ok(crate::cargo_test::parse(solved)),
            })
            .unwrap();
        let screen = watch.screen().plain();
        assert!(screen.contains("exercise solved"), "{screen}");
        assert!(
            !screen.contains(&hint),
            "a stale hint under a solved exercise:\n{screen}"
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
