//! A queue that a phase runs in *passes*: the entries queued before the pass began run in it,
//! the ones queued while it runs wait for the next pass (libuv's `uv__queue_move` of the
//! pending queue into a local one, Node's `immediateQueue` cleared before `processImmediate`
//! runs it).
//!
//! The pass stays in the loop, not in a local variable: the phase takes its entries out one at a
//! time, so a panic that unwinds out of `run()` leaves the rest where they were. The next pass
//! runs that rest alone, before anything queued since (Node's `outstandingQueue`).

use std::collections::VecDeque;

// ANCHOR: phase_queue
/// The entries of one phase: the pass under way, and those queued for the next one.
#[derive(Debug)]
pub(super) struct PhaseQueue<T> {
    /// The pass under way (or cut short by a panic), in run order.
    pass: VecDeque<T>,
    /// Queued since the pass began, in queue order.
    queued: VecDeque<T>,
}

impl<T> PhaseQueue<T> {
    /// Queues `entry` for the next pass.
    pub(super) fn push(&mut self, entry: T) {
        self.queued.push_back(entry);
    }

    /// Begins a pass: the queued entries become the pass, unless the last pass was cut short,
    /// whose rest runs first and alone. `newest_first` reverses the queued entries, for the
    /// closing phase (libuv pushes each closed handle at the head of its list).
    pub(super) fn begin_pass(&mut self, newest_first: bool) {
        if self.pass.is_empty() {
            std::mem::swap(&mut self.pass, &mut self.queued);
            if newest_first {
                self.pass.make_contiguous().reverse();
            }
        }
    }

    /// Takes the next entry of the pass.
    pub(super) fn next(&mut self) -> Option<T> {
        self.pass.pop_front()
    }
}
// ANCHOR_END: phase_queue

impl<T> PhaseQueue<T> {
    /// True while the pass under way has entries left.
    pub(super) fn in_pass(&self) -> bool {
        !self.pass.is_empty()
    }

    /// True when nothing waits, in the pass or for the next one.
    pub(super) fn is_empty(&self) -> bool {
        self.pass.is_empty() && self.queued.is_empty()
    }

    /// Drops every entry.
    pub(super) fn clear(&mut self) {
        self.pass.clear();
        self.queued.clear();
    }
}

impl<T> Default for PhaseQueue<T> {
    fn default() -> Self {
        PhaseQueue {
            pass: VecDeque::new(),
            queued: VecDeque::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PhaseQueue;

    fn drain(q: &mut PhaseQueue<u32>) -> Vec<u32> {
        std::iter::from_fn(|| q.next()).collect()
    }

    #[test]
    fn a_pass_runs_what_was_queued_before_it_began() {
        let mut q = PhaseQueue::default();
        q.push(1);
        q.push(2);
        q.begin_pass(false);
        assert_eq!(q.next(), Some(1));
        q.push(3); // queued during the pass: waits
        assert_eq!(drain(&mut q), [2]);
        q.begin_pass(false);
        assert_eq!(drain(&mut q), [3]);
        assert!(q.is_empty());
    }

    #[test]
    fn newest_first_reverses_the_pass_only() {
        let mut q = PhaseQueue::default();
        q.push(1);
        q.push(2);
        q.begin_pass(true);
        q.push(3);
        assert_eq!(drain(&mut q), [2, 1]);
        q.begin_pass(true);
        assert_eq!(drain(&mut q), [3]);
    }

    #[test]
    fn the_rest_of_a_cut_pass_runs_alone_and_first() {
        let mut q = PhaseQueue::default();
        q.push(1);
        q.push(2);
        q.push(3);
        q.begin_pass(true);
        assert_eq!(q.next(), Some(3)); // then a panic: 2 and 1 stay
        q.push(4);
        q.begin_pass(true);
        assert_eq!(drain(&mut q), [2, 1], "the rest keeps its order, without 4");
        q.begin_pass(true);
        assert_eq!(drain(&mut q), [4]);
    }
}
