//! How fast timers are scheduled, fired and cleared: through the loop's `set_timeout`, and in
//! the two data structures of chapter 3 on their own.
//!
//! The loop benches use a [`ManualClock`], so running to completion jumps straight from one
//! deadline to the next: they measure CPU, never sleeping. Delays are `i % 100` ms, as in the
//! W1 workload of `scripts/compare-node.sh` — 100 of Node's duration lists, many timers each.
//! Comparing `timers/…` with `timer_lists/…` shows what the loop adds on top of the lists
//! (boxed callbacks in the heap, frames, checkpoints, the libuv timer handle).

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;

mod support;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use eventloop::clock::ManualClock;
use eventloop::event_loop::{EventLoop, RunMode};
use eventloop::timers::{AfterCallback, Due, TimerHeap, TimerLists};

/// Timers per measured iteration.
const SIZES: [u64; 2] = [10_000, 100_000];
/// Delays run from 0 to `SPREAD_MS - 1` ms.
const SPREAD_MS: u64 = 100;
/// `set_timeout` n times on a fresh loop, then `run` until every timeout fired.
fn schedule_and_fire(c: &mut Criterion) {
    support::per_size(c, "timers/schedule_and_fire", &SIZES, |b, n| {
        b.iter_batched(
            || EventLoop::with_clock(ManualClock::new()),
            |mut lp| {
                let fired = Rc::new(Cell::new(0u64));
                for i in 0..n {
                    let fired = fired.clone();
                    lp.set_timeout(move |_| fired.set(fired.get() + 1), i % SPREAD_MS);
                }
                lp.run(RunMode::Default);
                assert_eq!(fired.get(), n, "every timeout fires");
                lp // dropped outside the measurement
            },
            BatchSize::PerIteration,
        );
    });
}

/// `set_timeout` n times on a fresh loop, then `clear_timeout` every one; nothing runs.
fn schedule_and_clear(c: &mut Criterion) {
    support::per_size(c, "timers/schedule_and_clear", &SIZES, |b, n| {
        b.iter_batched(
            || EventLoop::with_clock(ManualClock::new()),
            |mut lp| {
                let timeouts: Vec<_> = (0..n)
                    .map(|i| lp.set_timeout(|_| {}, i % SPREAD_MS))
                    .collect();
                for timeout in timeouts {
                    lp.clear_timeout(black_box(timeout));
                }
                lp
            },
            BatchSize::PerIteration,
        );
    });
}

/// Node's duration lists alone: `create` n timeouts, then `clear` them.
fn lists_create_clear(c: &mut Criterion) {
    support::per_size(c, "timer_lists/create_clear", &SIZES, |b, n| {
        b.iter_batched(
            TimerLists::new,
            |mut lists| {
                let keys: Vec<_> = (0..n)
                    .map(|i| lists.create(i, (i % SPREAD_MS) as f64, false, 0).0)
                    .collect();
                for key in keys {
                    black_box(lists.clear(key));
                }
                lists
            },
            BatchSize::PerIteration,
        );
    });
}

/// Node's duration lists alone: `create` n timeouts, then take every one due, in order, as a
/// timers pass does (`next_due` → `after_callback`), with "now" jumping to each deadline.
fn lists_create_fire(c: &mut Criterion) {
    support::per_size(c, "timer_lists/create_fire", &SIZES, |b, n| {
        b.iter_batched(
            TimerLists::new,
            |mut lists| {
                for i in 0..n {
                    lists.create(i, (i % SPREAD_MS) as f64, false, 0);
                }
                let (mut now, mut fired) = (0, 0);
                loop {
                    lists.begin_pass();
                    let next = loop {
                        match lists.next_due(now) {
                            Due::Timer(key) => {
                                let released = lists.after_callback(key, now);
                                assert!(matches!(released, AfterCallback::Released(_)));
                                fired += 1;
                            }
                            Due::Done(next) => break next,
                        }
                    };
                    match next {
                        Some(expiry) => now = expiry,
                        None => break,
                    }
                }
                assert_eq!(fired, n, "every timeout is due once");
                lists
            },
            BatchSize::PerIteration,
        );
    });
}

/// libuv's timer heap alone: start n timers, then stop them all (`uv_timer_start`/`_stop`).
fn heap_start_stop(c: &mut Criterion) {
    support::per_size(c, "timer_heap/start_stop", &SIZES, |b, n| {
        // The timers are created once; a uv_timer_t outlives its starts and stops.
        let mut heap = TimerHeap::new();
        let timers: Vec<_> = (0..n).map(|i| heap.insert(i)).collect();
        b.iter(|| {
            for (i, &timer) in (0..n).zip(&timers) {
                heap.start(timer, 0, i % SPREAD_MS, 0);
            }
            for &timer in &timers {
                heap.stop(black_box(timer));
            }
        });
        assert_eq!(heap.active(), 0);
    });
}

/// libuv's timer heap alone: start n timers, then pop every one in firing order
/// (`uv__run_timers`: `collect_due`, then `pop_ready` until empty).
fn heap_start_fire(c: &mut Criterion) {
    support::per_size(c, "timer_heap/start_fire", &SIZES, |b, n| {
        let mut heap = TimerHeap::new();
        let timers: Vec<_> = (0..n).map(|i| heap.insert(i)).collect();
        b.iter(|| {
            for (i, &timer) in (0..n).zip(&timers) {
                heap.start(timer, 0, i % SPREAD_MS, 0);
            }
            heap.collect_due(SPREAD_MS);
            let mut fired = 0;
            while let Some(timer) = heap.pop_ready(SPREAD_MS) {
                black_box(timer);
                fired += 1;
            }
            assert_eq!(fired, n, "every timer fires once");
        });
    });
}

criterion_group!(
    benches,
    schedule_and_fire,
    schedule_and_clear,
    lists_create_clear,
    lists_create_fire,
    heap_start_stop,
    heap_start_fire
);
criterion_main!(benches);
