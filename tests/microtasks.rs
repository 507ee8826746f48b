//! Chapter 5: `process.nextTick`, microtasks, and the checkpoint after every callback
//! (SPEC §5.2).
//!
//! `cargo learn microtasks` runs the `checkpoint::` tests against `exercises/microtasks.rs`.

mod common;

mod checkpoint {
    use super::common::{Log, manual_loop};
    use eventloop::event_loop::{EventLoop, RunMode};
    use eventloop::microtasks::{Job, Microtasks};
    use eventloop::uv::Uv;

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

    /// Several microtasks waiting at once run oldest first, like the ticks: the microtask
    /// queue is first in, first out (in Node, three `queueMicrotask` calls print in order).
    #[test]
    fn microtasks_waiting_together_run_oldest_first() {
        let mut queues = Microtasks::new();
        queues.queue_microtask("m1");
        queues.queue_microtask("m2");
        queues.queue_microtask("m3");
        let mut ran = Vec::new();
        Microtasks::drain(
            &mut queues,
            |queues| queues,
            |_, job| match job {
                Job::Tick(n) | Job::Microtask(n) => ran.push(n),
            },
        );
        assert_eq!(
            ran,
            ["m1", "m2", "m3"],
            "microtasks run in the order they were queued (oldest first), not newest first"
        );
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
        })
        .unwrap();
        assert_eq!(log.entries(), ["sync", "tick", "microtask", "timeout"]);
    }

    /// Without `run_main`, what ran before `run` plays the main script: `run` starts with
    /// its checkpoint, so a tick queued at the top level is not stranded.
    #[test]
    fn run_starts_with_the_checkpoint_of_the_code_before_it() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        lp.set_timeout(log.cb("timeout"), 0);
        lp.queue_microtask(log.cb("microtask"));
        lp.next_tick(log.cb("tick"));
        assert!(
            log.entries().is_empty(),
            "nothing runs before the loop does"
        );
        lp.run(RunMode::Default);
        assert_eq!(log.entries(), ["tick", "microtask", "timeout"]);
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
        lp.run_main(move |lp| again(lp, n)).unwrap();
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

mod promise {
    use super::common::{Log, manual_loop};
    use eventloop::event_loop::EventLoop;
    use eventloop::promise::{Promise, Rejection};

    /// Runs `script` as a main module on a manual clock and returns the log.
    fn main(script: impl FnOnce(&mut EventLoop, &Log) + 'static) -> (Vec<String>, EventLoop) {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.run_main(move |lp| script(lp, &l)).unwrap();
        (log.entries(), lp)
    }

    /// A panicking handler is an uncaught error, not a rejection: the listener hears of it,
    /// the loop goes on, and the promise the handler would have settled stays pending (the
    /// crate's one deliberate difference from a JavaScript `throw`; errors go by `try_then`).
    #[test]
    fn a_panicking_handler_is_an_uncaught_error_and_its_promise_stays_pending() {
        let (log, _) = main(|lp, log| {
            let l = log.clone();
            lp.on_uncaught_exception(move |_, e| l.push(format!("uncaught: {}", e.message)));
            let l = log.clone();
            Promise::resolved(1)
                .then(lp, |_, _: u32| -> u32 { panic!("boom") })
                .then_or_else(
                    lp,
                    move |_, v| l.push(format!("fulfilled {v}")),
                    |_, _| unreachable!("not rejected either"),
                );
            let l = log.clone();
            lp.set_immediate(move |_| l.push("the loop went on"));
        });
        assert_eq!(log, ["uncaught: boom", "the loop went on"]);
    }

    /// Dropping every handle of a chain frees nothing while its head can still settle: the
    /// nodes belong to the promises they wait on.
    #[test]
    fn a_chain_without_handles_still_delivers_when_its_head_settles() {
        let (log, _) = main(|lp, log| {
            let (head, resolver) = Promise::<u64>::pending();
            let mut last = head.clone();
            for _ in 0..2000 {
                last = last.then(lp, |_, v| v + 1);
            }
            let l = log.clone();
            drop(last.then(lp, move |_, v| l.push(format!("end got {v}"))));
            drop((head, last));
            resolver.resolve(lp, 0);
        });
        assert_eq!(log, ["end got 2000"]);
    }

