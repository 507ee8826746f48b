// mistake: only handles, pending callbacks and closing handles keep the loop alive; requests in flight are forgotten
// region: is_alive
self.active_handles > 0 || pending || closing
