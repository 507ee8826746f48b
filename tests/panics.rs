//! A panic that escapes `run()` loses nothing (chapter 4, "What a panic does").
//!
//! Outside `run_main`, with no `uncaughtException` listener, a callback's panic goes on to
//! the program that called `run`, which may catch it and run the loop again. For every kind of
//! callback, one that panics must leave every other queued callback where it was, and the next
//! `run()` must run them in the order Node would have: every phase takes its callbacks from a
//! queue the loop owns, one at a time, and a repeating callback is back in its slot before the
//! panic leaves the loop.
//!
//! Tests whose wrong answer is a hang (a watcher that lost its callback keeps the loop alive;
//! a lost pool completion keeps its request counted) run the loop on a thread of their own and
//! fail after a bound.

use eventloop::uv::Uv;
mod common;

use std::cell::Cell;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::time::{Duration, Instant};

use eventloop::clock::ManualClock;
use eventloop::event_loop::{EventLoop, HandleId, RunMode, Startable};
use eventloop::net::{TcpListener, TcpStream};
use eventloop::promise::Promise;
use eventloop::sys::Interest;
use eventloop::threadpool::ThreadPool;

use common::{Log, manual_loop, slot, within};

/// Runs the loop until a panic escapes it, and checks that it was the one expected.
fn run_through_a_panic(lp: &mut EventLoop, expected: &str) {
    let caught = catch_unwind(AssertUnwindSafe(|| {
        lp.run(RunMode::Default);
    }));
    let payload = caught.expect_err("the panic escapes run()");
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
    assert_eq!(message, Some(expected), "the panic that escaped run()");
    assert!(lp.stack().is_empty(), "frames were popped on the way out");
}

const LIMIT: Duration = Duration::from_secs(20);
const HANGS: &str = "the loop hangs on work a panic lost";

#[test]
fn a_timeout() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    lp.set_timeout(|_| panic!("timeout"), 10);
    lp.set_timeout(log.cb("same list"), 10);
    lp.set_timeout(log.cb("later list"), 20);
    lp.set_immediate(log.cb("immediate"));
    run_through_a_panic(&mut lp, "timeout");
    assert_eq!(log.take(), ["immediate"]);
    lp.run(RunMode::Default);
    assert_eq!(log.entries(), ["same list", "later list"]);
    assert_eq!(lp.now(), 20);
}

#[test]
fn an_interval() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let me = slot();
    let (l, me2, calls) = (log.clone(), me.clone(), Rc::new(Cell::new(0)));
    me.set(Some(lp.set_interval(
        move |lp| {
            calls.set(calls.get() + 1);
            if calls.get() == 1 {
                panic!("interval");
            }
            l.push(format!("interval again@{}", lp.now()));
            lp.clear_interval(me2.get().unwrap());
        },
        10,
    )));
    lp.set_timeout(log.cb("same list"), 10);
    run_through_a_panic(&mut lp, "interval");
    lp.run(RunMode::Default);
    assert_eq!(log.entries(), ["same list", "interval again@20"]);
}

#[test]
fn an_immediate() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let l = log.clone();
    lp.set_immediate(move |lp| {
        lp.set_immediate(l.cb("queued by the one that panicked"));
        panic!("immediate");
    });
    lp.set_immediate(log.cb("second"));
    lp.set_immediate(log.cb("third"));
    run_through_a_panic(&mut lp, "immediate");
    assert_eq!(log.take(), Vec::<String>::new());
    lp.run(RunMode::Default);
    assert_eq!(
        log.entries(),
        ["second", "third", "queued by the one that panicked"]
    );
    assert!(!lp.is_alive(), "no stale count keeps the loop alive");
}

/// Idle, prepare and check handles run newest first; one that panics keeps its callback, and
/// the older handles it kept from running run in the next iteration, after it.
#[test]
fn idle_prepare_and_check_handles() {
    older_handles_run_after_the_one_that_panicked("idle", |lp, cb| lp.idle_init(cb));
    older_handles_run_after_the_one_that_panicked("prepare", |lp, cb| lp.prepare_init(cb));
    older_handles_run_after_the_one_that_panicked("check", |lp, cb| lp.check_init(cb));
}

