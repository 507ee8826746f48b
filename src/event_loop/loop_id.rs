//! Which loop an id belongs to. Every id a loop hands out — a [`Timeout`](super::Timeout),
//! an [`Immediate`](super::Immediate), a [`HandleId`](super::HandleId), an
//! [`FdWatch`](super::FdWatch), a [`WorkRequest`](super::WorkRequest), a
//! [`TcpStream`](crate::net::TcpStream) — is a key into that loop's storage, and a key of
//! one loop means nothing in another: the same slot and generation there name some other
//! timer or socket. So each id also carries its loop's [`LoopId`], and a loop given an id
//! of another loop treats it as it treats a stale one — or, where it reports errors with
//! `io::Result`, refuses it with `InvalidInput`. Never does it reach its own object with it.

use std::fmt;
use std::io;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

use super::EventLoop;
use crate::heap::Key;

/// The identity of one [`EventLoop`]: a number no other loop built by this process gets
/// ([`EventLoop::id`]). 64 bits: a program that built a million loops a second would run
/// for half a million years before it ran out.
///
/// ```
/// use eventloop::prelude::*;
///
/// let (a, b) = (EventLoop::new(), EventLoop::new());
/// assert_ne!(a.id(), b.id()); // so an id from one loop is refused by the other
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LoopId(NonZeroU64);

impl LoopId {
    /// The identity of no loop: the counter would have to hand out 2^64 − 1 first.
    const NONE: LoopId = LoopId(NonZeroU64::MAX);

    /// The next unused identity.
    pub(super) fn next() -> LoopId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        LoopId(NonZeroU64::new(n).expect("the counter starts at 1 and cannot wrap"))
    }
}

impl fmt::Debug for LoopId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LoopId({})", self.0)
    }
}

// ANCHOR: loop_key
/// A key of one loop's storage and the loop it belongs to: what every id is made of.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct LoopKey<K = Key> {
    owner: LoopId,
    key: K,
}
// ANCHOR_END: loop_key

impl LoopKey {
    /// An id of no loop, naming nothing: a placeholder while a loop is being built.
    pub(super) const PLACEHOLDER: LoopKey = LoopKey {
        owner: LoopId::NONE,
        key: Key::DANGLING,
    };
}

impl<K: fmt::Debug> fmt::Debug for LoopKey<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} of loop {}", self.key, self.owner.0)
    }
}

/// The error an `io::Result` API returns for an id of another loop.
pub(crate) fn other_loop(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("this {what} belongs to another event loop"),
    )
}

impl EventLoop {
    /// This loop's identity, which every id it hands out carries.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let lp = EventLoop::new();
    /// assert_eq!(lp.id(), lp.id());
    /// ```
    pub fn id(&self) -> LoopId {
        self.id
    }

    /// `key` as an id of this loop.
    pub(crate) fn tag<K>(&self, key: K) -> LoopKey<K> {
        LoopKey {
            owner: self.id,
            key,
        }
    }

    // ANCHOR: untag
    /// The key inside `id` if `id` belongs to this loop, `None` for another loop's.
    pub(crate) fn untag<K>(&self, id: LoopKey<K>) -> Option<K> {
        (id.owner == self.id).then_some(id.key)
    }
    // ANCHOR_END: untag

    /// The key inside `id`, or an `InvalidInput` error naming `what` for another loop's.
    pub(crate) fn untag_or_err<K>(&self, id: LoopKey<K>, what: &str) -> io::Result<K> {
        self.untag(id).ok_or_else(|| other_loop(what))
    }
}
