//! The heap: where everything a callback owns lives while it waits to run.
//!
//! In JavaScript, a closure passed to `setTimeout` outlives the function that created it: it
//! sits on the heap until the timer fires, and the timer's id is how the program refers to it.
//! Our loop keeps every such closure in a [`Heap`], a *generational slab*: a vector of slots
//! with a free list, where each slot also counts how many times it has been reused. A [`Key`]
//! names a slot *and* its generation, so a key kept after its value was removed — the id of a
//! timer that already fired — can never reach the new value that reused the slot.
//!
//! ```
//! use eventloop::heap::Heap;
//!
//! let mut heap = Heap::new();
//! let first = heap.insert("first callback");
//! assert_eq!(heap.remove(first), Some("first callback"));
//!
//! let second = heap.insert("second callback"); // reuses the freed slot...
//! assert_eq!(heap.get(first), None); // ...but the old key is stale
//! assert_eq!(heap.get(second), Some(&"second callback"));
//! ```

// EXERCISE `heap` (chapter 1): The heap: a generational slab of callbacks.
// Replace every `todo!()` below with working code; each has a `// TODO` that says what
// it should do. Check your work with `cargo learn heap`.
// Generated from src/heap.rs; `cargo learn reset heap` restores this file.
#![allow(unused)] // the learner's unfinished code leaves variables unused

use std::fmt;

/// The name of a value in a [`Heap`]: a slot index plus the slot's generation when the value
/// was inserted. Keys are small and `Copy`, which is what timer and handle ids are made of.
///
/// ```
/// use eventloop::heap::{Heap, Key};
///
/// let mut heap = Heap::new();
/// let key: Key = heap.insert("timer");
/// heap.remove(key);
/// let reused = heap.insert("socket"); // the same slot, a new generation
/// assert_eq!(reused.index(), key.index());
/// assert_eq!(heap.get(key), None); // the old key is stale, not an alias
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    index: u32,
    generation: u32,
}

impl Key {
    /// A key that names nothing: every lookup with it finds nothing. Useful as a placeholder
    /// before the real key exists.
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let heap: Heap<u8> = Heap::new();
    /// assert_eq!(heap.get(Key::DANGLING), None);
    /// ```
    pub const DANGLING: Key = Key {
        index: u32::MAX,
        generation: u32::MAX,
    };

    /// The slot this key points at.
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let mut heap = Heap::new();
    /// assert_eq!(heap.insert(()).index(), 0); // the first slot
    /// ```
    pub fn index(self) -> u32 {
        self.index
    }

    /// The generation of the slot when this key was made.
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let mut heap = Heap::new();
    /// let old = heap.insert(1);
    /// heap.remove(old);
    /// assert_ne!(heap.insert(2).generation(), old.generation());
    /// ```
    pub fn generation(self) -> u32 {
        self.generation
    }

    /// The key packed into one number, for a place that can only carry an integer — such
    /// as the token the kernel hands back with a ready file descriptor.
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let mut heap = Heap::new();
    /// let key = heap.insert('x');
    /// let token: u64 = key.to_bits(); // what epoll carries for us
    /// assert_eq!(heap.get(Key::from_bits(token)), Some(&'x'));
    /// ```
    pub fn to_bits(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.index)
    }

    /// The key [`to_bits`](Self::to_bits) packed.
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let key = Heap::new().insert(0_u8);
    /// assert_eq!(Key::from_bits(key.to_bits()), key);
    /// ```
    pub fn from_bits(bits: u64) -> Key {
        Key {
            index: bits as u32,
            generation: (bits >> 32) as u32,
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}v{})", self.index, self.generation)
    }
}

/// One cell of the slab.
///
/// # Invariant
/// `value.is_some()` exactly when the slot is not on the free list.
#[derive(Debug, Clone)]
struct Slot<T> {
    /// Bumped every time the slot's value is removed, so older keys stop matching.
    generation: u32,
    value: Option<T>,
}

