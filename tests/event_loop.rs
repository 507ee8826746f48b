//! Chapter 4: the phases of one iteration (SPEC §1, §3, §5.3), with libuv's probes T1–T11.
//!
//! `cargo learn phases` runs these tests against `exercises/phases.rs`.

use eventloop::uv::Uv;
mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{Log, manual_loop, run_counted, slot};
use eventloop::Ref;
use eventloop::event_loop::{EventLoop, HandleError, HandleId, RunMode, Timer};
use eventloop::trace::{Phase, TraceEvent};

/// The phases the trace shows, in order.
fn phases(events: &[TraceEvent]) -> Vec<Phase> {
    events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Phase(p) => Some(*p),
            _ => None,
        })
        .collect()
}

#[test]
fn one_iteration_visits_the_phases_in_libuv_order() {
    let (mut lp, _clock) = manual_loop();
    lp.enable_trace();
    let idle = lp.idle_init(|lp, id| lp.stop_handle(id).unwrap());
    lp.start_handle(idle).unwrap();
    lp.run(RunMode::Default);
    use Phase::*;
    assert_eq!(
        phases(&lp.take_trace()),
        [Timers, Pending, Idle, Prepare, Poll, Check, Closing, Timers],
        "the DEFAULT prelude runs timers, then one whole iteration ends with timers"
    );
}

#[test]
fn once_and_nowait_have_no_prelude() {
    let (mut lp, _clock) = manual_loop();
    lp.enable_trace();
    let idle = lp.idle_init(|_, _| {});
    lp.start_handle(idle).unwrap();
    assert!(lp.run(RunMode::NoWait));
    use Phase::*;
    assert_eq!(
        phases(&lp.take_trace()),
        [Pending, Idle, Prepare, Poll, Check, Closing, Timers]
    );
}

/// uvcheck T1: a timer due before the run, idle/prepare/check handles, the check handle
/// re-arms the timer with 0 ms in iteration 1 and closes everything in iteration 2.
#[test]
fn probe_t1_phase_order_over_a_whole_run() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let all: Rc<RefCell<Vec<(HandleId, &str)>>> = Rc::default();
    let l = log.clone();
    let timer = lp.timer_init(move |_, _| l.push("timer"));
    let l = log.clone();
    let idle = lp.idle_init(move |_, _| l.push("idle"));
    let l = log.clone();
    let prepare = lp.prepare_init(move |_, _| l.push("prepare"));
    let (l, handles) = (log.clone(), all.clone());
    let mut iteration = 0;
    let check = lp.check_init(move |lp, _| {
        iteration += 1;
        l.push(format!("check (iteration {iteration})"));
        if iteration == 1 {
            lp.timer_start(timer, 0, 0).unwrap();
        }
        if iteration == 2 {
            for (h, name) in handles.borrow().iter() {
                let (l, name) = (l.clone(), *name);
                lp.close(*h, move |_| l.push(format!("close_cb({name})")))
                    .unwrap();
            }
        }
    });
    all.borrow_mut().extend([
        (idle.any(), "idle"),
        (prepare.any(), "prepare"),
        (check.any(), "check"),
        (timer.any(), "timer"),
    ]);
    lp.timer_start(timer, 0, 0).unwrap();
    lp.start_handle(idle).unwrap();
    lp.start_handle(prepare).unwrap();
    lp.start_handle(check).unwrap();
    let returned = lp.run(RunMode::Default);
    log.push(format!("run returned {}", returned as u8));
    assert_eq!(
        log.entries(),
        [
            "timer",
            "idle",
            "prepare",
            "check (iteration 1)",
            "timer",
            "idle",
            "prepare",
            "check (iteration 2)",
            "close_cb(timer)",
            "close_cb(check)",
            "close_cb(prepare)",
            "close_cb(idle)",
            "run returned 0",
        ]
    );
}

