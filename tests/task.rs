//! Chapter 10: tasks on the loop — the waker's wake → queue → poll cycle, `.await` on promises
//! with V8's hop count, join handles, and the futures of the loop's sources.
//!
//! `cargo learn task` runs these tests against `exercises/task.rs`. Every test that could wait
//! forever on a wrong answer runs under a timer (`bounded`), so it fails in moments with a
//! message naming the broken rule.

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use common::{Log, manual_loop};
use eventloop::event_loop::{EventLoop, RunMode};
use eventloop::promise::Promise;
use eventloop::task::{self, JoinError};

/// A future that counts its polls, keeps the last waker it was given, and finishes once it was
/// polled `ready_after` times.
#[derive(Clone, Default)]
struct Probe {
    polls: Rc<Cell<usize>>,
    waker: Rc<RefCell<Option<Waker>>>,
    ready_after: usize,
}

impl Probe {
    fn new(ready_after: usize) -> Probe {
        Probe {
            ready_after,
            ..Probe::default()
        }
    }
    fn wake(&self) {
        self.waker
            .borrow()
            .as_ref()
            .expect("the probe was polled")
            .wake_by_ref();
    }
    fn polls(&self) -> usize {
        self.polls.get()
    }
}

impl Future for Probe {
    type Output = usize;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.polls.set(self.polls.get() + 1);
        *self.waker.borrow_mut() = Some(cx.waker().clone());
        if self.polls.get() >= self.ready_after {
            Poll::Ready(self.polls.get())
        } else {
            Poll::Pending
        }
    }
}

/// Runs `future` to the end under a 2-second timer, so that a lost wake-up fails with `what`
/// instead of hanging.
fn bounded<T: 'static>(
    lp: &mut EventLoop,
    what: &str,
    future: impl Future<Output = T> + 'static,
) -> T {
    match lp.block_on(task::timeout(2_000, future)) {
        Ok(Ok(value)) => value,
        Ok(Err(_elapsed)) => panic!("{what}: the task was never polled again (a lost wake-up)"),
        Err(error) => panic!("{what}: {error}"),
    }
}

/// A bound for a test that drives the loop itself: if the loop is still running two (loop)
/// seconds from now, the program fails with a message naming the lost wake-up.
fn watchdog(lp: &mut EventLoop) {
    lp.set_timeout(
        |_| panic!("the task was never polled again (a lost wake-up)"),
        2_000,
    )
    .unref(lp);
}

mod waking {
    use super::*;

