// W2: a chain of 1,000,000 setImmediate, each scheduling the next. The Node side of
// scripts/compare-node.sh; examples/workloads.rs is the Rust side.
//
//   node bench/node/w2.js [--runs N]
//
// Every immediate in the chain runs in its own turn of the loop (an immediate queued while
// the check phase runs waits for the next one), so this measures a whole loop iteration per
// callback. Protocol (same as the Rust side): one warm-up run, then --runs timed runs (default
// 5), one after the other in this process; a run ends in its last callback, which resolves the
// run's promise. Prints one line: `w2 ops=<n> median_ms=<ms> ops_per_s=<n>`.
'use strict';

const { parseArgs, measure } = require('./harness');

const CHAIN_LENGTH = 1_000_000;



/** One run: resolves with the elapsed nanoseconds once the last immediate of the chain ran. */
function chain() {
  return new Promise((resolve) => {
    let ran = 0;
    const start = process.hrtime.bigint();
    const step = () => {
      if (++ran === CHAIN_LENGTH) resolve(process.hrtime.bigint() - start);
      else setImmediate(step);
    };
    setImmediate(step);
  });
}


async function main() {
  const { workload, runs } = parseArgs('w2.js', ['w2']);
  await measure(workload, CHAIN_LENGTH, runs, chain);
}

main();
