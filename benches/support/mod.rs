//! What the criterion benches share: short settings, so `cargo bench` takes minutes, and one
//! way to run a bench at every size with the throughput counted in elements.
#![allow(dead_code)] // each bench uses what it needs

use std::time::Duration;

use criterion::{Bencher, BenchmarkId, Criterion, Throughput};

/// Samples per bench, and how long to warm up and to measure.
const SAMPLES: usize = 10;
const WARM_UP: Duration = Duration::from_secs(1);
const MEASUREMENT: Duration = Duration::from_secs(3);

/// Runs `bench` once for each size in `sizes`, in a group called `name`, counting `n`
/// elements per iteration so criterion reports elements per second.
pub fn per_size(
    c: &mut Criterion,
    name: &str,
    sizes: &[u64],
    mut bench: impl FnMut(&mut Bencher<'_>, u64),
) {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(SAMPLES)
        .warm_up_time(WARM_UP)
        .measurement_time(MEASUREMENT);
    for &n in sizes {
        group.throughput(Throughput::Elements(n));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("n={n}")),
            &n,
            |b, &n| bench(b, n),
        );
    }
    group.finish();
}
