// mistake: pop takes the newest item (the back) instead of the oldest
// region: pop
self.items.pop_back()
