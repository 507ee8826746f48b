//! `setImmediate`: callbacks for the check phase (`lib/timers.js` `setImmediate`,
//! `lib/internal/timers.js` `processImmediate`, `src/env.cc` `CheckImmediate`).
//!
//! Node registers one check handle that runs the immediate queue, and one idle handle that it
//! starts while any ref'd immediate waits: an active idle handle makes the poll phase return at
//! once, so a pending immediate never waits for I/O, and keeps the loop alive. The check phase
//! runs a *snapshot* of the queue: immediates queued while it runs wait for the next iteration.

use super::handles::{HandleCallback, HandleKind};
use super::phase_queue::PhaseQueue;
use super::{Callback, EventLoop, HandleId, Input, LoopKey};
use crate::heap::{Heap, Key};
use crate::trace::Queue;

/// The id of an immediate, for [`EventLoop::clear_immediate`]. Stale once the immediate ran
/// or was cleared; like a stale one, it does nothing on another loop than the one that made it.
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// let i: Immediate = lp.set_immediate(|_| {}).unref(&mut lp);
/// assert!(!i.has_ref(&lp)); // still runs if the loop runs, but does not keep it alive
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Immediate(LoopKey);

struct Entry {
    refed: bool,
    callback: Key,
}

/// The immediate queue and its counts (`immediateQueue`, `immediateInfo`).
#[derive(Default)]
pub(super) struct ImmediateQueue {
    entries: Heap<Entry>,
    /// Keys of `entries`, in `set_immediate` order; cleared entries stay until the check
    /// phase skips them.
    queue: PhaseQueue<Key>,
    /// Ref'd immediates waiting (`immediateInfo[kRefCount]`).
    ref_count: usize,
    check_handle: Option<HandleId>,
    idle_handle: Option<HandleId>,
}

impl ImmediateQueue {
    /// Immediates waiting to run.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// `immediate.unref()` lets the process end while this immediate waits; it still runs if
/// something else keeps the loop iterating. Chainable, like Node's.
impl super::Ref for Immediate {
    fn set_ref(&self, lp: &mut EventLoop, refed: bool) {
        lp.set_immediate_ref(*self, refed);
    }

    /// True while it waits and keeps the process alive (`immediate.hasRef()`).
    fn has_ref(self, lp: &EventLoop) -> bool {
        lp.untag(self.0)
            .and_then(|key| lp.immediates.entries.get(key))
            .is_some_and(|e| e.refed)
    }
}

impl EventLoop {
    /// Creates Node's check and idle handles, and its timer handle (`InitializeLibuv`).
    pub(super) fn init_node_handles(&mut self) {
        let check = self.new_handle(
            HandleKind::Check,
            "processImmediate",
            HandleCallback::Immediates,
        );
        self.start_handle(check).expect("a new handle starts");
        self.set_ref(check, false);
        let idle = self.new_handle(HandleKind::Idle, "immediateIdle", HandleCallback::Noop);
        self.immediates.check_handle = Some(check);
        self.immediates.idle_handle = Some(idle);

        let timer = self.new_handle(
            HandleKind::Timer,
            "processTimers",
            HandleCallback::NodeTimers,
        );
        let own = self.handle_key(timer).expect("made here");
        let key = self.timers.uv.insert(own);
        self.handles.get_mut(own).expect("just inserted").timer = Some(key);
        self.set_ref(timer, false);
        self.timers.node_handle = timer;
    }

    // ANCHOR: set_immediate
    /// Queues `callback` for the check phase (`setImmediate`). It runs after the I/O of this
    /// iteration, before any timer due at its end.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let console = Console::capture();
    /// let (a, b) = (console.clone(), console.clone());
    /// let mut lp = EventLoop::new();
    /// lp.run_main(move |lp| {
    ///     lp.set_timeout(move |_| a.log("timeout"), 0);
    ///     lp.set_immediate(move |_| b.log("immediate"));
    /// })
    /// .unwrap();
    /// // From the main script the order of these two is up to the clock, as in Node;
    /// // the immediate always runs within the first iteration.
    /// assert_eq!(console.lines().len(), 2);
    /// ```
    pub fn set_immediate(&mut self, callback: impl FnOnce(&mut EventLoop) + 'static) -> Immediate {
        let callback = self.store(Callback::Once(Box::new(callback)));
        let key = self.immediates.entries.insert(Entry {
            refed: true,
            callback,
        });
        self.immediates.queue.push(key);
        self.note_queued(Queue::Immediates, "setImmediate", Some(callback));
        self.add_immediate_ref(1);
        Immediate(self.tag(key))
    }
    // ANCHOR_END: set_immediate

    /// Cancels an immediate that has not run (`clearImmediate`). Clearing one that ran, was
    /// cleared, is stale or belongs to another loop does nothing.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let i = lp.set_immediate(|_| panic!("cleared"));
    /// lp.clear_immediate(i);
    /// assert!(!lp.run(RunMode::Default));
    /// ```
    pub fn clear_immediate(&mut self, immediate: Immediate) {
        let Some(key) = self.untag(immediate.0) else {
            return;
        };
        let Some(entry) = self.immediates.entries.remove(key) else {
            return;
        };
        self.note_unqueued(Queue::Immediates, Some(entry.callback));
        self.discard(entry.callback);
        if entry.refed {
            self.add_immediate_ref(-1);
        }
    }

