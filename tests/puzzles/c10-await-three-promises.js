// `await` of a promise already resolved, of one still pending, and of one that adopts
// another: one hop after it settles for the first two; the adopting one settles two hops
// after the promise it follows, and the await adds its one.
const log = (s) => console.log(s);
const resolved = Promise.resolve('resolved');
let resolvePending;
const pending = new Promise((r) => { resolvePending = r; });
const adopted = new Promise((r) => r(Promise.resolve('adopted')));
async function waitFor(name, p) {
  log(`${name} awaits`);
  const v = await p;
  log(`${name} got ${v}`);
}
waitFor('A', resolved);
waitFor('B', pending);
waitFor('C', adopted);
Promise.resolve()
  .then(() => { log('hop 1'); resolvePending('pending'); })
  .then(() => log('hop 2')).then(() => log('hop 3')).then(() => log('hop 4'));
log('main end');
