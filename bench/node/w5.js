// W5: TCP echo in one process. A `net` server on 127.0.0.1 and 100 client sockets in the
// same process (so on the same loop); each client does 10,000 sequential round trips of
// 64 bytes: write, wait until all 64 bytes came back, write again. The Node side of
// scripts/compare-node.sh; examples/workloads.rs is the Rust side, bench/tokio/ the tokio
// one.
//
//   node bench/node/w5.js [--runs N] [--connections N] [--round-trips N]
//
// Both ends turn Nagle off (`setNoDelay`), as the Rust sides do. A run starts with the first
// connect (the server already listens) and ends when the last client has had its last echo.
// Protocol (same as the Rust side): one warm-up run, then --runs timed runs (default 5), one
// after the other in this process, each with a fresh server. Prints one line:
// `w5 ops=<n> median_ms=<ms> ops_per_s=<n>`, one op being one round trip.
'use strict';

const { median } = require('./harness');

const net = require('net');

const MESSAGE = 64;

function parseArgs(argv) {
  const options = { runs: 5, connections: 100, roundTrips: 10_000 };
  const positive = (value, flag) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) usage(`${flag} needs a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') options.runs = positive(argv[++i], arg);
    else if (arg === '--connections') options.connections = positive(argv[++i], arg);
    else if (arg === '--round-trips') options.roundTrips = positive(argv[++i], arg);
    else if (arg !== 'w5') usage(`unknown argument: ${arg}`);
  }
  return options;
}

function usage(message) {
  console.error(`${message}\nusage: node bench/node/w5.js [--runs N] [--connections N] [--round-trips N]`);
  process.exit(2);
}

/** A listening echo server; resolves with it once it listens. */
function startServer() {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      socket.on('data', (chunk) => socket.write(chunk));
      socket.on('error', () => socket.destroy());
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** One client's conversation; resolves when its last echo arrived. */
function client(port, id, roundTrips) {
  return new Promise((resolve, reject) => {
    const message = Buffer.alloc(MESSAGE, 97 + (id % 26));
    let left = roundTrips;
    let received = 0;
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.setNoDelay(true);
      socket.write(message);
    });
    socket.on('data', (chunk) => {
      received += chunk.length;
      while (received >= MESSAGE) {
        received -= MESSAGE;
        if (--left === 0) {
          socket.destroy();
          return resolve();
        }
        socket.write(message);
      }
    });
    socket.on('error', reject);
  });
}

/** One run: resolves with the elapsed nanoseconds once every client finished. */
async function run(connections, roundTrips) {
  const server = await startServer();
  const { port } = server.address();
  const start = process.hrtime.bigint();
  const clients = [];
  for (let i = 0; i < connections; i++) clients.push(client(port, i, roundTrips));
  await Promise.all(clients);
  const elapsed = process.hrtime.bigint() - start;
  await new Promise((resolve) => server.close(resolve));
  return elapsed;
}


async function main() {
  const { runs, connections, roundTrips } = parseArgs(process.argv.slice(2));
  const ops = connections * roundTrips;
  await run(connections, roundTrips); // warm-up: JIT, heap sizes
  const times = [];
  for (let r = 0; r < runs; r++) times.push(Number(await run(connections, roundTrips)) / 1e6);
  const ms = median(times);
  console.log(`w5 ops=${ops} median_ms=${ms.toFixed(1)} ops_per_s=${Math.round(ops / (ms / 1000))}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
