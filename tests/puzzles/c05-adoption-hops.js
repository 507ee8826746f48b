// Returning a promise from a then-handler costs two extra microtasks: the
// derived promise first subscribes to it (one job), then waits for its
// reaction (another). Count the hops against a plain chain.
const log = (s) => console.log(s);
Promise.resolve()
  .then(() => log('a1')).then(() => log('a2')).then(() => log('a3'))
  .then(() => log('a4')).then(() => log('a5'));
Promise.resolve()
  .then(() => { log('b1 returns a promise'); return Promise.resolve('v'); })
  .then((v) => log('b2 got ' + v));
