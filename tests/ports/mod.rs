//! The Rust ports of the puzzles in `tests/puzzles/`, one function per puzzle, each printing
//! (returning) the lines the `.js` prints, in the same structure and with the same labels.
//!
//! Two programs run them: `tests/node_conformance.rs` checks each prints what Node printed,
//! and `cargo learn viz <puzzle>` traces one and replays it (`src/bin/learn/viz/`).

mod c11;

use std::cell::{Cell, RefCell};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use eventloop::Ref;
use eventloop::clock::{Clock, ManualClock};
use eventloop::event_loop::EventLoop;
use eventloop::fs::{self, FsError};
use eventloop::net::{TcpListener, TcpStream};
use eventloop::promise::Promise;
use eventloop::promise::{Rejection, Resolver};
use eventloop::queue::NaiveLoop;
use eventloop::stack::CallStack;
use eventloop::task;
use eventloop::threadpool::ThreadPool;
use eventloop::{crypto, dns};

use c11::*;

/// `console.log`: the crate's console, keeping the printed lines (and noting each in the
/// trace when the port runs traced, so a replay shows what was printed when).
pub use eventloop::console::Console;

/// A port: runs the puzzle and returns the lines it printed.
pub type Port = fn() -> Vec<String>;

/// The ports that exist, by puzzle name.
pub fn all() -> Vec<(&'static str, Port)> {
    vec![
        ("c01-run-to-completion", c01_run_to_completion),
        ("c01-stack-overflow", c01_stack_overflow),
        ("c02-fifo-order", c02_fifo_order),
        ("c02-deadline-order", c02_deadline_order),
        (
            "p02-timeout-vs-immediate-main",
            p02_timeout_vs_immediate_main,
        ),
        ("p08-timer-in-timer", p08_timer_in_timer),
        ("p08b-same-delay-split", p08b_same_delay_split),
        ("p09-timer-list-order", p09_timer_list_order),
        ("p10-clear-due-timer", p10_clear_due_timer),
        ("p18-immediate-next-iteration", p18_immediate_next_iteration),
        ("p20-interval-clear-in-cb", p20_interval_clear_in_cb),
        ("p21-overflow", p21_overflow),
        ("p01-main-basic", p01_main_basic),
        (
            "p04-microtasks-between-timers",
            p04_microtasks_between_timers,
        ),
        (
            "p05-microtasks-between-immediates",
            p05_microtasks_between_immediates,
        ),
        ("p06-nested-tick-promise", p06_nested_tick_promise),
        ("p07-tick-inside-tick", p07_tick_inside_tick),
        ("p12-async-await", p12_async_await),
        ("p16-microtask-fifo", p16_microtask_fifo),
        ("c05-adoption-hops", c05_adoption_hops),
        ("c05-combinators", c05_combinators),
        ("p14-unref", p14_unref),
        ("p15-beforeexit", p15_beforeexit),
        ("c05-finally-hops", c05_finally_hops),
        ("c05-resolve-identity", c05_resolve_identity),
        ("p17-tick-starvation", p17_tick_starvation),
        ("p24-nested-timer-overdue", p24_nested_timer_overdue),
        ("c03-interval-period", c03_interval_period),
        ("c03-lists-not-deadlines", c03_lists_not_deadlines),
        ("c03-unref-timeout", c03_unref_timeout),
        (
            "c04-immediate-vs-timeout-in-timer",
            c04_immediate_vs_timeout_in_timer,
        ),
        (
            "c04-timeout-vs-immediate-in-immediate",
            c04_timeout_vs_immediate_in_immediate,
        ),
        ("c06-unref-immediate", c06_unref_immediate),
        ("c06-ref-again", c06_ref_again),
        ("c06-exit-code", c06_exit_code),
        ("p03-timeout-vs-immediate-io", p03_timeout_vs_immediate_io),
        ("p11-io-callback-full", p11_io_callback_full),
        (
            "p23-microtasks-between-io-callbacks",
            p23_microtasks_between_io_callbacks,
        ),
        ("c07-fs-error-first", c07_fs_error_first),
        ("c07-completions-one-poll", c07_completions_one_poll),
        ("c08-one-wait-two-sockets", c08_one_wait_two_sockets),
        ("p22-close-phase", p22_close_phase),
        ("c09-connection-lifecycle", c09_connection_lifecycle),
        ("c09-server-close-waits", c09_server_close_waits),
        ("c09-net-not-on-the-pool", c09_net_not_on_the_pool),
        ("p19-threadpool-fifo", p19_threadpool_fifo),
        ("c07-dns-lookup-localhost", c07_dns_lookup_localhost),
        (
            "c03-timeout-early-by-a-fraction",
            c03_timeout_early_by_a_fraction,
        ),
        ("c09-connect-by-name-waits", c09_connect_by_name_waits),
        ("c09-unhandled-error-crash", c09_unhandled_error_crash),
        ("c05-emit-after-the-caller", c05_emit_after_the_caller),
        ("c07-split-the-work", c07_split_the_work),
        ("c06-microtask-in-exit", c06_microtask_in_exit),
        // Chapter 10: async/await on the loop.
        ("c10-nested-async", c10_nested_async),
        ("c10-await-three-promises", c10_await_three_promises),
        ("c10-await-loop-vs-immediate", c10_await_loop_vs_immediate),
        ("c10-rejected-await-caught", c10_rejected_await_caught),
        ("c10-promise-all-async", c10_promise_all_async),
        ("c10-async-timer-immediate", c10_async_timer_immediate),
        // Chapter 11: the stream layer.
        ("c11-listeners-before-connect", c11_listeners_before_connect),
        ("c11-half-open", c11_half_open),
        ("c11-backpressure", c11_backpressure),
        ("c11-connect-error", c11_connect_error),
        ("c11-server-close-callback", c11_server_close_callback),
        ("c11-write-after-end", c11_write_after_end),
    ]
}

/// Runs `script` as Node runs a main module, on a manual clock; returns what it printed.
/// The script gets the console, the clock (to reproduce busy-waits) and the loop.
fn node(script: impl FnOnce(&mut EventLoop, &Console, &ManualClock)) -> Vec<String> {
    let console = Console::capture();
    let clock = ManualClock::new();
    let mut lp = EventLoop::with_clock(clock.clone());
    lp.run_main(|lp| script(lp, &console, &clock))
        .expect("the puzzle ends without an uncaught error");
    console.lines()
}

/// Like [`node`], for a puzzle doing real I/O: on the system clock, with a pool of
/// `threads` threads of its own (the puzzle's `UV_THREADPOOL_SIZE`, 4 by default).
fn node_io(threads: usize, script: impl FnOnce(&mut EventLoop, &Console)) -> Vec<String> {
    let console = Console::capture();
    let mut lp = EventLoop::builder()
        .thread_pool(ThreadPool::with_size(threads))
        .build()
        .expect("the default stack limit is large enough");
    lp.run_main(|lp| script(lp, &console))
        .expect("the puzzle ends without an uncaught error");
    assert_eq!(lp.active_requests(), 0, "no request is left in flight");
    console.lines()
}

/// A puzzle's `__filename`.
fn puzzle_file(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/puzzles")
        .join(name)
}

/// A puzzle's busy-wait "until the pool is done": the loop has not looked yet, the pool
/// has finished `jobs` jobs. A condition, not a duration, so it holds on any machine.
fn until_pool_finished(lp: &EventLoop, jobs: u64) {
    while lp.thread_pool().finished() < jobs {
        std::thread::yield_now();
    }
}

/// An fs callback's `err.code`.
fn code(err: &std::io::Error) -> &'static str {
    FsError::of(err).map_or("?", FsError::code)
}

/// Like [`node`], for a puzzle that checks the exit status too: returns it beside the lines.
fn node_with_status(
    script: impl FnOnce(&mut EventLoop, &Console, &ManualClock),
) -> (Vec<String>, i32) {
    let console = Console::capture();
    let clock = ManualClock::new();
    let mut lp = EventLoop::with_clock(clock.clone());
    let code = lp
        .run_main(|lp| script(lp, &console, &clock))
        .expect("the puzzle ends without an uncaught error");
    (console.lines(), code)
}

