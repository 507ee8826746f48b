// W4-async: one async function awaiting 5,000,000 resolved promises in a row,
// `sum += await Promise.resolve(i)`: each `await` is one microtask hop. The Node side of
// scripts/compare-node.sh; examples/workloads.rs (`w4-async`) is the Rust side.
// `w4-async-pair`: the same 5,000,000 awaits made by two async functions taking turns, so
// every hop waits behind the other function's in the microtask queue.
//
//   node bench/node/w4-async.js [w4-async|w4-async-pair] [--runs N]
//
// Same protocol as the other workloads: one warm-up run, then --runs timed runs (default 5).
// Prints one line: `<workload> ops=<n> median_ms=<ms> ops_per_s=<n>`.
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

/** `n` awaits of resolved promises; resolves with their sum. */
async function awaits(n) {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await Promise.resolve(i);
  return sum;
}

/** One run of the pair: two functions of AWAITS / 2 awaits each, side by side. */
async function pair() {
  const start = process.hrtime.bigint();
  const half = AWAITS / 2;
  const [a, b] = await Promise.all([awaits(half), awaits(half)]);
  if (a !== b || a !== (half * (half - 1)) / 2) throw new Error(`wrong sums ${a} ${b}`);
  return process.hrtime.bigint() - start;
}

async function main() {
  const { workload, runs } = parseArgs('w4-async.js', ['w4-async', 'w4-async-pair']);
  await measure(workload, AWAITS, runs, workload === 'w4-async' ? chain : pair);
}

main();
