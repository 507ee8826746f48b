// Error-first callbacks. A failed fs call still calls back exactly once, from the poll phase
// like a success, with an Error whose message names the errno code, its description, the
// system call and the path (both paths for rename). Everything is scheduled from callbacks,
// so the order does not depend on how fast the pool is.
const fs = require('fs');
setImmediate(() => {
  console.log('immediate');
  fs.readFile('no-such-dir/missing.txt', (err, data) => {
    console.log('readFile callback:', err.code, data === undefined ? 'no data' : 'data');
    console.log(err.message);
    setTimeout(() => {
      console.log('timeout');
      fs.rename('no-such-dir/a.txt', 'no-such-dir/b.txt', (err) => {
        console.log('rename callback:', err.code);
        console.log(err.message);
        fs.mkdir('.', (err) => console.log(err.message));
      });
    }, 0);
    setImmediate(() => console.log('immediate from the callback'));
    process.nextTick(() => console.log('tick'));
  });
});
console.log('main end');
