// finally() passes the value through, but its callback's result goes
// through a resolved promise and a then, so it costs more hops than then().
const log = (s) => console.log(s);
Promise.resolve(1)
  .finally(() => log('finally'))
  .then((v) => log('after finally: ' + v));
Promise.resolve()
  .then(() => log('t1')).then(() => log('t2')).then(() => log('t3'))
  .then(() => log('t4')).then(() => log('t5'));
