// mistake: adoption of a promise that has settled already copies its outcome at once: two hops too early
// region: adopt
if self.ptr_eq(&other) {
    let cycle = Rejection::new("TypeError: Chaining cycle detected for promise #<Promise>");
    self.settle(lp, Err(cycle));
    return;
}
if let Some(outcome) = other.settled() {
    self.settle(lp, outcome);
    return;
}
let this = self.clone();
lp.queue_job("PromiseResolveThenableJob", move |lp| {
    other.react(lp, move |lp, outcome| this.settle(lp, outcome));
});
