// Node runs due timers list by list, not strictly by deadline. B joins the
// 1 ms list 8 ms after A, so its deadline (about 9 ms) is later than C's
// (5 ms). All three are overdue when the loop starts, and B still runs
// before C: the whole 1 ms list goes first, because its expiry is earliest.
// (performance.now() is a monotonic clock, like the one libuv's timers use.)
const start = performance.now();
setTimeout(() => console.log('A: 1 ms, due at about 1 ms'), 1);
setTimeout(() => console.log('C: 5 ms, due at about 5 ms'), 5);
while (performance.now() - start < 8);
setTimeout(() => console.log('B: 1 ms, due at about 9 ms'), 1);
const t = performance.now();
while (performance.now() - t < 12); // all three are overdue before the loop starts
