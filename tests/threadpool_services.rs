//! The pool's two Node services beyond files: `dns::lookup` (slow I/O) and `crypto::pbkdf2`
//! (CPU work). No test sleeps or measures time: concurrency is read from counters (the pool's
//! `running`, `queued`, `max_running`, and our own), and order from a log.
//!
//! There is no network here: lookups use `localhost` (which the system may resolve to
//! 127.0.0.1 or ::1) and numeric addresses only.

mod common;

use std::cell::{Cell, RefCell};
use std::io;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex};

use common::Log;
use eventloop::crypto;
use eventloop::dns;
use eventloop::event_loop::EventLoop;
use eventloop::threadpool::{ThreadPool, WorkKind};
use eventloop::trace::TraceEvent;

/// A loop with a pool of its own, so tests running in parallel never share a queue.
fn loop_with_pool(size: usize) -> EventLoop {
    EventLoop::builder()
        .thread_pool(ThreadPool::with_size(size))
        .build()
        .expect("a valid configuration")
}

/// Runs `script` as a main module on `lp` and expects it to end normally.
fn run(lp: &mut EventLoop, script: impl FnOnce(&mut EventLoop)) {
    let code = lp.run_main(script).expect("no uncaught error");
    assert_eq!(code, 0);
}

/// `crypto.pbkdf2Sync('pw', 'salt', 1000, 32, 'sha256').toString('hex')` in node v20.20.2.
const NODE_PW_SALT_1000_32: &str =
    "0a38253555ce37f5c72a6b703f996814ebf241f203af146e93dcdeb031c5567e";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// dns

#[test]
fn localhost_resolves_to_a_loopback_address_on_the_pool() {
    let mut lp = loop_with_pool(2);
    lp.enable_trace();
    let answer = Rc::new(RefCell::new(None));
    let all = Rc::new(RefCell::new(None));
    let (a, b) = (answer.clone(), all.clone());
    run(&mut lp, move |lp| {
        dns::lookup(lp, "localhost", move |_, r| *a.borrow_mut() = Some(r));
        dns::lookup_all(lp, "localhost", move |_, r| *b.borrow_mut() = Some(r));
    });
    let first = answer
        .take()
        .expect("callback ran")
        .expect("localhost resolves");
    assert!(first.is_loopback(), "{first} is 127.0.0.1 or ::1");
    let all = all
        .take()
        .expect("callback ran")
        .expect("localhost resolves");
    assert!(
        !all.is_empty() && all.iter().all(IpAddr::is_loopback),
        "{all:?}"
    );
    assert_eq!(
        all[0], first,
        "lookup gives the first of lookup_all's answers"
    );
    let queued = lp
        .take_trace()
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                TraceEvent::WorkQueued {
                    name: "getaddrinfo",
                    ..
                }
            )
        })
        .count();
    assert_eq!(queued, 2, "both went through the pool");
}

#[test]
fn ip_literals_answer_on_the_next_tick_without_the_pool() {
    let mut lp = loop_with_pool(1);
    let log = Log::default();
    let l = log.clone();
    run(&mut lp, move |lp| {
        let l2 = l.clone();
        dns::lookup(lp, "127.0.0.1", move |_, r| {
            l2.push(format!("lookup {}", r.expect("a literal")))
        });
        let l2 = l.clone();
        dns::lookup_all(lp, "::1", move |_, r| {
            l2.push(format!("lookup_all {:?}", r.expect("a literal")))
        });
        lp.next_tick(l.cb("nextTick"));
        lp.set_immediate(l.cb("immediate"));
        l.push("main");
    });
    assert_eq!(
        log.entries(),
        [
            "main",
            "lookup 127.0.0.1",
            "lookup_all [::1]",
            "nextTick",
            "immediate"
        ]
    );
    assert!(
        !lp.thread_pool().is_started(),
        "nothing was sent to the pool"
    );
}

#[test]
fn an_empty_host_or_a_nul_byte_is_invalid_input_through_the_callback() {
    let mut lp = loop_with_pool(1);
    let errors = Rc::new(RefCell::new(Vec::new()));
    let e = errors.clone();
    run(&mut lp, move |lp| {
        for host in ["", "local\0host"] {
            let e = e.clone();
            dns::lookup(lp, host, move |_, r| {
                e.borrow_mut().push(r.expect_err("invalid host"))
            });
        }
        let e = e.clone();
        dns::lookup_all(lp, "\0", move |_, r| {
            e.borrow_mut().push(r.expect_err("invalid host"))
        });
    });
    let errors = errors.take();
    assert_eq!(errors.len(), 3);
    assert!(
        errors
            .iter()
            .all(|e| e.kind() == io::ErrorKind::InvalidInput)
    );
    assert_eq!(errors[0].to_string(), "dns.lookup: the hostname is empty");
    assert!(errors[1].to_string().contains("NUL byte"), "{}", errors[1]);
    assert!(!lp.thread_pool().is_started(), "rejected before the pool");
}