    #[test]
    fn values_flow_down_a_chain() {
        let (log, _) = main(|lp, log| {
            let l = log.clone();
            Promise::resolved(1)
                .then(lp, |_, n| n + 1)
                .then(lp, |_, n| n * 10)
                .then(lp, move |_, n| l.push(format!("{n}")));
        });
        assert_eq!(log, ["20"]);
    }

    #[test]
    fn a_rejection_skips_then_handlers_until_a_catch() {
        let (log, mut lp) = main(|lp, log| {
            let (l, l2) = (log.clone(), log.clone());
            Promise::resolved(1)
                .try_then(lp, |_, _| Err::<i32, _>(Rejection::new("boom")))
                .then(lp, move |_, n| {
                    l.push("never");
                    n
                })
                .catch(lp, |_, e| {
                    assert_eq!(e.to_string(), "boom");
                    7
                })
                .then(lp, move |_, n| l2.push(format!("recovered with {n}")));
        });
        assert_eq!(log, ["recovered with 7"]);
        assert!(lp.take_unhandled_rejections().is_empty());
    }

    #[test]
    fn finally_runs_either_way_and_passes_the_outcome_through() {
        let (log, mut lp) = main(|lp, log| {
            let (l1, l2, l3, l4) = (log.clone(), log.clone(), log.clone(), log.clone());
            Promise::resolved("ok")
                .finally(lp, move |_| l1.push("finally after ok"))
                .then(lp, move |_, v| l2.push(format!("then {v}")));
            Promise::<&str>::rejected(lp, Rejection::new("bad"))
                .finally(lp, move |_| l3.push("finally after bad"))
                .catch(lp, move |_, e| {
                    l4.push(format!("catch {e}"));
                    ""
                });
        });
        assert_eq!(
            log,
            [
                "finally after ok",
                "finally after bad",
                "then ok",
                "catch bad"
            ]
        );
        assert!(lp.take_unhandled_rejections().is_empty());
    }

    #[test]
    fn a_resolver_settles_only_once() {
        let (log, _) = main(|lp, log| {
            let (p, resolver) = Promise::pending();
            let l = log.clone();
            p.then_or_else(lp, move |_, v: i32| l.push(format!("value {v}")), |_, _| ());
            resolver.resolve(lp, 1);
            resolver.resolve(lp, 2);
            resolver.reject(lp, Rejection::new("late"));
            resolver.clone().resolve(lp, 3);
        });
        assert_eq!(log, ["value 1"]);
    }

    #[test]
    fn a_failing_executor_rejects_the_promise() {
        let (log, _) = main(|lp, log| {
            let l = log.clone();
            Promise::<()>::new(lp, |_, _| Err(Rejection::new("executor threw")))
                .catch(lp, move |_, e| l.push(format!("{e}")));
        });
        assert_eq!(log, ["executor threw"]);
    }

    /// A plain chain of `then`s started at once, logging `hop 1`, `hop 2`…: the clock the
    /// hop tests read the microtask count from.
    fn hops(lp: &mut EventLoop, log: &Log, n: usize) {
        let mut p = Promise::resolved(());
        for hop in 1..=n {
            let l = log.clone();
            p = p.then(lp, move |_, ()| l.push(format!("hop {hop}")));
        }
    }

