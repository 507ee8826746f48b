// After the 'exit' listeners, the checkpoint still drains V8's microtask queue, but Node
// marked the process as exiting first, and process.nextTick drops its callback from then on.
process.on('exit', (code) => {
  console.log('exit', code);
  process.nextTick(() => console.log('never printed: a tick queued in exit'));
  Promise.resolve().then(() => console.log('microtask in exit'));
  queueMicrotask(() => console.log('queueMicrotask in exit'));
});
console.log('main done');
