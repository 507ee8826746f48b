// server.close() stops accepting at once, but the server's 'close' waits for the
// connections it already has.
const net = require('net');
const server = net.createServer((s) => {
  console.log('server: connection');
  server.close(() => console.log('server: close'));
  console.log('server: listening = ' + server.listening);
  s.on('end', () => { console.log('server socket: end'); s.end(); });
  s.on('close', () => console.log('server socket: close'));
});
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1', () => {
    console.log('client: connect');
    setImmediate(() => { console.log('client: end()'); c.end(); });
  });
  c.on('end', () => console.log('client: end'));
  c.on('close', () => console.log('client: close'));
});
