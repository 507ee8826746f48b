// W7a: 2,000 files of 4 KiB, all read at once with fs.readFile. The Node side of
// scripts/compare-node.sh; examples/workloads.rs is the Rust side.
//
//   node bench/node/w7a.js [--runs N]
//
// The files are written once, in a fresh directory under the system temp dir, before any
// timing (so the page cache is warm) and removed at the end. A run starts every readFile at
// once and ends in the last callback. Node's readFile is four pool jobs per file (open, fstat,
// read, close), each followed by a trip through the loop's poll phase; ours is one. Protocol
// (same as the Rust side): one warm-up run, then --runs timed runs (default 5), one after the
// other in this process. Prints one line: `w7a ops=<n> median_ms=<ms> ops_per_s=<n>`, one op
// being one file read.
'use strict';

const { parseArgs, measure } = require('./harness');

const fs = require('fs');
const os = require('os');
const path = require('path');

const N_FILES = 2_000;
const FILE_SIZE = 4096;



/** Writes the files; returns their paths. */
function setup(dir) {
  const data = Buffer.alloc(FILE_SIZE, 'x');
  const paths = [];
  for (let i = 0; i < N_FILES; i++) {
    const file = path.join(dir, `f${String(i).padStart(4, '0')}`);
    fs.writeFileSync(file, data);
    paths.push(file);
  }
  return paths;
}

/** One run: resolves with the elapsed nanoseconds once every file was read. */
function readAll(paths) {
  return new Promise((resolve, reject) => {
    let left = paths.length;
    const start = process.hrtime.bigint();
    for (const file of paths) {
      fs.readFile(file, (err, data) => {
        if (err) return reject(err);
        if (data.length !== FILE_SIZE) return reject(new Error(`${file}: ${data.length} bytes`));
        if (--left === 0) resolve(process.hrtime.bigint() - start);
      });
    }
  });
}


async function main() {
  const { workload, runs } = parseArgs('w7a.js', ['w7a']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'w7a-node-'));
  try {
    const paths = setup(dir);
    await measure(workload, N_FILES, runs, () => readAll(paths));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
