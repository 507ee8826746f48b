// A rejected `await` throws at the await, and `try` catches it there. The rejection travels
// as an async function's promise does: one hop to reach the awaiting function.
const log = (s) => console.log(s);
async function fails() {
  log('fails start');
  await null;
  throw new Error('boom');
}
async function main() {
  try {
    await fails();
    log('not reached');
  } catch (e) {
    log(`caught ${e.message}`);
  } finally {
    log('finally');
  }
  try {
    await Promise.reject(new Error('direct'));
  } catch (e) {
    log(`caught ${e.message}`);
  }
  log('main done');
}
main();
Promise.resolve()
  .then(() => log('then 1')).then(() => log('then 2')).then(() => log('then 3'))
  .then(() => log('then 4')).then(() => log('then 5'));
log('script end');