#[test]
fn probe_t2_close_callbacks_run_newest_first() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    for name in ["h0", "h1", "h2"] {
        let h = lp.idle_init(|_, _| {});
        lp.close(h, log.cb(format!("close_cb {name}"))).unwrap();
    }
    lp.run(RunMode::Default);
    assert_eq!(log.entries(), ["close_cb h2", "close_cb h1", "close_cb h0"]);
}

#[test]
fn probe_t3_a_timer_rearming_itself_with_zero_runs_once_per_pass() {
    let (mut lp, _clock) = manual_loop();
    let calls = Rc::new(RefCell::new(0));
    let c = calls.clone();
    let t = lp.timer_init(move |lp, id| {
        *c.borrow_mut() += 1;
        if *c.borrow() < 1000 {
            lp.timer_start(id, 0, 0).unwrap();
        }
    });
    lp.timer_start(t, 0, 0).unwrap();
    lp.run(RunMode::NoWait);
    assert_eq!(*calls.borrow(), 1);
}

#[test]
fn probe_t5_check_handles_run_in_reverse_start_order() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let mut ids = Vec::new();
    for name in ["c0", "c1", "c2"] {
        let l = log.clone();
        let h = lp.check_init(move |_, _| l.push(format!("check {name}")));
        lp.start_handle(h).unwrap();
        ids.push(h);
    }
    lp.run(RunMode::NoWait);
    lp.run(RunMode::NoWait);
    assert_eq!(
        log.entries(),
        [
            "check c2", "check c1", "check c0", "check c2", "check c1", "check c0"
        ]
    );
}

#[test]
fn probe_t8_backend_timeout_values() {
    let (mut lp, _clock) = manual_loop();
    assert_eq!(lp.backend_timeout(), Some(0), "nothing active");
    let timer = lp.timer_init(|_, _| {});
    lp.timer_start(timer, 1000, 0).unwrap();
    assert_eq!(lp.backend_timeout(), Some(1000), "one 1000 ms timer");
    let idle = lp.idle_init(|_, _| {});
    lp.start_handle(idle).unwrap();
    assert_eq!(lp.backend_timeout(), Some(0), "an active idle handle");
    lp.close(idle, |_| {}).unwrap();
    assert_eq!(lp.backend_timeout(), Some(0), "a handle is closing");
    lp.run(RunMode::NoWait);
    assert_eq!(lp.backend_timeout(), Some(1000), "the close finished");
    timer.unref(&mut lp);
    assert_eq!(lp.backend_timeout(), Some(0), "only an unref'd timer");
    assert!(!lp.is_alive());
}

#[test]
fn probe_t9_a_timer_stopped_by_an_earlier_callback_of_the_same_pass_does_not_run() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let b_id = slot::<HandleId<Timer>>();
    let (l, b) = (log.clone(), b_id.clone());
    let a = lp.timer_init(move |lp, _| {
        l.push("A ran, stops B");
        lp.stop_handle(b.get().unwrap()).unwrap();
    });
    let b = lp.timer_init(log.at("B").pipe());
    b_id.set(Some(b));
    lp.timer_start(a, 0, 0).unwrap();
    lp.timer_start(b, 0, 0).unwrap();
    lp.run(RunMode::Default);
    assert_eq!(log.entries(), ["A ran, stops B"]);
}

/// Adapts a loop callback to a handle callback (which also receives the handle).
trait Pipe {
    fn pipe<K>(self) -> impl FnMut(&mut EventLoop, HandleId<K>) + 'static;
}
impl<F: FnMut(&mut EventLoop) + 'static> Pipe for F {
    fn pipe<K>(mut self) -> impl FnMut(&mut EventLoop, HandleId<K>) + 'static {
        move |lp, _| self(lp)
    }
}

