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
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use super::{EventLoop, RunMode};
use crate::microtasks::Rejection;

/// A process exit code: 0 for success, 1 after an uncaught error, or what the program set.
pub type ExitCode = i32;

/// An error nothing caught: the process ends with exit code 1.
#[derive(Debug, Clone)]
pub struct Uncaught {
    /// What went wrong: the panic message, or the rejection's error.
    pub message: String,
    /// The frames running when it happened, innermost first (empty for a rejection).
    pub frames: Vec<&'static str>,
    /// The rejection, when the error was a promise nobody handled.
    pub rejection: Option<Rejection>,
}

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
struct ExitNow(ExitCode);

/// An unhandled rejection unwinding out of the loop (Node's `--unhandled-rejections=throw`);
/// the rejection itself waits in `Process::fatal` (a panic payload must be `Send`).
struct RejectionNow;

type Listener = Box<dyn FnMut(&mut EventLoop, ExitCode)>;

#[derive(Default)]
pub(super) struct Process {
    before_exit: Vec<Listener>,
    exit: Vec<Listener>,
    exit_code: ExitCode,
    /// Inside `run_main`: unhandled rejections and `exit` end the process.
    running_main: bool,
    fatal: Option<Rejection>,
}

impl EventLoop {
    // ANCHOR: run_main
    /// Runs a program as Node runs a main module: the script in a frame named `"main"`, a
    /// checkpoint, the loop until nothing keeps it alive, `beforeExit` (which may restart the
    /// loop) and `exit`. Returns the exit code.
    ///
    /// # Errors
    /// [`Uncaught`] when a callback panicked or a promise rejection went unhandled (with no
    /// `unhandledRejection` listener): `exit` listeners still ran, with code 1.
    pub fn run_main(&mut self, script: impl FnOnce(&mut EventLoop)) -> Result<ExitCode, Uncaught> {
        self.process.running_main = true;
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            self.call_in_frame("main", script);
            self.checkpoint();
            loop {
                self.run(RunMode::Default);
                if self.stalled {
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
        let code = match &result {
            Ok(code) => *code,
            Err(_) => 1,
        };
        let exit = panic::catch_unwind(AssertUnwindSafe(|| self.emit_exit(code)));
        self.process.running_main = false;
        match exit {
            Ok(()) => result,
            Err(payload) => self.unwound(payload),
        }
    }
    // ANCHOR_END: run_main

    /// Turns what unwound out of the loop into the result of `run_main`.
    fn unwound(&mut self, payload: Box<dyn Any + Send>) -> Result<ExitCode, Uncaught> {
        let frames = self.stack.trace().frames().to_vec();
        while self.stack.pop().is_some() {}
        if let Some(ExitNow(code)) = payload.downcast_ref::<ExitNow>() {
            return Ok(*code);
        }
        if payload.is::<RejectionNow>()
            && let Some(reason) = self.process.fatal.take()
        {
            return Err(Uncaught {
                message: reason.to_string(),
                frames: Vec::new(),
                rejection: Some(reason),
            });
        }
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a callback panicked".to_string());
        Err(Uncaught {
            message,
            frames,
            rejection: None,
        })
    }

    /// Listens for the loop running dry (`process.on('beforeExit')`). A listener that
    /// schedules ref'd work restarts the loop, and the event fires again when it runs dry.
    pub fn on_before_exit(&mut self, listener: impl FnMut(&mut EventLoop, ExitCode) + 'static) {
        self.process.before_exit.push(Box::new(listener));
    }

    /// Listens for the end of the process (`process.on('exit')`). No more iterations run:
    /// timers set here never fire, and `next_tick` drops its callback.
    pub fn on_exit(&mut self, listener: impl FnMut(&mut EventLoop, ExitCode) + 'static) {
        self.process.exit.push(Box::new(listener));
    }

    /// The code the process will exit with (`process.exitCode`).
    pub fn exit_code(&self) -> ExitCode {
        self.process.exit_code
    }

    /// Sets the code the process will exit with when it ends normally (`process.exitCode = n`).
    pub fn set_exit_code(&mut self, code: ExitCode) {
        self.process.exit_code = code;
    }

    /// Ends the process now (`process.exit(code)`): `exit` listeners run, nothing else does.
    /// Outside [`run_main`](Self::run_main) it only stops the current run.
    pub fn exit(&mut self, code: ExitCode) {
        self.process.exit_code = code;
        if self.process.running_main {
            panic::resume_unwind(Box::new(ExitNow(code)));
        }
        self.stop();
    }

    /// An unhandled rejection no listener heard: in `run_main` it ends the process, as with
    /// Node's default `--unhandled-rejections=throw`; otherwise it is kept for
    /// [`take_unhandled_rejections`](Self::take_unhandled_rejections).
    pub(super) fn unhandled_rejection(&mut self, reason: Rejection) {
        if self.process.running_main {
            self.process.fatal = Some(reason);
            panic::resume_unwind(Box::new(RejectionNow));
        }
        self.unhandled.push(reason);
    }

    fn emit_before_exit(&mut self) {
        let code = self.process.exit_code;
        let mut listeners = std::mem::take(&mut self.process.before_exit);
        self.call_in_frame("beforeExit", |lp| {
            for listener in &mut listeners {
                listener(lp, code);
            }
        });
        listeners.append(&mut self.process.before_exit);
        self.process.before_exit = listeners;
        self.checkpoint();
    }

    fn emit_exit(&mut self, code: ExitCode) {
        self.microtasks.set_exiting();
        // What was still queued will never run; free it.
        for job in self.microtasks.clear() {
            let (crate::microtasks::Job::Tick((_, key))
            | crate::microtasks::Job::Microtask((_, key))) = job;
            self.discard(key);
        }
        let mut listeners = std::mem::take(&mut self.process.exit);
        self.call_in_frame("exit", |lp| {
            for listener in &mut listeners {
                listener(lp, code);
            }
        });
    }
}
