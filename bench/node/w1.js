// W1: 1,000,000 setTimeout with delay i % 100 ms, all fire. The Node side of
// scripts/compare-node.sh; examples/workloads.rs is the Rust side.
//
//   node bench/node/w1.js [w1|w1-sched] [--runs N]
//
// w1        schedule N_TIMERS timeouts and wait until every one has fired (the wall time
//           includes the ~99 ms the longest delay really waits).
// w1-sched  schedule N_TIMERS timeouts, then clear them all: the timer lists alone, no waiting.
//
// Protocol (same as the Rust side): one warm-up run, then --runs timed runs (default 5), one
// after the other in this process; a run of w1 ends in its last callback, which resolves the
// run's promise. Prints one line: `<workload> ops=<n> median_ms=<ms> ops_per_s=<n>`.
'use strict';

const { parseArgs, measure } = require('./harness');

const N_TIMERS = 1_000_000;
const SPREAD_MS = 100;



/** One run of w1: resolves with the elapsed nanoseconds once the last timeout has fired. */
function scheduleAndFire() {
  return new Promise((resolve) => {
    let fired = 0;
    const start = process.hrtime.bigint();
    const onTimeout = () => {
      if (++fired === N_TIMERS) resolve(process.hrtime.bigint() - start);
    };
    for (let i = 0; i < N_TIMERS; i++) setTimeout(onTimeout, i % SPREAD_MS);
  });
}

/** One run of w1-sched: the elapsed nanoseconds to schedule every timeout and clear it again. */
function scheduleAndClear() {
  const noop = () => {};
  const start = process.hrtime.bigint();
  const timeouts = new Array(N_TIMERS);
  for (let i = 0; i < N_TIMERS; i++) timeouts[i] = setTimeout(noop, i % SPREAD_MS);
  for (let i = 0; i < N_TIMERS; i++) clearTimeout(timeouts[i]);
  return Promise.resolve(process.hrtime.bigint() - start);
}


async function main() {
  const { workload, runs } = parseArgs('w1.js', ['w1', 'w1-sched']);
  const once = workload === 'w1' ? scheduleAndFire : scheduleAndClear;
  await measure(workload, N_TIMERS, runs, async () => {
    // Start each run from a fresh turn of the loop, as the Rust side starts from a fresh loop.
    await new Promise((resolve) => setImmediate(resolve));
    return once();
  });
}

main();
