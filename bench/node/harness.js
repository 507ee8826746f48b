// What the Node side of every timed workload shares (scripts/compare-node.sh; the Rust side is
// examples/workloads.rs): the command line `[workload] [--runs N]`, the protocol — one warm-up
// run, then N timed runs one after the other in this process, the median reported — and the
// result line `<workload> ops=<n> median_ms=<ms> ops_per_s=<n>`.
'use strict';

/**
 * Reads `[workload] [--runs N]` from the command line. `workloads` lists the names the script
 * accepts (the first is the default). Exits with a usage line on anything else.
 */
function parseArgs(script, workloads, argv = process.argv.slice(2)) {
  let workload = workloads[0];
  let runs = 5;
  const usage = (message) => {
    const names = workloads.length > 1 ? `[${workloads.join('|')}] ` : '';
    console.error(`${message}\nusage: node bench/node/${script} ${names}[--runs N]`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 1) usage('--runs needs a positive integer');
    } else if (workloads.includes(arg)) {
      workload = arg;
    } else {
      usage(`unknown argument: ${arg}`);
    }
  }
  return { workload, runs };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The protocol: `once` resolves with a run's elapsed nanoseconds (a bigint); one warm-up run
 * (JIT, heap sizes), then `runs` timed ones; prints the result line for `ops` operations a run.
 */
async function measure(workload, ops, runs, once) {
  await once();
  const times = [];
  for (let r = 0; r < runs; r++) times.push(Number(await once()) / 1e6);
  const ms = median(times);
  console.log(
    `${workload} ops=${ops} median_ms=${ms.toFixed(1)} ops_per_s=${Math.round(ops / (ms / 1000))}`,
  );
}

module.exports = { parseArgs, median, measure };
