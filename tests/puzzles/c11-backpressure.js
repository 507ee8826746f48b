// write() returns false once 16 KiB wait to be sent (the writable high-water mark); nothing
// is lost, and 'drain' says when to write again. A paused reader makes the writer wait.
const net = require('net');
let sent = 0;
const server = net.createServer((s) => {
  s.pause(); // read nothing for a while: the client's bytes pile up
  setTimeout(() => { console.log('server: resume'); s.resume(); }, 50);
  let got = 0;
  s.on('data', (d) => { got += d.length; });
  s.on('end', () => {
    console.log('server: end, got everything = ' + (got === sent));
    server.close();
  });
});
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1', () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let ok = true;
    while (ok) { ok = c.write(chunk); sent += chunk.length; }
    console.log('write returned false, writableLength >= 16384: ' + (c.writableLength >= 16384));
    console.log('a small write while full returns ' + c.write('y'));
    sent += 1;
    c.on('drain', () => {
      console.log('client: drain, writableLength = ' + c.writableLength);
      c.end();
    });
    c.on('finish', () => console.log('client: finish'));
  });
});
