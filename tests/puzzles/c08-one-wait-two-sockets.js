// Two sockets become readable before the loop next waits. One epoll_wait reports both,
// and the poll phase runs both 'data' callbacks, each followed by its nextTick queue,
// before the check phase runs any immediate.
const net = require('net');
const accepted = [];
const clients = [];
const server = net.createServer((sock) => {
  accepted.push(sock);
  const name = accepted.length === 1 ? 'a' : 'b';
  sock.on('data', (chunk) => {
    console.log(`data ${chunk}`);
    process.nextTick(() => console.log(`tick ${name}`));
    setImmediate(() => {
      console.log(`immediate ${name}`);
      if (name === 'b') {
        for (const s of [...accepted, ...clients]) s.destroy();
        server.close();
      }
    });
  });
  if (accepted.length === 2) {
    // Both clients write in the same callback: both bytes are in the kernel before the
    // loop waits again.
    setImmediate(() => {
      clients[0].write('a');
      clients[1].write('b');
    });
  }
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  clients.push(net.connect(port, '127.0.0.1'));
  clients[0].on('connect', () => clients.push(net.connect(port, '127.0.0.1')));
});
