//! A loop's tasks: the table that owns their futures, the entries that poll them, and the
//! deferred loop operations (*commands*) that futures issue while they are polled.
//!
//! `Future::poll` receives a [`Context`], not `&mut EventLoop`, so a future cannot call the loop
//! while it runs. It records what it needs instead — "subscribe to this promise", "set this
//! timer", "queue this task" — as a command, and the loop runs the commands right after the poll
//! returns, in the order they were issued. Nothing else runs in between, so the program cannot
//! tell the difference from a direct call: this is the *mailbox* of DESIGN §2.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::atomic::AtomicU8;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::join::{JoinError, JoinSlot};
use super::schedule::{Header, Inbox};
use crate::event_loop::{EventLoop, LocalWakes, WakeSource};
use crate::heap::{Heap, Key};
use crate::microtasks::SharedJob;
use crate::sys::Scoped;

/// A task's key in its loop's table.
pub(crate) type TaskKey = Key;

/// A loop operation deferred by code that had no `&mut EventLoop` at hand.
pub(crate) enum Command {
    /// Queue the task's entry as a microtask (a wake on the loop thread).
    Entry(TaskKey),
    /// Any other operation, with the frame it runs in.
    Call(&'static str, Box<dyn FnOnce(&mut EventLoop)>),
    /// An operation of the crate's own futures that runs no user code (a socket's send):
    /// shared, so issuing it allocates nothing.
    Internal(Rc<dyn Internal>),
}

/// A command the crate's own futures issue again and again (see [`Command::Internal`]).
pub(crate) trait Internal {
    fn run(self: Rc<Self>, lp: &mut EventLoop);
}

/// What the loop keeps of a task, whatever its future's type.
pub(crate) trait Runnable {
    fn header(&self) -> &Arc<Header>;
    /// Polls the future once. `Ready`: it finished, and its output waits in the join slot.
    fn poll_future(&self, cx: &mut Context<'_>) -> Poll<()>;
    /// Drops the future and leaves `error` for the join handle.
    fn cancel(&self, error: JoinError);
    /// Hands the outcome to whoever waits for it: the task awaiting the join handle, or the
    /// promise the handle became. Returns whether the task was ref'd (kept the loop alive).
    fn deliver(&self, lp: &mut EventLoop) -> bool;
    /// Delivers without a loop: only valid while nothing can be waiting (the first poll).
    fn deliver_detached(&self);
    /// The task's waker, made once: a poll lends it to the future's `Context`.
    fn waker(&self) -> &Waker;
    /// The loop's tasks it belongs to.
    fn tasks(&self) -> &Rc<Tasks>;
    /// The task as the microtask that polls it (an entry): the queue holds the task itself,
    /// so queueing an entry allocates nothing.
    fn entry(self: Rc<Self>) -> Rc<dyn SharedJob<EventLoop>>;
    /// The task with its future's type erased.
    fn erased(self: Rc<Self>) -> Rc<dyn Runnable>;
    /// A wake by the loop's own sources (see [`wake_task`]): one call through the vtable,
    /// the rest with the task's type known.
    fn wake_here(self: Rc<Self>, lp: &mut EventLoop);
}

/// A task: its header, its future (until it finishes), and its join slot.
///
/// `repr(C)`, in this order: what every wake and poll reads — the header, the task state,
/// the future — comes first, so that with the `Rc`'s counts it makes 48 bytes, which the
/// allocator's 16-byte alignment puts in one cache line half of the time (64 bytes would
/// fit only a quarter of the time). The waker is only lent by address, and the join slot is
/// touched once at the end.
#[repr(C)]
pub(crate) struct TaskCell<F: Future> {
    pub(crate) header: Arc<Header>,
    /// Strong: an entry reaches its loop's tasks without upgrading a weak reference. The
    /// cycle this makes with the table (which holds every unfinished task) is broken when a
    /// task finishes, and for every task at once when the loop drops its task state
    /// ([`TaskState`]'s `Drop`).
    tasks: Rc<Tasks>,
    pub(crate) future: RefCell<Option<Pin<Box<F>>>>,
    /// A waker for this task, made once. Counted in the header's strong count (see
    /// `Tasks::has_foreign_waker`).
    waker: Waker,
    pub(crate) join: Rc<JoinSlot<F::Output>>,
}

impl<F: Future + 'static> Runnable for TaskCell<F> {
    fn header(&self) -> &Arc<Header> {
        &self.header
    }

