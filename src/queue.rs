//! The task queue, and the one-queue event loop that most diagrams draw.
//!
//! A *task* is a piece of work the loop will run later: a callback and the name of the frame it
//! runs in. A [`TaskQueue`] keeps tasks first-in, first-out. [`NaiveLoop`] is the loop of the
//! popular picture: take the oldest task, run it to completion on an empty stack, repeat until
//! the queue is empty. It is correct about run-to-completion and about FIFO order — and wrong
//! about almost everything else Node does, which is what the rest of the book builds: timers
//! are not tasks in a queue, there are several queues visited in phases, and two queues
//! (`nextTick` and microtasks) are drained after every single callback.
//!
//! ```
//! use eventloop::queue::NaiveLoop;
//! use std::{cell::RefCell, rc::Rc};
//!
//! let log = Rc::new(RefCell::new(Vec::new()));
//! let mut naive = NaiveLoop::new();
//! let l = log.clone();
//! naive.post("first", move |lp| {
//!     l.borrow_mut().push("first");
//!     let l2 = l.clone();
//!     lp.post("posted by first", move |_| l2.borrow_mut().push("posted by first"));
//! });
//! let l = log.clone();
//! naive.post("second", move |_| l.borrow_mut().push("second"));
//! naive.run().unwrap();
//! assert_eq!(*log.borrow(), ["first", "second", "posted by first"]);
//! ```

use std::collections::VecDeque;
use std::fmt;

use crate::stack::{CallStack, StackOverflow};

// ANCHOR: task
/// A unit of work for the [`NaiveLoop`]: a name for its frame and a closure that receives the
/// loop, so it can post more work without globals.
///
/// ```
/// use eventloop::queue::{NaiveLoop, Task, TaskQueue};
///
/// let mut queue = TaskQueue::new();
/// queue.push(Task { name: "hello", run: Box::new(|_| {}) });
/// assert_eq!(queue.pop().unwrap().name, "hello");
/// ```
pub struct Task {
    /// The frame the task runs in, shown in stack traces.
    pub name: &'static str,
    /// The work itself. `Box` puts the closure and everything it captured on the heap.
    pub run: Box<dyn FnOnce(&mut NaiveLoop)>,
}
// ANCHOR_END: task

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task").field("name", &self.name).finish()
    }
}

// ANCHOR: task_queue
/// A first-in, first-out queue of items — tasks here; later chapters queue immediates and
/// completions the same way.
///
/// ```
/// use eventloop::queue::{NaiveLoop, TaskQueue};
///
/// let mut queue = TaskQueue::new();
/// queue.push(1);
/// queue.push(2);
/// assert_eq!(queue.pop(), Some(1)); // first in, first out
/// ```
#[derive(Debug)]
pub struct TaskQueue<T> {
    items: VecDeque<T>,
}
// ANCHOR_END: task_queue

impl<T> Default for TaskQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> TaskQueue<T> {
    /// An empty queue.
    ///
    /// ```
    /// use eventloop::queue::{NaiveLoop, TaskQueue};
    ///
    /// let queue: TaskQueue<u8> = TaskQueue::new();
    /// assert!(queue.is_empty());
    /// ```
    pub fn new() -> Self {
        Self {
            items: VecDeque::new(),
        }
    }

    /// Adds `item` behind everything already queued.
    ///
    /// ```
    /// use eventloop::queue::{NaiveLoop, TaskQueue};
    ///
    /// let mut queue = TaskQueue::new();
    /// queue.push("last");
    /// assert_eq!(queue.len(), 1);
    /// ```
    pub fn push(&mut self, item: T) {
        // exercise: add an item at the back
        // contract: `item` waits behind every item already queued: len() grows by one, and pop
        // contract: hands it out after them.
        // contract: Example: push(1); push(2): pop() is Some(1).
        // nudge: A VecDeque grows at either end. Which end is the back of the queue?
        // hint: VecDeque::push_back.
        self.items.push_back(item);
        // end exercise
    }

    /// Takes the oldest item, or `None` when the queue is empty.
    ///
    /// ```
    /// use eventloop::queue::{NaiveLoop, TaskQueue};
    ///
    /// let mut queue = TaskQueue::new();
    /// queue.push('a');
    /// assert_eq!((queue.pop(), queue.pop()), (Some('a'), None));
    /// ```
    pub fn pop(&mut self) -> Option<T> {
        // exercise: take the oldest item
        // contract: Takes the oldest item out and returns it; None when nothing waits.
        // contract: Example: push(1), push(2), push(3): pop() gives Some(1), Some(2), Some(3), then
        // contract: None.
        // nudge: Where does the oldest item wait?
        // hint: The oldest item is at the front: VecDeque::pop_front.
        self.items.pop_front()
        // end exercise
    }

