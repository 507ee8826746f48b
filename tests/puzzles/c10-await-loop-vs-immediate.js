// An `await` in a loop never lets the loop move on: all its turns are microtasks, so they
// all run before the first immediate. A loop that awaits an immediate each turn takes one
// check phase per turn, interleaved with the other immediates.
const log = (s) => console.log(s);
setImmediate(() => log('immediate A'));
async function spin() {
  for (let i = 1; i <= 3; i++) {
    await null;
    log(`spin ${i}`);
  }
}
async function step() {
  for (let i = 1; i <= 3; i++) {
    await new Promise((r) => setImmediate(r));
    log(`step ${i}`);
  }
}
spin();
step();
setImmediate(() => {
  log('immediate B');
  setImmediate(() => log('immediate C'));
});
log('main end');
