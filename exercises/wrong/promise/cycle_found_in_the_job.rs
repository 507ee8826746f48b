// mistake: the cycle is found only in the job, a microtask later, not when the promise is resolved
// region: adopt
let this = self.clone();
lp.queue_job("PromiseResolveThenableJob", move |lp| {
    if this.ptr_eq(&other) {
        let cycle = Rejection::new("TypeError: Chaining cycle detected for promise #<Promise>");
        this.settle(lp, Err(cycle));
        return;
    }
    other.react(lp, move |lp, outcome| this.settle(lp, outcome));
});