    /// How many items wait.
    ///
    /// ```
    /// use eventloop::queue::{NaiveLoop, TaskQueue};
    ///
    /// let mut queue = TaskQueue::new();
    /// queue.push(());
    /// queue.push(());
    /// assert_eq!(queue.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing waits.
    ///
    /// ```
    /// use eventloop::queue::{NaiveLoop, TaskQueue};
    ///
    /// let mut queue = TaskQueue::new();
    /// queue.push(0);
    /// queue.pop();
    /// assert!(queue.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Takes every item queued so far, leaving the queue empty: what a phase does when
    /// items added while it runs must wait for the next turn.
    ///
    /// ```
    /// use eventloop::queue::{NaiveLoop, TaskQueue};
    ///
    /// let mut queue = TaskQueue::new();
    /// queue.push(1);
    /// let batch = queue.take_all(); // what was queued so far; new items wait for the next batch
    /// queue.push(2);
    /// assert_eq!(batch.collect::<Vec<_>>(), [1]);
    /// ```
    pub fn take_all(&mut self) -> TaskQueue<T> {
        TaskQueue {
            items: std::mem::take(&mut self.items),
        }
    }
}

impl<T> Iterator for TaskQueue<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.pop()
    }
}

// ANCHOR: naive_loop
/// The event loop of the popular diagram: one queue, one stack, run until the queue is empty.
///
/// ```
/// use eventloop::queue::{NaiveLoop, TaskQueue};
///
/// let mut lp = NaiveLoop::new();
/// lp.post("first", |lp| lp.post("third", |_| {}));
/// lp.post("second", |_| {});
/// assert_eq!(lp.run().unwrap(), 3); // every task, in order, each on an empty stack
/// ```
pub struct NaiveLoop {
    queue: TaskQueue<Task>,
    stack: CallStack,
    tasks_run: usize,
}
// ANCHOR_END: naive_loop

impl fmt::Debug for NaiveLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NaiveLoop")
            .field("queued", &self.queue.len())
            .field("stack", &self.stack)
            .field("tasks_run", &self.tasks_run)
            .finish()
    }
}

impl Default for NaiveLoop {
    fn default() -> Self {
        Self::new()
    }
}

impl NaiveLoop {
    /// A loop with an empty queue and a stack of the default depth limit.
    ///
    /// ```
    /// use eventloop::queue::{NaiveLoop, TaskQueue};
    ///
    /// let lp = NaiveLoop::new();
    /// assert_eq!((lp.queued(), lp.tasks_run()), (0, 0));
    /// ```
    pub fn new() -> Self {
        Self::with_stack(CallStack::new())
    }

    /// A loop whose tasks run on `stack` (for example one with a small depth limit).
    ///
    /// ```
    /// use eventloop::queue::NaiveLoop;
    /// use eventloop::stack::CallStack;
    ///
    /// fn deep(lp: &mut NaiveLoop) {
    ///     lp.call("deep", deep).ok();
    /// }
    /// let mut lp = NaiveLoop::with_stack(CallStack::with_limit(5));
    /// lp.post("task", deep);
    /// assert_eq!(lp.run().unwrap(), 1); // the recursion hit the limit of 5 and stopped
    /// ```
    pub fn with_stack(stack: CallStack) -> Self {
        Self {
            queue: TaskQueue::new(),
            stack,
            tasks_run: 0,
        }
    }

    /// Queues `run` to be called later in a frame named `name`, behind every task already
    /// queued — including when called from inside a running task.
    ///
    /// ```
    /// use eventloop::queue::{NaiveLoop, TaskQueue};
    ///
    /// let mut lp = NaiveLoop::new();
    /// lp.post("later", |_| {});
    /// assert_eq!(lp.queued(), 1); // nothing ran yet
    /// ```
    pub fn post(&mut self, name: &'static str, run: impl FnOnce(&mut NaiveLoop) + 'static) {
        self.queue.push(Task {
            name,
            run: Box::new(run),
        });
    }

    /// Calls `f` synchronously inside a frame named `name`, the way one JavaScript function
    /// calls another: the frame sits on top of the running task's frame.
    ///
    /// # Errors
    /// [`StackOverflow`] when the stack is full; `f` is not called.
    ///
    /// ```
    /// use eventloop::queue::{NaiveLoop, TaskQueue};
    ///
    /// let mut lp = NaiveLoop::new();
    /// lp.post("task", |lp| {
    ///     let depth = lp.call("helper", |lp| lp.stack().depth()).unwrap();
    ///     assert_eq!(depth, 2); // "task", then "helper" on top
    /// });
    /// lp.run().unwrap();
    /// ```
    pub fn call<R>(
        &mut self,
        name: &'static str,
        f: impl FnOnce(&mut NaiveLoop) -> R,
    ) -> Result<R, StackOverflow> {
        self.stack.push(name)?;
        let result = f(self);
        self.stack.pop();
        Ok(result)
    }

