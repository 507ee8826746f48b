//! The call stack: which piece of work is running right now, and who called it.
//!
//! JavaScript runs one function at a time. Each call pushes a *frame* (the function's name, in
//! our model), each return pops it, and the innermost frame is the code running now. The event
//! loop may only start the next task when the stack is empty again: that is *run to
//! completion*. Every callback the loop runs later in the book runs inside a named frame
//! (`"setTimeout"`, `"setImmediate"`, `"nextTick"`, …), so traces and the visualizer can say
//! what ran, and runaway recursion becomes a clear error instead of a crash.
//!
//! ```
//! use eventloop::stack::CallStack;
//!
//! let mut stack = CallStack::with_limit(3);
//! stack.push("main").unwrap();
//! stack.push("greet").unwrap();
//! assert_eq!(stack.trace().frames(), ["greet", "main"]); // innermost first
//! stack.pop();
//! stack.pop();
//! assert!(stack.is_empty());
//! ```

// EXERCISE `stack` (chapter 1): The call stack: named frames and a depth limit.
// Replace every `todo!()` below with working code; each has a `// TODO` that says what
// it should do. Check your work with `cargo learn stack`.
// Generated from src/stack.rs; `cargo learn reset stack` restores this file.
#![allow(unused)] // the learner's unfinished code leaves variables unused

use std::fmt;

/// How many frames deep a [`CallStack`] may grow unless told otherwise.
///
/// V8's real limit depends on the size of each frame (about 14,000 calls of an empty function
/// with Node 20's default 984 KiB stack); ours counts frames, which is what a reader can
/// reason about. It is lower because code that recurses through [`CallStack::call`] also
/// recurses natively: a thousand such calls fit easily in a 2 MiB thread stack, even in a
/// debug build, so the limit is reached as a typed error long before Rust's own stack runs out.
///
/// ```
/// use eventloop::stack::{CallStack, DEFAULT_STACK_LIMIT};
///
/// assert_eq!(CallStack::new().limit(), DEFAULT_STACK_LIMIT);
/// ```
pub const DEFAULT_STACK_LIMIT: usize = 1_000;

/// How many of the innermost frames a [`StackOverflow`] error names.
const FRAMES_IN_OVERFLOW: usize = 10;

/// A stack of named frames with a depth limit.
///
/// # Invariant
/// `frames.len() <= limit`: a push that would break it is refused with [`StackOverflow`].
///
/// ```
/// use eventloop::stack::{CallStack, StackOverflow};
///
/// let mut stack = CallStack::with_limit(2);
/// stack.push("main").unwrap();
/// stack.push("f").unwrap();
/// assert!(stack.push("g").is_err()); // the third frame does not fit
/// assert_eq!(stack.pop(), Some("f"));
/// ```
#[derive(Debug, Clone)]
pub struct CallStack {
    /// Outermost frame first, innermost (the running one) last.
    frames: Vec<&'static str>,
    limit: usize,
}

/// The error of pushing a frame onto a full stack: JavaScript's
/// `RangeError: Maximum call stack size exceeded`.
///
/// ```
/// use eventloop::stack::{CallStack, StackOverflow};
///
/// fn recurse(stack: &mut CallStack) -> Result<(), StackOverflow> {
///     stack.call("recurse", recurse)?
/// }
/// let err = recurse(&mut CallStack::with_limit(50)).unwrap_err();
/// assert_eq!((err.limit, err.frame, err.top.len()), (50, "recurse", 10));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackOverflow {
    /// The limit that was reached.
    pub limit: usize,
    /// The frame that could not be pushed.
    pub frame: &'static str,
    /// The innermost frames at the moment of the overflow, innermost first (at most ten).
    pub top: Vec<&'static str>,
}

impl fmt::Display for StackOverflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Maximum call stack size exceeded: cannot call `{}` at depth {}",
            self.frame, self.limit
        )?;
        for name in &self.top {
            write!(f, "\n    at {name}")?;
        }
        Ok(())
    }
}

impl std::error::Error for StackOverflow {}

/// A snapshot of the stack, innermost frame first, printed like a JavaScript stack trace.
///
/// ```
/// use eventloop::stack::{CallStack, StackOverflow};
///
/// let mut stack = CallStack::new();
/// stack.push("main").unwrap();
/// stack.push("handler").unwrap();
/// assert_eq!(stack.trace().to_string().lines().count(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StackTrace {
    frames: Vec<&'static str>,
}

impl StackTrace {
    /// The frame names, innermost (the one that was running) first.
    ///
    /// ```
    /// use eventloop::stack::{CallStack, StackOverflow};
    ///
    /// let mut stack = CallStack::new();
    /// stack.push("main").unwrap();
    /// stack.push("inner").unwrap();
    /// assert_eq!(stack.trace().frames(), ["inner", "main"]); // innermost first
    /// ```
    pub fn frames(&self) -> &[&'static str] {
        &self.frames
    }
}

impl fmt::Display for StackTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.frames.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "    at {name}")?;
        }
        Ok(())
    }
}

impl Default for CallStack {
    fn default() -> Self {
        Self::new()
    }
}

