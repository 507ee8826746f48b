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

const N_TIMERS = 1_000_000;
const SPREAD_MS = 100;

function parseArgs(argv) {
  let workload = 'w1';
  let runs = 5;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 1) usage(`--runs needs a positive integer`);
    } else if (arg === 'w1' || arg === 'w1-sched') {
      workload = arg;
    } else {
      usage(`unknown argument: ${arg}`);
    }
  }
  return { workload, runs };
}

function usage(message) {
  console.error(`${message}\nusage: node bench/node/w1.js [w1|w1-sched] [--runs N]`);
  process.exit(2);
}

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

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main() {
  const { workload, runs } = parseArgs(process.argv.slice(2));
  const once = workload === 'w1' ? scheduleAndFire : scheduleAndClear;
  await once(); // warm-up: JIT, heap sizes
  const times = [];
  for (let r = 0; r < runs; r++) {
    // Start each run from a fresh turn of the loop, as the Rust side starts from a fresh loop.
    await new Promise((resolve) => setImmediate(resolve));
    times.push(Number(await once()) / 1e6);
  }
  const ms = median(times);
  console.log(`${workload} ops=${N_TIMERS} median_ms=${ms.toFixed(1)} ops_per_s=${Math.round(N_TIMERS / (ms / 1000))}`);
}

main();
