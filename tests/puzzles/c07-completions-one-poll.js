// Run with UV_THREADPOOL_SIZE=1: the pool's one thread finishes the stats in submission
// order, all before the loop first looks (the busy-wait below). One poll phase then runs
// their callbacks in completion order, draining ticks and promises after EACH one; the
// immediates they queue wait for the check phase, after the last. A stat submitted by a
// callback completes in a later poll phase, after those immediates.
const fs = require('fs');
const done = (name) => () => {
  console.log(`stat ${name}`);
  setImmediate(() => console.log(`immediate queued by ${name}`));
  Promise.resolve().then(() => console.log(`  promise after ${name}`));
  process.nextTick(() => console.log(`  tick after ${name}`));
};
fs.stat(__filename, done('A'));
fs.stat(__filename, done('B'));
fs.stat(__filename, () => {
  done('C')();
  fs.stat(__filename, done('D, submitted by C'));
});
const t = Date.now(); while (Date.now() - t < 50); // all three finish before the loop starts
