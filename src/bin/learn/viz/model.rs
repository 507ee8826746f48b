//! What the loop looked like after each event of a trace: the replay both views draw.
//!
//! A [`Replay`] holds the events; [`Replay::state`] rebuilds the [`State`] after the first `n`
//! of them (from the nearest kept snapshot), so stepping back costs as little as stepping on.

use std::collections::BTreeMap;

use eventloop::trace::{Phase, Queue, QueueLengths, Recorded, Stamped, TraceEvent};

/// An event as read back from a trace.
pub type Event = TraceEvent<String>;

/// A callback waiting in a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The frame it will run in.
    pub name: String,
    /// Which entry, for a keyed queue.
    pub id: Option<u64>,
    /// The frame that queued it (`None`: code outside any callback).
    pub by: Option<String>,
}

/// Where a thread-pool job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// In the pool's queue.
    Queued,
    /// On a worker.
    Running(usize),
    /// Finished on a worker after this many µs; its callback waits for the poll phase.
    Finished(usize, u64),
}

/// A thread-pool job of the traced loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its number in the trace.
    pub id: u64,
    /// The frame its callback runs in.
    pub name: String,
    /// Where it stands.
    pub state: JobState,
}

/// What the poll phase did last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Poll {
    /// The timeout of the last wait: `Some(None)` for "until woken".
    pub timeout: Option<Option<u64>>,
    /// Inside a wait now.
    pub waiting: bool,
    /// How long the last wait lasted, in ms, and what it returned.
    pub woke: Option<(u64, usize)>,
}

/// The loop, as the trace shows it after some of its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Events applied.
    pub applied: usize,
    /// Loop time of the last event.
    pub at: u64,
    /// The phase the loop is in (`None` before the first phase or between two).
    pub phase: Option<Phase>,
    /// The last phase entered.
    pub last_phase: Option<Phase>,
    /// Iterations begun; 0 until the first pending phase (the first timers phase comes
    /// before it).
    pub iteration: usize,
    /// The call stack, outermost first.
    pub stack: Vec<String>,
    /// The entries of each queue but the pool's, in the order of [`QUEUES`].
    pub queues: [Vec<Entry>; 6],
    /// The queue lengths the loop last reported.
    pub lengths: Option<QueueLengths>,
    /// Thread-pool jobs whose callback has not run yet.
    pub jobs: Vec<Job>,
    /// The workers seen so far, and the job each runs (`None`: idle).
    pub workers: BTreeMap<usize, Option<u64>>,
    /// The poll phase.
    pub poll: Poll,
    /// The last refs count and alive decision: (handles, requests, alive).
    pub refs: Option<(usize, usize, bool)>,
    /// Inside a checkpoint: (ticks, microtasks) it found.
    pub drain: Option<(usize, usize)>,
    /// The depth of the call stack where the checkpoint runs its jobs.
    drain_depth: usize,
    /// What the program printed so far.
    pub output: Vec<String>,
    /// `beforeExit` was emitted.
    pub before_exit: bool,
    /// The exit code, once exiting.
    pub exit: Option<i32>,
    /// `run` returned, with whether the loop was still alive.
    pub returned: Option<bool>,
    /// The poll phase stalled.
    pub stalled: bool,
}

/// The queues a [`State`] lists entries of, in its order.
pub const QUEUES: [Queue; 6] = [
    Queue::Timers,
    Queue::Immediates,
    Queue::Ticks,
    Queue::Microtasks,
    Queue::Pending,
    Queue::Closing,
];

fn slot(queue: Queue) -> Option<usize> {
    QUEUES.iter().position(|&q| q == queue)
}

impl State {
    /// The entries of `queue` (none for the pool: see [`jobs`](Self::jobs)).
    pub fn queue(&self, queue: Queue) -> &[Entry] {
        slot(queue).map_or(&[], |i| &self.queues[i])
    }