    /// The stack as the running code sees it.
    ///
    /// ```
    /// use eventloop::queue::{NaiveLoop, TaskQueue};
    ///
    /// let mut lp = NaiveLoop::new();
    /// lp.post("t", |lp| assert_eq!(lp.stack().top(), Some("t")));
    /// lp.run().unwrap();
    /// ```
    pub fn stack(&self) -> &CallStack {
        &self.stack
    }

    /// The stack, for code that manages frames by hand.
    ///
    /// ```
    /// use eventloop::queue::{NaiveLoop, TaskQueue};
    ///
    /// let mut lp = NaiveLoop::new();
    /// lp.post("t", |lp| {
    ///     lp.stack_mut().push("by hand").unwrap();
    ///     assert_eq!(lp.stack_mut().pop(), Some("by hand")); // popped before the task returns
    /// });
    /// lp.run().unwrap();
    /// ```
    pub fn stack_mut(&mut self) -> &mut CallStack {
        &mut self.stack
    }

    /// How many tasks wait.
    ///
    /// ```
    /// use eventloop::queue::{NaiveLoop, TaskQueue};
    ///
    /// let mut lp = NaiveLoop::new();
    /// lp.post("a", |_| {});
    /// lp.post("b", |_| {});
    /// assert_eq!(lp.queued(), 2);
    /// ```
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// How many tasks have run since the loop was made.
    ///
    /// ```
    /// use eventloop::queue::{NaiveLoop, TaskQueue};
    ///
    /// let mut lp = NaiveLoop::new();
    /// lp.post("a", |_| {});
    /// lp.run().unwrap();
    /// assert_eq!(lp.tasks_run(), 1);
    /// ```
    pub fn tasks_run(&self) -> usize {
        self.tasks_run
    }

    // ANCHOR: run_solution
    /// Runs tasks, oldest first, until the queue is empty, and returns how many ran. Tasks
    /// posted by a running task join the back of the queue.
    ///
    /// # Errors
    /// [`StackOverflow`] when a task's own frame cannot be pushed (a loop made with a stack
    /// limit of 0); the task is dropped, the rest stay queued.
    ///
    /// # Panics
    /// When a task returns with frames of its own still on the stack: the next task would not
    /// start on an empty stack, which breaks run-to-completion.
    ///
    /// ```
    /// use eventloop::queue::{NaiveLoop, TaskQueue};
    ///
    /// let mut lp = NaiveLoop::new();
    /// lp.post("tick", |lp| lp.post("tock", |_| {})); // posted while running: runs in this run too
    /// assert_eq!(lp.run().unwrap(), 2);
    /// assert_eq!(lp.queued(), 0);
    /// ```
    pub fn run(&mut self) -> Result<usize, StackOverflow> {
        // exercise: the loop: take, check the stack, push a frame, run, pop
        // contract: Ok(n): the queue is empty, tasks posted by running tasks included; n tasks ran
        // contract: in this call, oldest first, and tasks_run grew by n. Each task ran inside a
        // contract: frame named after it, on a stack that held nothing else; a task about to start
        // contract: on a stack that still holds frames panics (run-to-completion violated). A task
        // contract: whose frame does not fit ends the run with Err(StackOverflow); the tasks behind
        // contract: it stay queued.
        // contract: Example: post a (which posts c) and b: run() is Ok(3), and they ran a, b, c.
        // nudge: It is a loop: until when does it go round? What must be true of the stack before
        // nudge: each task, and who pushes the task's frame?
        // hint: While self.queue.pop() gives a task: assert the stack is empty (that is
        // hint: run-to-completion), push the task's frame with `?`, call (task.run)(self), pop the
        // hint: frame, count it in self.tasks_run. Return how many ran in this call.
        let mut ran = 0;
        while let Some(task) = self.queue.pop() {
            assert!(
                self.stack.is_empty(),
                "run-to-completion violated: the stack still holds {:?} before task `{}`",
                self.stack.trace().frames(),
                task.name
            );
            self.stack.push(task.name)?;
            (task.run)(self);
            self.stack.pop();
            self.tasks_run += 1;
            ran += 1;
        }
        Ok(ran)
        // end exercise
    }
    // ANCHOR_END: run_solution
}
