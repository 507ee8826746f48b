// Three objects announce 'ready' as soon as they are made. Emitted at once, the event fires
// before the caller can attach a listener. On process.nextTick it fires as soon as the
// caller's code is done, before promises and before the loop moves on; on setImmediate,
// only once the loop has had its turn at I/O, in the check phase.
const EventEmitter = require('events');
class AtOnce extends EventEmitter {
  constructor() { super(); this.emit('ready'); }
}
class OnTick extends EventEmitter {
  constructor() { super(); process.nextTick(() => this.emit('ready')); }
}
class OnImmediate extends EventEmitter {
  constructor() { super(); setImmediate(() => this.emit('ready')); }
}
new AtOnce().on('ready', () => console.log('never printed: emitted before anyone listened'));
new OnImmediate().on('ready', () => console.log('setImmediate: after the loop polled for I/O'));
new OnTick().on('ready', () => console.log('nextTick: as soon as the caller is done'));
Promise.resolve().then(() => console.log('promise'));
console.log('the caller attached its listeners');
