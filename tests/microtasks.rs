//! Chapter 5: `process.nextTick`, microtasks, and the checkpoint after every callback
//! (SPEC §5.2).
//!
//! `cargo learn microtasks` runs the `checkpoint::` tests against `exercises/microtasks.rs`.

mod common;

mod checkpoint {
    use super::common::{Log, manual_loop};
    use eventloop::event_loop::{EventLoop, RunMode};
    use eventloop::microtasks::{Job, Microtasks};

    #[test]
    fn the_drain_runs_ticks_then_microtasks_until_both_are_empty() {
        // A context that records jobs and lets a job queue more.
        struct Cx {
            queues: Microtasks<&'static str>,
            ran: Vec<&'static str>,
        }
        let mut cx = Cx {
            queues: Microtasks::new(),
            ran: Vec::new(),
        };
        cx.queues.queue_microtask("m1");
        cx.queues.next_tick("t1").unwrap();
        cx.queues.next_tick("t2").unwrap();
        Microtasks::drain(
            &mut cx,
            |cx| &mut cx.queues,
            |cx, job| {
                let name = match job {
                    Job::Tick(n) | Job::Microtask(n) => n,
                };
                cx.ran.push(name);
                match name {
                    "t1" => cx.queues.next_tick("t3 (from t1)").unwrap(),
                    "m1" => {
                        cx.queues.next_tick("t4 (from m1)").unwrap();
                        cx.queues.queue_microtask("m2 (from m1)");
                    }
                    "t4 (from m1)" => cx.queues.queue_microtask("m3 (from t4)"),
                    _ => {}
                }
            },
        );
        assert_eq!(
            cx.ran,
            [
                "t1",
                "t2",
                "t3 (from t1)",
                "m1",
                "m2 (from m1)",
                "t4 (from m1)",
                "m3 (from t4)"
            ]
        );
        assert!(cx.queues.is_empty());
    }

    #[test]
    fn the_main_script_is_followed_by_a_checkpoint() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.run_main(move |lp| {
            lp.set_timeout(l.cb("timeout"), 0);
            lp.queue_microtask(l.cb("microtask"));
            lp.next_tick(l.cb("tick"));
            l.push("sync");
        });
        assert_eq!(log.entries(), ["sync", "tick", "microtask", "timeout"]);
    }

    #[test]
    fn ticks_and_microtasks_drain_after_each_timer() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        for n in 1..=2 {
            let l = log.clone();
            lp.set_timeout(
                move |lp| {
                    l.push(format!("timeout {n}"));
                    lp.queue_microtask(l.cb(format!("microtask {n}")));
                    lp.next_tick(l.cb(format!("tick {n}")));
                },
                0,
            );
        }
        lp.run(RunMode::Default);
        assert_eq!(
            log.entries(),
            [
                "timeout 1",
                "tick 1",
                "microtask 1",
                "timeout 2",
                "tick 2",
                "microtask 2"
            ]
        );
    }

    #[test]
    fn ticks_and_microtasks_drain_after_each_immediate() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        for n in 1..=2 {
            let l = log.clone();
            lp.set_immediate(move |lp| {
                l.push(format!("immediate {n}"));
                lp.next_tick(l.cb(format!("tick {n}")));
            });
        }
        lp.run(RunMode::Default);
        assert_eq!(
            log.entries(),
            ["immediate 1", "tick 1", "immediate 2", "tick 2"]
        );
    }

    #[test]
    fn ticks_drain_after_handle_close_and_pending_callbacks() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        for name in ["a", "b"] {
            let h = lp.idle_init(|_, _| {});
            let l = log.clone();
            lp.close(h, move |lp| {
                l.push(format!("close {name}"));
                lp.next_tick(l.cb(format!("tick {name}")));
            })
            .unwrap();
            let l = log.clone();
            lp.queue_pending("write", move |lp| {
                l.push(format!("pending {name}"));
                lp.queue_microtask(l.cb(format!("microtask {name}")));
            });
        }
        lp.run(RunMode::Default);
        assert_eq!(
            log.entries(),
            [
                "pending a",
                "microtask a",
                "pending b",
                "microtask b",
                "close b",
                "tick b",
                "close a",
                "tick a"
            ]
        );
    }

    #[test]
    fn recursive_ticks_starve_a_due_timer_until_they_stop() {
        fn again(lp: &mut EventLoop, n: std::rc::Rc<std::cell::Cell<u32>>) {
            n.set(n.get() + 1);
            if n.get() < 10_000 {
                lp.next_tick(move |lp| again(lp, n));
            }
        }
        let (mut lp, clock) = manual_loop();
        let log = Log::default();
        let n = std::rc::Rc::new(std::cell::Cell::new(0));
        let (l, count) = (log.clone(), n.clone());
        lp.set_timeout(
            move |_| l.push(format!("timeout after {} ticks", count.get())),
            0,
        );
        clock.advance(10); // the timeout is due, yet it must wait for every tick
        lp.run_main(move |lp| again(lp, n));
        assert_eq!(log.entries(), ["timeout after 10000 ticks"]);
    }

    #[test]
    fn a_tick_queued_by_a_timer_runs_before_the_next_timer_even_if_it_clears_it() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let second = super::common::slot();
        let (l, s) = (log.clone(), second.clone());
        lp.set_timeout(
            move |lp| {
                l.push("first");
                let s = s.clone();
                lp.next_tick(move |lp| lp.clear_timeout(s.get().unwrap()));
            },
            0,
        );
        second.set(Some(
            lp.set_timeout(log.cb("second (cleared by a tick)"), 0),
        ));
        lp.run(RunMode::Default);
        assert_eq!(log.entries(), ["first"]);
    }

    #[test]
    fn a_tick_queued_by_an_immediate_can_clear_the_next_immediate() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let second = super::common::slot();
        let (l, s) = (log.clone(), second.clone());
        lp.set_immediate(move |lp| {
            l.push("first");
            let s = s.clone();
            lp.next_tick(move |lp| lp.clear_immediate(s.get().unwrap()));
        });
        second.set(Some(lp.set_immediate(log.cb("second (cleared by a tick)"))));
        lp.set_immediate(log.cb("third"));
        lp.run(RunMode::Default);
        assert_eq!(log.entries(), ["first", "third"]);
    }
}