    #[inline]
    fn poll_future(&self, cx: &mut Context<'_>) -> Poll<()> {
        let output = {
            let mut slot = self.future.borrow_mut();
            let Some(future) = slot.as_mut() else {
                return Poll::Ready(());
            };
            match future.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(output) => output,
            }
        };
        // Dropped outside the borrow: a future's `Drop` may reach the task table.
        let finished = self.future.borrow_mut().take();
        drop(finished);
        self.join.set(Ok(output));
        Poll::Ready(())
    }

    fn cancel(&self, error: JoinError) {
        let future = self.future.borrow_mut().take();
        // A future whose drop panics must not take the loop down a second time.
        if panic::catch_unwind(AssertUnwindSafe(|| drop(future))).is_err() {
            // the payload is dropped here; a payload whose own drop panics aborts, as in std
        }
        self.join.set(Err(error));
    }

    fn deliver(&self, lp: &mut EventLoop) -> bool {
        self.join.deliver(lp)
    }

    fn deliver_detached(&self) {
        self.join.deliver_detached();
    }

    fn waker(&self) -> &Waker {
        &self.waker
    }

    fn tasks(&self) -> &Rc<Tasks> {
        &self.tasks
    }

    fn entry(self: Rc<Self>) -> Rc<dyn SharedJob<EventLoop>> {
        self
    }

    fn erased(self: Rc<Self>) -> Rc<dyn Runnable> {
        self
    }

    #[inline]
    fn wake_here(self: Rc<Self>, lp: &mut EventLoop) {
        if self.header.schedule() {
            lp.queue_task_entry(self);
        }
    }
}

impl<F: Future + 'static> SharedJob<EventLoop> for TaskCell<F> {
    /// The entry runs: poll the task if it is still scheduled.
    fn run(self: Rc<Self>, lp: &mut EventLoop) {
        run_task(lp, &self.tasks, self.header.key, &self, Caller::Drain);
    }
}

/// A loop's tasks. Shared (`Rc`) by the loop, which holds it as its wake source, and by the
/// futures being polled, which reach it through the thread-local poll scope.
pub(crate) struct Tasks {
    /// Every unfinished task. `None` only while a task is being inserted.
    table: RefCell<Heap<Option<Rc<dyn Runnable>>>>,
    /// Tasks woken on the loop thread outside any poll, by code without the loop at hand;
    /// the loop queues them before the next microtask (see `WakeSource::queue_woken`).
    woken_here: RefCell<Vec<TaskKey>>,
    /// Tasks that asked to be polled again, with no hop, once the commands ran.
    resumes: RefCell<Vec<TaskKey>>,
    inbox: Arc<Inbox>,
    commands: RefCell<VecDeque<Command>>,
    /// The loop's flag, raised with every command and every entry put in `woken_here`.
    local_wakes: LocalWakes,
    /// This value, for the entries it queues.
    this: Weak<Tasks>,
}

thread_local! {
    /// The task being polled on this thread, lent by the poll (the previous one is visible
    /// again after it). A pointer, not an `Option<Rc>`: no destructor, so reading it is one
    /// load on the hot path of every poll.
    static SCOPE: Scoped<Scope> = const { Scoped::new() };
    /// The task states of the loops this thread runs, found by a waker's inbox.
    static LOCAL: RefCell<Vec<(usize, Weak<Tasks>)>> = const { RefCell::new(Vec::new()) };
}

/// What a poll can reach: its loop's tasks and its own identity.
#[derive(Clone)]
pub(crate) struct Scope {
    /// The task itself: a future that registers it as its waiter keeps a weak reference,
    /// and a wake reaches it without a look-up in the table.
    pub(crate) task: Rc<dyn Runnable>,
    /// The address of the task's own waker, which its polls lend to the future's `Context`:
    /// a context with this waker is the task's own (see [`Scope::owns`]).
    waker: *const Waker,
    /// Set when the poll woke its own task (see [`wake_own`]): the wake is applied when the
    /// poll returns, by the code that polled, instead of through the waker's atomic state.
    woke_itself: Cell<bool>,
}

impl Scope {
    /// Its loop's tasks (alive: they are polling this task).
    pub(crate) fn tasks(&self) -> Rc<Tasks> {
        self.task.tasks().clone()
    }

