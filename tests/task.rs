//! Chapter 10: tasks on the loop — the waker's wake → queue → poll cycle, `.await` on promises
//! with V8's hop count, join handles, and the futures of the loop's sources.
//!
//! `cargo learn task` runs these tests against `exercises/task.rs`. Every test that could wait
//! forever on a wrong answer runs under a timer (`bounded`), so it fails in moments with a
//! message naming the broken rule.

mod common;

use std::cell::{Cell, RefCell};
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use common::{Log, manual_loop};
use eventloop::Ref;
use eventloop::event_loop::{EventLoop, RunMode};
use eventloop::promise::Promise;
use eventloop::task::{self, JoinError};
use eventloop::trace::TraceEvent;

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

/// More polls than any test's task needs: a task polled this often is being polled again
/// without a wake.
const POLL_BUDGET: usize = 10_000;

/// `future`, failing with the rule it breaks when it is polled more than [`POLL_BUDGET`]
/// times: a loop that polls a Pending task again without a wake spins in one microtask
/// checkpoint, where no watchdog timer can fire. Wraps no waker, so the order is untouched.
fn budget<F: Future>(future: F) -> impl Future<Output = F::Output> {
    let mut future = Box::pin(future);
    let mut polls = 0;
    std::future::poll_fn(move |cx| {
        polls += 1;
        assert!(
            polls <= POLL_BUDGET,
            "a task was polled {polls} times: a Pending task must not be polled again without \
             a wake (a double poll)"
        );
        future.as_mut().poll(cx)
    })
}

/// The loop's ways to run a task, each with its future under [`budget`].
trait Budgeted {
    fn spawn_budget<F: Future + 'static>(&mut self, future: F) -> task::JoinHandle<F::Output>;
    fn block_on_budget<F: Future + 'static>(&mut self, future: F) -> Result<F::Output, JoinError>;
}

impl Budgeted for EventLoop {
    fn spawn_budget<F: Future + 'static>(&mut self, future: F) -> task::JoinHandle<F::Output> {
        self.spawn(budget(future))
    }
    fn block_on_budget<F: Future + 'static>(&mut self, future: F) -> Result<F::Output, JoinError> {
        self.block_on(budget(future))
    }
}

/// `task::spawn` with the future under [`budget`].
fn spawn_in<F: Future + 'static>(future: F) -> task::JoinHandle<F::Output> {
    task::spawn(budget(future))
}

