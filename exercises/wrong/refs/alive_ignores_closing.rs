// mistake: a handle waiting for its close callback does not keep the loop alive
// region: is_alive
self.active_handles > 0 || self.active_requests > 0 || pending
