// From the main module, setTimeout(0) and setImmediate race (p02). From inside
// a timer callback they do not: the check phase of the coming iteration
// always comes before the next timers step, so the immediate runs first.
setTimeout(() => {
  setTimeout(() => console.log('timeout'), 0);
  setImmediate(() => console.log('immediate'));
}, 0);