#[test]
fn probe_t10_run_modes() {
    let (mut lp, _clock) = manual_loop();
    let calls = Rc::new(RefCell::new(0));
    let c = calls.clone();
    let t = lp.timer_init(move |_, _| *c.borrow_mut() += 1);
    lp.timer_start(t, 20, 20).unwrap();
    assert!(
        lp.run(RunMode::NoWait),
        "NOWAIT returns alive without blocking"
    );
    assert_eq!(*calls.borrow(), 0);
    assert_eq!(lp.now(), 0);
    assert!(lp.run(RunMode::Once), "ONCE blocks until the timer");
    assert_eq!(*calls.borrow(), 1);
    assert_eq!(lp.now(), 20);
    lp.close(t, |_| {}).unwrap();
    assert!(!lp.run(RunMode::Once), "ONCE after close returns dead");
}

#[test]
fn probe_t11_once_runs_due_timers_only_at_the_end_of_the_iteration() {
    let (mut lp, clock) = manual_loop();
    let log = Log::default();
    let l = log.clone();
    let mut n = 0;
    let t = lp.timer_init(move |_, _| {
        n += 1;
        l.push(format!("timer call {n}"));
    });
    let c = lp.check_init(log.at("check").pipe());
    lp.timer_start(t, 10, 10).unwrap();
    lp.start_handle(c).unwrap();
    clock.advance(20);
    assert!(lp.run(RunMode::Once));
    assert_eq!(
        log.entries(),
        ["check@20", "timer call 1"],
        "libuv ≥ 1.45: no timers before"
    );
}

#[test]
fn an_immediate_forces_a_zero_poll_timeout_and_runs_before_timers() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    lp.set_timeout(log.at("timeout"), 1000);
    assert_eq!(lp.backend_timeout(), Some(1000));
    let im = lp.set_immediate(log.cb("immediate"));
    assert_eq!(
        lp.backend_timeout(),
        Some(0),
        "Node's idle handle is active"
    );
    assert!(im.has_ref(&lp));
    run_counted(&mut lp, RunMode::Default);
    assert_eq!(log.entries(), ["immediate", "timeout@1000"]);
}

#[test]
fn immediates_queued_during_the_check_phase_wait_for_the_next_iteration() {
    let (mut lp, _clock) = manual_loop();
    lp.enable_trace();
    let log = Log::default();
    let l = log.clone();
    lp.set_immediate(move |lp| {
        l.push("immediate 1");
        lp.set_immediate(l.cb("immediate 3 (queued by 1)"));
    });
    lp.set_immediate(log.cb("immediate 2"));
    run_counted(&mut lp, RunMode::Default);
    assert_eq!(
        log.entries(),
        ["immediate 1", "immediate 2", "immediate 3 (queued by 1)"]
    );
    let checks = phases(&lp.take_trace())
        .iter()
        .filter(|p| **p == Phase::Check)
        .count();
    assert_eq!(checks, 2, "immediate 3 ran in a second iteration");
}

#[test]
fn clear_immediate_cancels_and_unref_lets_the_loop_end() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let a = lp.set_immediate(log.cb("cleared"));
    lp.clear_immediate(a);
    lp.clear_immediate(a); // twice: no-op
    assert!(!lp.is_alive());
    let b = lp.set_immediate(log.cb("unref'd")).unref(&mut lp);
    assert!(!b.has_ref(&lp));
    assert!(
        !run_counted(&mut lp, RunMode::Default),
        "an unref'd immediate alone does not keep it alive"
    );
    assert!(log.entries().is_empty());
    // It still runs when something else makes the loop iterate.
    lp.set_timeout(log.cb("timeout"), 5);
    run_counted(&mut lp, RunMode::Default);
    assert_eq!(log.entries(), ["unref'd", "timeout"]);
}

#[test]
fn an_immediate_cleared_by_an_earlier_immediate_does_not_run() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let second = slot();
    let (l, s) = (log.clone(), second.clone());
    lp.set_immediate(move |lp| {
        l.push("first clears second");
        lp.clear_immediate(s.get().unwrap());
    });
    second.set(Some(lp.set_immediate(log.cb("second"))));
    lp.set_immediate(log.cb("third"));
    run_counted(&mut lp, RunMode::Default);
    assert_eq!(log.entries(), ["first clears second", "third"]);
}

