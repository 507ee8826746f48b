// Promise.all of async calls: each call runs to its first `await` at once, in order; the
// combined promise settles in the microtask after the last one does, and the `await` of it
// takes one more.
const log = (s) => console.log(s);
async function job(name, hops) {
  log(`${name} start`);
  for (let i = 0; i < hops; i++) await null;
  log(`${name} end`);
  return name;
}
async function main() {
  const all = await Promise.all([job('a', 2), job('b', 0), job('c', 1)]);
  log(`all: ${all.join(',')}`);
}
main();
Promise.resolve()
  .then(() => log('then 1')).then(() => log('then 2')).then(() => log('then 3'))
  .then(() => log('then 4')).then(() => log('then 5')).then(() => log('then 6'));
log('script end');