/// `() => console.log(text)`
fn log(console: &Console, text: &'static str) -> impl FnOnce(&mut EventLoop) + 'static {
    let console = console.clone();
    move |_| console.log(text)
}

/// From an I/O callback, the immediate always comes first: check follows poll.
// ANCHOR: p03_timeout_vs_immediate_io
fn p03_timeout_vs_immediate_io() -> Vec<String> {
    node_io(4, |lp, console| {
        let console = console.clone();
        fs::read_file(
            lp,
            puzzle_file("p03-timeout-vs-immediate-io.js"),
            move |lp, _| {
                lp.set_timeout(log(&console, "timeout"), 0);
                lp.set_immediate(log(&console, "immediate"));
            },
        );
    })
}
// ANCHOR_END: p03_timeout_vs_immediate_io

// ANCHOR: p11_io_callback_full
fn p11_io_callback_full() -> Vec<String> {
    node_io(4, |lp, console| {
        let c = console.clone();
        fs::read_file(lp, puzzle_file("p11-io-callback-full.js"), move |lp, _| {
            c.log("readFile callback");
            lp.set_timeout(log(&c, "timeout"), 0);
            let c2 = c.clone();
            lp.set_immediate(move |lp| {
                c2.log("immediate");
                lp.next_tick(log(&c2, "tick inside immediate"));
            });
            lp.next_tick(log(&c, "tick"));
            then_log(lp, &c, "promise");
        });
        console.log("sync end");
    })
}
// ANCHOR_END: p11_io_callback_full

// ANCHOR: p23_microtasks_between_io_callbacks
fn p23_microtasks_between_io_callbacks() -> Vec<String> {
    node_io(1, |lp, console| {
        let file = puzzle_file("p23-microtasks-between-io-callbacks.js");
        let c = console.clone();
        fs::stat(lp, &file, move |lp, _| {
            c.log("stat 1");
            lp.set_immediate(log(&c, "immediate queued by stat 1"));
            lp.next_tick(log(&c, "tick after stat 1"));
            then_log(lp, &c, "promise after stat 1");
        });
        let c = console.clone();
        fs::stat(lp, &file, move |_, _| c.log("stat 2"));
        until_pool_finished(lp, 2); // busy_ms = 50: both stats finish first
    })
}
// ANCHOR_END: p23_microtasks_between_io_callbacks

fn c07_fs_error_first() -> Vec<String> {
    node_io(4, |lp, console| {
        let c = console.clone();
        lp.set_immediate(move |lp| {
            c.log("immediate");
            fs::read_file(lp, "no-such-dir/missing.txt", move |lp, data| {
                let err = data.expect_err("the directory does not exist");
                c.log(format!("readFile callback: {} no data", code(&err)));
                c.log(err.to_string());
                let c2 = c.clone();
                lp.set_timeout(
                    move |lp| {
                        c2.log("timeout");
                        let from = "no-such-dir/a.txt";
                        fs::rename(lp, from, "no-such-dir/b.txt", move |lp, renamed| {
                            let err = renamed.expect_err("nothing to rename");
                            c2.log(format!("rename callback: {}", code(&err)));
                            c2.log(err.to_string());
                            fs::mkdir(lp, ".", false, move |_, made| {
                                c2.log(made.expect_err("'.' exists").to_string());
                            });
                        });
                    },
                    0,
                );
                lp.set_immediate(log(&c, "immediate from the callback"));
                lp.next_tick(log(&c, "tick"));
            });
        });
        console.log("main end");
    })
}

fn c07_completions_one_poll() -> Vec<String> {
    fn done(
        console: &Console,
        name: &'static str,
    ) -> impl FnOnce(&mut EventLoop, std::io::Result<std::fs::Metadata>) + 'static {
        let c = console.clone();
        move |lp, _| {
            c.log(format!("stat {name}"));
            let c2 = c.clone();
            lp.set_immediate(move |_| c2.log(format!("immediate queued by {name}")));
            let c2 = c.clone();
            Promise::resolved(()).then(lp, move |_, ()| c2.log(format!("  promise after {name}")));
            lp.next_tick(move |_| c.log(format!("  tick after {name}")));
        }
    }
    node_io(1, |lp, console| {
        let file = puzzle_file("c07-completions-one-poll.js");
        fs::stat(lp, &file, done(console, "A"));
        fs::stat(lp, &file, done(console, "B"));
        let (c, again) = (console.clone(), file.clone());
        fs::stat(lp, &file, move |lp, meta| {
            done(&c, "C")(lp, meta);
            fs::stat(lp, again, done(&c, "D, submitted by C"));
        });
        until_pool_finished(lp, 3); // busy_ms = 50: all three finish first
    })
}

/// A callback queued before a long synchronous loop still waits for the loop to end.
fn c01_run_to_completion() -> Vec<String> {
    let console = Console::capture();
    let mut lp = NaiveLoop::new();
    let c = console.clone();
    lp.post("main", move |lp| {
        c.log("start");
        let c2 = c.clone();
        lp.post("setTimeout", move |_| c2.log("timeout"));
        // The script's busy loop: the running task cannot be interrupted.
        let mut sum = 0u64;
        for i in 0..1_000_000u64 {
            sum = std::hint::black_box(sum + i);
        }
        c.log("end");
    });
    lp.run().expect("no overflow");
    console.lines()
}

/// Unbounded recursion ends in a catchable error, and the program goes on.
fn c01_stack_overflow() -> Vec<String> {
    fn recurse(stack: &mut CallStack) -> Result<(), eventloop::stack::StackOverflow> {
        stack.call("recurse", recurse)?
    }
    let console = Console::capture();
    let mut stack = CallStack::new();
    stack.push("main").expect("an empty stack has room");
    match recurse(&mut stack) {
        Ok(()) => console.log("returned normally"),
        Err(_) => {
            console.log("caught: true");
            console.log("message: Maximum call stack size exceeded");
        }
    }
    console.log(format!("stack unwound: {}", stack.depth() == 1));
    console.log("still running");
    console.lines()
}

/// Three 0 ms timeouts, each scheduling another: the new ones queue behind the old.
fn c02_fifo_order() -> Vec<String> {
    let console = Console::capture();
    let mut lp = NaiveLoop::new();
    for name in ["A", "B", "C"] {
        let c = console.clone();
        lp.post("setTimeout", move |lp| {
            c.log(name);
            let c2 = c.clone();
            lp.post("setTimeout", move |_| c2.log(format!("{name} child")));
        });
    }
    lp.run().expect("no overflow");
    console.lines()
}

fn c02_deadline_order() -> Vec<String> {
    node(|lp, console, _| {
        lp.set_timeout(log(console, "100 ms timer, scheduled first"), 100);
        lp.set_timeout(log(console, "0 ms timer, scheduled second"), 0);
    })
}

fn p02_timeout_vs_immediate_main() -> Vec<String> {
    node(|lp, console, _| {
        lp.set_timeout(log(console, "timeout"), 0);
        lp.set_immediate(log(console, "immediate"));
    })
}

fn p08_timer_in_timer() -> Vec<String> {
    node(|lp, console, clock| {
        let c = console.clone();
        lp.set_timeout(
            move |lp| {
                c.log("A");
                lp.set_timeout(log(&c, "C (timer created in A)"), 0);
                lp.set_immediate(log(&c, "immediate created in A"));
            },
            0,
        );
        lp.set_timeout(log(console, "B"), 0);
        clock.advance(5); // make A and B both overdue
    })
}

fn p08b_same_delay_split() -> Vec<String> {
    node(|lp, console, _| {
        let c = console.clone();
        lp.set_timeout(
            move |lp| {
                c.log("A");
                lp.set_immediate(log(&c, "immediate created in A"));
            },
            0,
        );
        lp.set_timeout(log(console, "B"), 0);
    })
}

fn p09_timer_list_order() -> Vec<String> {
    node(|lp, console, clock| {
        lp.set_timeout(log(console, "10ms, created first"), 10);
        lp.set_timeout(log(console, "5ms"), 5);
        lp.set_timeout(log(console, "1ms #1"), 1);
        lp.set_timeout(log(console, "0ms (clamped to 1) #2"), 0);
        lp.set_timeout(log(console, "1ms #3"), 1);
        clock.advance(50); // every timer overdue before the loop starts
    })
}

fn p10_clear_due_timer() -> Vec<String> {
    node(|lp, console, _| {
        let b = std::rc::Rc::new(std::cell::Cell::new(None));
        let (c, b2) = (console.clone(), b.clone());
        lp.set_timeout(
            move |lp| {
                c.log("A clears B");
                if let Some(b) = b2.get() {
                    lp.clear_timeout(b);
                }
            },
            0,
        );
        b.set(Some(lp.set_timeout(log(console, "B (must not print)"), 0)));
        lp.set_timeout(log(console, "C"), 0);
    })
}

