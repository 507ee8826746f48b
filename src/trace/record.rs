//! Recording: the loop's [`Trace`], where events go ([`TraceSink`]), and the ways to switch
//! tracing on from outside a loop ([`capture`], [`ENV_VAR`]) or to note what a program
//! printed ([`output`]).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::{Rc, Weak};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::binary::{
    ALIVE, END, PHASE, PHASE_END, POLL_WAIT, POLL_WOKE, QUEUED, START, UNQUEUED, phase_change,
};
use super::format::{Encoding, JsonLines};
use super::writer::Writer;
use super::{Phase, Queue, QueueLengths, TraceEvent};

/// The environment variable that traces every loop of a run to a file, without recompiling:
/// `EVENTLOOP_TRACE=run.trace cargo run --example echo_server`. The file is in the binary
/// encoding ([`binary`](super::binary), format version 2), or in JSON lines when the path
/// ends in `.jsonl` (slower to write: some 45 bytes an event instead of one or two). The
/// first loop the process builds writes to that path, the `n`-th to `run-n.trace` beside it
/// (tests build many). A loop given a trace of its own by its builder, or built inside a
/// [`capture`], ignores it.
///
/// ```
/// use eventloop::trace::ENV_VAR;
///
/// assert_eq!(ENV_VAR, "EVENTLOOP_TRACE");
/// let traced = std::env::var_os(ENV_VAR).is_some(); // what every new loop will check
/// # let _ = traced;
/// ```
pub const ENV_VAR: &str = "EVENTLOOP_TRACE";

// ANCHOR: trace_sink
/// Where a trace's events go.
///
/// ```
/// use eventloop::trace::{self, TraceEvent, TraceSink};
/// use std::{cell::Cell, rc::Rc};
///
/// struct CountLines(Rc<Cell<usize>>);
/// impl TraceSink for CountLines {
///     fn record(&mut self, _at: u64, event: &TraceEvent) {
///         if let TraceEvent::Output(_) = event { self.0.set(self.0.get() + 1) }
///     }
/// }
/// let lines = Rc::new(Cell::new(0));
/// trace::capture(CountLines(lines.clone()), || trace::output("hello")).1.unwrap();
/// assert_eq!(lines.get(), 1);
/// ```
pub trait TraceSink {
    /// Called once before the first event, with the kind of the loop's clock: `"manual"`,
    /// `"system"`, or `"none"` when something was recorded before any loop existed.
    fn begin(&mut self, clock: &str) {
        let _ = clock;
    }

    /// One event, at loop time `at` (ms).
    fn record(&mut self, at: u64, event: &TraceEvent);

    /// Flushes what was written; reports the first error met while writing.
    ///
    /// # Errors
    /// The first error met while writing.
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}
// ANCHOR_END: trace_sink

/// Where a recorder's events go besides memory.
enum Sink {
    None,
    /// A sink called as each event is recorded.
    Here(Box<dyn TraceSink>),
    /// A sink on a writer thread of its own ([`Writer`]): what a trace to a file uses.
    Thread(Box<Writer>),
}

/// What a loop's trace records into: memory, a sink, or both. Loops built inside one
/// [`capture`] share one.
struct Recorder {
    memory: Option<Vec<TraceEvent>>,
    sink: Sink,
    begun: bool,
    /// Events go to the writer thread and nowhere else ([`settle`](Self::settle)).
    writer_only: bool,
    /// The time of the last event: output lines noted from outside the loop get it.
    last_at: u64,
    /// Keys as the loop knows them → the small numbers the trace shows.
    ids: Ids,
    /// The queue lengths last recorded: a `Queues` event is written only when they change.
    queues: Option<QueueLengths>,
    /// Something was recorded since the queues were last counted that may have changed their
    /// lengths (a callback ran, an entry joined or left a queue): the next phase counts them.
    /// A phase with nothing of the kind before it — most phases of a busy loop — counts
    /// nothing.
    dirty: bool,
    /// The phase the loop is in: the next phase, or the loop's decision whether it is alive,
    /// ends it (the loop notes only the entries, one branch a phase).
    phase: Option<Phase>,
    /// An error met by a [`flush`](Self::flush), for the next `finish` to report.
    error: Option<io::Error>,
}

// ANCHOR: ids
/// The small numbers the trace gives queue entries, in order of first appearance. An entry is
/// known to the loop by the key of its callback in the loop's heap; the table is indexed by
/// the key's slot — an array lookup and a compare of the generation, no hashing — and a slot
/// holds the key it was given for, so a reused slot (a new generation) gets a new number.
#[derive(Default)]
struct Ids {
    /// By slot: (the key's bits, its number), number 0 for none.
    slots: Vec<(u64, u64)>,
    /// Keys whose slot is too far out for the table (a heap does not grow that large; a raw
    /// number that is not a heap key could be).
    far: HashMap<u64, u64>,
    /// Numbers in use.
    last: u64,
}

/// Slots past this go to [`Ids::far`].
const MAX_SLOTS: usize = 1 << 24;

/// The short ways write numbers below this (plus one for an optional), in up to three bytes.
const SHORT: u64 = (1 << 21) - 1;

impl Ids {
    /// The small number for `raw`; `last` forgets it (the entry is gone for good), so the
    /// table holds only what is still queued.
    #[inline]
    fn id(&mut self, raw: u64, last: bool) -> u64 {
        // The loop's keys pack their slot in the low 32 bits, the generation above
        // (`heap::Key::to_bits`); the trace, a leaf module, reads the bits without the type.
        let slot = (raw & u64::from(u32::MAX)) as usize;
        if slot >= MAX_SLOTS {
            return self.far_id(raw, last);
        }
        if let Some(entry) = self.slots.get_mut(slot)
            && entry.1 != 0
            && entry.0 == raw
        {
            let id = entry.1;
            if last {
                entry.1 = 0;
            }
            return id;
        }
        self.last += 1;
        if !last {
            if slot >= self.slots.len() {
                self.slots.resize(slot + 1, (0, 0));
            }
            self.slots[slot] = (raw, self.last);
        }
        self.last
    }

    // ANCHOR_END: ids