    #[test]
    fn spawn_runs_the_future_at_once_up_to_its_first_wait() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        let probe = Probe::new(2);
        let p = probe.clone();
        lp.spawn(async move {
            l.push("before");
            p.await;
            l.push("after");
        });
        log.push("spawn returned");
        assert_eq!(log.entries(), ["before", "spawn returned"]);
        assert_eq!(probe.polls(), 1, "spawn polls the future once, right away");
    }

    #[test]
    fn a_wake_on_the_loop_thread_queues_the_task_as_a_microtask() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let probe = Probe::new(2);
        let (l, p) = (log.clone(), probe.clone());
        lp.spawn(async move {
            p.await;
            l.push("task");
        });
        let p = probe.clone();
        let l = log.clone();
        lp.set_timeout(
            move |lp| {
                p.wake(); // a microtask: before the next timer and the immediate
                l.push("timer 1");
                let l2 = l.clone();
                lp.next_tick(move |_| l2.push("tick"));
            },
            1,
        );
        lp.set_timeout(log.cb("timer 2"), 1);
        lp.set_immediate(log.cb("immediate"));
        lp.run(RunMode::Default);
        assert_eq!(
            log.entries(),
            ["immediate", "timer 1", "tick", "task", "timer 2"],
            "a woken task runs in the checkpoint after the callback that woke it, after its ticks"
        );
    }

    #[test]
    fn a_task_woken_twice_before_it_runs_is_queued_and_polled_once() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let probe = Probe::new(3);
        let (l, p) = (log.clone(), probe.clone());
        lp.spawn(async move {
            p.await;
            l.push("done");
        });
        let (p, l) = (probe.clone(), log.clone());
        watchdog(&mut lp);
        lp.run_main(move |lp| {
            p.wake();
            // Between the two wakes, a microtask that wakes the task again and queues `n`
            // behind it: an entry queued by the second wake would poll it before `n`.
            let (p2, l2) = (p.clone(), l.clone());
            lp.queue_microtask(move |lp| {
                l2.push(format!("m (polls so far: {})", p2.polls()));
                let l3 = l2.clone();
                lp.queue_microtask(move |_| l3.push("n"));
                p2.wake();
            });
            p.wake();
        })
        .unwrap();
        assert_eq!(
            log.entries(),
            ["m (polls so far: 2)", "n", "done"],
            "a second wake of a scheduled task must not queue a second entry"
        );
        assert_eq!(probe.polls(), 3);
    }

    #[test]
    fn a_wake_during_the_poll_is_not_lost() {
        // A future that wakes itself while it is being polled, then says Pending: the task
        // must be polled again (yielding, the way a busy future gives others a turn).
        let (mut lp, _) = manual_loop();
        let polls = bounded(&mut lp, "a self-wake during the poll", async {
            let mut n = 0;
            std::future::poll_fn(|cx| {
                n += 1;
                if n < 5 {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                } else {
                    Poll::Ready(n)
                }
            })
            .await
        });
        assert_eq!(polls, 5);
    }

    #[test]
    fn a_wake_during_the_poll_polls_the_task_once_more_not_twice() {
        let (mut lp, _) = manual_loop();
        let count = Rc::new(Cell::new(0));
        let c = count.clone();
        lp.block_on(std::future::poll_fn(move |cx| {
            c.set(c.get() + 1);
            if c.get() == 1 {
                cx.waker().wake_by_ref();
                cx.waker().wake_by_ref();
                let owned = cx.waker().clone();
                owned.wake(); // by value: the other path of `Wake`
                return Poll::Pending;
            }
            Poll::Ready(())
        }))
        .unwrap();
        lp.run(RunMode::Default);
        assert_eq!(count.get(), 2, "three wakes in one poll make one more poll");
    }

    #[test]
    fn a_wake_after_completion_does_nothing() {
        let (mut lp, _) = manual_loop();
        let probe = Probe::new(1);
        let handle = lp.spawn(probe.clone());
        assert!(handle.is_finished());
        probe.wake();
        probe.wake();
        lp.run(RunMode::Default);
        assert_eq!(probe.polls(), 1, "a finished task is never polled again");
        assert_eq!(lp.active_requests(), 0);
    }

    #[test]
    fn a_wake_from_another_thread_reaches_a_sleeping_loop() {
        let mut lp = EventLoop::new(); // a real wait: the loop sleeps until the thread wakes it
        let polls = bounded(&mut lp, "a wake from another thread", async move {
            let mut polls = 0;
            std::future::poll_fn(|cx| {
                polls += 1;
                if polls == 1 {
                    let waker = cx.waker().clone();
                    std::thread::spawn(move || {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        waker.wake();
                    });
                    return Poll::Pending;
                }
                Poll::Ready(())
            })
            .await;
            polls
        });
        assert_eq!(polls, 2);
    }

    #[test]
    fn many_wakes_from_many_threads_each_get_their_poll() {
        let mut lp = EventLoop::new();
        let total = bounded(&mut lp, "wakes from four threads", async {
            let mut handles = Vec::new();
            for _ in 0..4 {
                handles.push(task::spawn(async {
                    let mut rounds = 0;
                    let sent = Rc::new(Cell::new(0));
                    std::future::poll_fn(|cx| {
                        if sent.get() == rounds {
                            if rounds == 25 {
                                return Poll::Ready(());
                            }
                            sent.set(rounds + 1);
                            let waker = cx.waker().clone();
                            std::thread::spawn(move || waker.wake());
                        }
                        rounds = sent.get();
                        Poll::Pending
                    })
                    .await;
                    rounds
                }));
            }
            let mut total = 0;
            for handle in handles {
                total += handle.await.unwrap();
            }
            total
        });
        assert_eq!(total, 100);
    }

    #[test]
    fn a_future_that_nothing_can_wake_ends_block_on_with_stalled() {
        let (mut lp, _) = manual_loop();
        let outcome = lp.block_on(std::future::pending::<()>());
        assert_eq!(outcome, Err(JoinError::Stalled));
    }
}

