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
use std::time::Duration;

use criterion::{
    BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
    measurement::WallTime,
};
use eventloop::clock::ManualClock;
use eventloop::event_loop::{EventLoop, RunMode};

/// Immediates per measured iteration.
const SIZES: [u64; 2] = [10_000, 100_000];
/// Samples per bench, and how long to measure: short, so `cargo bench` takes minutes.
const SAMPLES: usize = 10;
const WARM_UP: Duration = Duration::from_secs(1);
const MEASUREMENT: Duration = Duration::from_secs(3);

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(SAMPLES)
        .warm_up_time(WARM_UP)
        .measurement_time(MEASUREMENT);
    group
}

/// One link of a chain: counts itself and queues the next until the chain is `n` long.
fn step(lp: &mut EventLoop, ran: Rc<Cell<u64>>, n: u64) {
    ran.set(ran.get() + 1);
    if ran.get() < n {
        lp.set_immediate(move |lp| step(lp, ran, n));
    }
}

fn chain(c: &mut Criterion) {
    let mut group = group(c, "immediates/chain");
    for n in SIZES {
        group.throughput(Throughput::Elements(n));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("n={n}")),
            &n,
            |b, &n| {
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
            },
        );
    }
    group.finish();
}

fn batch(c: &mut Criterion) {
    let mut group = group(c, "immediates/batch");
    for n in SIZES {
        group.throughput(Throughput::Elements(n));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("n={n}")),
            &n,
            |b, &n| {
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
            },
        );
    }
    group.finish();
}

criterion_group!(benches, chain, batch);
criterion_main!(benches);
