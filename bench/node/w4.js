// W4: a chain of 5,000,000 `Promise.resolve().then(next)` steps: each handler makes the next
// resolved promise and attaches the next handler. The Node side of scripts/compare-node.sh;
// examples/workloads.rs is the Rust side.
//
//   node bench/node/w4.js [--runs N]
//
// The whole chain runs in one microtask drain; each step allocates two promises (the resolved
// one and the one `then` returns) and one reaction job, so allocation decides the speed.
// Protocol (same as the Rust side): one warm-up run, then --runs timed runs (default 5), one
// after the other in this process; a run ends in its last callback, which resolves the run's
// promise. Prints one line: `w4 ops=<n> median_ms=<ms> ops_per_s=<n>`.
'use strict';

const { parseArgs, measure } = require('./harness');

const CHAIN_LENGTH = 5_000_000;



/** One run: resolves with the elapsed nanoseconds once the last step of the chain ran. */
function chain() {
  return new Promise((resolve) => {
    let ran = 0;
    const start = process.hrtime.bigint();
    const step = () => {
      if (++ran === CHAIN_LENGTH) resolve(process.hrtime.bigint() - start);
      else Promise.resolve().then(step);
    };
    Promise.resolve().then(step);
  });
}


async function main() {
  const { workload, runs } = parseArgs('w4.js', ['w4']);
  await measure(workload, CHAIN_LENGTH, runs, chain);
}

main();
