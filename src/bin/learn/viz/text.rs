//! Events in words: the line under the interactive view, and the whole plain-text replay
//! (one line per event) printed when stdout is not a terminal.

use std::io::{self, Write};

use eventloop::trace::{Queue, TraceEvent};

use super::model::{Event, Replay, State};

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn entry(queue: Queue, id: Option<u64>) -> String {
    match id {
        Some(id) => format!("#{id} from {queue}"),
        None => format!("the oldest from {queue}"),
    }
}

// ANCHOR: describe
/// What `event` means, in a few words. `before` is the state just before it (it names the
/// entry a callback came from).
pub fn describe(event: &Event, before: &State) -> String {
    match event {
        TraceEvent::Phase(phase) => format!("enter the {phase} phase"),
        TraceEvent::PhaseEnd(phase) => format!("leave the {phase} phase"),
        TraceEvent::Queues(q) => format!(
            "queues: timers {}, immediates {}, ticks {}, microtasks {}, pending {}, closing {}, \
             pool {}",
            q.timers, q.immediates, q.ticks, q.microtasks, q.pending, q.closing, q.pool
        ),
        TraceEvent::Queued {
            queue,
            name,
            id,
            by,
        } => {
            let id = id.map(|id| format!(" #{id}")).unwrap_or_default();
            let by = by.as_deref().unwrap_or("the top level");
            format!("{by} queues {name}{id} on {queue}")
        }
        TraceEvent::Unqueued { queue, id } => {
            let found = match id {
                Some(id) => before.queue(*queue).iter().find(|e| e.id == Some(*id)),
                None => before.queue(*queue).first(),
            };
            match found {
                Some(e) => format!("take {} ({})", entry(*queue, *id), e.name),
                None => format!("take {}", entry(*queue, *id)),
            }
        }
        TraceEvent::CallbackStarted(name) => format!("call {name}"),
        TraceEvent::CallbackFinished(name) => format!("{name} returns"),
        TraceEvent::Drain { ticks, microtasks } => format!(
            "checkpoint: drain {} then {}",
            plural(*ticks, "tick", "ticks"),
            plural(*microtasks, "microtask", "microtasks")
        ),
        TraceEvent::DrainEnd => "checkpoint done: no tick or microtask left".into(),
        TraceEvent::PollWait(Some(0)) => "poll without waiting (timeout 0)".into(),
        TraceEvent::PollWait(Some(ms)) => format!("poll: wait at most {ms} ms"),
        TraceEvent::PollWait(None) => "poll: wait until woken (no timeout)".into(),
        TraceEvent::PollWoke { waited, events } => format!(
            "poll woke after {waited} ms with {}",
            plural(*events, "event", "events")
        ),
        TraceEvent::PollReady(n) => format!(
            "the kernel reports {}",
            plural(*n, "ready descriptor", "ready descriptors")
        ),
        TraceEvent::Stalled => "stalled: nothing could ever wake the wait, so the run stops".into(),
        TraceEvent::WorkQueued { name, job } => format!("submit job #{job} ({name}) to the pool"),
        TraceEvent::WorkStarted { job, worker } => format!("worker {worker} starts job #{job}"),
        TraceEvent::WorkFinished {
            job,
            worker,
            ran_us,
        } => format!("worker {worker} finishes job #{job} after {ran_us} µs"),
        TraceEvent::WorkDone(n) => format!(
            "poll collects {}",
            plural(*n, "finished job", "finished jobs")
        ),
        TraceEvent::Alive {
            handles,
            requests,
            alive,
        } => format!(
            "alive? {} and {}: {}",
            plural(*handles, "ref'd handle", "ref'd handles"),
            plural(*requests, "request", "requests"),
            if *alive { "yes, go on" } else { "no" }
        ),
        TraceEvent::BeforeExit => "process emits beforeExit".into(),
        TraceEvent::Exit(code) => format!("process emits exit (code {code})"),
        TraceEvent::RunReturned(alive) => {
            format!(
                "run returns ({})",
                if *alive { "still alive" } else { "done" }
            )
        }
        TraceEvent::Output(line) => format!("prints: {line}"),
    }
}
// ANCHOR_END: describe

/// The whole replay as text, one line per event: time, phase, the event indented by the
/// depth of the call stack it happened at.
pub fn write_plain(replay: &Replay, out: &mut impl Write) -> io::Result<()> {
    let title = replay.program.as_deref().unwrap_or("a trace");
    writeln!(
        out,
        "{title}: {} on a {} clock",
        plural(replay.len(), "event", "events"),
        replay.clock
    )?;
    let mut state = State::default();
    for event in &replay.events {
        let line = describe(&event.event, &state);
        let depth = match event.event {
            TraceEvent::CallbackFinished(_) => state.stack.len().saturating_sub(1),
            _ => state.stack.len(),
        };
        state.apply(event);
        let phase = state.phase.map_or("-", |p| p.name());
        writeln!(
            out,
            "{:>6} ms  {phase:<8} {}{line}",
            event.at,
            "  ".repeat(depth)
        )?;
    }
    if !state.output.is_empty() {
        writeln!(out, "printed:")?;
        for line in &state.output {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}