/// Runs `future` to the end under a 2-second watchdog (`common::block_on_within`), every poll
/// counted by `budget`.
fn bounded<T: 'static>(
    lp: &mut EventLoop,
    what: &str,
    future: impl Future<Output = T> + 'static,
) -> T {
    common::block_on_within(lp, what, 2_000, budget(future))
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
        lp.spawn_budget(async move {
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
        watchdog(&mut lp);
        let log = Log::default();
        let probe = Probe::new(2);
        let (l, p) = (log.clone(), probe.clone());
        lp.spawn_budget(async move {
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
        lp.spawn_budget(async move {
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
        lp.block_on_budget(std::future::poll_fn(move |cx| {
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
        watchdog(&mut lp);
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
    fn a_finished_task_is_never_queued_again() {
        let (mut lp, _) = manual_loop();
        watchdog(&mut lp);
        lp.enable_trace();
        let probe = Probe::new(2);
        lp.spawn_budget(probe.clone()); // its first part runs now, in a frame called `task`
        let p = probe.clone();
        lp.set_timeout(move |_| p.wake(), 1); // one entry, whose poll finishes the task
        lp.run(RunMode::Default);
        assert_eq!(probe.polls(), 2);
        let task_frames = lp
            .take_trace()
            .iter()
            .filter(|event| matches!(event, eventloop::trace::TraceEvent::CallbackStarted("task")))
            .count();
        assert_eq!(
            task_frames, 2,
            "a task that finished had another entry queued: after a Ready poll it is done for \
             good, and finish_poll must not ask for an entry (false)"
        );
    }

    #[test]
    fn a_pending_task_that_nothing_woke_is_not_polled_again() {
        let (mut lp, _) = manual_loop();
        let polls = Rc::new(Cell::new(0));
        let p = polls.clone();
        let handle = lp.spawn(std::future::poll_fn(move |_| {
            p.set(p.get() + 1);
            assert_eq!(
                p.get(),
                1,
                "a Pending task that nothing woke was polled again (a double poll): a task is \
                 polled once per wake"
            );
            Poll::<()>::Pending
        }));
        handle.unref(&mut lp); // nothing will wake it: let the loop end without it
        lp.set_timeout(|_| {}, 10);
        lp.set_immediate(|_| {});
        lp.queue_microtask(|_| {});
        lp.run(RunMode::Default);
        assert_eq!(polls.get(), 1);
    }

    #[test]
    fn a_wake_of_a_finished_task_from_another_thread_does_not_wake_the_loop() {
        // A waker kept after its task finished, woken from another thread before the loop
        // runs: the wake must do nothing. A finished task that can be scheduled again puts its
        // key in the inbox and rings the loop's wake-up, and the loop, which should sleep in
        // its poll phase until the timer, wakes at once.
        let mut lp = EventLoop::new();
        let probe = Probe::new(1);
        let handle = lp.spawn(probe.clone());
        assert!(handle.is_finished());
        let waker = probe.waker.borrow().clone().expect("polled once");
        std::thread::spawn(move || waker.wake())
            .join()
            .expect("the waking thread");
        let fired = Rc::new(Cell::new(false));
        let f = fired.clone();
        lp.set_timeout(move |_| f.set(true), 30);
        lp.run(RunMode::Once); // sleeps in the poll phase until the timer is due, then runs it
        assert!(
            fired.get(),
            "the loop woke before its timer: a wake of a finished task must do nothing (a done \
             task is never scheduled again)"
        );
        assert_eq!(probe.polls(), 1, "a finished task is never polled again");
    }

    #[test]
    fn a_wake_from_another_thread_reaches_a_sleeping_loop() {
        // A real wait: the loop sleeps in its poll phase until the thread wakes it. A wake
        // that does not wake the loop would only be found after the 1-second timer.
        let mut lp = EventLoop::new();
        let log = Log::default();
        let l = log.clone();
        lp.set_timeout(log.cb("timer after 1 s"), 1_000);
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
            l.push("woken");
            polls
        });
        assert_eq!(polls, 2);
        assert_eq!(
            log.entries(),
            ["woken"],
            "the wake must wake the sleeping loop, not wait for its next timer"
        );
    }

    #[test]
    fn many_wakes_from_many_threads_each_get_their_poll() {
        // Many, because a wake-up rung before the key is pushed loses a wake only when the
        // loop looks in the gap between the two: each wake is one more chance to catch it.
        const WAKES_PER_TASK: usize = 250;
        let mut lp = EventLoop::new();
        let total = bounded(&mut lp, "wakes from four threads", async {
            let mut handles = Vec::new();
            for _ in 0..4 {
                handles.push(spawn_in(async {
                    let mut rounds = 0;
                    let sent = Rc::new(Cell::new(0));
                    std::future::poll_fn(|cx| {
                        if sent.get() == rounds {
                            if rounds == WAKES_PER_TASK {
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
        assert_eq!(total, 4 * WAKES_PER_TASK);
    }

    #[test]
    fn a_future_that_nothing_can_wake_ends_block_on_with_stalled() {
        let (mut lp, _) = manual_loop();
        let outcome = lp.block_on_budget(std::future::pending::<()>());
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
            lp.spawn_budget(async move {
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

    /// A task whose next poll would be the drain's very next job takes its hop in place
    /// (chapter 10, "The hop nobody can see"): only when nothing at all could run in between.
    /// Here a microtask wakes a second task through a plain waker call, outside any poll; that
    /// task's entry must be queued ahead of the first task's next hop.
    #[test]
    fn a_hop_taken_in_place_still_lets_a_task_woken_before_it_go_first() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        watchdog(&mut lp);
        lp.run_main(move |lp| {
            let l1 = l.clone();
            lp.spawn_budget(async move {
                for step in 1..=4 {
                    l1.push(format!("a{step}"));
                    if step < 4 {
                        Promise::resolved(()).await.unwrap();
                    }
                }
            });
            let probe = Probe::new(2);
            let (p, l2) = (probe.clone(), l.clone());
            lp.spawn_budget(async move {
                p.await;
                l2.push("b");
            });
            let l3 = l.clone();
            lp.queue_microtask(move |_| {
                l3.push("m");
                probe.wake(); // no poll is running: the wake waits for the next queued entry
            });
        })
        .unwrap();
        assert_eq!(
            log.entries(),
            ["a1", "a2", "m", "a3", "b", "a4"],
            "a task woken by a waker call outside a poll is queued before the next hop of a \
             task that woke itself: a hop may be taken in place only when no job could run first"
        );
    }

    /// What a poll deferred (a [`task::defer`] call) runs right after that poll, even when the
    /// poll also woke its own task and nothing else waits: never after its next poll.
    #[test]
    fn a_poll_that_woke_itself_runs_what_it_deferred_before_its_next_poll() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        bounded(
            &mut lp,
            "a poll that defers a call and awaits a resolved promise",
            async move {
                l.push("poll 1");
                Promise::resolved(()).await.unwrap(); // from here on, polled by its entries
                l.push("poll 2");
                let l2 = l.clone();
                task::defer(move |_| l2.push("deferred"));
                Promise::resolved(()).await.unwrap();
                l.push("poll 3");
            },
        );
        assert_eq!(
            log.entries(),
            ["poll 1", "poll 2", "deferred", "poll 3"],
            "the commands a poll issued run before the task is polled again"
        );
    }

    /// A task resumed with no hop after a `with_loop` call (here one spawned inside another
    /// task's poll) goes on before the task that spawned it takes its next hop, even when that
    /// hop could otherwise be taken in place.
    #[test]
    fn a_task_to_resume_goes_before_a_hop_in_place() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        bounded(
            &mut lp,
            "a task resumed after with_loop, beside a hop",
            async move {
                Promise::resolved(()).await.unwrap(); // from here on, polled by its entries
                let lc = l.clone();
                let spawned = spawn_in(async move {
                    let lc2 = lc.clone();
                    task::with_loop(move |_| lc2.push("C call")).await;
                    lc.push("C resumed");
                });
                let la = l.clone();
                task::with_loop(move |_| la.push("A call")).await;
                Promise::resolved(()).await.unwrap();
                l.push("A after its hop");
                spawned.await.unwrap();
            },
        );
        assert_eq!(
            log.entries(),
            ["C call", "A call", "C resumed", "A after its hop"],
            "a task waiting to be resumed after its with_loop call goes before the next hop of \
             the task that ran the commands"
        );
    }

    /// A poll that woke its task twice — through its waker, and through the loop's own note of
    /// a fulfilled promise's hop — is answered by one more poll: returns how often the task's
    /// next future was polled before anything woke it. `beside`: a `then` chain runs beside
    /// the task, so its hop goes through the queue instead of being taken in place.
    fn polls_after_two_wakes_in_one_poll(beside: bool) -> usize {
        let (mut lp, _) = manual_loop();
        let probe = Probe::new(2);
        let polls_at_timer = Rc::new(Cell::new(0));
        let seen = polls_at_timer.clone();
        watchdog(&mut lp);
        lp.run_main(move |lp| {
            let p = probe.clone();
            lp.spawn_budget(async move {
                Promise::resolved(()).await.unwrap(); // from here on, polled by its entries
                let mut hop = Promise::resolved(()).into_future();
                let mut woken = false;
                std::future::poll_fn(|cx| {
                    if !woken {
                        woken = true;
                        cx.waker().wake_by_ref(); // the waker itself: the atomic way
                    }
                    Pin::new(&mut hop).poll(cx) // fulfilled: the task's own wake
                })
                .await
                .unwrap();
                p.await; // Pending, and nothing wakes it until the timer
            });
            if beside {
                Promise::resolved(())
                    .then(lp, |_, ()| ())
                    .then(lp, |_, ()| ())
                    .then(lp, |_, ()| ());
            }
            lp.set_timeout(
                move |_| {
                    seen.set(probe.polls());
                    probe.wake();
                },
                5,
            );
        })
        .unwrap();
        polls_at_timer.get()
    }

    #[test]
    fn a_hop_in_place_answers_every_wake_of_the_poll_before_it() {
        assert_eq!(
            polls_after_two_wakes_in_one_poll(false),
            1,
            "two wakes during one poll ask for one more poll, not two: a task polled again in \
             place must clear the notified mark that a waker set meanwhile"
        );
    }

    #[test]
    fn a_queued_hop_answers_every_wake_of_the_poll_before_it() {
        assert_eq!(
            polls_after_two_wakes_in_one_poll(true),
            1,
            "two wakes during one poll ask for one more poll, not two: a task queued again by \
             its own wake must clear the notified mark that a waker set meanwhile"
        );
    }

    /// With a trace recording, every hop is a job of its own, so the trace shows each one.
    #[test]
    fn a_traced_loop_shows_every_hop_as_its_own_job() {
        let (mut lp, _) = manual_loop();
        lp.enable_trace();
        lp.block_on_budget(async {
            for _ in 0..3 {
                Promise::resolved(()).await.unwrap();
            }
        })
        .unwrap();
        let entries = lp
            .take_trace()
            .iter()
            .filter(|e| matches!(e, TraceEvent::CallbackStarted(name) if *name == "task"))
            .count();
        assert_eq!(
            entries, 4,
            "the first poll and one entry per hop: a traced loop takes no hop in place"
        );
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
            lp.spawn_budget(async move {
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
            .block_on_budget(async {
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
            lp.spawn_budget(async move {
                spawn_in(async {}).await.unwrap();
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
            lp.spawn_budget(async move {
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
            lp.spawn_budget(async move {
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

    /// A task keeps its loop's task state alive (an entry reaches it without a weak
    /// reference), and the state keeps every unfinished task: dropping the loop must break
    /// that cycle, or the futures — and the sockets and buffers they hold — are never freed.
    #[test]
    fn dropping_the_loop_drops_its_unfinished_tasks_and_their_futures() {
        /// Says when it is dropped.
        struct Guard(Rc<Cell<bool>>);
        impl Drop for Guard {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let dropped = Rc::new(Cell::new(false));
        let (mut lp, _) = manual_loop();
        watchdog(&mut lp);
        let guard = Guard(dropped.clone());
        let handle = lp.spawn_budget(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        let inner_dropped = Rc::new(Cell::new(false));
        let inner_guard = Guard(inner_dropped.clone());
        let outer = lp.spawn_budget(async move {
            // One started from inside another task's poll, pending too.
            spawn_in(async move {
                let _guard = inner_guard;
                std::future::pending::<()>().await;
            })
            .detach();
            std::future::pending::<()>().await;
        });
        lp.run(RunMode::NoWait);
        assert!(
            !dropped.get() && !inner_dropped.get(),
            "the tasks still wait"
        );
        drop(handle);
        drop(outer);
        drop(lp);
        assert!(
            dropped.get(),
            "the loop is gone and its task's future was never dropped: a reference cycle \
             between the task and the loop's task state keeps both alive"
        );
        assert!(
            inner_dropped.get(),
            "the inner task's future was never dropped"
        );
    }

    #[test]
    fn a_pending_task_keeps_the_loop_alive_until_it_finishes_and_unref_lets_it_go() {
        let (mut lp, _) = manual_loop();
        watchdog(&mut lp);
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
            .block_on_budget(async move {
                let sleeper = spawn_in(async move {
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
            .block_on_budget(async move {
                let bad = spawn_in(async {
                    task::yield_now().await;
                    panic!("task failed");
                });
                let good = spawn_in(async move {
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
                .spawn_budget(async {
                    task::sleep(5).await;
                    5
                })
                .into_promise(lp);
            let b = lp.spawn_budget(async { 1 }).into_promise(lp);
            Promise::all(lp, vec![a, b]).then(lp, move |_, v| l.push(format!("{v:?}")));
        })
        .unwrap();
        assert_eq!(log.entries(), ["[5, 1]"]);
    }

    #[test]
    fn an_unrefd_task_lets_the_loop_end_before_it_finished() {
        let (mut lp, _) = manual_loop();
        lp.set_timeout(
            |_| panic!("an unref'd task kept the loop alive: unref must give back its ref"),
            2_000,
        )
        .unref(&mut lp);
        let probe = Probe::new(2);
        let handle = lp.spawn(probe.clone());
        handle.unref(&mut lp);
        assert!(!handle.has_ref(&lp));
        let ran = Rc::new(Cell::new(false));
        let r = ran.clone();
        lp.set_timeout(move |_| r.set(true), 5);
        lp.run(RunMode::Default);
        assert!(ran.get());
        assert!(
            !handle.is_finished(),
            "the loop ended without waiting for it"
        );
        assert_eq!(probe.polls(), 1);
    }

    #[test]
    fn run_main_async_has_nodes_exit_code_and_exit_events() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let (l1, l2, l3) = (log.clone(), log.clone(), log.clone());
        lp.on_before_exit(move |_, code| l1.push(format!("beforeExit {code}")));
        lp.on_exit(move |_, code| l2.push(format!("exit {code}")));
        let code = lp.run_main_async(budget(async move {
            task::sleep(10).await;
            task::with_loop(|lp| lp.set_exit_code(3)).await;
            l3.push("main returned");
        }));
        assert_eq!(code.expect("no uncaught error"), 3, "process.exitCode = 3");
        assert_eq!(
            log.entries(),
            ["main returned", "beforeExit 3", "exit 3"],
            "as Node: main's task ends, the loop empties, then beforeExit, then exit"
        );
    }

    #[test]
    fn run_main_async_with_a_panicking_main_is_an_uncaught_error_with_code_1() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.on_exit(move |_, code| l.push(format!("exit {code}")));
        let result = lp.run_main_async(budget(async {
            task::yield_now().await;
            let fail = true;
            if fail {
                panic!("main panicked");
            }
        }));
        let error = result.expect_err("a panic in main is the program's uncaught error");
        assert!(error.message.contains("main panicked"), "{error}");
        assert_eq!(lp.exit_code(), 1);
        assert_eq!(
            log.entries(),
            ["exit 1"],
            "the exit listeners still run, with code 1"
        );
    }

    #[test]
    fn run_main_async_ends_with_an_unhandled_rejection_on_err() {
        let (mut lp, _) = manual_loop();
        let result = lp.run_main_async(budget(async {
            task::sleep(1).await;
            Err::<(), _>(std::io::Error::other("main failed"))
        }));
        let error = result.expect_err("an Err from main is an unhandled rejection");
        assert!(error.message.contains("main failed"), "{error}");
        assert_eq!(lp.exit_code(), 1);
    }
}

mod sources {
    use super::*;
    use eventloop::clock::Clock;
    use eventloop::threadpool::{ThreadPool, WorkError};
    use eventloop::uv::Uv;
    use futures_core::Stream;
    use futures_io::{AsyncRead, AsyncWrite};
    use std::future::poll_fn;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
        poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
    }

    async fn write_all<W: AsyncWrite + Unpin>(w: &mut W, mut data: &[u8]) -> std::io::Result<()> {
        while !data.is_empty() {
            let n = poll_fn(|cx| Pin::new(&mut *w).poll_write(cx, data)).await?;
            data = &data[n..];
        }
        Ok(())
    }

    async fn read_some<R: AsyncRead + Unpin>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
        poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, buf)).await
    }

    #[test]
    fn an_interval_yields_every_period_until_dropped() {
        let (mut lp, clock) = manual_loop();
        let times = bounded(&mut lp, "an interval", async {
            let mut ticks = task::interval(100);
            let mut times = Vec::new();
            for _ in 0..3 {
                next(&mut ticks).await;
                times.push(task::with_loop(|lp| lp.now()).await);
            }
            times
        });
        assert_eq!(times, [100, 200, 300]);
        lp.run(RunMode::Default);
        assert_eq!(clock.now_ms(), 300, "the dropped interval was cleared");
    }

    #[test]
    fn a_timeout_that_elapses_drops_the_future_and_clears_its_timer() {
        let (mut lp, clock) = manual_loop();
        let out = lp
            .block_on_budget(task::timeout(10, task::sleep(1_000)))
            .unwrap();
        assert_eq!(out, Err(task::Elapsed));
        lp.run(RunMode::Default);
        assert_eq!(
            clock.now_ms(),
            10,
            "the inner sleep's timer was cleared, not waited for"
        );
        assert_eq!(lp.active_handles(), 0);
    }

    #[test]
    fn yield_now_waits_for_the_check_phase() {
        let (mut lp, _) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.run_main(move |lp| {
            let l1 = l.clone();
            lp.spawn_budget(async move {
                task::yield_now().await;
                l1.push("after yield");
            });
            lp.set_immediate(l.cb("immediate"));
            lp.next_tick(l.cb("tick"));
        })
        .unwrap();
        assert_eq!(log.entries(), ["tick", "after yield", "immediate"]);
    }

    #[test]
    fn spawn_blocking_runs_on_the_pool_and_a_drop_before_it_starts_cancels_it() {
        let mut lp = EventLoop::builder()
            .thread_pool(ThreadPool::with_size(1))
            .build()
            .unwrap();
        // The gate holds the one worker until the test opens it: by sending, or by dropping
        // `open` when it fails, so a failing test never leaves the worker (and the loop's
        // drop, which joins it) waiting.
        let (open, gate) = std::sync::mpsc::channel::<()>();
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let outcome = bounded(&mut lp, "spawn_blocking", async move {
            let busy = task::spawn_blocking(move || {
                let _ = gate.recv_timeout(std::time::Duration::from_secs(5));
                1
            });
            let busy = task::spawn(busy);
            // Queued behind it, then dropped by the timeout before a worker could take it.
            let dropped = task::timeout(
                5,
                task::spawn_blocking(move || r.store(true, Ordering::SeqCst)),
            );
            let dropped = dropped.await;
            task::yield_now().await; // the drop's cancel runs once the poll returns
            let _ = open.send(());
            (dropped.is_err(), busy.await.unwrap())
        });
        assert_eq!(outcome, (true, Ok(1)));
        lp.run(RunMode::Default);
        assert!(
            !ran.load(Ordering::SeqCst),
            "the dropped job was cancelled, never run"
        );
        assert_eq!(lp.work_in_flight(), 0);
    }

    #[test]
    fn a_panicking_blocking_job_is_an_error_not_a_crash() {
        let mut lp = EventLoop::new();
        let out = bounded(
            &mut lp,
            "a panicking job",
            task::spawn_blocking(|| -> u8 { panic!("in the pool") }),
        );
        assert!(matches!(out, Err(WorkError::Panicked(m)) if m.contains("in the pool")));
    }

    #[test]
    fn files_and_names_as_futures() {
        let dir = std::env::temp_dir().join(format!("task-fs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.txt");
        let mut lp = EventLoop::new();
        let p = path.clone();
        let (data, len, missing, written, ip) = bounded(&mut lp, "fs and dns", async move {
            task::fs::write_file(&p, b"hello, loop".to_vec())
                .await
                .unwrap();
            let data = task::fs::read_file(&p).await.unwrap();
            let len = task::fs::stat(&p).await.unwrap().len();
            let missing = task::fs::stat(p.with_extension("none")).await.unwrap_err();
            let file = task::fs::open(&p, "a").await.unwrap();
            let written = task::fs::write(&file, b"!".to_vec(), None).await.unwrap();
            task::fs::close(file).await.unwrap();
            let ip = task::dns::lookup("127.0.0.1").await.unwrap();
            (data, len, missing.to_string(), written, ip)
        });
        assert_eq!(data, b"hello, loop");
        assert_eq!(len, 11);
        assert!(
            missing.starts_with("ENOENT: no such file or directory, stat"),
            "{missing}"
        );
        assert_eq!(written, 1);
        assert_eq!(std::fs::read(&path).unwrap(), b"hello, loop!");
        assert!(ip.is_loopback());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_echo_with_async_read_and_write() {
        let mut lp = EventLoop::new();
        let mut incoming = task::net::listen(&mut lp, "127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = incoming.local_addr();
        let got = bounded(&mut lp, "an async echo", async move {
            let server = spawn_in(async move {
                let mut conn = next(&mut incoming).await.unwrap().unwrap();
                let mut buf = vec![0; 1024];
                loop {
                    let n = read_some(&mut conn, &mut buf).await.unwrap();
                    if n == 0 {
                        break; // the client shut down its side
                    }
                    write_all(&mut conn, &buf[..n]).await.unwrap();
                }
                poll_fn(|cx| Pin::new(&mut conn).poll_close(cx))
                    .await
                    .unwrap();
            });
            let mut client = task::net::connect(addr).await.unwrap();
            let mut got = Vec::new();
            for round in 0..20u8 {
                let message = vec![round; 100];
                write_all(&mut client, &message).await.unwrap();
                let mut received = 0;
                let mut buf = [0; 256];
                while received < message.len() {
                    let n = read_some(&mut client, &mut buf).await.unwrap();
                    assert!(n > 0, "the server closed early");
                    got.extend_from_slice(&buf[..n]);
                    received += n;
                }
            }
            poll_fn(|cx| Pin::new(&mut client).poll_close(cx))
                .await
                .unwrap();
            server.await.unwrap();
            got
        });
        let expected: Vec<u8> = (0..20u8).flat_map(|r| vec![r; 100]).collect();
        assert_eq!(got, expected);
        lp.run(RunMode::Default);
        assert_eq!(
            lp.fd_watchers(),
            0,
            "both streams and the listener were closed"
        );
    }

    #[test]
    fn a_large_write_is_queued_and_flushed_with_backpressure() {
        let mut lp = EventLoop::new();
        let mut incoming = task::net::listen(&mut lp, "127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = incoming.local_addr();
        const SIZE: usize = 4 * 1024 * 1024;
        let total = bounded(&mut lp, "a 4 MiB transfer", async move {
            let reader = spawn_in(async move {
                let mut conn = next(&mut incoming).await.unwrap().unwrap();
                let mut buf = vec![0; 64 * 1024];
                let mut total = 0;
                loop {
                    match read_some(&mut conn, &mut buf).await.unwrap() {
                        0 => return total,
                        n => total += n,
                    }
                }
            });
            let mut client = task::net::connect(addr).await.unwrap();
            write_all(&mut client, &vec![7u8; SIZE]).await.unwrap();
            poll_fn(|cx| Pin::new(&mut client).poll_flush(cx))
                .await
                .unwrap();
            poll_fn(|cx| Pin::new(&mut client).poll_close(cx))
                .await
                .unwrap();
            reader.await.unwrap()
        });
        assert_eq!(total, SIZE);
    }

    #[test]
    fn connecting_to_a_closed_port_is_an_error() {
        let mut lp = EventLoop::new();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let err = bounded(&mut lp, "a refused connect", task::net::connect(port)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    }
}
