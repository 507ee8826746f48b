// mistake: the newest timeout of the list (its tail) runs first, not the oldest (its head)
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
    let Some(head) = list.tail else {
        self.delete_list(msecs);
        continue;
    };
    let idle_start = self
        .timeouts
        .get(head)
        .expect("list members are live")
        .idle_start;
    if now.saturating_sub(idle_start) < msecs {
        self.queue.remove(&(list.expiry, list.id, msecs));
        let expiry = idle_start.saturating_add(msecs).max(now + 1);
        let id = self.next_list_id;
        self.next_list_id += 1;
        self.queue.insert((expiry, id, msecs));
        let list = self.lists.get_mut(&msecs).expect("checked above");
        list.expiry = expiry;
        list.id = id;
        continue;
    }
    self.unlink(head);
    return Due::Timer(head);
}
