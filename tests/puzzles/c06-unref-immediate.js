// An unref'd immediate does not keep the process alive: alone, it never runs
// and the loop goes straight to 'beforeExit'. It is still queued, though, and
// as soon as a ref'd timer makes the loop iterate, the check phase runs it.
let ran = false;
setImmediate(() => {
  ran = true;
  console.log("unref'd immediate runs: the loop is iterating for the timer");
}).unref();
let rounds = 0;
process.on('beforeExit', () => {
  console.log('beforeExit', rounds, '| immediate ran:', ran);
  if (rounds++ === 0) setTimeout(() => console.log("ref'd timeout set in beforeExit"), 10);
});
console.log('main done');
