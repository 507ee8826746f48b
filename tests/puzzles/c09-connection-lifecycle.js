// One ping-pong over a real socket, both ends in one process: which side's callback runs
// first, and where 'end' and 'close' land.
const net = require('net');
const server = net.createServer((s) => {
  console.log('server: connection');
  s.on('data', (d) => { console.log('server: data ' + d); s.end('pong'); });
  s.on('end', () => console.log('server: end'));
  s.on('close', () => { console.log('server: close'); server.close(); });
});
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1', () => {
    console.log('client: connect');
    c.write('ping');
  });
  c.on('data', (d) => console.log('client: data ' + d));
  c.on('end', () => { console.log('client: end'); c.end(); });
  c.on('close', () => console.log('client: close'));
});