#[test]
fn a_tick_queued_by_an_immediate_runs_before_the_next_immediate_and_can_clear_it() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let second = slot();
    let (l, s) = (log.clone(), second.clone());
    lp.set_immediate(move |lp| {
        l.push("first");
        let (l, s) = (l.clone(), s.clone());
        lp.next_tick(move |lp| {
            l.push("tick queued by first");
            lp.clear_immediate(s.get().unwrap());
        });
    });
    second.set(Some(lp.set_immediate(log.cb("second"))));
    lp.set_immediate(log.cb("third"));
    run_counted(&mut lp, RunMode::Default);
    assert_eq!(
        log.entries(),
        ["first", "tick queued by first", "third"],
        "a checkpoint runs between two immediates, before the next one is taken from the \
         pass: a tick queued by an immediate runs before the next immediate, and clearing that \
         one keeps it from running"
    );
}

#[test]
fn a_tick_that_panics_between_two_immediates_leaves_the_next_one_queued() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let l = log.clone();
    lp.set_immediate(move |lp| {
        l.push("first");
        lp.next_tick(|_| panic!("tick"));
    });
    lp.set_immediate(log.cb("second"));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        lp.run(RunMode::Default);
    }));
    assert!(caught.is_err(), "the tick's panic escapes run()");
    lp.run(RunMode::NoWait); // one iteration: its check phase
    assert_eq!(
        log.entries(),
        ["first", "second"],
        "the checkpoint between two immediates comes before the next one is taken from the \
         pass: a tick that panics there leaves it queued, and the next check phase runs it"
    );
    assert!(!run_counted(&mut lp, RunMode::Default));
}

#[test]
fn the_idle_handle_runs_exactly_while_a_refd_immediate_waits() {
    let (mut lp, _clock) = manual_loop();
    lp.set_timeout(|_| {}, 1000);
    let a = lp.set_immediate(|_| {});
    let b = lp.set_immediate(|_| {});
    assert_eq!(lp.backend_timeout(), Some(0), "two ref'd immediates wait");
    a.unref(&mut lp);
    assert_eq!(
        lp.backend_timeout(),
        Some(0),
        "one ref'd immediate still waits"
    );
    b.unref(&mut lp);
    assert_eq!(
        lp.backend_timeout(),
        Some(1000),
        "no ref'd immediate waits: Node's idle handle is stopped and the poll may wait for the \
         timer"
    );
    b.ref_(&mut lp);
    assert_eq!(
        lp.backend_timeout(),
        Some(0),
        "ref'd again: the idle handle runs"
    );
    lp.run(RunMode::NoWait); // the check phase runs both immediates
    assert_eq!(
        lp.backend_timeout(),
        Some(1000),
        "once the immediates ran, none waits: the idle handle is stopped again"
    );
}

#[test]
fn a_panicking_immediate_leaves_the_rest_of_its_pass_for_the_next_check_phase() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let l = log.clone();
    lp.set_immediate(move |lp| {
        lp.set_immediate(l.cb("queued by the one that panicked"));
        panic!("immediate");
    });
    lp.set_immediate(log.cb("second"));
    lp.set_immediate(log.cb("third"));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        lp.run(RunMode::Default);
    }));
    assert!(caught.is_err(), "the panic escapes run()");
    assert!(log.entries().is_empty());
    run_counted(&mut lp, RunMode::Default);
    assert_eq!(
        log.entries(),
        ["second", "third", "queued by the one that panicked"],
        "the rest of a pass cut short by a panic runs first, and alone, in the next check \
         phase (Node's outstandingQueue)"
    );
    assert!(!lp.is_alive(), "no stale ref count keeps the loop alive");
}

