// An interval's period is measured from the start of each call, not from its
// end: a callback that keeps the thread busy for 30 ms does not stretch a
// 40 ms interval to 70 ms.
const period = 40;
const busy = 30;
let n = 0;
let lastStart = 0;
const iv = setInterval(() => {
  const start = Date.now();
  n++;
  if (n === 1) {
    console.log('call 1');
  } else {
    const gap = start - lastStart;
    console.log(`call ${n} began one period after call ${n - 1} began, not period + busy:`,
      gap < period + busy / 2);
  }
  lastStart = start;
  while (Date.now() - start < busy); // the callback itself takes 30 ms
  if (n === 4) clearInterval(iv);
}, period);