impl CallStack {
    /// An empty stack with the [`DEFAULT_STACK_LIMIT`].
    ///
    /// ```
    /// use eventloop::stack::{CallStack, StackOverflow};
    ///
    /// assert!(CallStack::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_STACK_LIMIT)
    }

    /// An empty stack that refuses to grow deeper than `limit` frames.
    ///
    /// A limit of 0 refuses every push; it is allowed so that tests can show the error.
    ///
    /// ```
    /// use eventloop::stack::{CallStack, StackOverflow};
    ///
    /// assert_eq!(CallStack::with_limit(8).limit(), 8);
    /// ```
    pub fn with_limit(limit: usize) -> Self {
        Self {
            frames: Vec::new(),
            limit,
        }
    }

    /// The depth limit.
    ///
    /// ```
    /// use eventloop::stack::{CallStack, StackOverflow};
    ///
    /// assert_eq!(CallStack::with_limit(3).limit(), 3);
    /// ```
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// How many frames are on the stack.
    ///
    /// ```
    /// use eventloop::stack::{CallStack, StackOverflow};
    ///
    /// let mut stack = CallStack::new();
    /// stack.push("main").unwrap();
    /// assert_eq!(stack.depth(), 1);
    /// ```
    pub fn depth(&self) -> usize {
        self.frames.len()
    }

    /// True when no code is running: the loop may take the next task.
    ///
    /// ```
    /// use eventloop::stack::{CallStack, StackOverflow};
    ///
    /// let mut stack = CallStack::new();
    /// assert!(stack.is_empty()); // between tasks: run-to-completion's empty stack
    /// stack.push("task").unwrap();
    /// assert!(!stack.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The innermost frame: the code running now.
    ///
    /// ```
    /// use eventloop::stack::{CallStack, StackOverflow};
    ///
    /// let mut stack = CallStack::new();
    /// assert_eq!(stack.top(), None);
    /// stack.push("main").unwrap();
    /// assert_eq!(stack.top(), Some("main"));
    /// ```
    pub fn top(&self) -> Option<&'static str> {
        self.frames.last().copied()
    }

    /// Enters a frame named `name`.
    ///
    /// # Errors
    /// [`StackOverflow`] when the stack already holds `limit` frames; the stack is unchanged.
    ///
    /// ```
    /// use eventloop::stack::{CallStack, StackOverflow};
    ///
    /// let mut stack = CallStack::with_limit(1);
    /// stack.push("main").unwrap();
    /// let err = stack.push("more").unwrap_err();
    /// assert_eq!(err.frame, "more");
    /// assert_eq!(stack.depth(), 1); // unchanged
    /// ```
    pub fn push(&mut self, name: &'static str) -> Result<(), StackOverflow> {
        // TODO: enter a frame, or refuse with StackOverflow when the stack is full.
        // Ok(()): `name` is now the innermost frame, and the stack is one frame deeper. A
        // stack that already holds `limit` frames refuses instead: Err(StackOverflow)
        // naming the limit, the refused `name`, and the innermost frames (at most
        // FRAMES_IN_OVERFLOW, innermost first), with the stack unchanged.
        // Example: limit 3, frames main, f, g: push("h") is Err(StackOverflow { limit: 3,
        // frame: "h", top: ["g", "f", "main"] }).
        todo!("enter a frame, or refuse with StackOverflow when the stack is full")
    }

    /// Leaves the innermost frame and returns its name, or `None` on an empty stack.
    ///
    /// ```
    /// use eventloop::stack::{CallStack, StackOverflow};
    ///
    /// let mut stack = CallStack::new();
    /// stack.push("main").unwrap();
    /// assert_eq!((stack.pop(), stack.pop()), (Some("main"), None));
    /// ```
    pub fn pop(&mut self) -> Option<&'static str> {
        // TODO: leave the innermost frame.
        // Returns the innermost frame's name and takes it off the stack; None on an empty
        // stack.
        // Example: after push("main") and push("f"): pop() is Some("f"), then
        // Some("main"), then None.
        todo!("leave the innermost frame")
    }

    /// The stack as it is now, innermost frame first.
    ///
    /// ```
    /// use eventloop::stack::{CallStack, StackOverflow};
    ///
    /// let mut stack = CallStack::new();
    /// stack.push("main").unwrap();
    /// let trace = stack.trace(); // a snapshot: later pushes do not change it
    /// stack.push("later").unwrap();
    /// assert_eq!(trace.frames(), ["main"]);
    /// ```
    pub fn trace(&self) -> StackTrace {
        // TODO: snapshot the frames, innermost first.
        // A StackTrace of every frame, innermost first; the stack itself is unchanged.
        // Example: after push("main"), push("a"), push("b"): trace().frames() is ["b",
        // "a", "main"].
        todo!("snapshot the frames, innermost first")
    }

    /// Runs `f` inside a frame named `name`: push, call, pop. This is what "calling a
    /// function" means in our model, and how recursion reaches the limit.
    ///
    /// # Errors
    /// [`StackOverflow`] when the frame cannot be pushed; `f` is then not called.
    ///
    /// ```
    /// use eventloop::stack::{CallStack, StackOverflow};
    ///
    /// let mut stack = CallStack::new();
    /// let depth = stack.call("outer", |s| s.call("inner", |s| s.depth())).unwrap().unwrap();
    /// assert_eq!(depth, 2);
    /// assert!(stack.is_empty()); // both frames popped on return
    /// ```
    pub fn call<R>(
        &mut self,
        name: &'static str,
        f: impl FnOnce(&mut CallStack) -> R,
    ) -> Result<R, StackOverflow> {
        self.push(name)?;
        let result = f(self);
        self.pop();
        Ok(result)
    }
}
