// end(data) sends data, then half-closes. A write after end() is an error: the write's
// callback and 'error' get ERR_STREAM_WRITE_AFTER_END, and the socket is destroyed.
const net = require('net');
const server = net.createServer((s) => {
  s.end('bye', () => console.log('server: end callback'));
  s.write('more', (err) => console.log('server: write callback, ' + err.code));
  s.on('error', (err) => console.log('server: error ' + err.code));
  s.on('finish', () => console.log('server: finish'));
  s.on('close', (hadError) => {
    console.log('server: close, hadError = ' + hadError);
    server.close();
  });
});
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1');
  c.on('data', (d) => console.log('client: data ' + d));
  c.on('end', () => console.log('client: end'));
  c.on('close', () => console.log('client: close'));
});
