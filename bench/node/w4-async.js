// W4-async: one async function awaiting 5,000,000 resolved promises in a row,
// `sum += await Promise.resolve(i)`: each `await` is one microtask hop. The Node side of
// scripts/compare-node.sh; examples/workloads.rs (`w4-async`) is the Rust side.
//
//   node bench/node/w4-async.js [--runs N]
//
// Same protocol as the other workloads: one warm-up run, then --runs timed runs (default 5).
// Prints one line: `w4-async ops=<n> median_ms=<ms> ops_per_s=<n>`.
'use strict';

const { parseArgs, measure } = require('./harness');

const AWAITS = 5_000_000;

/** One run: resolves with the elapsed nanoseconds once the last await returned. */
async function chain() {
  const start = process.hrtime.bigint();
  let sum = 0;
  for (let i = 0; i < AWAITS; i++) sum += await Promise.resolve(i);
  if (sum !== (AWAITS * (AWAITS - 1)) / 2) throw new Error(`wrong sum ${sum}`);
  return process.hrtime.bigint() - start;
}

async function main() {
  const { workload, runs } = parseArgs('w4-async.js', ['w4-async']);
  await measure(workload, AWAITS, runs, chain);
}

main();
