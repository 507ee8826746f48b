// mistake: a promise resolved with itself is not rejected: it waits for itself forever
// region: adopt
let this = self.clone();
lp.queue_job("PromiseResolveThenableJob", move |lp| {
    other.react(lp, move |lp, outcome| this.settle(lp, outcome));
});