    /// Node 20 prints hop 1, hop 2, hop 3, then `returned inner`, then hop 4: the handler's
    /// promise is adopted in two more microtasks (puzzle c05-adoption-hops).
    #[test]
    fn adoption_costs_two_microtasks_more_than_a_value() {
        let (log, _) = main(|lp, log| {
            let l = log.clone();
            Promise::resolved(())
                .and_then(lp, |_, ()| Promise::resolved("inner"))
                .then(lp, move |_, v| l.push(format!("returned {v}")));
            hops(lp, log, 4);
        });
        assert_eq!(
            log,
            ["hop 1", "hop 2", "hop 3", "returned inner", "hop 4"],
            "a handler that returns a promise settles the derived promise two microtasks later \
             than a value would: one job subscribes to the returned promise \
             (NewPromiseResolveThenableJob), its reaction settles the derived promise, whose \
             own reaction comes one hop later"
        );
    }

    /// Node 20 prints hop 1, hop 2, `adopted q`, hop 3: `resolve(q)` with q fulfilled settles
    /// in the second microtask, and the `then` on it runs in the third.
    #[test]
    fn resolve_with_a_settled_promise_settles_in_the_second_microtask() {
        let (log, _) = main(|lp, log| {
            let (p, resolver) = Promise::pending();
            let l = log.clone();
            p.then(lp, move |_, v: &str| l.push(format!("adopted {v}")));
            resolver.resolve_with(lp, Promise::resolved("q"));
            hops(lp, log, 4);
        });
        assert_eq!(
            log,
            ["hop 1", "hop 2", "adopted q", "hop 3", "hop 4"],
            "resolving with a fulfilled promise takes two microtasks (a job to subscribe, then \
             its reaction), and the then on it a third"
        );
    }

    /// Node 20 prints the TypeError before hop 1: the promise is rejected at once, not a
    /// microtask later.
    #[test]
    fn resolving_a_promise_with_itself_is_a_type_error() {
        let (log, _) = main(|lp, log| {
            let (p, resolver) = Promise::<()>::pending();
            let l = log.clone();
            p.catch(lp, move |_, e| l.push(format!("{e}")));
            resolver.resolve_with(lp, p.clone());
            hops(lp, log, 1);
        });
        assert_eq!(
            log,
            [
                "TypeError: Chaining cycle detected for promise #<Promise>",
                "hop 1"
            ],
            "a promise resolved with itself is rejected at once, with a TypeError, before any \
             microtask runs"
        );
    }

    #[test]
    fn a_pending_promise_adopted_settles_when_it_does() {
        let (log, _) = main(|lp, log| {
            let (inner, resolve_inner) = Promise::pending();
            let (outer, resolve_outer) = Promise::pending();
            let l = log.clone();
            outer.then(lp, move |_, v: &str| l.push(format!("outer got {v}")));
            resolve_outer.resolve_with(lp, inner);
            lp.set_timeout(move |lp| resolve_inner.resolve(lp, "late value"), 10);
        });
        assert_eq!(log, ["outer got late value"]);
    }

    #[test]
    fn all_collects_values_in_order_or_the_first_rejection() {
        let (log, mut lp) = main(|lp, log| {
            let (slow, resolve_slow) = Promise::pending();
            let l = log.clone();
            Promise::all(lp, vec![slow, Promise::resolved(2), Promise::resolved(3)])
                .then(lp, move |_, v| l.push(format!("all {v:?}")));
            lp.set_timeout(move |lp| resolve_slow.resolve(lp, 1), 5);
            let l = log.clone();
            Promise::all(lp, Vec::<Promise<i32>>::new())
                .then(lp, move |_, v| l.push(format!("empty {v:?}")));
            let l = log.clone();
            let bad = Promise::rejected(lp, Rejection::new("second failed"));
            Promise::all(lp, vec![Promise::resolved(1), bad]).catch(lp, move |_, e| {
                l.push(format!("all rejected: {e}"));
                vec![]
            });
        });
        assert_eq!(
            log,
            ["empty []", "all rejected: second failed", "all [1, 2, 3]"]
        );
        assert!(lp.take_unhandled_rejections().is_empty());
    }

