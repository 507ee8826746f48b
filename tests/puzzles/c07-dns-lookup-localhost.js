// dns.lookup: a host name goes to the thread pool and answers in the poll phase, where an
// immediate beats a 0 ms timeout; an IP literal never reaches the pool and answers on the
// next tick, ahead of a nextTick queued after it.
const dns = require('dns');
dns.lookup('localhost', (err, address) => {
  // 127.0.0.1 or ::1, whichever the system resolver puts first
  console.log('lookup localhost: loopback', address === '127.0.0.1' || address === '::1');
  setTimeout(() => console.log('timeout from the lookup callback'), 0);
  setImmediate(() => console.log('immediate from the lookup callback'));
  process.nextTick(() => console.log('nextTick from the lookup callback'));
});
dns.lookup('127.0.0.1', (err, address, family) => console.log('lookup 127.0.0.1:', address, family));
process.nextTick(() => console.log('nextTick'));
Promise.resolve().then(() => console.log('promise'));
console.log('main');