mod order {
    use super::*;

    #[test]
    fn await_of_a_resolved_promise_takes_one_hop() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.run_main(move |lp| {
            let l1 = l.clone();
            lp.spawn(async move {
                l1.push("a1");
                Promise::resolved(()).await.unwrap();
                l1.push("a2");
                Promise::resolved(()).await.unwrap();
                l1.push("a3");
            });
            let (l2, l3) = (l.clone(), l.clone());
            Promise::resolved(())
                .then(lp, move |_, ()| l2.push("t1"))
                .then(lp, move |_, ()| l3.push("t2"));
        })
        .unwrap();
        assert_eq!(log.entries(), ["a1", "a2", "t1", "a3", "t2"]);
    }

    #[test]
    fn await_of_a_pending_promise_resumes_one_hop_after_it_settles() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.run_main(move |lp| {
            let (promise, resolver) = Promise::<u32>::pending();
            let l1 = l.clone();
            let p = promise.clone();
            lp.spawn(async move {
                let v = p.await.unwrap();
                l1.push(format!("await {v}"));
            });
            let l2 = l.clone();
            promise.then(lp, move |_, v| l2.push(format!("then {v}")));
            let l3 = l.clone();
            lp.set_timeout(
                move |lp| {
                    resolver.resolve(lp, 7);
                    l3.push("resolved");
                },
                5,
            );
        })
        .unwrap();
        assert_eq!(log.entries(), ["resolved", "await 7", "then 7"]);
    }

    #[test]
    fn await_of_a_rejected_promise_is_an_err_and_handles_the_rejection() {
        let (mut lp, _) = manual_loop();
        let caught = lp
            .block_on(async {
                let (p, r) = Promise::<u8>::pending();
                task::defer(move |lp| r.reject(lp, std::io::Error::other("nope")));
                match p.await {
                    Ok(_) => "fulfilled".to_string(),
                    Err(e) => format!("caught {e}"),
                }
            })
            .unwrap();
        assert_eq!(caught, "caught nope");
        assert!(lp.take_unhandled_rejections().is_empty());
    }

    #[test]
    fn await_of_a_join_handle_takes_one_hop_like_an_async_function_promise() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.run_main(move |lp| {
            let l1 = l.clone();
            lp.spawn(async move {
                task::spawn(async {}).await.unwrap();
                l1.push("after join");
            });
            let l2 = l.clone();
            Promise::resolved(()).then(lp, move |_, ()| l2.push("then"));
        })
        .unwrap();
        assert_eq!(log.entries(), ["after join", "then"]);
    }

    #[test]
    fn with_loop_takes_no_hop() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.run_main(move |lp| {
            let l1 = l.clone();
            lp.spawn(async move {
                let now = task::with_loop(|lp| lp.now()).await;
                l1.push(format!("now {now}"));
            });
            l.push("main");
        })
        .unwrap();
        assert_eq!(log.entries(), ["now 0", "main"]);
    }

    #[test]
    fn sleep_fires_in_the_timers_phase_in_set_timeout_order() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.run_main(move |lp| {
            lp.set_timeout(l.cb("timeout before"), 10);
            let l1 = l.clone();
            lp.spawn(async move {
                task::sleep(10).await;
                l1.push("slept");
            });
            lp.set_timeout(l.cb("timeout after"), 10);
        })
        .unwrap();
        assert_eq!(log.entries(), ["timeout before", "slept", "timeout after"]);
    }
}

