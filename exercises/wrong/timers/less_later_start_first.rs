// mistake: among equal deadlines the timer started last fires first
// region: less
let (a, b) = (&self.order[a], &self.order[b]);
a.due < b.due || (a.due == b.due && a.start_id > b.start_id)
