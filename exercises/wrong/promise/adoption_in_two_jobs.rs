// mistake: adoption waits a job, then another, before it subscribes: one hop too late
// region: adopt
if self.ptr_eq(&other) {
    let cycle = Rejection::new("TypeError: Chaining cycle detected for promise #<Promise>");
    self.settle(lp, Err(cycle));
    return;
}
let this = self.clone();
lp.queue_job("PromiseResolveThenableJob", move |lp| {
    lp.queue_job("PromiseResolveThenableJob", move |lp| {
        other.react(lp, move |lp, outcome| this.settle(lp, outcome));
    });
});
