//! The visualizer's parts, each on its own: the replay's states, the keys, the drawing.
//! (`tests/viz.rs` runs the whole command, in plain text and under tmux.)

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use eventloop::trace::{Phase, Queue, Recorded, Stamped, TraceEvent, format};

use super::model::{JobState, Replay, State};
use super::screen::{self, MIN_SIZE, Status, Style};
use super::term::{Action, Ui, on_key, view};

fn at(t: u64, event: TraceEvent<&str>) -> Stamped<String> {
    Stamped {
        at: t,
        event: event.map_names(str::to_string),
    }
}

fn replay(events: Vec<Stamped<String>>) -> Replay {
    Replay::new(Recorded {
        header: format::Header::new("manual"),
        events,
    })
}

/// A small program: main queues a timeout, an immediate and a tick, then prints.
fn small() -> Vec<Stamped<String>> {
    let queued = |queue, name, id| TraceEvent::Queued {
        queue,
        name,
        id,
        by: Some("main"),
    };
    vec![
        at(0, TraceEvent::CallbackStarted("main")),
        at(0, queued(Queue::Timers, "setTimeout", Some(1))),
        at(0, queued(Queue::Immediates, "setImmediate", Some(2))),
        at(0, queued(Queue::Ticks, "nextTick", None)),
        at(0, TraceEvent::Output("main".into())),
        at(0, TraceEvent::CallbackFinished("main")),
        at(
            0,
            TraceEvent::Drain {
                ticks: 1,
                microtasks: 0,
            },
        ),
        at(
            0,
            TraceEvent::Unqueued {
                queue: Queue::Ticks,
                id: None,
            },
        ),
        at(0, TraceEvent::CallbackStarted("nextTick")),
        at(0, TraceEvent::Output("tick".into())),
        at(0, TraceEvent::CallbackFinished("nextTick")),
        at(0, TraceEvent::DrainEnd),
        at(0, TraceEvent::Phase(Phase::Timers)),
        at(0, TraceEvent::PhaseEnd(Phase::Timers)),
        at(0, TraceEvent::Phase(Phase::Pending)),
        at(0, TraceEvent::PhaseEnd(Phase::Pending)),
        at(0, TraceEvent::Phase(Phase::Poll)),
        at(0, TraceEvent::PollWait(Some(0))),
        at(
            0,
            TraceEvent::PollWoke {
                waited: 0,
                events: 0,
            },
        ),
        at(0, TraceEvent::PhaseEnd(Phase::Poll)),
        at(0, TraceEvent::Phase(Phase::Check)),
        at(
            0,
            TraceEvent::Unqueued {
                queue: Queue::Immediates,
                id: Some(2),
            },
        ),
        at(0, TraceEvent::CallbackStarted("setImmediate")),
        at(0, TraceEvent::Output("immediate".into())),
        at(0, TraceEvent::CallbackFinished("setImmediate")),
        at(0, TraceEvent::PhaseEnd(Phase::Check)),
        at(1, TraceEvent::Phase(Phase::Timers)),
        at(
            1,
            TraceEvent::Unqueued {
                queue: Queue::Timers,
                id: Some(1),
            },
        ),
        at(1, TraceEvent::CallbackStarted("setTimeout")),
        at(1, TraceEvent::Output("timeout".into())),
        at(1, TraceEvent::CallbackFinished("setTimeout")),
        at(1, TraceEvent::PhaseEnd(Phase::Timers)),
        at(
            1,
            TraceEvent::Alive {
                handles: 0,
                requests: 0,
                alive: false,
            },
        ),
        at(1, TraceEvent::RunReturned(false)),
    ]
}

#[test]
fn the_state_follows_queues_stack_and_output() {
    let r = replay(small());
    let s = r.state(4);
    assert_eq!(s.stack, ["main"]);
    assert_eq!(s.queue(Queue::Timers)[0].name, "setTimeout");
    assert_eq!(s.queue(Queue::Timers)[0].by.as_deref(), Some("main"));
    assert_eq!(s.queue(Queue::Ticks).len(), 1);
    let s = r.state(9);
    assert_eq!(s.stack, ["nextTick"]);
    assert!(s.queue(Queue::Ticks).is_empty(), "the tick left its queue");
    assert_eq!(s.drain, Some((1, 0)));
    let s = r.state(23);
    assert_eq!(s.phase, Some(Phase::Check));
    assert_eq!(s.iteration, 1);
    assert!(s.queue(Queue::Immediates).is_empty());
    assert_eq!(s.queue(Queue::Timers).len(), 1, "the timer still waits");
    let end = r.state(r.len());
    assert_eq!(end.output, ["main", "tick", "immediate", "timeout"]);
    assert!(end.stack.is_empty());
    assert_eq!(end.refs, Some((0, 0, false)));
    assert_eq!(end.returned, Some(false));
}