    /// [`id`](Self::id) for an entry that joins a queue, the short way: when its slot is in
    /// the table already (no growing) and its number fits three bytes; else `None`, and
    /// nothing changed.
    #[inline(always)]
    fn queued_short(&mut self, raw: u64) -> Option<u64> {
        let slot = (raw & u64::from(u32::MAX)) as usize;
        let entry = self.slots.get_mut(slot)?;
        if entry.1 != 0 && entry.0 == raw {
            return (entry.1 < SHORT).then_some(entry.1);
        }
        if self.last + 1 >= SHORT {
            return None;
        }
        self.last += 1;
        *entry = (raw, self.last);
        Some(self.last)
    }

    /// [`id`](Self::id) for an entry that leaves for good, the short way: when it has a
    /// number, under three bytes; else `None`, and nothing changed.
    #[inline(always)]
    fn unqueued_short(&mut self, raw: u64) -> Option<u64> {
        let slot = (raw & u64::from(u32::MAX)) as usize;
        let entry = self.slots.get_mut(slot)?;
        if entry.1 != 0 && entry.0 == raw && entry.1 < SHORT {
            let id = entry.1;
            entry.1 = 0;
            return Some(id);
        }
        None
    }

    #[cold]
    fn far_id(&mut self, raw: u64, last: bool) -> u64 {
        if let Some(&id) = self.far.get(&raw) {
            if last {
                self.far.remove(&raw);
            }
            return id;
        }
        self.last += 1;
        if !last {
            self.far.insert(raw, self.last);
        }
        self.last
    }

    /// How many entries have a number now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.iter().filter(|(_, id)| *id != 0).count() + self.far.len()
    }
}

impl Recorder {
    fn new(memory: bool, sink: Sink) -> Rc<RefCell<Recorder>> {
        Rc::new(RefCell::new(Recorder {
            memory: memory.then(Vec::new),
            sink,
            begun: false,
            writer_only: false,
            last_at: 0,
            ids: Ids::default(),
            queues: None,
            dirty: true,
            phase: None,
            error: None,
        }))
    }

    fn begin(&mut self, clock: &str) {
        if !self.begun {
            self.begun = true;
            match &mut self.sink {
                Sink::None => {}
                Sink::Here(sink) => sink.begin(clock),
                Sink::Thread(writer) => writer.begin(clock),
            }
            self.settle();
        }
    }

    #[inline(always)]
    fn record(&mut self, at: u64, event: TraceEvent) {
        // A callback's start and end, the loop's commonest events, the short way, written in
        // line: no call between the loop's `push` and the chunk. (They come through `note`
        // like every other event: a call of their own at the loop's side, one branch when off
        // all the same, made the compiler lay out the checkpoint's drain worse, and W3 ran 21%
        // more instructions with tracing off.)
        if let TraceEvent::CallbackStarted(name) | TraceEvent::CallbackFinished(name) = event
            && let Some(writer) = self.fast()
        {
            writer.callback(at, name, matches!(event, TraceEvent::CallbackStarted(_)));
            self.dirty = true; // a callback may queue or clear anything
            return;
        }
        self.record_other(at, event);
    }

    /// The time of the last event: the writer's, when it alone records.
    fn last_at(&self) -> u64 {
        match &self.sink {
            Sink::Thread(writer) if self.writer_only => writer.time(),
            _ => self.last_at,
        }
    }

    #[inline(never)]
    fn record_other(&mut self, at: u64, mut event: TraceEvent) {
        self.dirty |= may_change_queues(&event);
        if self.fast().is_some() {
            return self.record_fast(at, event);
        }
        self.begin("none");
        match event {
            TraceEvent::Phase(_)
            | TraceEvent::Alive { .. }
            | TraceEvent::RunReturned(_)
            | TraceEvent::BeforeExit
            | TraceEvent::Exit(_) => {
                if let Some(open) = self.phase.take() {
                    self.store(at, TraceEvent::PhaseEnd(open));
                }
                if let TraceEvent::Phase(phase) = event {
                    self.phase = Some(phase);
                }
            }
            TraceEvent::PhaseEnd(_) => self.phase = None,
            _ => {}
        }
        if let TraceEvent::Queues(lengths) = event {
            // A phase that changed no queue says nothing new: most phases of most iterations.
            if self.queues == Some(lengths) {
                return;
            }
            self.queues = Some(lengths);
        }
        match &mut event {
            TraceEvent::Queued { id: Some(id), .. } => *id = self.ids.id(*id, false),
            TraceEvent::Unqueued { id: Some(id), .. } => *id = self.ids.id(*id, true),
            TraceEvent::WorkQueued { job, .. }
            | TraceEvent::WorkStarted { job, .. }
            | TraceEvent::WorkFinished { job, .. } => *job = self.ids.id(*job, false),
            _ => {}
        }
        self.store(at, event);
    }

    /// [`record`](Self::record) when events go to the writer alone: the same events, encoded
    /// straight away.
    fn record_fast(&mut self, at: u64, mut event: TraceEvent) {
        let Recorder {
            sink: Sink::Thread(writer),
            ids,
            phase,
            queues,
            last_at,
            ..
        } = self
        else {
            unreachable!("called when the sink is the writer")
        };
        *last_at = at;
        match &mut event {
            TraceEvent::CallbackStarted(name) => return writer.callback(at, name, true),
            TraceEvent::CallbackFinished(name) => return writer.callback(at, name, false),
            TraceEvent::Phase(began) => {
                let ended = phase.replace(*began);
                return writer.phase(at, ended, *began);
            }
            TraceEvent::Alive { .. }
            | TraceEvent::RunReturned(_)
            | TraceEvent::BeforeExit
            | TraceEvent::Exit(_) => {
                if let Some(open) = phase.take() {
                    writer.record(at, &TraceEvent::PhaseEnd(open));
                }
            }
            TraceEvent::PhaseEnd(_) => *phase = None,
            TraceEvent::Queues(lengths) => {
                if *queues == Some(*lengths) {
                    return;
                }
                *queues = Some(*lengths);
            }
            TraceEvent::Queued { id: Some(id), .. } => *id = ids.id(*id, false),
            TraceEvent::Unqueued { id: Some(id), .. } => *id = ids.id(*id, true),
            TraceEvent::WorkQueued { job, .. }
            | TraceEvent::WorkStarted { job, .. }
            | TraceEvent::WorkFinished { job, .. } => *job = ids.id(*job, false),
            _ => {}
        }
        writer.record(at, &event);
    }