    #[test]
    fn race_any_and_all_settled() {
        let (log, _) = main(|lp, log| {
            let (never, _keep) = Promise::<&str>::pending();
            let l = log.clone();
            Promise::race(lp, vec![never.clone(), Promise::resolved("first")])
                .then(lp, move |_, v| l.push(format!("race {v}")));
            let l = log.clone();
            let r1 = Promise::rejected(lp, Rejection::new("no"));
            Promise::any(lp, vec![r1.clone(), Promise::resolved("yes")])
                .then(lp, move |_, v| l.push(format!("any {v}")));
            let l = log.clone();
            let r2 = Promise::rejected(lp, Rejection::new("no again"));
            Promise::any(lp, vec![r1.clone(), r2]).catch(lp, move |_, e| {
                l.push(format!("any: {e}"));
                ""
            });
            let l = log.clone();
            Promise::all_settled(lp, vec![r1, Promise::resolved("ok")]).then(lp, move |_, all| {
                let shown: Vec<String> = all
                    .iter()
                    .map(|o| match o {
                        Ok(v) => format!("fulfilled {v}"),
                        Err(e) => format!("rejected {e}"),
                    })
                    .collect();
                l.push(shown.join(", "));
            });
        });
        assert_eq!(
            log,
            [
                "race first",
                "any yes",
                "any: AggregateError: All promises were rejected",
                "rejected no, fulfilled ok",
            ],
            "the order Node prints for tests/puzzles/c05-combinators.js"
        );
    }

