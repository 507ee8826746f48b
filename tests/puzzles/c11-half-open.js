// At the peer's end of file a socket ends its own side too (allowHalfOpen: false, the
// default), then closes; with allowHalfOpen: true it stays writable until it ends itself.
const net = require('net');
function run(allowHalfOpen, next) {
  const tag = `[${allowHalfOpen ? 'half-open' : 'default'}]`;
  const server = net.createServer({ allowHalfOpen }, (s) => {
    s.on('data', () => {});
    s.on('end', () => {
      console.log(`${tag} server: end, writable = ${s.writable}`);
      setImmediate(() => {
        console.log(`${tag} server: an immediate later, writable = ${s.writable}`);
        if (s.writable) s.end('late reply');
      });
    });
    s.on('finish', () => console.log(`${tag} server: finish`));
    s.on('close', () => {
      console.log(`${tag} server: close`);
      server.close(next);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const c = net.connect(server.address().port, '127.0.0.1', () => c.end());
    c.on('data', (d) => console.log(`${tag} client: data ${d}`));
    c.on('end', () => console.log(`${tag} client: end`));
    c.on('close', () => console.log(`${tag} client: close`));
  });
}
run(false, () => run(true, () => console.log('done')));