#[test]
fn a_handle_started_during_its_phase_first_runs_next_iteration() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let late = lp.check_init(log.at("late").pipe());
    let l = log.clone();
    let mut started = false;
    let first = lp.check_init(move |lp, me| {
        l.push("first");
        if !started {
            started = true;
            lp.start_handle(late).unwrap();
        } else {
            lp.stop_handle(me).unwrap();
            lp.stop_handle(late).unwrap();
        }
    });
    lp.start_handle(first).unwrap();
    lp.run(RunMode::NoWait);
    assert_eq!(log.take(), ["first"]);
    lp.run(RunMode::NoWait);
    assert_eq!(
        log.take(),
        ["late@0", "first"],
        "newest first, in the next iteration"
    );
}

#[test]
fn a_handle_stopped_by_an_earlier_callback_in_the_phase_is_skipped() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let victim = lp.idle_init(log.at("victim").pipe());
    lp.start_handle(victim).unwrap();
    let l = log.clone();
    let killer = lp.idle_init(move |lp, me| {
        l.push("killer");
        lp.stop_handle(victim).unwrap();
        lp.stop_handle(me).unwrap();
    });
    lp.start_handle(killer).unwrap(); // started last: runs first
    lp.run(RunMode::Default);
    assert_eq!(log.entries(), ["killer"]);
}

#[test]
fn handle_misuse_is_a_typed_error_not_a_panic() {
    let (mut lp, _clock) = manual_loop();
    let idle = lp.idle_init(|_, _| {});
    lp.close(idle, |_| {}).unwrap();
    assert_eq!(lp.close(idle, |_| {}), Err(HandleError::Closing));
    assert_eq!(lp.start_handle(idle), Err(HandleError::Closing));
    lp.run(RunMode::Default);
    assert_eq!(lp.close(idle, |_| {}), Err(HandleError::Closed));
    assert_eq!(lp.start_handle(idle), Err(HandleError::Closed));
    assert_eq!(lp.stop_handle(idle), Err(HandleError::Closed));
    assert!(!lp.is_active(idle) && !idle.has_ref(&lp));
    idle.ref_(&mut lp); // no-op on a closed handle
    // Starting a timer with `start_handle`, or a check handle with `timer_start`, is a
    // compile error now (typed ids: see the `compile_fail` examples of `HandleId`).
    let timer = lp.timer_init(|_, _| {});
    assert_eq!(lp.timer_again(timer), Err(HandleError::NeverStarted));
    let io: std::io::Error = HandleError::Closing.into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
}

/// Two fresh loops give their first handles the same slots: only the loop tag tells the
/// ids apart. A handle id of loop A, used on loop B, is `OtherLoop` where an operation
/// reports errors, and reaches nothing where it does not — never B's handle in that slot.
#[test]
fn a_handle_id_of_another_loop_is_refused_and_reaches_nothing() {
    let (mut a, _ca) = manual_loop();
    let (mut b, _cb) = manual_loop();
    let log = Log::default();
    let from_a = a.timer_init(|_, _| {});
    let of_b = b.timer_init(log.at("b's timer").pipe());
    assert_ne!(from_a, of_b, "equal keys, different loops: different ids");
    b.timer_start(of_b, 10, 0).unwrap();

    assert_eq!(b.handle_kind(from_a), None);
    assert!(!b.is_active(from_a) && !b.is_closing(from_a) && !from_a.has_ref(&b));
    assert_eq!(b.timer_due_in(from_a), 0);
    from_a.unref(&mut b);
    assert!(of_b.has_ref(&b), "unref through A's id unref'd B's timer");
    let refused = Err(HandleError::OtherLoop);
    assert_eq!(b.stop_handle(from_a), refused);
    let idle_of_a = a.idle_init(|_, _| {});
    assert_eq!(b.start_handle(idle_of_a), refused);
    assert_eq!(b.timer_start(from_a, 500, 0), refused);
    assert_eq!(b.timer_again(from_a), refused);
    assert_eq!(b.timer_set_repeat(from_a, 1), refused);
    assert_eq!(b.close(from_a, |_| {}), refused);
    let io: std::io::Error = HandleError::OtherLoop.into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
    assert!(io.to_string().contains("another event loop"), "{io}");

    assert!(b.is_active(of_b) && !b.is_closing(of_b));
    assert!(!b.run(RunMode::Default));
    assert_eq!(
        log.entries(),
        ["b's timer@10"],
        "B's timer fired as it was set"
    );
    assert_eq!(
        a.handle_kind(from_a),
        Some(eventloop::event_loop::HandleKind::Timer)
    );
}

