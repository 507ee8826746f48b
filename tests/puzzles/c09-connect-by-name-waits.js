// Sockets never use the pool, but a host NAME must be resolved first: net.connect calls
// dns.lookup, which is a pool job. With one pool thread busy hashing, the connection to
// 'localhost' waits for the hash; the one to the address 127.0.0.1 needs no lookup.
const net = require('net');
const crypto = require('crypto');
const server = net.createServer((s) => s.end());
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  crypto.pbkdf2('secret', 'salt', 500000, 32, 'sha256', () => console.log('hash done'));
  let left = 2;
  const connected = (label) => () => {
    console.log(`connected to ${label}`);
    if (--left === 0) server.close();
  };
  net.connect({ host: 'localhost', port, family: 4 }, connected('localhost, after the lookup'));
  net.connect({ host: '127.0.0.1', port }, connected('127.0.0.1 while the pool is busy'));
});
