// Nested async calls: calling an async function runs it up to its first `await`, in the
// caller's turn; `await inner()` then waits for inner's promise, which settles when inner
// returns, and costs one more microtask. Count the hops against a plain `then` chain.
const log = (s) => console.log(s);
async function inner(n) {
  log(`inner ${n} start`);
  await null;
  log(`inner ${n} end`);
  return n;
}
async function outer() {
  log('outer start');
  const a = await inner(1);
  log(`outer got ${a}`);
  const b = await inner(2);
  log(`outer got ${b}`);
}
outer();
Promise.resolve()
  .then(() => log('then 1')).then(() => log('then 2')).then(() => log('then 3'))
  .then(() => log('then 4')).then(() => log('then 5'));
log('main end');