/// The same for immediates: A's id cannot clear or unref B's immediate in the same slot.
#[test]
fn an_immediate_id_of_another_loop_reaches_nothing() {
    let (mut a, _ca) = manual_loop();
    let (mut b, _cb) = manual_loop();
    let log = Log::default();
    let from_a = a.set_immediate(log.cb("a"));
    let of_b = b.set_immediate(log.cb("b"));
    assert_ne!(from_a, of_b);
    assert!(!from_a.has_ref(&b));
    from_a.unref(&mut b);
    assert!(
        of_b.has_ref(&b),
        "unref through A's id unref'd B's immediate"
    );
    b.clear_immediate(from_a);
    assert!(!run_counted(&mut b, RunMode::Default));
    assert_eq!(log.entries(), ["b"], "B's immediate ran");
    assert!(from_a.has_ref(&a), "A's still waits");
}

#[test]
fn a_handle_closed_in_a_close_callback_closes_in_the_next_iteration() {
    let (mut lp, _clock) = manual_loop();
    lp.enable_trace();
    let log = Log::default();
    let second = lp.idle_init(|_, _| {});
    let first = lp.idle_init(|_, _| {});
    let l = log.clone();
    lp.close(first, move |lp| {
        l.push("first closed");
        lp.close(second, l.cb("second closed")).unwrap();
    })
    .unwrap();
    lp.run(RunMode::Default);
    assert_eq!(log.entries(), ["first closed", "second closed"]);
    let closings = phases(&lp.take_trace())
        .iter()
        .filter(|p| **p == Phase::Closing)
        .count();
    assert_eq!(closings, 2);
}

#[test]
fn pending_callbacks_run_first_in_the_next_iteration_and_keep_the_loop_alive() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let l = log.clone();
    let idle = lp.idle_init(move |lp, me| {
        l.push("idle");
        lp.stop_handle(me).unwrap();
        lp.queue_pending("write", l.cb("pending (fed in idle)"));
    });
    lp.start_handle(idle).unwrap();
    lp.queue_pending("write", log.cb("pending"));
    assert!(lp.is_alive(), "a deferred callback keeps the loop alive");
    assert_eq!(lp.backend_timeout(), Some(0));
    lp.run(RunMode::Default);
    assert_eq!(log.entries(), ["pending", "idle", "pending (fed in idle)"]);
}

/// libuv drains the pending queue again right after the poll, up to 8 times
/// (`uv_run`: `for (r = 0; r < 8 && !uv__queue_empty(&loop->pending_queue); r++)`), each
/// drain running what was queued before it began.
#[test]
fn after_the_poll_the_pending_queue_is_drained_up_to_eight_times() {
    fn chain(lp: &mut EventLoop, log: &Log, n: u32) {
        let l = log.clone();
        lp.queue_pending("write", move |lp| {
            l.push(format!("p{n}"));
            if n < 10 {
                chain(lp, &l, n + 1);
            }
        });
    }
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    chain(&mut lp, &log, 1);
    let l = log.clone();
    let check = lp.check_init(move |lp, me| {
        l.push("check");
        lp.stop_handle(me).unwrap();
    });
    lp.start_handle(check).unwrap();
    lp.run(RunMode::Once);
    assert_eq!(
        log.entries(),
        [
            "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "check"
        ],
        "one iteration: p1 in the pending phase, p2 to p9 in the eight drains after the poll \
         (each queues the next), then the check phase; p10 waits for the next iteration"
    );
    lp.run(RunMode::Default);
    assert_eq!(log.entries().last().map(String::as_str), Some("p10"));
}