    /// The writer, when events go nowhere else: then the events are encoded straight away,
    /// the hot ones without a `TraceEvent` built and taken apart on the way.
    #[inline]
    fn fast(&mut self) -> Option<&mut Writer> {
        match &mut self.sink {
            Sink::Thread(writer) if self.writer_only => Some(writer),
            _ => None,
        }
    }

    /// Notes whether the writer is the only place events go, for [`fast`](Self::fast): after
    /// the header, and with no memory to keep them in.
    fn settle(&mut self) {
        self.writer_only =
            matches!(self.sink, Sink::Thread(_)) && self.memory.is_none() && self.begun;
    }

    /// A phase begins: one call, where the loop notes a phase. The queues are counted
    /// (`lengths`) only when something since they were last counted may have changed them, and
    /// written only when they did change.
    #[inline(never)]
    fn enter_phase(&mut self, at: u64, phase: Phase, lengths: impl FnOnce() -> QueueLengths) {
        let counted = if self.dirty {
            self.dirty = false;
            Some(lengths())
        } else {
            #[cfg(debug_assertions)]
            self.check_queues(lengths);
            None
        };
        let open = self.phase;
        let changed = counted.filter(|&lengths| self.queues != Some(lengths));
        let Some(writer) = self.fast() else {
            self.record(at, TraceEvent::Phase(phase));
            if let Some(lengths) = counted {
                self.record(at, TraceEvent::Queues(lengths));
            }
            return;
        };
        writer.phase(at, open, phase);
        if let Some(lengths) = changed {
            writer.queues(at, &lengths);
            self.queues = Some(lengths);
        }
        self.phase = Some(phase);
        self.last_at = at;
    }

    /// The poll phase ([`Trace::poll`]) any way but the commonest: its events one by one.
    #[inline(never)]
    fn poll(&mut self, poll: &PollNote, lengths: impl FnOnce() -> QueueLengths) {
        self.enter_phase(poll.began, Phase::Poll, lengths);
        self.record(poll.began, TraceEvent::PollWait(poll.timeout));
        if let Some(ready) = poll.ready {
            self.record(poll.began, TraceEvent::PollReady(ready));
        }
        if poll.stalled {
            self.record(poll.began, TraceEvent::Stalled);
        }
        let waited = poll.woke.saturating_sub(poll.began);
        let events = poll.events;
        self.record(poll.woke, TraceEvent::PollWoke { waited, events });
    }

    /// The rule `dirty` stands on, checked wherever tests trace (debug builds): nothing
    /// changes a queue's length without an event that sets it.
    #[cfg(debug_assertions)]
    fn check_queues(&self, lengths: impl FnOnce() -> QueueLengths) {
        if let Some(last) = self.queues {
            let now = lengths();
            assert_eq!(now, last, "{QUEUES_UNNOTED}");
        }
    }

    #[inline(always)]
    fn queued(
        &mut self,
        at: u64,
        queue: Queue,
        name: &'static str,
        key: Option<u64>,
        by: Option<&'static str>,
    ) {
        self.dirty = true;
        // The short way, in line: a tick or a microtask (no key), or a keyed entry, numbered.
        if self.writer_only
            && let Sink::Thread(writer) = &mut self.sink
        {
            let id = key.map(|key| self.ids.id(key, false));
            writer.queued(at, queue, name, id, by);
            return;
        }
        self.queued_elsewhere(at, queue, name, key, by);
    }

    /// An entry queued, for a trace that keeps events anywhere but (or besides) the writer.
    #[inline(never)]
    fn queued_elsewhere(
        &mut self,
        at: u64,
        queue: Queue,
        name: &'static str,
        key: Option<u64>,
        by: Option<&'static str>,
    ) {
        let event = TraceEvent::Queued {
            queue,
            name,
            id: key,
            by,
        };
        self.record(at, event);
    }

    #[inline(always)]
    fn unqueued(&mut self, at: u64, queue: Queue, key: Option<u64>) {
        self.dirty = true;
        // As `queued`: the writer's own time stands for `last_at` when it alone records.
        if self.writer_only
            && let Sink::Thread(writer) = &mut self.sink
        {
            let id = key.map(|key| self.ids.id(key, true));
            writer.unqueued(at, queue, id);
            return;
        }
        self.record(at, TraceEvent::Unqueued { queue, id: key });
    }

    /// Hands `event` to the sink and to memory.
    fn store(&mut self, at: u64, event: TraceEvent) {
        self.last_at = at;
        match &mut self.sink {
            Sink::None => {}
            Sink::Here(sink) => sink.record(at, &event),
            Sink::Thread(writer) => writer.record(at, &event),
        }
        if let Some(memory) = &mut self.memory {
            memory.push(event);
        }
    }

    /// Writes out and flushes everything recorded so far; reports the first error met.
    fn finish(&mut self) -> io::Result<()> {
        let finished = match &mut self.sink {
            Sink::None => Ok(()),
            Sink::Here(sink) => sink.finish(),
            Sink::Thread(writer) => writer.finish(),
        };
        match self.error.take() {
            Some(earlier) => Err(earlier),
            None => finished,
        }
    }

    /// [`finish`](Self::finish), keeping an error for the next `finish` to report.
    fn flush(&mut self) {
        if let Err(e) = self.finish() {
            self.error = Some(e);
        }
    }
}

/// What the debug check of the rule `dirty` stands on says when it fails.
#[cfg(debug_assertions)]
const QUEUES_UNNOTED: &str = "a queue's length changed with no event recorded since the queues \
    were last counted: the trace would miss it (set `dirty` for that event)";

/// Whether `event` may come with a change in a queue's length: everything but the loop's own
/// bookkeeping. (A callback may queue or clear anything; a phase, a poll or the alive decision
/// changes nothing by itself.)
fn may_change_queues(event: &TraceEvent) -> bool {
    !matches!(
        event,
        TraceEvent::Phase(_)
            | TraceEvent::PhaseEnd(_)
            | TraceEvent::Queues(_)
            | TraceEvent::PollWait(_)
            | TraceEvent::PollWoke { .. }
            | TraceEvent::PollReady(_)
            | TraceEvent::Alive { .. }
            | TraceEvent::RunReturned(_)
            | TraceEvent::Output(_)
            | TraceEvent::Stalled
    )
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            eprintln!("(eventloop) the trace could not be written: {e}");
        }
    }
}

