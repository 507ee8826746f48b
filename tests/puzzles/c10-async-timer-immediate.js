// Async code across the loop's phases. A promise resolved in a timer's callback resumes its
// async function in the checkpoint right after that callback: after the callback's ticks, in
// order with its other microtasks. One resolved by an immediate resumes it in the check
// phase; and `await sleep(0)` is a 1 ms timer, behind any timer set before it.
const log = (s) => console.log(s);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nextImmediate = () => new Promise((r) => setImmediate(r));
let wake;
async function worker() {
  log('worker start');
  await new Promise((r) => { wake = r; });
  log('worker woken');
  await nextImmediate();
  log('worker after immediate');
  await sleep(0);
  log('worker after sleep(0)');
}
worker();
setTimeout(() => {
  log('timeout');
  Promise.resolve().then(() => log('then before wake'));
  wake();
  Promise.resolve().then(() => log('then after wake'));
  process.nextTick(() => log('tick'));
  setImmediate(() => log('immediate set in timeout'));
  setTimeout(() => log('timeout set in timeout'), 0);
}, 10);
log('main end');