fn p18_immediate_next_iteration() -> Vec<String> {
    node(|lp, console, clock| {
        lp.set_timeout(log(console, "timeout(20)"), 20);
        let (c, clock) = (console.clone(), clock.clone());
        lp.set_immediate(move |lp| {
            c.log("immediate A (blocks 30ms, then queues B)");
            clock.advance(30);
            lp.set_immediate(log(&c, "immediate B"));
        });
    })
}

fn p20_interval_clear_in_cb() -> Vec<String> {
    node(|lp, console, _| {
        let iv = std::rc::Rc::new(std::cell::Cell::new(None));
        let (c, iv2) = (console.clone(), iv.clone());
        let mut n = 0;
        iv.set(Some(lp.set_interval(
            move |lp| {
                n += 1;
                c.log(format!("interval {n}"));
                if n == 3 {
                    lp.clear_interval(iv2.get().expect("set before it fires"));
                }
            },
            1,
        )));
    })
}

/// `Promise.resolve().then(() => console.log(text))`
fn then_log(lp: &mut EventLoop, console: &Console, text: &'static str) -> Promise<()> {
    let c = console.clone();
    Promise::resolved(()).then(lp, move |_, ()| c.log(text))
}

fn p01_main_basic() -> Vec<String> {
    node(|lp, console, _| {
        lp.set_timeout(log(console, "timeout"), 0);
        lp.set_immediate(log(console, "immediate"));
        then_log(lp, console, "promise");
        lp.queue_microtask(log(console, "microtask"));
        lp.next_tick(log(console, "nextTick"));
        console.log("sync");
    })
}

fn p04_microtasks_between_timers() -> Vec<String> {
    node(|lp, console, _| {
        for n in 1..=2 {
            let c = console.clone();
            lp.set_timeout(
                move |lp| {
                    c.log(format!("timeout {n}"));
                    let c2 = c.clone();
                    lp.next_tick(move |_| c2.log(format!("tick {n}")));
                    let c3 = c.clone();
                    Promise::resolved(()).then(lp, move |_, ()| c3.log(format!("promise {n}")));
                },
                0,
            );
        }
    })
}

fn p05_microtasks_between_immediates() -> Vec<String> {
    node(|lp, console, _| {
        let c = console.clone();
        lp.set_immediate(move |lp| {
            c.log("immediate 1");
            lp.set_immediate(log(&c, "immediate 3 (queued inside immediate 1)"));
            lp.next_tick(log(&c, "tick 1"));
            then_log(lp, &c, "promise 1");
        });
        let c = console.clone();
        lp.set_immediate(move |lp| {
            c.log("immediate 2");
            then_log(lp, &c, "promise 2");
        });
    })
}

fn p06_nested_tick_promise() -> Vec<String> {
    node(|lp, console, _| {
        let c = console.clone();
        lp.next_tick(move |lp| {
            c.log("tick 1");
            then_log(lp, &c, "promise from tick 1");
        });
        lp.next_tick(log(console, "tick 2"));
        let c = console.clone();
        Promise::resolved(()).then(lp, move |lp, ()| {
            c.log("promise 1");
            lp.next_tick(log(&c, "tick from promise 1"));
        });
        then_log(lp, console, "promise 2");
    })
}

// ANCHOR: p12_async_await
fn p12_async_await() -> Vec<String> {
    // async function async2() { console.log('async2'); }
    async fn async2(console: Console) {
        console.log("async2");
    }
    // async function async1() { log; await async2(); log } — calling async2 runs it at
    // once (task::spawn); awaiting its promise (the handle) is one hop.
    async fn async1(console: Console) {
        console.log("async1 start");
        task::spawn(async2(console.clone())).await.unwrap();
        console.log("async1 end");
    }
    node(|lp, console, _| {
        console.log("script start");
        lp.set_timeout(log(console, "setTimeout"), 0);
        lp.set_immediate(log(console, "setImmediate"));
        lp.spawn(async1(console.clone()));
        let c = console.clone();
        Promise::new(lp, move |lp, resolve| {
            c.log("promise1");
            resolve.resolve(lp, ());
            Ok(())
        })
        .then(lp, {
            let c = console.clone();
            move |_, ()| c.log("promise2")
        });
        lp.next_tick(log(console, "nextTick"));
        console.log("script end");
    })
}
// ANCHOR_END: p12_async_await

// Chapter 10: async/await on the loop. An `async function` call is `task::spawn` (it runs
// at once, up to its first wait), `await f()` is `.await` on the handle, `await p` on a
// promise is `p.await`: each takes the hops V8 takes.

/// `await null` — of anything that is not a promise: one hop, as a resolved promise.
async fn await_null() {
    Promise::resolved(()).await.unwrap();
}

