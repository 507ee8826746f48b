//! The loop's typed state slots: one value per type, kept on the loop, where a callback — which
//! gets `&mut EventLoop` and nothing else — can reach it.
//!
//! Services built on the loop keep their state here, not in fields of the loop: `net` keeps
//! its sockets here. So the loop knows nothing of the services above it (the module graph has
//! no cycle), and an embedder's state — an engine's context, a program's counters — sits beside
//! theirs with no `Rc<RefCell<…>>`. A type the crate keeps private is a private slot: nothing
//! outside can name it.
//!
//! A lookup scans a short list and checks the type (a few dozen instructions): right for a
//! service's state reached once per operation, too dear for the innermost step of a hot path.
//! That is why promises keep their one spare reaction node per thread instead (see chapter 5).
//!
//! libuv gives a loop one untyped `data` pointer for this; Node hangs its per-loop state off
//! the `Environment`. Here the key is the Rust type.
//!
//! ```
//! use eventloop::clock::ManualClock;
//! use eventloop::event_loop::{EventLoop, RunMode};
//!
//! #[derive(Default)]
//! struct Visits(u32);
//!
//! let mut lp = EventLoop::with_clock(ManualClock::new());
//! for delay in [10, 20, 30] {
//!     lp.set_timeout(|lp| lp.state_mut::<Visits>().0 += 1, delay);
//! }
//! lp.run(RunMode::Default);
//! assert_eq!(lp.state::<Visits>().map(|v| v.0), Some(3));
//! ```

use std::any::{Any, TypeId};

use super::EventLoop;

/// The slots: few (one per service or embedder in use), so a short list beats a hash map.
/// Each keeps its type's id beside it, so the search compares ids without calling into the
/// value; only the slot found is asked its type, once, by the downcast.
#[derive(Default)]
pub(super) struct States {
    slots: Vec<(TypeId, Box<dyn Any>)>,
}

impl States {
    #[inline]
    fn position<T: 'static>(&self) -> Option<usize> {
        let id = TypeId::of::<T>();
        self.slots.iter().position(|(slot, _)| *slot == id)
    }

    /// Adds a slot for `value`; returns its place.
    fn add<T: 'static>(&mut self, value: T) -> usize {
        self.slots.push((TypeId::of::<T>(), Box::new(value)));
        self.slots.len() - 1
    }

    /// Adds a slot for `T::default()`, off the path of every lookup that finds its slot.
    #[cold]
    #[inline(never)]
    fn add_default<T: Default + 'static>(&mut self) -> usize {
        self.add(T::default())
    }
}

impl EventLoop {
    /// The value of type `T` kept on this loop, if there is one.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// assert_eq!(lp.state::<Vec<u8>>(), None);
    /// lp.insert_state(vec![1_u8]);
    /// assert_eq!(lp.state::<Vec<u8>>(), Some(&vec![1]));
    /// ```
    #[allow(
        clippy::missing_panics_doc,
        reason = "a slot holds the type it is keyed by"
    )]
    pub fn state<T: 'static>(&self) -> Option<&T> {
        let slot = &self.states.slots[self.states.position::<T>()?].1;
        Some(
            slot.downcast_ref()
                .expect("a slot holds the type it is keyed by"),
        )
    }

    /// The value of type `T` kept on this loop, made with `T::default()` on first use.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// #[derive(Default)]
    /// struct Hits(u32);
    /// let mut lp = EventLoop::new();
    /// lp.set_immediate(|lp| lp.state_mut::<Hits>().0 += 1);
    /// lp.set_immediate(|lp| lp.state_mut::<Hits>().0 += 1);
    /// lp.run(RunMode::Default);
    /// assert_eq!(lp.state::<Hits>().unwrap().0, 2);
    /// ```
    #[inline]
    #[allow(
        clippy::missing_panics_doc,
        reason = "a slot holds the type it is keyed by"
    )]
    pub fn state_mut<T: Default + 'static>(&mut self) -> &mut T {
        let at = match self.states.position::<T>() {
            Some(at) => at,
            None => self.states.add_default::<T>(),
        };
        self.states.slots[at]
            .1
            .downcast_mut()
            .expect("a slot holds the type it is keyed by")
    }

    /// Keeps `value` on this loop, in the slot of its type; returns the value it replaces.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// assert_eq!(lp.insert_state("first"), None);
    /// assert_eq!(lp.insert_state("second"), Some("first"));
    /// ```
    pub fn insert_state<T: 'static>(&mut self, value: T) -> Option<T> {
        let old = self.remove_state::<T>();
        self.states.add(value);
        old
    }

    /// Takes the value of type `T` off this loop.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.insert_state(42_u64);
    /// assert_eq!(lp.remove_state::<u64>(), Some(42));
    /// assert_eq!(lp.state::<u64>(), None);
    /// ```
    #[allow(
        clippy::missing_panics_doc,
        reason = "a slot holds the type it is keyed by"
    )]
    pub fn remove_state<T: 'static>(&mut self) -> Option<T> {
        let at = self.states.position::<T>()?;
        let (_, value) = self.states.slots.swap_remove(at);
        Some(
            *value
                .downcast()
                .expect("a slot holds the type it is keyed by"),
        )
    }
}
