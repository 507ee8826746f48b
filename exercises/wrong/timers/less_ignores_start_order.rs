// mistake: entries are compared by deadline alone: timers with the same deadline fire in no particular order
// region: less
self.order[a].due < self.order[b].due
