//! How fast the loop runs `set_immediate` callbacks, in the two shapes programs use.
//!
//! - `immediates/chain`: each immediate schedules the next (W2 of `scripts/compare-node.sh`).
//!   An immediate queued during the check phase waits for the next iteration, so this measures
//!   one whole loop iteration per callback: every phase, the poll that must not wait, the
//!   queue snapshot, the checkpoint.
//! - `immediates/batch`: n immediates queued before the loop runs, all run in one check phase:
//!   the cost per callback without the iteration around it.
//!
//! The loop is on a [`ManualClock`]: no timer is involved, so nothing would sleep anyway, and
//! the clock reads stay cheap and deterministic.

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;

mod support;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use eventloop::clock::ManualClock;
use eventloop::event_loop::{EventLoop, RunMode};

/// Immediates per measured iteration.
const SIZES: [u64; 2] = [10_000, 100_000];
/// One link of a chain: counts itself and queues the next until the chain is `n` long.
fn step(lp: &mut EventLoop, ran: Rc<Cell<u64>>, n: u64) {
    ran.set(ran.get() + 1);
    if ran.get() < n {
        lp.set_immediate(move |lp| step(lp, ran, n));
    }
}

fn chain(c: &mut Criterion) {
    support::per_size(c, "immediates/chain", &SIZES, |b, n| {
        b.iter_batched(
            || EventLoop::with_clock(ManualClock::new()),
            |mut lp| {
                let ran = Rc::new(Cell::new(0u64));
                let first = ran.clone();
                lp.set_immediate(move |lp| step(lp, first, black_box(n)));
                lp.run(RunMode::Default);
                assert_eq!(ran.get(), n, "the whole chain runs");
                lp // dropped outside the measurement
            },
            BatchSize::PerIteration,
        );
    });
}

fn batch(c: &mut Criterion) {
    support::per_size(c, "immediates/batch", &SIZES, |b, n| {
        b.iter_batched(
            || EventLoop::with_clock(ManualClock::new()),
            |mut lp| {
                let ran = Rc::new(Cell::new(0u64));
                for _ in 0..n {
                    let ran = ran.clone();
                    lp.set_immediate(move |_| ran.set(ran.get() + 1));
                }
                lp.run(RunMode::Default);
                assert_eq!(ran.get(), n, "every immediate runs");
                lp
            },
            BatchSize::PerIteration,
        );
    });
}

criterion_group!(benches, chain, batch);
criterion_main!(benches);
