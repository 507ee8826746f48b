// Run to completion: a timer that is already overdue still cannot interrupt
// running code. Its callback waits until the synchronous code has finished
// and the call stack is empty.
console.log('start');
setTimeout(() => console.log('timeout'), 0);
const t = Date.now();
while (Date.now() - t < 50); // busy for 50 ms: the 1 ms timer is long overdue
console.log('end');
