// mistake: the comparison is reversed: the latest deadline rises to the root (a max-heap)
// region: less
let (a, b) = (&self.order[a], &self.order[b]);
(a.due, a.start_id) > (b.due, b.start_id)
