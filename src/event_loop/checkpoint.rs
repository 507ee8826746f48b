//! `process.nextTick`, the microtask queue and the checkpoint that drains them after every
//! callback (chapter 5), with the unhandled-rejection report Node makes at the end of a
//! drain (`processTicksAndRejections`).

use std::rc::Rc;

use super::{EventLoop, process};
use crate::microtasks::{Handled, Job, Microtasks, Rejection, SharedJob};
use crate::trace::{Queue, TraceEvent};

/// A queued tick or microtask. It runs exactly once and can never be cancelled, so unlike a
/// timer or an immediate it needs no key in the callback heap: the queue owns it.
pub(super) enum Task {
    /// A closure, boxed.
    Once(Box<dyn FnOnce(&mut EventLoop)>),
    /// A promise reaction made by `then`: it lives in the node of the promise it will
    /// settle, so queueing it allocates nothing (see [`SharedJob`]).
    Reaction(Rc<dyn SharedJob<EventLoop>>),
}

impl EventLoop {
    // ANCHOR: next_tick
    /// Runs `callback` at the next checkpoint, before any promise reaction
    /// (`process.nextTick`). Once the process is exiting, the callback is dropped.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let console = Console::capture();
    /// let (a, b) = (console.clone(), console.clone());
    /// let mut lp = EventLoop::new();
    /// lp.run_main(move |lp| {
    ///     lp.queue_microtask(move |_| a.log("microtask"));
    ///     lp.next_tick(move |_| b.log("tick")); // ticks go first
    /// })
    /// .unwrap();
    /// assert_eq!(console.lines(), ["tick", "microtask"]);
    /// ```
    pub fn next_tick(&mut self, callback: impl FnOnce(&mut EventLoop) + 'static) {
        // While exiting, the queue hands the callback back; dropping it frees it.
        let queued = self
            .jobs
            .microtasks
            .next_tick(("nextTick", Task::Once(Box::new(callback))));
        if queued.is_ok() {
            self.note_queued(Queue::Ticks, "nextTick", None);
        }
    }

    /// Runs `callback` at the next checkpoint, after the ticks, in one FIFO with promise
    /// reactions (`queueMicrotask`).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let console = Console::capture();
    /// let (a, b) = (console.clone(), console.clone());
    /// let mut lp = EventLoop::new();
    /// lp.run_main(move |lp| {
    ///     Promise::resolved(()).then(lp, move |_, ()| a.log("then"));
    ///     lp.queue_microtask(move |_| b.log("microtask")); // one FIFO with reactions
    /// })
    /// .unwrap();
    /// assert_eq!(console.lines(), ["then", "microtask"]);
    /// ```
    pub fn queue_microtask(&mut self, callback: impl FnOnce(&mut EventLoop) + 'static) {
        self.queue_job("queueMicrotask", callback);
    }
    // ANCHOR_END: next_tick

    /// Queues a microtask running in a frame called `name` (promise reactions use this).
    pub(crate) fn queue_job(
        &mut self,
        name: &'static str,
        callback: impl FnOnce(&mut EventLoop) + 'static,
    ) {
        self.flush_woken_tasks();
        self.jobs
            .microtasks
            .queue_microtask((name, Task::Once(Box::new(callback))));
        self.note_queued(Queue::Microtasks, name, None);
    }

    /// Queues a promise reaction that lives in its derived promise's node.
    pub(crate) fn queue_reaction(&mut self, reaction: Rc<dyn SharedJob<EventLoop>>) {
        self.flush_woken_tasks();
        self.jobs
            .microtasks
            .queue_microtask(("promiseReaction", Task::Reaction(reaction)));
        self.note_queued(Queue::Microtasks, "promiseReaction", None);
    }

    // ANCHOR: checkpoint
    /// The checkpoint Node reaches after every callback it runs through `MakeCallback`
    /// (`InternalCallbackScope::Close`), and between two timers or two immediates
    /// (`runNextTicks`): all ticks, then all microtasks, until both queues are empty.
    ///
    /// The common case after an I/O callback is that nothing was queued: that test is inlined
    /// into every caller (three loads), and only a checkpoint with work makes a call.
    #[inline]
    pub(crate) fn checkpoint(&mut self) {
        if self.jobs.microtasks.is_empty()
            && self.jobs.rejections.is_empty()
            && !self.jobs.local_wakes.is_raised()
        {
            return; // nothing was queued, and no task was woken
        }
        self.run_checkpoint();
    }