mod handles {
    use super::*;

    #[test]
    fn a_pending_task_keeps_the_loop_alive_until_it_finishes_and_unref_lets_it_go() {
        let (mut lp, _) = manual_loop();
        let probe = Probe::new(2);
        let handle = lp.spawn(probe.clone());
        assert_eq!(lp.active_requests(), 1);
        handle.unref(&mut lp);
        assert_eq!(lp.active_requests(), 0);
        handle.ref_(&mut lp);
        assert_eq!(lp.active_requests(), 1);
        probe.wake();
        lp.run(RunMode::Default);
        assert!(handle.is_finished());
        assert_eq!(lp.active_requests(), 0);
    }

    #[test]
    fn abort_drops_the_future_and_its_timer_and_awaiters_see_aborted() {
        let (mut lp, clock) = manual_loop();
        let dropped = Rc::new(Cell::new(false));
        struct OnDrop(Rc<Cell<bool>>);
        impl Drop for OnDrop {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let d = OnDrop(dropped.clone());
        let outcome = lp
            .block_on(async move {
                let sleeper = task::spawn(async move {
                    let _guard = d;
                    task::sleep(1_000_000).await;
                });
                task::yield_now().await;
                sleeper.abort();
                sleeper.await
            })
            .unwrap();
        assert_eq!(outcome, Err(JoinError::Aborted));
        assert!(dropped.get());
        lp.run(RunMode::Default);
        assert_eq!(clock_now(&clock), 0, "the aborted task's timer was cleared");
        assert_eq!(lp.active_requests(), 0);
    }

    fn clock_now(clock: &eventloop::clock::ManualClock) -> u64 {
        use eventloop::clock::Clock;
        clock.now_ms()
    }

    #[test]
    fn a_panicking_task_is_uncaught_its_handle_says_so_and_others_go_on() {
        let (mut lp, _) = manual_loop();
        let heard = Rc::new(RefCell::new(Vec::new()));
        let h = heard.clone();
        lp.on_uncaught_exception(move |_, e| h.borrow_mut().push(e.message.clone()));
        let other = Rc::new(Cell::new(false));
        let o = other.clone();
        let outcome = lp
            .block_on(async move {
                let bad = task::spawn(async {
                    task::yield_now().await;
                    panic!("task failed");
                });
                let good = task::spawn(async move {
                    task::yield_now().await;
                    task::yield_now().await;
                    o.set(true);
                });
                let bad = bad.await;
                good.await.unwrap();
                bad
            })
            .unwrap();
        assert_eq!(outcome, Err(JoinError::Panicked("task failed".into())));
        assert_eq!(*heard.borrow(), ["task failed"]);
        assert!(other.get());
    }

    #[test]
    fn a_join_handle_becomes_a_promise() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.run_main(move |lp| {
            let a = lp
                .spawn(async {
                    task::sleep(5).await;
                    5
                })
                .into_promise(lp);
            let b = lp.spawn(async { 1 }).into_promise(lp);
            Promise::all(lp, vec![a, b]).then(lp, move |_, v| l.push(format!("{v:?}")));
        })
        .unwrap();
        assert_eq!(log.entries(), ["[5, 1]"]);
    }

    #[test]
    fn run_main_async_ends_with_an_unhandled_rejection_on_err() {
        let (mut lp, _) = manual_loop();
        let result = lp.run_main_async(async {
            task::sleep(1).await;
            Err::<(), _>(std::io::Error::other("main failed"))
        });
        let error = result.expect_err("an Err from main is an unhandled rejection");
        assert!(error.message.contains("main failed"), "{error}");
        assert_eq!(lp.exit_code(), 1);
    }
}
