// W7b: eight password hashes queued at once, and when each one finishes: the thread pool's
// size made visible. The Node side of scripts/compare-node.sh; examples/pbkdf2_waves.rs is
// the Rust side (same protocol, same output).
//
//   node bench/node/w7b.js
//   UV_THREADPOOL_SIZE=8 node bench/node/w7b.js
//
// Each hash is crypto.pbkdf2 with 1,000,000 rounds of HMAC-SHA-256. With the default pool of 4
// threads the finish times come in two waves; with UV_THREADPOOL_SIZE=8, one. Threads are not
// cores: on 2 cores, 8 threads share them four ways, so the single wave lands about when the
// second of two would have.
//
// Prints one line per hash as its callback runs, then one line:
// `w7b pool=<n> cores=<n> hashes=8 iterations=<n> max_running=- fourth_ms=<n> last_ms=<n>
// done_ms=<a,b,..>` (Node cannot tell how many pool jobs ran at once: max_running is `-`).
// Two waves show as last_ms about twice fourth_ms; one wave as the two about equal. One run,
// no warm-up.
'use strict';

const crypto = require('crypto');
const os = require('os');

const HASHES = 8;
const ITERATIONS = 1_000_000;

if (process.argv.length > 2 && process.argv[2] !== 'w7b') {
  console.error(`unknown argument: ${process.argv[2]}\nusage: node bench/node/w7b.js`);
  process.exit(2);
}

// libuv's reading of UV_THREADPOOL_SIZE (init_threads): atoi, 0 -> 1, capped at 1024.
const raw = process.env.UV_THREADPOOL_SIZE;
const pool = raw === undefined ? 4 : Math.min(Math.max(parseInt(raw, 10) || 1, 1), 1024);
const cores = os.availableParallelism();
console.log(`pbkdf2 waves: ${HASHES} hashes of ${ITERATIONS} rounds queued at once, ` +
  `pool of ${pool} threads, ${cores} CPU cores`);

const doneMs = [];
const start = process.hrtime.bigint();
for (let i = 0; i < HASHES; i++) {
  crypto.pbkdf2('pw', `salt${i}`, ITERATIONS, 32, 'sha256', (err) => {
    if (err) throw err;
    const ms = Number((process.hrtime.bigint() - start) / 1_000_000n);
    console.log(`hash ${i} done at ${ms} ms`);
    doneMs.push(ms);
  });
}
process.on('exit', () => {
  console.log(`w7b pool=${pool} cores=${cores} hashes=${HASHES} iterations=${ITERATIONS} ` +
    `max_running=- fourth_ms=${doneMs[3] ?? 0} last_ms=${doneMs[doneMs.length - 1] ?? 0} ` +
    `done_ms=${doneMs.join(',')}`);
});
