// From inside an immediate the pair is scheduled in the check phase. The new
// immediate must wait for the next iteration's check phase, but the timers
// step at the end of this iteration comes first: once the 1 ms has passed
// (here: a 5 ms busy-wait), the timeout wins.
setImmediate(() => {
  setTimeout(() => console.log('timeout'), 0);
  setImmediate(() => console.log('immediate'));
  const t = performance.now(); // monotonic, like the clock libuv's timers use
  while (performance.now() - t < 5); // make the 1 ms timeout due before this phase ends
});
