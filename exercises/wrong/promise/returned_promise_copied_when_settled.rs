// mistake: a returned promise that has settled already is copied at once instead of adopted: two hops too early
// region: resolve_step
if std::mem::replace(&mut node.inner.borrow_mut().resolved, true) {
    return;
}
match step {
    Step::Value(v) => settle(lp, node, Ok(v)),
    Step::Adopt(p) => match p.settled() {
        Some(outcome) => settle(lp, node, outcome),
        None => Promise::from_shared(node.clone()).adopt(lp, p),
    },
    Step::Reject(r) => settle(lp, node, Err(r)),
}
