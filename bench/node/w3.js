// W3: a chain of 5,000,000 process.nextTick, each queueing the next. The Node side of
// scripts/compare-node.sh; examples/workloads.rs is the Rust side.
//
//   node bench/node/w3.js [--runs N]
//
// The whole chain runs in one checkpoint (a tick queued by a tick runs in the same drain), so
// this measures the tick queue alone: push, shift, call. Protocol (same as the Rust side): one
// warm-up run, then --runs timed runs (default 5), one after the other in this process; a run
// ends in its last callback, which resolves the run's promise. Prints one line: `w3 ops=<n>
// median_ms=<ms> ops_per_s=<n>`.
'use strict';

const { parseArgs, measure } = require('./harness');

const CHAIN_LENGTH = 5_000_000;



/** One run: resolves with the elapsed nanoseconds once the last tick of the chain ran. */
function chain() {
  return new Promise((resolve) => {
    let ran = 0;
    const start = process.hrtime.bigint();
    const step = () => {
      if (++ran === CHAIN_LENGTH) resolve(process.hrtime.bigint() - start);
      else process.nextTick(step);
    };
    process.nextTick(step);
  });
}


async function main() {
  const { workload, runs } = parseArgs('w3.js', ['w3']);
  await measure(workload, CHAIN_LENGTH, runs, chain);
}

main();
