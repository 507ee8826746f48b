// The chat measurement's Node peer: examples/chat_server.rs written for Node, with the same
// protocol and the same rules. Every line a client sends goes to every other client as
// `guest-N: line`; joins and leaves are announced; a client with more than 256 KiB unsent is
// disconnected (a chat room cannot wait for its slowest reader), and so is one that sends a
// line longer than 4 KiB. scripts/compare-node.sh chat loads it with examples/chat_client.rs.
//
//   node bench/node/chat_server.js [ADDRESS]      (default 127.0.0.1:7070; port 0: any)
//
// Prints `chat_server listening on <address>` once it listens. Start it with a descriptor
// limit above the number of clients (`ulimit -n`): Node does not raise its own.
'use strict';

const net = require('net');

const MAX_BACKLOG = 256 * 1024;
const MAX_LINE = 4 * 1024;

const [host, port] = (process.argv[2] ?? '127.0.0.1:7070').split(':');

const clients = new Map(); // id -> { socket, name }
let nextId = 0;

function broadcast(from, line) {
  for (const [id, client] of clients) {
    if (id === from) continue;
    if (client.socket.writableLength > MAX_BACKLOG) {
      client.socket.destroy();
      continue;
    }
    client.socket.write(line);
  }
}

const server = net.createServer((socket) => {
  const id = ++nextId;
  const name = `guest-${id}`;
  socket.write(`welcome ${name}\n`);
  broadcast(undefined, `* ${name} joined\n`);
  clients.set(id, { socket, name });
  let partial = '';
  socket.setEncoding('latin1');
  socket.on('data', (data) => {
    partial += data;
    let end;
    while ((end = partial.indexOf('\n')) !== -1) {
      const text = partial.slice(0, end).trimEnd();
      partial = partial.slice(end + 1);
      broadcast(id, `${name}: ${text}\n`);
    }
    if (partial.length > MAX_LINE) socket.destroy();
  });
  socket.on('error', () => {}); // a reset: 'close' follows
  socket.on('close', () => {
    if (clients.delete(id)) broadcast(undefined, `* ${name} left\n`);
  });
});
server.listen(Number(port), host, 511, () => {
  const { address, port: bound } = server.address();
  console.log(`chat_server listening on ${address}:${bound}`);
});
