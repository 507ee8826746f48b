//! Freeing a chain of pending promises one link at a time. A pending promise owns what waits
//! on it, so dropping the head of a chain drops the chain; Rust does that by recursion, one
//! stack frame per link, and a long chain would overflow the stack. Here every drop of a
//! pending promise's waiters goes through one loop instead.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::node::{Erased, Inner, Reaction, State};
use super::then::Slot;

impl<T> Drop for Inner<T> {
    /// A pending promise hands what waits on it to [`free`].
    fn drop(&mut self) {
        if let State::Pending(reactions) = &mut self.state
            && !reactions.is_empty()
        {
            free(reactions.drain(..).map(Reaction::freed));
        }
    }
}

impl<S, F: 'static> Drop for Slot<S, F> {
    /// A handler dropped before it ran may hold promises (its closure's captures): it is
    /// freed by [`free`] too.
    fn drop(&mut self) {
        if let Some(handler) = self.handler.get_mut().take() {
            free([Freed::Owned(Box::new(handler))]);
        }
    }
}

impl<T> Reaction<T> {
    /// The reaction with its types forgotten, to be freed later.
    fn freed(self) -> Freed {
        match self {
            Reaction::Derived(node) => Freed::Shared(node),
            Reaction::Callback(callback) => Freed::Owned(callback),
        }
    }
}

// ANCHOR: free
/// Something being freed, its types forgotten: a node, or a boxed callback or handler.
#[allow(dead_code, reason = "held only to be dropped")]
enum Freed {
    Shared(Rc<dyn Erased>),
    Owned(Box<dyn Erased>),
}

thread_local! {
    /// True while [`free`] runs on this thread.
    static FREEING: Cell<bool> = const { Cell::new(false) };
    /// What drops inside a running [`free`] handed back to it, to be dropped in its loop.
    static LATER: RefCell<Vec<Freed>> = const { RefCell::new(Vec::new()) };
}

/// Drops `items` without letting one drop run inside another. Rust frees an `Rc` graph by
/// recursion: a node's drop drops what waits on it, whose drop drops what waits on *it*, and a
/// chain of 100,000 pending promises — linked by `then`, by adoption, by a combinator, by a
/// handler that holds a promise — overflows the stack (a JavaScript engine's collector has no
/// such limit). So the first `free` on a thread becomes a loop, and every `free` that runs
/// inside one of its drops only hands its items back to that loop.
fn free(items: impl IntoIterator<Item = Freed>) {
    if FREEING.get() {
        // If the thread is exiting and `LATER` is gone, the closure and the items in it are
        // dropped here, by recursion: the one case left.
        let _ = LATER.try_with(|later| later.borrow_mut().extend(items));
        return;
    }
    /// Ends the loop even if a drop panics; what is left waits for the next `free`.
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            FREEING.set(false);
        }
    }
    FREEING.set(true);
    let _done = Done;
    let _ = LATER.try_with(|later| later.borrow_mut().extend(items));
    // Last in, first out, as the reactions were attached: the newest link goes first.
    while let Some(item) = LATER
        .try_with(|later| later.borrow_mut().pop())
        .ok()
        .flatten()
    {
        drop(item);
    }
}
// ANCHOR_END: free
