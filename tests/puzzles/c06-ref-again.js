// Ref is a flag, not a counter: two unref() calls are undone by one ref().
// The timeout keeps the process alive again, and fires.
const t = setTimeout(() => console.log('timeout fired: one ref() undid two unref()s'), 10);
t.unref();
t.unref();
console.log('after two unref() calls, hasRef:', t.hasRef());
t.ref();
console.log('after one ref() call, hasRef:', t.hasRef());
process.on('exit', () => console.log('exit'));