/// A gate pool jobs wait at until the loop opens it, counting who is waiting.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    open: bool,
    /// Jobs waiting at the gate now, and the most there ever were.
    inside: usize,
    max_inside: usize,
}

impl Gate {
    /// Called by a job on a worker: wait until the gate opens. A job that finds `limit` others
    /// already inside opens it itself: the cap under test is broken, and the test should fail
    /// on its assertions rather than hang.
    fn enter(&self, limit: usize) {
        let mut state = self.state.lock().unwrap();
        state.inside += 1;
        state.max_inside = state.max_inside.max(state.inside);
        if state.inside > limit {
            state.open = true;
        }
        self.changed.notify_all();
        while !state.open {
            state = self.changed.wait(state).unwrap();
        }
        state.inside -= 1;
    }

    /// Called by the loop: wait until `n` jobs are inside (or the gate is open). Jobs a worker
    /// has taken get there whatever the scheduler does, so this ends without any timeout.
    fn wait_for(&self, n: usize) -> usize {
        let mut state = self.state.lock().unwrap();
        while state.inside < n && !state.open {
            state = self.changed.wait(state).unwrap();
        }
        state.inside
    }

    fn open(&self) {
        self.state.lock().unwrap().open = true;
        self.changed.notify_all();
    }

    fn max_inside(&self) -> usize {
        self.state.lock().unwrap().max_inside
    }
}

/// Fills a pool of `size` with more gated slow-I/O jobs than it has threads, then queues CPU
/// jobs behind them. The CPU jobs must run while the slow ones are stuck at the gate, and
/// only the last CPU callback opens it.
fn slow_io_is_capped_and_cpu_work_passes(size: usize) {
    let mut lp = loop_with_pool(size);
    let limit = lp.thread_pool().slow_io_limit();
    assert_eq!(limit, size.div_ceil(2));
    let slow_jobs = size + 2;
    let cpu_jobs = 2;
    let gate = Arc::new(Gate::default());
    let slow_done = Rc::new(Cell::new(0));
    let cpu_done = Rc::new(Cell::new(0));
    let seen = Rc::new(Cell::new(None));

    let (g, sd, cd, se) = (
        gate.clone(),
        slow_done.clone(),
        cpu_done.clone(),
        seen.clone(),
    );
    run(&mut lp, move |lp| {
        for _ in 0..slow_jobs {
            let (gate, slow_done) = (g.clone(), sd.clone());
            lp.submit_work(
                WorkKind::SlowIo,
                "slowJob",
                move || gate.enter(limit),
                move |_, r| {
                    r.expect("no panic");
                    slow_done.set(slow_done.get() + 1);
                },
            );
        }
        for _ in 0..cpu_jobs {
            let (gate, cpu_done, seen) = (g.clone(), cd.clone(), se.clone());
            lp.queue_work(
                || (),
                move |lp, r| {
                    r.expect("no panic");
                    cpu_done.set(cpu_done.get() + 1);
                    if cpu_done.get() < cpu_jobs {
                        return;
                    }
                    // Every CPU job ran with the gate shut. The slow jobs holding threads are
                    // on their way in; once they are all there, count.
                    let inside = gate.wait_for(limit);
                    let pool = lp.thread_pool();
                    // A worker reports a job done just before it leaves `running` (so the
                    // loop never waits on the pool's lock): let the CPU workers step out. A
                    // condition, not a duration; with the gate shut only slow jobs stay.
                    while pool.running() > limit {
                        std::thread::yield_now();
                    }
                    seen.set(Some((pool.running(), pool.queued(), inside)));
                    gate.open();
                },
            );
        }
    });

    assert_eq!(cpu_done.get(), cpu_jobs, "every CPU job ran");
    assert_eq!(
        slow_done.get(),
        slow_jobs,
        "every slow job ran once the gate opened"
    );
    assert_eq!(
        gate.max_inside(),
        limit,
        "slow I/O filled its share of a pool of {size}, and no more"
    );
    // With the gate still shut, exactly `limit` slow jobs held threads and the rest were
    // queued behind the cap.
    assert_eq!(
        seen.get(),
        Some((limit, slow_jobs - limit, limit)),
        "(running, queued, inside the gate)"
    );
}

#[test]
fn slow_io_never_exceeds_half_the_pool_and_cpu_work_still_runs() {
    for size in [2, 3, 4, 5] {
        slow_io_is_capped_and_cpu_work_passes(size);
    }
}

#[test]
fn lookups_are_slow_io_waiting_behind_the_cap() {
    // A pool of 2 lets one slow job run. A gated slow job takes that share, so a lookup
    // queued after it must wait, while a CPU job queued after the lookup runs.
    let mut lp = loop_with_pool(2);
    let gate = Arc::new(Gate::default());
    let log = Log::default();
    let (g, l) = (gate.clone(), log.clone());
    run(&mut lp, move |lp| {
        let gate = g.clone();
        lp.submit_work(WorkKind::SlowIo, "slowJob", move || gate.enter(1), {
            let l = l.clone();
            move |_, _| l.push("slow job")
        });
        let l2 = l.clone();
        dns::lookup(lp, "localhost", move |_, r| {
            assert!(r.expect("localhost resolves").is_loopback());
            l2.push("lookup");
        });
        let l2 = l.clone();
        lp.queue_work(
            || (),
            move |lp, _| {
                let pool = lp.thread_pool();
                l2.push(format!("cpu: queued {}", pool.queued()));
                g.open();
            },
        );
    });
    assert_eq!(log.entries(), ["cpu: queued 1", "slow job", "lookup"]);
}

