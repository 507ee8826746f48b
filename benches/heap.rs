//! How fast the generational slab of chapter 1 stores and frees callbacks.
//!
//! Every timer, immediate and handle the loop creates is one `insert` and one `remove` in a
//! `Heap`, so churn — insert, look up, remove, over and over, with a working set that stays
//! the same size — is the workload that matters.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use eventloop::heap::Heap;

/// Operations per measured iteration.
const CHURN_OPS: u64 = 10_000;
/// Working-set sizes: how many values stay live while the churn goes on.
const LIVE: [usize; 3] = [16, 1_024, 65_536];

fn churn(c: &mut Criterion) {
    let mut group = c.benchmark_group("heap/churn");
    group.throughput(Throughput::Elements(CHURN_OPS));
    for live in LIVE {
        group.bench_with_input(BenchmarkId::new("live", live), &live, |b, &live| {
            let mut heap = Heap::new();
            let mut keys: Vec<_> = (0..live as u64).map(|i| heap.insert(i)).collect();
            let mut next = 0usize;
            b.iter(|| {
                for i in 0..CHURN_OPS {
                    // Replace the oldest-inserted value: remove, then insert into the freed slot.
                    let slot = next % live;
                    next = next.wrapping_add(7); // stride so the free list order varies
                    let old = heap.remove(keys[slot]);
                    black_box(old);
                    keys[slot] = heap.insert(i);
                    black_box(heap.get(keys[slot]));
                }
            });
            assert_eq!(heap.slot_count(), live, "churn must not grow the slab");
        });
    }
    group.finish();
}

fn insert_fresh(c: &mut Criterion) {
    let mut group = c.benchmark_group("heap/insert");
    group.throughput(Throughput::Elements(CHURN_OPS));
    group.bench_function(BenchmarkId::new("fresh", CHURN_OPS), |b| {
        b.iter(|| {
            let mut heap = Heap::new();
            for i in 0..CHURN_OPS {
                black_box(heap.insert(i));
            }
            heap
        });
    });
    group.finish();
}

criterion_group!(benches, churn, insert_fresh);
criterion_main!(benches);
