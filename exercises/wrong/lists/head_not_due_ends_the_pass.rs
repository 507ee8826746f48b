// mistake: a list whose head is not due yet ends the pass where it stands, not re-queued: the lists behind it wait for it
// region: next_due
loop {
    let Some(&(expiry, _, msecs)) = self.queue.first() else {
        return Due::Done(None);
    };
    if expiry > now {
        self.next_expiry = expiry;
        return Due::Done(Some(expiry));
    }
    let list = self.lists[&msecs];
    let Some(head) = list.head else {
        self.delete_list(msecs);
        continue;
    };
    let idle_start = self
        .timeouts
        .get(head)
        .expect("list members are live")
        .idle_start;
    if now.saturating_sub(idle_start) < msecs {
        let expiry = idle_start.saturating_add(msecs);
        self.next_expiry = expiry;
        return Due::Done(Some(expiry));
    }
    self.unlink(head);
    return Due::Timer(head);
}