thread_local! {
    /// Recorders alive on this thread, newest last: where [`output`] notes a line.
    static ACTIVE: RefCell<Vec<Weak<RefCell<Recorder>>>> = const { RefCell::new(Vec::new()) };
    /// The innermost [`capture`] in force on this thread.
    static CAPTURE: RefCell<Option<Rc<RefCell<Recorder>>>> = const { RefCell::new(None) };
}

fn activate(recorder: &Rc<RefCell<Recorder>>) {
    ACTIVE.with(|active| {
        let mut active = active.borrow_mut();
        active.retain(|r| r.strong_count() > 0);
        active.push(Rc::downgrade(recorder));
    });
}

/// What a builder asked for.
pub(crate) enum Setting {
    /// Nothing: a capture, the environment variable, or off.
    Default,
    /// Events kept in memory, for [`Trace::take`].
    Memory,
    /// Events written to a sink.
    Sink(Box<dyn TraceSink>),
}

// ANCHOR: trace
/// The loop's recorder: nothing at all when tracing is off.
///
/// ```
/// use eventloop::trace::Trace;
///
/// let trace = Trace::default(); // off: what a loop has unless tracing is asked for
/// assert!(!trace.is_enabled());
/// trace.record(0, || unreachable!("when off, the event is never made"));
/// ```
#[derive(Default)]
pub struct Trace {
    recorder: Option<Rc<RefCell<Recorder>>>,
    /// The loop decided it is alive and goes on into its next iteration: the `Alive` event is
    /// written by the call that notes the next phase, one call for the two
    /// ([`alive_goes_on`](Self::alive_goes_on)).
    alive_due: Cell<bool>,
}

impl Trace {
    /// The trace of a new loop on a clock of kind `clock` (`"manual"` or `"system"`).
    pub(crate) fn for_loop(setting: Setting, clock: &str) -> Trace {
        let recorder = match setting {
            Setting::Memory => Some(Recorder::new(true, Sink::None)),
            Setting::Sink(sink) => Some(Recorder::new(false, Sink::Here(sink))),
            Setting::Default => CAPTURE
                .with(|c| c.borrow().clone())
                .or_else(|| from_env().map(|writer| Recorder::new(false, Sink::Thread(writer)))),
        };
        if let Some(recorder) = &recorder {
            let mut shared = recorder.borrow_mut();
            shared.begin(clock);
            shared.dirty = true; // a new loop's queues: count them at its first phase
            drop(shared);
            activate(recorder);
        }
        Trace {
            recorder,
            alive_due: Cell::new(false),
        }
    }

    /// Records the event `event()` makes, at loop time `at` — when tracing is on. When it is
    /// off this is one branch, and `event` is never called.
    ///
    /// ```
    /// use eventloop::trace::{Trace, TraceEvent};
    ///
    /// let mut trace = Trace::default();
    /// trace.enable();
    /// trace.record(4, || TraceEvent::CallbackStarted("main"));
    /// assert_eq!(trace.take(), [TraceEvent::CallbackStarted("main")]);
    /// ```
    #[inline]
    pub fn record(&self, at: u64, event: impl FnOnce() -> TraceEvent) {
        if let Some(recorder) = &self.recorder {
            // Which half of `push` an event goes to is known where it is made (the closure
            // makes one kind): the compiler keeps only the one call.
            let event = event();
            if matches!(
                event,
                TraceEvent::CallbackStarted(_) | TraceEvent::CallbackFinished(_)
            ) {
                push(self, recorder, at, event);
            } else {
                push_other(recorder, at, event);
            }
        }
    }

    /// True while recording.
    ///
    /// ```
    /// use eventloop::trace::Trace;
    ///
    /// let mut trace = Trace::default();
    /// assert!(!trace.is_enabled());
    /// trace.enable();
    /// assert!(trace.is_enabled());
    /// ```
    #[inline]
    pub fn is_enabled(&self) -> bool {
        self.recorder.is_some()
    }

    /// Starts keeping events in memory (tracing goes on into any sink too).
    ///
    /// ```
    /// use eventloop::trace::{Trace, TraceEvent};
    ///
    /// let mut trace = Trace::default();
    /// trace.record(0, || TraceEvent::Stalled); // not kept: off
    /// trace.enable();
    /// trace.record(1, || TraceEvent::BeforeExit);
    /// assert_eq!(trace.take(), [TraceEvent::BeforeExit]);
    /// ```
    pub fn enable(&mut self) {
        let recorder = self.recorder.get_or_insert_with(|| {
            let recorder = Recorder::new(true, Sink::None);
            activate(&recorder);
            recorder
        });
        let mut recorder = recorder.borrow_mut();
        recorder.memory.get_or_insert_with(Vec::new);
        recorder.settle();
    }

    /// Takes the events kept in memory so far; recording goes on.
    ///
    /// ```
    /// use eventloop::trace::{Trace, TraceEvent};
    ///
    /// let mut trace = Trace::default();
    /// trace.enable();
    /// trace.record(0, || TraceEvent::DrainEnd);
    /// assert_eq!(trace.take().len(), 1);
    /// assert!(trace.take().is_empty()); // taken; recording goes on
    /// ```
    pub fn take(&mut self) -> Vec<TraceEvent> {
        self.recorder
            .as_ref()
            .and_then(|r| r.borrow_mut().memory.as_mut().map(std::mem::take))
            .unwrap_or_default()
    }

    /// Writes out everything recorded so far, keeping any error for [`finish`](Self::finish)
    /// to report: where a program ends (the end of `run_main`), as it may exit the process
    /// next without running destructors.
    pub(crate) fn flush(&self) {
        if let Some(recorder) = &self.recorder
            && let Ok(mut recorder) = recorder.try_borrow_mut()
        {
            recorder.flush();
        }
    }

    /// Flushes the sink; reports the first error it met.
    ///
    /// # Errors
    /// The first error the sink met while writing.
    ///
    /// ```
    /// use eventloop::trace::Trace;
    ///
    /// let mut trace = Trace::default();
    /// trace.enable(); // memory only: nothing to flush, no error
    /// assert!(trace.finish().is_ok());
    /// ```
    pub fn finish(&self) -> io::Result<()> {
        match &self.recorder {
            Some(recorder) => recorder.borrow_mut().finish(),
            None => Ok(()),
        }
    }
}
// ANCHOR_END: trace

