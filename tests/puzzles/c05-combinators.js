// Promise.race, any and allSettled settle through one reaction per input, so
// their results arrive in the order of the last input each one waited for.
const log = (s) => console.log(s);
Promise.race([new Promise(() => {}), Promise.resolve('first')]).then((v) => log('race ' + v));
const r1 = Promise.reject(new Error('no'));
Promise.any([r1, Promise.resolve('yes')]).then((v) => log('any ' + v));
const r2 = Promise.reject(new Error('no again'));
Promise.any([r1, r2]).catch((e) => log('any: ' + e.name + ': ' + e.message));
Promise.allSettled([r1, Promise.resolve('ok')]).then((all) => log(all.map((o) => o.status === 'fulfilled' ? 'fulfilled ' + o.value : 'rejected ' + o.reason.message).join(', ')));
