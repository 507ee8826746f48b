// A client that leaves in the middle of a large answer crashes a server that has no
// 'error' listener on its socket: the reset becomes an 'error' event, and an 'error'
// event nobody listens for is thrown. The process exits with code 1; 'exit' still runs.
const net = require('net');
const big = Buffer.alloc(16 * 1024 * 1024, 'x');
process.on('exit', (code) => console.log(`exit ${code}`));
const server = net.createServer((s) => {
  s.write(big); // more than the kernels take at once: most of it waits in Node
  console.log('server: writing 16 MiB, no error listener');
}).listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1');
  c.on('data', () => c.destroy()); // one chunk is enough: leave with the rest unread
});