// The events a busy loop records by the million, each by a call of its own: one branch
// when off, as `record`; when on, no `TraceEvent` is built for a trace to a file.
impl Trace {
    /// A phase begins; `lengths` gives the queues' lengths as it does.
    #[inline]
    pub(crate) fn phase(&self, at: u64, phase: Phase, lengths: impl FnOnce() -> QueueLengths) {
        if let Some(recorder) = &self.recorder {
            push_phase(recorder, at, phase, lengths);
        }
    }

    /// The loop decided it is alive and goes into a new iteration: the decision is written
    /// when the iteration's first phase is noted ([`alive_then_phase`](Self::alive_then_phase)),
    /// with nothing recorded between the two — so the trace reads as before, for one call
    /// fewer an iteration. A store, not a call.
    #[inline]
    pub(crate) fn alive_goes_on(&self) {
        if self.recorder.is_some() {
            self.alive_due.set(true);
        }
    }

    /// Whether an `Alive` decision waits for the next phase ([`alive_goes_on`](Self::alive_goes_on)).
    #[inline]
    pub(crate) fn alive_due(&self) -> bool {
        self.alive_due.get()
    }

    /// The `Alive` decision that waited ([`alive_goes_on`](Self::alive_goes_on)) — the loop
    /// is alive, kept so by `handles` and `requests` — and the phase `phase` that begins the
    /// next iteration, in one call.
    pub(crate) fn alive_then_phase(
        &self,
        at: u64,
        kept_by: (usize, usize),
        phase: Phase,
        lengths: impl FnOnce() -> QueueLengths,
    ) {
        self.alive_due.set(false);
        if let Some(recorder) = &self.recorder {
            let mut recorder = recorder.borrow_mut();
            let recorder = &mut *recorder;
            // The commonest case: nothing to count, the writer the only sink.
            if !recorder.dirty
                && recorder.writer_only
                && let Sink::Thread(writer) = &mut recorder.sink
            {
                #[cfg(debug_assertions)]
                if let Some(last) = recorder.queues {
                    assert_eq!(lengths(), last, "{QUEUES_UNNOTED}");
                }
                let ended = recorder.phase.replace(phase);
                writer.alive(at, ended, kept_by, true, Some(phase));
                return;
            }
            let (handles, requests) = kept_by;
            let alive = TraceEvent::Alive {
                handles,
                requests,
                alive: true,
            };
            recorder.record(at, alive);
            recorder.enter_phase(at, phase, lengths);
        }
    }

    /// The poll phase, noted once its wait is over: the phase and its wait as the wait began,
    /// what happened in it, and the wake — what three calls noted before the wait, during it
    /// and after it. Nothing else records on the loop's thread while it waits.
    #[inline]
    pub(crate) fn poll(&self, poll: &PollNote, lengths: impl FnOnce() -> QueueLengths) {
        if let Some(recorder) = &self.recorder {
            push_poll(recorder, poll, lengths);
        }
    }

    /// A callback joined `queue`, to run in a frame called `name`, queued by the frame `by`;
    /// `key` is its key in the loop's heap, for a keyed queue.
    #[inline(always)]
    pub(crate) fn queued(
        &self,
        at: u64,
        queue: Queue,
        name: &'static str,
        key: Option<u64>,
        by: Option<&'static str>,
    ) {
        if let Some(recorder) = &self.recorder {
            recorder.borrow_mut().queued(at, queue, name, key, by);
        }
    }

    /// The entry `key` (or, with none, the oldest) left `queue`.
    #[inline(always)]
    pub(crate) fn unqueued(&self, at: u64, queue: Queue, key: Option<u64>) {
        if let Some(recorder) = &self.recorder {
            recorder.borrow_mut().unqueued(at, queue, key);
        }
    }
}

// In line into the loop's own out-of-line helper (`note_phase`): one call a phase, not two.
#[inline(always)]
fn push_phase(
    recorder: &RefCell<Recorder>,
    at: u64,
    phase: Phase,
    lengths: impl FnOnce() -> QueueLengths,
) {
    let mut recorder = recorder.borrow_mut();
    // The commonest case by far: nothing that could change a queue since the last phase, and
    // the writer the only sink. A byte for the phase change, and nothing counted.
    if !recorder.dirty && recorder.fast().is_some() {
        #[cfg(debug_assertions)]
        recorder.check_queues(lengths);
        let ended = recorder.phase.replace(phase);
        recorder.last_at = at;
        if let Sink::Thread(writer) = &mut recorder.sink {
            writer.phase(at, ended, phase);
        }
        return;
    }
    recorder.enter_phase(at, phase, lengths);
}