type Init<K> = fn(&mut EventLoop, Box<dyn FnMut(&mut EventLoop, HandleId<K>)>) -> HandleId<K>;

fn older_handles_run_after_the_one_that_panicked<K: Startable + 'static>(
    kind: &str,
    init: Init<K>,
) {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let l = log.clone();
    let older = init(
        &mut lp,
        Box::new(move |lp, me| {
            l.push("older");
            lp.stop_handle(me).unwrap();
        }),
    );
    let (l, calls) = (log.clone(), Rc::new(Cell::new(0)));
    let newer = init(
        &mut lp,
        Box::new(move |lp, me| {
            calls.set(calls.get() + 1);
            if calls.get() == 1 {
                panic!("newer handle");
            }
            l.push("newer again");
            lp.stop_handle(me).unwrap();
        }),
    );
    lp.start_handle(older).unwrap();
    lp.start_handle(newer).unwrap();
    run_through_a_panic(&mut lp, "newer handle");
    assert_eq!(log.take(), Vec::<String>::new(), "{kind}");
    lp.run(RunMode::Default);
    assert_eq!(log.entries(), ["newer again", "older"], "{kind}");
}

/// libuv's timers: the ones due in the same pass as the one that panicked run next time.
#[test]
fn a_libuv_timer() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let first = lp.timer_init(|_, _| panic!("timer handle"));
    let l = log.clone();
    let second = lp.timer_init(move |lp, _| l.push(format!("second@{}", lp.now())));
    lp.timer_start(first, 5, 0).unwrap();
    lp.timer_start(second, 5, 0).unwrap();
    run_through_a_panic(&mut lp, "timer handle");
    lp.run(RunMode::Default);
    assert_eq!(log.entries(), ["second@5"]);
}

/// The pending phase runs the deferred callbacks of one pass; one that panics leaves the rest
/// of the pass, which runs first in the next run.
#[test]
fn a_pending_callback() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let l = log.clone();
    lp.set_immediate(move |lp| {
        // Deferred from a callback, as `net` defers its errors: they run next iteration.
        lp.queue_pending("pending 1", |_| panic!("pending"));
        lp.queue_pending("pending 2", l.cb("pending 2"));
        lp.queue_pending("pending 3", l.cb("pending 3"));
        lp.set_immediate(l.cb("immediate"));
    });
    run_through_a_panic(&mut lp, "pending");
    lp.run(RunMode::Default);
    assert_eq!(log.entries(), ["pending 2", "pending 3", "immediate"]);
    assert!(!lp.is_alive());
}

/// Close callbacks run newest first; one that panics leaves the older ones, which run in the
/// next closing phase, still newest first.
#[test]
fn a_close_callback() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    for name in ["a", "b", "c"] {
        let handle = lp.check_init(|_, _| {});
        if name == "c" {
            lp.close(handle, |_| panic!("close c")).unwrap();
        } else {
            lp.close(handle, log.cb(format!("close {name}"))).unwrap();
        }
    }
    lp.set_immediate(log.cb("immediate"));
    run_through_a_panic(&mut lp, "close c");
    assert_eq!(log.take(), ["immediate"]);
    lp.run(RunMode::Default);
    assert_eq!(log.entries(), ["close b", "close a"]);
    assert!(!lp.is_alive());
}

#[test]
fn a_tick() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    lp.next_tick(log.cb("tick 1"));
    lp.next_tick(|_| panic!("tick"));
    lp.next_tick(log.cb("tick 3"));
    lp.queue_microtask(log.cb("microtask"));
    lp.set_immediate(log.cb("immediate"));
    run_through_a_panic(&mut lp, "tick");
    assert_eq!(log.take(), ["tick 1"]);
    lp.run(RunMode::Default);
    assert_eq!(log.entries(), ["tick 3", "microtask", "immediate"]);
}

#[test]
fn a_microtask() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    lp.queue_microtask(|_| panic!("microtask"));
    lp.queue_microtask(log.cb("microtask 2"));
    let l = log.clone();
    lp.set_timeout(
        move |lp| {
            l.push("timeout");
            lp.next_tick(l.cb("tick from the timeout"));
        },
        0,
    );
    run_through_a_panic(&mut lp, "microtask");
    lp.run(RunMode::Default);
    assert_eq!(
        log.entries(),
        ["microtask 2", "timeout", "tick from the timeout"]
    );
}

