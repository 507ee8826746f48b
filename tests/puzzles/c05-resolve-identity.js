// Promise.resolve(p) returns p itself; resolve(p) inside an executor adopts
// p and costs two extra hops; await p costs one (Node >= 12).
const log = (s) => console.log(s);
const p = Promise.resolve('p');
log('same object: ' + (Promise.resolve(p) === p));
new Promise((resolve) => resolve(p)).then(() => log('adopted via resolve(p)'));
(async () => { await p; log('after await p'); })();
Promise.resolve(p).then(() => log('Promise.resolve(p).then'));
p.then(() => log('tick 1')).then(() => log('tick 2')).then(() => log('tick 3'));
