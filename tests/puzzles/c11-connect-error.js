// A failed connect destroys the socket: 'error' on a tick, then 'close' (hadError true) in
// the closing phase — after the immediate queued with it.
const net = require('net');
const server = net.createServer();
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  server.close(() => {
    const c = net.connect(port, '127.0.0.1', () => console.log('connected?'));
    c.on('error', (e) => console.log(`error: ${e.code} (${e.syscall}), destroyed = ${c.destroyed}`));
    c.on('close', (hadError) => console.log('close, hadError = ' + hadError));
    process.nextTick(() => console.log('tick'));
    setImmediate(() => console.log('immediate'));
  });
});
