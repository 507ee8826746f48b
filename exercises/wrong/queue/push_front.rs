// mistake: push puts the newcomer at the front, so the newest item is taken first
// region: push
self.items.push_front(item);
