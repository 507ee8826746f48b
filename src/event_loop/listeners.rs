//! Process events and their listeners (`process.on(…)`): `warning`, `unhandledRejection`,
//! `uncaughtException`, `beforeExit` and `exit`.
//!
//! Every event is emitted the same way, as Node's `EventEmitter.prototype.emit` does it: the
//! listeners registered when the event is emitted run in the order they were added, and one
//! added meanwhile first hears the next emit. All five run inside one frame named after the
//! event, where a panic is what JavaScript calls a throw from a listener.

use super::process::{self, ExitCode, Uncaught};
use super::{EventLoop, Warning};
use crate::microtasks::Rejection;

/// A listener, receiving the event.
type Listener<E> = Box<dyn FnMut(&mut EventLoop, &E)>;

/// The listeners of one event, in the order they were added.
pub(super) struct Listeners<E> {
    list: Vec<Listener<E>>,
}

impl<E> Default for Listeners<E> {
    fn default() -> Self {
        Listeners { list: Vec::new() }
    }
}

impl<E> Listeners<E> {
    fn add(&mut self, listener: impl FnMut(&mut EventLoop, &E) + 'static) {
        self.list.push(Box::new(listener));
    }

    /// True when nobody listens: the loop then does what Node does by default.
    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Puts the listeners that were taken out to emit back in front of those added meanwhile.
    fn restore(&mut self, mut taken: Listeners<E>) {
        taken.list.append(&mut self.list);
        *self = taken;
    }
}

/// Every listener of the process, by event.
#[derive(Default)]
pub(super) struct ProcessListeners {
    pub(super) warning: Listeners<Warning>,
    pub(super) rejection: Listeners<Rejection>,
    pub(super) uncaught: Listeners<Uncaught>,
    pub(super) before_exit: Listeners<ExitCode>,
    pub(super) exit: Listeners<ExitCode>,
}

/// Picks one event's listeners out of the process's.
pub(super) type Pick<E> = fn(&mut ProcessListeners) -> &mut Listeners<E>;

impl EventLoop {
    // ANCHOR: emit
    /// Emits `event` to the listeners `which` picks, in a frame named `frame`. A listener gets
    /// the loop, which holds the list, so the list is taken out while they run, then put back
    /// with the ones added meanwhile behind it — also when a panic goes on to the embedder.
    pub(super) fn emit<E>(&mut self, frame: &'static str, which: Pick<E>, event: &E) {
        let taken = std::mem::take(which(&mut self.process.listeners));
        let mut taken = Some(taken);
        process::repair_on_unwind(
            self,
            &mut taken,
            |lp, taken| {
                let listeners = taken.as_mut().expect("taken above");
                lp.call_in_frame(frame, |lp| {
                    for listener in &mut listeners.list {
                        listener(lp, event);
                    }
                });
            },
            |lp, taken| which(&mut lp.process.listeners).restore(taken.take().expect("once")),
        );
        which(&mut self.process.listeners).restore(taken.take().expect("not restored yet"));
    }
    // ANCHOR_END: emit

    /// Listens for process warnings such as `TimeoutOverflowWarning`
    /// (`process.on('warning')`). Warnings are delivered on a tick, after the code that
    /// caused them has finished, as Node emits them. While no listener is registered, a
    /// warning is written to stderr, as Node's default handler writes it.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.on_warning(|lp, w| {
    ///     assert!(w.to_string().starts_with("TimeoutOverflowWarning"));
    ///     lp.set_exit_code(9);
    /// });
    /// assert_eq!(lp.run_main(|lp| drop(lp.set_timeout(|_| {}, f64::MAX))).unwrap(), 9);
    /// ```
    pub fn on_warning(&mut self, listener: impl FnMut(&mut EventLoop, &Warning) + 'static) {
        self.process.listeners.warning.add(listener);
    }

    /// Listens for promises rejected with no handler by the end of a checkpoint
    /// (`process.on('unhandledRejection')`).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.on_unhandled_rejection(|lp, _| lp.set_exit_code(7)); // heard: not fatal
    /// let code = lp.run_main(|lp| drop(Promise::<()>::rejected(lp, Rejection::new("lost"))));
    /// assert_eq!(code.unwrap(), 7);
    /// ```
    pub fn on_unhandled_rejection(
        &mut self,
        listener: impl FnMut(&mut EventLoop, &Rejection) + 'static,
    ) {
        self.process.listeners.rejection.add(listener);
    }

    /// Listens for callbacks that panic (`process.on('uncaughtException')`). With a listener,
    /// a panic no longer ends the process: the listener hears the message and the frames, and
    /// the loop goes on with the next callback. A panic inside the listener is fatal.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.on_uncaught_exception(|lp, err| {
    ///     assert_eq!(err.message, "boom");
    ///     lp.set_timeout(|lp| lp.set_exit_code(6), 1); // the loop goes on
    /// });
    /// assert_eq!(lp.run_main(|_| panic!("boom")).unwrap(), 6);
    /// ```
    pub fn on_uncaught_exception(
        &mut self,
        listener: impl FnMut(&mut EventLoop, &Uncaught) + 'static,
    ) {
        self.process.listeners.uncaught.add(listener);
    }

    /// Listens for the loop running dry (`process.on('beforeExit')`). A listener that
    /// schedules ref'd work restarts the loop, and the event fires again when it runs dry.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.on_before_exit(|lp, _| {
    ///     if lp.exit_code() == 0 {
    ///         lp.set_timeout(|lp| lp.set_exit_code(1), 1); // runs the loop once more
    ///     }
    /// });
    /// assert_eq!(lp.run_main(|_| {}).unwrap(), 1);
    /// ```
    pub fn on_before_exit(&mut self, mut listener: impl FnMut(&mut EventLoop, ExitCode) + 'static) {
        self.process
            .listeners
            .before_exit
            .add(move |lp, code| listener(lp, *code));
    }

    /// Listens for the end of the process (`process.on('exit')`). No more iterations run:
    /// timers set here never fire, and `next_tick` drops its callback. A listener stays
    /// registered for the next program [`run_main`](Self::run_main) runs on this loop.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.on_exit(|lp, code| {
    ///     lp.set_timeout(|_| panic!("never fires"), 1);
    ///     lp.set_exit_code(code + 10);
    /// });
    /// assert_eq!(lp.run_main(|lp| lp.set_exit_code(1)).unwrap(), 11);
    /// ```
    pub fn on_exit(&mut self, mut listener: impl FnMut(&mut EventLoop, ExitCode) + 'static) {
        self.process
            .listeners
            .exit
            .add(move |lp, code| listener(lp, *code));
    }

    /// `process.emitWarning`: listeners hear of it on a later tick.
    pub(super) fn emit_warning(&mut self, warning: Warning) {
        self.next_tick(move |lp| {
            if lp.process.listeners.warning.is_empty() {
                eprintln!("(eventloop) {}: {}", warning.name, warning.message);
            } else {
                lp.emit("emitWarning", |l| &mut l.warning, &warning);
            }
        });
    }
}
