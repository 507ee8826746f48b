// mistake: adoption subscribes to the other promise at once, without the NewPromiseResolveThenableJob: one hop too early
// region: adopt
if self.ptr_eq(&other) {
    let cycle = Rejection::new("TypeError: Chaining cycle detected for promise #<Promise>");
    self.settle(lp, Err(cycle));
    return;
}
let this = self.clone();
other.react(lp, move |lp, outcome| this.settle(lp, outcome));