    /// True when `waker` is the task's own, lent by the poll (and not, say, a combinator's
    /// own waker wrapped around it): then the loop's own sources may wake the task directly.
    /// Compared by address, so the test reads neither waker: a clone of the task's waker
    /// elsewhere counts as foreign, which is only the slower way to the same wake.
    pub(crate) fn owns(&self, waker: &Waker) -> bool {
        std::ptr::eq(waker, self.waker)
    }
}

/// Wakes the task that `cx` belongs to. When `cx` is the own context of the task this thread
/// is polling — a future that is ready at once, like an `.await` of a fulfilled promise — the
/// wake is only noted in the poll's scope, and the code that polled applies it when the poll
/// returns ([`Polled::Again`]): no call through the waker, no atomic operation. Any other
/// context is woken through its waker.
#[inline]
pub(crate) fn wake_own(cx: &Context<'_>) {
    let noted = with_scope(|scope| match scope {
        Some(scope) if scope.owns(cx.waker()) => {
            scope.woke_itself.set(true);
            true
        }
        _ => false,
    });
    if !noted {
        cx.waker().wake_by_ref();
    }
}

/// Calls `f` with the poll scope (`None` when this thread is not polling a task), without
/// cloning it: for the hot paths that only look at it.
#[inline]
pub(crate) fn with_scope<R>(f: impl FnOnce(Option<&Scope>) -> R) -> R {
    SCOPE.with(|s| s.with(f))
}

/// The poll scope, if this thread is polling a task.
pub(crate) fn scope() -> Option<Scope> {
    with_scope(|scope| scope.cloned())
}

/// The loop's task state for `inbox`, if this thread runs that loop.
pub(crate) fn local_tasks(inbox: &Arc<Inbox>) -> Option<Rc<Tasks>> {
    let id = Arc::as_ptr(inbox) as usize;
    LOCAL.with(|l| {
        l.borrow()
            .iter()
            .find(|(i, _)| *i == id)
            .and_then(|(_, t)| t.upgrade())
    })
}

/// What the task module keeps in the loop's state slot.
#[derive(Default)]
struct TaskState(Option<Rc<Tasks>>);

impl Drop for TaskState {
    /// The loop is dropped: so are its unfinished tasks, and with them the strong references
    /// they hold to the task state (outside the table's borrow: a future's `Drop` may reach
    /// the task state).
    fn drop(&mut self) {
        if let Some(tasks) = self.0.take() {
            let table = std::mem::take(&mut *tasks.table.borrow_mut());
            drop(table);
        }
    }
}

/// The task state of `lp`, created on first use. It lives in the loop's typed state slot; the
/// loop also holds it as its [`WakeSource`], the hook through which the checkpoint and the poll
/// phase ask it what waits.
pub(crate) fn tasks(lp: &mut EventLoop) -> Rc<Tasks> {
    if let Some(TaskState(Some(tasks))) = lp.state::<TaskState>() {
        return tasks.clone();
    }
    let inbox = Arc::new(Inbox {
        woken: Mutex::new(Vec::new()),
        wakeup: lp.pool_wakeup(),
    });
    let tasks = Rc::new_cyclic(|this| Tasks {
        table: RefCell::new(Heap::new()),
        inbox,
        commands: RefCell::new(VecDeque::new()),
        local_wakes: lp.local_wakes(),
        resumes: RefCell::new(Vec::new()),
        woken_here: RefCell::new(Vec::new()),
        this: this.clone(),
    });
    let id = Arc::as_ptr(&tasks.inbox) as usize;
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        l.retain(|(_, t)| t.strong_count() > 0);
        l.push((id, Rc::downgrade(&tasks)));
    });
    lp.set_wake_source(tasks.clone());
    lp.insert_state(TaskState(Some(tasks.clone())));
    tasks
}

impl Tasks {
    /// The task `key`, while it is not finished.
    pub(crate) fn get(&self, key: TaskKey) -> Option<Rc<dyn Runnable>> {
        self.table.borrow().get(key).and_then(Clone::clone)
    }