/// `uv_run` decides whether `UV_RUN_ONCE` may wait in the poll *before* the first phase: with
/// a callback pending when the iteration began, it only looks, even once that callback ran.
#[test]
fn once_does_not_wait_if_callbacks_were_pending_when_the_iteration_began() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    lp.set_timeout(log.at("timeout"), 1000);
    lp.queue_pending("write", log.cb("pending"));
    lp.run(RunMode::Once);
    assert_eq!(
        log.entries(),
        ["pending"],
        "a callback was pending when the iteration began: the poll must not wait (for the \
         1000 ms timer here), though the pending phase had run it by then"
    );
    assert_eq!(lp.now(), 0);
}

/// The timers run at the end of the iteration, after the loop time was read again: a timer
/// that came due while the iteration ran (a slow callback) runs in that same iteration.
#[test]
fn the_time_is_updated_before_the_timers_at_the_end_of_an_iteration() {
    let (mut lp, clock) = manual_loop();
    let log = Log::default();
    lp.set_timeout(log.at("timeout"), 5);
    let l = log.clone();
    lp.set_immediate(move |_| {
        l.push("a slow immediate");
        clock.advance(10);
    });
    lp.run(RunMode::Once);
    assert_eq!(
        log.entries(),
        ["a slow immediate", "timeout@10"],
        "after the check phase the loop reads the time again (10 ms later) and the 5 ms timer \
         is due in the same iteration"
    );
}

#[test]
fn a_stopped_loop_does_not_sleep_in_the_poll() {
    let (mut lp, _clock) = manual_loop();
    let timer = lp.timer_init(|_, _| {});
    lp.timer_start(timer, 1000, 0).unwrap();
    assert_eq!(lp.backend_timeout(), Some(1000));
    lp.stop();
    assert_eq!(
        lp.backend_timeout(),
        Some(0),
        "uv_stop: the poll must return at once, so the run can end"
    );
}

#[test]
fn stop_ends_the_run_after_the_current_iteration() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let l = log.clone();
    let mut n = 0;
    let idle = lp.idle_init(move |lp, _| {
        n += 1;
        l.push(format!("idle {n}"));
        if n == 2 {
            lp.stop();
        }
    });
    lp.start_handle(idle).unwrap();
    assert!(lp.run(RunMode::Default), "stopped while alive");
    assert_eq!(log.take(), ["idle 1", "idle 2"]);
    assert!(lp.run(RunMode::NoWait), "the stop flag was cleared");
    assert_eq!(log.take(), ["idle 3"]);
    lp.stop();
    lp.set_timeout(log.cb("timeout"), 0);
    lp.run(RunMode::Default);
    assert!(
        log.entries().is_empty(),
        "no prelude timers when stopped before the run"
    );
}

#[test]
fn a_wait_that_could_never_end_stops_the_run_instead_of_hanging() {
    let (mut lp, _clock) = manual_loop();
    lp.enable_trace();
    let check = lp.check_init(|_, _| {});
    lp.start_handle(check).unwrap(); // ref'd, active, and nothing can ever wake the poll
    assert_eq!(lp.backend_timeout(), None);
    assert!(lp.run(RunMode::Default));
    assert!(lp.take_trace().contains(&TraceEvent::Stalled));
}