    #[test]
    fn an_unhandled_rejection_is_reported_after_the_microtasks_drain() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.on_unhandled_rejection(move |lp, e| {
            l.push(format!("unhandledRejection: {e}"));
            lp.next_tick(l.cb("tick from the listener"));
        });
        let l = log.clone();
        lp.run_main(move |lp| {
            Promise::<()>::rejected(lp, Rejection::new("nobody catches me"));
            // Handled later in the same drain: not reported.
            let late = Promise::<()>::rejected(lp, Rejection::new("caught late"));
            let l2 = l.clone();
            lp.queue_microtask(move |lp| {
                late.catch(lp, move |_, e| l2.push(format!("caught: {e}")));
            });
            l.push("sync");
        })
        .unwrap();
        assert_eq!(
            log.entries(),
            [
                "sync",
                "caught: caught late",
                "unhandledRejection: nobody catches me",
                "tick from the listener",
            ]
        );
        assert!(
            lp.take_unhandled_rejections().is_empty(),
            "a listener heard it"
        );
    }

    #[test]
    fn without_a_listener_an_unhandled_rejection_ends_the_process() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.on_exit(move |_, code| l.push(format!("exit {code}")));
        let l = log.clone();
        let err = lp
            .run_main(move |lp| {
                Promise::<()>::rejected(lp, std::io::Error::other("lost"));
                lp.set_timeout(l.cb("never: the process ended first"), 0);
            })
            .unwrap_err();
        assert_eq!(err.to_string(), "Uncaught (in promise) lost");
        assert!(err.rejection.is_some());
        assert_eq!(log.entries(), ["exit 1"]);
    }

    #[test]
    fn outside_run_main_unhandled_rejections_are_kept_for_the_embedder() {
        let (mut lp, _clock) = manual_loop();
        lp.set_immediate(|lp| {
            Promise::<()>::rejected(lp, std::io::Error::other("lost"));
        });
        lp.run(eventloop::event_loop::RunMode::Default);
        let unhandled = lp.take_unhandled_rejections();
        assert_eq!(unhandled.len(), 1);
        assert_eq!(unhandled[0].to_string(), "lost");
    }

    #[test]
    fn an_io_error_keeps_its_kind_through_the_chain() {
        let (log, _) = main(|lp, log| {
            let l = log.clone();
            let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
            Promise::<()>::rejected(lp, missing).catch(lp, move |_, e| {
                l.push(format!("{:?}", e.error().kind()));
            });
        });
        assert_eq!(log, ["NotFound"]);
    }

    #[test]
    fn a_resolved_promise_stays_the_same_promise_when_cloned() {
        let (log, _) = main(|lp, log| {
            // `Promise::resolved` keeps its value inline until the first clone: identity and
            // value must survive that move onto the heap.
            let p = Promise::resolved(5);
            let q = p.clone();
            assert!(p.ptr_eq(&q) && q.ptr_eq(&p));
            assert!(p.ptr_eq(&p));
            assert!(!p.ptr_eq(&Promise::resolved(5)), "another promise");
            assert!(Promise::resolve(q.clone()).ptr_eq(&p));
            let (l, l2) = (log.clone(), log.clone());
            p.then(lp, move |_, n| l.push(format!("p {n}")));
            q.then(lp, move |_, n| l2.push(format!("q {n}")));
            assert_eq!(format!("{p:?}"), "Promise { <fulfilled> }");
        });
        assert_eq!(log, ["p 5", "q 5"]);
    }

    #[test]
    fn a_rejection_nobody_holds_is_still_reported() {
        // The derived promise is dropped at once; fulfilling it could be skipped, but its
        // rejection must still reach the unhandled-rejection report.
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.on_unhandled_rejection(move |_, e| l.push(format!("unhandled {e}")));
        let l = log.clone();
        lp.run_main(move |lp| {
            Promise::resolved(1).try_then(lp, |_, _| Err::<(), _>(Rejection::new("dropped")));
            Promise::resolved(2).then(lp, move |_, n| l.push(format!("fulfilled {n}")));
        })
        .unwrap();
        assert_eq!(log.entries(), ["fulfilled 2", "unhandled dropped"]);
    }

    #[test]
    fn chains_that_drop_their_promises_interleave_one_hop_at_a_time() {
        // Two chains of different types, each step a `then` on a new resolved promise whose
        // result is dropped: the nodes are reused, and the order is still one hop each.
        fn numbers(lp: &mut EventLoop, log: Log, n: u32) {
            log.push(format!("n{n}"));
            if n < 3 {
                Promise::resolved(n + 1).then(lp, move |lp, n| numbers(lp, log, n));
            }
        }
        fn words(lp: &mut EventLoop, log: Log, w: String) {
            log.push(w.clone());
            if w.len() < 3 {
                Promise::resolved(w + "w").then(lp, move |lp, w| words(lp, log, w));
            }
        }
        let (log, _) = main(|lp, log| {
            let (l, l2) = (log.clone(), log.clone());
            Promise::resolved(1).then(lp, move |lp, n| numbers(lp, l, n));
            Promise::resolved("w".to_string()).then(lp, move |lp, w| words(lp, l2, w));
            // A kept promise and a reaction on a derived one are not skipped.
            let l3 = log.clone();
            let kept = Promise::resolved(10).then(lp, |_, n| n + 1);
            kept.then(lp, move |_, n| l3.push(format!("kept {n}")));
        });
        assert_eq!(log, ["n1", "w", "n2", "ww", "kept 11", "n3", "www"]);
    }
}

/// Dropping a deep structure of pending promises frees it one node at a time, whatever links
/// the nodes: a `then`, an adoption, a combinator's reaction. Each shape is built 50,000 deep
/// on a thread with a 2 MiB stack, in a child process, so a regression (Rust drops each node
/// inside the drop of the one before, and overflows the stack) fails the test with the
/// child's message instead of aborting the whole test binary: a stack overflow is an abort,
/// not a panic, and no thread can catch it.
mod freeing {
    use eventloop::event_loop::EventLoop;
    use eventloop::promise::{Promise, Resolver};
    use std::any::Any;

    const DEPTH: u64 = 50_000;
    const STACK: usize = 2 << 20;
    const CHILD: &str = "EVENTLOOP_TEST_DEEP_DROP";