    /// Adds a task for `future`; returns its key and its cell.
    pub(crate) fn insert<F: Future + 'static>(&self, future: F) -> (TaskKey, Rc<TaskCell<F>>) {
        let key = self.table.borrow_mut().insert(None);
        // Allocated in this order on purpose: the allocator hands out consecutive blocks, so
        // what every poll touches — the future, the header, the cell — ends up side by side
        // in memory (fewer cache lines per wake and poll), and the join slot, touched once at
        // the end, out of their way.
        let join = Rc::new(JoinSlot::new());
        let future = Box::pin(future);
        let header = Arc::new(Header {
            state: AtomicU8::new(0),
            key,
            inbox: self.inbox.clone(),
        });
        let cell = Rc::new(TaskCell {
            waker: Waker::from(header.clone()),
            header,
            tasks: self.this.upgrade().expect("a method of a live value"),
            future: RefCell::new(Some(future)),
            join,
        });
        let slot = self.table.borrow_mut();
        let mut slot = slot;
        *slot.get_mut(key).expect("just inserted") = Some(cell.clone() as Rc<dyn Runnable>);
        (key, cell)
    }

    /// Defers `command` to the end of the current poll (or the next checkpoint).
    #[inline]
    pub(crate) fn push(&self, command: Command) {
        self.commands.borrow_mut().push_back(command);
        self.local_wakes.raise();
    }

    /// Queues an entry for `key`, woken on the loop thread by code without the loop at hand:
    /// inside a poll, as a command (in order with the poll's other commands); elsewhere — a
    /// callback calling a waker — before the next microtask the loop queues.
    pub(crate) fn queue_entry(&self, key: TaskKey) {
        let polling_here = with_scope(|scope| {
            scope.is_some_and(|scope| std::ptr::eq(Rc::as_ptr(scope.task.tasks()), self))
        });
        if polling_here {
            self.push(Command::Entry(key));
        } else {
            self.woken_here.borrow_mut().push(key);
            self.local_wakes.raise();
        }
    }

    /// Queues the microtask that polls `key` (the task is scheduled already).
    pub(crate) fn queue_entry_now(&self, lp: &mut EventLoop, key: TaskKey) {
        if let Some(task) = self.get(key) {
            self.queue_task(lp, task);
        }
    }

    /// Queues `task`'s entry (the loop queues the tasks woken earlier by code without the
    /// loop at hand first).
    fn queue_task<T: Runnable + ?Sized>(&self, lp: &mut EventLoop, task: Rc<T>) {
        lp.queue_task_entry(task.entry());
    }

    /// Polls `task` now, from inside a microtask that is itself the task's hop (a promise
    /// reaction, a join): no further entry is queued. Does nothing if the task is already
    /// queued (its entry will poll it) or done.
    fn resume(self: &Rc<Self>, lp: &mut EventLoop, task: Rc<dyn Runnable>) {
        if task.header().schedule() {
            let key = task.header().key;
            run_task(lp, self, key, &task, Caller::Other);
        }
    }

    /// True when a poll left commands to run or tasks to resume.
    #[inline]
    fn has_deferred(&self) -> bool {
        !self.commands.borrow().is_empty() || self.has_resumes()
    }

    /// True when a task waits to be resumed (see [`request_resume`](Self::request_resume)).
    #[inline]
    fn has_resumes(&self) -> bool {
        !self.resumes.borrow().is_empty()
    }

    /// Asks for `key` to be polled again, with no hop, once the current commands ran (a
    /// [`with_loop`](super::with_loop) call whose closure has run).
    pub(crate) fn request_resume(&self, key: TaskKey) {
        self.resumes.borrow_mut().push(key);
    }

    /// Takes a resume request for `key`; true if there was one.
    #[inline]
    fn take_resume(&self, key: TaskKey) -> bool {
        let mut resumes = self.resumes.borrow_mut();
        if resumes.is_empty() {
            return false;
        }
        match resumes.iter().position(|k| *k == key) {
            Some(i) => {
                resumes.remove(i);
                true
            }
            None => false,
        }
    }

    /// Resumes the tasks that asked for it (tasks started inside another task's poll).
    #[inline]
    fn resume_requested(self: &Rc<Self>, lp: &mut EventLoop) {
        if !self.resumes.borrow().is_empty() {
            self.resume_all_requested(lp);
        }
    }

    #[inline(never)]
    fn resume_all_requested(self: &Rc<Self>, lp: &mut EventLoop) {
        loop {
            let Some(key) = self.resumes.borrow_mut().pop() else {
                return;
            };
            if let Some(task) = self.get(key) {
                self.resume(lp, task);
            }
        }
    }

    /// Polls `task` once inside the scope that lets its futures find it; a panic is caught
    /// and returned. The flag says whether the poll woke its own task ([`wake_own`]): the
    /// caller applies that wake.
    pub(crate) fn poll_in_scope<T: Runnable + ?Sized>(
        self: &Rc<Self>,
        task: &Rc<T>,
    ) -> (std::thread::Result<Poll<()>>, bool) {
        let waker = task.waker();
        let scope = Scope {
            task: task.clone().erased(),
            waker,
            woke_itself: Cell::new(false),
        };
        let mut cx = Context::from_waker(waker);
        // Lent for the poll, and taken back when it returns or unwinds.
        let polled = SCOPE.with(|s| {
            s.set(&scope, || {
                panic::catch_unwind(AssertUnwindSafe(|| task.poll_future(&mut cx)))
            })
        });
        (polled, scope.woke_itself.get())
    }

    /// The task finished (its outcome is in its join slot): forget it and deliver the outcome.
    pub(crate) fn finish<T: Runnable + ?Sized>(&self, lp: &mut EventLoop, key: TaskKey, task: &T) {
        self.table.borrow_mut().remove(key);
        if task.deliver(lp) {
            lp.request_finished();
        }
    }

    /// Forgets a task that finished in its first poll, inside another task's poll: nothing
    /// can wait for it yet, and it never counted as a request.
    pub(crate) fn finish_detached(&self, key: TaskKey, task: &Rc<dyn Runnable>) {
        self.table.borrow_mut().remove(key);
        task.deliver_detached();
    }

    // ANCHOR: run_commands
    /// Runs the deferred commands in the order they were issued. Commands that a command
    /// issues run right after it, before the ones behind it — as a direct call would have
    /// done. On a panic, the commands not run yet stay queued for the next checkpoint.
    pub(crate) fn run_commands(self: &Rc<Self>, lp: &mut EventLoop) {
        loop {
            let (command, behind) = {
                let mut commands = self.commands.borrow_mut();
                let Some(command) = commands.pop_front() else {
                    return;
                };
                (command, commands.len())
            };
            match command {
                Command::Entry(key) => self.queue_entry_now(lp, key),
                Command::Call(name, call) => lp.run_in_frame(name, call),
                Command::Internal(command) => command.run(lp),
            }
            if behind > 0 {
                // What `command` issued went to the back: move it in front of the rest.
                let mut commands = self.commands.borrow_mut();
                let issued = commands.len().saturating_sub(behind);
                if issued > 0 {
                    commands.rotate_right(issued);
                }
            }
        }
    }
    // ANCHOR_END: run_commands

    /// True when some unfinished task has a waker that none of the loop's own structures
    /// hold (the header's two owners are the task and its own waker) — a clone kept by another thread, a channel, a foreign executor: something
    /// outside the loop may still wake it.
    fn has_foreign_waker(&self) -> bool {
        self.table
            .borrow()
            .iter()
            .filter_map(|(_, task)| task.as_ref())
            .any(|task| Arc::strong_count(task.header()) > 2 && !task.header().is_done())
    }
}