    /// The checkpoint's loop, once something may wait.
    #[inline(never)]
    fn run_checkpoint(&mut self) {
        loop {
            self.dispatch_wakes(); // tasks woken by code without the loop at hand (chapter 10)
            if !self.jobs.microtasks.is_empty() {
                self.drain_jobs();
            }
            if self.local_wakes_waiting() {
                continue;
            }
            // `processPromiseRejections`: its listeners may queue more ticks.
            if !self.report_rejections() {
                break;
            }
        }
    }
    // ANCHOR_END: checkpoint

    // ANCHOR: drain_jobs
    /// Drains both queues, each job in its own frame. A drain may run millions of tiny jobs
    /// (a `next_tick` chain), so it has one panic boundary for all of them rather than one per
    /// job: a job that panics unwinds to here with its frame still on the stack, is handled
    /// exactly as [`call_in_frame`](Self::call_in_frame) handles a panic, and the drain
    /// resumes with the next job.
    fn drain_jobs(&mut self) {
        if self.trace.is_enabled() {
            self.record_drain();
        }
        loop {
            let drained = process::catch_panic(|| {
                Microtasks::drain(
                    self,
                    |lp| &mut lp.jobs.microtasks,
                    |lp, job| match job {
                        // A job leaves its queue as it starts: the trace's `start` of a
                        // `nextTick` frame at the drain's depth takes the oldest tick, any other
                        // the oldest microtask. No event of its own keeps this loop as small
                        // as it was before tracing (W3 runs it five million times).
                        Job::Tick((name, task)) | Job::Microtask((name, task)) => {
                            lp.enter_frame(name);
                            match task {
                                Task::Once(f) => f(lp),
                                Task::Reaction(reaction) => reaction.run(lp),
                            }
                            lp.leave_frame(name);
                        }
                    },
                )
            });
            let Err(panic) = drained else {
                self.note(|| TraceEvent::DrainEnd);
                return;
            };
            let name = self.stack.top().unwrap_or("?");
            self.uncaught_panic(panic); // may unwind further, after popping the frame
            self.leave_frame(name);
        }
    }

    // ANCHOR_END: drain_jobs

    /// True when a microtask queued now, by a job the drain is running, would be the drain's
    /// very next job: no microtask waits, nothing waits on the flag of local work (a command
    /// to run, or a task woken by code without the loop at hand, which is queued ahead of it),
    /// and no trace records each job. A task's entry uses it
    /// to take its own hop in place (chapter 10): what runs is exactly what the queue would
    /// have run, in the same order.
    #[inline]
    pub(crate) fn microtask_would_run_next(&self) -> bool {
        self.jobs.microtasks.microtasks() == 0
            && !self.local_wakes_waiting()
            && !self.trace.is_enabled()
    }

    #[cold]
    #[inline(never)]
    fn record_drain(&self) {
        self.note(|| TraceEvent::Drain {
            ticks: self.jobs.microtasks.ticks(),
            microtasks: self.jobs.microtasks.microtasks(),
        });
    }

    /// Remembers a promise rejected while nothing handled it (V8's
    /// `kPromiseRejectWithNoHandler`). If `promise` is still unhandled after the next drain of
    /// the microtask queue, the rejection is reported.
    pub(crate) fn track_rejection(&mut self, promise: Rc<dyn Handled>, reason: Rejection) {
        self.jobs.rejections.push((promise, reason));
    }

    /// Unhandled rejections that no listener heard, oldest first. Node would end the process
    /// with them (its default `--unhandled-rejections=throw`); chapter 6 does the same in
    /// `run_main`.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// drop(Promise::<()>::rejected(&mut lp, Rejection::new("lost")));
    /// lp.run(RunMode::Default); // outside run_main, a lost rejection is kept, not fatal
    /// let lost = lp.take_unhandled_rejections();
    /// assert_eq!(lost[0].to_string(), "lost");
    /// ```
    pub fn take_unhandled_rejections(&mut self) -> Vec<Rejection> {
        std::mem::take(&mut self.jobs.unhandled)
    }

    /// Reports the tracked rejections that are still unhandled; true if any was reported.
    /// The emptiness test is inlined into the checkpoint's loop, the report is a call.
    #[inline]
    fn report_rejections(&mut self) -> bool {
        !self.jobs.rejections.is_empty() && self.report_tracked_rejections()
    }

    /// [`report_rejections`](Self::report_rejections) once some are tracked.
    #[inline(never)]
    fn report_tracked_rejections(&mut self) -> bool {
        let mut reported = false;
        for (promise, reason) in std::mem::take(&mut self.jobs.rejections) {
            if promise.handled() {
                continue;
            }
            reported = true;
            if self.process.listeners.rejection.is_empty() {
                self.unhandled_rejection(reason);
                continue;
            }
            self.emit("unhandledRejection", |l| &mut l.rejection, &reason);
        }
        reported
    }
}
