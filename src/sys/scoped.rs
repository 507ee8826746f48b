//! A *scoped* thread-local: a value lent to the code one call runs, and taken back when the
//! call returns or unwinds (the pattern of the `scoped-tls` crate, and of tokio's per-thread
//! scheduler context).
//!
//! The loop needs it for the task being polled (chapter 10): `Future::poll` gets a `Context`,
//! not the loop, so a future that wants to spawn, defer or find its own task looks for it in
//! a thread-local. A `thread_local!` of a value with a destructor (an `Rc`, an `Option<Rc>`)
//! costs a registration check at every access and a copy in and out of its `Cell`; a
//! [`Scoped`] holds only a pointer — no destructor, so the access is one load — and lends a
//! plain reference to a value the caller keeps on its own stack.

use std::cell::Cell;

/// A pointer to a value lent by [`set`](Self::set), visible through [`with`](Self::with)
/// while that call runs. Meant for a `thread_local!` (it is `!Sync`: one thread sees it).
///
/// ```
/// use eventloop::sys::Scoped;
///
/// thread_local! {
///     static CURRENT: Scoped<String> = const { Scoped::new() };
/// }
/// let name = String::from("task 1");
/// let seen = CURRENT.with(|c| c.set(&name, || CURRENT.with(|c| c.with(|v| v.cloned()))));
/// assert_eq!(seen.as_deref(), Some("task 1"));
/// assert!(CURRENT.with(|c| c.with(|v| v.is_none()))); // taken back
/// ```
pub struct Scoped<T> {
    /// The value lent by the innermost running [`set`](Self::set), or null.
    ///
    /// # Invariant
    /// Non-null only while a `set` call is on this thread's stack: it points to the value
    /// that call borrows, which therefore outlives the pointer's time here.
    current: Cell<*const T>,
}

impl<T> Scoped<T> {
    /// Nothing lent.
    ///
    /// ```
    /// use eventloop::sys::Scoped;
    ///
    /// let scoped: Scoped<u8> = Scoped::new();
    /// assert!(scoped.with(|v| v.is_none()));
    /// ```
    pub const fn new() -> Self {
        Scoped {
            current: Cell::new(std::ptr::null()),
        }
    }

    /// Lends `value` to whatever `f` runs; the previous value (a `set` further up the stack)
    /// is visible again once `f` returns — or unwinds.
    ///
    /// ```
    /// use eventloop::sys::Scoped;
    ///
    /// let scoped = Scoped::new();
    /// scoped.set(&1, || {
    ///     scoped.set(&2, || assert_eq!(scoped.with(|v| v.copied()), Some(2)));
    ///     assert_eq!(scoped.with(|v| v.copied()), Some(1)); // the outer one again
    /// });
    /// ```
    // ANCHOR: scoped_set
    #[inline]
    pub fn set<R>(&self, value: &T, f: impl FnOnce() -> R) -> R {
        /// Puts the previous pointer back, on return and on unwind alike.
        struct Restore<'a, T> {
            cell: &'a Cell<*const T>,
            previous: *const T,
        }
        impl<T> Drop for Restore<'_, T> {
            #[inline]
            fn drop(&mut self) {
                self.cell.set(self.previous);
            }
        }
        let previous = self.current.replace(value);
        let _restore = Restore {
            cell: &self.current,
            previous,
        };
        f()
    }
    // ANCHOR_END: scoped_set

    /// Calls `f` with the value lent now (`None` outside any [`set`](Self::set)). The
    /// reference cannot leave `f`.
    ///
    /// ```
    /// use eventloop::sys::Scoped;
    ///
    /// let scoped = Scoped::new();
    /// assert_eq!(scoped.with(|v| v.map(|s: &&str| s.len())), None);
    /// assert_eq!(scoped.set(&"four", || scoped.with(|v| v.map(|s| s.len()))), Some(4));
    /// ```
    // ANCHOR: scoped_with
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        let current = self.current.get();
        // SAFETY: by the field's invariant the pointer is null or points to the value a `set`
        // still running on this thread borrows (shared), so it is valid and not mutably
        // borrowed for as long as that `set` runs — and `f`, called from inside it, ends
        // first: the reference's lifetime is `f`'s, which cannot return it. `Cell` makes
        // `Scoped` `!Sync`, so no other thread reads this pointer.
        let value = unsafe { current.as_ref() };
        f(value)
    }
    // ANCHOR_END: scoped_with
}

impl<T> Default for Scoped<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::Scoped;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    /// A panic inside `set` must not leave the thread-local pointing at the value the
    /// unwinding frame owned: the next `with` would read freed memory.
    #[test]
    fn a_panic_inside_set_puts_the_previous_value_back() {
        let scoped = Scoped::new();
        let outer = String::from("outer");
        scoped.set(&outer, || {
            let unwound = catch_unwind(AssertUnwindSafe(|| {
                let inner = String::from("inner");
                scoped.set(&inner, || panic!("the poll panicked"));
            }));
            assert!(unwound.is_err());
            assert_eq!(scoped.with(|v| v.cloned()).as_deref(), Some("outer"));
        });
        assert!(
            scoped.with(|v| v.is_none()),
            "nothing lent once the outer set returned"
        );
    }
}