#[test]
fn callbacks_run_in_named_frames_on_an_otherwise_empty_stack() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let record = |log: &Log| {
        let log = log.clone();
        move |lp: &mut EventLoop| log.push(format!("{:?}", lp.stack().trace().frames()))
    };
    lp.set_timeout(record(&log), 1);
    lp.set_immediate(record(&log));
    let t = lp.timer_init(record(&log).pipe());
    lp.timer_start(t, 2, 0).unwrap();
    lp.run(RunMode::Default);
    assert_eq!(
        log.entries(),
        [
            r#"["setImmediate", "processImmediate"]"#,
            r#"["setTimeout", "processTimers"]"#,
            r#"["timer"]"#,
        ]
    );
    assert!(lp.stack().is_empty());
}

#[test]
fn callbacks_are_traced_with_their_frame_names() {
    let (mut lp, _clock) = manual_loop();
    lp.enable_trace();
    lp.set_immediate(|_| {});
    lp.run(RunMode::Default);
    let trace = lp.take_trace();
    let started: Vec<_> = trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::CallbackStarted(name) => Some(*name),
            _ => None,
        })
        .collect();
    assert_eq!(started, ["processImmediate", "setImmediate"]);
    assert_eq!(trace.last(), Some(&TraceEvent::RunReturned(false)));
}

#[test]
fn a_stack_limit_below_the_loops_own_nesting_is_refused_when_building() {
    let err = EventLoop::builder().stack_limit(0).build().unwrap_err();
    assert_eq!(
        err,
        eventloop::event_loop::BuildError::StackLimitTooSmall(0)
    );
    assert!(err.to_string().contains("too small"), "{err}");
    let limit = eventloop::event_loop::MIN_STACK_LIMIT;
    assert!(EventLoop::builder().stack_limit(limit).build().is_ok());
}

#[test]
fn a_tick_queued_by_the_last_immediate_of_a_pass_runs_before_the_check_phase_ends() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let l = log.clone();
    let idle = lp.idle_init(|_, _| {});
    lp.set_immediate(move |lp| {
        l.push("immediate");
        lp.close(idle, l.cb("close callback")).unwrap();
        let l = l.clone();
        lp.next_tick(move |_| l.push("tick queued by the last immediate"));
    });
    run_counted(&mut lp, RunMode::Default);
    assert_eq!(
        log.entries(),
        [
            "immediate",
            "tick queued by the last immediate",
            "close callback"
        ],
        "a checkpoint follows the last immediate of a pass too: its ticks run before the check \
         phase ends, not after the close callback of the same iteration"
    );
}

#[test]
fn after_the_only_immediate_panics_the_next_check_phase_stops_the_idle_handle() {
    let (mut lp, _clock) = manual_loop();
    lp.set_immediate(|_| panic!("the only immediate"));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        lp.run(RunMode::Default);
    }));
    assert!(caught.is_err(), "the panic escapes run()");
    run_counted(&mut lp, RunMode::Default);
    assert!(
        !lp.is_alive(),
        "no immediate is left: the next check phase, finding none, stops Node's idle handle \
         (a panic cut the pass short before it could), so the loop ends instead of spinning"
    );
}

#[test]
fn a_nowait_run_polls_without_waiting_even_with_a_timer_far_away() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    lp.set_timeout(log.at("timeout"), 1000);
    let alive = lp.run(RunMode::NoWait);
    assert!(alive, "the timer still waits: the loop is alive");
    assert!(
        !lp.stalled(),
        "RunMode::NoWait polls with a zero timeout: it never waits, so it never stalls (a poll \
         with no timeout waits for ever)"
    );
    assert!(log.entries().is_empty(), "the timer is not due yet");
}

#[test]
fn one_request_alone_lets_the_poll_phase_sleep() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let l = log.clone();
    lp.queue_work(
        || 6 * 7,
        move |_, r| l.push(format!("work done: {}", r.unwrap())),
    );
    assert_eq!(
        lp.backend_timeout(),
        None,
        "one request in flight and nothing else: the poll phase may sleep until it is done (no \
         timer, so no limit), not poll again and again with a zero timeout"
    );
    run_counted(&mut lp, RunMode::Default);
    assert_eq!(log.entries(), ["work done: 42"]);
}
