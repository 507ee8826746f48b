// Unbounded recursion hits V8's stack limit. The RangeError is an ordinary
// exception: it unwinds every frame it passes, it can be caught, and the
// program carries on at the depth where it was caught.
const depth = () => new Error().stack.split('\n').length;
const before = depth();
function recurse(n) {
  return recurse(n + 1) + 1; // not a tail call: every call keeps its frame
}
try {
  recurse(0);
} catch (e) {
  console.log('caught:', e instanceof RangeError);
  console.log('message:', e.message);
}
console.log('stack unwound:', depth() === before);
console.log('still running');
