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

const CHAIN_LENGTH = 5_000_000;

function parseArgs(argv) {
  let runs = 5;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 1) usage('--runs needs a positive integer');
    } else if (arg !== 'w3') {
      usage(`unknown argument: ${arg}`);
    }
  }
  return { runs };
}

function usage(message) {
  console.error(`${message}\nusage: node bench/node/w3.js [--runs N]`);
  process.exit(2);
}

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

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main() {
  const { runs } = parseArgs(process.argv.slice(2));
  await chain(); // warm-up: JIT, heap sizes
  const times = [];
  for (let r = 0; r < runs; r++) times.push(Number(await chain()) / 1e6);
  const ms = median(times);
  console.log(`w3 ops=${CHAIN_LENGTH} median_ms=${ms.toFixed(1)} ops_per_s=${Math.round(CHAIN_LENGTH / (ms / 1000))}`);
}

main();
