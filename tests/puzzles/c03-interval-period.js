// An interval's period is measured from the start of each call, not from its
// end: a callback that keeps the thread busy for 50 ms does not stretch a
// 100 ms interval to 150 ms, so each call comes less than a period after the
// previous one ended. (performance.now() is a monotonic clock, like the one
// libuv's timers use.)
const period = 100;
const busy = 50;
let n = 0;
let lastEnd = 0;
const iv = setInterval(() => {
  const start = performance.now();
  n++;
  if (n === 1) {
    console.log('call 1');
  } else {
    console.log(`call ${n} began less than one period after call ${n - 1} ended:`,
      start - lastEnd < period);
  }
  while (performance.now() - start < busy); // the callback itself takes 50 ms
  lastEnd = performance.now();
  if (n === 4) clearInterval(iv);
}, period);