/// A generational slab: O(1) insert, lookup and removal, freed slots reused, stale keys
/// rejected.
///
/// ```
/// use eventloop::heap::{Heap, Key};
///
/// let mut heap = Heap::new();
/// let a = heap.insert(String::from("a"));
/// heap.get_mut(a).unwrap().push('!');
/// assert_eq!(heap.remove(a).as_deref(), Some("a!"));
/// assert!(heap.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct Heap<T> {
    slots: Vec<Slot<T>>,
    /// Indices of empty slots, reused last-freed first.
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Heap<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Heap<T> {
    /// An empty heap. It allocates nothing until the first insert.
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let heap: Heap<i32> = Heap::new();
    /// assert_eq!((heap.len(), heap.slot_count()), (0, 0));
    /// ```
    pub fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// How many values the heap holds.
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let mut heap = Heap::new();
    /// heap.insert(1);
    /// heap.insert(2);
    /// assert_eq!(heap.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the heap holds no values.
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let mut heap = Heap::new();
    /// let k = heap.insert(1);
    /// heap.remove(k);
    /// assert!(heap.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many slots exist, used or free: the most values ever held at once.
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let mut heap = Heap::new();
    /// let k = heap.insert(1);
    /// heap.remove(k);
    /// heap.insert(2); // reuses the freed slot
    /// assert_eq!((heap.len(), heap.slot_count()), (1, 1));
    /// ```
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// A heap of one free slot whose generation is already `generation`: the tests' way to
    /// reach a slot's last generations without 2^32 removes. Not part of the API.
    #[doc(hidden)]
    pub fn with_free_slot_at_generation(generation: u32) -> Self {
        Self {
            slots: vec![Slot {
                generation,
                value: None,
            }],
            free: vec![0],
            len: 0,
        }
    }

    /// Stores `value` and returns the key that names it, reusing a freed slot when there is one.
    ///
    /// # Panics
    /// When the heap already holds `u32::MAX` slots (keys are 32-bit indices).
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let mut heap = Heap::new();
    /// let key = heap.insert("value");
    /// assert_eq!(heap.get(key), Some(&"value"));
    /// ```
    pub fn insert(&mut self, value: T) -> Key {
        // TODO: store a value, reusing a free slot before growing the vector.
        // Returns a Key that names `value` (get(key) gives it back) until it is removed,
        // and len() grows by one. A slot freed by remove is reused before the vector
        // grows, under the slot's new generation.
        // Example: k1 = insert("a"); remove(k1); k2 = insert("b"): k2.index() ==
        // k1.index(), k2.generation() != k1.generation(), slot_count() == 1.
        todo!("store a value, reusing a free slot before growing the vector")
    }

    /// The value named by `key`, or `None` if it was removed (even if its slot was reused).
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let mut heap = Heap::new();
    /// let key = heap.insert(7);
    /// assert_eq!(heap.get(key), Some(&7));
    /// heap.remove(key);
    /// assert_eq!(heap.get(key), None);
    /// ```
    pub fn get(&self, key: Key) -> Option<&T> {
        // TODO: look a key up, rejecting stale generations.
        // Some(&value) while `key` names a live value; None once its value was removed,
        // even when the slot now holds another value.
        // Example: k1 = insert("a"); remove(k1); k2 = insert("b") (the same slot):
        // get(k1) is None, get(k2) is Some(&"b").
        todo!("look a key up, rejecting stale generations")
    }

    /// Like [`get`](Self::get), for changing the value in place.
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let mut heap = Heap::new();
    /// let key = heap.insert(1);
    /// *heap.get_mut(key).unwrap() += 1;
    /// assert_eq!(heap.get(key), Some(&2));
    /// ```
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        // TODO: look a key up for writing.
        // The same answer as get, as a mutable reference: Some(&mut value) for a live
        // key, None for a stale one.
        // Example: *get_mut(k).unwrap() = "b" changes what get(k) returns; get_mut(stale)
        // is None.
        todo!("look a key up for writing")
    }

    /// True when `key` still names a value.
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let mut heap = Heap::new();
    /// let key = heap.insert(());
    /// assert!(heap.contains(key));
    /// heap.remove(key);
    /// assert!(!heap.contains(key));
    /// ```
    pub fn contains(&self, key: Key) -> bool {
        self.get(key).is_some()
    }

    /// Takes the value named by `key` out of the heap, or returns `None` for a stale key.
    /// Afterwards `key` (and every copy of it) is stale, and the slot is free for reuse.
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let mut heap = Heap::new();
    /// let key = heap.insert("once");
    /// assert_eq!(heap.remove(key), Some("once"));
    /// assert_eq!(heap.remove(key), None); // a stale key removes nothing
    /// ```
    pub fn remove(&mut self, key: Key) -> Option<T> {
        // TODO: take a value out, retire the key, free the slot.
        // For a live key: Some(value), the value leaves, len() drops by one, and from now
        // on this key (and every copy of it) names nothing; the slot is free for a later
        // insert. For a stale key: None, and nothing changes. A slot whose generation
        // cannot grow any more is never reused.
        // Example: remove(k) is Some(v); then remove(k) is None and get(k) is None.
        todo!("take a value out, retire the key, free the slot")
    }

    /// Every live key with its value, in slot order.
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let mut heap = Heap::new();
    /// heap.insert(1);
    /// heap.insert(2);
    /// assert_eq!(heap.iter().map(|(_, v)| v).sum::<i32>(), 3);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (Key, &T)> {
        self.slots.iter().enumerate().filter_map(|(index, slot)| {
            let key = Key {
                index: index as u32,
                generation: slot.generation,
            };
            slot.value.as_ref().map(|value| (key, value))
        })
    }

    /// Removes every value. Keys handed out before stay stale forever.
    ///
    /// ```
    /// use eventloop::heap::{Heap, Key};
    ///
    /// let mut heap = Heap::new();
    /// let key = heap.insert(1);
    /// heap.clear();
    /// assert!(heap.is_empty() && heap.get(key).is_none());
    /// ```
    pub fn clear(&mut self) {
        for index in 0..self.slots.len() {
            let key = Key {
                index: index as u32,
                generation: self.slots[index].generation,
            };
            self.remove(key);
        }
    }
}