    /// Runs `build` (inside `run_main`, so its microtasks drain) on a small stack in a child
    /// process, then drops what it returned and the loop. `test` is this test's name.
    fn frees_on_a_small_stack(test: &str, build: fn(&mut EventLoop) -> Box<dyn Any>) {
        if std::env::var(CHILD).as_deref() == Ok(test) {
            let case = std::thread::Builder::new()
                .stack_size(STACK)
                .spawn(move || {
                    let mut lp = EventLoop::new();
                    let kept = std::rc::Rc::new(std::cell::RefCell::new(None));
                    let k = kept.clone();
                    lp.run_main(move |lp| *k.borrow_mut() = Some(build(lp)))
                        .unwrap();
                    drop(kept);
                    drop(lp);
                });
            case.unwrap().join().unwrap();
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", test, "--nocapture"])
            .env(CHILD, test)
            .output()
            .expect("the test binary runs again");
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "dropping a {DEPTH}-deep {test} on a 2 MiB stack must not recurse per node; \
             the child ended with {}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A pending head, and its resolver: dropping the resolver drops the head.
    fn head() -> (Promise<u64>, Resolver<u64>) {
        Promise::pending()
    }

    #[test]
    fn a_chain_of_thens() {
        frees_on_a_small_stack("freeing::a_chain_of_thens", |lp| {
            let (mut last, resolver) = head();
            for _ in 0..DEPTH {
                last = last.then(lp, |_, v| v + 1);
            }
            Box::new((last, resolver))
        });
    }

    /// `async function step(n) { await null; return n ? step(n - 1) : never }`: each step's
    /// promise adopts the next one's, which is pending until the last one's never settles.
    #[test]
    fn an_adopting_chain() {
        fn step(lp: &mut EventLoop, n: u64, last: Promise<u64>) -> Promise<u64> {
            Promise::resolved(()).and_then(lp, move |lp, _| match n {
                0 => last,
                _ => step(lp, n - 1, last),
            })
        }
        frees_on_a_small_stack("freeing::an_adopting_chain", |lp| {
            let (head, resolver) = head();
            let top = step(lp, DEPTH, head);
            Box::new((top, resolver))
        });
    }

    /// Each promise resolved with the one before (`resolve(previous)`).
    #[test]
    fn a_chain_of_resolve_with() {
        frees_on_a_small_stack("freeing::a_chain_of_resolve_with", |lp| {
            let (head, resolver) = head();
            let mut last = head;
            for _ in 0..DEPTH {
                let (next, resolve_next) = Promise::pending();
                resolve_next.resolve_with(lp, last);
                last = next;
            }
            Box::new((last, resolver))
        });
    }

    #[test]
    fn a_chain_of_races() {
        frees_on_a_small_stack("freeing::a_chain_of_races", |lp| {
            let (mut last, resolver) = head();
            for _ in 0..DEPTH {
                last = Promise::race(lp, vec![last]);
            }
            Box::new((last, resolver))
        });
    }

    #[test]
    fn a_chain_of_anys() {
        frees_on_a_small_stack("freeing::a_chain_of_anys", |lp| {
            let (mut last, resolver) = head();
            for _ in 0..DEPTH {
                last = Promise::any(lp, vec![last]);
            }
            Box::new((last, resolver))
        });
    }

    #[test]
    fn a_chain_of_alls_and_all_settleds() {
        frees_on_a_small_stack("freeing::a_chain_of_alls_and_all_settleds", |lp| {
            let (mut last, resolver) = head();
            for i in 0..DEPTH {
                last = match i % 2 {
                    0 => Promise::all(lp, vec![last]).then(lp, |_, v| v[0]),
                    _ => Promise::all_settled(lp, vec![last]).try_then(lp, |_, v| v[0].clone()),
                };
            }
            Box::new((last, resolver))
        });
    }

    #[test]
    fn a_chain_of_finallys() {
        frees_on_a_small_stack("freeing::a_chain_of_finallys", |lp| {
            let (mut last, resolver) = head();
            for _ in 0..DEPTH {
                last = last.finally(lp, |_| ());
            }
            Box::new((last, resolver))
        });
    }

    /// Each handler holds the promise before it (a closure that keeps a promise to use it
    /// later), each on a pending head of its own: the handlers are freed without ever running.
    #[test]
    fn a_chain_of_handlers_that_hold_promises() {
        frees_on_a_small_stack("freeing::a_chain_of_handlers_that_hold_promises", |lp| {
            let (mut last, first) = head();
            let mut resolvers = vec![first];
            for _ in 0..DEPTH {
                let (head, resolver) = head();
                let held = last;
                last = head.then(lp, move |_, v| {
                    drop(held);
                    v
                });
                resolvers.push(resolver);
            }
            Box::new((last, resolvers))
        });
    }

    /// Every link in turn: then, adoption, race, all, catch, finally, resolve_with.
    #[test]
    fn a_chain_of_every_link() {
        frees_on_a_small_stack("freeing::a_chain_of_every_link", |lp| {
            let (mut last, resolver) = head();
            for i in 0..DEPTH {
                last = match i % 7 {
                    0 => last.then(lp, |_, v| v + 1),
                    1 => Promise::resolved(()).and_then(lp, move |_, _| last),
                    2 => Promise::race(lp, vec![last, Promise::pending().0]),
                    3 => Promise::all(lp, vec![last, Promise::resolved(1)]).then(lp, |_, v| v[0]),
                    4 => last.catch(lp, |_, _| 0),
                    5 => last.finally(lp, |_| ()),
                    _ => {
                        let (next, resolve_next) = Promise::pending();
                        resolve_next.resolve_with(lp, last);
                        next
                    }
                };
            }
            Box::new((last, resolver))
        });
    }

    /// A combinator over many pending promises, each with a `then` chain of its own.
    #[test]
    fn an_all_over_many_chains() {
        frees_on_a_small_stack("freeing::an_all_over_many_chains", |lp| {
            let mut heads = Vec::new();
            let mut tails = Vec::new();
            for _ in 0..DEPTH / 100 {
                let (mut last, resolver) = head();
                for _ in 0..100 {
                    last = Promise::resolved(()).and_then(lp, move |_, _| last);
                }
                heads.push(resolver);
                tails.push(last);
            }
            let all = Promise::all(lp, tails);
            Box::new((all, heads))
        });
    }

    /// A drop that panics while a chain is freed leaves the rest to the next free, and that
    /// next free still runs as a loop (the thread's "freeing" mark was reset by the unwind).
    #[test]
    fn a_drop_that_panics_leaves_the_rest_to_the_next_free() {
        frees_on_a_small_stack(
            "freeing::a_drop_that_panics_leaves_the_rest_to_the_next_free",
            |lp| {
                use std::{cell::Cell, panic, rc::Rc};
                struct Boom;
                impl Drop for Boom {
                    fn drop(&mut self) {
                        panic!("a capture's drop panics");
                    }
                }
                struct Counted(Rc<Cell<u32>>);
                impl Drop for Counted {
                    fn drop(&mut self) {
                        self.0.set(self.0.get() + 1);
                    }
                }
                let freed = Rc::new(Cell::new(0));
                let (first, resolver) = head();
                let counted = Counted(freed.clone());
                drop(first.then(lp, move |_, v| (counted.0.get(), v).1));
                let boom = Boom;
                drop(first.then(lp, move |_, v| (&boom, v).1));
                drop(first);
                let unwound = panic::catch_unwind(panic::AssertUnwindSafe(|| drop(resolver)));
                assert!(unwound.is_err(), "the drop's panic reaches the dropper");
                let (next, resolve_next) = head();
                let counted = Counted(freed.clone());
                drop(next.then(lp, move |_, v| (counted.0.get(), v).1));
                drop((next, resolve_next));
                assert_eq!(freed.get(), 2, "the next free frees what the panic left");
                let (mut last, resolver) = head();
                for _ in 0..DEPTH {
                    last = last.then(lp, |_, v| v + 1);
                }
                Box::new((last, resolver))
            },
        );
    }
}
