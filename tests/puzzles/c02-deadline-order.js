// Timers are deadlines, not queue entries: the timer scheduled second runs
// first because its deadline comes first. A single FIFO queue would print
// these lines in the order the timers were scheduled.
setTimeout(() => console.log('100 ms timer, scheduled first'), 100);
setTimeout(() => console.log('0 ms timer, scheduled second'), 0);