    fn set_immediate_ref(&mut self, immediate: Immediate, refed: bool) {
        let Some(key) = self.untag(immediate.0) else {
            return;
        };
        let Some(entry) = self.immediates.entries.get_mut(key) else {
            return;
        };
        if entry.refed != refed {
            entry.refed = refed;
            self.add_immediate_ref(if refed { 1 } else { -1 });
        }
    }

    // ANCHOR: immediate_ref_solution
    /// Adjusts the ref'd-immediate count; the idle handle runs exactly while it is above 0
    /// (`toggleImmediateRef`).
    fn add_immediate_ref(&mut self, delta: isize) {
        // exercise: keep the idle handle running exactly while a ref'd immediate waits
        // contract: ref_count has changed by `delta`, and Node's idle handle is active exactly
        // contract: while ref_count is above 0: started when the count leaves 0, stopped when it
        // contract: returns to 0; any other change touches no handle. A count that would go below 0
        // contract: is a bug: panic.
        // contract: Example: two set_immediate calls start the idle handle once; clearing both
        // contract: stops it.
        // nudge: Which changes of the count matter to the idle handle?
        // hint: Keep the count before the change; the new one is before.checked_add_signed(delta),
        // hint: which fails below 0. Match (before, after): (0, 1..) starts the idle handle
        // hint: (self.immediates.idle_handle) with start_handle, (1.., 0) stops it with
        // hint: stop_handle.
        let before = self.immediates.ref_count;
        self.immediates.ref_count = before.checked_add_signed(delta).expect("ref count >= 0");
        let idle = self.immediates.idle_handle.expect("created with the loop");
        match (before, self.immediates.ref_count) {
            (0, 1..) => self
                .start_handle(idle)
                .expect("Node's idle handle is never closed"),
            (1.., 0) => self
                .stop_handle(idle)
                .expect("Node's idle handle is never closed"),
            _ => {}
        }
        // end exercise
    }
    // ANCHOR_END: immediate_ref_solution

    // ANCHOR: process_immediates_solution
    /// The check handle's callback: runs the immediates queued before the phase began, with a
    /// checkpoint between two of them (`processImmediate`). The pass stays in the queue, so a
    /// panic on its way to the embedder leaves the rest there; the next pass runs that rest
    /// alone, as Node runs its `outstandingQueue`.
    pub(super) fn process_immediates(&mut self) {
        // exercise: run one pass of the immediates queued before the check phase
        // contract: Every immediate queued before this check phase began has run, in set_immediate
        // contract: order, unless it was cleared; the ones queued while it runs wait for the next
        // contract: check phase. A checkpoint runs between two immediates (before the next one is
        // contract: taken) and after the last. Each immediate that runs gives back its ref, and
        // contract: once no ref'd immediate waits the idle handle is stopped. A panic that escapes
        // contract: leaves the rest of the pass queued, to run first next time.
        // contract: Example: immediates A (it queues C) and B: this check phase runs A, then B; C
        // contract: runs in the next iteration's check phase.
        // nudge: Which immediates belong to this pass, and when is that decided? Why must each one
        // nudge: be taken from the pass only when it is about to run?
        // hint: With no entries at all: clear the queue, stop the idle handle if nothing is ref'd,
        // hint: and return. Otherwise self.immediates.queue.begin_pass(false), then in
        // hint: call_in_frame("processImmediate", ...): while queue.in_pass(), run lp.checkpoint()
        // hint: before every immediate but the first, take queue.next(), skip an id whose entry is
        // hint: gone (entries.remove gives None), give back a ref'd entry's ref (ref_count -= 1),
        // hint: and lp.invoke(entry.callback, "setImmediate", Input::None). After the pass:
        // hint: checkpoint(), then stop_immediate_idle_if_unrefd().
        if self.immediates.entries.is_empty() {
            // Nothing to run, but maybe ids of cleared immediates to forget; and a panic that
            // escaped an earlier pass may have left the idle handle running with nothing ref'd.
            self.immediates.queue.clear();
            self.stop_immediate_idle_if_unrefd();
            return;
        }
        self.immediates.queue.begin_pass(false);
        self.call_in_frame("processImmediate", |lp| {
            let mut first = true;
            while lp.immediates.queue.in_pass() {
                // Between two immediates (`runNextTicks`), before the next one is taken: a
                // tick that clears it keeps it from running, and a tick that panics leaves
                // it queued.
                if !first {
                    lp.checkpoint();
                }
                first = false;
                let key = lp
                    .immediates
                    .queue
                    .next()
                    .expect("a tick cannot shorten the pass");
                let Some(entry) = lp.immediates.entries.remove(key) else {
                    continue; // cleared
                };
                if entry.refed {
                    lp.immediates.ref_count -= 1;
                }
                lp.note_unqueued(Queue::Immediates, Some(entry.callback));
                lp.invoke(entry.callback, "setImmediate", Input::None);
            }
        });
        self.checkpoint();
        self.stop_immediate_idle_if_unrefd();
        // end exercise
    }
    // ANCHOR_END: process_immediates_solution

    /// Stops the idle handle once no ref'd immediate waits, so it stops forcing zero timeouts.
    fn stop_immediate_idle_if_unrefd(&mut self) {
        if self.immediates.ref_count == 0 {
            let idle = self.immediates.idle_handle.expect("created with the loop");
            self.stop_handle(idle)
                .expect("Node's idle handle is never closed");
        }
    }
}
