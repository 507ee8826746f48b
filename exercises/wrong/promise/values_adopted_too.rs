// mistake: a plain value is adopted like a promise (wrapped in a resolved one): two hops too late
// region: resolve_step
if std::mem::replace(&mut node.inner.borrow_mut().resolved, true) {
    return;
}
match step {
    Step::Value(v) => Promise::from_shared(node.clone()).adopt(lp, Promise::resolved(v)),
    Step::Adopt(p) => Promise::from_shared(node.clone()).adopt(lp, p),
    Step::Reject(r) => settle(lp, node, Err(r)),
}
