// W8's Node peer: a `net` server that accepts connections and keeps them open, idle — to
// measure what an idle connection costs in resident memory. The peer of
// examples/idle_server.rs, with the same command line and output; scripts/compare-node.sh w8
// reads its VmRSS before and after examples/idle_client.rs opens the connections.
//
//   node bench/node/w8.js [ADDRESS] [EXPECTED]     (default 127.0.0.1:0 and 10000)
//
// Prints `listening <address> pid=<pid>`, then `accepted <n>` once EXPECTED connections are
// open. Runs until killed. Start it with a descriptor limit of at least EXPECTED + a few
// (`ulimit -n`): Node does not raise its own.
'use strict';

const net = require('net');

const [host, port] = (process.argv[2] ?? '127.0.0.1:0').split(':');
const expected = Number(process.argv[3] ?? 10_000);

let open = 0; // connections accepted: idle clients never leave while measured
const server = net.createServer((socket) => {
  if (++open === expected) console.log(`accepted ${expected}`);
  socket.on('data', () => {}); // an idle client sends nothing
  socket.on('error', () => {});
});
server.listen(Number(port), host, 511, () => {
  const { address, port: bound } = server.address();
  console.log(`listening ${address}:${bound} pid=${process.pid}`);
});
