// W6: the Node peer of examples/http_hello.rs — an `http` server answering every request
// with `Hello, world!` (keep-alive, as Node's default). scripts/compare-node.sh starts it and
// loads it with `wrk -t1 -c100 -d10s`, then does the same to ours.
//
//   node bench/node/w6.js [PORT]        (default 8081; prints one line once it listens)
'use strict';

const http = require('http');

const BODY = 'Hello, world!\n';
const port = Number(process.argv[2] ?? 8081);

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': BODY.length });
  res.end(BODY);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`w6 node listening on http://127.0.0.1:${server.address().port}/`);
});