#[test]
fn a_promise_reaction() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let resolved = Promise::resolved(1u32);
    resolved.then(&mut lp, |_, _| -> u32 { panic!("reaction") });
    let l = log.clone();
    resolved
        .then(&mut lp, move |_, v| {
            l.push(format!("second reaction {v}"));
            v + 1
        })
        .then(&mut lp, {
            let l = log.clone();
            move |_, v| l.push(format!("chained {v}"))
        });
    lp.queue_microtask(log.cb("microtask"));
    run_through_a_panic(&mut lp, "reaction");
    lp.run(RunMode::Default);
    assert_eq!(
        log.entries(),
        ["second reaction 1", "microtask", "chained 2"]
    );
}

/// Two descriptors ready in the same wait: whichever watcher runs first panics. The other's
/// event is not lost — it runs first in the next run — and the watcher that panicked keeps its
/// callback: it fires again (its descriptor is still readable), instead of being a watcher
/// with no callback that keeps the loop alive forever.
#[test]
fn an_fd_watcher() {
    let log = within(LIMIT, HANGS, || {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let mut peers = Vec::new();
        let panicked = Rc::new(Cell::new(None::<&'static str>));
        for name in ["x", "y"] {
            let (ours, mut theirs) = UnixStream::pair().expect("socketpair");
            ours.set_nonblocking(true).unwrap();
            theirs.write_all(b"!").unwrap(); // readable from the start, and it stays so
            let me = slot();
            let (l, me2, panicked) = (log.clone(), me.clone(), panicked.clone());
            let watch = lp
                .watch_fd(
                    ours,
                    Interest::READABLE,
                    name,
                    move |lp, _event| match panicked.get() {
                        None => {
                            panicked.set(Some(name));
                            l.push("first watcher panics");
                            panic!("watcher");
                        }
                        Some(first) => {
                            let who = if first == name {
                                "first again"
                            } else {
                                "other"
                            };
                            l.push(who);
                            lp.unwatch_fd(me2.get().unwrap()).unwrap();
                        }
                    },
                )
                .expect("watch");
            me.set(Some(watch));
            peers.push(theirs);
        }
        run_through_a_panic(&mut lp, "watcher");
        lp.run(RunMode::Default);
        assert_eq!(lp.fd_watchers(), 0);
        log.entries()
    });
    assert_eq!(log, ["first watcher panics", "other", "first again"]);
}

/// A pool of one worker, two jobs finished before the loop looks: both completions arrive in
/// one batch, and the first callback panics. The second is not lost: the next run runs it and
/// returns (today's code dropped it, with its request still counted: `run` never returned).
#[test]
fn a_pool_completion() {
    let log = within(LIMIT, HANGS, || {
        let mut lp = EventLoop::builder()
            .clock(ManualClock::new())
            .thread_pool(ThreadPool::with_size(1))
            .build()
            .unwrap();
        let log = Log::default();
        lp.queue_work(|| 1, |_, _| panic!("after work"));
        let l = log.clone();
        lp.queue_work(|| 2, move |_, n| l.push(format!("job {} done", n.unwrap())));
        let l = log.clone();
        lp.set_immediate(move |_| l.push("immediate"));
        let deadline = Instant::now() + LIMIT;
        while lp.thread_pool().finished() < 2 {
            assert!(Instant::now() < deadline, "the pool never ran the jobs");
            std::thread::yield_now();
        }
        run_through_a_panic(&mut lp, "after work");
        lp.run(RunMode::Default);
        assert_eq!(lp.work_in_flight(), 0);
        log.entries()
    });
    // The rest of the batch runs in the next poll phase, before the check phase.
    assert_eq!(log, ["job 2 done", "immediate"]);
}

/// Process listeners: one that panics out of `run()` leaves every listener registered (they
/// are taken out of the loop while they run, and used to be dropped by the unwind).
#[test]
fn a_process_listener() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    lp.on_warning(move |_, _| {
        c.set(c.get() + 1);
        if c.get() == 1 {
            panic!("listener");
        }
    });
    let l = log.clone();
    lp.on_warning(move |_, w| l.push(format!("second listener: {}", w.name)));
    lp.set_timeout(|_| {}, 1e10); // too long: a TimeoutOverflowWarning, on a tick
    run_through_a_panic(&mut lp, "listener");
    lp.set_timeout(|_| {}, 1e10);
    lp.run(RunMode::Default);
    assert_eq!(calls.get(), 2);
    assert_eq!(log.entries(), ["second listener: TimeoutOverflowWarning"]);
}

/// A panic inside an `uncaughtException` listener ends the program; the next program on the
/// same loop still has its listener, and the listener still handles panics.
#[test]
fn an_uncaught_exception_listener_that_panics() {
    let (mut lp, _clock) = manual_loop();
    let log = Log::default();
    let (l, calls) = (log.clone(), Rc::new(Cell::new(0)));
    lp.on_uncaught_exception(move |_, err| {
        calls.set(calls.get() + 1);
        if calls.get() == 1 {
            panic!("the listener fails");
        }
        l.push(format!("heard: {}", err.message));
    });
    let err = lp
        .run_main(|lp| {
            lp.set_immediate(|_| panic!("first program"));
        })
        .unwrap_err();
    assert_eq!(err.message, "the listener fails");
    let code = lp.run_main(|lp| {
        lp.set_immediate(|_| panic!("second program"));
    });
    assert_eq!(code.map_err(|e| e.message), Ok(0));
    assert_eq!(log.entries(), ["heard: second program"]);
}

/// A TCP stream's data callback that panics keeps its place: the next data reaches it.
/// (`net` takes the callback out of the stream while it runs; it used to be dropped by the
/// unwind, which left the stream reading with no callback — ready at every poll, never read:
/// `run` spun for ever.)
#[test]
fn a_tcp_data_callback() {
    let log = within(LIMIT, HANGS, || {
        let peer_side = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let (l, calls) = (log.clone(), Rc::new(Cell::new(0)));
        TcpStream::connect(
            &mut lp,
            peer_side.local_addr().unwrap(),
            move |lp, stream| {
                let stream = stream.expect("connected");
                stream
                    .read_start(lp, move |lp, data| {
                        calls.set(calls.get() + 1);
                        let data = String::from_utf8_lossy(data.expect("data")).into_owned();
                        if calls.get() == 1 {
                            panic!("data callback");
                        }
                        l.push(format!("data again: {data}"));
                        stream.close(lp, |_| {}).expect("open");
                    })
                    .expect("read_start");
            },
        )
        .expect("connect");
        let (mut peer, _) = peer_side.accept().expect("accept");
        peer.write_all(b"first").unwrap();
        run_through_a_panic(&mut lp, "data callback");
        peer.write_all(b"second").unwrap();
        lp.run(RunMode::Default);
        log.entries()
    });
    assert_eq!(log, ["data again: second"]);
}

/// A TCP server's connection callback that panics keeps its place: the next connection
/// reaches it (the server used to lose it, and closed every later connection unseen).
#[test]
fn a_tcp_connection_callback() {
    let log = within(LIMIT, HANGS, || {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let (l, calls) = (log.clone(), Rc::new(Cell::new(0)));
        let server = slot();
        let me = server.clone();
        let listener = TcpListener::listen(
            &mut lp,
            "127.0.0.1:0".parse().unwrap(),
            16,
            move |lp, stream| {
                let stream = stream.expect("a connection");
                calls.set(calls.get() + 1);
                stream.close(lp, |_| {}).expect("open");
                if calls.get() == 1 {
                    panic!("connection callback");
                }
                l.push(format!("connection {}", calls.get()));
                let listener: TcpListener = me.get().unwrap();
                listener.close(lp, |_| {}).expect("open");
            },
        )
        .expect("listen");
        server.set(Some(listener));
        let addr = listener.local_addr(&lp).unwrap();
        let _first = std::net::TcpStream::connect(addr).unwrap();
        run_through_a_panic(&mut lp, "connection callback");
        let _second = std::net::TcpStream::connect(addr).unwrap();
        lp.run(RunMode::Default);
        log.entries()
    });
    assert_eq!(log, ["connection 2"]);
}
