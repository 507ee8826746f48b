// net.connect returns at once, still connecting: listeners added and writes made right
// away wait for the connection, and nothing is lost.
const net = require('net');
const server = net.createServer((s) => {
  console.log('server: connection');
  s.on('data', (d) => console.log('server: data ' + d));
  s.on('end', () => console.log('server: end'));
  s.on('close', () => { console.log('server: close'); server.close(); });
  s.end('hello');
});
server.listen(0, '127.0.0.1', () => {
  console.log('listening');
  const c = net.connect(server.address().port, '127.0.0.1');
  console.log('connecting = ' + c.connecting);
  c.write('early');
  c.on('connect', () => console.log('client: connect'));
  c.on('data', (d) => console.log('client: data ' + d));
  c.on('end', () => console.log('client: end'));
  c.on('finish', () => console.log('client: finish'));
  c.on('close', (hadError) => console.log('client: close, hadError = ' + hadError));
});
console.log('main done');
