// The loop's clock counts whole milliseconds, and a timeout counts from the loop's clock.
// Scheduled 0.9 ms into a millisecond, a 5 ms timeout counts from that millisecond's start,
// so the loop sees it due when performance.now() has measured only about 4.1 ms.
// _idleStart is the loop time a Timeout was scheduled at, and every setTimeout reads the
// loop's clock afresh: a probe timeout says what the loop's clock says now. A busy machine
// may pause this script at the wrong moment, so it tries again, up to 200 times.
function attempt() {
  while (process.hrtime.bigint() % 1000000n < 900000n); // 0.9 ms into a millisecond
  const start = performance.now();
  const timeout = setTimeout(() => {}, 5);
  let counted = 0;
  while (counted < 5) { // busy until the loop's clock says 5 ms have passed
    const probe = setTimeout(() => {}, 1);
    counted = probe._idleStart - timeout._idleStart;
    clearTimeout(probe);
  }
  const measured = performance.now() - start;
  clearTimeout(timeout);
  return measured;
}
let measured = attempt();
for (let tries = 1; tries < 200 && measured >= 5; tries++) measured = attempt();
console.log(`the loop counted 5 ms when performance.now() measured less than 5: ${measured < 5}`);
console.log(`and at least 4: ${measured >= 4}`);