// ---------------------------------------------------------------------------------------------
// crypto

#[test]
fn pbkdf2_matches_node() {
    let mut lp = loop_with_pool(1); // one thread: keys come back in submission order
    let keys = Rc::new(RefCell::new(Vec::new()));
    let k = keys.clone();
    run(&mut lp, move |lp| {
        let k2 = k.clone();
        crypto::pbkdf2(lp, "pw", "salt", 1000, 32, move |_, key| {
            k2.borrow_mut().push(hex(&key.expect("valid arguments")))
        });
        let k2 = k.clone();
        // `crypto.pbkdf2Sync('pw', 'salt', 1, 0, 'sha256')` is an empty buffer.
        crypto::pbkdf2(lp, b"pw", b"salt", 1, 0, move |_, key| {
            k2.borrow_mut().push(hex(&key.expect("valid arguments")))
        });
    });
    assert_eq!(*keys.borrow(), [NODE_PW_SALT_1000_32, ""]);
}

#[test]
fn pbkdf2_rejects_out_of_range_arguments_with_nodes_words() {
    let mut lp = loop_with_pool(1);
    let errors = Rc::new(RefCell::new(Vec::new()));
    let e = errors.clone();
    run(&mut lp, move |lp| {
        let cases: [(u32, usize); 4] = [(0, 32), (1 << 31, 32), (1, 1 << 31), (1, usize::MAX)];
        for (iterations, key_len) in cases {
            let e = e.clone();
            crypto::pbkdf2(lp, "pw", "salt", iterations, key_len, move |_, r| {
                let err = r.expect_err("out of range");
                assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
                e.borrow_mut().push(err.to_string());
            });
        }
    });
    let max = if usize::BITS == 64 {
        "18_446_744_073_709_551_615"
    } else {
        "4_294_967_295"
    };
    assert_eq!(
        *errors.borrow(),
        [
            "The value of \"iterations\" is out of range. It must be >= 1 && <= 2147483647. \
             Received 0"
                .to_string(),
            "The value of \"iterations\" is out of range. It must be >= 1 && <= 2147483647. \
             Received 2147483648"
                .to_string(),
            "The value of \"keylen\" is out of range. It must be >= 0 && <= 2147483647. \
             Received 2147483648"
                .to_string(),
            format!(
                "The value of \"keylen\" is out of range. It must be >= 0 && <= 2147483647. \
                 Received {max}"
            ),
        ]
    );
    assert!(!lp.thread_pool().is_started(), "rejected before the pool");
}

/// Rounds per hash in the concurrency tests: a few milliseconds each, long enough that the
/// four workers all pick one up (a job counts as running from the moment a worker takes it,
/// whatever the OS scheduler does next).
const ROUNDS: u32 = 20_000;

#[test]
fn eight_hashes_on_four_threads_run_four_at_a_time() {
    let mut lp = loop_with_pool(4);
    let done = Rc::new(RefCell::new(Vec::new()));
    let d = done.clone();
    run(&mut lp, move |lp| {
        // Start the threads first, so that the hashes race nothing but the four idle workers
        // waking up: each takes a hash within microseconds, each hash lasts milliseconds.
        lp.queue_work(
            || (),
            move |lp, _| {
                for i in 0..8 {
                    let d = d.clone();
                    crypto::pbkdf2(lp, "pw", format!("salt{i}"), ROUNDS, 32, move |_, key| {
                        assert_eq!(key.expect("valid arguments").len(), 32);
                        d.borrow_mut().push(i);
                    });
                }
            },
        );
    });
    let mut done = done.take();
    done.sort_unstable();
    assert_eq!(done, (0..8).collect::<Vec<_>>(), "all eight callbacks ran");
    assert_eq!(
        lp.thread_pool().max_running(),
        4,
        "never more than the pool"
    );
}

#[test]
fn on_one_thread_hashes_complete_in_submission_order() {
    let mut lp = loop_with_pool(1);
    let log = Log::default();
    let l = log.clone();
    run(&mut lp, move |lp| {
        // Heaviest first: with more threads the light ones would overtake it.
        for (name, rounds) in [("heavy", 4 * ROUNDS), ("medium", ROUNDS), ("light", 1)] {
            let l = l.clone();
            crypto::pbkdf2(lp, "pw", "salt", rounds, 32, move |_, key| {
                key.expect("valid arguments");
                l.push(name);
            });
        }
    });
    assert_eq!(log.entries(), ["heavy", "medium", "light"]);
    assert_eq!(lp.thread_pool().max_running(), 1);
}