// The short ways: the commonest form of each hot event, for a trace to a file, written with
// no call at all — a recorder not borrowed, the writer the only sink, nothing to count, names
// known, the time unchanged, the chunk with room, numbers of three bytes at most — so the
// loop's out-of-line function that writes it saves no registers and makes no call: a few
// tests and moves. Each says whether it wrote the event; when not, nothing changed, and the
// loop goes the long way (a call made as its last act, so a jump). Calls were the cost of
// tracing, not bytes: some 25 instructions of each recorded event went to them.
impl Trace {
    /// The recorder, when events can go the short way: borrowed, writing to the writer alone.
    #[inline(always)]
    fn short_recorder(&self) -> Option<std::cell::RefMut<'_, Recorder>> {
        let recorder = self.recorder.as_ref()?.try_borrow_mut().ok()?;
        recorder.writer_only.then_some(recorder)
    }

    // ANCHOR: short_way
    /// A phase begins, the short way: nothing could have changed a queue since they were last
    /// counted, and no `Alive` decision waits. (`lengths`: for the debug check of that rule.)
    #[inline(always)]
    pub(crate) fn phase_short(
        &self,
        at: u64,
        phase: Phase,
        lengths: impl FnOnce() -> QueueLengths,
    ) -> bool {
        if self.alive_due.get() {
            return false;
        }
        let Some(mut recorder) = self.short_recorder() else {
            return false;
        };
        let Recorder {
            sink: Sink::Thread(writer),
            dirty: false,
            phase: open,
            queues,
            ..
        } = &mut *recorder
        else {
            return false;
        };
        let Some(mut room) = writer.short(at) else {
            return false;
        };
        check_unchanged(*queues, lengths);
        match open.replace(phase) {
            Some(ended) => room.byte(phase_change(ended, phase)),
            None => room.bytes([PHASE, phase as u8]),
        }
        room.end();
        true
    }
    // ANCHOR_END: short_way

    /// A phase begins, the short way, after something that may have changed a queue: the
    /// queues, counted (`lengths`), are as last written.
    #[inline(always)]
    pub(crate) fn phase_counted_short(&self, at: u64, phase: Phase, lengths: QueueLengths) -> bool {
        if self.alive_due.get() {
            return false;
        }
        let Some(mut recorder) = self.short_recorder() else {
            return false;
        };
        let Recorder {
            sink: Sink::Thread(writer),
            dirty,
            phase: open,
            queues: Some(last),
            ..
        } = &mut *recorder
        else {
            return false;
        };
        if *last != lengths {
            return false;
        }
        let Some(mut room) = writer.short(at) else {
            return false;
        };
        match open.replace(phase) {
            Some(ended) => room.byte(phase_change(ended, phase)),
            None => room.bytes([PHASE, phase as u8]),
        }
        room.end();
        *dirty = false;
        true
    }

    /// A callback started (`started`) or finished, the short way.
    #[inline(always)]
    fn callback_short(&self, at: u64, name: &'static str, started: bool) -> bool {
        let Some(mut recorder) = self.short_recorder() else {
            return false;
        };
        let Recorder {
            sink: Sink::Thread(writer),
            dirty,
            ..
        } = &mut *recorder
        else {
            return false;
        };
        let Some(n) = writer.short_name(name) else {
            return false;
        };
        let Some(mut room) = writer.short(at) else {
            return false;
        };
        room.bytes([if started { START } else { END }, n]);
        room.end();
        *dirty = true; // a callback may queue or clear anything
        true
    }

    /// An entry joined `queue`, the short way (see [`queued`](Self::queued)).
    #[inline(always)]
    pub(crate) fn queued_short(
        &self,
        at: u64,
        queue: Queue,
        name: &'static str,
        key: Option<u64>,
        by: Option<&'static str>,
    ) -> bool {
        let Some(mut recorder) = self.short_recorder() else {
            return false;
        };
        let Recorder {
            sink: Sink::Thread(writer),
            dirty,
            ids,
            ..
        } = &mut *recorder
        else {
            return false;
        };
        let Some(n) = writer.short_name(name) else {
            return false;
        };
        // Queued by a frame of its own name (a tick queuing the next): one lookup.
        let by = match by {
            None => 0,
            Some(by) => {
                let by = if by.as_ptr() == name.as_ptr() && by.len() == name.len() {
                    n
                } else if let Some(by) = writer.short_name(by) {
                    by
                } else {
                    return false;
                };
                if by >= 0x7f {
                    return false;
                }
                by + 1
            }
        };
        let Some(mut room) = writer.short(at) else {
            return false;
        };
        match key {
            // A tick or a microtask: five bytes, written at once.
            None => room.bytes([QUEUED, queue as u8, n, 0, by]),
            Some(key) => {
                let Some(id) = ids.queued_short(key) else {
                    return false;
                };
                room.bytes([QUEUED, queue as u8, n]);
                room.small(id + 1);
                room.byte(by);
            }
        }
        room.end();
        *dirty = true;
        true
    }

    /// The entry `key` left `queue`, the short way (see [`unqueued`](Self::unqueued)).
    #[inline(always)]
    pub(crate) fn unqueued_short(&self, at: u64, queue: Queue, key: Option<u64>) -> bool {
        let Some(mut recorder) = self.short_recorder() else {
            return false;
        };
        let Recorder {
            sink: Sink::Thread(writer),
            dirty,
            ids,
            ..
        } = &mut *recorder
        else {
            return false;
        };
        let Some(mut room) = writer.short(at) else {
            return false;
        };
        let id = match key {
            Some(key) => match ids.unqueued_short(key) {
                Some(id) => id + 1,
                None => return false,
            },
            None => 0,
        };
        room.bytes([UNQUEUED, queue as u8]);
        room.small(id);
        room.end();
        *dirty = true;
        true
    }

    /// The poll phase ([`poll`](Self::poll)), the short way: nothing to count, nothing found
    /// ready, no time passed while it waited.
    #[inline(always)]
    pub(crate) fn poll_short(
        &self,
        poll: &PollNote,
        lengths: impl FnOnce() -> QueueLengths,
    ) -> bool {
        let timeout = poll.timeout.map_or(0, |ms| ms.wrapping_add(1));
        if poll.woke != poll.began
            || poll.ready.is_some()
            || poll.stalled
            || timeout >= SHORT
            || poll.events >= 0x80
        {
            return false;
        }
        let Some(mut recorder) = self.short_recorder() else {
            return false;
        };
        let Recorder {
            sink: Sink::Thread(writer),
            dirty: false,
            phase: open,
            queues,
            ..
        } = &mut *recorder
        else {
            return false;
        };
        let Some(mut room) = writer.short(poll.began) else {
            return false;
        };
        check_unchanged(*queues, lengths);
        match open.replace(Phase::Poll) {
            Some(ended) => room.byte(phase_change(ended, Phase::Poll)),
            None => room.bytes([PHASE, Phase::Poll as u8]),
        }
        room.byte(POLL_WAIT);
        room.small(timeout);
        room.bytes([POLL_WOKE, 0, poll.events as u8]);
        room.end();
        true
    }

    /// The `Alive` decision that waited and the phase after it
    /// ([`alive_then_phase`](Self::alive_then_phase)), the short way.
    #[inline(always)]
    pub(crate) fn alive_then_phase_short(
        &self,
        at: u64,
        (handles, requests): (usize, usize),
        phase: Phase,
        lengths: impl FnOnce() -> QueueLengths,
    ) -> bool {
        if handles as u64 >= SHORT || requests as u64 >= SHORT {
            return false;
        }
        let Some(mut recorder) = self.short_recorder() else {
            return false;
        };
        let Recorder {
            sink: Sink::Thread(writer),
            dirty: false,
            phase: open,
            queues,
            ..
        } = &mut *recorder
        else {
            return false;
        };
        let Some(mut room) = writer.short(at) else {
            return false;
        };
        check_unchanged(*queues, lengths);
        if let Some(ended) = open.replace(phase) {
            room.bytes([PHASE_END, ended as u8]);
        }
        room.byte(ALIVE);
        room.small(handles as u64);
        room.small(requests as u64);
        room.bytes([1, PHASE, phase as u8]);
        room.end();
        self.alive_due.set(false);
        true
    }
}

