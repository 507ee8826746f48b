// server.close(cb): the listening socket closes at once, but 'close' (and cb) wait for the
// last connection to be destroyed. Closing again, when not running, is an error for cb.
const net = require('net');
const server = net.createServer((s) => {
  console.log('server: connection');
  server.close((err) => console.log('close callback, err = ' + (err ? err.code : 'none')));
  console.log('server: listening = ' + server.listening);
  setTimeout(() => { console.log('server: destroy its socket'); s.destroy(); }, 20);
  s.on('close', () => console.log('server socket: close'));
});
server.on('close', () => console.log('server: close event'));
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1');
  c.on('end', () => console.log('client: end'));
  c.on('close', () => {
    console.log('client: close');
    server.close((err) => console.log('second close callback, err = ' + err.code));
  });
});