impl WakeSource for Tasks {
    fn has_local(&self) -> bool {
        !self.commands.borrow().is_empty() || self.has_woken()
    }

    fn has_woken(&self) -> bool {
        !self.woken_here.borrow().is_empty()
    }

    fn queue_woken(&self, lp: &mut EventLoop) {
        let woken = std::mem::take(&mut *self.woken_here.borrow_mut());
        for key in woken {
            if let Some(task) = self.get(key) {
                lp.queue_task_entry(task.entry());
            }
        }
    }

    fn may_wake(&self) -> bool {
        !self
            .inbox
            .woken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
            || self.has_foreign_waker()
    }

    fn dispatch(&self, lp: &mut EventLoop) {
        self.queue_woken(lp);
        let tasks = self.this.upgrade().expect("a method of a live value");
        tasks.run_commands(lp);
        let woken =
            std::mem::take(&mut *self.inbox.woken.lock().unwrap_or_else(|p| p.into_inner()));
        for key in woken {
            self.queue_entry_now(lp, key);
        }
    }
}

/// A wake by the loop's own sources, which have the loop at hand: queued at once, unless the
/// task is queued already, running (then it is only marked), or done.
#[inline]
pub(crate) fn wake_task(lp: &mut EventLoop, task: Rc<dyn Runnable>) {
    task.wake_here(lp);
}