/// In debug builds, checks the rule `dirty` stands on: the queues' lengths now are those last
/// counted.
#[inline(always)]
fn check_unchanged(last: Option<QueueLengths>, lengths: impl FnOnce() -> QueueLengths) {
    #[cfg(debug_assertions)]
    if let Some(last) = last {
        assert_eq!(lengths(), last, "{QUEUES_UNNOTED}");
    }
    #[cfg(not(debug_assertions))]
    let _ = (last, lengths);
}

/// One poll phase, for [`Trace::poll`]: the times are loop times, in ms.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PollNote {
    /// When the phase began (and its wait).
    pub(crate) began: u64,
    /// The wait asked for (`None`: until woken).
    pub(crate) timeout: Option<u64>,
    /// The descriptors the kernel reported ready, if it was asked.
    pub(crate) ready: Option<usize>,
    /// The wait could never have ended: the run stops ([`TraceEvent::Stalled`]).
    pub(crate) stalled: bool,
    /// When the wait was over.
    pub(crate) woke: u64,
    /// What the wait returned (see [`TraceEvent::PollWoke`]).
    pub(crate) events: usize,
}

// In line into the loop's own out-of-line helper (`note_poll`).
#[inline(always)]
fn push_poll(
    recorder: &RefCell<Recorder>,
    poll: &PollNote,
    lengths: impl FnOnce() -> QueueLengths,
) {
    let mut recorder = recorder.borrow_mut();
    let recorder = &mut *recorder;
    // The commonest case: nothing counted, nothing found ready, the writer the only sink.
    if !recorder.dirty
        && poll.ready.is_none()
        && !poll.stalled
        && recorder.writer_only
        && let Sink::Thread(writer) = &mut recorder.sink
    {
        #[cfg(debug_assertions)]
        if let Some(last) = recorder.queues {
            assert_eq!(lengths(), last, "{QUEUES_UNNOTED}");
        }
        let ended = recorder.phase.replace(Phase::Poll);
        writer.poll_phase(poll.began, ended, poll.timeout, poll.woke, poll.events);
        return;
    }
    recorder.poll(poll, lengths);
}

/// The recording itself, out of line: a hot path keeps the branch and the making of the
/// event, which the compiler lays out of the way, as this function is cold.
#[cold]
#[inline(never)]
fn push(trace: &Trace, recorder: &RefCell<Recorder>, at: u64, event: TraceEvent) {
    if let TraceEvent::CallbackStarted(name) | TraceEvent::CallbackFinished(name) = event
        && trace.callback_short(at, name, matches!(event, TraceEvent::CallbackStarted(_)))
    {
        return;
    }
    push_long(recorder, at, event);
}

/// [`push`], the long way.
#[inline(never)]
fn push_long(recorder: &RefCell<Recorder>, at: u64, event: TraceEvent) {
    // A callback's start or end, written here without a call (nothing of the rare ways kept
    // alive around one); anything else, out of line.
    if let TraceEvent::CallbackStarted(name) | TraceEvent::CallbackFinished(name) = event {
        let mut recorder = recorder.borrow_mut();
        if let Some(writer) = recorder.fast() {
            writer.callback(at, name, matches!(event, TraceEvent::CallbackStarted(_)));
            recorder.dirty = true; // a callback may queue or clear anything
            return;
        }
    }
    push_other(recorder, at, event);
}

#[cold]
#[inline(never)]
fn push_other(recorder: &RefCell<Recorder>, at: u64, event: TraceEvent) {
    let mut recorder = recorder.borrow_mut();
    let recorder = &mut *recorder;
    // The poll's wait and wake and the alive decision, once an iteration each: the short way.
    if recorder.writer_only
        && let Sink::Thread(writer) = &mut recorder.sink
    {
        match event {
            TraceEvent::PollWait(timeout) => return writer.poll_wait(at, timeout),
            TraceEvent::PollWoke { waited, events } => {
                return writer.poll_woke(at, waited, events);
            }
            TraceEvent::Alive {
                handles,
                requests,
                alive,
            } => {
                let ended = recorder.phase.take();
                return writer.alive(at, ended, (handles, requests), alive, None);
            }
            _ => {}
        }
    }
    recorder.record(at, event);
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace")
            .field("enabled", &self.is_enabled())
            .finish()
    }
}

/// Notes that the program printed `line`, in the trace of the newest traced loop (or
/// [`capture`]) on this thread; does nothing when none is. Call it where the program would
/// `console.log`, so the visualizer can show what was printed when.
///
/// ```
/// use eventloop::trace::{self, TraceEvent};
///
/// trace::output("not traced"); // no trace on this thread: nothing happens
/// let (_, bytes) = trace::capture_json(|| trace::output("traced"));
/// let recorded = trace::format::read(&bytes[..]).unwrap();
/// assert_eq!(recorded.events[0].event, TraceEvent::Output("traced".into()));
/// ```
pub fn output(line: impl Into<String>) {
    let recorder = ACTIVE.with(|active| {
        let mut active = active.borrow_mut();
        active.retain(|r| r.strong_count() > 0);
        active.last().and_then(Weak::upgrade)
    });
    if let Some(recorder) = recorder
        && let Ok(mut recorder) = recorder.try_borrow_mut()
    {
        let at = recorder.last_at();
        recorder.record(at, TraceEvent::Output(line.into()));
    }
}

