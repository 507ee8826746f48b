//! The process around the loop: Node's main script, `beforeExit`, `exit`, exit codes and
//! uncaught errors (`src/node.cc` `StartExecution`, `src/api/embed_helpers.cc`
//! `SpinEventLoop`, `src/api/hooks.cc` `EmitProcessBeforeExit`, `EmitProcessExitInternal`).
//!
//! ```text
//! run the main script; checkpoint
//! do {
//!     run the loop until it is not alive
//!     emit 'beforeExit' (its listeners may schedule more work); checkpoint
//! } while the loop is alive again
//! exiting = true (nextTick now drops callbacks); emit 'exit'
//! ```

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use super::listeners::ProcessListeners;
use super::{EventLoop, RunMode};
use crate::microtasks::Rejection;
use crate::trace::TraceEvent;

/// A process exit code: 0 for success, 1 after an uncaught error, or what the program set.
///
/// ```
/// use eventloop::prelude::*;
///
/// let code: ExitCode = EventLoop::new().run_main(|_| {}).unwrap();
/// assert_eq!(code, 0);
/// ```
pub type ExitCode = i32;

// ANCHOR: uncaught
/// An error nothing caught: a callback that panicked (JavaScript's uncaught exception), or a
/// promise rejection nobody handled.
///
/// ```
/// use eventloop::prelude::*;
///
/// let err: Uncaught = EventLoop::new()
///     .run_main(|lp| lp.next_tick(|_| panic!("oops")))
///     .unwrap_err();
/// assert_eq!((err.message.as_str(), err.frames[0]), ("oops", "nextTick"));
/// ```
#[derive(Debug, Clone)]
pub struct Uncaught {
    /// What went wrong: the panic message, or the rejection's error.
    pub message: String,
    /// The frames running when it happened, innermost first (empty for a rejection).
    pub frames: Vec<&'static str>,
    /// Where in the source the panic happened: known when the loop was built with
    /// [`quiet_panics`](super::Builder::quiet_panics), whose hook notes it.
    pub location: Option<String>,
    /// The rejection, when the error was a promise nobody handled.
    pub rejection: Option<Rejection>,
}
// ANCHOR_END: uncaught

impl fmt::Display for Uncaught {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rejection {
            Some(_) => write!(f, "Uncaught (in promise) {}", self.message)?,
            None => write!(f, "Uncaught {}", self.message)?,
        }
        for frame in &self.frames {
            write!(f, "\n    at {frame}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Uncaught {}

/// `process.exit(code)` unwinding out of the loop.
struct ExitNow;

/// A fatal error unwinding out of the loop; the error itself waits in `Process::fatal` (a
/// panic payload must be `Send`, and a [`Rejection`] is not).
struct FatalNow;

/// A panic caught at a callback boundary.
pub(super) struct Panic {
    payload: Box<dyn Any + Send>,
    /// Where it happened: known when the loop's quiet hook held Rust's report back.
    location: Option<String>,
    /// The quiet hook held Rust's report back, so nobody has reported this panic yet.
    held_back: bool,
}

thread_local! {
    /// How many callback boundaries are catching on this thread: the loop's panic hook, when
    /// installed, stays quiet inside one, because the loop reports the panic itself.
    static CATCHING: Cell<usize> = const { Cell::new(0) };
    /// The last panic the quiet hook held back, and where it happened; taken by the
    /// innermost boundary that catches it.
    static HELD_BACK: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

static QUIET_HOOK: Once = Once::new();

// ANCHOR: quiet_hook
/// Wraps the process's panic hook, once per process, so that inside a callback boundary of
/// any loop it only records where the panic happened and the loop reports the panic itself;
/// every other panic still goes to the hook that was in place. Only a loop built with
/// [`Builder::quiet_panics`](super::Builder::quiet_panics) calls this: the hook belongs to
/// the program, and a library takes it over only when asked.
pub(super) fn install_quiet_hook() {
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) > 0 {
                let location = info.location().map(|l| l.to_string());
                HELD_BACK.with(|h| *h.borrow_mut() = Some(location));
            } else {
                previous(info);
            }
        }));
    });
}
// ANCHOR_END: quiet_hook

/// Runs `f`, catching a panic: one callback boundary. Counting the boundaries keeps the
/// quiet hook's check (see [`install_quiet_hook`]) off the path of each callback.
pub(super) fn catch_panic(f: impl FnOnce()) -> Result<(), Panic> {
    CATCHING.with(|c| c.set(c.get() + 1));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(c.get() - 1));
    result.map_err(|payload| {
        let held = HELD_BACK.with(|h| h.borrow_mut().take());
        Panic {
            payload,
            held_back: held.is_some(),
            location: held.flatten(),
        }
    })
}