/// Polls `task` now, from a microtask that is itself its hop (see [`Tasks::resume`]).
pub(crate) fn resume_task(lp: &mut EventLoop, task: Rc<dyn Runnable>) {
    let tasks = task.tasks().clone();
    tasks.resume(lp, task);
}

/// How an entry's poll ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Polled {
    Finished,
    Pending,
    /// Pending, and the poll woke its own task ([`wake_own`]): the wake is the caller's to
    /// apply — it wants one more poll, one hop away.
    Again,
}

// ANCHOR: poll_task
/// Polls a running task once. A task that finishes — or panics, or was aborted — is done: its
/// outcome goes to its join handle. A panic then goes on unwinding, to the callback boundary
/// around the entry (the microtask drain's, or `spawn`'s frame): the program's uncaught error,
/// exactly as a panicking callback's.
pub(crate) fn poll_task<T: Runnable + ?Sized>(
    lp: &mut EventLoop,
    tasks: &Rc<Tasks>,
    key: TaskKey,
    task: &Rc<T>,
) -> Polled {
    if task.header().abort_requested() {
        task.cancel(JoinError::Aborted);
        tasks.finish(lp, key, &**task);
        return Polled::Finished;
    }
    match tasks.poll_in_scope(task) {
        (Ok(Poll::Pending), false) => Polled::Pending,
        (Ok(Poll::Pending), true) => Polled::Again,
        (Ok(Poll::Ready(())), _) => {
            tasks.finish(lp, key, &**task);
            Polled::Finished
        }
        (Err(payload), _) => {
            let message = crate::panics::message(payload.as_ref())
                .unwrap_or_else(|| "a task panicked".to_string());
            task.cancel(JoinError::Panicked(message));
            task.header().set_done(); // the entry may not get to say so: the panic unwinds
            tasks.finish(lp, key, &**task);
            panic::resume_unwind(payload)
        }
    }
}
// ANCHOR_END: poll_task

// ANCHOR: run_entry
/// The microtask a wake queues: polls the task if it is still scheduled, then runs what the
/// poll deferred, and queues the task again if it was woken while it ran.
pub(crate) fn run_entry(lp: &mut EventLoop, tasks: &Rc<Tasks>, key: TaskKey) {
    if let Some(task) = tasks.get(key) {
        run_task(lp, tasks, key, &task, Caller::Other);
    }
}

/// Who runs [`run_task`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// The task's entry, run by the microtask drain.
    Drain,
    /// Anything else: `spawn`, a promise reaction that is the task's hop, a resume.
    Other,
}

fn run_task<T: Runnable + ?Sized>(
    lp: &mut EventLoop,
    tasks: &Rc<Tasks>,
    key: TaskKey,
    task: &Rc<T>,
    caller: Caller,
) {
    let header = task.header();
    if !header.start() {
        return; // a stale entry: the task is not scheduled, or finished
    }
    loop {
        let polled = poll_task(lp, tasks, key, task);
        if polled == Polled::Again
            && caller == Caller::Drain
            && lp.microtask_would_run_next()
            && !tasks.has_resumes()
        {
            // The entry this wake queues would be the very next job of the drain, and nothing
            // waits to run before it (no command and no task woken elsewhere: the loop's flag
            // says so; no task to resume): the hop is taken here, in place, and the task stays
            // running.
            header.answer_notified();
            continue;
        }
        let again = header.end_poll(polled == Polled::Finished, polled == Polled::Again);
        if !tasks.has_deferred() {
            // The common case: the poll deferred nothing (no command, no task to resume).
            if again {
                tasks.queue_task(lp, task.clone());
            }
            return;
        }
        tasks.run_commands(lp);
        // A `with_loop` call: its closure ran with the commands; poll again, with no hop.
        if tasks.take_resume(key) && (again || header.schedule()) && header.start() {
            continue;
        }
        if again {
            tasks.queue_task(lp, task.clone());
        }
        tasks.resume_requested(lp);
        return;
    }
}
// ANCHOR_END: run_entry