/// Runs `f`, tracing into `sink` every loop that `f` builds on this thread without a trace
/// of its own (one trace for all of them), and every line noted with [`output`]. The sink is
/// finished when `f` returns.
///
/// # Errors
/// The sink's first write error, beside `f`'s result.
///
/// ```
/// use eventloop::clock::ManualClock;
/// use eventloop::event_loop::EventLoop;
/// use eventloop::trace::{self, TraceEvent, TraceSink};
/// use std::{cell::Cell, rc::Rc};
///
/// struct CountPhases(Rc<Cell<usize>>);
/// impl TraceSink for CountPhases {
///     fn record(&mut self, _at: u64, event: &TraceEvent) {
///         if let TraceEvent::Phase(_) = event { self.0.set(self.0.get() + 1) }
///     }
/// }
/// let phases = Rc::new(Cell::new(0));
/// let (_, finished) = trace::capture(CountPhases(phases.clone()), || {
///     let mut lp = EventLoop::with_clock(ManualClock::new()); // no trace of its own
///     lp.run_main(|lp| drop(lp.set_timeout(|_| {}, 0))).unwrap();
/// });
/// finished.unwrap();
/// assert!(phases.get() > 0);
/// ```
pub fn capture<R>(sink: impl TraceSink + 'static, f: impl FnOnce() -> R) -> (R, io::Result<()>) {
    let recorder = Recorder::new(false, Sink::Here(Box::new(sink)));
    activate(&recorder);
    /// Restores the capture in force before, even when `f` panics.
    struct Restore(Option<Rc<RefCell<Recorder>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CAPTURE.with(|c| *c.borrow_mut() = previous);
        }
    }
    let previous = CAPTURE.with(|c| c.borrow_mut().replace(recorder.clone()));
    let restore = Restore(previous);
    let result = f();
    drop(restore);
    let finished = recorder.borrow_mut().finish();
    (result, finished)
}

/// A writer into a buffer shared with the caller.
#[derive(Clone, Default)]
struct SharedBuffer(Rc<RefCell<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// [`capture`] into the JSON lines format, in memory: `f`'s result and the trace's bytes.
///
/// ```
/// use eventloop::trace::{self, format};
///
/// let (answer, bytes) = trace::capture_json(|| {
///     trace::output("thinking");
///     42
/// });
/// assert_eq!(answer, 42);
/// assert_eq!(format::read(&bytes[..]).unwrap().events.len(), 1);
/// ```
pub fn capture_json<R>(f: impl FnOnce() -> R) -> (R, Vec<u8>) {
    capture_json_named(None, f)
}

/// [`capture_json`] with the program's name in the header.
///
/// ```
/// use eventloop::trace::{self, format};
///
/// let (_, bytes) = trace::capture_json_named(Some("puzzle-3"), || trace::output("hi"));
/// let header = format::read(&bytes[..]).unwrap().header;
/// assert_eq!(header.program.as_deref(), Some("puzzle-3"));
/// ```
#[allow(clippy::missing_panics_doc, reason = "writing to memory cannot fail")]
pub fn capture_json_named<R>(program: Option<&str>, f: impl FnOnce() -> R) -> (R, Vec<u8>) {
    let buffer = SharedBuffer::default();
    let mut sink = JsonLines::new(buffer.clone());
    if let Some(program) = program {
        sink = sink.program(program);
    }
    let (result, finished) = capture(sink, f);
    finished.expect("writing to memory cannot fail");
    let bytes = buffer.0.take();
    (result, bytes)
}

/// The writer [`ENV_VAR`] asks for, if it is set: a file per loop, written on a thread of
/// its own.
fn from_env() -> Option<Box<Writer>> {
    static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    static LOOPS: AtomicUsize = AtomicUsize::new(0);
    let path = PATH
        .get_or_init(|| {
            std::env::var_os(ENV_VAR)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
        })
        .as_ref()?;
    let n = LOOPS.fetch_add(1, Ordering::Relaxed) + 1;
    let path = numbered(path, n);
    let encoding = if path.extension().is_some_and(|e| e == "jsonl") {
        Encoding::JsonLines
    } else {
        Encoding::Binary
    };
    let started = File::create(&path).and_then(|file| Writer::start(file, encoding));
    match started {
        Ok(writer) => Some(Box::new(writer)),
        Err(e) => {
            eprintln!(
                "(eventloop) {ENV_VAR}: cannot create {}: {e}; this loop is not traced",
                path.display()
            );
            None
        }
    }
}

/// `path` for the first loop, `stem-n.ext` beside it for the `n`-th.
fn numbered(path: &Path, n: usize) -> PathBuf {
    if n == 1 {
        return path.to_path_buf();
    }
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_nothing_is_built() {
        let trace = Trace::default();
        trace.record(0, || panic!("an event was built while tracing was off"));
        assert!(!trace.is_enabled());
    }

    #[test]
    fn queue_lengths_are_written_when_they_change() {
        let recorder = Recorder::new(true, Sink::None);
        let mut r = recorder.borrow_mut();
        let one = QueueLengths {
            timers: 1,
            ..QueueLengths::default()
        };
        for lengths in [one, one, QueueLengths::default(), one] {
            r.record(0, TraceEvent::Queues(lengths));
        }
        let events = r.memory.take().unwrap();
        assert_eq!(events.len(), 3, "the repeated one is left out: {events:?}");
    }

    #[test]
    fn later_loops_get_numbered_files_beside_the_first() {
        assert_eq!(
            numbered(Path::new("/t/run.jsonl"), 1),
            Path::new("/t/run.jsonl")
        );
        assert_eq!(
            numbered(Path::new("/t/run.jsonl"), 3),
            Path::new("/t/run-3.jsonl")
        );
        assert_eq!(numbered(Path::new("run"), 2), Path::new("run-2"));
    }

    #[test]
    fn ids_are_small_and_forgotten_when_the_entry_leaves() {
        let recorder = Recorder::new(true, Sink::None);
        let mut r = recorder.borrow_mut();
        let queued = |id| TraceEvent::Queued {
            queue: super::super::Queue::Timers,
            name: "setTimeout",
            id: Some(id),
            by: None,
        };
        r.record(0, queued(1 << 40));
        r.record(0, queued(7));
        r.record(
            0,
            TraceEvent::Unqueued {
                queue: super::super::Queue::Timers,
                id: Some(1 << 40),
            },
        );
        assert!(r.ids.len() == 1, "the unqueued entry is forgotten");
        let events = r.memory.take().unwrap();
        assert_eq!(events[0], queued(1));
        assert_eq!(events[1], queued(2));
        assert!(matches!(
            events[2],
            TraceEvent::Unqueued { id: Some(1), .. }
        ));
    }
}