/// `Promise.resolve().then(() => log(l1)).then(() => log(l2))…`
fn then_chain(lp: &mut EventLoop, console: &Console, labels: &[&'static str]) {
    let mut chain = Promise::resolved(());
    for &label in labels {
        let c = console.clone();
        chain = chain.then(lp, move |_, ()| c.log(label));
    }
}

fn c10_nested_async() -> Vec<String> {
    async fn inner(console: Console, n: u32) -> u32 {
        console.log(format!("inner {n} start"));
        await_null().await;
        console.log(format!("inner {n} end"));
        n
    }
    async fn outer(console: Console) {
        console.log("outer start");
        let a = task::spawn(inner(console.clone(), 1)).await.unwrap();
        console.log(format!("outer got {a}"));
        let b = task::spawn(inner(console.clone(), 2)).await.unwrap();
        console.log(format!("outer got {b}"));
    }
    node(|lp, console, _| {
        lp.spawn(outer(console.clone()));
        let thens = ["then 1", "then 2", "then 3", "then 4", "then 5"];
        then_chain(lp, console, &thens);
        console.log("main end");
    })
}

// ANCHOR: c10_await_three_promises
fn c10_await_three_promises() -> Vec<String> {
    async fn wait_for(console: Console, name: &'static str, p: Promise<&'static str>) {
        console.log(format!("{name} awaits"));
        let v = p.await.unwrap();
        console.log(format!("{name} got {v}"));
    }
    node(|lp, console, _| {
        let resolved = Promise::resolved("resolved");
        let (pending, resolve_pending) = Promise::pending();
        // new Promise((r) => r(Promise.resolve('adopted')))
        let (adopted, adopt) = Promise::pending();
        adopt.resolve_with(lp, Promise::resolved("adopted"));
        lp.spawn(wait_for(console.clone(), "A", resolved));
        lp.spawn(wait_for(console.clone(), "B", pending));
        lp.spawn(wait_for(console.clone(), "C", adopted));
        let c = console.clone();
        let hop1 = Promise::resolved(()).then(lp, move |lp, ()| {
            c.log("hop 1");
            resolve_pending.resolve(lp, "pending");
        });
        let mut chain = hop1;
        for label in ["hop 2", "hop 3", "hop 4"] {
            let c = console.clone();
            chain = chain.then(lp, move |_, ()| c.log(label));
        }
        console.log("main end");
    })
}
// ANCHOR_END: c10_await_three_promises

fn c10_await_loop_vs_immediate() -> Vec<String> {
    async fn spin(console: Console) {
        for i in 1..=3 {
            await_null().await;
            console.log(format!("spin {i}"));
        }
    }
    // await new Promise((r) => setImmediate(r)) — that is task::yield_now.
    async fn step(console: Console) {
        for i in 1..=3 {
            task::yield_now().await;
            console.log(format!("step {i}"));
        }
    }
    node(|lp, console, _| {
        lp.set_immediate(log(console, "immediate A"));
        lp.spawn(spin(console.clone()));
        lp.spawn(step(console.clone()));
        let c = console.clone();
        lp.set_immediate(move |lp| {
            c.log("immediate B");
            lp.set_immediate(log(&c, "immediate C"));
        });
        console.log("main end");
    })
}

fn c10_rejected_await_caught() -> Vec<String> {
    // An async function that throws: its task returns the error.
    async fn fails(console: Console) -> Result<(), Rejection> {
        console.log("fails start");
        await_null().await;
        Err(Rejection::new("boom"))
    }
    async fn main(console: Console) {
        // try { await fails(); … } catch (e) { … } finally { … }
        match task::spawn(fails(console.clone())).await.unwrap() {
            Ok(()) => console.log("not reached"),
            Err(e) => console.log(format!("caught {e}")),
        }
        console.log("finally");
        // try { await Promise.reject(new Error('direct')); } catch (e) { … }
        let direct =
            task::with_loop(|lp| Promise::<()>::rejected(lp, Rejection::new("direct"))).await;
        if let Err(e) = direct.await {
            console.log(format!("caught {e}"));
        }
        console.log("main done");
    }
    node(|lp, console, _| {
        lp.spawn(main(console.clone()));
        let thens = ["then 1", "then 2", "then 3", "then 4", "then 5"];
        then_chain(lp, console, &thens);
        console.log("script end");
    })
}

fn c10_promise_all_async() -> Vec<String> {
    async fn job(console: Console, name: &'static str, hops: u32) -> &'static str {
        console.log(format!("{name} start"));
        for _ in 0..hops {
            await_null().await;
        }
        console.log(format!("{name} end"));
        name
    }
    async fn main(console: Console) {
        let a = task::spawn(job(console.clone(), "a", 2));
        let b = task::spawn(job(console.clone(), "b", 0));
        let c = task::spawn(job(console.clone(), "c", 1));
        // Promise.all of the three async calls' promises.
        let all = task::with_loop(move |lp| {
            let promises = vec![a.into_promise(lp), b.into_promise(lp), c.into_promise(lp)];
            Promise::all(lp, promises)
        })
        .await;
        let all = all.await.unwrap();
        console.log(format!("all: {}", all.join(",")));
    }
    node(|lp, console, _| {
        lp.spawn(main(console.clone()));
        let thens = ["then 1", "then 2", "then 3", "then 4", "then 5", "then 6"];
        then_chain(lp, console, &thens);
        console.log("script end");
    })
}

fn c10_async_timer_immediate() -> Vec<String> {
    type Wake = Rc<RefCell<Option<Resolver<()>>>>;
    async fn worker(console: Console, wake: Wake) {
        console.log("worker start");
        // await new Promise((r) => { wake = r; })
        let (woken, resolver) = Promise::pending();
        *wake.borrow_mut() = Some(resolver);
        woken.await.unwrap();
        console.log("worker woken");
        task::yield_now().await; // await nextImmediate()
        console.log("worker after immediate");
        task::sleep(0).await;
        console.log("worker after sleep(0)");
    }
    node(|lp, console, _| {
        let wake: Wake = Rc::default();
        lp.spawn(worker(console.clone(), wake.clone()));
        let c = console.clone();
        lp.set_timeout(
            move |lp| {
                c.log("timeout");
                then_chain(lp, &c, &["then before wake"]);
                let wake = wake.borrow_mut().take().expect("the worker is waiting");
                wake.resolve(lp, ());
                then_chain(lp, &c, &["then after wake"]);
                lp.next_tick(log(&c, "tick"));
                lp.set_immediate(log(&c, "immediate set in timeout"));
                lp.set_timeout(log(&c, "timeout set in timeout"), 0);
            },
            10,
        );
        console.log("main end");
    })
}

fn p16_microtask_fifo() -> Vec<String> {
    node(|lp, console, _| {
        lp.queue_microtask(log(console, "qm 1"));
        then_log(lp, console, "then 1");
        lp.queue_microtask(log(console, "qm 2"));
        let c = console.clone();
        then_log(lp, console, "then 2").then(lp, move |_, ()| c.log("then 2b"));
        lp.queue_microtask(log(console, "qm 3"));
    })
}

/// `promise.then(() => log(text))`
fn and_log(
    lp: &mut EventLoop,
    console: &Console,
    p: &Promise<()>,
    text: &'static str,
) -> Promise<()> {
    let c = console.clone();
    p.then(lp, move |_, ()| c.log(text))
}

fn c05_adoption_hops() -> Vec<String> {
    node(|lp, console, _| {
        let mut a = Promise::resolved(());
        for text in ["a1", "a2", "a3", "a4", "a5"] {
            a = and_log(lp, console, &a, text);
        }
        let (c, c2) = (console.clone(), console.clone());
        Promise::resolved(())
            .and_then(lp, move |_, ()| {
                c.log("b1 returns a promise");
                Promise::resolved("v")
            })
            .then(lp, move |_, v| c2.log(format!("b2 got {v}")));
    })
}

fn c05_combinators() -> Vec<String> {
    use eventloop::promise::Rejection;
    node(|lp, console, _| {
        let (never, _resolver) = Promise::<&str>::pending();
        let c = console.clone();
        Promise::race(lp, vec![never, Promise::resolved("first")])
            .then(lp, move |_, v| c.log(format!("race {v}")));
        let r1 = Promise::<&str>::rejected(lp, Rejection::new("no"));
        let c = console.clone();
        Promise::any(lp, vec![r1.clone(), Promise::resolved("yes")])
            .then(lp, move |_, v| c.log(format!("any {v}")));
        let r2 = Promise::rejected(lp, Rejection::new("no again"));
        let c = console.clone();
        Promise::any(lp, vec![r1.clone(), r2]).catch(lp, move |_, e| {
            c.log(format!("any: {e}"));
            ""
        });
        let c = console.clone();
        Promise::all_settled(lp, vec![r1, Promise::resolved("ok")]).then(lp, move |_, all| {
            let shown: Vec<String> = all
                .iter()
                .map(|o| match o {
                    Ok(v) => format!("fulfilled {v}"),
                    Err(e) => format!("rejected {e}"),
                })
                .collect();
            c.log(shown.join(", "));
        });
    })
}

fn p14_unref() -> Vec<String> {
    node(|lp, console, clock| {
        lp.set_timeout(log(console, "unref timeout (must not print)"), 1000)
            .unref(lp);
        let n = std::rc::Rc::new(std::cell::Cell::new(0));
        let n2 = n.clone();
        let iv = lp.set_interval(move |_| n2.set(n2.get() + 1), 10);
        iv.unref(lp);
        let c = console.clone();
        lp.set_timeout(
            move |lp| {
                let ran = if n.get() >= 3 {
                    ">=3".to_string()
                } else {
                    n.get().to_string()
                };
                c.log(format!(
                    "ref timeout fired; interval ran {ran} times; hasRef: {}",
                    iv.has_ref(lp)
                ));
            },
            55,
        );
        let (c, clock) = (console.clone(), clock.clone());
        lp.on_exit(move |_, _| {
            c.log(format!(
                "exited before the 1000ms unref timer: {}",
                clock.now_ms() < 1000
            ))
        });
    })
}

fn p15_beforeexit() -> Vec<String> {
    node(|lp, console, _| {
        let c = console.clone();
        let mut rounds = 0;
        lp.on_before_exit(move |lp, code| {
            c.log(format!("beforeExit {code} round {rounds}"));
            if rounds < 2 {
                lp.set_timeout(log(&c, "timer from beforeExit"), 1);
            }
            rounds += 1;
        });
        let c = console.clone();
        lp.on_exit(move |lp, code| {
            c.log(format!("exit {code}"));
            lp.set_timeout(log(&c, "never printed"), 0);
            lp.next_tick(log(&c, "never printed either"));
        });
        console.log("main done");
    })
}

fn c05_finally_hops() -> Vec<String> {
    node(|lp, console, _| {
        let (c, c2) = (console.clone(), console.clone());
        Promise::resolved(1)
            .finally(lp, move |_| c.log("finally"))
            .then(lp, move |_, v| c2.log(format!("after finally: {v}")));
        let mut t = Promise::resolved(());
        for text in ["t1", "t2", "t3", "t4", "t5"] {
            t = and_log(lp, console, &t, text);
        }
    })
}

fn c05_resolve_identity() -> Vec<String> {
    node(|lp, console, _| {
        let p = Promise::resolved("p");
        console.log(format!(
            "same object: {}",
            Promise::resolve(p.clone()).ptr_eq(&p)
        ));
        let adopted = p.clone();
        let c = console.clone();
        Promise::new(lp, move |lp, resolve| {
            resolve.resolve_with(lp, adopted);
            Ok(())
        })
        .then(lp, move |_, _| c.log("adopted via resolve(p)"));
        // (async () => { await p; log(...) })(): `await p` is one reaction on p.
        let c = console.clone();
        p.then(lp, move |_, _| c.log("after await p"));
        let c = console.clone();
        Promise::resolve(p.clone()).then(lp, move |_, _| c.log("Promise.resolve(p).then"));
        let c = console.clone();
        let t1 = p.then(lp, move |_, _| c.log("tick 1"));
        let t2 = and_log(lp, console, &t1, "tick 2");
        and_log(lp, console, &t2, "tick 3");
    })
}

fn p07_tick_inside_tick() -> Vec<String> {
    node(|lp, console, _| {
        let c = console.clone();
        lp.next_tick(move |lp| {
            c.log("tick 1");
            lp.next_tick(log(&c, "tick 3 (added by tick 1)"));
        });
        lp.next_tick(log(console, "tick 2"));
        then_log(lp, console, "promise");
    })
}

fn p17_tick_starvation() -> Vec<String> {
    fn again(lp: &mut EventLoop, ticks: std::rc::Rc<std::cell::Cell<u32>>) {
        ticks.set(ticks.get() + 1);
        if ticks.get() < 100_000 {
            lp.next_tick(move |lp| again(lp, ticks));
        }
    }
    node(|lp, console, _| {
        let ticks = std::rc::Rc::new(std::cell::Cell::new(0));
        let (c, t) = (console.clone(), ticks.clone());
        lp.set_timeout(
            move |_| c.log(format!("timeout fired after {} ticks", t.get())),
            0,
        );
        again(lp, ticks);
    })
}

fn p24_nested_timer_overdue() -> Vec<String> {
    node(|lp, console, clock| {
        let (c, clk) = (console.clone(), clock.clone());
        lp.set_timeout(
            move |lp| {
                c.log("A");
                lp.set_timeout(log(&c, "nested timer"), 1);
                lp.set_immediate(log(&c, "immediate queued by A"));
                clk.advance(20);
                lp.next_tick(log(&c, "tick after A"));
            },
            1,
        );
        lp.set_timeout(log(console, "B (same list as A, already due)"), 1);
        clock.advance(5);
    })
}

fn c03_interval_period() -> Vec<String> {
    const PERIOD: u64 = 100;
    const BUSY: u64 = 50;
    node(|lp, console, clock| {
        let iv = Rc::new(Cell::new(None));
        let (c, clk, iv2) = (console.clone(), clock.clone(), iv.clone());
        let (mut n, mut last_end) = (0, 0);
        iv.set(Some(lp.set_interval(
            move |lp| {
                let start = clk.now_ms();
                n += 1;
                if n == 1 {
                    c.log("call 1");
                } else {
                    c.log(format!(
                        "call {n} began less than one period after call {} ended: {}",
                        n - 1,
                        start - last_end < PERIOD
                    ));
                }
                clk.advance(BUSY); // the callback itself takes 50 ms
                last_end = clk.now_ms();
                if n == 4 {
                    lp.clear_interval(iv2.get().expect("set before it fires"));
                }
            },
            PERIOD as f64,
        )));
    })
}

fn c03_lists_not_deadlines() -> Vec<String> {
    node(|lp, console, clock| {
        lp.set_timeout(log(console, "A: 1 ms, due at about 1 ms"), 1);
        lp.set_timeout(log(console, "C: 5 ms, due at about 5 ms"), 5);
        clock.advance(8);
        lp.set_timeout(log(console, "B: 1 ms, due at about 9 ms"), 1);
        clock.advance(12); // all three are overdue before the loop starts
    })
}

fn c03_unref_timeout() -> Vec<String> {
    node(|lp, console, _| {
        lp.set_timeout(
            log(
                console,
                "unref'd 5 ms timeout: fires, the loop is running anyway",
            ),
            5,
        )
        .unref(lp);
        lp.set_timeout(
            log(console, "unref'd 1000 ms timeout (must not print)"),
            1000,
        )
        .unref(lp);
        lp.set_timeout(log(console, "ref'd 20 ms timeout"), 20);
        let c = console.clone();
        lp.on_exit(move |_, _| c.log("exit"));
    })
}

fn c04_immediate_vs_timeout_in_timer() -> Vec<String> {
    node(|lp, console, _| {
        let c = console.clone();
        lp.set_timeout(
            move |lp| {
                lp.set_timeout(log(&c, "timeout"), 0);
                lp.set_immediate(log(&c, "immediate"));
            },
            0,
        );
    })
}

fn c04_timeout_vs_immediate_in_immediate() -> Vec<String> {
    node(|lp, console, clock| {
        let (c, clk) = (console.clone(), clock.clone());
        lp.set_immediate(move |lp| {
            lp.set_timeout(log(&c, "timeout"), 0);
            lp.set_immediate(log(&c, "immediate"));
            clk.advance(5); // make the 1 ms timeout due before this phase ends
        });
    })
}

fn c06_unref_immediate() -> Vec<String> {
    node(|lp, console, _| {
        let ran = Rc::new(Cell::new(false));
        let (c, r) = (console.clone(), ran.clone());
        lp.set_immediate(move |_| {
            r.set(true);
            c.log("unref'd immediate runs: the loop is iterating for the timer");
        })
        .unref(lp);
        let c = console.clone();
        let mut rounds = 0;
        lp.on_before_exit(move |lp, _| {
            c.log(format!(
                "beforeExit {rounds} | immediate ran: {}",
                ran.get()
            ));
            if rounds == 0 {
                lp.set_timeout(log(&c, "ref'd timeout set in beforeExit"), 10);
            }
            rounds += 1;
        });
        console.log("main done");
    })
}

fn c06_ref_again() -> Vec<String> {
    node(|lp, console, _| {
        let t = lp.set_timeout(
            log(console, "timeout fired: one ref() undid two unref()s"),
            10,
        );
        t.unref(lp);
        t.unref(lp);
        console.log(format!(
            "after two unref() calls, hasRef: {}",
            t.has_ref(lp)
        ));
        t.ref_(lp);
        console.log(format!("after one ref() call, hasRef: {}", t.has_ref(lp)));
        let c = console.clone();
        lp.on_exit(move |_, _| c.log("exit"));
    })
}

fn c06_exit_code() -> Vec<String> {
    let (lines, status) = node_with_status(|lp, console, _| {
        let c = console.clone();
        lp.on_before_exit(move |lp, code| {
            c.log(format!("beforeExit {code}"));
            let c2 = c.clone();
            lp.set_timeout(
                move |lp| {
                    c2.log("timer set in beforeExit calls process.exit(4)");
                    lp.exit(4);
                    c2.log("never printed: process.exit() does not return");
                },
                1,
            );
            lp.set_timeout(log(&c, "never printed: a later timer"), 50);
        });
        let c = console.clone();
        lp.on_exit(move |lp, code| {
            c.log(format!(
                "exit {code} | process.exitCode: {}",
                lp.exit_code()
            ))
        });
        let c = console.clone();
        lp.set_timeout(
            move |lp| {
                lp.set_exit_code(3);
                c.log("timer sets process.exitCode = 3");
            },
            1,
        );
    });
    assert_eq!(status, 4, "`node c06-exit-code.js; echo $?` prints 4");
    lines
}

/// Like [`node`], on the system clock: for puzzles with real sockets.
pub fn node_net(script: impl FnOnce(&mut EventLoop, &Console)) -> Vec<String> {
    let console = Console::capture();
    let mut lp = EventLoop::new();
    lp.run_main(|lp| script(lp, &console))
        .expect("the puzzle ends without an uncaught error");
    console.lines()
}

pub fn localhost() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// `server.listen(0, '127.0.0.1', cb)`: Node calls the listening callback on a tick.
fn listen(
    lp: &mut EventLoop,
    on_connection: impl FnMut(&mut EventLoop, TcpStream) + 'static,
    on_listening: impl FnOnce(&mut EventLoop, TcpListener) + 'static,
) {
    let mut on_connection = on_connection;
    let server = TcpListener::listen(lp, localhost(), 511, move |lp, conn| {
        on_connection(lp, conn.expect("accept"))
    })
    .expect("listen");
    lp.next_tick(move |lp| on_listening(lp, server));
}

/// A Node socket's default end of life (`allowHalfOpen: false`): at end of file it
/// ends its own side (`shutdown`), then is destroyed (`close`), and `'close'` follows.
fn end_then_close(
    lp: &mut EventLoop,
    s: TcpStream,
    on_close: impl FnOnce(&mut EventLoop) + 'static,
) {
    type OnClose = Box<dyn FnOnce(&mut EventLoop)>;
    let slot: Rc<Cell<Option<OnClose>>> = Rc::new(Cell::new(Some(Box::new(on_close))));
    let later = slot.clone();
    let ended = s.shutdown(lp, move |lp, _| {
        s.close(lp, later.take().unwrap()).unwrap();
    });
    if ended.is_err() {
        // Already ended by `end(data)`: only the destroy is left.
        s.close(lp, slot.take().unwrap()).unwrap();
    }
}

// ANCHOR: c08_one_wait_two_sockets
fn c08_one_wait_two_sockets() -> Vec<String> {
    node_net(|lp, console| {
        type Sockets = Rc<RefCell<Vec<TcpStream>>>;
        let accepted: Sockets = Rc::default();
        let clients: Sockets = Rc::default();
        let server_slot: Rc<Cell<Option<TcpListener>>> = Rc::default();
        let (c, acc, cl, slot) = (
            console.clone(),
            accepted.clone(),
            clients.clone(),
            server_slot.clone(),
        );
        let on_connection = move |lp: &mut EventLoop, sock: TcpStream| {
            acc.borrow_mut().push(sock);
            let name = if acc.borrow().len() == 1 { "a" } else { "b" };
            let (c, acc2, cl2, slot) = (c.clone(), acc.clone(), cl.clone(), slot.clone());
            sock.read_start(lp, move |lp, data| {
                let Ok(chunk) = data else { return };
                if chunk.is_empty() {
                    return; // 'end': the puzzle does not listen for it
                }
                c.log(format!("data {}", String::from_utf8_lossy(chunk)));
                let c2 = c.clone();
                lp.next_tick(move |_| c2.log(format!("tick {name}")));
                let (c, acc, cl, slot) = (c.clone(), acc2.clone(), cl2.clone(), slot.clone());
                lp.set_immediate(move |lp| {
                    c.log(format!("immediate {name}"));
                    if name == "b" {
                        for s in acc.borrow().iter().chain(cl.borrow().iter()) {
                            let _ = s.close(lp, |_| {}); // s.destroy()
                        }
                        slot.take().unwrap().close(lp, |_| {}).unwrap();
                    }
                });
            })
            .unwrap();
            if acc.borrow().len() == 2 {
                // Both clients write in the same callback.
                let cl = cl.clone();
                lp.set_immediate(move |lp| {
                    let cl = cl.borrow();
                    cl[0].write(lp, b"a", |_, _| {}).unwrap();
                    cl[1].write(lp, b"b", |_, _| {}).unwrap();
                });
            }
        };
        listen(lp, on_connection, move |lp, server| {
            server_slot.set(Some(server));
            let addr = server.local_addr(lp).unwrap();
            let cl = clients.clone();
            let first = TcpStream::connect(lp, addr, move |lp, conn| {
                conn.unwrap(); // clients[0].on('connect')
                let second = TcpStream::connect(lp, addr, |_, conn| {
                    conn.unwrap();
                });
                cl.borrow_mut().push(second.unwrap());
            })
            .unwrap();
            clients.borrow_mut().push(first);
        });
    })
}
// ANCHOR_END: c08_one_wait_two_sockets

fn p22_close_phase() -> Vec<String> {
    node_net(|lp, console| {
        let c = console.clone();
        listen(
            lp,
            |lp, s| {
                // The server's socket reads until the client is gone, then closes.
                s.read_start(lp, move |lp, data| {
                    if !matches!(data, Ok(d) if !d.is_empty()) {
                        s.close(lp, |_| {}).unwrap();
                    }
                })
                .unwrap();
            },
            move |lp, server| {
                let addr = server.local_addr(lp).unwrap();
                TcpStream::connect(lp, addr, move |lp, client| {
                    let client = client.unwrap();
                    let c2 = c.clone();
                    // client.destroy(): its 'close' comes from the close callback.
                    client
                        .close(lp, move |lp| {
                            c2.log("client close");
                            server.close(lp, |_| {}).unwrap();
                        })
                        .unwrap();
                    lp.set_immediate(log(&c, "immediate"));
                    lp.next_tick(log(&c, "nextTick"));
                })
                .unwrap();
            },
        );
    })
}

fn c09_connection_lifecycle() -> Vec<String> {
    node_net(|lp, console| {
        let server_slot: Rc<Cell<Option<TcpListener>>> = Rc::default();
        let (c, slot) = (console.clone(), server_slot.clone());
        let on_connection = move |lp: &mut EventLoop, s: TcpStream| {
            c.log("server: connection");
            let (c, slot) = (c.clone(), slot.clone());
            s.read_start(lp, move |lp, data| match data {
                Ok(d) if !d.is_empty() => {
                    c.log(format!("server: data {}", String::from_utf8_lossy(d)));
                    // s.end('pong'): write, then shut down after it.
                    s.write(lp, b"pong", |_, _| {}).unwrap();
                    s.shutdown(lp, |_, _| {}).unwrap();
                }
                _ => {
                    c.log("server: end");
                    let (c, slot) = (c.clone(), slot.clone());
                    end_then_close(lp, s, move |lp| {
                        c.log("server: close");
                        slot.take().unwrap().close(lp, |_| {}).unwrap();
                    });
                }
            })
            .unwrap();
        };
        let c = console.clone();
        listen(lp, on_connection, move |lp, server| {
            server_slot.set(Some(server));
            let addr = server.local_addr(lp).unwrap();
            TcpStream::connect(lp, addr, move |lp, client| {
                let client = client.unwrap();
                c.log("client: connect");
                client.write(lp, b"ping", |_, _| {}).unwrap();
                let c = c.clone();
                client
                    .read_start(lp, move |lp, data| match data {
                        Ok(d) if !d.is_empty() => {
                            c.log(format!("client: data {}", String::from_utf8_lossy(d)))
                        }
                        _ => {
                            c.log("client: end");
                            end_then_close(lp, client, log(&c, "client: close"));
                        }
                    })
                    .unwrap();
            })
            .unwrap();
        });
    })
}

/// Node's hash keeps the one pool thread busy for about 150 ms, which the round trip beats
/// by far. Here the "hash" is a pool job that holds the thread until the client has seen
/// the end of its echo: the same situation without a race. Were sockets served by the
/// pool, the job would time out and the port fail.
fn c09_net_not_on_the_pool() -> Vec<String> {
    node_io(1, |lp, console| {
        let server_slot: Rc<Cell<Option<TcpListener>>> = Rc::default();
        let on_connection = |lp: &mut EventLoop, s: TcpStream| {
            s.read_start(lp, move |lp, data| match data {
                Ok(d) if !d.is_empty() => {
                    // s.end(d): write, then shut down after it.
                    s.write(lp, d, |_, _| {}).unwrap();
                    s.shutdown(lp, |_, _| {}).unwrap();
                }
                _ => end_then_close(lp, s, |_| {}),
            })
            .unwrap();
        };
        let c = console.clone();
        listen(lp, on_connection, move |lp, server| {
            server_slot.set(Some(server));
            let (echoed, wait_for_echo) = std::sync::mpsc::channel::<()>();
            let c2 = c.clone();
            lp.queue_work(
                move || wait_for_echo.recv_timeout(std::time::Duration::from_secs(30)),
                move |_, done| {
                    assert!(
                        matches!(done, Ok(Ok(()))),
                        "the round trip finished while the pool was busy: {done:?}"
                    );
                    c2.log("hash done");
                },
            );
            let c2 = c.clone();
            let file = puzzle_file("c09-net-not-on-the-pool.js");
            fs::stat(lp, &file, move |lp, _| {
                c2.log("stat done");
                slot_close(lp, &server_slot);
            });
            let addr = server.local_addr(lp).unwrap();
            TcpStream::connect(lp, addr, move |lp, client| {
                let client = client.unwrap();
                client.write(lp, b"ping", |_, _| {}).unwrap();
                client
                    .read_start(lp, move |lp, data| match data {
                        Ok(d) if !d.is_empty() => c.log(format!(
                            "client got {} while the pool is busy",
                            String::from_utf8_lossy(d)
                        )),
                        _ => {
                            c.log("client: end");
                            echoed.send(()).unwrap();
                            end_then_close(lp, client, |_| {});
                        }
                    })
                    .unwrap();
            })
            .unwrap();
        });
    })
}

/// `server.close()` on the listener kept in `slot`.
fn slot_close(lp: &mut EventLoop, slot: &Rc<Cell<Option<TcpListener>>>) {
    slot.take().unwrap().close(lp, |_| {}).unwrap();
}

fn c09_server_close_waits() -> Vec<String> {
    node_net(|lp, console| {
        // Node's net.Server: 'close' once the listener is closed AND its last
        // connection is gone, emitted on a tick (`emitCloseIfDrained`).
        let connections = Rc::new(Cell::new(0));
        let server_slot: Rc<Cell<Option<TcpListener>>> = Rc::default();
        let (c, n, slot) = (console.clone(), connections.clone(), server_slot.clone());
        let on_connection = move |lp: &mut EventLoop, s: TcpStream| {
            n.set(n.get() + 1);
            c.log("server: connection");
            slot.take().unwrap().close(lp, |_| {}).unwrap(); // server.close(cb)
            c.log("server: listening = false");
            let (c, n) = (c.clone(), n.clone());
            s.read_start(lp, move |lp, data| {
                if matches!(data, Ok(d) if !d.is_empty()) {
                    return;
                }
                c.log("server socket: end");
                let (c, n) = (c.clone(), n.clone());
                let on_close = log(&c, "server socket: close");
                s.shutdown(lp, move |lp, _| {
                    // destroy(): the handle closes, the server counts one less.
                    s.close(lp, on_close).unwrap();
                    n.set(n.get() - 1);
                    if n.get() == 0 {
                        lp.next_tick(log(&c, "server: close"));
                    }
                })
                .unwrap();
            })
            .unwrap();
        };
        let c = console.clone();
        listen(lp, on_connection, move |lp, server| {
            server_slot.set(Some(server));
            let addr = server.local_addr(lp).unwrap();
            TcpStream::connect(lp, addr, move |lp, client| {
                let client = client.unwrap();
                c.log("client: connect");
                let c2 = c.clone();
                lp.set_immediate(move |lp| {
                    c2.log("client: end()");
                    client.shutdown(lp, |_, _| {}).unwrap();
                });
                let c = c.clone();
                client
                    .read_start(lp, move |lp, data| {
                        if matches!(data, Ok(d) if !d.is_empty()) {
                            return;
                        }
                        c.log("client: end");
                        // Its own side is already ended: destroy.
                        client.close(lp, log(&c, "client: close")).unwrap();
                    })
                    .unwrap();
            })
            .unwrap();
        });
    })
}

/// The `heavy` job's rounds: a tenth of the puzzle's 400,000. On one thread the order
/// cannot depend on the weights, and hashing is ~15x slower in a debug build.
const P19_HEAVY_ROUNDS: u32 = 40_000;

// ANCHOR: p19_threadpool_fifo
fn p19_threadpool_fifo() -> Vec<String> {
    // Recorded with UV_THREADPOOL_SIZE=1 (puzzles.toml): one worker, strict FIFO.
    node_io(1, |lp, console| {
        let job = |lp: &mut EventLoop, name: &'static str, rounds: u32| {
            let c = console.clone();
            crypto::pbkdf2(lp, "pw", "salt", rounds, 32, move |_, _| {
                c.log(format!("{name} done"))
            });
        };
        job(lp, "heavy", P19_HEAVY_ROUNDS);
        job(lp, "light", 1000);
        let c = console.clone();
        lp.on_exit(move |lp, _| c.log(format!("pool size {}", lp.thread_pool().size())));
    })
}
// ANCHOR_END: p19_threadpool_fifo

fn c07_dns_lookup_localhost() -> Vec<String> {
    node_io(4, |lp, console| {
        let c = console.clone();
        dns::lookup(lp, "localhost", move |lp, address| {
            let loopback = address.is_ok_and(|a| {
                a == IpAddr::V4(Ipv4Addr::LOCALHOST) || a == IpAddr::V6(Ipv6Addr::LOCALHOST)
            });
            c.log(format!("lookup localhost: loopback {loopback}"));
            lp.set_timeout(log(&c, "timeout from the lookup callback"), 0);
            lp.set_immediate(log(&c, "immediate from the lookup callback"));
            lp.next_tick(log(&c, "nextTick from the lookup callback"));
        });
        let c = console.clone();
        dns::lookup(lp, "127.0.0.1", move |_, address| {
            let address = address.expect("an IP literal is its own answer");
            let family = if address.is_ipv4() { 4 } else { 6 };
            c.log(format!("lookup 127.0.0.1: {address} {family}"));
        });
        lp.next_tick(log(console, "nextTick"));
        then_log(lp, console, "promise");
        console.log("main");
    })
}

fn c06_microtask_in_exit() -> Vec<String> {
    node(|lp, console, _| {
        let c = console.clone();
        lp.on_exit(move |lp, code| {
            c.log(format!("exit {code}"));
            lp.next_tick(log(&c, "never printed: a tick queued in exit"));
            then_log(lp, &c, "microtask in exit");
            lp.queue_microtask(log(&c, "queueMicrotask in exit"));
        });
        console.log("main done");
    })
}

type Listener = Box<dyn FnMut(&mut EventLoop)>;

/// Node's `EventEmitter`, for one event: `on` adds a listener, `emit` calls them all,
/// in order, at once.
#[derive(Clone, Default)]
struct Emitter(Rc<RefCell<Vec<Listener>>>);

impl Emitter {
    fn on(&self, listener: impl FnMut(&mut EventLoop) + 'static) -> &Self {
        self.0.borrow_mut().push(Box::new(listener));
        self
    }
    fn emit(&self, lp: &mut EventLoop) {
        let mut listeners = self.0.take(); // a listener may add listeners meanwhile
        for listener in &mut listeners {
            listener(lp);
        }
        let added = std::mem::replace(&mut *self.0.borrow_mut(), listeners);
        self.0.borrow_mut().extend(added);
    }
}

fn c05_emit_after_the_caller() -> Vec<String> {
    // The three classes: each constructor announces 'ready' its own way.
    fn at_once(lp: &mut EventLoop) -> Emitter {
        let emitter = Emitter::default();
        emitter.emit(lp);
        emitter
    }
    fn on_tick(lp: &mut EventLoop) -> Emitter {
        let emitter = Emitter::default();
        let e = emitter.clone();
        lp.next_tick(move |lp| e.emit(lp));
        emitter
    }
    fn on_immediate(lp: &mut EventLoop) -> Emitter {
        let emitter = Emitter::default();
        let e = emitter.clone();
        lp.set_immediate(move |lp| e.emit(lp));
        emitter
    }
    node(|lp, console, _| {
        let c = console.clone();
        at_once(lp).on(move |_| c.log("never printed: emitted before anyone listened"));
        let c = console.clone();
        on_immediate(lp).on(move |_| c.log("setImmediate: after the loop polled for I/O"));
        let c = console.clone();
        on_tick(lp).on(move |_| c.log("nextTick: as soon as the caller is done"));
        then_log(lp, console, "promise");
        console.log("the caller attached its listeners");
    })
}

fn c07_split_the_work() -> Vec<String> {
    const CHUNKS: u32 = 10;
    fn in_one_piece(
        lp: &mut EventLoop,
        console: &Console,
        clock: &ManualClock,
        then: impl FnOnce(&mut EventLoop) + 'static,
    ) {
        let done = Rc::new(Cell::new(0));
        let (c, d) = (console.clone(), done.clone());
        lp.set_timeout(
            move |lp| {
                c.log(format!(
                    "in one piece: the 5 ms timer ran after {} of {CHUNKS} chunks",
                    d.get()
                ));
                then(lp);
            },
            5,
        );
        while done.get() < CHUNKS {
            clock.advance(2); // busy(2)
            done.set(done.get() + 1);
        }
    }
    fn in_chunks(lp: &mut EventLoop, console: &Console, clock: &ManualClock) {
        let done = Rc::new(Cell::new(0));
        let (c, d) = (console.clone(), done.clone());
        lp.set_timeout(
            move |_| {
                c.log(format!(
                    "in chunks: the 5 ms timer ran before the work was done: {}",
                    d.get() < CHUNKS
                ))
            },
            5,
        );
        chunk(lp, done, console.clone(), clock.clone());
    }
    fn chunk(lp: &mut EventLoop, done: Rc<Cell<u32>>, console: Console, clock: ManualClock) {
        clock.advance(2); // busy(2)
        done.set(done.get() + 1);
        if done.get() < CHUNKS {
            lp.set_immediate(move |lp| chunk(lp, done, console, clock));
        } else {
            console.log("in chunks: the work is done");
        }
    }
    node(|lp, console, clock| {
        let (c, k) = (console.clone(), clock.clone());
        in_one_piece(lp, console, clock, move |lp| in_chunks(lp, &c, &k));
    })
}

/// `performance.now()` and the loop's clock in one, moved by hand: it counts microseconds
/// and gives the loop whole milliseconds, truncated, as libuv's `uv__update_time` does
/// with the monotonic clock `performance.now()` reads.
#[derive(Clone, Default)]
struct FineClock(Arc<AtomicU64>);

impl FineClock {
    fn micros(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    /// `performance.now()`, in milliseconds with a fraction.
    fn performance_now(&self) -> f64 {
        self.micros() as f64 / 1000.0
    }
    /// Microseconds into the current millisecond (`process.hrtime.bigint() % 1000000n`).
    fn phase_us(&self) -> u64 {
        self.micros() % 1000
    }
    /// One turn of a busy loop.
    fn spin(&self) {
        self.0.fetch_add(10, Ordering::SeqCst);
    }
}

impl Clock for FineClock {
    fn now_ms(&self) -> u64 {
        self.micros() / 1000
    }
    fn jump_to(&self, deadline_ms: u64) -> bool {
        self.0.fetch_max(deadline_ms * 1000, Ordering::SeqCst);
        true
    }
    fn is_manual(&self) -> bool {
        true
    }
}

fn c03_timeout_early_by_a_fraction() -> Vec<String> {
    let console = Console::capture();
    let clock = FineClock::default();
    let mut lp = EventLoop::with_clock(clock.clone());
    let c = console.clone();
    lp.run_main(move |lp| {
        let attempt = |lp: &mut EventLoop| {
            while clock.phase_us() < 900 {
                clock.spin(); // 0.9 ms into a millisecond
            }
            let start = clock.performance_now();
            let timeout = lp.set_timeout(|_| {}, 5);
            let timeout_start = lp.now(); // its _idleStart: set_timeout read the clock
            let mut counted = 0;
            while counted < 5 {
                clock.spin(); // busy until the loop's clock says 5 ms have passed
                let probe = lp.set_timeout(|_| {}, 1);
                counted = lp.now() - timeout_start;
                lp.clear_timeout(probe);
            }
            let measured = clock.performance_now() - start;
            lp.clear_timeout(timeout);
            measured
        };
        let mut measured = attempt(lp);
        let mut tries = 1;
        while tries < 200 && measured >= 5.0 {
            measured = attempt(lp);
            tries += 1;
        }
        c.log(format!(
            "the loop counted 5 ms when performance.now() measured less than 5: {}",
            measured < 5.0
        ));
        c.log(format!("and at least 4: {}", measured >= 4.0));
    })
    .expect("the puzzle ends without an uncaught error");
    console.lines()
}

/// `net.connect({ host, port, family: 4 }, cb)`. The crate connects to addresses only; Node
/// does the same after resolving a host name with `dns.lookup` (its `lookupAndConnect`),
/// and an IP address needs no lookup (it connects on the next tick, as `lookup_all` answers).
fn connect_to_host(
    lp: &mut EventLoop,
    host: &'static str,
    port: u16,
    on_connect: impl FnOnce(&mut EventLoop, TcpStream) + 'static,
) {
    dns::lookup_all(lp, host, move |lp, addresses| {
        let address = addresses
            .expect("localhost resolves")
            .into_iter()
            .find(IpAddr::is_ipv4)
            .expect("family: 4 asks for an IPv4 address");
        TcpStream::connect(lp, (address, port).into(), move |lp, s| {
            on_connect(lp, s.expect("the server is listening"))
        })
        .expect("connect");
    });
}

fn c09_connect_by_name_waits() -> Vec<String> {
    node_io(1, |lp, console| {
        let server_slot: Rc<Cell<Option<TcpListener>>> = Rc::default();
        let on_connection = |lp: &mut EventLoop, s: TcpStream| {
            // s.end(): shut down our side; Node destroys the socket at the peer's end.
            s.shutdown(lp, |_, _| {}).unwrap();
            s.read_start(lp, move |lp, data| {
                if !matches!(data, Ok(d) if !d.is_empty()) {
                    end_then_close(lp, s, |_| {});
                }
            })
            .unwrap();
        };
        let c = console.clone();
        listen(lp, on_connection, move |lp, server| {
            server_slot.set(Some(server));
            let port = server.local_addr(lp).unwrap().port();
            // The "hash": holds the one pool thread until the connection by address is
            // made, so if that connection needed the pool, it would wait for itself.
            let (connected_by_address, wait) = std::sync::mpsc::channel::<()>();
            let c2 = c.clone();
            lp.queue_work(
                move || wait.recv_timeout(std::time::Duration::from_secs(30)),
                move |_, done| {
                    assert!(
                        matches!(done, Ok(Ok(()))),
                        "the connection by address was made while the pool was busy: {done:?}"
                    );
                    c2.log("hash done");
                },
            );
            let left = Rc::new(Cell::new(2));
            let connected = move |label: &'static str| {
                let (c, left, slot) = (c.clone(), left.clone(), server_slot.clone());
                move |lp: &mut EventLoop, socket: TcpStream| {
                    c.log(format!("connected to {label}"));
                    // A Node client ends and is destroyed at the server's end.
                    socket
                        .read_start(lp, move |lp, data| {
                            if !matches!(data, Ok(d) if !d.is_empty()) {
                                end_then_close(lp, socket, |_| {});
                            }
                        })
                        .unwrap();
                    left.set(left.get() - 1);
                    if left.get() == 0 {
                        slot_close(lp, &slot);
                    }
                }
            };
            connect_to_host(
                lp,
                "localhost",
                port,
                connected("localhost, after the lookup"),
            );
            let by_address = connected("127.0.0.1 while the pool is busy");
            connect_to_host(lp, "127.0.0.1", port, move |lp, socket| {
                by_address(lp, socket);
                connected_by_address.send(()).unwrap();
            });
        });
    })
}

/// Node's `EventEmitter` throws an `'error'` event that has no listener. A socket
/// callback that panics on the error is the port of that throw: an uncaught error, which
/// ends the process with code 1 after the `exit` listeners.
fn unhandled_error(err: std::io::Error) -> ! {
    panic!("Unhandled 'error' event: {err}")
}

fn c09_unhandled_error_crash() -> Vec<String> {
    let console = Console::capture();
    let mut lp = EventLoop::new();
    let c = console.clone();
    let crashed = lp.run_main(move |lp| {
        let c2 = c.clone();
        lp.on_exit(move |_, code| c2.log(format!("exit {code}")));
        let big = vec![b'x'; 16 * 1024 * 1024];
        let on_connection = move |lp: &mut EventLoop, s: TcpStream| {
            // Node reads every socket it accepts; a failed write or read is an 'error'.
            s.write(lp, &big, |_, written| {
                if let Err(e) = written {
                    unhandled_error(e)
                }
            })
            .unwrap();
            c.log("server: writing 16 MiB, no error listener");
            s.read_start(lp, |_, data| {
                if let Err(e) = data {
                    unhandled_error(e)
                }
            })
            .unwrap();
        };
        listen(lp, on_connection, |lp, server| {
            let addr = server.local_addr(lp).unwrap();
            TcpStream::connect(lp, addr, |lp, client| {
                let client = client.unwrap();
                // One chunk is enough: leave with the rest unread (destroying twice is harmless).
                client
                    .read_start(lp, move |lp, _| drop(client.close(lp, |_| {})))
                    .unwrap();
            })
            .unwrap();
        });
    });
    let uncaught = crashed.expect_err("an 'error' event nobody listens for ends the process");
    assert!(
        uncaught.message.contains("Unhandled 'error' event")
            && ["Connection reset", "Broken pipe"]
                .iter()
                .any(|e| uncaught.message.contains(e)),
        "the reset ended the process: {uncaught}"
    );
    console.lines()
}

fn p21_overflow() -> Vec<String> {
    node(|lp, console, _| {
        let c = console.clone();
        lp.on_warning(move |_, w| c.log(format!("warning: {}", w.name)));
        let t = lp.set_timeout(
            log(console, "huge delay fired almost at once"),
            2f64.powi(31),
        );
        let show = |d: Option<f64>| d.map_or("cleared".to_string(), |d| d.to_string());
        console.log(format!("_idleTimeout of 2**31 -> {}", show(t.delay(lp))));
        let t = lp.set_timeout(|_| {}, -5);
        console.log(format!("_idleTimeout of -5 -> {}", show(t.delay(lp))));
        let t = lp.set_timeout(|_| {}, f64::NAN); // Node: "abc" * 1 is NaN
        console.log(format!("_idleTimeout of \"abc\" -> {}", show(t.delay(lp))));
        let t = lp.set_timeout(|_| {}, 2.9);
        console.log(format!("_idleTimeout of 2.9 -> {}", show(t.delay(lp))));
    })
}