    // ANCHOR: apply
    /// Applies one event.
    pub fn apply(&mut self, stamped: &Stamped<String>) {
        self.applied += 1;
        self.at = stamped.at;
        match &stamped.event {
            TraceEvent::Phase(phase) => {
                if *phase == Phase::Pending {
                    self.iteration += 1;
                }
                self.phase = Some(*phase);
                self.last_phase = Some(*phase);
            }
            TraceEvent::PhaseEnd(_) => self.phase = None,
            TraceEvent::Queues(lengths) => self.lengths = Some(*lengths),
            TraceEvent::Queued {
                queue,
                name,
                id,
                by,
            } => {
                if let Some(i) = slot(*queue) {
                    self.queues[i].push(Entry {
                        name: name.clone(),
                        id: *id,
                        by: by.clone(),
                    });
                }
            }
            TraceEvent::Unqueued { queue, id } => self.unqueue(*queue, *id),
            TraceEvent::CallbackStarted(name) => {
                if self.drain.is_some() && self.stack.len() == self.drain_depth {
                    // A job of the drain: it left its queue as it started.
                    let queue = if name == "nextTick" {
                        Queue::Ticks
                    } else {
                        Queue::Microtasks
                    };
                    self.unqueue(queue, None);
                }
                self.stack.push(name.clone());
            }
            TraceEvent::CallbackFinished(_) => {
                self.stack.pop();
            }
            TraceEvent::Drain { ticks, microtasks } => {
                self.drain = Some((*ticks, *microtasks));
                self.drain_depth = self.stack.len();
            }
            TraceEvent::DrainEnd => self.drain = None,
            TraceEvent::PollWait(timeout) => {
                self.poll.timeout = Some(*timeout);
                self.poll.waiting = true;
            }
            TraceEvent::PollWoke { waited, events } => {
                self.poll.waiting = false;
                self.poll.woke = Some((*waited, *events));
            }
            TraceEvent::PollReady(_) | TraceEvent::WorkDone(_) => {}
            TraceEvent::Stalled => self.stalled = true,
            TraceEvent::WorkQueued { name, job } => self.jobs.push(Job {
                id: *job,
                name: name.clone(),
                state: JobState::Queued,
            }),
            TraceEvent::WorkStarted { job, worker } => {
                self.set_job(*job, JobState::Running(*worker));
                self.workers.insert(*worker, Some(*job));
            }
            TraceEvent::WorkFinished {
                job,
                worker,
                ran_us,
            } => {
                self.set_job(*job, JobState::Finished(*worker, *ran_us));
                self.workers.insert(*worker, None);
            }
            TraceEvent::Alive {
                handles,
                requests,
                alive,
            } => self.refs = Some((*handles, *requests, *alive)),
            TraceEvent::BeforeExit => self.before_exit = true,
            TraceEvent::Exit(code) => self.exit = Some(*code),
            TraceEvent::RunReturned(alive) => {
                self.returned = Some(*alive);
                self.phase = None;
            }
            TraceEvent::Output(line) => self.output.push(line.clone()),
        }
    }
    // ANCHOR_END: apply

    fn unqueue(&mut self, queue: Queue, id: Option<u64>) {
        if queue == Queue::Pool {
            self.jobs.retain(|job| Some(job.id) != id);
            return;
        }
        let Some(i) = slot(queue) else { return };
        let entries = &mut self.queues[i];
        let at = match id {
            Some(id) => entries.iter().position(|e| e.id == Some(id)),
            None => (!entries.is_empty()).then_some(0),
        };
        if let Some(at) = at {
            entries.remove(at);
        }
    }

    fn set_job(&mut self, id: u64, state: JobState) {
        if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
            job.state = state;
        }
    }
}

/// How often a state is kept, in events: stepping back replays at most this many.
const SNAPSHOT_EVERY: usize = 256;

/// A trace, ready to be replayed step by step.
pub struct Replay {
    /// The trace's header says what was traced and on which clock.
    pub program: Option<String>,
    /// `"manual"`, `"system"` or `"none"`.
    pub clock: String,
    /// The events.
    pub events: Vec<Stamped<String>>,
    snapshots: Vec<State>,
}

impl Replay {
    /// A replay of `trace`.
    pub fn new(trace: Recorded) -> Replay {
        let mut snapshots = vec![State::default()];
        let mut state = State::default();
        for (i, event) in trace.events.iter().enumerate() {
            state.apply(event);
            if (i + 1) % SNAPSHOT_EVERY == 0 {
                snapshots.push(state.clone());
            }
        }
        Replay {
            program: trace.header.program,
            clock: trace.header.clock,
            events: trace.events,
            snapshots,
        }
    }

    /// How many events the trace holds.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// The state after the first `n` events.
    pub fn state(&self, n: usize) -> State {
        let n = n.min(self.len());
        let mut state = self.snapshots[n / SNAPSHOT_EVERY].clone();
        for event in &self.events[state.applied..n] {
            state.apply(event);
        }
        state
    }

    /// The first position after `from` where the loop has just entered a phase (for
    /// `iteration`: a pending phase, which begins an iteration); the end if there is none.
    pub fn next_phase(&self, from: usize, iteration: bool) -> usize {
        (from + 1..=self.len())
            .find(|&n| self.enters_phase(n, iteration))
            .unwrap_or(self.len())
    }

    /// The last position before `from` where the loop had just entered a phase; 0 if none.
    pub fn previous_phase(&self, from: usize, iteration: bool) -> usize {
        (1..from)
            .rev()
            .find(|&n| self.enters_phase(n, iteration))
            .unwrap_or(0)
    }

    fn enters_phase(&self, n: usize, iteration: bool) -> bool {
        match self.events[n - 1].event {
            TraceEvent::Phase(Phase::Pending) => true,
            TraceEvent::Phase(_) => !iteration,
            _ => false,
        }
    }
}