#[test]
fn the_pool_panel_follows_jobs_from_queue_to_worker_to_callback() {
    let mut s = State::default();
    for e in [
        at(
            0,
            TraceEvent::WorkQueued {
                name: "fs.stat",
                job: 1,
            },
        ),
        at(
            0,
            TraceEvent::WorkQueued {
                name: "fs.stat",
                job: 2,
            },
        ),
        at(3, TraceEvent::WorkStarted { job: 1, worker: 0 }),
    ] {
        s.apply(&e);
    }
    assert_eq!(s.jobs[0].state, JobState::Running(0));
    assert_eq!(s.workers.get(&0), Some(&Some(1)));
    s.apply(&at(
        3,
        TraceEvent::WorkFinished {
            job: 1,
            worker: 0,
            ran_us: 40,
        },
    ));
    assert_eq!(s.jobs[0].state, JobState::Finished(0, 40));
    assert_eq!(s.workers.get(&0), Some(&None));
    s.apply(&at(
        3,
        TraceEvent::Unqueued {
            queue: Queue::Pool,
            id: Some(1),
        },
    ));
    assert_eq!(s.jobs.len(), 1, "job 1's callback ran; job 2 waits");
    assert_eq!(s.jobs[0].id, 2);
}

#[test]
fn stepping_back_gives_the_state_stepping_forward_gave() {
    // Longer than a few snapshots, so a state is rebuilt from a kept one.
    let mut events = Vec::new();
    for i in 0..700 {
        events.push(at(i, TraceEvent::CallbackStarted("setTimeout")));
        events.push(at(i, TraceEvent::Output(format!("line {i}"))));
        events.push(at(i, TraceEvent::CallbackFinished("setTimeout")));
    }
    let r = replay(events.clone());
    let mut forward = State::default();
    for n in 0..=events.len() {
        assert_eq!(r.state(n), forward, "state after {n} events");
        if n < events.len() {
            forward.apply(&events[n]);
        }
    }
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn press(ui: Ui, code: KeyCode, r: &Replay) -> Ui {
    match on_key(ui, key(code), r) {
        Action::Show(ui) => ui,
        other => panic!("{code:?} should move the replay, not {other:?}"),
    }
}

#[test]
fn keys_step_jump_play_and_quit() {
    let r = replay(small());
    let ui = Ui::default();
    assert_eq!(press(ui, KeyCode::Right, &r).position, 1);
    assert_eq!(
        press(ui, KeyCode::Left, &r).position,
        0,
        "no step before the start"
    );
    let end = press(ui, KeyCode::Char('G'), &r);
    assert_eq!(end.position, r.len());
    assert_eq!(
        press(end, KeyCode::Right, &r).position,
        r.len(),
        "none past the end"
    );
    // p: the next event that enters a phase; i: the next pending phase (a new iteration).
    let phase = press(ui, KeyCode::Char('p'), &r);
    assert_eq!(
        r.events[phase.position - 1].event,
        TraceEvent::Phase(Phase::Timers)
    );
    let iteration = press(ui, KeyCode::Char('i'), &r);
    assert_eq!(
        r.events[iteration.position - 1].event,
        TraceEvent::Phase(Phase::Pending)
    );
    let back = press(iteration, KeyCode::Char('P'), &r);
    assert_eq!(back.position, phase.position);
    // Space plays; at the end it plays again from the start; a step pauses.
    let playing = press(ui, KeyCode::Char(' '), &r);
    assert!(playing.playing);
    assert!(!press(playing, KeyCode::Right, &r).playing);
    let again = press(end, KeyCode::Char(' '), &r);
    assert!(again.playing && again.position == 0);
    let faster = press(ui, KeyCode::Char('+'), &r);
    assert!(faster.speed > ui.speed);
    assert!(press(ui, KeyCode::Char('-'), &r).speed < ui.speed);
    for quit in [KeyCode::Char('q'), KeyCode::Esc] {
        assert_eq!(on_key(ui, key(quit), &r), Action::Quit);
    }
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(on_key(ui, ctrl_c, &r), Action::Quit);
    assert_eq!(on_key(ui, key(KeyCode::Char('z')), &r), Action::Ignore);
}

#[test]
fn the_view_lights_the_phase_and_shows_every_panel() {
    let r = replay(small());
    let ui = Ui {
        position: 23, // inside the immediate, in the check phase
        ..Ui::default()
    };
    let canvas = view(&r, ui, 100, 30);
    let lines = canvas.lines();
    let text = lines.join("\n");
    for panel in [
        "call stack",
        "queues",
        "output",
        "thread pool",
        "poll",
        "refs",
    ] {
        assert!(text.contains(panel), "no {panel} panel:\n{text}");
    }
    assert!(
        text.contains("setTimeout#1←main"),
        "the waiting timer:\n{text}"
    );
    assert!(text.contains("event 23/34"), "{text}");
    assert!(
        lines[lines.len() - 2].contains("call setImmediate"),
        "{text}"
    );
    // The check phase is lit on the ring, and nothing else is.
    let lit: Vec<String> = canvas
        .runs(1)
        .into_iter()
        .filter(|(style, _)| *style == Style::Lit)
        .map(|(_, text)| text.trim().to_string())
        .collect();
    assert_eq!(lit, ["check"]);
    // The innermost frame is lit in the stack.
    assert!(text.contains("setImmediate"), "{text}");
}

#[test]
fn every_size_draws_without_panicking_and_a_small_one_says_so() {
    let r = replay(small());
    for (w, h) in [
        (0, 0),
        (1, 1),
        (MIN_SIZE.0 - 1, 40),
        (MIN_SIZE.0, MIN_SIZE.1),
        (300, 90),
    ] {
        for position in [0, 5, r.len()] {
            let canvas = view(
                &r,
                Ui {
                    position,
                    ..Ui::default()
                },
                w,
                h,
            );
            assert_eq!(canvas.lines().len(), h);
        }
    }
    let small = view(&r, Ui::default(), 40, 10).lines().join("\n");
    assert!(
        small.contains("needs\n64×22"),
        "the message wraps at the edge: {small}"
    );
}

#[test]
fn long_queues_are_cut_with_a_count() {
    let mut s = State::default();
    for id in 0..40 {
        s.apply(&at(
            0,
            TraceEvent::Queued {
                queue: Queue::Immediates,
                name: "setImmediate",
                id: Some(id),
                by: None,
            },
        ));
    }
    let status = Status {
        title: "t",
        position: (40, 40),
        playing: false,
        speed: 5,
        event: "",
    };
    let text = screen::draw(&s, &status, 80, 24).lines().join("\n");
    let row = text.lines().find(|l| l.contains("immediates")).unwrap();
    assert!(row.contains(" 40 "), "{row}");
    assert!(row.contains('+'), "the rest is counted: {row}");
    assert!(row.chars().count() <= 80);
}

#[test]
fn a_narrow_queue_panel_names_its_entries_without_who_queued_them() {
    let mut s = State::default();
    for (queue, name, id) in [
        (Queue::Timers, "setTimeout", 2),
        (Queue::Immediates, "setImmediate", 3),
    ] {
        s.apply(&at(
            1,
            TraceEvent::Queued {
                queue,
                name,
                id: Some(id),
                by: Some("setTimeout"),
            },
        ));
    }
    let status = Status {
        title: "t",
        position: (2, 2),
        playing: false,
        speed: 5,
        event: "",
    };
    let row = |text: &str, queue: &str| {
        let head = format!("│ {queue} ");
        text.lines()
            .find(|l| l.contains(&head))
            .unwrap()
            .to_string()
    };
    let wide = screen::draw(&s, &status, 160, 30).lines().join("\n");
    assert!(
        row(&wide, "timers").contains("setTimeout#2←setTimeout"),
        "{wide}"
    );
    let narrow = screen::draw(&s, &status, 88, 28).lines().join("\n");
    assert!(row(&narrow, "timers").contains("setTimeout#2 "), "{narrow}");
    assert!(
        row(&narrow, "immediates").contains("setImmediate#3 "),
        "{narrow}"
    );
}

#[test]
fn a_drains_jobs_leave_their_queues_as_they_start() {
    let queued = |queue, name| TraceEvent::Queued {
        queue,
        name,
        id: None,
        by: Some("setTimeout"),
    };
    let mut s = State::default();
    for e in [
        at(0, TraceEvent::CallbackStarted("setTimeout")),
        at(0, queued(Queue::Microtasks, "promiseReaction")),
        at(0, queued(Queue::Ticks, "nextTick")),
        at(0, queued(Queue::Ticks, "nextTick")),
        at(0, TraceEvent::CallbackFinished("setTimeout")),
        at(
            0,
            TraceEvent::Drain {
                ticks: 2,
                microtasks: 1,
            },
        ),
        at(0, TraceEvent::CallbackStarted("nextTick")),
        // A frame nested inside a job is not a job: it takes nothing.
        at(0, TraceEvent::CallbackStarted("emitWarning")),
        at(0, TraceEvent::CallbackFinished("emitWarning")),
    ] {
        s.apply(&e);
    }
    assert_eq!(s.queue(Queue::Ticks).len(), 1, "one tick left");
    assert_eq!(s.queue(Queue::Microtasks).len(), 1, "the microtask waits");
    for e in [
        at(0, TraceEvent::CallbackFinished("nextTick")),
        at(0, TraceEvent::CallbackStarted("nextTick")),
        at(0, TraceEvent::CallbackFinished("nextTick")),
        at(0, TraceEvent::CallbackStarted("promiseReaction")),
    ] {
        s.apply(&e);
    }
    assert!(s.queue(Queue::Ticks).is_empty());
    assert!(s.queue(Queue::Microtasks).is_empty());
}
