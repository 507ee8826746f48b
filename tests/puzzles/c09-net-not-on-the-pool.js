// The pool has one thread, and a hash keeps it busy. A TCP round trip still
// completes: sockets are watched by the poll phase, never run on the pool.
// A file operation queued behind the hash has to wait for that one thread.
const net = require('net');
const crypto = require('crypto');
const fs = require('fs');
const server = net.createServer((s) => s.on('data', (d) => s.end(d)));
server.listen(0, '127.0.0.1', () => {
  crypto.pbkdf2('secret', 'salt', 500000, 32, 'sha256', () => console.log('hash done'));
  fs.stat(__filename, () => {
    console.log('stat done');
    server.close();
  });
  const c = net.connect(server.address().port, '127.0.0.1', () => c.write('ping'));
  c.on('data', (d) => console.log('client got ' + d + ' while the pool is busy'));
  c.on('end', () => console.log('client: end'));
});