/// Runs `body` with `state`. When a panic unwinds through it — on its way to the embedder,
/// outside `run_main` and with no `uncaughtException` listener — `repair` runs first, so the
/// loop is left consistent and can run again (Node's `finally` blocks in `processImmediate`
/// and `listOnTimeout` keep its queues whole the same way).
pub(super) fn repair_on_unwind<S, R>(
    lp: &mut EventLoop,
    state: &mut S,
    body: impl FnOnce(&mut EventLoop, &mut S) -> R,
    repair: impl FnOnce(&mut EventLoop, &mut S),
) -> R {
    match panic::catch_unwind(AssertUnwindSafe(|| body(lp, state))) {
        Ok(result) => result,
        Err(payload) => {
            repair(lp, state);
            panic::resume_unwind(payload)
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    crate::panics::message(payload).unwrap_or_else(|| "a callback panicked".to_string())
}

#[derive(Default)]
pub(super) struct Process {
    /// Who listens for which process event.
    pub(super) listeners: ProcessListeners,
    /// An `uncaughtException` listener is running: a panic now is fatal.
    in_uncaught_listener: bool,
    exit_code: ExitCode,
    /// Inside `run_main`: uncaught errors and `exit` end the process.
    running_main: bool,
    fatal: Option<Uncaught>,
    /// `exit_code` is the last program's: the next program starts from 0 unless it is set
    /// before it starts.
    exit_code_is_old: bool,
}

impl EventLoop {
    // ANCHOR: run_main
    /// Runs a program as Node runs a main module: the script in a frame named `"main"`, a
    /// checkpoint, the loop until nothing keeps it alive, `beforeExit` (which may restart the
    /// loop) and `exit`. Returns the exit code.
    ///
    /// # Errors
    /// [`Uncaught`] when a callback panicked with no `uncaughtException` listener, or a
    /// promise rejection went unhandled with no `unhandledRejection` listener. The `exit`
    /// listeners still ran, with code 1; afterwards [`exit_code`](Self::exit_code) holds the
    /// code Node would exit with (1, unless an `exit` listener set another).
    ///
    /// Each program starts with exit code 0 (or what [`set_exit_code`](Self::set_exit_code)
    /// set since the last one ended). What a program that ended early (an uncaught
    /// error, [`exit`](Self::exit)) left on the loop — timers, sockets — is still there
    /// afterwards: drop the loop, or run it to let them finish.
    ///
    /// # Panics
    /// When called while a program or a [`run`](Self::run) is under way on this loop: a
    /// loop runs one program at a time.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// assert_eq!(lp.run_main(|lp| lp.set_exit_code(3)).unwrap(), 3);
    /// let err = lp.run_main(|lp| drop(lp.set_timeout(|_| panic!("boom"), 1))).unwrap_err();
    /// assert_eq!(err.message, "boom");
    /// ```
    pub fn run_main(&mut self, script: impl FnOnce(&mut EventLoop)) -> Result<ExitCode, Uncaught> {
        assert!(
            !self.process.running_main && !self.status.running,
            "EventLoop::run_main was called while the loop was already running; \
             a loop runs one program at a time"
        );
        if std::mem::take(&mut self.process.exit_code_is_old) {
            self.process.exit_code = 0;
        }
        self.process.fatal = None;
        self.process.running_main = true;
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            self.call_in_frame("main", script);
            self.checkpoint();
            loop {
                self.run(RunMode::Default);
                if self.status.stalled {
                    break; // Node would hang here forever; we end the process instead
                }
                if self.is_alive() {
                    continue; // stopped with work left: Node spins again
                }
                self.emit_before_exit();
                if !self.is_alive() {
                    break;
                }
            }
        }));
        let result = match outcome {
            Ok(()) => Ok(self.process.exit_code),
            Err(payload) => self.unwound(payload),
        };
        if result.is_err() {
            self.process.exit_code = 1; // what Node's `exit` listeners see after a crash
        }
        let exit = panic::catch_unwind(AssertUnwindSafe(|| self.emit_exit()));
        self.process.running_main = false;
        self.process.exit_code_is_old = true;
        // The program has ended; the loop has not: later ticks (a plain `run`, another
        // `run_main`) are accepted again.
        self.jobs.microtasks.clear_exiting();
        // As far as the program knows the process ends here, and it may call
        // `std::process::exit` next, which runs no destructor: the trace is written out now,
        // so a traced program keeps its tail (its `exit` event, its last lines).
        self.trace.flush();
        match (exit, result) {
            // An `exit` listener may still change `process.exitCode`.
            (Ok(()), Ok(_)) => Ok(self.process.exit_code),
            (Ok(()), Err(error)) => Err(error),
            (Err(payload), Ok(_)) => self.unwound(payload),
            (Err(_), Err(first)) => Err(first),
        }
    }
    // ANCHOR_END: run_main

    /// Turns what unwound out of the loop into the result of `run_main`.
    fn unwound(&mut self, payload: Box<dyn Any + Send>) -> Result<ExitCode, Uncaught> {
        while self.stack.pop().is_some() {}
        if payload.is::<ExitNow>() {
            return Ok(self.process.exit_code);
        }
        if payload.is::<FatalNow>()
            && let Some(fatal) = self.process.fatal.take()
        {
            return Err(fatal);
        }
        Err(Uncaught {
            message: panic_message(payload.as_ref()),
            frames: Vec::new(),
            location: None,
            rejection: None,
        })
    }

    // ANCHOR: uncaught_panic
    /// A callback panicked; `self.stack` still holds its frames. With an `uncaughtException`
    /// listener the listeners hear of it and the loop goes on; otherwise, in `run_main`, the
    /// process ends with the error, and outside it the panic goes on up to the embedder.
    pub(super) fn uncaught_panic(&mut self, panic: Panic) {
        if panic.payload.is::<ExitNow>() || panic.payload.is::<FatalNow>() {
            self.stack.pop();
            panic::resume_unwind(panic.payload); // already decided: keep unwinding
        }
        let error = Uncaught {
            message: panic_message(panic.payload.as_ref()),
            frames: self.stack.trace().frames().to_vec(),
            location: panic.location,
            rejection: None,
        };
        if !self.process.listeners.uncaught.is_empty() && !self.process.in_uncaught_listener {
            self.emit_uncaught(&error);
            return;
        }
        self.stack.pop();
        if self.process.running_main {
            self.process.fatal = Some(error);
            panic::resume_unwind(Box::new(FatalNow));
        }
        // Without the quiet hook, the program's own hook has reported the panic already.
        // With it, Rust's report was held back: print it in Rust's shape, so that test
        // harnesses and tools that read panics (the learner console does) still find it. The
        // frames around this one catch the same panic on its way out: only the innermost,
        // which took the held-back report, prints it.
        if panic.held_back {
            let thread = std::thread::current();
            eprintln!(
                "thread '{}' panicked at {}:\n{}\nnote: uncaught in the loop's callback; frames: {}",
                thread.name().unwrap_or("<unnamed>"),
                error.location.as_deref().unwrap_or("<unknown>"),
                error.message,
                error.frames.join(" <- ")
            );
        }
        panic::resume_unwind(panic.payload);
    }
    // ANCHOR_END: uncaught_panic

    fn emit_uncaught(&mut self, error: &Uncaught) {
        // A panic in a listener is fatal: it unwinds through here, and the next program on
        // this loop must not find the flag still set.
        self.process.in_uncaught_listener = true;
        repair_on_unwind(
            self,
            &mut (),
            |lp, ()| lp.emit("uncaughtException", |l| &mut l.uncaught, error),
            |lp, ()| lp.process.in_uncaught_listener = false,
        );
        self.process.in_uncaught_listener = false;
    }

    /// The code the process will exit with (`process.exitCode`).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.set_exit_code(2);
    /// assert_eq!(lp.exit_code(), 2);
    /// ```
    pub fn exit_code(&self) -> ExitCode {
        self.process.exit_code
    }

    /// Sets the code the process will exit with when it ends normally (`process.exitCode = n`).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let code = lp.run_main(|lp| drop(lp.set_timeout(|lp| lp.set_exit_code(4), 1)));
    /// assert_eq!(code.unwrap(), 4); // the program went on to the end, then exited with 4
    /// ```
    pub fn set_exit_code(&mut self, code: ExitCode) {
        self.process.exit_code = code;
        self.process.exit_code_is_old = false;
    }

    /// Ends the process now (`process.exit(code)`): `exit` listeners run, nothing else does.
    /// Outside [`run_main`](Self::run_main) it only stops the current run.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let code = lp.run_main(|lp| {
    ///     lp.set_timeout(|_| panic!("never runs"), 1);
    ///     lp.exit(5);
    /// });
    /// assert_eq!(code.unwrap(), 5);
    /// ```
    pub fn exit(&mut self, code: ExitCode) {
        self.process.exit_code = code;
        if self.process.running_main {
            panic::resume_unwind(Box::new(ExitNow));
        }
        self.stop();
    }

    /// An unhandled rejection no listener heard: in `run_main` it ends the process, as with
    /// Node's default `--unhandled-rejections=throw`; otherwise it is kept for
    /// [`take_unhandled_rejections`](Self::take_unhandled_rejections).
    pub(super) fn unhandled_rejection(&mut self, reason: Rejection) {
        if self.process.running_main {
            self.process.fatal = Some(Uncaught {
                message: reason.to_string(),
                frames: Vec::new(),
                location: None,
                rejection: Some(reason),
            });
            panic::resume_unwind(Box::new(FatalNow));
        }
        self.jobs.unhandled.push(reason);
    }

    fn emit_before_exit(&mut self) {
        let code = self.process.exit_code;
        self.note(|| TraceEvent::BeforeExit);
        self.emit("beforeExit", |l| &mut l.before_exit, &code);
        self.checkpoint();
    }

    /// Emits `exit`. Ticks queued by its listeners are dropped, but promise reactions and
    /// `queue_microtask` callbacks still run in the checkpoint after them, as in Node.
    fn emit_exit(&mut self) {
        let code = self.process.exit_code;
        self.jobs.microtasks.set_exiting();
        // What was still queued will never run; dropping the jobs frees them.
        drop(self.jobs.microtasks.clear());
        self.note(|| TraceEvent::Exit(code));
        self.emit("exit", |l| &mut l.exit, &code);
        self.checkpoint();
    }
}
